"""/api/v1/employers/: credit codes, uniqueness, verification and the employer's own record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from employers.models import Employer, EmployerAccount
from jobmatch.identifiers import USCC_ALPHABET
from jobmatch.models import Role, User
from tests.factories import EmployerFactory, UserFactory, VacancyFactory
from tests.factories_extra import (  # noqa: F401
    USCC,
    _fast_password_hashing,
    employer_payload,
    iso,
    with_uscc_check,
)

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

URL = "/api/v1/employers/"

ClientFor = Callable[[User | None], APIClient]

USCC_SHAPE = (
    "A unified social credit code has 18 characters: digits and capital letters "
    "except I, O, S, V and Z."
)


def detail(employer: Employer | int) -> str:
    return f"{URL}{employer if isinstance(employer, int) else employer.pk}/"


def employer_json(employer: Employer) -> dict[str, Any]:
    employer.refresh_from_db()
    return {
        "id": employer.pk,
        "name": employer.name,
        "uscc": employer.uscc,
        "destination": employer.destination_id,
        "address": employer.address,
        "contact_name": employer.contact_name,
        "contact_phone": employer.contact_phone,
        "verified": employer.verified,
        "created_at": iso(employer.created_at),
        "updated_at": iso(employer.updated_at),
    }


def snapshot() -> list[dict[str, Any]]:
    return list(Employer.objects.order_by("id").values())


def wrong_check(code: str) -> str:
    return code[:17] + next(ch for ch in USCC_ALPHABET if ch != code[17])


@pytest.fixture
def own_employer(employer_user: User) -> Employer:
    return employer_user.employer_account.employer


# --- create -------------------------------------------------------------------------------


def test_coordinator_registers_an_employer(coordinator: User, client_for: ClientFor) -> None:
    response = client_for(coordinator).post(URL, employer_payload(), format="json")

    assert response.status_code == 201, response.json()
    employer = Employer.objects.get()
    assert response.json() == {
        "id": employer.pk,
        "name": "东莞市长安精密五金有限公司",
        "uscc": USCC,
        "destination": "441900119",
        "address": "长安镇霄边社区",
        "contact_name": "李主管",
        "contact_phone": "13712345678",
        "verified": False,
        "created_at": iso(employer.created_at),
        "updated_at": iso(employer.updated_at),
    }


@pytest.mark.parametrize("role_fixture", ["coordinator", "admin_user"])
def test_coordinators_and_admins_may_register_verified(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))

    response = client.post(URL, employer_payload(verified=True), format="json")

    assert response.status_code == 201
    assert Employer.objects.get().verified is True


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (USCC.lower(), USCC),
        (f"  {USCC} ", USCC),
        ("".join(chr(ord(c) + 0xFEE0) for c in USCC), USCC),  # full-width
        # Codes that start with letters are legal (N2: 农村集体经济组织, Y1: 其他).
        (with_uscc_check("N2440306MA5F00001"), with_uscc_check("N2440306MA5F00001")),
        (with_uscc_check("Y1440306MA5F00001"), with_uscc_check("Y1440306MA5F00001")),
    ],
)
def test_credit_codes_are_normalised_and_letter_codes_accepted(
    typed: str, stored: str, coordinator: User, client_for: ClientFor
) -> None:
    response = client_for(coordinator).post(URL, employer_payload(uscc=typed), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["uscc"] == stored
    assert Employer.objects.get().uscc == stored


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"uscc": wrong_check(USCC)},
            "uscc",
            "The check character of the unified social credit code is wrong.",
        ),
        (
            {"uscc": wrong_check(with_uscc_check("N2440306MA5F00001"))},
            "uscc",
            "The check character of the unified social credit code is wrong.",
        ),
        ({"uscc": USCC[:17]}, "uscc", USCC_SHAPE),
        ({"uscc": USCC[:16] + "O" + USCC[17]}, "uscc", USCC_SHAPE),
        ({"uscc": USCC[:17] + "-"}, "uscc", USCC_SHAPE),
        ({"uscc": ""}, "uscc", "This field may not be blank."),
        ({"uscc": "9" * 41}, "uscc", "Ensure this field has no more than 40 characters."),
        ({"destination": "451081"}, "destination", "Unknown destination code '451081'."),
        (
            {"contact_phone": "0769-85012345"},
            "contact_phone",
            "Enter an 11-digit mainland mobile number.",
        ),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "厂" * 101}, "name", "Ensure this field has no more than 100 characters."),
        ({"verified": "maybe"}, "verified", "Must be a valid boolean."),
        ({"legal_person": "王"}, "legal_person", "Unknown field."),
    ],
)
def test_invalid_employers_are_refused(
    changes: dict[str, Any], field: str, message: str, coordinator: User, client_for: ClientFor
) -> None:
    response = client_for(coordinator).post(URL, employer_payload(**changes), format="json")

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "extra": {field: [message]}}
    assert Employer.objects.count() == 0


def test_blank_contact_phone_is_allowed(coordinator: User, client_for: ClientFor) -> None:
    response = client_for(coordinator).post(URL, employer_payload(contact_phone=" "), format="json")

    assert response.status_code == 201
    assert Employer.objects.get().contact_phone == ""


@pytest.mark.parametrize("typed", [USCC, USCC.lower(), f" {USCC}"])
def test_duplicate_credit_code_answers_409(
    typed: str, coordinator: User, client_for: ClientFor
) -> None:
    existing = EmployerFactory(uscc=USCC)
    before = snapshot()

    response = client_for(coordinator).post(URL, employer_payload(uscc=typed), format="json")

    assert response.status_code == 409
    assert response.json() == {
        "message": "An employer with this unified social credit code is already registered.",
        "extra": {"existing_id": existing.pk},
    }
    assert snapshot() == before


# --- read ---------------------------------------------------------------------------------


def test_an_employer_account_sees_only_its_own_employer(
    own_employer: Employer, employer_user: User, client_for: ClientFor
) -> None:
    other = EmployerFactory()
    client = client_for(employer_user)

    assert client.get(URL).json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [employer_json(own_employer)],
    }
    assert client.get(detail(own_employer)).json() == employer_json(own_employer)
    response = client.get(detail(other))
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


def test_an_unlinked_employer_account_sees_nothing(db: None, client_for: ClientFor) -> None:
    user = UserFactory(role=Role.EMPLOYER)
    EmployerFactory()

    assert client_for(user).get(URL).json()["results"] == []


@pytest.mark.parametrize("role_fixture", ["caseworker", "coordinator", "supervisor", "admin_user"])
def test_staff_read_every_employer(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    user = request.getfixturevalue(role_fixture)
    employers = [EmployerFactory(), EmployerFactory()]

    body = client_for(user).get(URL).json()

    assert body["results"] == [employer_json(e) for e in employers]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("长安", ["changan"]),
        ("精密", ["changan", "fuyong"]),
        ("91441900", ["changan"]),
        ("MA4W", []),
    ],
)
def test_search_by_name_and_credit_code(
    search: str, expected: list[str], coordinator: User, client_for: ClientFor
) -> None:
    employers = {
        "changan": EmployerFactory(name="东莞长安精密五金", uscc=USCC),
        "fuyong": EmployerFactory(name="深圳福永精密电子"),
    }

    body = client_for(coordinator).get(URL, {"search": search}).json()

    assert [row["id"] for row in body["results"]] == [employers[k].pk for k in expected]


# --- update -------------------------------------------------------------------------------


def test_an_employer_account_edits_its_own_record(
    own_employer: Employer, employer_user: User, client_for: ClientFor
) -> None:
    response = client_for(employer_user).patch(
        detail(own_employer),
        {"address": "福永街道凤凰社区", "contact_phone": "+86 137 0000 1111"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == employer_json(own_employer)
    assert (own_employer.address, own_employer.contact_phone) == ("福永街道凤凰社区", "13700001111")


def test_an_employer_account_cannot_touch_another_employer(
    employer_user: User, client_for: ClientFor
) -> None:
    other = EmployerFactory()
    before = snapshot()
    client = client_for(employer_user)

    for response in (
        client.patch(detail(other), {"name": "改名"}, format="json"),
        client.put(detail(other), employer_payload(), format="json"),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Not found.", "extra": {}}
    assert snapshot() == before


@pytest.mark.parametrize("verified", [True, False])
def test_only_coordinators_and_admins_set_verified(
    verified: bool, employer_user: User, own_employer: Employer, client_for: ClientFor
) -> None:
    Employer.objects.filter(pk=own_employer.pk).update(verified=not verified)
    before = snapshot()

    response = client_for(employer_user).patch(
        detail(own_employer), {"verified": verified, "name": "新名称"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "verified: Only coordinators and admins may set verified.",
        "extra": {"verified": ["Only coordinators and admins may set verified."]},
    }
    assert snapshot() == before


def test_an_employer_may_send_back_the_verified_it_read(
    employer_user: User, own_employer: Employer, client_for: ClientFor
) -> None:
    body = client_for(employer_user).get(detail(own_employer)).json()
    body["address"] = "新地址"

    response = client_for(employer_user).put(detail(own_employer), body, format="json")

    assert response.status_code == 200, response.json()
    own_employer.refresh_from_db()
    assert (own_employer.address, own_employer.verified) == ("新地址", True)


@pytest.mark.parametrize("role_fixture", ["coordinator", "admin_user"])
def test_coordinators_and_admins_verify(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    user = request.getfixturevalue(role_fixture)
    employer = EmployerFactory(verified=False)

    response = client_for(user).patch(detail(employer), {"verified": True}, format="json")

    assert response.status_code == 200
    assert response.json() == employer_json(employer)
    assert employer.verified is True


def test_changing_the_credit_code_to_a_registered_one_answers_409(
    coordinator: User, client_for: ClientFor
) -> None:
    existing = EmployerFactory(uscc=USCC)
    employer = EmployerFactory()
    before = snapshot()

    response = client_for(coordinator).patch(
        detail(employer), {"uscc": USCC.lower()}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "message": "An employer with this unified social credit code is already registered.",
        "extra": {"existing_id": existing.pk},
    }
    assert snapshot() == before


def test_an_employer_account_is_not_told_another_employers_id(
    employer_user: User, own_employer: Employer, client_for: ClientFor
) -> None:
    EmployerFactory(uscc=USCC)
    before = snapshot()

    response = client_for(employer_user).patch(detail(own_employer), {"uscc": USCC}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "message": "An employer with this unified social credit code is already registered.",
        "extra": {},
    }
    assert snapshot() == before


def test_keeping_the_same_credit_code_is_not_a_duplicate(
    coordinator: User, client_for: ClientFor
) -> None:
    employer = EmployerFactory()

    response = client_for(coordinator).patch(
        detail(employer), {"uscc": employer.uscc.lower(), "name": "新"}, format="json"
    )

    assert response.status_code == 200
    employer.refresh_from_db()
    assert employer.name == "新"


# --- delete -------------------------------------------------------------------------------


def test_admin_deletes_an_employer_and_its_accounts_links(
    admin_user: User, employer_user: User, own_employer: Employer, client_for: ClientFor
) -> None:
    response = client_for(admin_user).delete(detail(own_employer))

    assert response.status_code == 204
    assert Employer.objects.count() == 0
    assert EmployerAccount.objects.count() == 0
    assert User.objects.filter(pk=employer_user.pk).exists()


def test_an_employer_with_vacancies_cannot_be_deleted(
    admin_user: User, client_for: ClientFor
) -> None:
    vacancy = VacancyFactory()

    response = client_for(admin_user).delete(detail(vacancy.employer))

    assert response.status_code == 409
    assert response.json() == {
        "message": "This employer has vacancies and cannot be deleted; close them instead.",
        "extra": {},
    }
    assert Employer.objects.filter(pk=vacancy.employer_id).exists()


@pytest.mark.parametrize("role_fixture", ["coordinator", "employer_user", "supervisor"])
def test_only_admins_delete(
    role_fixture: str, request: pytest.FixtureRequest, client_for: ClientFor
) -> None:
    user = request.getfixturevalue(role_fixture)
    employer = user.employer_account.employer if user.role == Role.EMPLOYER else EmployerFactory()

    response = client_for(user).delete(detail(employer))

    assert response.status_code == 403
    assert response.json() == {"message": "Your role may not do this.", "extra": {}}
    assert Employer.objects.filter(pk=employer.pk).exists()
