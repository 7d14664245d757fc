"""One error shape for the whole API: {"message": str, "extra": {...}}.

Domain code raises `ApplicationError`; DRF, Django and database errors that a client can
cause are translated here, so that no input yields a 500 or an HTML page under /api/.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule refused the request; `status` is the HTTP status to answer."""

    def __init__(
        self, message: str, extra: dict[str, Any] | None = None, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.status = status


class Conflict(ApplicationError):
    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, extra, status=409)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request is too large.")
    default_code = "too_large"


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"skills": [{"years": ["..."]}]} -> {"skills[0].years": ["..."]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # DRF reports the items of lists (ListField, many=True) as {index: errors}.
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item in ({}, [], None, ""):
                    continue
                for k, v in flatten_errors(item, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def validation_message(fields: dict[str, list[str]]) -> str:
    """A readable summary: the first problem of each field, field names first."""
    parts = []
    for name, messages in fields.items():
        text = messages[0] if messages else ""
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return " ".join(parts) if parts else _("Invalid input.")


def error_body(message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "extra": extra or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(exc.message, exc.extra), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(_("The request could not be read."))
    elif isinstance(exc, DataError):
        # A value the database refuses to compare or store, e.g. a NUL byte in a token:
        # the client's input, not a fault of ours.
        logger.warning("Database refused a value from the request: %s", exc)
        exc = exceptions.ParseError(_("The request contains a value that is not allowed."))

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer with the JSON 500 handler

    set_rollback()
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        return Response(
            error_body(validation_message(fields), fields), status=exc.status_code, headers=headers
        )
    detail = exc.detail
    if isinstance(detail, dict | list):
        fields = flatten_errors(detail)
        return Response(
            error_body(validation_message(fields), fields), status=exc.status_code, headers=headers
        )
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after_seconds"] = int(exc.wait)
    return Response(error_body(str(detail), extra), status=exc.status_code, headers=headers)


def _json_error(message: str, status_code: int) -> JsonResponse:
    return JsonResponse(
        error_body(message), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Django's own handlers answer outside /api/ (admin, docs pages); JSON inside it.
def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return _json_error(_("Bad request."), 400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _json_error(_("You do not have permission to perform this action."), 403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _json_error(_("Not found."), 404)


def handler500(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return _json_error(_("Internal error: it has been logged."), 500)
