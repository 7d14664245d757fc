"""The permission matrix: every role x every endpoint x its own and another's objects.

"own" and "other" are seen from the caseworker (laborers and households of 靖西市 451081
against 右江区 451002) and from the employer account (its own employer and vacancies
against another employer's). Denied writes must leave the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from employers.models import Employer, Vacancy
from jobmatch.models import AccessLog, User
from tests.factories import EmployerFactory, HouseholdFactory, LaborerFactory, VacancyFactory
from tests.factories_extra import (  # noqa: F401
    _fast_password_hashing,
    employer_payload,
    laborer_payload,
    vacancy_payload,
)
from workers.models import Household, Laborer

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "caseworker", "coordinator", "supervisor", "admin", "employer")
FIXTURES = {
    "caseworker": "caseworker",
    "coordinator": "coordinator",
    "supervisor": "supervisor",
    "admin": "admin_user",
    "employer": "employer_user",
}

# Expected statuses, in the order of ROLES.
MATRIX: dict[tuple[str, str], str] = {
    ("laborers", "list"): "401 200 200 200 200 403",
    ("laborers", "retrieve_own"): "401 200 200 200 200 403",
    ("laborers", "retrieve_other"): "401 404 200 200 200 403",
    ("laborers", "create_own"): "401 201 403 403 403 403",
    ("laborers", "create_other"): "401 400 403 403 403 403",
    ("laborers", "update_own"): "401 200 403 403 403 403",
    ("laborers", "update_other"): "401 404 403 403 403 403",
    ("laborers", "delete_own"): "401 204 403 403 403 403",
    ("laborers", "delete_other"): "401 404 403 403 403 403",
    ("households", "list"): "401 200 200 200 200 403",
    ("households", "retrieve_own"): "401 200 200 200 200 403",
    ("households", "retrieve_other"): "401 404 200 200 200 403",
    ("households", "create_own"): "401 201 403 403 403 403",
    ("households", "create_other"): "401 400 403 403 403 403",
    ("households", "update_own"): "401 200 403 403 403 403",
    ("households", "update_other"): "401 404 403 403 403 403",
    ("households", "delete_own"): "401 204 403 403 403 403",
    ("households", "delete_other"): "401 404 403 403 403 403",
    ("employers", "list"): "401 200 200 200 200 200",
    ("employers", "retrieve_own"): "401 200 200 200 200 200",
    ("employers", "retrieve_other"): "401 200 200 200 200 404",
    ("employers", "create"): "401 403 201 403 201 403",
    ("employers", "update_own"): "401 403 200 403 200 200",
    ("employers", "update_other"): "401 403 200 403 200 404",
    ("employers", "delete_own"): "401 403 403 403 204 403",
    ("employers", "delete_other"): "401 403 403 403 204 403",
    ("vacancies", "list"): "401 200 200 200 200 200",
    ("vacancies", "retrieve_own"): "401 200 200 200 200 200",
    ("vacancies", "retrieve_other"): "401 200 200 200 200 404",
    ("vacancies", "create_own"): "401 403 201 403 201 201",
    ("vacancies", "create_other"): "401 403 201 403 201 400",
    ("vacancies", "update_own"): "401 403 200 403 200 200",
    ("vacancies", "update_other"): "401 403 200 403 200 404",
    ("vacancies", "delete_own"): "401 403 204 403 204 204",
    ("vacancies", "delete_other"): "401 403 204 403 204 404",
    ("access-log", "list"): "401 403 403 200 200 403",
    # The log has no write route: the role check refuses before the method check.
    ("access-log", "create"): "401 403 403 403 403 403",
    ("counties", "list"): "401 200 200 200 200 200",
    ("counties", "retrieve"): "401 200 200 200 200 200",
    ("counties", "create"): "401 405 405 405 405 405",
    ("destinations", "list"): "401 200 200 200 200 200",
    ("destinations", "retrieve"): "401 200 200 200 200 200",
    ("destinations", "update"): "401 405 405 405 405 405",
    ("occupations", "list"): "401 200 200 200 200 200",
    ("occupations", "retrieve"): "401 200 200 200 200 200",
    ("occupations", "delete"): "401 405 405 405 405 405",
}
# One test per endpoint and role runs every action in this order (reads first, deletes
# last), so that each world is built once: a matrix of ~300 requests stays fast.
ORDER = ("list", "retrieve", "update", "create", "delete")
CASES = [
    pytest.param(endpoint, role, id=f"{endpoint}-{role}")
    for endpoint in dict.fromkeys(endpoint for endpoint, _ in MATRIX)
    for role in ROLES
]


def actions_of(endpoint: str) -> list[str]:
    actions = [action for e, action in MATRIX if e == endpoint]
    return sorted(actions, key=lambda a: (ORDER.index(a.split("_")[0]), a))


BODIES = {
    401: {"message": "Authentication credentials were not provided.", "extra": {}},
    403: {"message": "Your role may not do this.", "extra": {}},
    404: {"message": "Not found.", "extra": {}},
}


@dataclass
class World:
    user: User | None
    own: dict[str, Any]
    other: dict[str, Any]


def other_county(**kwargs: Any) -> Laborer:
    return LaborerFactory(county_id="451002", township_id="451002001", skills=[], **kwargs)


def own_county(**kwargs: Any) -> Laborer:
    return LaborerFactory(skills=[], **kwargs)


def build(request: pytest.FixtureRequest, role: str, endpoint: str) -> World:
    """The user acting and only the objects `endpoint` needs (the matrix is large)."""
    user = None if role == "anonymous" else request.getfixturevalue(FIXTURES[role])
    own: dict[str, Any] = {}
    other: dict[str, Any] = {}
    if endpoint == "laborers":
        own["laborers"], other["laborers"] = own_county(), other_county()
    if endpoint == "households":
        own["households"], other["households"] = HouseholdFactory(), HouseholdFactory()
        own_county(household=own["households"]), own_county(household=own["households"])
        other_county(household=other["households"]), other_county(household=other["households"])
        own["free"] = [own_county().pk, own_county().pk]
        other["free"] = [other_county().pk, other_county().pk]
    if endpoint in {"employers", "vacancies"}:
        # The employer account's employer is "own"; for the other roles it is just one.
        own["employers"] = (
            user.employer_account.employer if role == "employer" else EmployerFactory()
        )
        other["employers"] = EmployerFactory()
    if endpoint == "vacancies":
        own["vacancies"] = VacancyFactory(employer=own["employers"])
        other["vacancies"] = VacancyFactory(employer=other["employers"])
    return World(user=user, own=own, other=other)


def state() -> list[Any]:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Laborer, Household, Employer, Vacancy)
    ]


def payload(endpoint: str, side: dict[str, Any], *, update: bool, own: bool) -> dict[str, Any]:
    if endpoint == "laborers":
        if update:
            return {"village": "新村"}
        if own:
            return laborer_payload()
        return laborer_payload(county="451002", township="451002001")
    if endpoint == "households":
        if update:
            return {"keep_together": "same_city"}
        return {"members": side["free"], "keep_together": "same_employer"}
    if endpoint == "employers":
        return {"address": "新地址"} if update else employer_payload()
    if endpoint == "vacancies":
        return {"title": "新岗位"} if update else vacancy_payload(employer=side["employers"].pk)
    return {}


def call(client: APIClient, endpoint: str, action: str, world: World) -> Any:
    base = f"/api/v1/{endpoint}/"
    own = not action.endswith("_other")
    side = world.own if own else world.other
    verb = action.removesuffix("_own").removesuffix("_other")
    reference = {"counties": "451081", "destinations": "440306020", "occupations": "cook"}
    if endpoint in reference:
        url = base if verb in {"list", "create"} else f"{base}{reference[endpoint]}/"
    elif verb in {"list", "create"}:
        url = base
    else:
        url = f"{base}{side[endpoint].pk}/"
    if verb in {"list", "retrieve"}:
        return client.get(url)
    if verb == "create":
        return client.post(url, payload(endpoint, side, update=False, own=own), format="json")
    if verb == "update":
        return client.patch(url, payload(endpoint, side, update=True, own=own), format="json")
    return client.delete(url)


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_permission_matrix(
    endpoint: str,
    role: str,
    db: None,
    request: pytest.FixtureRequest,
    client_for: Callable[[User | None], APIClient],
) -> None:
    world = build(request, role, endpoint)
    client = client_for(world.user)
    problems = []

    for action in actions_of(endpoint):
        expected = int(MATRIX[(endpoint, action)].split()[ROLES.index(role)])
        before = state()
        response = call(client, endpoint, action, world)
        body = response.json() if response.content else None
        if response.status_code != expected:
            problems.append((action, expected, response.status_code, body))
        elif expected in BODIES and body != BODIES[expected]:
            problems.append((action, expected, body))
        elif expected >= 400 and state() != before:
            problems.append((action, expected, "the database changed"))

    assert problems == []


VISIBLE = {
    # role: (own laborer listed, other laborer listed, shown in full)
    "caseworker": (True, False, True),
    "coordinator": (True, True, False),
    "supervisor": (True, True, True),
    "admin": (True, True, True),
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_laborer_visibility_and_masking_by_role(
    role: str,
    db: None,
    request: pytest.FixtureRequest,
    client_for: Callable[[User | None], APIClient],
) -> None:
    world = build(request, role, "laborers")
    own, other = world.own["laborers"], world.other["laborers"]
    sees_own, sees_other, full = VISIBLE[role]
    client = client_for(world.user)

    listed = {row["id"]: row for row in client.get("/api/v1/laborers/?limit=500").json()["results"]}

    assert (own.pk in listed, other.pk in listed) == (sees_own, sees_other)
    masked_id = own.id_number[:6] + "********" + own.id_number[14:]
    masked_phone = own.phone[:3] + "****" + own.phone[7:]
    expected = (own.id_number, own.phone) if full else (masked_id, masked_phone)
    assert (listed[own.pk]["id_number"], listed[own.pk]["phone"]) == expected
    shown = client.get(f"/api/v1/laborers/{own.pk}/").json()
    assert (shown["id_number"], shown["phone"]) == expected
    logged = AccessLog.objects.filter(user=world.user).exists()
    assert logged is full


@pytest.mark.parametrize(
    ("role", "expected"),
    [("caseworker", ["own"]), ("coordinator", ["own", "other"]), ("supervisor", ["own", "other"])],
)
def test_household_lists_by_role(
    role: str,
    expected: list[str],
    db: None,
    request: pytest.FixtureRequest,
    client_for: Callable[[User | None], APIClient],
) -> None:
    world = build(request, role, "households")
    sides = {"own": world.own, "other": world.other}

    body = client_for(world.user).get("/api/v1/households/").json()

    assert [row["id"] for row in body["results"]] == [
        sides[name]["households"].pk for name in expected
    ]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("employer", ["own"]), ("caseworker", ["own", "other"]), ("admin", ["own", "other"])],
)
def test_employer_and_vacancy_lists_by_role(
    role: str,
    expected: list[str],
    db: None,
    request: pytest.FixtureRequest,
    client_for: Callable[[User | None], APIClient],
) -> None:
    world = build(request, role, "vacancies")
    sides = {"own": world.own, "other": world.other}
    client = client_for(world.user)

    for endpoint in ("employers", "vacancies"):
        body = client.get(f"/api/v1/{endpoint}/").json()
        assert [row["id"] for row in body["results"]] == [
            sides[name][endpoint].pk for name in expected
        ]
