from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """Refuses keys it does not know, so a typo is an error rather than silently lost.

    Read-only fields of the output (`read_only_names`) are tolerated, so a client may
    send back what it read.
    """

    read_only_names: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = set(data) - set(self.fields) - self.read_only_names
            if unknown:
                message = _("Unknown field.")
                raise serializers.ValidationError({key: [message] for key in sorted(unknown)})
        return super().to_internal_value(data)
