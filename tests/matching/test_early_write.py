"""Proposals written on a second connection while the core still works (`EarlyWrite`).

These tests commit their data (`transaction=True`): the early write's own connection
sees nothing of a test's open transaction.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from matching.core import assignment
from matching.core.types import PART_NAMES, RoundResult
from matching.models import Match, MatchingRun
from matching.services import loading, rounds
from matching.services.policy import policy_current
from matching.services.rounds import EarlyWrite
from matching.services.runs import run_create
from tests.factories import (
    HouseholdFactory,
    LaborerFactory,
    MatchFactory,
    UserFactory,
    VacancyFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def step(n_lab: int, n_vac: int, seed: int, nobody: int) -> tuple:
    """A random assignment; score and parts depend on the pair only, as the core's do.
    Laborer `nobody` is never placed."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-1, n_vac, n_lab).astype(np.int32)
    a[nobody] = -1
    i = np.arange(n_lab)
    placed = a >= 0
    score = np.where(placed, (7 * i + 13 * a) % 90 + 1, 0).astype(np.int16)
    parts = {
        name: np.where(placed, (i + a + k) % 10, 0).astype(np.int8)
        for k, name in enumerate(PART_NAMES)
    }
    return a, score, parts


def result_of(a: np.ndarray, score: np.ndarray, parts: dict) -> RoundResult:
    return RoundResult(
        assignment=a,
        score=score,
        assigned=int((a >= 0).sum()),
        total_score=int(score.sum()),
        candidate_pairs=0,
        upper_bound=0,
        upper_bound_assigned=0,
        gap=0.0,
        vacancy_filled=np.zeros(0, dtype=np.int32),
        parts=parts,
    )


def rows_of(lab, vac, a: np.ndarray, score: np.ndarray, parts: dict) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sorted(
        (
            int(lab.id[i]),
            int(vac.id[a[i]]),
            int(score[i]),
            {"score": int(score[i]), "parts": {n: int(parts[n][i]) for n in PART_NAMES}},
        )
        for i in np.flatnonzero(a >= 0)
    )


def written_rows(run: MatchingRun) -> list[tuple]:
    return sorted(
        Match.objects.filter(run=run, status="proposed").values_list(
            "laborer_id", "vacancy_id", "score", "explanation"
        )
    )


def setup_pool() -> tuple:
    soon = timezone.localdate() + timedelta(days=2)
    laborers = [LaborerFactory(available_from=soon) for _ in range(12)]
    vacancies = [VacancyFactory(openings=3) for _ in range(4)]
    old = MatchFactory(laborer=laborers[0], vacancy=vacancies[0], status="proposed")
    offered = MatchFactory(laborer=laborers[1], vacancy=vacancies[1], status="offered")
    _, axes = loading.vocabulary_arrays()
    ids = sorted(x.pk for x in laborers)
    lab, _ = loading.load_laborers(axes, laborer_ids=ids, eligible_only=False)
    vac = loading.load_vacancies(axes)
    assert lab.id.tolist() == ids
    nobody = lab.id.tolist().index(laborers[1].pk)  # holds an offer
    run = MatchingRun.objects.create(policy=policy_current())
    return lab, vac, old, offered, nobody, run


def test_an_early_write_ends_with_exactly_the_final_assignment(monkeypatch) -> None:
    lab, vac, old, offered, nobody, run = setup_pool()
    first_written = threading.Event()
    resume = threading.Event()
    apply = EarlyWrite._apply

    def spy(self, *args):  # type: ignore[no-untyped-def]
        changed = apply(self, *args)
        if not first_written.is_set():
            first_written.set()
            resume.wait(10)
        return changed

    monkeypatch.setattr(EarlyWrite, "_apply", spy)
    before = backends()
    steps = [step(len(lab), len(vac), seed, nobody) for seed in (1, 2, 3)]
    early = EarlyWrite(run, lab, vac)
    early.update(*steps[0])
    assert first_written.wait(10)
    # Written but not committed: others still see the old proposal, and nothing new.
    assert written_rows(run) == []
    assert Match.objects.filter(pk=old.pk).exists()
    assert backends() == before + 1
    early.update(*steps[1])
    resume.set()
    final = result_of(*steps[2])
    times = early.finish(final)
    assert written_rows(run) == rows_of(lab, vac, *steps[2])
    # The last difference: from the second step, or from the first if the thread
    # skipped the second (superseded before its turn).
    moved = [
        int(
            ((s[0] != steps[2][0]) & (s[0] >= 0)).sum()
            + ((s[0] != steps[2][0]) & (steps[2][0] >= 0)).sum()
        )
        for s in steps[:2]
    ]
    assert times["write_changed"] in moved
    assert set(times) == {"write_early", "write_final", "write_changed", "write_offered_since"}
    assert times["write_offered_since"] == 1  # `nobody`, who holds an offer
    assert not Match.objects.filter(pk=old.pk).exists()
    offered.refresh_from_db()
    assert offered.status == "offered"
    assert backends() == before  # the thread's connection is closed


def test_an_abandoned_early_write_leaves_nothing_written() -> None:
    lab, vac, old, offered, nobody, run = setup_pool()
    before = backends()
    early = EarlyWrite(run, lab, vac)
    early.update(*step(len(lab), len(vac), 1, nobody))
    early.abandon()
    assert written_rows(run) == []
    assert list(Match.objects.order_by("pk").values_list("pk", "status")) == [
        (old.pk, "proposed"),
        (offered.pk, "offered"),
    ]
    assert backends() == before
    # Finishing without any step told is the plain write.
    early = EarlyWrite(run, lab, vac)
    final = result_of(*step(len(lab), len(vac), 4, nobody))
    assert early.finish(final) == {}
    assert written_rows(run) == rows_of(lab, vac, final.assignment, final.score, final.parts)


def household_pool() -> None:
    soon = timezone.localdate() + timedelta(days=2)
    for n, occupation in enumerate(["electronics_operator", "welder", "garment_sewer"] * 4):
        household = HouseholdFactory() if n % 4 == 0 else None
        for _ in range(2 if household else 1):
            LaborerFactory(
                available_from=soon,
                min_monthly_wage=3000 + 100 * n,
                skills=[(occupation, n % 5)],
                household=household,
            )
        if n < 5:
            VacancyFactory(occupation_id=occupation, openings=2, wage_min=4000 + 300 * n)


def test_a_round_written_early_leaves_what_the_plain_write_leaves(monkeypatch) -> None:
    household_pool()
    coordinator = UserFactory(role="coordinator")
    # Committed at once here, so the round's (eager) task runs within run_create.
    plain = run_create(actor=coordinator, counties=[], occupations=[])
    plain.refresh_from_db()
    assert plain.status == "done", plain.error
    assert "write_early" not in plain.stats
    expected = [row[:3] for row in written_rows(plain)]
    assert len(expected) == plain.assigned > 0

    monkeypatch.setattr(rounds, "EARLY_WRITE_MIN", 0)
    told = []
    solve = rounds.solve_round

    def spy(*args, on_assignment, **kwargs):  # type: ignore[no-untyped-def]
        def tell(a, score, parts):  # type: ignore[no-untyped-def]
            told.append(int((a >= 0).sum()))
            on_assignment(a, score, parts)

        return solve(*args, on_assignment=tell, **kwargs)

    monkeypatch.setattr(rounds, "solve_round", spy)
    early = run_create(actor=coordinator, counties=[], occupations=[])
    early.refresh_from_db()
    assert early.status == "done", early.error
    assert len(told) == 3  # after the first flow, the relaxation and the households
    assert early.stats["write_changed"] >= 0
    assert early.stats["write"] >= early.stats["write_final"] > 0
    assert [row[:3] for row in written_rows(early)] == expected
    assert not Match.objects.filter(run=plain).exists()
    assert (early.assigned, early.total_score) == (plain.assigned, plain.total_score)


def test_a_round_that_fails_after_writing_early_keeps_the_old_proposals(monkeypatch) -> None:
    household_pool()
    coordinator = UserFactory(role="coordinator")
    first = run_create(actor=coordinator, counties=[], occupations=[])
    kept = written_rows(first)
    assert kept
    monkeypatch.setattr(rounds, "EARLY_WRITE_MIN", 0)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("households broke")

    monkeypatch.setattr(assignment, "_household_status", broken)
    before = backends()
    with pytest.raises(RuntimeError, match="households broke"):
        run_create(actor=coordinator, counties=[], occupations=[])
    failed = MatchingRun.objects.latest("pk")
    assert failed.pk > first.pk
    assert (failed.status, failed.error) == ("failed", "RuntimeError: households broke")
    assert written_rows(first) == kept
    assert not Match.objects.filter(run=failed).exists()
    assert backends() == before


def test_no_early_write_inside_a_transaction() -> None:
    _, axes = loading.vocabulary_arrays()
    laborer = LaborerFactory()
    lab, _ = loading.load_laborers(axes, laborer_ids=[laborer.pk], eligible_only=False)
    from django.db import transaction

    with transaction.atomic():
        assert not EarlyWrite.possible(lab)
    assert EarlyWrite.possible(lab) is (len(lab) >= rounds.EARLY_WRITE_MIN)


@pytest.mark.parametrize("early", [False, True], ids=["written after the core", "written early"])
def test_a_laborer_offered_a_job_while_the_round_ran_gets_no_proposal(
    monkeypatch, early: bool
) -> None:
    household_pool()
    coordinator = UserFactory(role="coordinator")
    first = run_create(actor=coordinator, counties=[], occupations=[])
    first.refresh_from_db()
    old = Match.objects.filter(run=first).order_by("pk").first()
    assert old is not None
    if early:
        monkeypatch.setattr(rounds, "EARLY_WRITE_MIN", 0)
    solve = rounds.solve_round

    def offered_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        # After the pool was read: the employer offers the job of an old proposal.
        Match.objects.filter(pk=old.pk).update(status="offered")
        return solve(*args, **kwargs)

    monkeypatch.setattr(rounds, "solve_round", offered_meanwhile)
    second = run_create(actor=coordinator, counties=[], occupations=[])
    second.refresh_from_db()
    assert second.status == "done", second.error
    # The round's solution still counts them; no proposal is written for them.
    assert second.laborers == first.laborers
    assert not Match.objects.filter(run=second, laborer_id=old.laborer_id).exists()
    assert Match.objects.filter(run=second).count() == second.assigned - 1
    assert Match.objects.get(pk=old.pk).status == "offered"
    assert not Match.objects.filter(run=first).exclude(pk=old.pk).exists()
    assert ("write_offered_since" in second.stats) is early
