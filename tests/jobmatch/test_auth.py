"""Token login, and the throttling of failed logins shared by token, browsable API and admin.

The throttling counts live in the default cache: Redis when REDIS_URL is set (as in
`make test`), so every process sees them. conftest clears the cache before each test.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobmatch.auth import _key, login_throttled
from jobmatch.models import User
from tests.factories import PASSWORD, UserFactory
from tests.factories_extra import _fast_password_hashing  # noqa: F401

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
WRONG = {"message": "Wrong username or password.", "extra": {}}
THROTTLED = {"message": "Too many failed logins: try again later.", "extra": {}}

ClientFor = Callable[[User | None], APIClient]


def token_login(username: str, password: str, ip: str = "127.0.0.1") -> Any:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    return client.post(
        URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def fail(username: str, times: int, ip: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = token_login(username, "wrong-password", ip)
        assert response.status_code == 401, response.json()


def session_login(path: str, username: str, password: str) -> Client:
    """Log in through a Django login form; returns the client (logged in or not)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(path, {"username": username, "password": password})
    return client


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- tokens -------------------------------------------------------------------------------


def test_a_token_for_the_right_password(caseworker: User) -> None:
    response = token_login("caseworker", PASSWORD)

    assert response.status_code == 200
    token = Token.objects.get(user=caseworker)
    assert response.json() == {"token": token.key}
    # Logging in again returns the same token.
    assert token_login("caseworker", PASSWORD).json() == {"token": token.key}


def test_the_token_authenticates_requests(caseworker: User) -> None:
    key = token_login("caseworker", PASSWORD).json()["token"]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    assert client.get("/api/v1/laborers/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/laborers/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("username", "password"),
    [("caseworker", "wrong-password"), ("nobody", PASSWORD), ("Caseworker", PASSWORD)],
)
def test_wrong_credentials_are_401(username: str, password: str, caseworker: User) -> None:
    response = token_login(username, password)

    assert response.status_code == 401
    assert response.json() == WRONG
    assert response["WWW-Authenticate"] == "Token"
    assert Token.objects.count() == 0


def test_an_inactive_account_gets_no_token(caseworker: User) -> None:
    User.objects.filter(pk=caseworker.pk).update(is_active=False)

    response = token_login("caseworker", PASSWORD)

    assert response.status_code == 401
    assert response.json() == WRONG
    assert Token.objects.count() == 0


def test_missing_credentials_are_400(db: None, client_for: ClientFor) -> None:
    response = client_for(None).post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "username: This field is required. password: This field is required.",
        "extra": {
            "username": ["This field is required."],
            "password": ["This field is required."],
        },
    }


def test_only_post_is_allowed(db: None, client_for: ClientFor) -> None:
    response = client_for(None).get(URL)

    assert response.status_code == 405
    assert response.json() == {"message": 'Method "GET" not allowed.', "extra": {}}


# --- throttling ---------------------------------------------------------------------------


def test_a_burst_of_wrong_passwords_is_throttled_even_with_the_right_one_after(
    caseworker: User,
) -> None:
    fail("caseworker", 5)

    response = token_login("caseworker", PASSWORD)

    assert response.status_code == 429
    assert response.json() == THROTTLED
    assert Token.objects.count() == 0


def test_fewer_failures_than_the_limit_still_log_in(caseworker: User) -> None:
    fail("caseworker", 4)

    assert token_login("caseworker", PASSWORD).status_code == 200


def test_a_successful_login_clears_the_usernames_failures(caseworker: User) -> None:
    fail("caseworker", 4)
    assert token_login("caseworker", PASSWORD).status_code == 200
    fail("caseworker", 4)

    assert token_login("caseworker", PASSWORD).status_code == 200


def test_the_username_count_ignores_case(caseworker: User) -> None:
    for name in ("CASEWORKER", "Caseworker", "caseworker", "CaseWorker", "caseWORKER"):
        assert token_login(name, "wrong").status_code == 401

    assert token_login("caseworker", PASSWORD).json() == THROTTLED


def test_one_usernames_failures_do_not_lock_out_another(
    caseworker: User, coordinator: User
) -> None:
    fail("caseworker", 5)

    assert token_login("coordinator", PASSWORD).status_code == 200
    assert token_login("caseworker", PASSWORD).status_code == 429


def test_failures_from_one_address_are_throttled_across_usernames(db: None) -> None:
    UserFactory(username="late")
    for n in range(20):
        assert token_login(f"guess{n}", "wrong", ip="203.0.113.7").status_code == 401

    from_there = token_login("late", PASSWORD, ip="203.0.113.7")
    from_elsewhere = token_login("late", PASSWORD, ip="198.51.100.2")

    assert (from_there.status_code, from_there.json()) == (429, THROTTLED)
    assert from_elsewhere.status_code == 200


def test_the_settings_set_the_limits(caseworker: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 2

    fail("caseworker", 2)

    assert token_login("caseworker", PASSWORD).status_code == 429


def test_counts_live_in_the_shared_cache(caseworker: User) -> None:
    fail("caseworker", 5)
    assert login_throttled("caseworker", "198.51.100.9")

    caches["default"].clear()

    assert not login_throttled("caseworker", "127.0.0.1")
    assert token_login("caseworker", PASSWORD).status_code == 200


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis cache (REDIS_URL)")
def test_counts_are_seen_by_another_connection_to_redis(caseworker: User) -> None:
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    fail("caseworker", 5)

    # A new connection stands for another gunicorn process or host.
    other_process = caches.create_connection("default")
    try:
        assert other_process.get(_key("user", "caseworker")) == 5
        assert other_process.get(_key("ip", "127.0.0.1")) == 5
    finally:
        other_process.close()


# --- session logins (browsable API, admin) share the throttle -----------------------------


@pytest.mark.parametrize(
    ("path", "fixture"), [("/admin/login/", "admin_user"), ("/api/auth/login/", "caseworker")]
)
def test_session_login_works_when_not_throttled(
    path: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(fixture)

    client = session_login(path, user.username, PASSWORD)

    assert logged_in(client)


@pytest.mark.parametrize(
    ("path", "fixture"), [("/admin/login/", "admin_user"), ("/api/auth/login/", "caseworker")]
)
def test_token_failures_lock_the_session_login(
    path: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(fixture)
    fail(user.username, 5)

    client = session_login(path, user.username, PASSWORD)

    assert not logged_in(client)


@pytest.mark.parametrize(
    ("path", "fixture"), [("/admin/login/", "admin_user"), ("/api/auth/login/", "caseworker")]
)
def test_session_failures_lock_the_token_login(
    path: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(fixture)
    for _ in range(5):
        assert not logged_in(session_login(path, user.username, "wrong-password"))

    assert not logged_in(session_login(path, user.username, PASSWORD))
    response = token_login(user.username, PASSWORD)
    assert (response.status_code, response.json()) == (429, THROTTLED)


def test_a_session_login_clears_the_usernames_failures(admin_user: User) -> None:
    fail("admin", 4)
    assert logged_in(session_login("/admin/login/", "admin", PASSWORD))
    fail("admin", 4)

    assert token_login("admin", PASSWORD).status_code == 200
