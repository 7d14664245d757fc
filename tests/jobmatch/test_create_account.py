"""`manage.py create_account`: create or update an account with its role, counties, employer."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from employers.models import EmployerAccount
from jobmatch.api.errors import ApplicationError
from jobmatch.models import Role, User
from jobmatch.services import account_upsert
from tests.factories import EmployerFactory, UserFactory
from tests.factories_extra import USCC, _fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_account", *args, stdout=out)
    return out.getvalue()


def account(username: str) -> dict[str, Any]:
    user = User.objects.get(username=username)
    link = EmployerAccount.objects.filter(user=user).first()
    return {
        "role": user.role,
        "counties": sorted(user.counties.values_list("code", flat=True)),
        "employer": link.employer_id if link else None,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
    }


def everything() -> list[Any]:
    return [
        sorted(User.objects.values_list("username", "role", "password", "is_staff")),
        sorted(User.counties.through.objects.values_list("user_id", "county_id")),
        sorted(EmployerAccount.objects.values_list("user_id", "employer_id")),
    ]


def test_creates_a_caseworker_for_counties() -> None:
    out = run("lan", "--role", "caseworker", "--county", "451081", "--county", "451002",
              "--password", "s3cret-pass")  # fmt: skip

    assert out == "Created account lan (caseworker).\n"
    assert account("lan") == {
        "role": "caseworker",
        "counties": ["451002", "451081"],
        "employer": None,
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
    }
    assert User.objects.get(username="lan").check_password("s3cret-pass")


def test_creates_an_employer_account_by_credit_code() -> None:
    employer = EmployerFactory(uscc=USCC)

    out = run(
        "hr", "--role", "employer", "--employer", f" {USCC.lower()} ", "--password", "pw-1234567"
    )

    assert out == "Created account hr (employer).\n"
    assert account("hr")["employer"] == employer.pk
    assert account("hr")["role"] == "employer"


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_creates_staff_roles_without_admin_rights(role: str) -> None:
    run("staff", "--role", role, "--password", "pw-1234567")

    assert account("staff") == {
        "role": role,
        "counties": [],
        "employer": None,
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
    }


def test_an_admin_gets_the_admin_site() -> None:
    run("root", "--role", "admin", "--password", "pw-1234567")

    assert account("root")["is_staff"] is True
    assert account("root")["is_superuser"] is True


def test_updates_an_existing_account_and_keeps_its_password() -> None:
    user = UserFactory(username="lan", role=Role.CASEWORKER, counties=["451081"])
    password = user.password

    out = run("lan", "--role", "caseworker", "--county", "451003")

    assert out == "Updated account lan (caseworker).\n"
    assert account("lan")["counties"] == ["451003"]
    assert User.objects.get(username="lan").password == password
    assert User.objects.count() == 1


def test_update_changes_the_password_when_given() -> None:
    UserFactory(username="lan", role=Role.COORDINATOR)

    run("lan", "--role", "coordinator", "--password", "new-pass-123")

    assert User.objects.get(username="lan").check_password("new-pass-123")


def test_changing_role_drops_what_the_old_role_had() -> None:
    employer = EmployerFactory(uscc=USCC)
    run("x", "--role", "employer", "--employer", USCC, "--password", "pw-1234567")
    assert account("x")["employer"] == employer.pk

    run("x", "--role", "admin")
    assert account("x") == {
        "role": "admin",
        "counties": [],
        "employer": None,
        "is_staff": True,
        "is_superuser": True,
        "is_active": True,
    }

    run("x", "--role", "caseworker", "--county", "451081")
    assert account("x") == {
        "role": "caseworker",
        "counties": ["451081"],
        "employer": None,
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
    }


def test_moves_an_employer_account_to_another_employer() -> None:
    first, second = EmployerFactory(), EmployerFactory()
    run("hr", "--role", "employer", "--employer", first.uscc, "--password", "pw-1234567")

    run("hr", "--role", "employer", "--employer", second.uscc)

    assert EmployerAccount.objects.get().employer == second


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "caseworker", "--password", "pw"],
            "A caseworker answers for at least one county.",
        ),
        (
            ["--role", "coordinator", "--county", "451081", "--password", "pw"],
            "Only caseworkers answer for counties.",
        ),
        (
            ["--role", "employer", "--password", "pw"],
            "An employer account belongs to an employer: give its credit code.",
        ),
        (
            ["--role", "supervisor", "--employer", USCC, "--password", "pw"],
            "Only employer accounts belong to an employer.",
        ),
        (
            [
                "--role",
                "caseworker",
                "--county",
                "451081",
                "--county",
                "999999",
                "--password",
                "pw",
            ],
            "Unknown county code '999999'.",
        ),
        (
            ["--role", "employer", "--employer", "91440300XXXXXXXXXX", "--password", "pw"],
            "No employer has the credit code '91440300XXXXXXXXXX'.",
        ),
        (["--role", "coordinator"], "A new account needs a password."),
    ],
)
def test_errors_write_nothing(args: list[str], message: str) -> None:
    EmployerFactory()
    before = everything()

    with pytest.raises(CommandError) as excinfo:
        run("newbie", *args)

    assert str(excinfo.value) == message
    assert everything() == before


def test_errors_leave_an_existing_account_untouched() -> None:
    UserFactory(username="lan", role=Role.CASEWORKER, counties=["451081"])
    before = everything()

    with pytest.raises(CommandError, match=r"Unknown county code '451099'\."):
        run("lan", "--role", "caseworker", "--county", "451099", "--password", "other-pass")

    assert everything() == before


def test_an_unknown_role_is_refused_by_the_parser() -> None:
    with pytest.raises(CommandError, match="argument --role: invalid choice: 'boss'"):
        run("x", "--role", "boss", "--password", "pw")
    assert not User.objects.filter(username="x").exists()


def test_role_is_required() -> None:
    with pytest.raises(CommandError, match="the following arguments are required: --role"):
        run("x", "--password", "pw")


def test_the_service_refuses_unknown_roles() -> None:
    with pytest.raises(ApplicationError) as excinfo:
        account_upsert(username="x", role="boss", password="pw")

    assert excinfo.value.message == (
        "Unknown role 'boss': use one of caseworker, employer, coordinator, supervisor, admin."
    )
    assert not User.objects.filter(username="x").exists()


def test_a_created_account_can_log_in() -> None:
    from rest_framework.test import APIClient

    run("lan", "--role", "caseworker", "--county", "451081", "--password", "s3cret-pass")

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "lan", "password": "s3cret-pass"}, format="json"
    )
    assert response.status_code == 200
