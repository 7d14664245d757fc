"""One error shape under /api/: {"message": str, "extra": {...}}; no HTML and no 500s."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.test import RequestFactory
from django.utils import translation
from rest_framework import exceptions
from rest_framework.test import APIClient

from jobmatch.api.errors import (
    ApplicationError,
    Conflict,
    exception_handler,
    flatten_errors,
    handler400,
    handler403,
    handler404,
    handler500,
    validation_message,
)
from jobmatch.models import User
from tests.factories import PASSWORD, EmployerFactory, LaborerFactory, VacancyFactory
from tests.factories_extra import _fast_password_hashing  # noqa: F401
from workers import apis as workers_apis
from workers.models import Laborer

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]


def assert_error(
    response: Any, status: int, message: str, extra: dict[str, Any] | None = None
) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == {"message": message, "extra": extra or {}}


def quiet(client: APIClient) -> APIClient:
    """Answer 500s as responses instead of raising them in the test."""
    client.raise_request_exception = False
    return client


# --- each status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/v1/", "/api/v1/nope/", "/api/v1/laborers/1/nope/", "/api/"]
)
def test_unknown_urls_under_api_are_json_404(
    path: str, caseworker: User, client_for: ClientFor
) -> None:
    assert_error(client_for(caseworker).get(path), 404, "Not found.")


def test_unknown_urls_outside_api_keep_django_pages(db: None, client_for: ClientFor) -> None:
    response = client_for(None).get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/counties/%00/",
        "/api/v1/destinations/%00/",
        "/api/v1/occupations/%00/",
        "/api/v1/counties/abc/",
        "/api/v1/laborers/abc/",
        "/api/v1/laborers/1.5/",
        "/api/v1/laborers/-1/",
        "/api/v1/laborers/99999999999999999999/",
    ],
)
def test_malformed_ids_are_404(path: str, supervisor: User, client_for: ClientFor) -> None:
    assert_error(quiet(client_for(supervisor)).get(path), 404, "Not found.")


def test_401_names_the_scheme(db: None, client_for: ClientFor) -> None:
    response = client_for(None).get("/api/v1/laborers/")

    assert_error(response, 401, "Authentication credentials were not provided.")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token 0123456789abcdef", "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("Token abcé", "Invalid token header. Token string should not contain invalid characters."),
    ],
)
def test_bad_tokens_are_401(header: str, message: str, db: None, client_for: ClientFor) -> None:
    assert_error(client_for(None).get("/api/v1/counties/", HTTP_AUTHORIZATION=header), 401, message)


def test_a_nul_byte_in_a_token_is_401_not_500(db: None, client_for: ClientFor) -> None:
    # A key that cannot be a token never reaches the database (PostgreSQL refuses NUL).
    response = quiet(client_for(None)).get("/api/v1/counties/", HTTP_AUTHORIZATION="Token ab\x00c")

    assert_error(response, 401, "Invalid token.")


def test_403(employer_user: User, client_for: ClientFor) -> None:
    assert_error(
        client_for(employer_user).get("/api/v1/laborers/"), 403, "Your role may not do this."
    )


def test_405(caseworker: User, client_for: ClientFor) -> None:
    client = client_for(caseworker)

    assert_error(
        client.put("/api/v1/laborers/", {}, format="json"), 405, 'Method "PUT" not allowed.'
    )
    assert_error(
        client.post("/api/v1/counties/", {}, format="json"), 405, 'Method "POST" not allowed.'
    )
    assert_error(client.generic("TRACE", "/api/v1/laborers/"), 405, 'Method "TRACE" not allowed.')


def test_415(caseworker: User, client_for: ClientFor) -> None:
    response = client_for(caseworker).post("/api/v1/laborers/", "name=x", content_type="text/plain")

    assert_error(response, 415, 'Unsupported media type "text/plain" in request.')
    assert Laborer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "' + "x" * 2048 + '"}', "application/json"),
        ("name=" + "x" * 2048, "application/x-www-form-urlencoded"),
    ],
)
def test_413(
    body: str, content_type: str, caseworker: User, client_for: ClientFor, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = client_for(caseworker).post("/api/v1/laborers/", body, content_type=content_type)

    assert_error(response, 413, "The request is too large.")
    assert Laborer.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message", "extra"),
    [
        (
            "{bad",
            "JSON parse error - Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
            {},
        ),
        (
            "[1, 2]",
            "Invalid data. Expected a dictionary, but got list.",
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        ),
        (
            '"text"',
            "Invalid data. Expected a dictionary, but got str.",
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
        ),
        ("[" * 50_000 + "]" * 50_000, "The request is nested too deeply.", {}),
    ],
)
def test_unreadable_bodies_are_400(
    body: str, message: str, extra: dict[str, Any], caseworker: User, client_for: ClientFor
) -> None:
    response = quiet(client_for(caseworker)).post(
        "/api/v1/laborers/", body, content_type="application/json"
    )

    assert_error(response, 400, message, extra)


def test_csrf_failures_of_session_logins_are_json(caseworker: User, db: None) -> None:
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username="caseworker", password=PASSWORD)

    response = client.post("/api/v1/households/", {}, format="json")

    assert_error(response, 403, "CSRF Failed: CSRF cookie not set.")


def test_a_disallowed_host_is_a_json_400(caseworker: User, client_for: ClientFor) -> None:
    response = quiet(client_for(caseworker)).get("/api/v1/counties/", HTTP_HOST="evil.example")

    assert_error(response, 400, "Bad request.")


def test_a_bug_is_a_json_500_under_api(
    caseworker: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(workers_apis, "laborer_list", broken)

    response = quiet(client_for(caseworker)).get("/api/v1/laborers/")

    assert_error(response, 500, "Internal error: it has been logged.")


def test_django_handlers_answer_json_under_api_and_html_elsewhere() -> None:
    factory = RequestFactory()
    api, admin = factory.get("/api/v1/x/"), factory.get("/admin/x/")

    assert json.loads(handler400(api, SuspiciousOperation()).content) == {
        "message": "Bad request.",
        "extra": {},
    }
    assert json.loads(handler403(api, DjangoPermissionDenied()).content) == {
        "message": "You do not have permission to perform this action.",
        "extra": {},
    }
    assert handler404(api, Http404()).status_code == 404
    assert json.loads(handler404(api, Http404()).content)["message"] == "Not found."
    assert handler500(api).status_code == 500
    assert json.loads(handler500(api).content) == {
        "message": "Internal error: it has been logged.",
        "extra": {},
    }
    for response in (
        handler400(admin, SuspiciousOperation()),
        handler403(admin, DjangoPermissionDenied()),
        handler500(admin),
    ):
        assert response["Content-Type"].startswith("text/html")


# --- the handler itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "status", "body"),
    [
        (
            lambda: ApplicationError("Nope.", {"field": ["Bad."]}),
            400,
            {"message": "Nope.", "extra": {"field": ["Bad."]}},
        ),
        (
            lambda: Conflict("Taken.", {"existing_id": 3}),
            409,
            {"message": "Taken.", "extra": {"existing_id": 3}},
        ),
        (
            lambda: ApplicationError("Not yours.", status=403),
            403,
            {"message": "Not yours.", "extra": {}},
        ),
        (
            lambda: DjangoValidationError({"name": ["Too long."]}),
            400,
            {"message": "name: Too long.", "extra": {"name": ["Too long."]}},
        ),
        (
            lambda: DjangoValidationError("Broken."),
            400,
            {"message": "Broken.", "extra": {"non_field_errors": ["Broken."]}},
        ),
        (lambda: Http404(), 404, {"message": "Not found.", "extra": {}}),
        (
            lambda: DjangoPermissionDenied(),
            403,
            {"message": "You do not have permission to perform this action.", "extra": {}},
        ),
        (lambda: RequestDataTooBig(), 413, {"message": "The request is too large.", "extra": {}}),
        (
            lambda: SuspiciousOperation(),
            400,
            {"message": "The request could not be read.", "extra": {}},
        ),
        (
            lambda: exceptions.Throttled(wait=30),
            429,
            {
                "message": "Request was throttled. Expected available in 30 seconds.",
                "extra": {"retry_after_seconds": 30},
            },
        ),
        (
            lambda: exceptions.PermissionDenied({"verified": ["No."]}),
            403,
            {"message": "verified: No.", "extra": {"verified": ["No."]}},
        ),
    ],
)
def test_exception_handler(
    make: Callable[[], Exception], status: int, body: dict[str, Any]
) -> None:
    with translation.override("en"):
        response = exception_handler(make(), {})

    assert response is not None
    assert (response.status_code, response.data) == (status, body)


def test_throttled_answers_carry_retry_after() -> None:
    response = exception_handler(exceptions.Throttled(wait=12.5), {})

    assert response is not None
    assert response["Retry-After"] == "13"
    assert response.data["extra"] == {"retry_after_seconds": 13}


def test_bugs_are_left_to_the_500_handler() -> None:
    assert exception_handler(KeyError("x"), {}) is None
    assert exception_handler(RecursionError(), {}) is None


def test_flatten_errors() -> None:
    detail = {
        "name": ["Required."],
        "skills": {0: {"occupation": ["Unknown."]}, 2: {"years": ["Too many.", "Odd."]}},
        "preferred_destinations": {1: ["Unknown code."]},
        "non_field_errors": ["Whole."],
        "nested": {"deeper": {"leaf": "Plain string."}},
        "listed": [{}, {"x": ["Bad x."]}],
    }

    assert flatten_errors(detail) == {
        "name": ["Required."],
        "skills[0].occupation": ["Unknown."],
        "skills[2].years": ["Too many.", "Odd."],
        "preferred_destinations[1]": ["Unknown code."],
        "non_field_errors": ["Whole."],
        "nested.deeper.leaf": ["Plain string."],
        "listed[1].x": ["Bad x."],
    }
    assert flatten_errors(["One.", "Two."]) == {"non_field_errors": ["One.", "Two."]}
    assert flatten_errors("Alone.") == {"non_field_errors": ["Alone."]}


def test_validation_message_names_the_first_problem_of_each_field() -> None:
    assert (
        validation_message({"name": ["Required.", "Other."], "non_field_errors": ["Whole."]})
        == "name: Required. Whole."
    )
    assert validation_message({}) == "Invalid input."


# --- nothing a client sends yields a 500 (errors keep the one shape) ----------------------


GARBAGE: list[tuple[str, str, str, Any]] = [
    # (role, method, path, JSON body or None)
    ("caseworker", "get", "/api/v1/laborers/?search=a%00b", None),
    ("caseworker", "get", "/api/v1/laborers/?county=%00&township=%00&occupation=%00", None),
    ("caseworker", "get", "/api/v1/laborers/?household=99999999999999999999999", None),
    ("caseworker", "get", "/api/v1/laborers/?offset=99999999999999999999&limit=-4", None),
    ("caseworker", "get", "/api/v1/laborers/?status=" + "x" * 5000, None),
    ("caseworker", "post", "/api/v1/laborers/", {"name": "\x00", "id_number": "\x00" * 18}),
    ("caseworker", "post", "/api/v1/laborers/", {"\x00": 1, "": 2}),
    ("caseworker", "post", "/api/v1/laborers/", {"skills": "cook", "preferred_destinations": "x"}),
    ("caseworker", "post", "/api/v1/laborers/", {"skills": [[1]], "preferred_destinations": [{}]}),
    (
        "caseworker",
        "post",
        "/api/v1/laborers/",
        {"min_monthly_wage": 10**40, "available_from": "99999-01-01"},
    ),
    (
        "caseworker",
        "post",
        "/api/v1/laborers/",
        {"id_number": 451081199003151239, "phone": 13912345678},
    ),
    ("caseworker", "post", "/api/v1/laborers/", {"id_number": "😀" * 18, "name": "😀" * 60}),
    (
        "caseworker",
        "post",
        "/api/v1/laborers/",
        {"available_from": "0000-00-00", "county": ["451081"]},
    ),
    ("caseworker", "post", "/api/v1/households/", {"members": [2**63, -1], "keep_together": None}),
    (
        "caseworker",
        "post",
        "/api/v1/households/",
        {"members": [2**62, 2**62 - 1], "keep_together": "same_city"},
    ),
    (
        "caseworker",
        "post",
        "/api/v1/households/",
        {"members": "1,2", "keep_together": ["same_city"]},
    ),
    (
        "caseworker",
        "patch",
        "/api/v1/households/99999999999999999999/",
        {"keep_together": "same_city"},
    ),
    (
        "coordinator",
        "post",
        "/api/v1/employers/",
        {"name": "\x00", "uscc": "\x00" * 18, "destination": "\x00"},
    ),
    (
        "coordinator",
        "post",
        "/api/v1/employers/",
        {"uscc": 9.5, "destination": 440300, "verified": "yes!"},
    ),
    ("coordinator", "get", "/api/v1/employers/?search=%00", None),
    ("coordinator", "post", "/api/v1/vacancies/", {"employer": 2**62, "start_date": "9999-12-31"}),
    (
        "coordinator",
        "post",
        "/api/v1/vacancies/",
        {"employer": "one", "openings": "many", "age_min": None},
    ),
    ("coordinator", "post", "/api/v1/vacancies/", {"Sex": 1, "\x00": 2}),
    ("coordinator", "get", "/api/v1/vacancies/?start_from=2026-13-45&employer=1e99", None),
    ("coordinator", "get", "/api/v1/vacancies/?search=%00&occupation=%00&destination=%00", None),
    ("supervisor", "get", "/api/v1/access-log/?user=99999999999999999999&since=%00", None),
    ("supervisor", "get", "/api/v1/access-log/?until=9999-99-99T99:99", None),
    ("supervisor", "get", "/api/v1/counties/4510810/", None),
    ("employer", "post", "/api/v1/vacancies/", {"employer": -1}),
    ("employer", "patch", "/api/v1/employers/0/", {"uscc": None}),
    (None, "post", "/api/v1/auth/token/", {"username": "\x00", "password": "\x00"}),
    (None, "post", "/api/v1/auth/token/", {"username": ["a"], "password": {"b": 1}}),
    (None, "post", "/api/v1/auth/token/", {"username": "x" * 10_000, "password": "y" * 10_000}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), GARBAGE)
def test_garbage_never_yields_a_500(
    role: str | None,
    method: str,
    path: str,
    body: Any,
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    db: None,
) -> None:
    fixture = {"employer": "employer_user"}.get(role or "", role)
    user = request.getfixturevalue(fixture) if fixture else None
    LaborerFactory()
    VacancyFactory(employer=EmployerFactory())
    client = quiet(client_for(user))

    response = (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )

    assert response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    if response.status_code < 400:
        return
    assert set(data) == {"message", "extra"}
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["extra"], dict)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["caseworker", "employer", "coordinator", "supervisor", "admin"])
def test_options_never_fails_on_any_api_path(role: str, client_for) -> None:
    """OPTIONS runs DRF's metadata (which may call get_object() for writable views) on every
    path of the schema, with and without an existing object behind the {id}."""
    from drf_spectacular.generators import SchemaGenerator

    from tests.factories import UserFactory

    laborer = LaborerFactory()
    user = UserFactory(role=role, counties=["451081"]) if role == "caseworker" else None
    user = user or UserFactory(role=role)
    client = client_for(user)
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "/api/v1/progress/reports/" in paths and len(paths) > 30
    for path in paths:
        for pk in (laborer.pk, 999_999):
            url = path.replace("{id}", str(pk)).replace("{pk}", str(pk))
            response = client.options(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code >= 400:
                assert set(response.json()) == {"message", "extra"}, url
