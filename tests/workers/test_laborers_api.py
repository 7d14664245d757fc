"""/api/v1/laborers/: registration, validation, county scope, masking and the access log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from jobmatch.models import AccessLog, Role, User
from tests.factories import HouseholdFactory, LaborerFactory, UserFactory
from tests.factories_extra import (  # noqa: F401
    ID_NUMBER,
    PHONE,
    _fast_password_hashing,
    iso,
    laborer_payload,
    with_check,
)
from workers import services
from workers.models import Laborer, LaborerSkill, LaborerStatus, StatusEvent

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/laborers/"
# The validation tests run on a fixed day so that ages are exact.
TODAY = date(2026, 11, 25)

ClientFor = Callable[[User | None], APIClient]


def detail(laborer: Laborer | int) -> str:
    return f"{URL}{laborer if isinstance(laborer, int) else laborer.pk}/"


def counts() -> tuple[int, int, int, int]:
    return (
        Laborer.objects.count(),
        LaborerSkill.objects.count(),
        StatusEvent.objects.count(),
        AccessLog.objects.count(),
    )


def laborer_json(laborer: Laborer, *, full: bool) -> dict[str, Any]:
    """The API's view of a laborer, built from the database row."""
    laborer.refresh_from_db()
    return {
        "id": laborer.pk,
        "name": laborer.name,
        "id_number": laborer.id_number
        if full
        else laborer.id_number[:6] + "********" + laborer.id_number[14:],
        "gender": laborer.gender,
        "birth_date": laborer.birth_date.isoformat(),
        "from_outside_baise": laborer.from_outside_baise,
        "phone": laborer.phone if full else laborer.phone[:3] + "****" + laborer.phone[7:],
        "county": laborer.county_id,
        "township": laborer.township_id,
        "village": laborer.village,
        "skills": [
            {"occupation": s.occupation_id, "years": s.years}
            for s in laborer.skills.order_by("occupation_id")
        ],
        "preferred_destinations": sorted(
            laborer.preferred_destinations.values_list("code", flat=True)
        ),
        "min_monthly_wage": laborer.min_monthly_wage,
        "available_from": laborer.available_from.isoformat(),
        "household": laborer.household_id,
        "poverty_alleviated": laborer.poverty_alleviated,
        "monitored_household": laborer.monitored_household,
        "employment_difficulty": laborer.employment_difficulty,
        "consent_to_share": laborer.consent_to_share,
        "status": laborer.status,
        "created_at": iso(laborer.created_at),
        "updated_at": iso(laborer.updated_at),
    }


@pytest.fixture
def frozen_today() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        yield


@pytest.fixture
def two_county_caseworker(db: None) -> User:
    return UserFactory(username="two-counties", role=Role.CASEWORKER, counties=["451081", "451002"])


# --- create -------------------------------------------------------------------------------


def test_caseworker_registers_a_laborer(caseworker: User, client_for: ClientFor) -> None:
    response = client_for(caseworker).post(URL, laborer_payload(), format="json")

    assert response.status_code == 201, response.json()
    laborer = Laborer.objects.get()
    assert response.json() == {
        "id": laborer.pk,
        "name": "黄秀英",
        "id_number": ID_NUMBER,
        "gender": "female",
        "birth_date": "1988-06-01",
        "from_outside_baise": False,
        "phone": PHONE,
        "county": "451081",
        "township": "451081101",
        "village": "大道村",
        "skills": [{"occupation": "garment_sewer", "years": 3}],
        "preferred_destinations": ["440306020", "441900119"],
        "min_monthly_wage": 4200,
        "available_from": laborer.available_from.isoformat(),
        "household": None,
        "poverty_alleviated": True,
        "monitored_household": False,
        "employment_difficulty": False,
        "consent_to_share": True,
        "status": "registered",
        "created_at": iso(laborer.created_at),
        "updated_at": iso(laborer.updated_at),
    }
    assert laborer.created_by == caseworker
    assert list(laborer.skills.values_list("occupation_id", "years")) == [("garment_sewer", 3)]
    assert list(
        StatusEvent.objects.values_list("laborer", "from_status", "to_status", "actor")
    ) == [(laborer.pk, "", "registered", caseworker.pk)]


def test_registration_runs_the_saved_hooks_on_commit(
    caseworker: User,
    client_for: ClientFor,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(services, "laborer_saved_hooks", [seen.append])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(caseworker).post(URL, laborer_payload(), format="json")
    assert response.status_code == 201
    assert seen == [[response.json()["id"]]]
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(caseworker).post(URL, laborer_payload(phone="1"), format="json")
    assert response.status_code == 400
    assert callbacks == []


def test_read_only_fields_sent_back_are_ignored(caseworker: User, client_for: ClientFor) -> None:
    payload = laborer_payload(
        id=999, gender="male", birth_date="2000-01-01", status="employed", household=5
    )
    response = client_for(caseworker).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    laborer = Laborer.objects.get()
    assert (laborer.gender, laborer.birth_date, laborer.status, laborer.household_id) == (
        "female",
        date(1988, 6, 1),
        LaborerStatus.REGISTERED,
        None,
    )
    assert laborer.pk != 999


def x_id_number() -> str:
    """A 靖西市 resident ID whose check character is X."""
    for seq in range(1000):
        number = with_check(f"45108119850704{seq:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check character found")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" ４５１０８１１９８８０６０１００２１ ", ID_NUMBER),  # full-width digits, spaces
        (x_id_number().lower(), x_id_number()),
    ],
)
def test_id_number_is_normalised(
    typed: str, stored: str, caseworker: User, client_for: ClientFor
) -> None:
    response = client_for(caseworker).post(URL, laborer_payload(id_number=typed), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["id_number"] == stored
    assert Laborer.objects.get().id_number == stored


@pytest.mark.parametrize(
    "typed", ["+86 139-1234-5678", "0086 13912345678", "１３９１２３４５６７８", " 139 1234 5678 "]
)
def test_phone_is_normalised(typed: str, caseworker: User, client_for: ClientFor) -> None:
    response = client_for(caseworker).post(URL, laborer_payload(phone=typed), format="json")

    assert response.status_code == 201, response.json()
    assert Laborer.objects.get().phone == PHONE


@pytest.mark.parametrize(
    ("number", "outside", "gender", "birth"),
    [
        ("440306199208080052", True, "male", date(1992, 8, 8)),  # 宝安区: accepted, flagged
        (with_check("45262619800101001"), False, "male", date(1980, 1, 1)),  # legacy 靖西县
        (with_check("45102519830507004"), False, "female", date(1983, 5, 7)),  # legacy 2002-2014
        (with_check("11010519790101002"), True, "female", date(1979, 1, 1)),
    ],
)
def test_region_codes_outside_baise_and_legacy_codes_are_accepted(
    number: str,
    outside: bool,
    gender: str,
    birth: date,
    caseworker: User,
    client_for: ClientFor,
) -> None:
    response = client_for(caseworker).post(URL, laborer_payload(id_number=number), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["from_outside_baise"], body["gender"], body["birth_date"]) == (
        outside,
        gender,
        birth.isoformat(),
    )
    laborer = Laborer.objects.get()
    assert (laborer.from_outside_baise, laborer.gender, laborer.birth_date) == (
        outside,
        gender,
        birth,
    )


@pytest.mark.parametrize(
    "number",
    [
        with_check("45108120101125001"),  # 16 today
        with_check("45108119551126001"),  # 70 today (71 tomorrow)
    ],
)
def test_age_limits_are_inclusive(
    number: str, frozen_today: None, caseworker: User, client_for: ClientFor
) -> None:
    response = client_for(caseworker).post(URL, laborer_payload(id_number=number), format="json")

    assert response.status_code == 201, response.json()


INVALID = [
    (
        {"id_number": "45108119880601002"},
        "id_number",
        "A resident ID number has 18 characters: 17 digits and a final digit or X.",
    ),
    (
        {"id_number": "45108119880601002Y"},
        "id_number",
        "A resident ID number has 18 characters: 17 digits and a final digit or X.",
    ),
    (
        {"id_number": "451081198806010022"},
        "id_number",
        "The check character of the resident ID number is wrong.",
    ),
    (
        {"id_number": with_check("45108119900230001")},
        "id_number",
        "The birth date 19900230 in the resident ID number does not exist.",
    ),
    (
        {"id_number": with_check("99108119880601002")},
        "id_number",
        "The region code 991081 of the resident ID number is unknown.",
    ),
    (
        {"id_number": with_check("45108120261126001")},
        "id_number",
        "The birth date in the resident ID number is in the future.",
    ),
    (
        {"id_number": with_check("45108120101126001")},
        "id_number",
        "The laborer must be at least 16 years old.",
    ),
    (
        {"id_number": with_check("45108119551125001")},
        "id_number",
        "The birth date 1955-11-25 gives an age over 70: check the number.",
    ),
    ({"phone": "12345"}, "phone", "Enter an 11-digit mainland mobile number."),
    ({"phone": "010-12345678"}, "phone", "Enter an 11-digit mainland mobile number."),
    ({"phone": "+1 202 555 0123"}, "phone", "Enter an 11-digit mainland mobile number."),
    ({"phone": "12345678901"}, "phone", "Enter an 11-digit mainland mobile number."),
    ({"county": "999999"}, "county", "Unknown county code '999999'."),
    ({"township": "451081999"}, "township", "Unknown township code '451081999'."),
    ({"township": "451002001"}, "township", "Township 451002001 is not in county 451081."),
    (
        {"county": "451002", "township": "451002001"},
        "county",
        "County 451002 is not one of the counties you answer for.",
    ),
    (
        {"min_monthly_wage": 0},
        "min_monthly_wage",
        "Ensure this value is greater than or equal to 1.",
    ),
    (
        {"min_monthly_wage": -3000},
        "min_monthly_wage",
        "Ensure this value is greater than or equal to 1.",
    ),
    ({"min_monthly_wage": 4500.5}, "min_monthly_wage", "A valid integer is required."),
    ({"min_monthly_wage": "四千"}, "min_monthly_wage", "A valid integer is required."),
    (
        {"min_monthly_wage": 1_000_001},
        "min_monthly_wage",
        "Ensure this value is less than or equal to 1000000.",
    ),
    (
        {"skills": [{"occupation": "astronaut"}]},
        "skills[0].occupation",
        "Unknown occupation 'astronaut'.",
    ),
    (
        {"skills": [{"occupation": "cook", "years": 61}]},
        "skills[0].years",
        "Ensure this value is less than or equal to 60.",
    ),
    (
        {"skills": [{"occupation": "cook"}, {"occupation": "cook", "years": 2}]},
        "skills",
        "Each occupation may appear only once.",
    ),
    ({"skills": [{"occupation": "cook", "level": 3}]}, "skills[0].level", "Unknown field."),
    (
        {"preferred_destinations": ["440306020", "999999"]},
        "preferred_destinations",
        "Unknown destination code '999999'.",
    ),
    ({"nickname": "阿英"}, "nickname", "Unknown field."),
    ({"name": ""}, "name", "This field may not be blank."),
    ({"name": None}, "name", "This field may not be null."),
    (
        {"available_from": "2026-02-30"},
        "available_from",
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), INVALID)
def test_invalid_registration_is_refused_and_writes_nothing(
    changes: dict[str, Any],
    field: str,
    message: str,
    frozen_today: None,
    caseworker: User,
    client_for: ClientFor,
) -> None:
    before = counts()
    response = client_for(caseworker).post(URL, laborer_payload(**changes), format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}
    assert counts() == before


def test_missing_fields_are_each_reported(caseworker: User, client_for: ClientFor) -> None:
    response = client_for(caseworker).post(URL, {"name": "黄"}, format="json")

    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {
        "message": (
            "id_number: This field is required. phone: This field is required. "
            "county: This field is required. township: This field is required. "
            "available_from: This field is required."
        ),
        "extra": {
            "id_number": required,
            "phone": required,
            "county": required,
            "township": required,
            "available_from": required,
        },
    }
    assert Laborer.objects.count() == 0


# --- duplicates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", [ID_NUMBER, f" {ID_NUMBER} ", "４５１０８１１９８８０６０１００２１"]
)
def test_duplicate_id_number_answers_409_with_the_existing_id(
    typed: str, caseworker: User, client_for: ClientFor
) -> None:
    existing = LaborerFactory(id_number=ID_NUMBER)
    before = counts()

    response = client_for(caseworker).post(
        URL, laborer_payload(id_number=typed, phone="13712345678"), format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "message": "A laborer with this resident ID number is already registered.",
        "extra": {"existing_id": existing.pk},
    }
    assert counts() == before


def test_duplicate_of_another_countys_laborer_hides_the_existing_id(
    other_caseworker: User, client_for: ClientFor
) -> None:
    LaborerFactory(id_number=ID_NUMBER)  # 靖西市, not other_caseworker's county
    before = counts()

    response = client_for(other_caseworker).post(
        URL, laborer_payload(county="451002", township="451002001"), format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "message": (
            "A laborer with this resident ID number is already registered by another county office."
        ),
        "extra": {},
    }
    assert counts() == before


def test_changing_the_id_number_to_a_registered_one_answers_409(
    caseworker: User, client_for: ClientFor
) -> None:
    existing = LaborerFactory(id_number=ID_NUMBER)
    laborer = LaborerFactory()
    number = laborer.id_number

    response = client_for(caseworker).patch(
        detail(laborer), {"id_number": ID_NUMBER}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["extra"] == {"existing_id": existing.pk}
    laborer.refresh_from_db()
    assert laborer.id_number == number


# --- read ---------------------------------------------------------------------------------


def test_caseworker_reads_a_laborer_of_their_county_in_full(
    caseworker: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory(skills=[("cook", 4), ("cleaner", 1)])
    laborer.preferred_destinations.set(["441900119", "440306020"])

    response = client_for(caseworker).get(detail(laborer))

    assert response.status_code == 200
    body = response.json()
    assert body == laborer_json(laborer, full=True)
    assert body["skills"] == [
        {"occupation": "cleaner", "years": 1},
        {"occupation": "cook", "years": 4},
    ]
    assert body["preferred_destinations"] == ["440306020", "441900119"]


def test_another_countys_laborer_is_not_found(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory(county_id="451002", township_id="451002001")
    client = client_for(caseworker)

    assert client.get(detail(laborer)).json() == {"message": "Not found.", "extra": {}}
    assert client.get(detail(laborer)).status_code == 404
    assert client.get(detail(laborer.pk + 1000)).status_code == 404
    assert client.get(detail(laborer.pk + 1000)).json() == client.get(detail(laborer)).json()


def test_caseworker_lists_only_their_counties(
    caseworker: User, two_county_caseworker: User, client_for: ClientFor
) -> None:
    mine = [LaborerFactory(), LaborerFactory(township_id="451081102")]
    theirs = LaborerFactory(county_id="451002", township_id="451002001")

    body = client_for(caseworker).get(URL).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [lab.pk for lab in mine]

    body = client_for(two_county_caseworker).get(URL).json()
    assert [row["id"] for row in body["results"]] == [*(lab.pk for lab in mine), theirs.pk]


def test_list_is_paginated(caseworker: User, client_for: ClientFor) -> None:
    laborers = [LaborerFactory() for _ in range(3)]

    body = client_for(caseworker).get(URL, {"limit": 2, "offset": 1}).json()

    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/v1/laborers/?limit=2"
    assert body["results"] == [laborer_json(lab, full=True) for lab in laborers[1:]]


@pytest.fixture
def pool(db: None) -> dict[str, Laborer]:
    cook = LaborerFactory(
        name="黄国强",
        skills=[("cook", 5)],
        phone="13500001111",
        id_number=with_check("45108119800202001"),
    )
    sewer = LaborerFactory(name="农秀梅", skills=[("garment_sewer", 2)], township_id="451081102")
    employed = LaborerFactory(name="黄丽", status=LaborerStatus.EMPLOYED, skills=[])
    other = LaborerFactory(
        name="黄强", county_id="451002", township_id="451002001", skills=[("cook", 1)]
    )
    household = HouseholdFactory()
    Laborer.objects.filter(pk__in=[cook.pk, sewer.pk]).update(household=household)
    return {"cook": cook, "sewer": sewer, "employed": employed, "other": other}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["cook", "sewer", "employed", "other"]),
        ({"county": "451002"}, ["other"]),
        ({"county": "451081"}, ["cook", "sewer", "employed"]),
        ({"township": "451081102"}, ["sewer"]),
        ({"status": "employed"}, ["employed"]),
        ({"status": "registered", "county": "451081"}, ["cook", "sewer"]),
        ({"occupation": "cook"}, ["cook", "other"]),
        ({"occupation": "welder"}, []),
        ({"search": "黄"}, ["cook", "employed", "other"]),
        ({"search": "国强"}, ["cook"]),
        ({"search": "4510811980"}, ["cook"]),
        ({"search": "1350000"}, ["cook"]),
        ({"search": "00001111"}, []),  # phones and ID numbers match from the start only
        ({"search": "黄", "occupation": "cook", "county": "451002"}, ["other"]),
    ],
)
def test_filters_and_search(
    params: dict[str, str],
    expected: list[str],
    pool: dict[str, Laborer],
    supervisor: User,
    client_for: ClientFor,
) -> None:
    body = client_for(supervisor).get(URL, params).json()

    assert [row["id"] for row in body["results"]] == [pool[name].pk for name in expected]
    assert body["count"] == len(expected)


def test_household_filter(
    pool: dict[str, Laborer], supervisor: User, client_for: ClientFor
) -> None:
    pool["cook"].refresh_from_db()
    household_id = pool["cook"].household_id
    assert household_id is not None
    body = client_for(supervisor).get(URL, {"household": household_id}).json()

    assert [row["id"] for row in body["results"]] == [pool["cook"].pk, pool["sewer"].pk]


def test_filters_keep_a_caseworker_inside_their_counties(
    pool: dict[str, Laborer], caseworker: User, client_for: ClientFor
) -> None:
    client = client_for(caseworker)

    assert client.get(URL, {"county": "451002"}).json()["results"] == []
    assert client.get(URL, {"search": pool["other"].id_number}).json()["results"] == []


@pytest.mark.parametrize(
    ("params", "message", "extra"),
    [
        (
            {"status": "gone"},
            "status: Select a valid choice. gone is not one of the available choices.",
            {"status": ["Select a valid choice. gone is not one of the available choices."]},
        ),
        (
            {"county": "4510811"},
            "county: Ensure this value has at most 6 characters (it has 7).",
            {"county": ["Ensure this value has at most 6 characters (it has 7)."]},
        ),
        (
            {"household": "abc"},
            "household: Enter a number.",
            {"household": ["Enter a number."]},
        ),
    ],
)
def test_invalid_filters_answer_400(
    params: dict[str, str],
    message: str,
    extra: dict[str, list[str]],
    caseworker: User,
    client_for: ClientFor,
) -> None:
    response = client_for(caseworker).get(URL, params)

    assert response.status_code == 400
    assert response.json() == {"message": message, "extra": extra}


# --- masking ------------------------------------------------------------------------------


def test_coordinator_sees_masked_numbers(coordinator: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory(id_number="451081199003151239", phone="13812341234")

    detail_body = client_for(coordinator).get(detail(laborer)).json()
    list_body = client_for(coordinator).get(URL).json()

    assert detail_body == laborer_json(laborer, full=False)
    assert (detail_body["id_number"], detail_body["phone"]) == ("451081********1239", "138****1234")
    assert list_body["results"] == [detail_body]
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("role_fixture", ["supervisor", "admin_user"])
def test_supervisors_and_admins_see_every_county_in_full(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    user = request.getfixturevalue(role_fixture)
    laborers = [LaborerFactory(), LaborerFactory(county_id="451002", township_id="451002001")]

    body = client_for(user).get(URL).json()

    assert body["results"] == [laborer_json(lab, full=True) for lab in laborers]


def test_caseworker_of_two_counties_sees_both_in_full(
    two_county_caseworker: User, client_for: ClientFor
) -> None:
    laborers = [LaborerFactory(), LaborerFactory(county_id="451002", township_id="451002001")]

    body = client_for(two_county_caseworker).get(URL).json()

    assert body["results"] == [laborer_json(lab, full=True) for lab in laborers]


# --- access log ---------------------------------------------------------------------------


def log_rows() -> list[tuple[Any, ...]]:
    return list(
        AccessLog.objects.order_by("id").values_list(
            "user__username", "method", "endpoint", "laborer_ids", "laborer_count"
        )
    )


def test_every_full_read_is_logged_without_the_numbers(
    caseworker: User, client_for: ClientFor
) -> None:
    client = client_for(caseworker)
    created = client.post(URL, laborer_payload(), format="json").json()
    other = LaborerFactory()
    pk = created["id"]

    client.get(detail(pk))
    client.get(URL, {"search": ID_NUMBER[:10], "limit": 10})
    client.get(URL)
    client.patch(detail(pk), {"village": "新村"}, format="json")
    client.get(URL, {"county": "451002"})  # nothing shown: nothing logged

    assert log_rows() == [
        ("caseworker", "POST", "/api/v1/laborers/", [pk], 1),
        ("caseworker", "GET", f"/api/v1/laborers/{pk}/", [pk], 1),
        ("caseworker", "GET", "/api/v1/laborers/", [pk], 1),
        ("caseworker", "GET", "/api/v1/laborers/", sorted([pk, other.pk]), 2),
        ("caseworker", "PATCH", f"/api/v1/laborers/{pk}/", [pk], 1),
    ]
    stored = repr(list(AccessLog.objects.values()))
    for secret in (ID_NUMBER, ID_NUMBER[:10], PHONE, other.id_number, other.phone):
        assert secret not in stored


@pytest.mark.parametrize("role_fixture", ["coordinator", "other_caseworker"])
def test_masked_or_empty_reads_are_not_logged(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))
    laborer = LaborerFactory()

    client.get(URL)
    client.get(detail(laborer))

    assert AccessLog.objects.count() == 0


def test_supervisor_reads_are_logged_for_every_laborer_shown(
    supervisor: User, client_for: ClientFor
) -> None:
    laborers = [LaborerFactory(), LaborerFactory(county_id="451002", township_id="451002001")]

    client_for(supervisor).get(URL, {"limit": 1})

    assert log_rows() == [("supervisor", "GET", "/api/v1/laborers/", [laborers[0].pk], 1)]


def test_access_log_api(
    supervisor: User, caseworker: User, coordinator: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory()
    client_for(caseworker).get(detail(laborer))
    client_for(supervisor).get(URL)

    response = client_for(supervisor).get("/api/v1/access-log/")

    assert response.status_code == 200
    first, second = AccessLog.objects.order_by("id")
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": second.pk,
                "user": supervisor.pk,
                "username": "supervisor",
                "at": iso(second.at),
                "method": "GET",
                "endpoint": "/api/v1/laborers/",
                "laborer_ids": [laborer.pk],
                "laborer_count": 1,
            },
            {
                "id": first.pk,
                "user": caseworker.pk,
                "username": "caseworker",
                "at": iso(first.at),
                "method": "GET",
                "endpoint": f"/api/v1/laborers/{laborer.pk}/",
                "laborer_ids": [laborer.pk],
                "laborer_count": 1,
            },
        ],
    }
    by_user = client_for(supervisor).get("/api/v1/access-log/", {"user": caseworker.pk}).json()
    assert [row["id"] for row in by_user["results"]] == [first.pk]
    since = client_for(supervisor).get("/api/v1/access-log/", {"since": "2999-01-01T00:00:00Z"})
    assert since.json()["results"] == []
    bad = client_for(supervisor).get("/api/v1/access-log/", {"since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json() == {
        "message": "since: Enter a valid date/time.",
        "extra": {"since": ["Enter a valid date/time."]},
    }
    assert client_for(coordinator).get("/api/v1/access-log/").status_code == 403
    # Reading the log shows no personal data and is not itself logged.
    assert AccessLog.objects.count() == 2


# --- update -------------------------------------------------------------------------------


def test_caseworker_updates_a_laborer(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory()
    before = laborer.updated_at

    response = client_for(caseworker).patch(
        detail(laborer),
        {"phone": "+86 137 1234 5678", "skills": [{"occupation": "welder", "years": 6}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == laborer_json(laborer, full=True)
    laborer.refresh_from_db()
    assert laborer.phone == "13712345678"
    assert list(laborer.skills.values_list("occupation_id", "years")) == [("welder", 6)]
    assert laborer.updated_at > before


def test_put_replaces_the_whole_record(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory(skills=[("cook", 2)])
    payload = laborer_payload(skills=[], preferred_destinations=[], min_monthly_wage=None)

    response = client_for(caseworker).put(detail(laborer), payload, format="json")

    assert response.status_code == 200, response.json()
    laborer.refresh_from_db()
    assert (laborer.id_number, laborer.gender, laborer.birth_date, laborer.name) == (
        ID_NUMBER,
        "female",
        date(1988, 6, 1),
        "黄秀英",
    )
    assert laborer.min_monthly_wage is None
    assert laborer.skills.count() == 0
    assert response.json() == laborer_json(laborer, full=True)


def test_an_unchanged_update_writes_nothing(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory()
    before = laborer.updated_at

    response = client_for(caseworker).patch(
        detail(laborer), {"name": laborer.name, "phone": laborer.phone}, format="json"
    )

    assert response.status_code == 200
    laborer.refresh_from_db()
    assert laborer.updated_at == before


def test_status_cannot_be_written_through_the_api(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory()

    response = client_for(caseworker).patch(detail(laborer), {"status": "employed"}, format="json")

    assert response.status_code == 200
    laborer.refresh_from_db()
    assert laborer.status == LaborerStatus.REGISTERED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"county": "451002", "township": "451002001"},
            "county",
            "County 451002 is not one of the counties you answer for.",
        ),
        ({"township": "451002001"}, "township", "Township 451002001 is not in county 451081."),
        (
            {"county": "451081", "township": "451003100"},
            "township",
            "Township 451003100 is not in county 451081.",
        ),
        ({"phone": "1391234567"}, "phone", "Enter an 11-digit mainland mobile number."),
        ({"nickname": "x"}, "nickname", "Unknown field."),
    ],
)
def test_invalid_update_is_refused_and_writes_nothing(
    changes: dict[str, Any], field: str, message: str, caseworker: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory()
    expected = laborer_json(laborer, full=True)

    response = client_for(caseworker).patch(detail(laborer), changes, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}
    assert laborer_json(laborer, full=True) == expected


def test_caseworker_of_two_counties_moves_a_laborer(
    two_county_caseworker: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory()

    response = client_for(two_county_caseworker).patch(
        detail(laborer), {"county": "451002", "township": "451002001"}, format="json"
    )

    assert response.status_code == 200
    laborer.refresh_from_db()
    assert (laborer.county_id, laborer.township_id) == ("451002", "451002001")


def test_another_countys_laborer_cannot_be_updated_or_deleted(
    caseworker: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory(county_id="451002", township_id="451002001")
    expected = laborer_json(laborer, full=True)
    client = client_for(caseworker)

    for response in (
        client.patch(detail(laborer), {"name": "改"}, format="json"),
        client.put(detail(laborer), laborer_payload(), format="json"),
        client.delete(detail(laborer)),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Not found.", "extra": {}}
    assert laborer_json(laborer, full=True) == expected


# --- delete -------------------------------------------------------------------------------


def test_caseworker_deletes_a_registered_laborer(caseworker: User, client_for: ClientFor) -> None:
    laborer = LaborerFactory()

    response = client_for(caseworker).delete(detail(laborer))

    assert response.status_code == 204
    assert response.content == b""
    assert not Laborer.objects.filter(pk=laborer.pk).exists()
    assert LaborerSkill.objects.count() == 0


def test_a_laborer_past_registration_cannot_be_deleted(
    caseworker: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory(status=LaborerStatus.MATCHED)

    response = client_for(caseworker).delete(detail(laborer))

    assert response.status_code == 409
    assert response.json() == {
        "message": "This laborer is matched: only laborers still registered can be deleted.",
        "extra": {},
    }
    assert Laborer.objects.filter(pk=laborer.pk).exists()


def test_deleting_a_member_dissolves_a_household_of_two(
    caseworker: User, client_for: ClientFor
) -> None:
    pair = HouseholdFactory()
    trio = HouseholdFactory()
    a, b = LaborerFactory(household=pair), LaborerFactory(household=pair)
    c, d, e = (LaborerFactory(household=trio) for _ in range(3))
    client = client_for(caseworker)

    assert client.delete(detail(a)).status_code == 204
    assert client.delete(detail(c)).status_code == 204

    b.refresh_from_db()
    assert b.household_id is None
    assert not type(pair).objects.filter(pk=pair.pk).exists()
    assert sorted(trio.members.values_list("pk", flat=True)) == [d.pk, e.pk]


def test_masked_callers_cannot_probe_hidden_digits_by_search(
    coordinator: User, client_for: ClientFor
) -> None:
    laborer = LaborerFactory(id_number="451081199003151239", phone="13812341234")
    client = client_for(coordinator)

    # The masked view shows 451081********1239; a prefix search must not confirm digit 7.
    hits = [
        digit
        for digit in "0123456789"
        if client.get(URL, {"search": f"451081{digit}"}).json()["count"]
    ]
    assert hits in ([], list("0123456789"))
    assert client.get(URL, {"search": laborer.phone[:5]}).json()["count"] == 0
