from typing import Any

from rest_framework.serializers import BaseSerializer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class InputOutputSerializersMixin:
    """Views with separate input and output serializers (`input_serializer_class`).

    The views validate with the input serializer themselves; this only makes the
    browsable API render the input serializer's form (the web form caseworkers and
    coordinators use in a browser) instead of the read-only output fields.
    """

    input_serializer_class: type[BaseSerializer]
    request: Any

    def get_serializer_class(self) -> type[BaseSerializer]:
        request = getattr(self, "request", None)
        if request is not None and request.method in WRITE_METHODS:
            return self.input_serializer_class
        return super().get_serializer_class()  # type: ignore[misc]
