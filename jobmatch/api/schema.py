"""OpenAPI: every operation documents the errors it can answer, in the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What went wrong, readable by a person.")
    extra = serializers.DictField(
        help_text="Details: field errors as {field: [messages]}, or e.g. existing_id on 409."
    )


_DESCRIPTIONS = {
    "400": "Invalid input; nothing was written.",
    "401": "Not authenticated.",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found, or not visible to this account.",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state (duplicate, capacity, one job at a time).",
    "413": "Upload too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests; retry later.",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "405", "429"]
        if self.method in {"POST", "PUT", "PATCH"}:
            codes += ["400", "415"]
        if self.method in {"POST", "PUT", "PATCH"} and self.path.endswith("/import/"):
            codes.append("413")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes.append("409")
        if "{" in self.path or self.method == "GET":
            codes.append("404")
        if self.method == "GET":
            codes.append("400")  # invalid filters
        return sorted(set(codes))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self._error_codes():
            responses.setdefault(
                code,
                {
                    "content": {"application/json": {"schema": ref}},
                    "description": _DESCRIPTIONS[code],
                },
            )
        return responses
