"""The caseworkers' web form: same rules as the API, values kept on error, nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jobmatch.models import Role
from tests.factories import LaborerFactory, UserFactory, mobile, resident_id
from workers.models import Laborer, LaborerSkill, StatusEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(caseworker) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
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
        "skill_2_occupation": "",
        "skill_2_years": "",
        "skill_3_occupation": "welder",
        "skill_3_years": "",
        "preferred_destinations": ["440300", "441900"],
        "min_monthly_wage": "4500",
        "available_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "poverty_alleviated": "on",
        "consent_to_share": "on",
    }
    data.update(changes)
    return data


def test_strangers_are_sent_to_log_in() -> None:
    response = Client().get("/register/")
    assert response.status_code == 302
    assert response["Location"] == "/api/auth/login/?next=/register/"


@pytest.mark.parametrize("role", [Role.EMPLOYER, Role.COORDINATOR, Role.SUPERVISOR])
def test_only_caseworkers_register(role) -> None:
    client = Client()
    client.force_login(UserFactory(role=role))
    assert client.get("/register/").status_code == 403
    assert client.post("/register/", form_data()).status_code == 403
    assert not Laborer.objects.exists()


def test_the_form_offers_only_the_caseworkers_counties(browser) -> None:
    page = browser.get("/register/").content.decode()
    assert '<option value="451081">靖西市</option>' in page
    assert 'value="451081100"' in page
    assert "451002" not in page  # 右江区 belongs to another office
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_valid_registration_is_saved_like_the_apis(browser, caseworker) -> None:
    response = browser.post("/register/", form_data())
    assert response.status_code == 302
    assert response["Location"] == "/register/"
    laborer = Laborer.objects.get()
    assert (
        laborer.name,
        laborer.id_number,
        laborer.gender,
        laborer.phone,
        laborer.county_id,
        laborer.township_id,
        laborer.village,
        laborer.min_monthly_wage,
        laborer.poverty_alleviated,
        laborer.monitored_household,
        laborer.consent_to_share,
        laborer.status,
        laborer.created_by,
    ) == (
        "韦小梅",
        resident_id(7, male=False),
        "female",
        mobile(7),
        "451081",
        "451081100",
        "新靖村",
        4500,
        True,
        False,
        True,
        "registered",
        caseworker,
    )
    assert sorted(LaborerSkill.objects.values_list("occupation_id", "years")) == [
        ("electronics_operator", 3),
        ("welder", 0),
    ]
    assert sorted(laborer.preferred_destinations.values_list("code", flat=True)) == [
        "440300",
        "441900",
    ]
    assert StatusEvent.objects.filter(laborer=laborer, to_status="registered").count() == 1
    page = browser.get("/register/").content.decode()
    assert f"已登记:韦小梅(编号 {laborer.pk})" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"id_number": resident_id(7)[:-1] + ("0" if resident_id(7)[-1] != "0" else "1")},
            "The check character of the resident ID number is wrong.",
        ),
        ({"township": "451002001"}, "Township 451002001 is not in county 451081."),
        ({"skill_3_years": "-2"}, "Ensure this value is greater than or equal to 0."),
        ({"available_from": ""}, "This field is required."),
    ],
)
def test_a_refused_registration_writes_nothing_and_keeps_the_values(
    browser, changes, message
) -> None:
    response = browser.post("/register/", form_data(**changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'value="韦小梅"' in page  # what was typed is still there
    assert not Laborer.objects.exists()
    assert not StatusEvent.objects.exists()


def test_a_second_registration_of_one_id_is_refused(browser) -> None:
    LaborerFactory(id_number=resident_id(7, male=False))
    response = browser.post("/register/", form_data())
    assert response.status_code == 400
    assert "A laborer with this resident ID number is already registered." in (
        response.content.decode()
    )
    assert Laborer.objects.count() == 1


def test_the_form_needs_its_csrf_token(caseworker) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker)
    assert client.post("/register/", form_data()).status_code == 403
    assert not Laborer.objects.exists()
