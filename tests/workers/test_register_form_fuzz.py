"""Hostile form data against the caseworkers' /register/ form: never a 500, a refusal is a
400 that writes nothing, and no other county's laborer is shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jobmatch.models import Role
from tests.factories import EmployerAccountFactory, LaborerFactory, UserFactory, mobile, resident_id
from workers.models import Household, Laborer, LaborerSkill, StatusEvent

pytestmark = pytest.mark.django_db

LONG = "韦" * 300  # well over every limit, cheap to render
HUGE = str(10**30)


@pytest.fixture
def browser(caseworker) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(caseworker)
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "韦小梅",
        "id_number": resident_id(7, male=False),
        "phone": mobile(7),
        "county": "451081",
        "township": "451081100",
        "village": "新靖村",
        "skill_1_occupation": "electronics_operator",
        "skill_1_years": "3",
        "preferred_destinations": ["440300", "441900"],
        "min_monthly_wage": "4500",
        "available_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "poverty_alleviated": "on",
        "consent_to_share": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def written() -> tuple[int, ...]:
    return (
        Laborer.objects.count(),
        LaborerSkill.objects.count(),
        StatusEvent.objects.count(),
        Household.objects.count(),
    )


REFUSED = [
    {},
    form_data(name=None),
    form_data(name=""),
    form_data(name=LONG),
    form_data(name="韦\x00小梅"),
    form_data(name=["韦小梅", ""]),  # the last of repeated values counts
    form_data(id_number=None),
    form_data(id_number=""),
    form_data(id_number="451081199003150149"),  # check character wrong
    form_data(id_number="451081199002300148"),  # 30 February
    form_data(id_number="999999199003150148"),
    form_data(id_number=LONG),
    form_data(id_number="4510811990031501\x0048"),
    form_data(id_number=resident_id(7, birth=timezone.localdate() - timedelta(days=365 * 10))),
    form_data(id_number=[resident_id(7, male=False), "x"]),
    form_data(phone=None),
    form_data(phone="12345"),
    form_data(phone=LONG),
    form_data(phone="138\x0000000007"),
    form_data(county=None),
    form_data(county="451002", township="451002001"),  # another caseworker's county
    form_data(county="999999"),
    form_data(county=LONG),
    form_data(county="4510\x0081"),
    form_data(county=["451081", "451002"]),
    form_data(township=None),
    form_data(township="451002001"),  # a township of another county
    form_data(township="999999999"),
    form_data(township="451081\x00100"),
    form_data(village=LONG),
    form_data(village="新\x00靖"),
    form_data(preferred_destinations=["nowhere"]),
    form_data(preferred_destinations=[LONG]),
    form_data(preferred_destinations=["4403\x0000"]),
    form_data(preferred_destinations=["440300"] * 11),
    form_data(min_monthly_wage="-1"),
    form_data(min_monthly_wage="abc"),
    form_data(min_monthly_wage="1e400"),
    form_data(min_monthly_wage="4500.5"),
    form_data(min_monthly_wage=HUGE),
    form_data(min_monthly_wage="9" * 5000),
    form_data(min_monthly_wage="45\x0000"),
    form_data(min_monthly_wage="NaN"),
    form_data(available_from=None),
    form_data(available_from=""),
    form_data(available_from="2026-02-30"),
    form_data(available_from="0000-01-01"),
    form_data(available_from="10000-01-01"),
    form_data(available_from=LONG),
    form_data(available_from="2026-07-0\x001"),
    form_data(skill_1_occupation="astronaut"),
    form_data(skill_1_occupation="welder\x00"),
    form_data(skill_1_years="-1"),
    form_data(skill_1_years="abc"),
    form_data(skill_1_years=HUGE),
    form_data(skill_1_years="1e400"),
    form_data(skill_2_occupation="electronics_operator"),  # the same occupation twice
    form_data(skill_3_occupation="welder", skill_3_years="-5"),
    form_data(skill_2_occupation="nope", skill_2_years="x", skill_3_occupation="welder"),
]

# Odd, but registrations: only the rules of the API apply.
TAKEN = [
    form_data(skill_2_years="7"),  # years without an occupation: the row is left out
    form_data(poverty_alleviated="true", consent_to_share="1"),  # only "on" ticks a box
    form_data(skill_9_occupation="welder", unknown_field="x", id="5", created_by="1"),
    form_data(preferred_destinations=["440300", "440300"]),
    form_data(min_monthly_wage=""),
    form_data(name=["x", "韦小梅"]),  # the last of repeated values counts
]


def test_hostile_registrations_are_refused_and_write_nothing(browser) -> None:
    failures = []
    for data in REFUSED:
        before = written()
        response = browser.post("/register/", data)
        problems = []
        if response.status_code != 400:
            problems.append(response.status_code)
        elif b'<form method="post"' not in response.content:
            problems.append("no form")
        if written() != before:
            problems.append("written")
        if problems:
            failures.append(({k: str(v)[:40] for k, v in data.items()}, problems))
    assert failures == []


@pytest.mark.parametrize("data", TAKEN, ids=range(len(TAKEN)))
def test_odd_but_valid_registrations_are_taken(browser, data) -> None:
    response = browser.post("/register/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Laborer.objects.count() == 1


def test_a_second_of_one_person_is_refused(browser) -> None:
    assert browser.post("/register/", form_data()).status_code == 302
    again = form_data(id_number=" " + resident_id(7, male=False).lower() + " ")
    response = browser.post("/register/", again)
    assert response.status_code == 400
    assert Laborer.objects.count() == 1


def test_a_second_of_one_person_in_other_digits_is_refused(browser) -> None:
    number = resident_id(7, male=False)
    assert browser.post("/register/", form_data()).status_code == 302
    arabic = number[:6] + "".join(chr(0x660 + int(c)) for c in number[6:17]) + number[17]
    response = browser.post("/register/", form_data(id_number=arabic))
    assert response.status_code == 400
    assert Laborer.objects.count() == 1


def test_no_other_countys_laborer_is_shown_on_a_duplicate(browser) -> None:
    other = LaborerFactory(
        county_id="451002", township_id="451002001", name="黄秘密", phone=mobile(99)
    )
    before = written()
    response = browser.post("/register/", form_data(id_number=other.id_number))
    assert response.status_code == 400
    page = response.content.decode()
    assert "another county office" in page
    assert "黄秘密" not in page and mobile(99) not in page
    assert str(other.pk) not in page.split("<form", 1)[1].split("csrfmiddlewaretoken")[0]
    assert written() == before


@pytest.mark.parametrize("role", [Role.EMPLOYER, Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN])
def test_other_roles_write_nothing(role) -> None:
    if role == Role.EMPLOYER:
        user = EmployerAccountFactory().user
    else:
        user = UserFactory(role=role, counties=["451081"])
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for data in (form_data(), {}, form_data(county=LONG)):
        assert client.post("/register/", data).status_code == 403
    assert written() == (0, 0, 0, 0)


def test_strangers_and_bad_methods_write_nothing(browser) -> None:
    stranger = Client(raise_request_exception=False)
    assert stranger.post("/register/", form_data()).status_code == 302
    for method in ("put", "patch", "delete"):
        response = getattr(browser, method)("/register/", form_data())
        assert response.status_code == 405, method
    for content_type in ("application/json", "text/plain", "multipart/form-data; boundary=x"):
        response = browser.post("/register/", b'{"name": "x"}', content_type=content_type)
        assert response.status_code == 400, content_type
    assert written() == (0, 0, 0, 0)


def test_too_many_fields_are_refused(browser) -> None:
    data = form_data(preferred_destinations=["440300"] * 1100)
    response = browser.post("/register/", data)
    assert response.status_code == 400
    assert written() == (0, 0, 0, 0)
