"""Login throttling shared by every way of logging in (token, session, admin).

Failures are counted per username and per client address in the default cache (Redis
outside the embedded default), so every process sees the same counts. While either count
is over its limit, the backend refuses even a correct password.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str:
    """The client's address; behind `TRUSTED_PROXY_COUNT` proxies, the one they saw."""
    if request is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def login_throttled(username: str, ip: str) -> bool:
    return (
        _count(_key("user", username)) >= settings.LOGIN_FAILURES_PER_USERNAME
        or _count(_key("ip", ip)) >= settings.LOGIN_FAILURES_PER_IP
    )


def record_login_failure(username: str, ip: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in (_key("user", username), _key("ip", ip)):
        # add() starts the window only on the first failure; incr() is atomic in Redis.
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def clear_login_failures(username: str) -> None:
    cache.delete(_key("user", username))


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if login_throttled(username or "", client_ip(request)):
            raise PermissionDenied("Too many failed logins.")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record_login_failure(str(credentials.get("username", "")), client_ip(request))


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    clear_login_failures(user.get_username())
