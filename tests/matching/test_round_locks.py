"""Match transitions while a matching round writes its proposals (on PostgreSQL).

A large round writes its proposals in one transaction on another connection while its
core still works (`rounds.EarlyWrite`), for up to a minute at Baise scale. Meanwhile it
holds the proposals it replaces (deleted, not yet committed) and, through the foreign-key
checks of the rows it inserts, a key-share lock on every laborer and vacancy they name.
A transition must neither wait for that round nor fail with a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from employers.models import Vacancy
from jobmatch.api.errors import ApplicationError
from matching.models import Match, MatchEvent, MatchingRun
from matching.services import matches as match_services
from matching.services.policy import policy_current
from tests.factories import (
    EmployerAccountFactory,
    LaborerFactory,
    MatchFactory,
    UserFactory,
    VacancyFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@contextmanager
def held(work: Callable[[], None], *, commit: bool = False, after: float = 30) -> Iterator[None]:
    """`work` done in a transaction on another connection, held open (until the block
    ends, or `after` seconds), then committed or rolled back."""
    ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                ready.set()
                release.wait(after)
                if not commit:
                    transaction.set_rollback(True)
        except BaseException as exc:
            errors.append(exc)
            ready.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)
    assert not errors, errors


def test_accepting_does_not_wait_for_a_round_that_writes_proposals(client_for) -> None:
    assert connection.vendor == "postgresql"
    caseworker = UserFactory(role="caseworker", counties=["451081"])
    vacancy = VacancyFactory(openings=2)
    offered = MatchFactory(vacancy=vacancy, status="offered")
    other = LaborerFactory()
    run = MatchingRun.objects.create(policy=policy_current())

    def write_proposal() -> None:  # as the early write does: foreign keys checked at once
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Match.objects.create(
            laborer=other, vacancy=vacancy, run=run, status="proposed", score=50, explanation={}
        )

    with held(write_proposal), connection.cursor() as cursor:
        # Waiting would end in an error after 2 s here, instead of when the round ends.
        cursor.execute("SET lock_timeout = '2s'")
        try:
            response = client_for(caseworker).post(f"/api/v1/matches/{offered.pk}/accept/")
        finally:
            cursor.execute("SET lock_timeout = 0")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    vacancy.refresh_from_db()
    assert (vacancy.openings_left, vacancy.status) == (1, "open")
    assert not Match.objects.filter(laborer=other).exists()  # the round rolled back


def test_offering_a_proposal_a_round_is_replacing_answers_409_at_once(
    client_for, monkeypatch
) -> None:
    monkeypatch.setattr(match_services, "LOCK_WAIT_MS", 200)
    employer = EmployerAccountFactory().user
    vacancy = VacancyFactory(employer=employer.employer_account.employer, openings=2)
    proposal = MatchFactory(vacancy=vacancy, status="proposed")

    def replace() -> None:
        Match.objects.filter(pk=proposal.pk).delete()

    with held(replace):
        response = client_for(employer).post(f"/api/v1/matches/{proposal.pk}/offer/")
    assert response.status_code == 409
    assert response.json() == {
        "message": "A matching round is replacing this proposal; try again once it is done.",
        "extra": {},
    }
    # The round rolled back: the proposal is as it was, and the refused offer left no trace.
    assert Match.objects.get(pk=proposal.pk).status == "proposed"
    assert not MatchEvent.objects.exists()
    assert Vacancy.objects.get(pk=vacancy.pk).openings_left == 2


def test_offering_a_proposal_a_round_has_just_replaced_answers_404() -> None:
    employer = EmployerAccountFactory().user
    vacancy = VacancyFactory(employer=employer.employer_account.employer, openings=2)
    proposal = MatchFactory(vacancy=vacancy, status="proposed")
    seen = Match.objects.select_related("vacancy", "laborer").get(pk=proposal.pk)

    def replace() -> None:
        Match.objects.filter(pk=proposal.pk).delete()

    # The round commits 0.3 s later, while the offer waits for the row (or before it
    # asks): either way the row is gone when the offer gets it.
    with (
        held(replace, commit=True, after=0.3),
        pytest.raises(ApplicationError) as caught,
    ):
        match_services.match_offer(actor=employer, match=seen)
    assert (caught.value.status, caught.value.message) == (
        404,
        "This match no longer exists (a newer matching round may have replaced it).",
    )
    assert not Match.objects.exists()
    assert not MatchEvent.objects.exists()
