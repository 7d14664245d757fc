"""Executing a matching round: load the pool, solve in the core, write proposals.

Idempotent: the run is claimed with a conditional UPDATE (a finished run is never run
again), the core is deterministic, and proposals are replaced inside one transaction, so
a re-delivered task (acks_late) leaves the same result.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from jobmatch.bulk import CopyWriter, writer_for_connection
from matching.core.assignment import round_prices, solve_round
from matching.core.pricing import PricedBound
from matching.core.types import (
    PART_NAMES,
    LaborerArrays,
    RoundResult,
    VacancyArrays,
    household_gap,
)
from matching.models import Match, MatchEvent, MatchingRun, MatchStatus
from matching.services import fanout
from matching.services.jobs import job_claim, job_done, job_fail, job_progress
from matching.services.loading import (
    fitting_occupations,
    load_laborers,
    load_vacancies,
    vocabulary_arrays,
    with_exclusions,
)
from matching.services.policy import policy_core

logger = logging.getLogger(__name__)

# Rounds from this many laborers write their proposals early (`EarlyWrite`).
EARLY_WRITE_MIN = 50_000


def _progress_reporter(
    run_id: int, start: float = 0.0, span: float = 1.0
) -> Callable[[float], None]:
    last = [-1.0]

    def report(fraction: float) -> None:
        value = start + span * max(0.0, min(1.0, fraction))
        if value - last[0] >= 0.02 or value >= start + span:
            last[0] = value
            job_progress(MatchingRun, run_id, value)

    return report


def proposals_in_scope(run: MatchingRun) -> Q:
    """Proposals a round replaces: those of its counties' laborers and its occupations'
    vacancies (all proposals for an unrestricted round)."""
    scope = Q(status=MatchStatus.PROPOSED)
    if run.counties:
        scope &= Q(laborer__county_id__in=run.counties)
    if run.occupations:
        scope &= Q(vacancy__occupation_id__in=run.occupations)
    return scope


def delete_proposals(run: MatchingRun) -> int:
    """Delete the proposals `run` replaces (and their status events, if any), in SQL.

    Not `QuerySet.delete()`: with the events' CASCADE and the seats' PROTECT to honour,
    Django's collector loads every match as a model instance first, and replacing a
    Baise-scale round's 500,000 proposals took 35 s that way against 0.7 s here (plus
    the foreign-key checks at commit, 6 s either way). The collector's two rules still
    hold: events go with their match, and a match with a seat cannot go (a seat holds
    an accepted match, never a proposal; the database's foreign key would refuse it
    at commit). Returns the number of proposals deleted.
    """
    scope = Match.objects.filter(proposals_in_scope(run))
    MatchEvent.objects.filter(match__in=scope)._raw_delete(router.db_for_write(MatchEvent))
    return int(scope._raw_delete(router.db_for_write(Match)))


_COLUMNS = [
    "laborer_id",
    "vacancy_id",
    "run_id",
    "score",
    "explanation",
    "status",
    "created_at",
    "updated_at",
]


def _insert_proposals(
    run: MatchingRun,
    lab: LaborerArrays,
    vac: VacancyArrays,
    rows_idx: np.ndarray,
    assignment: np.ndarray,
    score: np.ndarray,
    parts: dict[str, np.ndarray],
) -> int:
    """Insert the proposals of laborers `rows_idx` (each placed in `assignment`), in the
    caller's transaction. Returns the number written."""
    laborer_ids = lab.id[rows_idx]
    vacancy_ids = vac.id[assignment[rows_idx]]
    scores = score[rows_idx]
    now = timezone.now()
    # The explanation as json.dumps(..., separators=(",", ":")) writes it, formatted from
    # the columns: only integers go in, so nothing needs escaping for JSON or COPY. Made
    # as the writer asks for rows (COPY stores each chunk while the next is formatted).
    template = '{"score":%d,"parts":{' + ",".join(f'"{n}":%d' for n in PART_NAMES) + "}}"
    explanations = (
        template % values
        for values in zip(
            scores.tolist(), *(parts[n][rows_idx].tolist() for n in PART_NAMES), strict=True
        )
    )
    writer = writer_for_connection()
    if isinstance(writer, CopyWriter):
        # Ids from the table's identity as COPY inserts: reserving 500,000 of them
        # first (one nextval() each, fetched to Python) took 1.4 s.
        stamp = now.isoformat()
        fixed = f"{run.pk}\t%d\t%s\t{MatchStatus.PROPOSED.value}\t{stamp}\t{stamp}\n"
        lines = (
            f"{li}\t{vj}\t" + fixed % (sc, ex)
            for li, vj, sc, ex in zip(
                laborer_ids.tolist(), vacancy_ids.tolist(), scores.tolist(), explanations,
                strict=True,
            )
        )  # fmt: skip
        written = writer.write_text(Match, _COLUMNS, lines)
    else:
        ids = writer.reserve_ids(Match, len(rows_idx)).tolist()
        rows = (
            (i, li, vj, run.pk, sc, ex, MatchStatus.PROPOSED, now, now)
            for i, li, vj, sc, ex in zip(
                ids, laborer_ids.tolist(), vacancy_ids.tolist(), scores.tolist(),
                explanations, strict=True,
            )
        )  # fmt: skip
        written = writer.write(Match, ["id", *_COLUMNS], rows)
    writer.finish([Match])
    return written


def _offered_since(lab: LaborerArrays) -> np.ndarray:
    """Mask of the round's laborers who hold an offered or accepted match now.

    The pool left out everybody holding one when it was read; an employer may since have
    offered one of the old proposals. Called once those are deleted (and locked, until
    the commit): no new offer can come for a laborer of the round after that. Without
    this the round would propose a job to someone holding an offer, and proposing the
    offered pair again broke the round's whole write on `one_open_match_per_pair`.
    """
    holders = Match.objects.filter(
        status__in=[MatchStatus.OFFERED, MatchStatus.ACCEPTED]
    ).values_list("laborer_id", flat=True)
    return np.isin(lab.id, np.fromiter(holders.iterator(chunk_size=10_000), dtype=np.int64))


def write_proposals(
    run: MatchingRun, lab: LaborerArrays, vac: VacancyArrays, result: RoundResult
) -> int:
    """Replace the proposals `run` replaces by the round's, in one transaction; returns
    the proposals written (laborers offered a job since the pool was read get none)."""
    with transaction.atomic():
        delete_proposals(run)
        placed = (result.assignment >= 0) & ~_offered_since(lab)
        return _insert_proposals(
            run, lab, vac, np.flatnonzero(placed), result.assignment, result.score, result.parts
        )


class _Abandoned(Exception):
    """The round failed after its early write began: roll that write back."""


# (assignment, score, parts, final), or None: the round failed.
_Step = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], bool] | None


class EarlyWrite:
    """A large round's proposals, written while the core still works.

    Writing 520,000 proposals took 16 s after the core at Baise scale (the rows, six
    indexes, and the foreign-key checks of the rows and of the proposals they replace),
    all in PostgreSQL's process while ours waited. Yet most placements are known well
    before the end: the core tells its assignment so far after the first flow, after the
    relaxation and after the household stage (`solve_round(on_assignment=...)`), and
    474,000 of the relaxation's 533,000 placements are final. So one transaction, on a
    second connection in a
    thread, replaces the old proposals with each assignment told, as a difference from
    the one before (rows of laborers whose placement changed are deleted, their new
    ones inserted), with the foreign keys checked as it goes (`SET CONSTRAINTS ALL
    IMMEDIATE`). The final assignment (`finish`) is the last difference, then the
    commit. Readers never see a provisional row, and nothing stays written if the round
    fails (`abandon` rolls back). An assignment superseded before the thread got to it
    is skipped.

    Only where another connection sees what this one sees (PostgreSQL, no transaction
    open: a round's task), for rounds of at least EARLY_WRITE_MIN laborers.
    """

    def __init__(self, run: MatchingRun, lab: LaborerArrays, vac: VacancyArrays) -> None:
        self.run, self.lab, self.vac = run, lab, vac
        self._steps: queue.SimpleQueue[_Step] = queue.SimpleQueue()
        self._thread: ThreadPoolExecutor | None = None
        self._written: Future[dict[str, float]] | None = None

    @staticmethod
    def possible(lab: LaborerArrays) -> bool:
        return (
            len(lab) >= EARLY_WRITE_MIN
            and connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and connection.get_autocommit()
        )

    def update(
        self, assignment: np.ndarray, score: np.ndarray, parts: dict[str, np.ndarray]
    ) -> None:
        """The core's `on_assignment`: write this provisional assignment next."""
        if self._written is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-write")
            self._written = self._thread.submit(self._write)
        self._steps.put((assignment, score, parts, False))

    def finish(self, result: RoundResult) -> dict[str, float]:
        """Bring the written rows to `result` and commit; returns the write's timings."""
        if self._written is None:  # nothing was told
            write_proposals(self.run, self.lab, self.vac, result)
            return {}
        self._steps.put((result.assignment, result.score, result.parts, True))
        try:
            return self._written.result()
        finally:
            self._close()

    def abandon(self) -> None:
        """Roll the early write back (the round failed): waits for the thread."""
        if self._written is None:
            return
        self._steps.put(None)
        try:
            self._written.result()
        except _Abandoned:
            pass
        except Exception:
            logger.exception("matching run %s: rolling back its early write", self.run.pk)
        finally:
            self._close()

    def _close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def _next(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], bool]:
        step = self._steps.get()
        while step is not None and not step[3] and not self._steps.empty():
            step = self._steps.get()  # superseded before its turn
        if step is None:
            raise _Abandoned
        return step

    def _write(self) -> dict[str, float]:
        times = {"write_early": 0.0, "write_final": 0.0, "write_changed": 0.0}
        offered = np.zeros(len(self.lab), dtype=bool)
        try:
            with transaction.atomic():  # this thread's own connection
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                written = None
                while True:
                    assignment, score, parts, final = self._next()
                    t = time.perf_counter()
                    if written is None:
                        delete_proposals(self.run)
                        offered = _offered_since(self.lab)
                        written = np.full(assignment.shape[0], -1, dtype=assignment.dtype)
                    assignment = np.where(offered, -1, assignment)
                    changed = self._apply(written, assignment, score, parts)
                    written = assignment
                    if final:
                        times["write_changed"] = float(changed)
                        times["write_offered_since"] = float(offered.sum())
                        break
                    times["write_early"] += time.perf_counter() - t
            times["write_final"] = time.perf_counter() - t  # with the commit
            return times
        finally:
            connections.close_all()  # this thread's connection only

    def _apply(
        self,
        written: np.ndarray,
        assignment: np.ndarray,
        score: np.ndarray,
        parts: dict[str, np.ndarray],
    ) -> int:
        """Rows from `written` (vacancy per laborer, -1: none) to `assignment`: returns
        the rows deleted and inserted."""
        moved = np.flatnonzero(assignment != written)
        gone = moved[written[moved] >= 0]
        new = moved[assignment[moved] >= 0]
        if gone.shape[0]:
            # Joined to the ids as a table: as `laborer_id = ANY(array)` PostgreSQL
            # scanned the run's rows and searched the array for each (95 s at Baise scale).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {Match._meta.db_table} AS m"
                    " USING unnest(%s::bigint[]) AS gone(id)"
                    " WHERE m.laborer_id = gone.id AND m.run_id = %s AND m.status = %s",
                    [self.lab.id[gone].tolist(), self.run.pk, MatchStatus.PROPOSED.value],
                )
        _insert_proposals(self.run, self.lab, self.vac, new, assignment, score, parts)
        return int(gone.shape[0] + new.shape[0])


def fanout_enabled() -> bool:
    """Fan scoring out only where it can help and work: several tasks wanted, a real
    broker (not eager) and a result backend for the chord."""
    from jobmatch.celery import app

    return (
        settings.MATCHING_SCORING_FANOUT > 1
        and not app.conf.task_always_eager
        and bool(app.conf.result_backend)
    )


def round_execute(*, run_id: int) -> None:
    """The round's task: load the pool, then either solve here or fan scoring out."""
    run = job_claim(MatchingRun, run_id)
    if run is None:
        logger.info("matching run %s is finished or abandoned: nothing to do", run_id)
        return
    try:
        policy = policy_core(run.policy)
        vocab, axes = vocabulary_arrays()
        t = time.perf_counter()
        lab, households = load_laborers(
            axes, counties=run.counties, skills=fitting_occupations(run.occupations)
        )
        vac = load_vacancies(axes, occupations=run.occupations)
        lab = with_exclusions(lab, vac)
        load_seconds = round(time.perf_counter() - t, 3)
        MatchingRun.objects.filter(pk=run_id).update(
            laborers=len(lab), openings=int(vac.openings.sum()), stats={"load": load_seconds}
        )
        job_progress(MatchingRun, run_id, 0.05)
        if fanout_enabled() and len(vac):
            _fan_out(run, lab, vac, households, vocab, policy)
            return
        _solve_and_finish(
            run, lab, vac, households, vocab, policy,
            progress=_progress_reporter(run_id, 0.05, 0.85),
        )  # fmt: skip
    except Exception as exc:
        # Recorded on the run where coordinators see it, then re-raised for the worker log;
        # a task that fails this way is acknowledged, not retried (no retry would help).
        logger.exception("matching run %s failed", run_id)
        job_fail(MatchingRun, run_id, f"{type(exc).__name__}: {exc}")
        raise


def _fan_out(
    run: MatchingRun, lab: Any, vac: Any, households: Any, vocab: Any, policy: Any
) -> None:
    from celery import chord

    from matching.tasks import finish_round, score_block

    fanout.save_pool(run.pk, lab, vac, households)
    t = time.perf_counter()
    price = round_prices(lab, vac, vocab, policy)
    if price is not None:
        # The solve gets these prices and does not time them: its stages come from here.
        fanout.save_prices(run.pk, price)
        run.refresh_from_db(fields=["stats"])
        stats = {**run.stats, "sample_prices": round(time.perf_counter() - t, 3)}
        MatchingRun.objects.filter(pk=run.pk).update(stats=stats)
    groups = fanout.blocks(vac, settings.MATCHING_SCORING_FANOUT)
    chord(score_block.si(run.pk, occupations) for occupations in groups)(finish_round.s(run.pk))


def round_score_block(*, run_id: int, occupations: list[int]) -> str:
    run = MatchingRun.objects.select_related("policy").get(pk=run_id)
    vocab, _ = vocabulary_arrays()
    return fanout.score_block(run_id, occupations, vocab, policy_core(run.policy))


def round_finish(*, run_id: int, candidate_paths: list[str]) -> None:
    """The chord's callback: merge the blocks' candidates and solve the whole round."""
    run = MatchingRun.objects.select_related("policy").filter(pk=run_id, status="running").first()
    if run is None:
        return
    try:
        policy = policy_core(run.policy)
        vocab, _ = vocabulary_arrays()
        lab, vac, households = fanout.load_pool(run_id)
        price = fanout.load_prices(run_id)
        t = time.perf_counter()
        candidates = fanout.merged_candidates(candidate_paths, policy.k, price)
        merge_seconds = time.perf_counter() - t
        _solve_and_finish(
            run, lab, vac, households, vocab, policy,
            candidates=candidates, price=price, progress=_progress_reporter(run_id, 0.4, 0.5),
            stats={"merge": merge_seconds},
        )  # fmt: skip
    except Exception as exc:
        logger.exception("matching run %s failed", run_id)
        job_fail(MatchingRun, run_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        fanout.cleanup(run_id)


def _solve_and_finish(
    run: MatchingRun,
    lab: LaborerArrays,
    vac: VacancyArrays,
    households: Any,
    vocab: Any,
    policy: Any,
    stats: dict[str, float] | None = None,
    **options: Any,
) -> None:
    """Solve the round and write its proposals (early where `EarlyWrite` can)."""
    early = EarlyWrite(run, lab, vac) if EarlyWrite.possible(lab) else None
    try:
        result = solve_round(
            lab, vac, households, vocab, policy,
            on_assignment=early.update if early is not None else None, **options,
        )  # fmt: skip
    except BaseException:
        if early is not None:
            early.abandon()
        raise
    result.stats.update(stats or {})
    _finish(run, lab, vac, result, early)


def _finish(
    run: MatchingRun,
    lab: LaborerArrays,
    vac: VacancyArrays,
    result: RoundResult,
    early: EarlyWrite | None = None,
) -> None:
    run.refresh_from_db(fields=["stats", "started_at"])
    stats = dict(run.stats)
    stats.update({k: round(float(v), 3) for k, v in result.stats.items()})
    t = time.perf_counter()
    if early is not None:
        times = early.finish(result)
        stats.update({k: round(v, 3) for k, v in times.items()})
    else:
        write_proposals(run, lab, vac, result)
    # What the round waited for after the core: with an early write, its last part.
    stats["write"] = round(time.perf_counter() - t, 3)
    if result.household_bound_later is not None:
        # Tells clients the null household bound is coming, not absent (see below).
        stats["priced_pending"] = 1.0
    job_done(
        MatchingRun,
        run.pk,
        progress=1.0,
        candidate_pairs=result.candidate_pairs,
        assigned=result.assigned,
        total_score=result.total_score,
        upper_bound=result.upper_bound,
        gap=result.gap,
        household_bound=result.household_bound,
        household_gap=result.household_gap,
        seconds=round((timezone.now() - run.started_at).total_seconds(), 3),
        stats={
            **stats,
            "households_placed": result.households_placed,
            "households_unplaced": result.households_unplaced,
            "stranding_pairs_added": result.stranding_pairs_added,
            "upper_bound_assigned": result.upper_bound_assigned,
        },
    )
    if result.household_bound_later is not None:
        _bound_later(run.pk, result.household_bound_later, result.total_score)


def _bound_later(run_id: int, later: Callable[[], PricedBound], total_score: int) -> None:
    """The bound that prices households, for a round too large to wait for it: computed
    once the run is done and its proposals are written, then added to the run. A
    failure here leaves the bound unknown (null, and `stats["priced_failed"]`) and is
    logged; the round stands, and its task succeeds. Meanwhile the run's
    `stats["priced_pending"]` is 1."""
    t = time.perf_counter()
    try:
        priced = later()
        fields: dict[str, Any] = {
            "household_bound": priced.bound,
            "household_gap": household_gap(priced.bound, total_score),
        }
        stats = {
            "priced_seconds": round(time.perf_counter() - t, 3),
            "priced_steps": float(priced.steps),
            "priced_after_done": 1.0,
        }
    except Exception:
        logger.exception("matching run %s: the household bound failed", run_id)
        fields, stats = {}, {"priced_failed": 1.0}
    stats["priced_pending"] = 0.0
    try:
        with transaction.atomic():
            run = MatchingRun.objects.select_for_update().get(pk=run_id)
            for name, value in fields.items():
                setattr(run, name, value)
            run.stats = {**run.stats, **stats}
            run.save(update_fields=[*fields, "stats"])
    except Exception:
        logger.exception("matching run %s: the household bound could not be stored", run_id)
