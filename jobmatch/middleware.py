"""Refuse oversized API requests before anything reads their body.

DRF's CSRF check for session-authenticated requests reads the whole body before a view
runs, and Django puts no cap on file uploads: without this a browser session could push
an upload of any size through the API before the import view's own 413.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

# Multipart framing (boundaries, part headers, the dry_run field) around the file itself.
MULTIPART_ALLOWANCE = 16 * 1024


def max_request_bytes() -> int:
    return max(
        settings.IMPORT_MAX_BYTES + MULTIPART_ALLOWANCE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = max_request_bytes()
            if length > limit:
                # This runs before LocaleMiddleware: answer in the language it would pick.
                with translation.override(translation.get_language_from_request(request)):
                    message = _("The request is too large: at most %(limit)s bytes are accepted.")
                return JsonResponse(
                    {"message": message % {"limit": limit}, "extra": {"max_bytes": limit}},
                    status=413,
                    json_dumps_params={"ensure_ascii": False},
                )
        return self.get_response(request)
