import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

_TOKEN_RE = re.compile(r"^[0-9a-f]{40}$")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; keys that cannot be tokens never reach the database
    (a NUL byte in a query is an error on PostgreSQL)."""

    def authenticate_credentials(self, key: str) -> Any:
        if not _TOKEN_RE.match(key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(key)
