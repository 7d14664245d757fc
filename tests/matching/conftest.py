"""Fixtures for the transfer tests: accepted matches where we want them, plans run
synchronously, a recording SMS backend and an eager Celery app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import override_settings

from employers.models import Vacancy
from jobmatch.models import Role, User
from matching import sms
from matching.models import CoachType, Match, TransferPlan
from matching.services.transfers import plan_create, plan_execute
from matching.sms import SmsError
from tests.factories import (
    EmployerFactory,
    HouseholdFactory,
    LaborerFactory,
    MatchFactory,
    UserFactory,
    VacancyFactory,
)
from workers.models import Household

# A fixed season, far from today: nothing depends on the clock.
DAY = date(2031, 3, 3)
PINGGUO_SEAT = "451082100"  # 平果市马头镇: the county closest to Guangdong (same-day arrival)
PINGGUO_2, PINGGUO_3, PINGGUO_4, PINGGUO_5 = "451082101", "451082102", "451082103", "451082104"
JINGXI_SEAT = "451081100"  # 靖西市新靖镇 (the caseworker fixture's county)
XILIN_SEAT = "451030100"  # 西林县八达镇: the farthest county (17 h to Shenzhen)
FUYONG = "440306020"  # 深圳 宝安 福永街道
SHAJING = "440306022"
SONGGANG = "440306024"
SHIYAN = "440306026"
GUANLAN = "440309006"
CHANGAN = "441900119"  # 东莞 长安镇


def day(n: int) -> date:
    return DAY + timedelta(days=n)


class RecordingBackend:
    """Keeps every message it is given (the instance lives in `matching.sms.backend()`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        self.sent.append((phone, message))


class FailingBackend:
    def send(self, phone: str, message: str) -> None:
        raise SmsError("gateway refused: quota exceeded")


class BrokenBackend:
    """A gateway client that fails with its own error (not `SmsError`) for one number."""

    UNREACHABLE = "13900000001"

    def send(self, phone: str, message: str) -> None:
        if phone == self.UNREACHABLE:
            raise ConnectionError("gateway unreachable")


@pytest.fixture
def sms_outbox() -> Iterator[list[tuple[str, str]]]:
    """Messages sent through a recording SMS backend, as (phone, text)."""
    with override_settings(SMS_BACKEND="tests.matching.conftest.RecordingBackend"):
        sms.backend.cache_clear()
        yield sms.backend().sent  # type: ignore[attr-defined]
    sms.backend.cache_clear()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks queued on commit run in the test's process, errors raised."""
    from jobmatch.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def mini_coach(db: None) -> CoachType:
    """A 4-seat coach, so that capacity and staggering show with a handful of riders."""
    return CoachType.objects.create(key="mini4", name="小型客车 4座", seats=4, cost=1000)


@pytest.fixture
def employer_of_riders(db: None) -> Any:
    return EmployerFactory(name="深圳市百色劳务协作电子有限公司")


@pytest.fixture
def accepted(employer_of_riders: Any) -> Callable[..., list[Match]]:
    """Builder of accepted matches: `accepted(3, township=..., destination=..., start=...)`.

    Laborers are `matched`, live in `township` (their county follows from its code) and
    may leave from `available`; one vacancy per (destination, start date) of one employer.
    `household=True` puts the new laborers in one new household (keep together).
    """
    vacancies: dict[tuple[str, date], Vacancy] = {}

    def build(
        n: int = 1,
        *,
        township: str = PINGGUO_SEAT,
        destination: str = FUYONG,
        available: date = DAY,
        start: date | None = None,
        household: bool | Household = False,
    ) -> list[Match]:
        start = start or day(5)
        vacancy = vacancies.get((destination, start))
        if vacancy is None:
            vacancy = vacancies[(destination, start)] = VacancyFactory(
                employer=employer_of_riders,
                destination_id=destination,
                start_date=start,
                openings=500,
            )
        home = household if isinstance(household, Household) else None
        if household is True:
            home = HouseholdFactory()
        out = []
        for _ in range(n):
            laborer = LaborerFactory(
                county_id=township[:6],
                township_id=township,
                available_from=available,
                household=home,
                status="matched",
                skills=[],
            )
            out.append(MatchFactory(laborer=laborer, vacancy=vacancy, status="accepted"))
        return out

    return build


@pytest.fixture
def plan_run(coordinator: User) -> Callable[..., TransferPlan]:
    """Create a plan over DAY..DAY+9 (or the dates given) and run it synchronously."""

    def run(*, from_date: date = DAY, to_date: date | None = None, **overrides: Any):
        plan = plan_create(
            actor=coordinator, from_date=from_date, to_date=to_date or day(9), **overrides
        )
        plan_execute(plan_id=plan.pk)
        plan.refresh_from_db()
        assert plan.status == "done", plan.error
        return plan

    return run


@pytest.fixture
def roles_users(
    coordinator: User, admin_user: User, supervisor: User, caseworker: User, employer_user: User
) -> dict[str, User]:
    return {
        "coordinator": coordinator,
        "admin": admin_user,
        "supervisor": supervisor,
        "caseworker": caseworker,
        "employer": employer_user,
    }


@pytest.fixture
def second_coordinator(db: None) -> User:
    return UserFactory(username="coordinator-2", role=Role.COORDINATOR)
