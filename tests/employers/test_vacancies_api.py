"""/api/v1/vacancies/: an employer's own vacancies, the legal minimum wage, no gender rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from employers import services
from employers.models import Employer, Vacancy, VacancyStatus
from jobmatch.models import Role, User
from tests.factories import EmployerFactory, UserFactory, VacancyFactory
from tests.factories_extra import (  # noqa: F401
    _fast_password_hashing,
    in_days,
    iso,
    vacancy_payload,
)

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/vacancies/"
GENDER = (
    "Gender requirements are not accepted: vacancies are open to women and men alike "
    "(equal employment)."
)

ClientFor = Callable[[User | None], APIClient]


def detail(vacancy: Vacancy | int) -> str:
    return f"{URL}{vacancy if isinstance(vacancy, int) else vacancy.pk}/"


def vacancy_json(vacancy: Vacancy) -> dict[str, Any]:
    vacancy.refresh_from_db()
    return {
        "id": vacancy.pk,
        "employer": vacancy.employer_id,
        "title": vacancy.title,
        "occupation": vacancy.occupation_id,
        "openings": vacancy.openings,
        "openings_left": vacancy.openings_left,
        "wage_min": vacancy.wage_min,
        "wage_max": vacancy.wage_max,
        "destination": vacancy.destination_id,
        "age_min": vacancy.age_min,
        "age_max": vacancy.age_max,
        "start_date": vacancy.start_date.isoformat(),
        "end_date": vacancy.end_date.isoformat() if vacancy.end_date else None,
        "accommodation": vacancy.accommodation,
        "meals": vacancy.meals,
        "status": vacancy.status,
        "created_at": iso(vacancy.created_at),
        "updated_at": iso(vacancy.updated_at),
    }


def snapshot() -> list[dict[str, Any]]:
    return list(Vacancy.objects.order_by("id").values())


@pytest.fixture
def own_employer(employer_user: User) -> Employer:
    return employer_user.employer_account.employer


@pytest.fixture
def employer_client(employer_user: User, client_for: ClientFor) -> APIClient:
    return client_for(employer_user)


# --- create -------------------------------------------------------------------------------


def test_an_employer_posts_a_vacancy_for_itself(
    own_employer: Employer, employer_user: User, employer_client: APIClient
) -> None:
    start = in_days(30)

    response = employer_client.post(URL, vacancy_payload(), format="json")

    assert response.status_code == 201, response.json()
    vacancy = Vacancy.objects.get()
    assert response.json() == {
        "id": vacancy.pk,
        "employer": own_employer.pk,
        "title": "SMT 操作工",
        "occupation": "electronics_operator",
        "openings": 20,
        "openings_left": 20,
        "wage_min": 4800,
        "wage_max": 6800,
        "destination": "440306020",
        "age_min": 18,
        "age_max": 45,
        "start_date": start.isoformat(),
        "end_date": None,
        "accommodation": True,
        "meals": False,
        "status": "open",
        "created_at": iso(vacancy.created_at),
        "updated_at": iso(vacancy.updated_at),
    }
    assert vacancy.created_by == employer_user


def test_defaults_and_read_only_openings_left(
    own_employer: Employer, employer_client: APIClient
) -> None:
    payload = vacancy_payload(openings_left=999, id=5, created_at="2000-01-01T00:00:00Z")
    for key in ("age_min", "age_max", "end_date", "accommodation", "meals", "status"):
        del payload[key]

    response = employer_client.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    vacancy = Vacancy.objects.get()
    assert (vacancy.openings, vacancy.openings_left) == (20, 20)
    assert (vacancy.age_min, vacancy.age_max, vacancy.end_date, vacancy.status) == (
        16,
        60,
        None,
        "open",
    )
    assert (vacancy.accommodation, vacancy.meals) == (False, False)


def test_an_employer_may_name_itself(own_employer: Employer, employer_client: APIClient) -> None:
    response = employer_client.post(URL, vacancy_payload(employer=own_employer.pk), format="json")

    assert response.status_code == 201
    assert Vacancy.objects.get().employer == own_employer


def test_an_employer_cannot_post_for_another_employer(
    own_employer: Employer, employer_client: APIClient
) -> None:
    other = EmployerFactory()

    response = employer_client.post(URL, vacancy_payload(employer=other.pk), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "employer: You may post vacancies only for your own employer.",
        "extra": {"employer": ["You may post vacancies only for your own employer."]},
    }
    assert Vacancy.objects.count() == 0


def test_an_unlinked_employer_account_cannot_post(db: None, client_for: ClientFor) -> None:
    user = UserFactory(role=Role.EMPLOYER)

    response = client_for(user).post(URL, vacancy_payload(), format="json")

    assert response.status_code == 403
    assert response.json() == {"message": "This account is not linked to an employer.", "extra": {}}
    assert Vacancy.objects.count() == 0


@pytest.mark.parametrize("role_fixture", ["coordinator", "admin_user"])
def test_coordinators_and_admins_post_for_any_employer(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    user = request.getfixturevalue(role_fixture)
    employer = EmployerFactory()

    response = client_for(user).post(URL, vacancy_payload(employer=employer.pk), format="json")

    assert response.status_code == 201, response.json()
    vacancy = Vacancy.objects.get()
    assert (vacancy.employer, vacancy.created_by) == (employer, user)
    assert response.json() == vacancy_json(vacancy)


@pytest.mark.parametrize(
    ("employer", "message"),
    [(None, "This field is required."), (987654, "Unknown employer 987654.")],
)
def test_coordinator_must_name_an_existing_employer(
    employer: int | None, message: str, coordinator: User, client_for: ClientFor
) -> None:
    payload = vacancy_payload() if employer is None else vacancy_payload(employer=employer)

    response = client_for(coordinator).post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"employer: {message}", "extra": {"employer": [message]}}
    assert Vacancy.objects.count() == 0


def test_saving_runs_the_saved_hooks_on_commit(
    own_employer: Employer,
    employer_client: APIClient,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(services, "vacancy_saved_hooks", [seen.append])

    with django_capture_on_commit_callbacks(execute=True):
        created = employer_client.post(URL, vacancy_payload(), format="json").json()
        employer_client.patch(detail(created["id"]), {"openings": 30}, format="json")
        employer_client.post(URL, vacancy_payload(wage_min=100), format="json")

    assert seen == [[created["id"]], [created["id"]]]


# --- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "wage_min", "city", "minimum"),
    [
        ("440306020", 2519, "深圳市", 2520),  # 福永街道
        ("440300", 2000, "深圳市", 2520),
        ("441900119", 2079, "东莞市", 2080),  # 长安镇
        ("440100", 2499, "广州市", 2500),
    ],
)
def test_wage_below_the_legal_minimum_is_refused(
    destination: str,
    wage_min: int,
    city: str,
    minimum: int,
    own_employer: Employer,
    employer_client: APIClient,
) -> None:
    start = in_days(30)
    payload = vacancy_payload(destination=destination, wage_min=wage_min, wage_max=6000)

    response = employer_client.post(URL, payload, format="json")

    message = (
        f"{wage_min} yuan is below the legal minimum wage of {city} on {start.isoformat()} "
        f"({minimum} yuan a month)."
    )
    assert response.status_code == 400
    assert response.json() == {"message": f"wage_min: {message}", "extra": {"wage_min": [message]}}
    assert Vacancy.objects.count() == 0


@pytest.mark.parametrize(
    ("destination", "wage_min"), [("440306020", 2520), ("441900119", 2080), ("441300", 1850)]
)
def test_wage_at_the_legal_minimum_is_accepted(
    destination: str, wage_min: int, own_employer: Employer, employer_client: APIClient
) -> None:
    payload = vacancy_payload(destination=destination, wage_min=wage_min, wage_max=wage_min)

    response = employer_client.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("start", "status"),
    [
        (date(2025, 2, 28), 201),  # 2,360 yuan in force until then
        (date(2025, 3, 1), 400),  # 2,520 yuan from 2025-03-01
    ],
)
def test_the_minimum_wage_in_force_on_the_start_date_applies(
    start: date, status: int, own_employer: Employer, employer_client: APIClient
) -> None:
    payload = vacancy_payload(wage_min=2400, wage_max=3000, start_date=start.isoformat())

    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        response = employer_client.post(URL, payload, format="json")

    assert response.status_code == status, response.json()
    if status == 400:
        assert response.json()["extra"] == {
            "wage_min": [
                "2400 yuan is below the legal minimum wage of 深圳市 on 2025-03-01 "
                "(2520 yuan a month)."
            ]
        }


INVALID = [
    ({"wage_max": 4000}, "wage_max", "wage_max must be at least wage_min."),
    ({"age_min": 40, "age_max": 30}, "age_max", "age_max must be at least age_min."),
    ({"start_date": in_days(-1).isoformat()}, "start_date", "start_date is in the past."),
    (
        {"end_date": in_days(29).isoformat()},
        "end_date",
        "end_date must not be before start_date.",
    ),
    ({"age_min": 15}, "age_min", "Ensure this value is greater than or equal to 16."),
    ({"age_max": 66}, "age_max", "Ensure this value is less than or equal to 65."),
    ({"openings": 0}, "openings", "Ensure this value is greater than or equal to 1."),
    ({"openings": -5}, "openings", "Ensure this value is greater than or equal to 1."),
    ({"openings": 2.5}, "openings", "A valid integer is required."),
    ({"wage_min": 0}, "wage_min", "Ensure this value is greater than or equal to 1."),
    ({"wage_min": 4800.5}, "wage_min", "A valid integer is required."),
    ({"wage_max": 1_000_001}, "wage_max", "Ensure this value is less than or equal to 1000000."),
    ({"occupation": "astronaut"}, "occupation", "Unknown occupation 'astronaut'."),
    ({"destination": "451081"}, "destination", "Unknown destination code '451081'."),
    ({"status": "filled"}, "status", '"filled" is not a valid choice.'),
    (
        {"start_date": "next month"},
        "start_date",
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    ),
    ({"title": ""}, "title", "This field may not be blank."),
    ({"bonus": 500}, "bonus", "Unknown field."),
    ({"gender": "female"}, "gender", GENDER),
    ({"gender": None}, "gender", GENDER),
    ({"sex": "male"}, "sex", GENDER),
    ({"性别": "女"}, "性别", GENDER),
    ({"gender_requirement": "any"}, "gender_requirement", GENDER),
    ({"preferred_Gender": "female"}, "preferred_Gender", GENDER),
]


@pytest.mark.parametrize(("changes", "field", "message"), INVALID)
def test_invalid_vacancies_are_refused(
    changes: dict[str, Any],
    field: str,
    message: str,
    own_employer: Employer,
    employer_client: APIClient,
) -> None:
    response = employer_client.post(URL, vacancy_payload(**changes), format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}
    assert Vacancy.objects.count() == 0


def test_every_broken_rule_is_reported(own_employer: Employer, employer_client: APIClient) -> None:
    start = in_days(30)
    payload = vacancy_payload(wage_min=2000, wage_max=1500, age_min=50, age_max=20)

    response = employer_client.post(URL, payload, format="json")

    assert response.status_code == 400
    wage = (
        f"2000 yuan is below the legal minimum wage of 深圳市 on {start.isoformat()} "
        "(2520 yuan a month)."
    )
    assert response.json() == {
        "message": (
            "wage_max: wage_max must be at least wage_min. "
            "age_max: age_max must be at least age_min. "
            f"wage_min: {wage}"
        ),
        "extra": {
            "wage_max": ["wage_max must be at least wage_min."],
            "age_max": ["age_max must be at least age_min."],
            "wage_min": [wage],
        },
    }


def test_gender_requirements_are_refused_in_form_posts_too(
    own_employer: Employer, employer_client: APIClient
) -> None:
    payload = {k: v for k, v in vacancy_payload(gender="female").items() if v is not None}

    response = employer_client.post(URL, payload, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"message": f"gender: {GENDER}", "extra": {"gender": [GENDER]}}
    assert Vacancy.objects.count() == 0


# --- read ---------------------------------------------------------------------------------


@pytest.fixture
def vacancies(own_employer: Employer) -> dict[str, Vacancy]:
    return {
        "own": VacancyFactory(employer=own_employer, title="电子厂普工"),
        "own_closed": VacancyFactory(
            employer=own_employer,
            title="仓库分拣员",
            occupation_id="warehouse_picker",
            status=VacancyStatus.CLOSED,
            start_date=in_days(60),
        ),
        "other": VacancyFactory(
            title="制衣车位工",
            occupation_id="garment_sewer",
            destination_id="441900119",
            wage_min=4200,
            start_date=in_days(90),
        ),
    }


def test_an_employer_reads_only_its_own_vacancies(
    vacancies: dict[str, Vacancy], employer_client: APIClient
) -> None:
    body = employer_client.get(URL).json()

    assert body == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [vacancy_json(vacancies["own"]), vacancy_json(vacancies["own_closed"])],
    }
    response = employer_client.get(detail(vacancies["other"]))
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}
    assert employer_client.get(URL, {"employer": vacancies["other"].employer_id}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("role_fixture", ["caseworker", "coordinator", "supervisor", "admin_user"])
def test_staff_read_every_vacancy(
    role_fixture: str,
    vacancies: dict[str, Vacancy],
    request: pytest.FixtureRequest,
    client_for: ClientFor,
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))

    body = client.get(URL).json()

    assert body["results"] == [vacancy_json(v) for v in vacancies.values()]
    assert client.get(detail(vacancies["other"])).json() == vacancy_json(vacancies["other"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "closed"}, ["own_closed"]),
        ({"status": "open"}, ["own", "other"]),
        ({"occupation": "garment_sewer"}, ["other"]),
        ({"destination": "441900119"}, ["other"]),
        ({"start_from": in_days(45).isoformat()}, ["own_closed", "other"]),
        ({"start_to": in_days(60).isoformat()}, ["own", "own_closed"]),
        ({"search": "普工"}, ["own"]),
        ({"occupation": "electronics_operator", "status": "closed"}, []),
    ],
)
def test_vacancy_filters(
    params: dict[str, str],
    expected: list[str],
    vacancies: dict[str, Vacancy],
    coordinator: User,
    client_for: ClientFor,
) -> None:
    body = client_for(coordinator).get(URL, params).json()

    assert [row["id"] for row in body["results"]] == [vacancies[k].pk for k in expected]


def test_employer_filter(
    vacancies: dict[str, Vacancy], own_employer: Employer, coordinator: User, client_for: ClientFor
) -> None:
    body = client_for(coordinator).get(URL, {"employer": own_employer.pk}).json()

    assert [row["id"] for row in body["results"]] == [
        vacancies["own"].pk,
        vacancies["own_closed"].pk,
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"status": "gone"},
            "status",
            "Select a valid choice. gone is not one of the available choices.",
        ),
        ({"start_from": "2026-13-01"}, "start_from", "Enter a valid date."),
        ({"employer": "abc"}, "employer", "Enter a number."),
    ],
)
def test_invalid_vacancy_filters_answer_400(
    params: dict[str, str], field: str, message: str, coordinator: User, client_for: ClientFor
) -> None:
    response = client_for(coordinator).get(URL, params)

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}


# --- update and delete --------------------------------------------------------------------


def test_an_employer_edits_its_own_vacancy(
    vacancies: dict[str, Vacancy], employer_client: APIClient
) -> None:
    vacancy = vacancies["own"]

    response = employer_client.patch(
        detail(vacancy), {"wage_min": 5000, "wage_max": 7000, "meals": False}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == vacancy_json(vacancy)
    assert (vacancy.wage_min, vacancy.wage_max, vacancy.meals) == (5000, 7000, False)


def test_an_employer_cannot_move_a_vacancy_to_another_employer(
    vacancies: dict[str, Vacancy], employer_client: APIClient
) -> None:
    before = snapshot()

    response = employer_client.patch(
        detail(vacancies["own"]), {"employer": vacancies["other"].employer_id}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"] == {
        "employer": ["You may post vacancies only for your own employer."]
    }
    assert snapshot() == before


def test_an_employer_cannot_touch_another_employers_vacancy(
    vacancies: dict[str, Vacancy], employer_client: APIClient
) -> None:
    other = vacancies["other"]
    before = snapshot()

    for response in (
        employer_client.patch(detail(other), {"title": "改"}, format="json"),
        employer_client.put(detail(other), vacancy_payload(), format="json"),
        employer_client.delete(detail(other)),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Not found.", "extra": {}}
    assert snapshot() == before


def test_coordinator_moves_a_vacancy_to_another_employer(
    vacancies: dict[str, Vacancy], coordinator: User, client_for: ClientFor
) -> None:
    vacancy, target = vacancies["own"], vacancies["other"].employer

    response = client_for(coordinator).patch(
        detail(vacancy), {"employer": target.pk}, format="json"
    )

    assert response.status_code == 200
    vacancy.refresh_from_db()
    assert vacancy.employer == target


def test_put_replaces_a_vacancy(vacancies: dict[str, Vacancy], employer_client: APIClient) -> None:
    vacancy = vacancies["own"]
    payload = vacancy_payload(title="新岗位", openings=5, openings_left=1)

    response = employer_client.put(detail(vacancy), payload, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == vacancy_json(vacancy)
    assert (vacancy.title, vacancy.openings, vacancy.openings_left) == ("新岗位", 5, 5)


@pytest.fixture
def taken_three(own_employer: Employer) -> Vacancy:
    """Ten openings of which three were accepted already."""
    return VacancyFactory(employer=own_employer, openings=10, openings_left=7)


@pytest.mark.parametrize(
    ("openings", "left", "status"), [(12, 9, "open"), (3, 0, "filled"), (10, 7, "open")]
)
def test_openings_left_follows_openings(
    openings: int, left: int, status: str, taken_three: Vacancy, employer_client: APIClient
) -> None:
    response = employer_client.patch(
        detail(taken_three), {"openings": openings, "title": "改"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["openings_left"], response.json()["status"]) == (left, status)
    taken_three.refresh_from_db()
    assert (taken_three.openings, taken_three.openings_left, taken_three.status) == (
        openings,
        left,
        status,
    )


def test_openings_cannot_drop_below_those_accepted(
    taken_three: Vacancy, employer_client: APIClient
) -> None:
    before = snapshot()

    response = employer_client.patch(detail(taken_three), {"openings": 2}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "openings: openings cannot be fewer than the 3 already accepted.",
        "extra": {"openings": ["openings cannot be fewer than the 3 already accepted."]},
    }
    assert snapshot() == before


def test_rules_apply_to_updates(vacancies: dict[str, Vacancy], employer_client: APIClient) -> None:
    vacancy = vacancies["own"]
    before = snapshot()
    client = employer_client

    wage = client.patch(detail(vacancy), {"wage_min": 2000}, format="json")
    order = client.patch(detail(vacancy), {"wage_max": 1000}, format="json")
    past = client.patch(detail(vacancy), {"start_date": in_days(-3).isoformat()}, format="json")
    gender = client.patch(detail(vacancy), {"gender": "male"}, format="json")

    assert wage.status_code == order.status_code == past.status_code == gender.status_code == 400
    assert list(wage.json()["extra"]) == ["wage_min"]
    assert order.json()["extra"] == {"wage_max": ["wage_max must be at least wage_min."]}
    assert past.json()["extra"] == {"start_date": ["start_date is in the past."]}
    assert gender.json()["extra"] == {"gender": [GENDER]}
    assert snapshot() == before


def test_a_started_vacancy_can_still_be_edited(
    own_employer: Employer, employer_client: APIClient
) -> None:
    # Posted under the 2022 rate, started last year: its own dates and wage are history.
    vacancy = VacancyFactory(
        employer=own_employer, wage_min=2400, wage_max=3000, start_date=date(2025, 1, 6)
    )

    response = employer_client.patch(
        detail(vacancy), {"status": "closed", "openings": 12}, format="json"
    )

    assert response.status_code == 200, response.json()
    vacancy.refresh_from_db()
    assert (vacancy.status, vacancy.openings) == ("closed", 12)
    assert vacancy.start_date == date(2025, 1, 6)


def test_an_employer_deletes_its_own_vacancy(
    vacancies: dict[str, Vacancy], employer_client: APIClient
) -> None:
    response = employer_client.delete(detail(vacancies["own"]))

    assert response.status_code == 204
    assert not Vacancy.objects.filter(pk=vacancies["own"].pk).exists()
    assert Vacancy.objects.count() == 2


@pytest.mark.parametrize("role_fixture", ["coordinator", "admin_user"])
def test_coordinators_and_admins_delete_any_vacancy(
    role_fixture: str,
    vacancies: dict[str, Vacancy],
    request: pytest.FixtureRequest,
    client_for: ClientFor,
) -> None:
    response = client_for(request.getfixturevalue(role_fixture)).delete(detail(vacancies["other"]))

    assert response.status_code == 204
    assert Vacancy.objects.count() == 2


def test_a_vacancy_may_start_today(own_employer: Employer, employer_client: APIClient) -> None:
    response = employer_client.post(
        URL, vacancy_payload(start_date=in_days(0).isoformat()), format="json"
    )

    assert response.status_code == 201
    assert Vacancy.objects.get().start_date == in_days(0)
