"""/api/v1/households/: laborers placed and carried together, within a caseworker's counties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobmatch.models import Role, User
from tests.factories import HouseholdFactory, LaborerFactory, UserFactory
from tests.factories_extra import (  # noqa: F401
    _fast_password_hashing,
    iso,
)
from workers.models import Household, Laborer

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"

ClientFor = Callable[[User | None], APIClient]


def detail(household: Household | int) -> str:
    return f"{URL}{household if isinstance(household, int) else household.pk}/"


def household_json(household: Household) -> dict[str, Any]:
    household.refresh_from_db()
    return {
        "id": household.pk,
        "keep_together": household.keep_together,
        "members": sorted(household.members.values_list("pk", flat=True)),
        "created_at": iso(household.created_at),
        "updated_at": iso(household.updated_at),
    }


def memberships() -> dict[int, int | None]:
    return dict(Laborer.objects.values_list("pk", "household_id"))


def other_county(**kwargs: Any) -> Laborer:
    return LaborerFactory(county_id="451002", township_id="451002001", **kwargs)


def test_caseworker_creates_a_household(caseworker: User, client_for: ClientFor) -> None:
    a, b, c = LaborerFactory(), LaborerFactory(), LaborerFactory()

    response = client_for(caseworker).post(
        URL, {"members": [b.pk, a.pk], "keep_together": "same_city"}, format="json"
    )

    assert response.status_code == 201, response.json()
    household = Household.objects.get()
    assert response.json() == {
        "id": household.pk,
        "keep_together": "same_city",
        "members": [a.pk, b.pk],
        "created_at": iso(household.created_at),
        "updated_at": iso(household.updated_at),
    }
    assert household.created_by == caseworker
    assert memberships() == {a.pk: household.pk, b.pk: household.pk, c.pk: None}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"members": [1], "keep_together": "same_city"},
            "members",
            "Ensure this field has at least 2 elements.",
        ),
        (
            {"members": [], "keep_together": "same_city"},
            "members",
            "Ensure this field has at least 2 elements.",
        ),
        (
            {"members": list(range(1, 22)), "keep_together": "same_city"},
            "members",
            "Ensure this field has no more than 20 elements.",
        ),
        (
            {"members": [1, 1], "keep_together": "same_city"},
            "members",
            "A laborer may appear only once.",
        ),
        (
            {"members": [1, "x"], "keep_together": "same_city"},
            "members[1]",
            "A valid integer is required.",
        ),
        (
            {"members": [1, 0], "keep_together": "same_city"},
            "members[1]",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"members": [1, 2], "keep_together": "same_room"},
            "keep_together",
            '"same_room" is not a valid choice.',
        ),
        ({"members": [1, 2]}, "keep_together", "This field is required."),
        (
            {"members": [1, 2], "keep_together": "same_city", "name": "黄家"},
            "name",
            "Unknown field.",
        ),
    ],
)
def test_invalid_households_are_refused(
    payload: dict[str, Any], field: str, message: str, caseworker: User, client_for: ClientFor
) -> None:
    LaborerFactory(), LaborerFactory()
    before = memberships()

    response = client_for(caseworker).post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}
    assert Household.objects.count() == 0
    assert memberships() == before


def test_members_must_be_laborers_of_the_callers_counties(
    caseworker: User, client_for: ClientFor
) -> None:
    mine = LaborerFactory()
    theirs = other_county()
    missing = theirs.pk + 1000
    before = memberships()

    response = client_for(caseworker).post(
        URL, {"members": [mine.pk, theirs.pk, missing], "keep_together": "same_city"}, format="json"
    )

    assert response.status_code == 400
    # The same words for another county's laborer and for no laborer: nothing leaks.
    assert response.json() == {
        "message": f"members: Laborer {theirs.pk} is not one of the laborers of your counties.",
        "extra": {
            "members": [
                f"Laborer {theirs.pk} is not one of the laborers of your counties.",
                f"Laborer {missing} is not one of the laborers of your counties.",
            ]
        },
    }
    assert Household.objects.count() == 0
    assert memberships() == before


def test_a_laborer_is_in_at_most_one_household(caseworker: User, client_for: ClientFor) -> None:
    existing = HouseholdFactory()
    a = LaborerFactory(household=existing)
    LaborerFactory(household=existing)
    b = LaborerFactory()
    before = memberships()

    response = client_for(caseworker).post(
        URL, {"members": [a.pk, b.pk], "keep_together": "same_employer"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": f"members: Laborer {a.pk} is already in household {existing.pk}.",
        "extra": {"members": [f"Laborer {a.pk} is already in household {existing.pk}."]},
    }
    assert Household.objects.count() == 1
    assert memberships() == before


def test_caseworker_of_two_counties_joins_laborers_of_both(db: None, client_for: ClientFor) -> None:
    user = UserFactory(role=Role.CASEWORKER, counties=["451081", "451002"])
    a, b = LaborerFactory(), other_county()

    response = client_for(user).post(
        URL, {"members": [a.pk, b.pk], "keep_together": "same_city"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["members"] == [a.pk, b.pk]


# --- read ---------------------------------------------------------------------------------


@pytest.fixture
def households(db: None) -> dict[str, Household]:
    mine, theirs = HouseholdFactory(), HouseholdFactory(keep_together="same_city")
    LaborerFactory(household=mine), LaborerFactory(household=mine)
    other_county(household=theirs), other_county(household=theirs)
    return {"mine": mine, "theirs": theirs}


def test_caseworker_sees_the_households_of_their_counties(
    households: dict[str, Household], caseworker: User, client_for: ClientFor
) -> None:
    client = client_for(caseworker)

    body = client.get(URL).json()
    assert body == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [household_json(households["mine"])],
    }
    assert client.get(detail(households["mine"])).json() == household_json(households["mine"])
    response = client.get(detail(households["theirs"]))
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


@pytest.mark.parametrize("role_fixture", ["coordinator", "supervisor", "admin_user"])
def test_staff_see_every_household(
    role_fixture: str,
    households: dict[str, Household],
    request: pytest.FixtureRequest,
    client_for: ClientFor,
) -> None:
    body = client_for(request.getfixturevalue(role_fixture)).get(URL).json()

    assert body["results"] == [
        household_json(households["mine"]),
        household_json(households["theirs"]),
    ]


# --- update and delete --------------------------------------------------------------------


def test_caseworker_changes_the_members(caseworker: User, client_for: ClientFor) -> None:
    household = HouseholdFactory()
    a, b = LaborerFactory(household=household), LaborerFactory(household=household)
    c = LaborerFactory()

    response = client_for(caseworker).put(
        detail(household), {"members": [a.pk, c.pk], "keep_together": "same_city"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == household_json(household)
    assert response.json()["members"] == [a.pk, c.pk]
    assert household.keep_together == "same_city"
    assert memberships() == {a.pk: household.pk, b.pk: None, c.pk: household.pk}


def test_patch_keep_together_only(caseworker: User, client_for: ClientFor) -> None:
    household = HouseholdFactory()
    a, b = LaborerFactory(household=household), LaborerFactory(household=household)

    response = client_for(caseworker).patch(
        detail(household), {"keep_together": "same_city"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["members"] == [a.pk, b.pk]
    household.refresh_from_db()
    assert household.keep_together == "same_city"


def test_update_refuses_a_member_of_another_household(
    caseworker: User, client_for: ClientFor
) -> None:
    household, other = HouseholdFactory(), HouseholdFactory()
    a, b = LaborerFactory(household=household), LaborerFactory(household=household)
    c = LaborerFactory(household=other)
    LaborerFactory(household=other)
    before = memberships()

    response = client_for(caseworker).patch(
        detail(household), {"members": [a.pk, c.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"] == {
        "members": [f"Laborer {c.pk} is already in household {other.pk}."]
    }
    assert memberships() == before
    assert b.pk in household.members.values_list("pk", flat=True)


def test_update_refuses_laborers_of_another_county(caseworker: User, client_for: ClientFor) -> None:
    household = HouseholdFactory()
    a = LaborerFactory(household=household)
    LaborerFactory(household=household)
    theirs = other_county()
    before = memberships()

    response = client_for(caseworker).patch(
        detail(household), {"members": [a.pk, theirs.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"] == {
        "members": [f"Laborer {theirs.pk} is not one of the laborers of your counties."]
    }
    assert memberships() == before


def test_caseworker_deletes_a_household(caseworker: User, client_for: ClientFor) -> None:
    household = HouseholdFactory()
    a, b = LaborerFactory(household=household), LaborerFactory(household=household)

    response = client_for(caseworker).delete(detail(household))

    assert response.status_code == 204
    assert Household.objects.count() == 0
    assert memberships() == {a.pk: None, b.pk: None}


def test_another_countys_household_cannot_be_changed(
    households: dict[str, Household], caseworker: User, client_for: ClientFor
) -> None:
    theirs = households["theirs"]
    expected = household_json(theirs)
    before = memberships()
    client = client_for(caseworker)

    for response in (
        client.patch(detail(theirs), {"keep_together": "same_employer"}, format="json"),
        client.put(
            detail(theirs), {"members": [1, 2], "keep_together": "same_city"}, format="json"
        ),
        client.delete(detail(theirs)),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Not found.", "extra": {}}
    assert household_json(theirs) == expected
    assert memberships() == before


def test_a_household_reaching_into_another_county_is_read_only_for_a_one_county_caseworker(
    caseworker: User, client_for: ClientFor
) -> None:
    # Made by a caseworker who answers for both counties.
    household = HouseholdFactory()
    a, theirs = LaborerFactory(household=household), other_county(household=household)
    c = LaborerFactory()
    expected = household_json(household)
    before = memberships()
    client = client_for(caseworker)

    assert client.get(detail(household)).json() == expected
    for response in (
        client.put(
            detail(household),
            {"members": [a.pk, c.pk], "keep_together": "same_city"},
            format="json",
        ),
        client.patch(detail(household), {"keep_together": "same_city"}, format="json"),
        client.delete(detail(household)),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "message": "This household has members in counties you do not answer for.",
            "extra": {},
        }
    assert household_json(household) == expected
    assert memberships() == before
    assert theirs.pk in expected["members"]
