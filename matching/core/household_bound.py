"""How much keeping households together costs at best: an exact bound for small pools.

A round reports its gap to the relaxation without household rules (`upper_bound`). That
gap has two parts: what the household rules cost any assignment, and what the round
leaves on top. `household_optimum` separates them on pools small enough for an exact
model: over every pair that passes the hard rules (not just candidate lists), it solves

* the relaxation without household rules (min-cost flow, exact), and
* the best total score of any assignment that keeps households together (CP-SAT), with
  the solver's proven upper bound when it stops at its time limit.

No assignment that keeps households together scores more than `score_bound`, so
(upper_bound - score_bound) / upper_bound is the least gap any round can report on that
pool. It also gives the bound that prices households (`pricing.priced_bound`) over every
feasible pair, to compare with CP-SAT's proven bound. The benchmark runs it on samples
of the seed data (`bench_households`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matching.core import scoring
from matching.core.assignment import _Households, _priced_bound, assign, household_model
from matching.core.types import (
    CandidatePairs,
    HouseholdArrays,
    LaborerArrays,
    Policy,
    VacancyArrays,
    Vocabulary,
)

# Laborer x vacancy checks made at once when listing every feasible pair; pools above
# MAX_CELLS (e.g. 10,000 laborers x 2,000 vacancies) are refused: the exact model is for
# samples.
_CHUNK_CELLS = 4_000_000
MAX_CELLS = 20_000_000


@dataclass(frozen=True)
class HouseholdOptimum:
    """Exact results over all feasible pairs of one pool."""

    feasible_pairs: int
    relaxation_assigned: int  # households ignored: most placements, then best score
    relaxation_score: int
    best_assigned: int  # the best household-keeping assignment CP-SAT found
    best_score: int
    score_bound: int  # no household-keeping assignment scores more
    optimal: bool  # best_score == score_bound, proven
    # The bound that prices households (`pricing.priced_bound`) over the same pairs,
    # from the exact relaxation's prices: what a round's `household_bound` would be if
    # its pairs were every feasible pair.
    priced_bound: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def feasible_pairs(
    lab: LaborerArrays, vac: VacancyArrays, vocab: Vocabulary, policy: Policy
) -> CandidatePairs:
    """Every (laborer, vacancy) pair that passes the hard rules, with its score."""
    n, v = len(lab), len(vac)
    if n * v > MAX_CELLS:
        raise ValueError(f"{n} laborers x {v} vacancies is too large for the exact model")
    parts = []
    rows_per_chunk = max(1, _CHUNK_CELLS // max(v, 1))
    cols = np.arange(v, dtype=np.int64)
    for start in range(0, n, rows_per_chunk):
        rows = np.arange(start, min(n, start + rows_per_chunk), dtype=np.int64)
        li = np.repeat(rows, v)
        vj = np.tile(cols, rows.shape[0])
        ok = scoring.hard_mask(lab, vac, vocab, policy, li, vj)
        li, vj = li[ok], vj[ok]
        if li.shape[0]:
            score = scoring.score_parts(lab, vac, vocab, policy, li, vj)["score"]
            parts.append(CandidatePairs(li, vj, score.astype(np.int16)))
    return CandidatePairs.concat(parts)


def household_optimum(
    lab: LaborerArrays,
    vac: VacancyArrays,
    households: HouseholdArrays,
    vocab: Vocabulary,
    policy: Policy,
    *,
    time_limit_s: float = 60.0,
    workers: int = 2,
) -> HouseholdOptimum:
    """Best total score that keeps households together, and its proven bound.

    The model: one boolean per feasible pair; a laborer takes at most one vacancy, a
    vacancy at most its openings; the members of a household are all placed or none,
    and (`same_employer` / `same_city`) all at the options of one employer or city.
    It maximizes the total score only (not placements first as a round does): the bound
    then covers the score of every household-keeping assignment, the round's included.
    A wall-clock limit (`time_limit_s`): this is a measurement, not a round, and need not
    be reproducible to the last point.
    """
    started = time.perf_counter()
    pairs = feasible_pairs(lab, vac, vocab, policy)
    cap = np.maximum(vac.openings.astype(np.int64), 0)
    relax = assign(pairs, cap, len(lab))
    p_lab = pairs.laborer.astype(np.int64)
    p_vac = pairs.vacancy.astype(np.int64)
    p_sc = pairs.score.astype(np.int64)
    ok = cap[p_vac] > 0
    p_lab, p_vac, p_sc = p_lab[ok], p_vac[ok], p_sc[ok]

    hh = _Households.build(lab, households)
    priced = _priced_bound([pairs], cap, relax.vacancy, hh, lab, vac)
    model, x = household_model(np.arange(len(lab)), p_lab, p_vac, cap, lab, vac, hh)
    model.maximize(sum(int(s) * x[i] for i, s in enumerate(p_sc.tolist())))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen_x = np.array([solver.value(var) for var in x], dtype=bool)
        best_assigned = int(chosen_x.sum())
        best_score = int(p_sc[chosen_x].sum())
    else:  # nothing found in time (the bound still holds)
        best_assigned = best_score = 0
    # Scores are integers, so the bound rounds down.
    bound = int(np.floor(solver.best_objective_bound + 1e-6))
    return HouseholdOptimum(
        feasible_pairs=int(p_lab.shape[0]),
        relaxation_assigned=relax.assigned,
        relaxation_score=relax.total_score,
        best_assigned=best_assigned,
        best_score=best_score,
        score_bound=bound,
        optimal=status == cp_model.OPTIMAL,
        priced_bound=priced.bound,
        seconds=round(time.perf_counter() - started, 2),
    )
