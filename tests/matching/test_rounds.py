"""Matching rounds end to end: API, Celery task on a real worker, proposals written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from jobmatch.celery import app as celery_app
from matching.core import assignment
from matching.models import Match, MatchingRun
from matching.services import rounds
from matching.services.rounds import round_execute
from matching.services.runs import run_create
from tests.factories import (
    HouseholdFactory,
    LaborerFactory,
    MatchFactory,
    UserFactory,
    VacancyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def celery_worker_session(django_db_setup: None, django_db_blocker) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One real Celery worker (solo pool, in a thread) on the Redis broker for the session."""
    import celery.contrib.testing.tasks  # noqa: F401  (registers celery.ping)

    with django_db_blocker.unblock():
        celery_app.control.purge()  # messages left by an earlier, interrupted run
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ) as worker:
            yield worker


@pytest.fixture
def celery_worker(celery_worker_session: object) -> Iterator[object]:
    celery_app.conf.task_always_eager = False
    yield celery_worker_session
    celery_app.conf.task_always_eager = True


def pool(n_laborers: int = 6, openings: int = 4) -> tuple[list, list]:
    soon = timezone.localdate() + timedelta(days=2)
    laborers = [LaborerFactory(available_from=soon) for _ in range(n_laborers)]
    vacancies = [
        VacancyFactory(openings=openings // 2),
        VacancyFactory(openings=openings - openings // 2),
    ]
    return laborers, vacancies


def wait_until_finished(run_id: int, seconds: float = 60) -> MatchingRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = MatchingRun.objects.get(pk=run_id)
        if run.status in {"done", "failed"}:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {seconds} s")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_round_runs_on_a_real_celery_worker(celery_worker, client_for) -> None:
    _laborers, vacancies = pool()
    coordinator = UserFactory(role="coordinator")
    response = client_for(coordinator).post("/api/v1/matching/runs/", {}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    run = wait_until_finished(body["id"])
    assert run.status == "done", run.error
    assert (run.laborers, run.openings, run.assigned) == (6, 4, 4)
    proposals = Match.objects.filter(run=run, status="proposed")
    assert proposals.count() == 4
    assert {m.vacancy_id for m in proposals} == {v.pk for v in vacancies}
    detail = client_for(coordinator).get(f"/api/v1/matching/runs/{run.pk}/").json()
    assert detail["status"] == "done"
    assert detail["progress"] == 1.0
    assert detail["assigned"] == 4
    assert detail["policy"] == 1
    # The bound that prices households covers the round's own assignment.
    bound = run.household_bound
    assert detail["household_bound"] == bound >= detail["total_score"] == run.total_score > 0
    assert detail["household_gap"] == (bound - run.total_score) / bound == run.household_gap


def mixed_pool() -> list:
    """Laborers and vacancies in three occupations, so the fan-out has several blocks."""
    soon = timezone.localdate() + timedelta(days=2)
    laborers = []
    for n, occupation in enumerate(["electronics_operator", "welder", "garment_sewer"] * 4):
        laborers.append(
            LaborerFactory(
                available_from=soon, min_monthly_wage=3000 + 100 * n, skills=[(occupation, n % 5)]
            )
        )
        if n < 3:
            VacancyFactory(occupation_id=occupation, openings=3, wage_min=4000 + 300 * n)
    return laborers


def proposals_of(run: MatchingRun) -> list[tuple[int, int, int, dict]]:
    return sorted(
        Match.objects.filter(run=run, status="proposed").values_list(
            "laborer_id", "vacancy_id", "score", "explanation"
        )
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("priced", [False, True], ids=["by score", "priced by a sample"])
def test_fanned_out_round_on_a_real_worker_equals_the_single_task_round(
    celery_worker, settings, monkeypatch, priced: bool
) -> None:
    from matching.services.rounds import fanout_enabled

    if priced:  # as rounds of 50,000 laborers and more are (here the sample is everybody)
        monkeypatch.setattr(assignment, "PRICE_SAMPLE_MIN", 0)
        monkeypatch.setattr(assignment, "PRICE_SAMPLE", 1.0)
    settings.MATCHING_SCORING_FANOUT = 3
    assert fanout_enabled(), "make test sets CELERY_RESULT_BACKEND; chords need it"
    mixed_pool()
    coordinator = UserFactory(role="coordinator")
    fanned = wait_until_finished(run_create(actor=coordinator, counties=[], occupations=[]).pk)
    assert fanned.status == "done", fanned.error
    assert fanned.stats["merge"] >= 0  # only the chord's callback records a merge stage
    assert not (Path(settings.MATCHING_WORK_DIR) / f"run-{fanned.pk}").exists()
    fanned_rows = proposals_of(fanned)
    assert len(fanned_rows) == fanned.assigned == 9

    # The same pool solved in one task (eager, no fan-out) gives the same proposals.
    celery_app.conf.task_always_eager = True
    single = run_create(actor=coordinator, counties=[], occupations=[])
    single.refresh_from_db()
    assert single.status == "done"
    assert "merge" not in single.stats
    assert ("sample_prices" in single.stats) is priced
    assert ("sample_prices" in fanned.stats) is priced
    assert proposals_of(single) == fanned_rows


@pytest.mark.parametrize("priced", [False, True])
def test_blocks_scored_apart_merge_to_the_one_task_candidates(tmp_path, priced: bool) -> None:
    # Each laborer's best k over all blocks: by score, or by score less the prices that
    # the blocks ranked by (a laborer's best priced pair may score less than another).
    from matching.core import scoring
    from matching.core.synthetic import make_instance
    from matching.core.types import CandidatePairs, Policy
    from matching.services import fanout

    inst = make_instance(800, 120, seed=5)
    policy = Policy()
    price = np.random.default_rng(5).integers(0, 90, len(inst.vac)) if priced else None
    paths = []
    for group in fanout.blocks(inst.vac, 3):
        part = scoring.generate_candidates(
            inst.lab, inst.vac, inst.vocab, policy, occupations=group, price=price
        )
        paths.append(str(tmp_path / f"{group[0]}.npz"))
        fanout.save(Path(paths[-1]), part)
    assert len(paths) == 3
    got = fanout.merged_candidates(paths, policy.k, price)
    want = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, price=price)
    assert isinstance(got, CandidatePairs)
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)


def test_one_round_at_a_time(client_for, coordinator) -> None:
    MatchingRun.objects.create(policy_id=_policy().pk)
    response = client_for(coordinator).post("/api/v1/matching/runs/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["message"] == "A matching round is already queued or running."


def _policy():  # type: ignore[no-untyped-def]
    from matching.services.policy import policy_current

    return policy_current()


def test_round_is_idempotent_and_replaces_only_proposals(coordinator) -> None:
    laborers, vacancies = pool(n_laborers=5, openings=4)
    kept = MatchFactory(laborer=LaborerFactory(), vacancy=vacancies[0], status="offered")
    old = MatchFactory(laborer=laborers[0], vacancy=vacancies[1], status="proposed")
    run = run_create(actor=coordinator, counties=[], occupations=[])
    round_execute(run_id=run.pk)
    first = sorted(
        Match.objects.filter(status="proposed").values_list("laborer_id", "vacancy_id", "score")
    )
    assert not Match.objects.filter(pk=old.pk).exists()
    kept.refresh_from_db()
    assert kept.status == "offered"
    # The offered match holds one opening: 4 openings, 3 proposals.
    assert len(first) == 3
    # A re-delivered task for a finished run does nothing.
    round_execute(run_id=run.pk)
    assert (
        sorted(
            Match.objects.filter(status="proposed").values_list("laborer_id", "vacancy_id", "score")
        )
        == first
    )
    # A worker lost mid-round: the run is still `running`; running it again gives the same.
    MatchingRun.objects.filter(pk=run.pk).update(status="running", active=True)
    round_execute(run_id=run.pk)
    assert (
        sorted(
            Match.objects.filter(status="proposed").values_list("laborer_id", "vacancy_id", "score")
        )
        == first
    )
    run.refresh_from_db()
    assert (run.status, run.deliveries) == ("done", 2)


def test_a_round_too_large_to_wait_for_adds_its_household_bound_once_done(
    coordinator, monkeypatch
) -> None:
    monkeypatch.setattr(assignment, "PRICED_MAX_PAIRS", 0)
    pool(n_laborers=5, openings=4)
    seen = []
    computed = rounds._bound_later

    def spy(run_id, later, total_score):  # type: ignore[no-untyped-def]
        run = MatchingRun.objects.get(pk=run_id)
        proposals = Match.objects.filter(run_id=run_id, status="proposed").count()
        seen.append(
            (
                run.status,
                run.household_bound,
                run.household_gap,
                run.stats["priced_pending"],
                proposals,
            )
        )
        computed(run_id, later, total_score)

    monkeypatch.setattr(rounds, "_bound_later", spy)
    run = run_create(actor=coordinator, counties=[], occupations=[])
    round_execute(run_id=run.pk)
    run.refresh_from_db()
    # Done and written first, without the bound; then the bound is added.
    assert seen == [("done", None, None, 1.0, 4)]
    assert run.status == "done"
    # No households: L's least value is the best total, which the round reaches.
    assert run.total_score <= run.household_bound <= run.total_score + 2
    assert run.household_gap == (run.household_bound - run.total_score) / run.household_bound
    assert run.stats["priced_after_done"] == 1.0
    assert run.stats["priced_pending"] == 0.0
    assert run.stats["priced_steps"] >= 1
    assert run.stats["priced_pairs"] >= 4


def test_a_household_bound_that_fails_after_the_round_leaves_the_round_done(
    coordinator, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(assignment, "PRICED_MAX_PAIRS", 0)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bound broke")

    monkeypatch.setattr(assignment, "_priced_bound", broken)
    pool(n_laborers=5, openings=4)
    run = run_create(actor=coordinator, counties=[], occupations=[])
    round_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.assigned) == ("done", "", 4)
    assert (run.household_bound, run.household_gap) == (None, None)
    assert "priced_after_done" not in run.stats
    assert run.stats["priced_failed"] == 1.0
    assert run.stats["priced_pending"] == 0.0
    assert Match.objects.filter(run=run, status="proposed").count() == 4
    assert f"matching run {run.pk}: the household bound failed" in caplog.text


def test_round_limited_to_counties_keeps_other_proposals(coordinator) -> None:
    laborers, vacancies = pool(n_laborers=2, openings=4)
    elsewhere = LaborerFactory(county_id="451002", township_id="451002001")
    theirs = MatchFactory(laborer=elsewhere, vacancy=vacancies[0])
    run = run_create(actor=coordinator, counties=["451081"], occupations=[])
    round_execute(run_id=run.pk)
    assert Match.objects.filter(pk=theirs.pk, status="proposed").exists()
    assert set(Match.objects.filter(run=run).values_list("laborer_id", flat=True)) == {
        lab.pk for lab in laborers
    }


def test_a_round_deletes_the_proposals_it_replaces_with_their_events(coordinator) -> None:
    from matching.models import MatchEvent

    laborers, vacancies = pool(n_laborers=2, openings=4)
    elsewhere = LaborerFactory(county_id="451002", township_id="451002001")
    replaced = MatchFactory(laborer=laborers[0], vacancy=vacancies[0], status="proposed")
    theirs = MatchFactory(laborer=elsewhere, vacancy=vacancies[0], status="proposed")
    offered = MatchFactory(laborer=laborers[1], vacancy=vacancies[1], status="offered")
    for match in (replaced, theirs, offered):
        MatchEvent.objects.create(match=match, to_status=match.status, note="test")
    run = run_create(actor=coordinator, counties=["451081"], occupations=[])
    round_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert not Match.objects.filter(pk=replaced.pk).exists()
    # The other county's proposal and the offer stay, with their events.
    assert sorted(MatchEvent.objects.values_list("match_id", flat=True)) == sorted(
        [theirs.pk, offered.pk]
    )
    assert sorted(Match.objects.exclude(run=run).values_list("pk", "status")) == sorted(
        [(theirs.pk, "proposed"), (offered.pk, "offered")]
    )
    # The laborer holding an offer is not in the round: only the other one is proposed.
    assert list(Match.objects.filter(run=run).values_list("laborer_id", flat=True)) == [
        laborers[0].pk
    ]


def test_run_input_is_validated(client_for, coordinator) -> None:
    response = client_for(coordinator).post(
        "/api/v1/matching/runs/", {"counties": ["999999"], "occupations": ["pilot"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "counties: Unknown county code '999999'. "
        "occupations: Unknown occupation 'pilot'.",
        "extra": {
            "counties": ["Unknown county code '999999'."],
            "occupations": ["Unknown occupation 'pilot'."],
        },
    }
    assert MatchingRun.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"), [("caseworker", 403), ("employer", 403), ("supervisor", 202)]
)
def test_who_may_start_a_round(client_for, role, status) -> None:
    user = UserFactory(role=role)
    assert client_for(user).post("/api/v1/matching/runs/", {}, format="json").status_code == status


def test_declined_and_rejected_pairs_are_not_proposed_again(coordinator) -> None:
    soon = timezone.localdate() + timedelta(days=2)
    first, second = LaborerFactory(available_from=soon), LaborerFactory(available_from=soon)
    # The first vacancy pays better: without exclusions it would go to the first laborer.
    better = VacancyFactory(openings=1, wage_min=6000, wage_max=8000)
    other = VacancyFactory(openings=1)
    MatchFactory(laborer=first, vacancy=better, status="declined")
    MatchFactory(laborer=second, vacancy=other, status="rejected")
    run = run_create(actor=coordinator, counties=[], occupations=[])
    round_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert sorted(Match.objects.filter(run=run).values_list("laborer_id", "vacancy_id")) == sorted(
        [(first.pk, other.pk), (second.pk, better.pk)]
    )


def test_offers_declined_for_another_acceptance_are_not_held_against_the_laborer() -> None:
    from matching.models import MatchEvent
    from matching.services.loading import (
        load_laborers,
        load_vacancies,
        vocabulary_arrays,
        with_exclusions,
    )

    soon = timezone.localdate() + timedelta(days=2)
    laborer = LaborerFactory(available_from=soon)
    vacancy = VacancyFactory(openings=1)
    declined = MatchFactory(laborer=laborer, vacancy=vacancy, status="declined")
    MatchEvent.objects.create(match=declined, to_status="declined", note="accepted match 99")
    _, axes = vocabulary_arrays()
    lab, _ = load_laborers(axes)
    vac = load_vacancies(axes)
    assert with_exclusions(lab, vac).excluded.tolist() == []
    MatchEvent.objects.filter(match=declined).delete()  # an explicit decline
    assert with_exclusions(lab, vac).excluded.tolist() == [0]  # laborer 0, vacancy 0


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "insert"])
def test_proposals_are_written_with_their_explanations(copy: bool, monkeypatch) -> None:
    # COPY (PostgreSQL) formats all rows as text at once, batched INSERTs (SQLite) go row by
    # row: both store the same rows, the explanation as its own JSON object.
    from types import SimpleNamespace

    import numpy as np

    from jobmatch import bulk
    from matching.core.types import PART_NAMES
    from matching.services import rounds

    if not copy:
        monkeypatch.setattr(rounds, "writer_for_connection", bulk.InsertWriter)
    monkeypatch.setattr(bulk, "COPY_CHUNK", 1)  # COPY's rows go one chunk at a time
    laborers = [LaborerFactory() for _ in range(3)]
    vacancies = [VacancyFactory(openings=2) for _ in range(2)]
    run = MatchingRun.objects.create(policy_id=_policy().pk)
    parts = {name: np.zeros(3, dtype=np.int8) for name in PART_NAMES}
    parts["occupation"][:] = [30, 0, 25]
    parts["wage"][:] = [20, 0, 9]
    parts["priority"][:] = [5, 0, 0]
    result = SimpleNamespace(
        assignment=np.array([1, -1, 0], dtype=np.int32),
        score=np.array([55, 0, 34], dtype=np.int16),
        parts=parts,
    )
    lab = SimpleNamespace(id=np.array([lab.pk for lab in laborers]))
    vac = SimpleNamespace(id=np.array([v.pk for v in vacancies]))
    before = timezone.now()
    assert rounds.write_proposals(run, lab, vac, result) == 2
    rows = list(
        Match.objects.filter(run=run).values_list(
            "laborer_id", "vacancy_id", "score", "status", "explanation"
        )
    )
    zeros = dict.fromkeys(PART_NAMES, 0)
    assert sorted(rows) == sorted(
        [
            (
                laborers[0].pk, vacancies[1].pk, 55, "proposed",
                {"score": 55, "parts": {**zeros, "occupation": 30, "wage": 20, "priority": 5}},
            ),
            (
                laborers[2].pk, vacancies[0].pk, 34, "proposed",
                {"score": 34, "parts": {**zeros, "occupation": 25, "wage": 9}},
            ),
        ]
    )  # fmt: skip
    stamps = set(Match.objects.filter(run=run).values_list("created_at", "updated_at"))
    assert len(stamps) == 1
    created, updated = stamps.pop()
    assert created == updated and before <= created <= timezone.now()


def test_laborers_load_the_same_packed_as_fetched(monkeypatch) -> None:
    # PostgreSQL packs the pool into one bytea per query, read by numpy; other databases
    # fetch rows. Both give the same arrays, NULLs and all.
    import dataclasses

    import numpy as np

    from matching.core.types import (
        FLAG_EMPLOYMENT_DIFFICULTY,
        FLAG_POVERTY_ALLEVIATED,
        KEEP_SAME_CITY,
        KEEP_SAME_EMPLOYER,
    )
    from matching.services import loading
    from tests.factories import HouseholdFactory
    from workers.models import Household

    _, axes = loading.vocabulary_arrays()
    empty, _ = loading.load_laborers(axes)
    assert len(empty) == 0

    city = HouseholdFactory(keep_together=Household.KeepTogether.SAME_CITY)
    employer = HouseholdFactory()
    a = LaborerFactory(
        household=city,
        poverty_alleviated=True,
        skills=[("welder", 45), ("electronics_operator", 3)],
        birth_date=date(1969, 12, 31),
    )
    b = LaborerFactory(household=city, county_id="451002", min_monthly_wage=None, skills=[])
    c = LaborerFactory(household=employer, employment_difficulty=True)
    d = LaborerFactory()
    LaborerFactory(consent_to_share=False)  # not in the pool
    a.preferred_destinations.set(["440300", "440306"])
    packed, households = loading.load_laborers(axes)
    monkeypatch.setattr(loading, "_laborer_columns_packed", loading._laborer_columns_fetch)
    fetched, households_fetched = loading.load_laborers(axes)
    for f in dataclasses.fields(packed):
        assert np.array_equal(getattr(packed, f.name), getattr(fetched, f.name)), f.name
        assert getattr(packed, f.name).dtype == getattr(fetched, f.name).dtype, f.name
    assert np.array_equal(households.keep_together, households_fetched.keep_together)

    oi, di = axes.occupation_index(), axes.destination_index()
    assert packed.id.tolist() == [a.pk, b.pk, c.pk, d.pk]
    assert packed.birth_day.tolist()[0] == -1
    assert packed.county.tolist()[:2] == [
        axes.county_index()["451081"],
        axes.county_index()["451002"],
    ]
    assert packed.min_wage.tolist() == [4000, 0, 4000, 4000]
    assert packed.flags.tolist() == [FLAG_POVERTY_ALLEVIATED, 0, FLAG_EMPLOYMENT_DIFFICULTY, 0]
    years = {
        o: int(packed.skill_years[0, i]) for o, i in oi.items() if packed.skill_years[0, i] >= 0
    }
    assert years == {"welder": 45, "electronics_operator": 3}
    assert (packed.skill_years[1] == -1).all()
    assert int(packed.preferred[0]) == (1 << di["440300"]) | (1 << di["440306"])
    assert packed.preferred.tolist()[1:] == [0, 0, 0]
    assert packed.household.tolist() == [0, 0, 1, -1]
    assert households.keep_together.tolist() == [KEEP_SAME_CITY, KEEP_SAME_EMPLOYER]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_laborers_load_on_separate_connections_outside_a_transaction(monkeypatch) -> None:
    # A round's task is in no transaction: the laborers, their skills and their
    # destinations are read on two connections at once, with the same arrays as the
    # plain reads.
    import dataclasses
    import threading

    import numpy as np
    from django.db import connection

    from matching.services import loading
    from tests.factories import HouseholdFactory
    from workers.models import Household

    a = LaborerFactory(skills=[("welder", 4), ("electronics_operator", 1)])
    a.preferred_destinations.set(["440300"])
    LaborerFactory(household=HouseholdFactory(keep_together=Household.KeepTogether.SAME_CITY))
    LaborerFactory(household=HouseholdFactory(), skills=[])
    _, axes = loading.vocabulary_arrays()
    threads: set[int] = set()
    packed_columns = loading._packed_columns

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.add(threading.get_ident())
        return packed_columns(*args, **kwargs)

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return int(cursor.fetchone()[0])

    monkeypatch.setattr(loading, "_packed_columns", spy)
    assert not connection.in_atomic_block
    before = backends()
    apart, households = loading.load_laborers(axes)
    assert len(threads) == 2
    assert backends() == before  # the second connection is closed again
    monkeypatch.setattr(loading, "_laborer_columns_packed", loading._laborer_columns_fetch)
    fetched, households_fetched = loading.load_laborers(axes)
    assert len(apart) == 3
    for f in dataclasses.fields(apart):
        assert np.array_equal(getattr(apart, f.name), getattr(fetched, f.name)), f.name
    assert households.keep_together.tolist() == households_fetched.keep_together.tolist()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_laborers_load_in_turn_with_autocommit_off() -> None:
    # An open transaction outside `atomic`: a second connection would not see its rows,
    # so the reads stay on this connection.
    from django.db import transaction

    from matching.services import loading

    _, axes = loading.vocabulary_arrays()
    transaction.set_autocommit(False)
    try:
        laborer = LaborerFactory(skills=[("welder", 4)])
        lab, _ = loading.load_laborers(axes)
        assert lab.id.tolist() == [laborer.pk]
        assert int((lab.skill_years[0] >= 0).sum()) == 1
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def test_loading_nobody_by_id_and_rows_of_laborers_who_left() -> None:
    import dataclasses

    import numpy as np

    from matching.services import loading

    _, axes = loading.vocabulary_arrays()
    LaborerFactory()
    nobody, households = loading.load_laborers(axes, laborer_ids=[], eligible_only=False)
    assert (len(nobody), len(households.keep_together)) == (0, 0)
    # Skills of a laborer who joined the pool after its rows were read are left out.
    rows, known = loading._rows_of(np.array([3, 5, 9]), np.array([5, 4, 9, 10]))
    assert (rows[known].tolist(), known.tolist()) == ([1, 2], [True, False, True, False])
    rows, known = loading._rows_of(np.array([], dtype=np.int64), np.array([5]))
    assert known.tolist() == [False]
    # A county the reference tables do not know is refused, not read as another one.
    without = dataclasses.replace(axes, counties=tuple(c for c in axes.counties if c != "451081"))
    with pytest.raises(RuntimeError, match="county: a code missing from the reference tables"):
        loading.load_laborers(without)


def test_a_round_with_households_and_no_open_vacancy_is_done_with_nobody_placed(
    coordinator,
) -> None:
    # Limited to the occupation of a filled vacancy: nothing is open, households wait.
    household = HouseholdFactory()
    soon = timezone.localdate() + timedelta(days=2)
    for _ in range(2):
        LaborerFactory(available_from=soon, household=household)
    VacancyFactory(openings=3)
    VacancyFactory(openings=2, occupation_id="garment_sewer", status="filled")
    run = run_create(actor=coordinator, counties=[], occupations=["garment_sewer"])
    round_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.openings, run.assigned, run.total_score) == (
        "done", "", 0, 0, 0,
    )  # fmt: skip
    assert not Match.objects.exists()
