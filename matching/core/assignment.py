"""Assignment of laborers to vacancies: most placements first, then the best total score.

Layers:

* `assign`: the exact lexicographic optimum over candidate pairs, no household rules.
  OR-Tools SimpleMinCostFlow, arcs added as numpy batches, `solve_max_flow_with_min_cost`:
  OR-Tools first finds the maximum flow (most placements) and then the cheapest flow of
  that value, with unit costs 100 - score. Costs stay in [0, 100] per unit of flow, so
  nothing can overflow (no big-M bonus is needed for the lexicographic goal).
* residual solves: the same solve restricted to unplaced laborers and the openings
  left, used to remove stranding and to refill openings freed by household repairs.
  These and the round's first flow are exact up to FLOW_PRUNE_MIN pairs; larger ones
  keep each vacancy's best FLOW_KEEP pairs per opening (`_prune`), so at Baise scale
  they are exact on that pruned graph only;
* households: small connected components that contain households are solved exactly
  with CP-SAT; elsewhere split households are repaired greedily (joint placement at one
  employer / in one city, displacing lower-scored single laborers only when that does not
  lose placements or score) and the freed openings are refilled exactly;
* reassignments: openings left that moves of placed laborers could fill (augmenting
  paths outside the top-k pairs) get those pairs and the flow is re-solved;
* `solve_round`: candidates -> relaxation (+ no stranding, + reassignments) -> households
  -> no stranding,
  with the relaxation's objective as `upper_bound` and the gap to it (a true upper bound
  of the household-free problem on its candidate graph only where no flow was pruned);
* `greedy_baseline`: first come, first served, for comparison.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.core import pricing, scoring
from matching.core.types import (
    KEEP_SAME_EMPLOYER,
    PART_NAMES,
    CandidatePairs,
    HouseholdArrays,
    LaborerArrays,
    Policy,
    RoundResult,
    VacancyArrays,
    Vocabulary,
    household_gap,
)

# Components (laborers + vacancies joined by candidate pairs) that contain households
# are solved exactly with CP-SAT up to this many pairs.
CPSAT_MAX_PAIRS = 4_000
# Best open vacancies per unplaced laborer added by the later stranding passes. At Baise
# scale (flows pruned to FLOW_KEEP per place) 8 instead of 3 placed 2,000 more people
# with a 0.18% higher total score, in 17 passes instead of 29, for about 2 s more
# (12: 200 more placed for 3 s more; 2: 1,200 fewer placed).
STRANDING_K = 8
# ... and by the first pass, which scans a million laborers at Baise scale. There 4
# instead of 10 saved 8 s (a 9M-arc flow, before flows were pruned) and placed as many;
# 3 placed 800 fewer, and 6 (with 5 in the later passes) 640 fewer.
STRANDING_FIRST_K = 4
# Candidate vacancies per household member when looking for a joint placement.
HOUSEHOLD_K = 30
# Joint options (employers / cities) tried per household during the repair. At Baise
# scale 48 placed 200 more people than 24 at no measurable cost; 96 placed fewer than 48.
HOUSEHOLD_OPTIONS = 48
# Reassignment passes after the relaxation (`_refill`): at most REFILL_PASSES re-solves,
# searches REFILL_DEPTH levels deep, keeping REFILL_UNPLACED unplaced laborers per reached
# vacancy and REFILL_MOVES moves out of each. The search scans the best REFILL_SCAN feasible
# laborers of each reached vacancy (not all of them: at Baise scale one vacancy has
# hundreds of thousands) and stops widening once it holds REFILL_MAX_PAIRS pairs, so its
# memory stays bounded; within those bounds it is exact.
REFILL_PASSES = 8
REFILL_DEPTH = 16
REFILL_UNPLACED = 50
REFILL_MOVES = 5
REFILL_SCAN = 5_000
REFILL_MAX_PAIRS = 10_000_000
# Its scans of all laborers cost seconds at 100,000 laborers and minutes at Baise scale
# (1.46M laborers x thousands of open vacancies): rounds with a larger candidate pool skip
# it (`stats["refill_skipped"]`) for the cheaper one-move refill (`_move_refill`), which
# on generated data places 1% fewer at 100,000 laborers in a fifth of the time.
REFILL_MAX_POOL = 500_000
# Above it, `_move_refill`: MOVE_K moves per placed laborer, at most MOVE_PASSES passes.
# At Baise scale passes 4 and 5 placed 2,100 more in the relaxation and 800 more in the
# round, for 4 s; 4 moves instead of 2 placed 220 more, with a 0.07% higher total score,
# in as much time (the flows get only the useful moves).
MOVE_K = 4
MOVE_PASSES = 5
# Passes of the relaxation's refill that move every placed laborer; later ones move only
# laborers whose place an unplaced pool candidate could take, and household members.
# The others' moves gain nothing then (none of 1.25M did in a first pass at Baise
# scale, as the flows were exact), but they join the pool, where laborers who lose their
# place later find candidates. At Baise scale 3 instead of all 5 passes saved 2.2 s for
# 24 fewer placed and a higher total score; 2 saved 3.5 s for 255 fewer, and 1 saved
# 5 s for 500 fewer (without the members, and deeper lists in the first pass instead:
# 1,000 fewer).
MOVE_ALL_PASSES = 3
# Unplaced candidates kept per place a vacancy can offer in a one-move refill.
MOVE_REPLACE = 4
# Moves kept per opening of an open vacancy in a one-move refill (`_useful_moves`).
MOVE_KEEP = 8
# Passes of the one-move refill of single laborers after the household stage (each
# refills a few hundred to thousands of the openings that members left, in seconds).
SINGLES_MOVE_PASSES = 6
# ... with this many moves per placed single: at Baise scale 4 instead of 2 placed 4,000
# more people for about 10 s more.
SINGLES_MOVE_K = 4
# Large flows keep, for each vacancy, only its best FLOW_KEEP pairs per place it offers
# (all of them where it has no more): the first flow over the top-k lists and the
# residual fills. Every laborer ranks much the same well-paid vacancies first, so at
# Baise scale a few hundred vacancies drew most of the 11.6M first-flow arcs for 215,000
# placements. Keeping 8 per place cut that flow to 1.2M arcs and 29 s to 9 s, and the
# residual fills from 13.5 s to 3 s in all; the round placed 0.07% fewer people with a
# 0.06% lower total score. Since the refills offer only useful moves, 5 per place does
# better than 8: 870 more placed, a 0.02% lower total score and a 7.8 s first flow
# instead of 10.4 s (4: 1,170 more placed, 0.14% lower; 3: 1,000 more, 0.25% lower,
# and slower stranding). Flows of up to FLOW_PRUNE_MIN pairs (every test instance) stay
# exact. At Baise scale 100,000 instead of 1,000,000 also prunes the middle stranding
# passes' flows of 300,000 to 990,000 pairs (unpruned, 1 to 1.8 s each): 2 to 5 s less
# in OR-Tools; 36 fewer placed (0.014% lower total score), 16 more (0.005% higher) and
# 675 fewer (0.06% lower) on three full-scale seeds (200,000: 49 more and 236 fewer;
# 50,000: as fast as 100,000).
FLOW_KEEP = 5
FLOW_PRUNE_MIN = 100_000
# Rounds of at least PRICE_SAMPLE_MIN laborers first solve the relaxation of a random
# PRICE_SAMPLE of them, with each vacancy's openings scaled alike, and price the
# vacancies from it (`_sample_prices`); the round's candidate and no-stranding searches
# then rank vacancies by score - price. Top-k lists by score alone all name the same
# well-paid vacancies: at Baise scale the first flow placed 213,000 people from 13
# million pairs, and the relaxation ended with 519,455 placed (35,985,843 points). With
# the prices of a 5% sample (3.2 s) it ended with 538,958 placed (36,339,818 points:
# 0.98% more); a 10% sample with 20 price steps (7 s) did no better (537,847 placed,
# 36,319,730 points). The whole round then placed 520,644 instead of 506,492 people,
# with a 0.95% higher total score, in about 11 s more: the no-stranding passes do more
# work (README, Decisions). At 100,000 laborers (benchmark seed 7) the round placed
# 34,650 instead of 33,270 people with a 1.5% higher total score, in 1.2 s more. Small
# rounds (the demo, the tests) rank by score alone: a 5% sample of a few thousand
# laborers would price vacancies from a handful of people each.
PRICE_SAMPLE_MIN = 50_000
PRICE_SAMPLE = 0.05
# Price steps on the sample (`pricing.priced_bound`, households ignored).
PRICE_SAMPLE_STEPS = 10
PRICE_SAMPLE_SEED = 2026


# --------------------------------------------------------------------------------------
# Exact solve
# --------------------------------------------------------------------------------------


def _dense_index(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, position of each element among them) in O(n + size).

    Replaces np.unique(return_inverse=True), which sorts: on ~14M pairs the sort alone
    took seconds, while the values here are small non-negative indices.
    """
    present = np.zeros(size, dtype=bool)
    present[x] = True
    values = np.flatnonzero(present)
    remap = np.cumsum(present, dtype=np.int64) - 1
    return values, remap[x]


def _solve_flow(
    lab: np.ndarray,
    vac: np.ndarray,
    score: np.ndarray,
    cap: np.ndarray,
    spent: dict[str, float] | None = None,
) -> np.ndarray:
    """Lexicographic optimum of (laborer, vacancy, score) pairs under capacities `cap`.

    Returns the positions (int64, ascending) of the chosen pairs in the input arrays, so
    callers read laborer, vacancy and score of the chosen pairs without a lookup. Only
    laborers and vacancies that have a pair become nodes. Each laborer is a supply node
    (1), vacancies drain into one sink with capacity `cap`; OR-Tools computes the maximum
    flow and then the minimum cost among maximum flows. Deterministic for the same input
    order. `spent["flow"]` (if given) accumulates the seconds spent inside OR-Tools.
    """
    keep = np.flatnonzero(cap[vac] > 0)
    if keep.shape[0] == 0:
        return keep.astype(np.int64)
    if keep.shape[0] < lab.shape[0]:
        lab, vac, score = lab[keep], vac[keep], score[keep]
    u_lab, li = _dense_index(lab, int(lab.max()) + 1)
    u_vac, vi = _dense_index(vac, cap.shape[0])
    nl, nv = u_lab.shape[0], u_vac.shape[0]
    sink = nl + nv
    flow = min_cost_flow.SimpleMinCostFlow()
    vi += nl
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        li, vi, np.ones(lab.shape[0], dtype=np.int64), 100 - score.astype(np.int64)
    )
    del li, vi  # OR-Tools holds its own copy: keep the peak memory down at full scale
    flow.add_arcs_with_capacity_and_unit_cost(
        nl + np.arange(nv, dtype=np.int64),
        np.full(nv, sink, dtype=np.int64),
        np.minimum(cap[u_vac].astype(np.int64), nl),
        np.zeros(nv, dtype=np.int64),
    )
    flow.set_nodes_supplies(np.arange(nl, dtype=np.int64), np.ones(nl, dtype=np.int64))
    flow.set_node_supply(sink, -int(nl))
    t0 = time.perf_counter()
    status = flow.solve_max_flow_with_min_cost()
    if spent is not None:
        spent["flow"] = spent.get("flow", 0.0) + time.perf_counter() - t0
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    used = np.flatnonzero(flow.flows(arcs) > 0)
    return keep[used].astype(np.int64)


@dataclass
class Assignment:
    """Vacancy per laborer (-1 = none) and the pair's score (0 = none)."""

    vacancy: np.ndarray  # int32[L]
    score: np.ndarray  # int16[L]
    assigned: int
    total_score: int
    stats: dict[str, float] = field(default_factory=dict)


def assign(
    candidates: CandidatePairs,
    vac_openings: np.ndarray,
    n_laborers: int | None = None,
) -> Assignment:
    """Most placements over the candidate pairs, then the best total score (exact).

    Each laborer gets at most one vacancy and vacancy j at most `vac_openings[j]`
    laborers (openings <= 0: none). No household rules here (see `solve_round`).
    """
    t0 = time.perf_counter()
    n = int(candidates.laborer.max(initial=-1)) + 1 if n_laborers is None else int(n_laborers)
    cap = np.maximum(np.asarray(vac_openings, dtype=np.int64), 0)
    idx = _solve_flow(candidates.laborer, candidates.vacancy, candidates.score, cap)
    lab_sel = candidates.laborer[idx]
    out = np.full(n, -1, dtype=np.int32)
    out[lab_sel] = candidates.vacancy[idx]
    sc = np.zeros(n, dtype=np.int16)
    sc[lab_sel] = candidates.score[idx]
    return Assignment(
        vacancy=out,
        score=sc,
        assigned=int(lab_sel.shape[0]),
        total_score=int(sc.sum(dtype=np.int64)),
        stats={"solve": time.perf_counter() - t0},
    )


# --------------------------------------------------------------------------------------
# Working state of a round
# --------------------------------------------------------------------------------------


def _select(pool: list[CandidatePairs], rows: np.ndarray) -> CandidatePairs:
    """Pairs of the laborers in bool mask `rows`, from every list of the pool."""
    return scoring.merge_candidates(
        [
            CandidatePairs(p.laborer[sel], p.vacancy[sel], p.score[sel])
            for p in pool
            if (sel := rows[p.laborer]).any()
        ],
        None,
    )


@dataclass
class _NoPairs:
    """What earlier no-stranding searches proved: every laborer in `laborers` passes the
    hard rules for no vacancy in `vacancies` (bool masks).

    Hard rules depend on the laborer and the vacancy only, never on who is placed where,
    so the proof holds for the whole round, whatever state it was found in (a refill's
    trial that is dropped included). A later search scans these laborers only against
    open vacancies outside `vacancies`: at Baise scale the searches after each refill
    pass scanned 800,000 unplaced laborers against hundreds of open vacancies, in half a
    second each, to find nothing.
    """

    laborers: np.ndarray
    vacancies: np.ndarray

    @classmethod
    def none(cls, n: int, n_vac: int) -> _NoPairs:
        return cls(np.zeros(n, dtype=bool), np.zeros(n_vac, dtype=bool))

    def learn(self, laborers: np.ndarray, vacancies: np.ndarray) -> None:
        """Add: `laborers` (mask) have no pair in `vacancies` (mask). One vacancy set is
        kept, so laborers proven for another set stay only if it covers this one."""
        if (vacancies & ~self.vacancies).any():
            self.laborers = laborers.copy()
        else:
            self.laborers = self.laborers | laborers
        self.vacancies = vacancies.copy()


class _State:
    """Assignment under construction: vacancy and score per laborer, openings left.

    `no_pairs` and `price` are shared by all copies of a round's state (static facts).
    `price` (whole points per vacancy, or None) is what the no-stranding searches rank
    open vacancies by: score - price (`_sample_prices`)."""

    def __init__(
        self,
        n: int,
        openings: np.ndarray,
        no_pairs: _NoPairs | None = None,
        price: np.ndarray | None = None,
    ) -> None:
        self.vacancy = np.full(n, -1, dtype=np.int64)
        self.score = np.zeros(n, dtype=np.int64)
        self.cap = np.maximum(openings.astype(np.int64), 0)
        self.no_pairs = _NoPairs.none(n, self.cap.shape[0]) if no_pairs is None else no_pairs
        self.price = price

    def remaining(self) -> np.ndarray:
        used = np.bincount(self.vacancy[self.vacancy >= 0], minlength=self.cap.shape[0])
        return self.cap - used

    def place(self, lab: np.ndarray, vac: np.ndarray, score: np.ndarray) -> None:
        self.vacancy[lab] = vac
        self.score[lab] = score

    def release(self, lab: np.ndarray) -> None:
        self.vacancy[lab] = -1
        self.score[lab] = 0

    def copy(self) -> _State:
        out = _State(0, self.cap, self.no_pairs, self.price)
        out.vacancy = self.vacancy.copy()
        out.score = self.score.copy()
        return out


def _fill_residual(
    state: _State,
    pool: list[CandidatePairs],
    allowed: np.ndarray,
    spent: dict[str, float] | None = None,
) -> int:
    """Exactly place unplaced `allowed` laborers into the openings left, using `pool`.

    Laborers already placed keep their vacancy. Pairs are filtered list by list with
    masks (no merge or sort of the whole pool: it holds tens of millions of pairs at full
    scale); a pair present in two lists is harmless for the flow (a laborer still takes
    one unit). Returns the number of new placements.
    """
    rem = state.remaining()
    free = allowed & (state.vacancy < 0)
    parts = []
    for p in pool:
        sel = np.flatnonzero(free[p.laborer] & (rem[p.vacancy] > 0))
        if sel.shape[0]:
            parts.append((p.laborer[sel], p.vacancy[sel], p.score[sel]))
    if not parts:
        return 0
    lab_i, vac_i, sc_i = (np.concatenate(col) for col in zip(*parts, strict=True))
    lab_i, vac_i, sc_i = _prune(lab_i, vac_i, sc_i, rem)
    idx = _solve_flow(lab_i, vac_i, sc_i, rem, spent)
    state.place(lab_i[idx], vac_i[idx], sc_i[idx].astype(np.int64))
    return int(idx.shape[0])


def _prune(
    lab_i: np.ndarray, vac_i: np.ndarray, sc_i: np.ndarray, cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each vacancy's best FLOW_KEEP x `cap` pairs, when there are more than
    FLOW_PRUNE_MIN pairs (see FLOW_KEEP); ties by laborer index, so deterministic."""
    if lab_i.shape[0] <= FLOW_PRUNE_MIN:
        return lab_i, vac_i, sc_i
    need = FLOW_KEEP * np.maximum(cap, 0)
    count = np.bincount(vac_i, minlength=cap.shape[0])
    over = count > need
    if not over[vac_i].any():
        return lab_i, vac_i, sc_i
    crowded = over[vac_i]
    rest = np.flatnonzero(~crowded)
    top = _best_within(lab_i[crowded], vac_i[crowded], sc_i[crowded], need)
    return (
        np.concatenate([lab_i[rest], top[0]]),
        np.concatenate([vac_i[rest], top[1]]),
        np.concatenate([sc_i[rest], top[2]]),
    )


def _by_laborer(a: CandidatePairs, b: CandidatePairs) -> CandidatePairs:
    """Two lists of disjoint laborers, each sorted by laborer, as one sorted list."""
    if len(b) == 0:
        return a
    if len(a) == 0:
        return b
    lab_i = np.concatenate([a.laborer, b.laborer])
    order = np.argsort(lab_i, kind="stable")
    return CandidatePairs(
        lab_i[order],
        np.concatenate([a.vacancy, b.vacancy])[order],
        np.concatenate([a.score, b.score])[order],
    )


def _unstrand(
    state: _State,
    pool: list[CandidatePairs],
    allowed: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
    spent: dict[str, float] | None = None,
) -> tuple[int, int]:
    """Repeat until no unplaced `allowed` laborer passes the hard rules for a vacancy
    with openings left: add such pairs as candidates and fill the openings exactly
    (laborers already placed keep their vacancies).

    Each pass gives every unplaced laborer its best vacancies among those still open
    (`generate_candidates` restricted to them: exact, so an empty result proves that no
    stranded pair is left): k of them in the first pass, which refills most openings
    (more choice gives better refills), then STRANDING_K. Every pass places
    at least one laborer (any such pair alone is a placement), so the loop ends.

    Within the loop openings only fill and laborers only get placed, so the vacancies
    still open are a subset of the previous pass's: a laborer without a pair in one pass
    has none in the next and is not scanned again, and a laborer who got fewer pairs
    than asked got all their open vacancies, so the next pass keeps those still open
    instead of scanning. Only the others are scanned (late passes scan thousands of
    laborers, not a million). Returns (pairs added, passes).
    """
    added = 0
    passes = 0
    todo = allowed & (state.vacancy < 0)  # laborers who may still have a stranded pair
    known = CandidatePairs.empty()  # complete lists of open vacancies (sorted by laborer)
    while True:
        rem = state.remaining()
        open_vac = np.flatnonzero(rem > 0)
        todo &= state.vacancy < 0
        if open_vac.shape[0] == 0:
            return added, passes
        if not todo.any():
            state.no_pairs.learn(allowed & (state.vacancy < 0), rem > 0)
            return added, passes
        k = min(policy.k, STRANDING_FIRST_K) if passes == 0 else STRANDING_K
        keep = (state.vacancy[known.laborer] < 0) & (rem[known.vacancy] > 0)
        known = CandidatePairs(known.laborer[keep], known.vacancy[keep], known.score[keep])
        scan = todo.copy()
        scan[known.laborer] = False
        fresh = _open_pairs(state, scan, rem > 0, k, lab, vac, vocab, policy, workers)
        # Lists sorted by laborer, then score desc: the first k of each are its best k.
        first = np.searchsorted(known.laborer, known.laborer, side="left")
        top = (np.arange(len(known)) - first) < k
        extra = _by_laborer(
            fresh, CandidatePairs(known.laborer[top], known.vacancy[top], known.score[top])
        )
        if len(extra) == 0:
            state.no_pairs.learn(allowed & (state.vacancy < 0), rem > 0)
            return added, passes
        count = np.bincount(fresh.laborer, minlength=todo.shape[0])
        todo = np.zeros_like(todo)
        todo[extra.laborer] = True
        rows = (count < k)[fresh.laborer]
        known = _by_laborer(
            known, CandidatePairs(fresh.laborer[rows], fresh.vacancy[rows], fresh.score[rows])
        )
        passes += 1
        # Pairs from `known` joined the pool when they were found.
        pool.append(fresh)
        added += len(fresh)
        if _fill_residual(state, [extra], allowed, spent) == 0:
            raise RuntimeError("stranded pairs found but none could be placed")


def _open_pairs(
    state: _State,
    scan: np.ndarray,
    is_open: np.ndarray,
    k: int,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
) -> CandidatePairs:
    """Best k open vacancies (mask `is_open`) of each laborer in mask `scan`, sorted by
    laborer then score desc (exact: no pair means none passes the hard rules). Where
    the round has prices (`state.price`), best and sorted by score - price.

    Laborers that `state.no_pairs` proved to have no pair in its vacancies are scanned
    only against the open vacancies outside them: their best pairs among those are
    their best among all open ones."""
    proof = state.no_pairs
    proven = scan & proof.laborers

    def search(rows: np.ndarray, cols: np.ndarray) -> CandidatePairs:
        if rows.shape[0] == 0 or cols.shape[0] == 0:
            return CandidatePairs.empty()
        return scoring.generate_candidates(
            lab, vac, vocab, policy, k=k, laborers=rows, vacancies=cols, workers=workers,
            price=state.price,
        )  # fmt: skip

    found = search(np.flatnonzero(scan & ~proven), np.flatnonzero(is_open))
    if proven.any():
        new_open = np.flatnonzero(is_open & ~proof.vacancies)
        found = _by_laborer(found, search(np.flatnonzero(proven), new_open))
    return found


def round_prices(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None = None,
) -> np.ndarray | None:
    """The prices a round of these laborers ranks vacancies by (`_sample_prices`), or
    None below PRICE_SAMPLE_MIN laborers (by score alone). For benchmarks that rebuild
    the round's candidate lists."""
    if len(lab) < PRICE_SAMPLE_MIN:
        return None
    return _sample_prices(lab, vac, vocab, policy, workers)


def _sample_prices(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
) -> np.ndarray:
    """Whole-point prices per vacancy from a sample of the round (int64, >= 0).

    A seeded random PRICE_SAMPLE of the laborers (households ignored) and every
    vacancy's openings times PRICE_SAMPLE (rounded at random, so the expected total is
    kept): the relaxation's first stages on that (top-k candidates, the flow, no
    stranding), then PRICE_SAMPLE_STEPS steps of `pricing.priced_bound` from
    `pricing.assignment_prices`. A vacancy's price is then about what a laborer gives up
    elsewhere for one of its openings: high where many better-suited people compete,
    0 where openings go begging. Deterministic (the seed is fixed).

    A vacancy whose openings round to none in the sample comes out full, at about its
    best pair's price. Keeping one opening for each instead placed 3,900 fewer people at
    Baise scale for the same total score, so they are left as they are."""
    rng = np.random.default_rng(PRICE_SAMPLE_SEED)
    rows = np.flatnonzero(rng.random(len(lab)) < PRICE_SAMPLE)
    cap = np.maximum(vac.openings.astype(np.int64), 0)
    scaled = np.floor(cap * PRICE_SAMPLE + rng.random(cap.shape[0])).astype(np.int64)
    s_lab = dataclasses.replace(
        lab.take(rows), household=np.full(rows.shape[0], -1, dtype=np.int32)
    )
    s_vac = dataclasses.replace(vac, openings=scaled.astype(vac.openings.dtype))
    cand = scoring.generate_candidates(s_lab, s_vac, vocab, policy, k=policy.k, workers=workers)
    state = _State(len(s_lab), s_vac.openings)
    f_lab, f_vac, f_sc = _prune(cand.laborer, cand.vacancy, cand.score, state.cap)
    idx = _solve_flow(f_lab, f_vac, f_sc, state.cap)
    state.place(f_lab[idx], f_vac[idx], f_sc[idx].astype(np.int64))
    pool = [cand]
    _unstrand(state, pool, np.ones(len(s_lab), dtype=bool), s_lab, s_vac, vocab, policy, workers)
    pairs = CandidatePairs.concat(pool)
    del pool, cand
    priced = pricing.priced_bound(
        pairs, CandidatePairs.empty(), np.zeros(0, dtype=np.int64),
        s_lab.household, np.zeros(0, dtype=np.int64), state.cap,
        start=pricing.assignment_prices([pairs], state.cap, state.vacancy),
        steps=PRICE_SAMPLE_STEPS,
    )  # fmt: skip
    return np.clip(np.rint(priced.prices), 0, scoring.MAX_PRICE).astype(np.int64)


def _pool_pairs(pool: list[CandidatePairs]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of the pool as (laborer, vacancy, score) arrays (lists concatenated)."""
    parts = [p for p in pool if len(p)]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (
        np.concatenate([p.laborer for p in parts]),
        np.concatenate([p.vacancy for p in parts]),
        np.concatenate([p.score for p in parts]),
    )


def _new_pairs(pool: list[CandidatePairs], extra: CandidatePairs, n_vac: int) -> CandidatePairs:
    """Pairs of `extra` not yet in the pool (compared among `extra`'s laborers only, so
    the check stays small when the pool is large)."""
    if len(extra) == 0:
        return extra
    rows = np.zeros(
        int(max(extra.laborer.max(), *(p.laborer.max(initial=0) for p in pool))) + 1, dtype=bool
    )
    rows[extra.laborer] = True
    have = _select(pool, rows)
    key_have = have.laborer.astype(np.int64) * n_vac + have.vacancy
    key_new = extra.laborer.astype(np.int64) * n_vac + extra.vacancy
    keep = ~np.isin(key_new, key_have)
    return CandidatePairs(extra.laborer[keep], extra.vacancy[keep], extra.score[keep])


def _best_per(
    group: np.ndarray, score: np.ndarray, tie: np.ndarray, n: int | np.ndarray
) -> np.ndarray:
    """Positions of the best `n` (or n[group]) elements (score desc, then `tie` asc) of
    each group."""
    order = np.lexsort((tie, -score.astype(np.int64), group))
    g = group[order]
    first = np.searchsorted(g, g, side="left")
    limit = n[g] if isinstance(n, np.ndarray) else n
    return order[(np.arange(g.shape[0]) - first) < limit]


@dataclass
class _FeasibleCache:
    """Every feasible laborer of the vacancies scanned so far (`done`)."""

    done: np.ndarray  # bool[V]
    parts: list[CandidatePairs] = field(default_factory=list)


def _select_vac(parts: list[CandidatePairs], cols: np.ndarray) -> CandidatePairs:
    """Pairs whose vacancy is in bool mask `cols`, list after list (no merge)."""
    return _pick(parts, [cols[p.vacancy] for p in parts])


def _select_lab(parts: list[CandidatePairs], rows: np.ndarray) -> CandidatePairs:
    """Pairs whose laborer is in bool mask `rows`, list after list (no merge)."""
    return _pick(parts, [rows[p.laborer] for p in parts])


def _pick(parts: list[CandidatePairs], masks: list[np.ndarray]) -> CandidatePairs:
    return CandidatePairs.concat(
        [
            CandidatePairs(p.laborer[m], p.vacancy[m], p.score[m])
            for p, m in zip(parts, masks, strict=True)
            if m.any()
        ]
    )


def _augmenting_pairs(
    state: _State,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    cache: _FeasibleCache,
) -> CandidatePairs:
    """Pairs over which openings left can be filled by moving placed laborers.

    Breadth-first search over feasible pairs (not only the pool; each vacancy's best
    REFILL_SCAN, up to REFILL_MAX_PAIRS in all), backwards from the
    vacancies with openings left: a vacancy is reached when one of its holders passes the
    hard rules for a reached vacancy (the holder can move there and free a place). Each
    level scans the new frontier against every laborer (`top_laborers_per_vacancy`,
    exact). Kept: up to REFILL_UNPLACED best unplaced laborers of every reached vacancy
    (they end augmenting paths) and the REFILL_MOVES best moves out of every newly reached
    vacancy (the paths' inner arcs). With no opening left it costs nothing.
    """
    n_lab = len(lab)
    rem = state.remaining()
    reached = rem > 0
    frontier = np.flatnonzero(reached)
    out = []
    for _ in range(REFILL_DEPTH):
        if frontier.shape[0] == 0:
            break
        todo = frontier[~cache.done[frontier]]
        if todo.shape[0] and sum(len(p) for p in cache.parts) >= REFILL_MAX_PAIRS:
            frontier = frontier[cache.done[frontier]]  # bounded: widen no further
            todo = todo[:0]
        if todo.shape[0]:
            # A vacancy's feasible laborers do not change between passes: scan it once.
            need = np.zeros(rem.shape[0], dtype=np.int64)
            need[todo] = min(n_lab, REFILL_SCAN)
            cache.parts.append(
                scoring.top_laborers_per_vacancy(lab, vac, vocab, policy, need, vacancies=todo)
            )
            cache.done[todo] = True
        in_front = np.zeros(rem.shape[0], dtype=bool)
        in_front[frontier] = True
        found = _select_vac(cache.parts, in_front)
        cur = state.vacancy[found.laborer]
        keep_rows = []
        unplaced = np.flatnonzero(cur < 0)
        if unplaced.shape[0]:
            keep = unplaced[
                _best_per(found.vacancy[unplaced], found.score[unplaced],
                          found.laborer[unplaced], REFILL_UNPLACED)
            ]  # fmt: skip
            keep_rows.append(keep)
        moves = np.flatnonzero((cur >= 0) & ~reached[np.maximum(cur, 0)])
        if moves.shape[0]:
            keep = moves[
                _best_per(cur[moves], found.score[moves], found.laborer[moves], REFILL_MOVES)
            ]
            keep_rows.append(keep)
        frontier = np.unique(cur[moves])
        reached[frontier] = True
        if keep_rows:
            sel = np.concatenate(keep_rows)
            out.append(CandidatePairs(found.laborer[sel], found.vacancy[sel], found.score[sel]))
    return scoring.merge_candidates(out, None) if out else CandidatePairs.empty()


def _best_within(
    lab_i: np.ndarray, vac_i: np.ndarray, sc_i: np.ndarray, need: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best need[j] pairs of each vacancy j (score desc, then laborer index), in that
    order (vacancy, score desc, laborer).

    Scores are whole points from 0 to 100, so a histogram per vacancy finds the score
    level where its need is reached: pairs above it are kept, and only the pairs at that
    level are sorted, to keep the lowest laborer indices. Sorting all 12M pairs of the
    first flow at Baise scale took 2.3 s.
    """
    if sc_i.shape[0] and (int(sc_i.min()) < 0 or int(sc_i.max()) > 100):
        raise ValueError("scores must be whole points from 0 to 100")
    n_vac = need.shape[0]
    need = need.astype(np.int64)
    level = 100 - sc_i.astype(np.int64)  # 0 = best
    hist = np.bincount(vac_i.astype(np.int64) * 101 + level, minlength=n_vac * 101)
    above = np.cumsum(hist.reshape(n_vac, 101), axis=1)  # pairs at level <= column
    # Per vacancy, the first level where `need` is reached (101: never, keep them all).
    cut = (above < need[:, None]).sum(axis=1)
    before = np.where(cut > 0, above[np.arange(n_vac), np.maximum(cut - 1, 0)], 0)
    pair_cut = cut[vac_i]
    keep = np.flatnonzero(level < pair_cut)
    tie = np.flatnonzero(level == pair_cut)
    if tie.shape[0]:
        order = tie[np.lexsort((lab_i[tie], vac_i[tie]))]
        v = vac_i[order]
        first = np.searchsorted(v, v, side="left")
        keep = np.concatenate([keep, order[(np.arange(v.shape[0]) - first) < (need - before)[v]]])
    key = (vac_i[keep].astype(np.int64) << 40) | (level[keep] << 32) | lab_i[keep]
    keep = keep[np.argsort(key)]
    return lab_i[keep], vac_i[keep], sc_i[keep]


def _taker_scores(pool: list[CandidatePairs], unplaced: np.ndarray, n_vac: int) -> np.ndarray:
    """Per vacancy, the best score of an `unplaced` laborer with a pool pair there (-1:
    none): whether, and how well, somebody could take a place freed there."""
    # Which (vacancy, score) occur, as a table of 128 scores per vacancy: filling it and
    # reading each row's highest took half the time of np.maximum.at over the pool's
    # 20 million pairs at Baise scale.
    seen = np.zeros((n_vac, 128), dtype=bool)
    flat = seen.reshape(-1)
    for p in pool:
        sel = np.flatnonzero(unplaced[p.laborer])
        flat[p.vacancy[sel].astype(np.int64) * 128 + p.score[sel]] = True
    return np.where(seen.any(axis=1), 127 - np.argmax(seen[:, ::-1], axis=1), -1).astype(np.int64)


def _useful_moves(
    state: _State, moves: CandidatePairs, taker: np.ndarray, rem: np.ndarray
) -> CandidatePairs:
    """The moves of placed laborers into open vacancies worth offering the refill flow.

    A move gains a placement only if an unplaced laborer can take the mover's place, so
    moves are valued as: a placement (when the mover's vacancy has an unplaced
    candidate, `taker` >= 0) + the mover's score change + the best such candidate's
    score. Moves that gain neither a placement nor score are dropped, and each open
    vacancy keeps its best MOVE_KEEP per opening. At Baise scale every placed laborer
    has open vacancies that they qualify for (1.3M moves for a few thousand openings),
    and the flow over all of them took up to 5 s a pass; over the useful ones it takes a
    tenth of a second.

    Unplaced candidates come from the pool, as in the flow. Scanning all unplaced
    laborers for the movers' vacancies that have none there (7,000 of them at Baise
    scale) placed 1,000 more people in a round, but took 15 to 20 s a pass: most of those
    vacancies have almost no qualified laborer left, so the search runs to the end.
    """
    cur = state.vacancy[moves.laborer]
    gain = moves.score.astype(np.int64) - state.score[moves.laborer]
    # Scores are at most 100, so a placement (1,000) outweighs any score difference.
    value = np.where(taker[cur] >= 0, 1_000 + gain + taker[cur], gain)
    ok = np.flatnonzero(value > 0)
    keep = ok[
        _best_per(
            moves.vacancy[ok], value[ok], moves.laborer[ok],
            MOVE_KEEP * np.maximum(rem, 0).astype(np.int64),
        )
    ]  # fmt: skip
    keep.sort()  # back in the generator's order (by laborer)
    return CandidatePairs(moves.laborer[keep], moves.vacancy[keep], moves.score[keep])


def _move_refill(
    state: _State,
    pool: list[CandidatePairs],
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
    spent: dict[str, float] | None = None,
    allowed: np.ndarray | None = None,
    passes_max: int | None = None,
    moves_k: int | None = None,
    taken_only: bool = False,
) -> tuple[_State, int, int]:
    """The refill of large rounds: one-move augmenting paths, on part of the graph.

    Placed laborers get their best `moves_k` (default MOVE_K) vacancies among those with
    openings left (a fast restricted `generate_candidates`); a flow over just those
    movers (each keeps its current vacancy as an option) and the unplaced laborers' pool
    pairs into the movers' vacancies and the open ones lets a mover step into an opening
    so that an unplaced laborer takes their place. Everybody else stays as placed. A
    pass is kept only when it improves the result (most placements, then score), and
    the passes stop after one that placed nobody more; at most `passes_max` passes
    (default MOVE_PASSES). Only `allowed` laborers (default:
    everybody) move or take a place: after the household stage, members stay where
    their household was put. `taken_only` moves only laborers whose place an unplaced
    candidate in the pool could take, so no move that only gains score: the singles'
    refill after the household stage took 20 s instead of 11 s with those at Baise
    scale, for a 0.12% higher total score and 3 more placements. The relaxation's
    refill moves everybody in its first MOVE_ALL_PASSES passes: its moves join the pool,
    where single laborers displaced by households later find their candidates (without
    them the round placed 2,100 fewer).
    Returns (state, pairs added, passes kept).
    """
    n_vac = state.cap.shape[0]
    everyone = np.ones(state.vacancy.shape[0], dtype=bool) if allowed is None else allowed
    added = passes = 0
    for pass_no in range(MOVE_PASSES if passes_max is None else passes_max):
        rem = state.remaining()
        open_vac = np.flatnonzero(rem > 0)
        unplaced = (state.vacancy < 0) & everyone
        taker = _taker_scores(pool, unplaced, n_vac)
        placed = np.flatnonzero((state.vacancy >= 0) & everyone)
        if taken_only:
            placed = placed[taker[state.vacancy[placed]] >= 0]
        elif pass_no >= MOVE_ALL_PASSES:
            placed = placed[(taker[state.vacancy[placed]] >= 0) | (lab.household[placed] >= 0)]
        if open_vac.shape[0] == 0 or placed.shape[0] == 0:
            break
        moves = scoring.generate_candidates(
            lab, vac, vocab, policy, k=MOVE_K if moves_k is None else moves_k,
            laborers=placed, vacancies=open_vac, workers=workers,
        )  # fmt: skip
        if len(moves) == 0:
            break
        # The flow gets the useful moves; the pool keeps them all (pairs of laborers who
        # may be unplaced later, e.g. members whose household is released).
        offered = _useful_moves(state, moves, taker, rem)
        if len(offered) == 0:
            break
        movers = np.unique(offered.laborer)
        held = np.bincount(state.vacancy[movers], minlength=n_vac)
        region = (held > 0) | (rem > 0)
        parts = [
            (offered.laborer, offered.vacancy, offered.score),
            (movers, state.vacancy[movers], state.score[movers]),  # staying is an option
        ]
        fill = [
            (p.laborer[sel], p.vacancy[sel], p.score[sel])
            for p in pool
            if (sel := np.flatnonzero(unplaced[p.laborer] & region[p.vacancy])).shape[0]
        ]
        if fill:
            # A vacancy can take at most (its movers + its openings) newcomers: its best
            # MOVE_REPLACE times that many unplaced candidates leave the flow enough choice
            # (all of them made millions of arcs at full scale).
            u_lab, u_vac, u_sc = (np.concatenate(col) for col in zip(*fill, strict=True))
            need = MOVE_REPLACE * (held + np.maximum(rem, 0))
            parts.append(_best_within(u_lab, u_vac, u_sc, need))
        lab_i, vac_i, sc_i = (np.concatenate(col) for col in zip(*parts, strict=True))
        cap = np.where(region, np.maximum(rem, 0) + held, 0)
        idx = _solve_flow(lab_i, vac_i, sc_i.astype(np.int64), cap, spent)
        trial = state.copy()
        trial.release(movers)
        trial.place(lab_i[idx], vac_i[idx], sc_i[idx].astype(np.int64))
        _unstrand(trial, pool, everyone, lab, vac, vocab, policy, workers, spent)
        before, after = _objective(state), _objective(trial)
        if after <= before:
            break
        state = trial
        pool.append(moves)
        added += len(moves)
        passes += 1
        if after[0] == before[0]:
            break  # score only: later passes rarely place anybody (none at Baise scale)
    return state, added, passes


def _refill(
    state: _State,
    pool: list[CandidatePairs],
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
    spent: dict[str, float] | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[_State, int, int, int]:
    """Fill openings left through reassignments of placed laborers.

    Top-k candidates miss augmenting paths through placed laborers: vacancy j keeps an
    opening while a laborer placed at i could move to j (j outside their top k) and an
    unplaced laborer take their place at i (i outside their top k). The no-stranding rule
    sees only (unplaced, open) pairs. Each pass adds the pairs of such paths
    (`_augmenting_pairs`) to the pool, re-solves the flow exactly over the whole pool and
    removes stranding again (the re-solve may open other vacancies). Passes stop when
    placements stop rising or after REFILL_PASSES (deterministic; no clock). The result
    is never worse lexicographically: the old state is feasible over the enlarged pool.
    Returns (state, pairs added, passes, stranding pairs added).
    """
    added = 0
    passes = 0
    strand_added = 0
    everyone = np.ones(state.vacancy.shape[0], dtype=bool) if allowed is None else allowed
    cache = _FeasibleCache(done=np.zeros(state.cap.shape[0], dtype=bool))
    for _ in range(REFILL_PASSES):
        if state.remaining().max(initial=0) <= 0:
            break
        found = _augmenting_pairs(state, lab, vac, vocab, policy, cache)
        ok = everyone[found.laborer]
        found = CandidatePairs(found.laborer[ok], found.vacancy[ok], found.score[ok])
        extra = _new_pairs(pool, found, state.cap.shape[0])
        if len(extra) == 0:
            break
        pool.append(extra)
        added += len(extra)
        passes += 1
        before = int((state.vacancy >= 0).sum())
        p_lab, p_vac, p_sc = _pool_pairs(pool)
        idx = _solve_flow(p_lab, p_vac, p_sc, state.cap, spent)
        trial = _State(state.vacancy.shape[0], state.cap, state.no_pairs, state.price)
        trial.place(p_lab[idx], p_vac[idx], p_sc[idx].astype(np.int64))
        a, _ = _unstrand(trial, pool, everyone, lab, vac, vocab, policy, workers, spent)
        strand_added += a
        if _objective(trial) >= _objective(state):
            state = trial
        if int((state.vacancy >= 0).sum()) <= before:
            break
    return state, added, passes, strand_added


# --------------------------------------------------------------------------------------
# Households
# --------------------------------------------------------------------------------------


@dataclass
class _Households:
    """Members of each household, flattened (household order, then laborer index)."""

    members: np.ndarray  # int64, laborer indices grouped by household
    start: np.ndarray  # int64[H + 1]
    mode: np.ndarray  # int8[H]

    @classmethod
    def build(cls, lab: LaborerArrays, households: HouseholdArrays) -> _Households:
        h = len(households)
        rows = np.flatnonzero(lab.household >= 0)
        hh = lab.household[rows].astype(np.int64)
        if hh.shape[0] and hh.max() >= h:
            raise ValueError("laborer household index out of range")
        order = np.lexsort((rows, hh))
        members = rows[order]
        counts = np.bincount(hh, minlength=h)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(members=members, start=start, mode=households.keep_together)

    @property
    def n(self) -> int:
        return int(self.mode.shape[0])

    def of(self, h: int) -> np.ndarray:
        return self.members[self.start[h] : self.start[h + 1]]


def _option_key(mode: np.ndarray | int, vac_idx: np.ndarray, vac: VacancyArrays) -> np.ndarray:
    """Joint-placement key of vacancies: employer (same_employer) or city (same_city)."""
    employer = vac.employer[vac_idx].astype(np.int64)
    city = vac.city[vac_idx].astype(np.int64)
    return np.where(np.asarray(mode) == KEEP_SAME_EMPLOYER, employer, city)


def _household_status(
    state: _State, hh: _Households, lab: LaborerArrays, vac: VacancyArrays
) -> np.ndarray:
    """int8[H]: 0 all unplaced, 1 placed together as required, 2 split (violates)."""
    out = np.zeros(hh.n, dtype=np.int8)
    if hh.n == 0:
        return out
    hid = lab.household[hh.members].astype(np.int64)
    v = state.vacancy[hh.members]
    placed = np.bincount(hid, weights=(v >= 0), minlength=hh.n)
    size = np.diff(hh.start)
    # Keys of placed members only: with no vacancy at all there is no index to look up.
    key = np.full(v.shape[0], -1, dtype=np.int64)
    on = v >= 0
    key[on] = _option_key(hh.mode[hid[on]], v[on], vac)
    kmin = np.full(hh.n, np.iinfo(np.int64).max)
    kmax = np.full(hh.n, np.iinfo(np.int64).min)
    np.minimum.at(kmin, hid, key)
    np.maximum.at(kmax, hid, key)
    together = (placed == size) & (kmin == kmax) & (kmin >= 0)
    out[placed > 0] = 2
    out[together & (size > 0)] = 1
    return out


def _components(
    pool: list[CandidatePairs],
    n_lab: int,
    n_vac: int,
    hh: _Households,
    lab: LaborerArrays,
    wanted: np.ndarray | None = None,
) -> np.ndarray | None:
    """Connected component label of each laborer in the graph of candidate pairs plus
    links between members of a household (their rules couple them).

    Only components of up to CPSAT_MAX_PAIRS pairs are solved, so all larger ones share
    one label: a vacancy with more pool pairs than that is in a large component, and so
    is everything connected to it (marked by passes over the pool until nothing new is
    reached). Only the rest of the graph is labelled one component at a time. At Baise
    scale everything is in one large component, and labelling all 15 million pairs took
    3.5 s. None when every laborer in mask `wanted` is already known to be in a large
    component (the round asks only for members' components; at Baise scale the first
    marking pass shows that, and the passes until nothing new is reached took 1.2 s).
    """
    count = np.zeros(n_vac, dtype=np.int64)
    for p in pool:
        count += np.bincount(p.vacancy, minlength=n_vac)
    big_vac = count > CPSAT_MAX_PAIRS
    big_lab = np.zeros(n_lab, dtype=bool)
    hid = lab.household[hh.members].astype(np.int64)
    while True:
        for p in pool:
            big_lab[p.laborer[big_vac[p.vacancy]]] = True
        if hh.n:
            big_hh = np.zeros(hh.n, dtype=bool)
            big_hh[hid[big_lab[hh.members]]] = True
            big_lab[hh.members[big_hh[hid]]] = True
        if wanted is not None and big_lab[wanted].all():
            return None
        reached = big_vac.copy()
        for p in pool:
            reached[p.vacancy[big_lab[p.laborer]]] = True
        if (reached == big_vac).all():
            break
        big_vac = reached
    heads = hh.members[hh.start[hid]]
    small_members = ~big_lab[hh.members]
    parts = [(p.laborer[m], p.vacancy[m]) for p in pool if (m := ~big_lab[p.laborer]).any()]
    # int32 indices: the pool holds tens of millions of pairs at full scale.
    rows = np.concatenate(
        [*(li.astype(np.int32) for li, _ in parts), hh.members[small_members].astype(np.int32)]
    )
    cols = np.concatenate(
        [
            *(vj.astype(np.int32) + np.int32(n_lab) for _, vj in parts),
            heads[small_members].astype(np.int32),
        ]
    )
    size = n_lab + n_vac
    graph = coo_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(size, size))
    del rows, cols
    n_comp, labels = connected_components(graph, directed=False)
    out = labels[:n_lab].astype(np.int64)
    out[big_lab] = n_comp  # one label for every large component
    return out


def _solve_small_components(
    state: _State,
    pool: list[CandidatePairs],
    status: np.ndarray,
    allowed: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
    hh: _Households,
    cpsat_limit: float,
) -> tuple[np.ndarray, int]:
    """Solve the components of up to CPSAT_MAX_PAIRS pool pairs that hold households
    exactly (CP-SAT), in `state`. Returns (mask of the laborers solved, components).

    `status` is each household's status in `state` before (for a component whose solve
    hit its time limit, the relaxation's result stays if it kept households and was
    better)."""
    n = state.vacancy.shape[0]
    exact_lab = np.zeros(n, dtype=bool)
    wanted = np.zeros(n, dtype=bool)
    wanted[hh.members[allowed[hh.members]]] = True
    lab_comp = _components(pool, n, len(vac), hh, lab, wanted)
    if lab_comp is None:
        return exact_lab, 0
    comp_size = np.zeros(int(lab_comp.max()) + 1, dtype=np.int64)
    for p in pool:
        comp_size += np.bincount(lab_comp[p.laborer], minlength=comp_size.shape[0])
    # Households left out from the start have no pairs: nothing to solve there.
    member_comp = np.unique(lab_comp[hh.members[allowed[hh.members]]])
    small = member_comp[comp_size[member_comp] <= CPSAT_MAX_PAIRS]
    in_small = np.isin(lab_comp, small)
    small_pairs = _select(pool, in_small)
    order = np.argsort(lab_comp[small_pairs.laborer], kind="stable")
    small_pairs = CandidatePairs(
        small_pairs.laborer[order], small_pairs.vacancy[order], small_pairs.score[order]
    )
    pair_comp = lab_comp[small_pairs.laborer]
    small_rows = np.flatnonzero(in_small)
    small_rows = small_rows[np.argsort(lab_comp[small_rows], kind="stable")]
    row_comp = lab_comp[small_rows]
    solved = 0
    for c in small.tolist():
        rows = small_rows[np.searchsorted(row_comp, c) : np.searchsorted(row_comp, c, "right")]
        a, b = np.searchsorted(pair_comp, c), np.searchsorted(pair_comp, c, "right")
        comp_pairs = CandidatePairs(
            small_pairs.laborer[a:b], small_pairs.vacancy[a:b], small_pairs.score[a:b]
        )
        res = _solve_component_cpsat(rows, comp_pairs, state.cap, lab, vac, hh, cpsat_limit)
        if res is None:
            continue  # no solution in time: the greedy repair handles it
        c_lab, c_vac, c_sc, optimal = res
        # Only the component's rows change (c_lab is among them): keep just those.
        before_vac, before_sc = state.vacancy[rows].copy(), state.score[rows].copy()
        hs = np.unique(lab.household[rows])
        feasible_before = not (status[hs[hs >= 0]] == 2).any()
        state.release(rows)
        state.place(c_lab, c_vac, c_sc)
        worse = (int((state.vacancy[rows] >= 0).sum()), int(state.score[rows].sum())) < (
            int((before_vac >= 0).sum()),
            int(before_sc.sum()),
        )
        if not optimal and feasible_before and worse:
            # Time limit hit and the relaxation was already better: put it back.
            state.vacancy[rows], state.score[rows] = before_vac, before_sc
        exact_lab[rows] = True
        solved += 1
    return exact_lab, solved


def _solve_component_cpsat(
    comp_lab: np.ndarray,
    pool: CandidatePairs,
    cap: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
    hh: _Households,
    time_limit_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None:
    """Exact optimum of one component with household rules (CP-SAT, one worker).

    Objective: sum over chosen pairs of (B + score), B = 100 * (laborers) + 1, so
    placements come first. Returns (laborers, vacancies, scores, proven optimal) or None if no
    solution was found in time.
    """
    sel = np.isin(pool.laborer, comp_lab)
    p_lab = pool.laborer[sel].astype(np.int64)
    p_vac = pool.vacancy[sel].astype(np.int64)
    p_sc = pool.score[sel].astype(np.int64)
    ok = cap[p_vac] > 0
    p_lab, p_vac, p_sc = p_lab[ok], p_vac[ok], p_sc[ok]
    model, x = household_model(comp_lab, p_lab, p_vac, cap, lab, vac, hh)
    bonus = 100 * max(1, comp_lab.shape[0]) + 1
    model.maximize(sum((bonus + int(s)) * x[i] for i, s in enumerate(p_sc.tolist())))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = float(time_limit_s)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    chosen = np.array([solver.value(v) for v in x], dtype=bool)
    return p_lab[chosen], p_vac[chosen], p_sc[chosen], status == cp_model.OPTIMAL


def household_model(
    rows: np.ndarray,
    p_lab: np.ndarray,
    p_vac: np.ndarray,
    cap: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
    hh: _Households,
) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """CP-SAT model of pairs (p_lab, p_vac) of laborers `rows`, without an objective.

    One boolean per pair; a laborer takes at most one pair, vacancy j at most cap[j];
    the members of each household in `rows` are all placed or none, and all at one
    option (employer or city, `_option_key`). Returns the model and the pairs' booleans.
    """
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(p_lab.shape[0])]
    by_lab: dict[int, list[int]] = {}
    by_vac: dict[int, list[int]] = {}
    for i, (li, vj) in enumerate(zip(p_lab.tolist(), p_vac.tolist(), strict=True)):
        by_lab.setdefault(li, []).append(i)
        by_vac.setdefault(vj, []).append(i)
    placed = {}
    for li in rows.tolist():
        idx = by_lab.get(li, [])
        placed[li] = sum(x[i] for i in idx) if idx else 0
        if idx:
            model.add(sum(x[i] for i in idx) <= 1)
    for vj, idx in by_vac.items():
        model.add(sum(x[i] for i in idx) <= int(cap[vj]))
    households = np.unique(lab.household[rows])
    for h in households[households >= 0].tolist():
        members = hh.of(h)
        first = int(members[0])
        for m in members[1:].tolist():
            model.add(placed[m] == placed[first])
        keys: dict[int, list[int]] = {}
        for m in members.tolist():
            for i in by_lab.get(m, []):
                key = int(_option_key(hh.mode[h], np.array([p_vac[i]]), vac)[0])
                keys.setdefault(key, []).append(i)
        z = {key: model.new_bool_var(f"h{h}k{key}") for key in keys}
        model.add(sum(z.values()) <= 1)
        for key, idx in keys.items():
            for i in idx:
                model.add_implication(x[i], z[key])
    return model, x


def _household_pairs(
    rows: np.ndarray,
    pool: CandidatePairs,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    workers: int | None,
) -> CandidatePairs:
    """Candidate pairs of household members: their pool pairs plus their best
    HOUSEHOLD_K vacancies, so that joint options at one employer / city show up."""
    if rows.shape[0] == 0:
        return CandidatePairs.empty()
    more = scoring.generate_candidates(
        lab, vac, vocab, policy, k=HOUSEHOLD_K, laborers=rows, workers=workers
    )
    sel = np.isin(pool.laborer, rows)
    own = CandidatePairs(pool.laborer[sel], pool.vacancy[sel], pool.score[sel])
    return scoring.merge_candidates([own, more], None)


def _successors(state: _State, pool: list[CandidatePairs], singles: np.ndarray) -> np.ndarray:
    """Per vacancy with openings left, the best score of an unplaced single with a pool
    pair there (-1: none, and for full vacancies, whose value no free opening reads):
    what an opening there is worth if no household takes it."""
    best = _taker_scores(pool, singles & (state.vacancy < 0), state.cap.shape[0])
    best[state.remaining() <= 0] = -1
    return best


def _repair_households(
    state: _State,
    hh: _Households,
    todo: np.ndarray,
    pairs: CandidatePairs,
    lab: LaborerArrays,
    vac: VacancyArrays,
    displace: bool,
    successor: np.ndarray | None = None,
) -> tuple[int, np.ndarray]:
    """Place households `todo` jointly where that gains placements or score.

    Options are the employers (same_employer) or cities (same_city) in which every
    member has a candidate. For each option a member takes its best candidate there that
    still has a free opening, else (if `displace`) its best candidate, displacing the
    lowest-scored single laborer there (who becomes unplaced and may be placed again
    later). A household takes its best option by (placements gained, score gained) when
    that is an improvement: more placements, or as many and a higher score. Households
    go best first (their best options' value). `successor` (per vacancy, see
    `_successors`) values a free opening at what the best unplaced single would score
    there; without it, at the weakest holder's score. Returns (placed, displaced).
    """
    if todo.shape[0] == 0 or len(pairs) == 0:
        return 0, np.zeros(0, np.int64)
    hid_of = lab.household.astype(np.int64)
    p_lab = pairs.laborer.astype(np.int64)
    p_vac = pairs.vacancy.astype(np.int64)
    p_sc = pairs.score.astype(np.int64)
    p_h = hid_of[p_lab]
    sel = np.isin(p_h, todo) & (state.cap[p_vac] > 0)
    p_lab, p_vac, p_sc, p_h = p_lab[sel], p_vac[sel], p_sc[sel], p_h[sel]
    p_key = _option_key(hh.mode[p_h], p_vac, vac)
    # Sorted by household, option, member, score desc, vacancy. A member's place in its
    # household (members are sorted by laborer index) stands for the laborer index, so
    # that the keys pack into one int64: the five-key lexsort took 1.4 s at Baise scale.
    member_at = np.empty(lab.household.shape[0], dtype=np.int64)
    member_at[hh.members] = np.arange(hh.members.shape[0]) - hh.start[hid_of[hh.members]]
    order = scoring._order_by(p_h, p_key, member_at[p_lab], 100 - p_sc, p_vac)
    p_lab, p_vac, p_sc, p_h, p_key = (a[order] for a in (p_lab, p_vac, p_sc, p_h, p_key))
    # Per (household, option): members covered and the sum of their best scores.
    new_grp = np.ones(p_h.shape[0], dtype=bool)
    new_grp[1:] = (p_h[1:] != p_h[:-1]) | (p_key[1:] != p_key[:-1])
    new_mem = new_grp.copy()
    new_mem[1:] |= p_lab[1:] != p_lab[:-1]
    g_start = np.flatnonzero(new_grp)
    g_end = np.concatenate([g_start[1:], [p_h.shape[0]]])
    g_members = np.add.reduceat(new_mem.astype(np.int64), g_start) if g_start.size else g_start
    g_value = np.add.reduceat(np.where(new_mem, p_sc, 0), g_start) if g_start.size else g_start
    g_h = p_h[g_start]
    size = np.diff(hh.start)
    full = g_members == size[g_h]
    g_start, g_end, g_h, g_value = g_start[full], g_end[full], g_h[full], g_value[full]
    # Households in order of their best option's value; options per household by value.
    order = np.lexsort((p_key[g_start], -g_value, g_h))
    g_start, g_end, g_h, g_value = g_start[order], g_end[order], g_h[order], g_value[order]
    h_first = np.ones(g_h.shape[0], dtype=bool)
    h_first[1:] = g_h[1:] != g_h[:-1]
    h_pos = np.flatnonzero(h_first)
    h_stop = np.concatenate([h_pos[1:], [g_h.shape[0]]])
    h_order = np.lexsort((g_h[h_pos], -g_value[h_pos]))

    rem = state.remaining()
    # Only the holders of vacancies that some option offers can be displaced.
    offered = np.zeros(state.cap.shape[0], dtype=bool)
    offered[p_vac] = True
    single = np.flatnonzero((state.vacancy >= 0) & (hid_of < 0))
    single = single[offered[state.vacancy[single]]]
    holders = _Holders(single, state.vacancy[single], state.score[single])
    pl_lab, pl_vac, pl_sc = p_lab.tolist(), p_vac.tolist(), p_sc.tolist()
    after = None if successor is None else successor.tolist()
    placed_households = 0
    displaced: list[int] = []
    for hp in h_order.tolist():
        best = None
        for g in range(int(h_pos[hp]), min(int(h_stop[hp]), int(h_pos[hp]) + HOUSEHOLD_OPTIONS)):
            plan = _plan_option(
                range(int(g_start[g]), int(g_end[g])),
                pl_lab, pl_vac, pl_sc, rem, holders, displace, after,
            )  # fmt: skip
            if plan is not None and (best is None or plan[0] > best[0]):
                best = plan
        if best is None:
            continue
        (gain_places, gain_score), members, vacs, scores, taken = best
        if gain_places < 0 or (gain_places == 0 and gain_score <= 0):
            continue
        for li in taken:
            vj = int(state.vacancy[li])
            holders.drop(vj, li)
            state.release(np.array([li]))
            rem[vj] += 1
            displaced.append(li)
        state.place(np.asarray(members), np.asarray(vacs), np.asarray(scores))
        for vj in vacs:
            rem[vj] -= 1
        placed_households += 1
    return placed_households, np.asarray(displaced, dtype=np.int64)


class _Holders(dict[int, list[tuple[int, int]]]):
    """Vacancy -> its single holders as [(score, laborer)], weakest first (score asc, then
    laborer index desc), each list made when first looked up: the household repair
    looks at a few thousand vacancies, and making the lists of all 470,000 placed
    singles up front took 0.5 s at Baise scale. A dict, so that the repair's hundreds of
    thousands of lookups of lists already made cost a plain dict lookup."""

    def __init__(self, laborers: np.ndarray, vacancies: np.ndarray, scores: np.ndarray) -> None:
        super().__init__()
        order = scoring._order_by(vacancies, scores, -laborers)
        self._lab = laborers[order]
        self._sc = scores[order]
        self._vac = vacancies[order]

    def __missing__(self, vj: int) -> list[tuple[int, int]]:
        a, b = np.searchsorted(self._vac, [vj, vj + 1])
        found = list(zip(self._sc[a:b].tolist(), self._lab[a:b].tolist(), strict=True))
        self[vj] = found
        return found

    def drop(self, vj: int, li: int) -> None:
        """Laborer `li` no longer holds vacancy `vj` (displaced)."""
        self[vj] = [t for t in self[vj] if t[1] != li]


def _plan_option(
    rows: range,
    p_lab: list[int],
    p_vac: list[int],
    p_sc: list[int],
    rem: np.ndarray,
    holders: _Holders,
    displace: bool,
    successor: list[int] | None = None,
) -> tuple[tuple[int, int], list[int], list[int], list[int], list[int]] | None:
    """Members' vacancies within one option (rows sorted by member, score desc).

    Returns ((placements gained, score gained), members, vacancies, scores, displaced)
    or None when the option cannot take every member. Gains are against leaving the
    household out: a displaced single costs its score; a free opening costs what the
    best unplaced single with a pair there would score (`successor`), or is a placement
    gained when there is none. Without `successor`, a free opening costs the score of the
    weakest single holding that vacancy, or is a placement gained when none holds it.
    The weakest holder overrates the opening: the flow has already placed the best
    candidates, so whoever is left to take it usually scores less. At Baise scale the
    successor's value placed 9,500 more members in the household stage, 160 more people
    in the end and cut the gap by 0.2 points.
    """
    free: dict[int, int] = {}
    used_holders: dict[int, int] = {}
    members: list[int] = []
    vacs: list[int] = []
    scores: list[int] = []
    taken: list[int] = []
    lost = 0
    gained = 0
    i = rows.start
    while i < rows.stop:
        li = p_lab[i]
        j = i
        while j < rows.stop and p_lab[j] == li:
            j += 1
        choice = None
        for r in range(i, j):  # best candidate with a free opening
            vj = p_vac[r]
            if int(rem[vj]) - free.get(vj, 0) > 0:
                choice = r
                free[vj] = free.get(vj, 0) + 1
                if successor is not None:
                    # The opening would otherwise go to the best unplaced single who
                    # has it as a candidate; none: a placement gained. The same value
                    # counts for every opening taken there (by this and later
                    # households); updating it (the next best single) placed no more
                    # people at Baise scale and cost 5 s.
                    if successor[vj] >= 0:
                        lost += successor[vj]
                    else:
                        gained += 1
                # Without that, to a single about as good as the weakest one holding
                # this vacancy; none there: a placement gained.
                elif pool := holders[vj]:
                    lost += pool[0][0]
                else:
                    gained += 1
                break
        if choice is None and displace:
            for r in range(i, j):  # best candidate with a single laborer to displace
                vj = p_vac[r]
                pool = holders[vj]
                k = used_holders.get(vj, 0)
                if k < len(pool):
                    used_holders[vj] = k + 1
                    lost += pool[k][0]
                    taken.append(pool[k][1])
                    choice = r
                    break
        if choice is None:
            return None
        members.append(li)
        vacs.append(p_vac[choice])
        scores.append(p_sc[choice])
        i = j
    return (gained, sum(scores) - lost), members, vacs, scores, taken


# --------------------------------------------------------------------------------------
# Household insertion by prices (large-neighbourhood moves)
# --------------------------------------------------------------------------------------

# Weight of one placement against score points (scores are <= 100 per laborer, chains
# of moves are short): the lexicographic objective as one integer.
_BIG = 1_000_000
# "Cannot be freed" (no single laborer holds the vacancy).
_INF = 1 << 50
# Rounds of price-guided household insertion after the repair (each re-prices).
LNS_ROUNDS = 3
# Label-correcting passes per pricing; prices not yet settled are over-estimates of the
# true cost (moves then look worse than they are: conservative).
PRICE_PASSES = 40
# Longest displacement chain followed when collecting a move's neighbourhood.
CHAIN_MAX = 25
# Price-guided insertion runs only up to this many pool pairs: each round re-prices every
# single's pairs (~1.3 s per round at 100k laborers for a 0.03-point gain there), so it
# would cost far more than 10% of a full-scale round; below this it is cheap and pays.
LNS_MAX_PAIRS = 1_000_000
# The bound that prices households (`pricing.priced_bound`) runs inside the round up to
# this many pairs (the singles' pool pairs and the members' pairs): 1.3 s at 100,000
# laborers (1.2M pairs). Above it (Baise scale: 35M pairs, about a minute) the round
# hands it to its caller to compute after the proposals are written
# (`RoundResult.household_bound_later`).
PRICED_MAX_PAIRS = 5_000_000
# At the end of a round of up to this many pool pairs, the single laborers are placed
# again by one unpruned flow (`_resolve_singles`), and households are moved by price
# (`_move_households`). At 100,000 laborers the flow took 1.1 s and the moves 1.0 s; at
# 300,000 laborers (3.9M pool pairs) 7.1 s and 6.9 s, and the round placed 752 more
# people (0.7%) with a 1.6% higher total score, in 21.7 s instead of 4.8 s. At Baise
# scale one flow over the singles' 30M pairs would take about 28 s.
SINGLES_EXACT_MAX_PAIRS = 5_000_000
# Batches of households moved to the options the priced bound's prices favour
# (`_move_households`), each one exact flow of the singles; the batch halves after each
# that does not improve the round. At 100,000 laborers the first batch (967 households)
# placed 130 more people and raised the total score by 0.41%.
PRICE_MOVE_TRIALS = 4


@dataclass
class _Prices:
    """Cost of taking one opening of each vacancy away from the single laborers.

    `cost[j]` is in lexicographic units (_BIG per placement lost plus score points lost):
    0 when the vacancy has an opening left, otherwise the cheapest chain that moves a
    single laborer out of j, into another vacancy whose opening it takes in turn, ...,
    ending at an opening left or with the last laborer unplaced. `holder[j]` is the
    laborer moved out of j on that chain, `next_vac[j]` where it goes (-1: out) and
    `next_score[j]` its score there.
    """

    cost: np.ndarray  # int64[V]
    holder: np.ndarray  # int64[V], -1 none
    next_vac: np.ndarray  # int64[V], -1 none
    next_score: np.ndarray  # int64[V]


def _segments(keys: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal values in sorted `keys`."""
    if keys.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(keys.shape[0], dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(new)


def _prices(state: _State, pool: list[CandidatePairs], singles: np.ndarray) -> _Prices:
    """Shortest displacement chains for every vacancy (Bellman-Ford on the singles).

    These are the dual prices of the singles' flow: with households' placements fixed,
    a household member taking an opening of j costs the singles exactly `cost[j]` when
    the singles' assignment is optimal (one opening at a time).
    """
    n_vac = state.cap.shape[0]
    rem = state.remaining()
    placed = np.flatnonzero(singles & (state.vacancy >= 0))
    cur_v = state.vacancy[placed]
    cur_w = _BIG + state.score[placed]
    # Holders grouped by vacancy.
    h_order = np.argsort(cur_v, kind="stable")
    h_v = cur_v[h_order]
    h_seg = _segments(h_v)
    h_vac = h_v[h_seg]
    # Alternatives: pool pairs of placed singles at another vacancy, grouped by laborer
    # (pool lists are sorted by laborer; their concatenation is re-sorted stably).
    is_placed = np.zeros(state.vacancy.shape[0], dtype=bool)
    is_placed[placed] = True
    parts = []
    for p in pool:
        sel = is_placed[p.laborer] & (p.vacancy != state.vacancy[p.laborer])
        if sel.any():
            parts.append((p.laborer[sel], p.vacancy[sel], p.score[sel]))
    if parts:
        a_l, a_v, a_s = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.argsort(a_l, kind="stable")
        a_l, a_v = a_l[order].astype(np.int64), a_v[order].astype(np.int64)
        a_w = _BIG + a_s[order].astype(np.int64)
    else:
        a_l = a_v = a_w = np.zeros(0, dtype=np.int64)
    a_seg = _segments(a_l)
    a_pos = np.searchsorted(placed, a_l[a_seg])  # position among `placed`
    open_vac = rem > 0
    gain = np.zeros(placed.shape[0], dtype=np.int64)  # best move-elsewhere value
    cost = np.full(n_vac, _INF, dtype=np.int64)
    for _ in range(PRICE_PASSES):
        new = np.full(n_vac, _INF, dtype=np.int64)
        if h_seg.shape[0]:
            new[h_vac] = np.minimum.reduceat((cur_w - gain)[h_order], h_seg)
        new[open_vac] = 0
        np.maximum(new, 0, out=new)  # an improvable state must not look like a bonus
        if np.array_equal(new, cost):
            break
        cost = new
        if a_seg.shape[0]:
            best = np.maximum.reduceat(a_w - np.minimum(cost[a_v], _INF), a_seg)
            gain[:] = 0
            gain[a_pos] = np.maximum(best, 0)
    # Chains: the cheapest holder of each vacancy and where it goes.
    holder = np.full(n_vac, -1, dtype=np.int64)
    next_vac = np.full(n_vac, -1, dtype=np.int64)
    next_score = np.zeros(n_vac, dtype=np.int64)
    if h_seg.shape[0]:
        c = (cur_w - gain)[h_order]
        o = np.lexsort((placed[h_order], c, h_v))
        first = o[_segments(h_v[o])]
        holder[h_v[first]] = placed[h_order][first]
    if a_seg.shape[0]:
        val = a_w - np.minimum(cost[a_v], _INF)
        o = np.lexsort((a_v, -val, a_l))
        first = o[_segments(a_l[o])]
        go = val[first] > 0
        dest = np.full(state.vacancy.shape[0], -1, dtype=np.int64)
        dest_score = np.zeros(state.vacancy.shape[0], dtype=np.int64)
        dest[a_l[first][go]] = a_v[first][go]
        dest_score[a_l[first][go]] = a_w[first][go] - _BIG
        full_holder = holder >= 0
        next_vac[full_holder] = dest[holder[full_holder]]
        next_score[full_holder] = dest_score[holder[full_holder]]
    # Open vacancies keep their pointers: once their openings are promised in a round,
    # a further opening there is freed by moving their cheapest holder like elsewhere.
    return _Prices(cost=cost, holder=holder, next_vac=next_vac, next_score=next_score)


@dataclass
class _Options:
    """Members' pairs sorted by (household, option, member, value desc, vacancy), and
    each member's best pair in each option (`rows`). Options are one employer
    (`same_employer`) or one city (`same_city`); `value` sums the members' best values."""

    laborer: np.ndarray
    vacancy: np.ndarray
    score: np.ndarray
    rows: np.ndarray  # position of each member's best pair in each option
    option_of_row: np.ndarray
    start: np.ndarray  # first pair of each option
    members: np.ndarray  # members with a pair, per option
    value: np.ndarray  # float64 per option
    household: np.ndarray  # per option
    key: np.ndarray  # employer or city, per option

    @classmethod
    def build(
        cls,
        p_lab: np.ndarray,
        p_vac: np.ndarray,
        p_sc: np.ndarray,
        p_h: np.ndarray,
        value: np.ndarray,
        hh: _Households,
        vac: VacancyArrays,
    ) -> _Options:
        p_key = _option_key(hh.mode[p_h], p_vac, vac)
        order = np.lexsort((p_vac, -value, p_lab, p_key, p_h))
        p_lab, p_vac, p_sc, p_h, p_key, value = (
            a[order] for a in (p_lab, p_vac, p_sc, p_h, p_key, value)
        )
        new_opt = np.ones(p_h.shape[0], dtype=bool)
        new_opt[1:] = (p_h[1:] != p_h[:-1]) | (p_key[1:] != p_key[:-1])
        new_mem = new_opt.copy()
        new_mem[1:] |= p_lab[1:] != p_lab[:-1]
        rows = np.flatnonzero(new_mem)
        option_of_row = np.cumsum(new_opt)[rows] - 1
        start = np.flatnonzero(new_opt)
        return cls(
            laborer=p_lab,
            vacancy=p_vac,
            score=p_sc,
            rows=rows,
            option_of_row=option_of_row,
            start=start,
            members=np.bincount(option_of_row, minlength=start.shape[0]),
            value=np.bincount(option_of_row, weights=value[rows], minlength=start.shape[0]),
            household=p_h[start],
            key=p_key[start],
        )

    def complete(self, hh: _Households) -> np.ndarray:
        """Options where every member of the household has a pair."""
        return self.members == np.diff(hh.start)[self.household]

    def plan(self, option: int, first_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(members, vacancies, scores) of an option, its rows starting at `first_row`."""
        r = self.rows[first_row : first_row + int(self.members[option])]
        return self.laborer[r], self.vacancy[r], self.score[r]


def _insertion_plans(
    state: _State,
    hh: _Households,
    todo: np.ndarray,
    pairs: CandidatePairs,
    prices: _Prices,
    lab: LaborerArrays,
    vac: VacancyArrays,
) -> list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
    """Best joint option of each household in `todo` at the current prices.

    A member placed at j is worth _BIG + score - cost[j]; an option's value is the sum
    over members of their best vacancy in it. Returns (value, household, members,
    vacancies, scores) for every option worth more than nothing, best first.
    """
    if todo.shape[0] == 0 or len(pairs) == 0:
        return []
    hid_of = lab.household.astype(np.int64)
    p_lab = pairs.laborer.astype(np.int64)
    p_vac = pairs.vacancy.astype(np.int64)
    p_sc = pairs.score.astype(np.int64)
    p_h = hid_of[p_lab]
    c = prices.cost[p_vac]
    sel = np.isin(p_h, todo) & (state.cap[p_vac] > 0) & (c < _INF)
    p_lab, p_vac, p_sc, p_h, c = p_lab[sel], p_vac[sel], p_sc[sel], p_h[sel], c[sel]
    if p_h.shape[0] == 0:
        return []
    opts = _Options.build(p_lab, p_vac, p_sc, p_h, _BIG + p_sc - c, hh, vac)
    g_value = opts.value.astype(np.int64)
    g_h = opts.household
    ok = opts.complete(hh) & (g_value > 0)
    g_idx = np.flatnonzero(ok)
    if g_idx.shape[0] == 0:
        return []
    # Options best first (ties: household, then key); a household's later options are
    # fallbacks when its better ones do not fit (capacity, other moves of the round).
    o = np.lexsort((opts.key[g_idx], g_h[g_idx], -g_value[g_idx]))
    first = g_idx[o]
    row_start = np.searchsorted(opts.option_of_row, first)
    return [
        (int(g_value[g]), int(g_h[g]), *opts.plan(g, r0))
        for g, r0 in zip(first.tolist(), row_start.tolist(), strict=True)
    ]


def _chain(
    prices: _Prices, j: int, left: Callable[[int], int], score: np.ndarray
) -> tuple[list[int], int]:
    """Vacancies on the displacement chain that frees an opening of j (j first) and its
    real cost, walked move by move: the prices are only estimates where the singles'
    assignment is not optimal (then pointers may cycle; the walk stops there and the last
    holder is counted as leaving). `left(v)`: openings of v not yet promised this round."""
    out = [j]
    cost = 0
    while left(out[-1]) <= 0:
        cur = out[-1]
        holder = int(prices.holder[cur])
        nxt = int(prices.next_vac[cur])
        if holder < 0:
            return out, _INF
        if nxt < 0 or nxt in out or len(out) >= CHAIN_MAX:
            cost += _BIG + int(score[holder])  # the last one moved out stays unplaced
            break
        cost += int(score[holder]) - int(prices.next_score[cur])
        out.append(nxt)
    return out, cost


def _objective(state: _State) -> tuple[int, int]:
    return int((state.vacancy >= 0).sum()), int(state.score.sum())


def _insert_households(
    state: _State,
    hh: _Households,
    pool: list[CandidatePairs],
    member_pairs: CandidatePairs,
    lab: LaborerArrays,
    vac: VacancyArrays,
    spent: dict[str, float],
) -> tuple[_State, int, int]:
    """Place households left out wherever the members' gain beats the singles' loss.

    Each round prices the openings (`_prices`), takes every household whose best option
    is worth it at those prices, skipping options that share a vacancy or chain with an
    option taken before in the round (their prices interact), places them, releases the
    single laborers of every vacancy on their chains and re-solves those singles and
    every unplaced single exactly into the openings left (`_fill_residual`: exact given
    the households' placements). A round is kept only if the whole objective (placements,
    then score) improves; otherwise the better half of its moves is tried, and so on.
    Returns (state, households placed, rounds kept).
    """
    singles = lab.household < 0
    inserted = 0
    kept = 0
    for _ in range(LNS_ROUNDS):
        status = _household_status(state, hh, lab, vac)
        todo = np.flatnonzero(status == 0)
        if todo.shape[0] == 0:
            break
        prices = _prices(state, pool, singles)
        plans = _insertion_plans(state, hh, todo, member_pairs, prices, lab, vac)
        # Independent moves only: the chains of a round share no vacancy (prices hold for
        # one opening at a time), except chain ends with openings left, up to that many.
        rem = state.remaining()
        rem_fixed = state.cap - np.bincount(
            state.vacancy[(state.vacancy >= 0) & ~singles], minlength=state.cap.shape[0]
        )
        busy: set[int] = set()
        open_used: dict[int, int] = {}
        batch = []
        done: set[int] = set()
        for _value, h, members, vacs, scores in plans:
            if h in done:
                continue
            plan_busy: set[int] = set()
            plan_open: dict[int, int] = {}
            ok = True
            value = 0

            def left(
                v: int,
                po: dict[int, int] = plan_open,
                ou: dict[int, int] = open_used,
                r: np.ndarray = rem,
            ) -> int:
                # Openings of v not yet promised to this round's moves.
                return int(r[v]) - ou.get(v, 0) - po.get(v, 0)

            for j, sc in zip(vacs.tolist(), scores.tolist(), strict=True):
                chain, cost = _chain(prices, j, left, state.score)
                value += _BIG + sc - cost
                end = chain[-1]
                is_open = left(end) > 0
                inner = chain[:-1] if is_open else chain
                if any(v in busy or v in plan_busy for v in inner):
                    ok = False
                    break
                if is_open:
                    if end in busy:
                        ok = False
                        break
                    plan_open[end] = plan_open.get(end, 0) + 1
                plan_busy.update(inner)
            need = np.bincount(vacs)
            used = np.flatnonzero(need)
            if not ok or value <= 0 or (need[used] > rem_fixed[used]).any():
                continue
            if any(v in open_used for v in plan_busy):
                continue  # a vacancy with openings left that others' chains end at
            busy |= plan_busy
            done.add(h)
            for v, c in plan_open.items():
                open_used[v] = open_used.get(v, 0) + c
            touched = plan_busy | set(plan_open)
            batch.append((value, h, members, vacs, scores, touched))
        if not batch:
            break
        before = _objective(state)
        improved = False
        while batch:
            trial = state.copy()
            members = np.concatenate([b[2] for b in batch])
            vacs = np.concatenate([b[3] for b in batch])
            scores = np.concatenate([b[4] for b in batch])
            hood = np.fromiter({j for b in batch for j in b[5]}, dtype=np.int64)
            in_hood = np.zeros(state.cap.shape[0], dtype=bool)
            in_hood[hood] = True
            v = trial.vacancy
            trial.release(np.flatnonzero(singles & (v >= 0) & in_hood[np.maximum(v, 0)]))
            trial.place(members, vacs, scores)
            _fill_residual(trial, pool, singles, spent)
            if _objective(trial) > before:
                state = trial
                inserted += len(batch)
                kept += 1
                improved = True
                break
            batch = batch[: len(batch) // 2]
        if not improved:
            break
    return state, inserted, kept


# --------------------------------------------------------------------------------------
# Round
# --------------------------------------------------------------------------------------


def _parts_of(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    assignment: np.ndarray,
) -> dict[str, np.ndarray]:
    """int8 parts of every assigned pair (0 for unassigned laborers)."""
    rows = np.flatnonzero(assignment >= 0)
    out = {name: np.zeros(assignment.shape[0], dtype=np.int8) for name in PART_NAMES}
    chunk = 1 << 18
    for s in range(0, rows.shape[0], chunk):
        r = rows[s : s + chunk]
        parts = scoring.score_parts(lab, vac, vocab, policy, r, assignment[r])
        for name in PART_NAMES:
            out[name][r] = parts[name]
    return out


def _tell(
    on_assignment: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], None],
    state: _State,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
) -> None:
    assignment = state.vacancy.astype(np.int32)
    score = state.score.astype(np.int16)
    on_assignment(assignment, score, _parts_of(lab, vac, vocab, policy, assignment))


def solve_round(
    lab: LaborerArrays,
    vac: VacancyArrays,
    households: HouseholdArrays | None,
    vocab: Vocabulary,
    policy: Policy,
    k: int | None = None,
    time_limit_s: float | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    workers: int | None = None,
    candidates: CandidatePairs | None = None,
    price_households: bool = True,
    price: np.ndarray | None = None,
    on_assignment: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], None] | None = None,
) -> RoundResult:
    """One matching round: proposed vacancy per laborer, households kept together.

    0. rounds of at least PRICE_SAMPLE_MIN laborers price the vacancies from a sample
       (`_sample_prices`): candidates and no-stranding searches then take each
       laborer's best vacancies by score - price (flows still maximize the score);
    1. candidates: best k vacancies per laborer (`scoring.generate_candidates`);
    2. relaxation without household rules: exact optimum over the candidates, then
       no stranding (unplaced laborers that pass the hard rules for a vacancy with
       openings left get it as candidate and the openings are filled exactly), then
       reassignments (`_refill`: pairs of augmenting paths through placed laborers,
       found over all feasible pairs, join the pool and the flow is re-solved) so the
       openings are filled as well as the whole pool allows; its total score is
       `upper_bound` (the exact relaxation of the enlarged candidate graph);
    3. households: components with households solved exactly by CP-SAT when small,
       otherwise split households are placed jointly or left out (never split).
       Households with a member who passes the hard rules nowhere are left out from
       the start (before step 1): they can never be placed whole;
    4. no stranding again for single laborers, households still out placed jointly
       (into openings left or displacing weaker singles), and on large rounds a
       one-move refill of single laborers into the openings members left.

    5. up to SINGLES_EXACT_MAX_PAIRS pool pairs, the single laborers placed again by one
       exact flow (`_resolve_singles`);
    6. up to PRICED_MAX_PAIRS pairs, the bound that prices households
       (`pricing.priced_bound`) over every pair the round used: `household_bound`; and
       with its prices, households moved to the options they favour
       (`_move_households`). `price_households=False` turns both off (the bound is
       None): the moves need the prices.

    `households=None` ignores household rules. `time_limit_s` bounds each CP-SAT
    component solve (deterministic time, default 10 s). `candidates` may pass
    precomputed top-k pairs (e.g. merged from per-occupation tasks), and `price` the
    prices they were ranked by (default: `round_prices`); `workers` threads
    generate candidates. `progress(fraction)` is called after each stage.
    `on_assignment(assignment, score, parts)` (shaped as in `RoundResult`) is called
    with the assignment so far after the first flow, after the relaxation (step 2) and
    after the household stage (3), so a caller can store it while the rest runs: at
    Baise scale 112,000 of the first flow's 134,000 placements, and 474,000 of the
    relaxation's 533,000, are final (of 520,000). Deterministic: the same input gives
    the same output.
    """
    t_all = time.perf_counter()
    cpu_all = time.process_time()
    stats: dict[str, float] = {"flow": 0.0}
    report = progress if progress is not None else (lambda _f: None)
    k = policy.k if k is None else int(k)
    if households is None:  # no household rules: everybody counts as single
        households = HouseholdArrays.empty()
        lab = dataclasses.replace(lab, household=np.full(len(lab), -1, dtype=np.int32))
    n = len(lab)
    cpsat_limit = 10.0 if time_limit_s is None else float(time_limit_s)

    if price is None:
        t = time.perf_counter()
        price = round_prices(lab, vac, vocab, policy, workers)
        if price is not None:
            stats["sample_prices"] = time.perf_counter() - t
    t = time.perf_counter()
    cand = (
        scoring.generate_candidates(lab, vac, vocab, policy, k=k, workers=workers, price=price)
        if candidates is None
        else candidates
    )
    stats["candidates"] = time.perf_counter() - t
    report(0.35)

    # Households with a member who has no candidate at all can never be placed (all or
    # none; candidates are each laborer's best pairs among all that pass the hard
    # rules, so none means none passes): their members stay out of the round, and out
    # of the relaxation, whose bound they would only loosen.
    hh = _Households.build(lab, households)
    allowed = np.ones(n, dtype=bool)
    if hh.n:
        has_pair = np.zeros(n, dtype=bool)
        has_pair[cand.laborer] = True
        hid = lab.household[hh.members].astype(np.int64)
        hopeless = np.zeros(hh.n, dtype=bool)
        np.logical_or.at(hopeless, hid, ~has_pair[hh.members])
        allowed[hh.members[hopeless[hid]]] = False
        stats["households_impossible"] = float(hopeless.sum())
        if not allowed.all():
            ok = allowed[cand.laborer]
            cand = CandidatePairs(cand.laborer[ok], cand.vacancy[ok], cand.score[ok])

    t = time.perf_counter()
    state = _State(n, vac.openings, price=price)
    f_lab, f_vac, f_sc = _prune(cand.laborer, cand.vacancy, cand.score, state.cap)
    idx = _solve_flow(f_lab, f_vac, f_sc, state.cap, stats)
    state.place(f_lab[idx], f_vac[idx], f_sc[idx].astype(np.int64))
    del f_lab, f_vac, f_sc
    stats["flow_first"] = stats["flow"]
    stats["solve"] = time.perf_counter() - t
    report(0.6)
    if on_assignment is not None:
        _tell(on_assignment, state, lab, vac, vocab, policy)

    t = time.perf_counter()
    pool = [cand]
    strand_added, strand_passes = _unstrand(
        state, pool, allowed, lab, vac, vocab, policy, workers, stats
    )
    stats["stranding"] = time.perf_counter() - t

    t = time.perf_counter()
    refill_added = refill_passes = 0
    if sum(len(p) for p in pool) <= REFILL_MAX_POOL:
        state, refill_added, refill_passes, a = _refill(
            state, pool, lab, vac, vocab, policy, workers, stats, allowed
        )
        strand_added += a
    else:
        stats["refill_skipped"] = 1.0
        state, refill_added, refill_passes = _move_refill(
            state, pool, lab, vac, vocab, policy, workers, stats, allowed
        )
    stats["refill"] = time.perf_counter() - t
    stats["refill_pairs"] = float(refill_added)
    stats["refill_passes"] = float(refill_passes)
    relax = state.copy()
    upper_bound = int(relax.score.sum())
    upper_assigned = int((relax.vacancy >= 0).sum())
    report(0.7)
    if on_assignment is not None:
        _tell(on_assignment, relax, lab, vac, vocab, policy)

    t = time.perf_counter()
    # Every member's pairs, made once when first needed: members get no new pool pairs
    # after this point (later stranding and refills are for single laborers only), and
    # the users keep just the households they work on.
    cached_member_pairs: list[CandidatePairs] = []

    def member_pairs_of_all() -> CandidatePairs:
        if not cached_member_pairs:
            members = hh.members[allowed[hh.members]]
            is_member = np.zeros(n, dtype=bool)
            is_member[members] = True
            cached_member_pairs.append(
                _household_pairs(
                    members, _select(pool, is_member), lab, vac, vocab, policy, workers
                )
            )
        return cached_member_pairs[0]

    placed_households = 0
    exact_components = 0
    if hh.n:
        status = _household_status(state, hh, lab, vac)
        split = np.flatnonzero(status == 2)
        # Small components with households: exact (CP-SAT).
        exact_lab, exact_components = _solve_small_components(
            state, pool, status, allowed, lab, vac, hh, cpsat_limit
        )
        # Elsewhere: split households are released, then placed jointly or left out.
        split = split[~exact_lab[hh.members[hh.start[split]]]]
        members = np.concatenate([hh.of(h) for h in split.tolist()]) if split.size else None
        if members is not None:
            state.release(members)
            placed_households, _displaced = _repair_households(
                state, hh, split, member_pairs_of_all(), lab, vac, displace=True,
                successor=_successors(state, pool, lab.household < 0),
            )  # fmt: skip
    stats["households"] = time.perf_counter() - t
    stats["placed_after_households"] = float((state.vacancy >= 0).sum())
    report(0.85)
    if on_assignment is not None:
        _tell(on_assignment, state, lab, vac, vocab, policy)

    t = time.perf_counter()
    singles = lab.household < 0
    _fill_residual(state, pool, singles, stats)
    added2, passes2 = _unstrand(state, pool, singles, lab, vac, vocab, policy, workers, stats)
    strand_added += added2
    strand_passes += passes2
    member_pairs = CandidatePairs.empty()
    if hh.n:
        status = _household_status(state, hh, lab, vac)
        out = np.flatnonzero(status == 0)
        lns = sum(len(p) for p in pool) <= LNS_MAX_PAIRS
        # Members' pairs only when used (the generation costs seconds at full scale).
        if out.shape[0] and (lns or state.remaining().max(initial=0) > 0):
            member_pairs = member_pairs_of_all()
        if out.shape[0] and state.remaining().max(initial=0) > 0:
            placed_households += _repair_households(
                state, hh, out, member_pairs, lab, vac, displace=True,
                # Just after `_unstrand`, no unplaced single has a pair with a vacancy
                # that has openings left: every free opening is a placement gained.
                successor=np.full(len(vac), -1, dtype=np.int64),
            )[0]  # fmt: skip
        # Safety net: a household never ends split.
        status = _household_status(state, hh, lab, vac)
        for h in np.flatnonzero(status == 2).tolist():
            state.release(hh.of(h))
    if hh.n and stats.get("refill_skipped"):
        # Openings freed by members whose household could not be kept together: placed
        # singles step into them where that lets an unplaced single take their place.
        state, moved_pairs, _ = _move_refill(
            state, pool, lab, vac, vocab, policy, workers, stats,
            allowed=singles, passes_max=SINGLES_MOVE_PASSES, moves_k=SINGLES_MOVE_K,
            taken_only=True,
        )  # fmt: skip
        strand_added += moved_pairs
    stats["repair"] = time.perf_counter() - t
    stats["placed_after_repair"] = float((state.vacancy >= 0).sum())

    t = time.perf_counter()
    if hh.n and len(member_pairs) and sum(len(p) for p in pool) <= LNS_MAX_PAIRS:
        # Households still out: insert them where the singles' loss (dual prices of the
        # singles' flow) is smaller than the members' gain, re-solving the singles exactly.
        state, inserted, kept = _insert_households(state, hh, pool, member_pairs, lab, vac, stats)
        stats["lns_households"] = float(inserted)
        stats["lns_rounds"] = float(kept)
        if inserted and state.remaining().max(initial=0) > 0:
            added3, passes3 = _unstrand(
                state, pool, singles, lab, vac, vocab, policy, workers, stats
            )
            strand_added += added3
            strand_passes += passes3
    stats["lns"] = time.perf_counter() - t

    if sum(len(p) for p in pool) <= SINGLES_EXACT_MAX_PAIRS:
        t = time.perf_counter()
        before = (int((state.vacancy >= 0).sum()), int(state.score.sum()))
        _resolve_singles(state, pool, singles, stats)
        if state.remaining().max(initial=0) > 0:
            added4, passes4 = _unstrand(
                state, pool, singles, lab, vac, vocab, policy, workers, stats
            )
            strand_added += added4
            strand_passes += passes4
        stats["singles_exact"] = time.perf_counter() - t
        stats["singles_exact_placed"] = float((state.vacancy >= 0).sum() - before[0])
        stats["singles_exact_score"] = float(state.score.sum() - before[1])

    household_bound: int | None = None
    bound_later: Callable[[], pricing.PricedBound] | None = None
    n_priced = _priced_size(pool, cached_member_pairs, singles) if price_households else 0
    if n_priced > PRICED_MAX_PAIRS:
        # Too large to wait for (about a minute at Baise scale): the caller computes it
        # once the proposals are written. The pool stays in memory until then.
        stats["priced_pairs"] = float(n_priced)
        bound_later = functools.partial(
            _priced_bound_later,
            list(pool),
            list(cached_member_pairs),
            singles,
            state.cap.copy(),
            relax.vacancy,
            hh,
            lab,
            vac,
        )
    elif price_households:
        t = time.perf_counter()
        priced = _priced_bound(
            _priced_pairs(pool, cached_member_pairs, singles),
            state.cap, relax.vacancy, hh, lab, vac,
        )  # fmt: skip
        stats["priced_seconds"] = time.perf_counter() - t
        # Moves rest on exact flows of the singles: only where those run.
        if hh.n and sum(len(p) for p in pool) <= SINGLES_EXACT_MAX_PAIRS:
            t = time.perf_counter()
            before = _objective(state)
            pool_size = sum(len(p) for p in pool)
            member_pairs = (
                cached_member_pairs[0] if cached_member_pairs else _select_lab(pool, ~singles)
            )
            state, moved, kept = _move_households(
                state, hh, pool, member_pairs, priced.prices, lab, vac, singles, stats
            )
            if kept and state.remaining().max(initial=0) > 0:
                added5, passes5 = _unstrand(
                    state, pool, singles, lab, vac, vocab, policy, workers, stats
                )
                strand_added += added5
                strand_passes += passes5
            after = _objective(state)
            stats["price_moves"] = float(moved)
            stats["price_moves_placed"] = float(after[0] - before[0])
            stats["price_moves_score"] = float(after[1] - before[1])
            stats["price_moves_seconds"] = time.perf_counter() - t
            if sum(len(p) for p in pool) != pool_size:  # the bound must cover the new pairs
                t = time.perf_counter()
                priced = _priced_bound(
                    _priced_pairs(pool, cached_member_pairs, singles),
                    state.cap, relax.vacancy, hh, lab, vac, start=priced.prices,
                )  # fmt: skip
                stats["priced_seconds"] += time.perf_counter() - t
        # Not clipped at the round's total: the round's assignment is one of those the
        # bound covers, so a bound below it would be a bug to see, not to hide.
        household_bound = priced.bound
        stats["priced_steps"] = float(priced.steps)
        stats["priced_pairs"] = float(_priced_size(pool, cached_member_pairs, singles))
    report(0.95)

    assignment = state.vacancy.astype(np.int32)
    score = state.score.astype(np.int16)
    total = int(state.score.sum())
    final_status = _household_status(state, hh, lab, vac)
    t = time.perf_counter()
    parts = _parts_of(lab, vac, vocab, policy, assignment)
    stats["parts"] = time.perf_counter() - t
    stats["total"] = time.perf_counter() - t_all
    # CPU seconds of this process (all threads): wall times are noisy on a shared machine.
    stats["cpu_total"] = time.process_time() - cpu_all
    stats["stranding_passes"] = float(strand_passes)
    stats["exact_components"] = float(exact_components)
    report(1.0)
    filled = np.bincount(assignment[assignment >= 0], minlength=len(vac)).astype(np.int32)
    return RoundResult(
        assignment=assignment,
        score=score,
        assigned=int((assignment >= 0).sum()),
        total_score=total,
        candidate_pairs=len(cand) + strand_added + refill_added,
        upper_bound=upper_bound,
        upper_bound_assigned=upper_assigned,
        gap=(upper_bound - total) / upper_bound if upper_bound else 0.0,
        household_bound=household_bound,
        household_gap=household_gap(household_bound, total),
        household_bound_later=bound_later,
        vacancy_filled=filled,
        parts=parts,
        households_placed=int((final_status == 1).sum()),
        households_unplaced=int((final_status == 0).sum()),
        stranding_pairs_added=strand_added,
        stats=stats,
    )


def _priced_bound_later(
    pool: list[CandidatePairs],
    member_pairs: list[CandidatePairs],
    singles: np.ndarray,
    cap: np.ndarray,
    relaxed: np.ndarray,
    hh: _Households,
    lab: LaborerArrays,
    vac: VacancyArrays,
) -> pricing.PricedBound:
    """`_priced_bound` for a round too large to wait for it, once: its pairs are chosen
    from the pool only now, outside the round's time (0.5 s at Baise scale), and the
    lists it was given are emptied so that their arrays can be freed. A second call
    raises instead of bounding no pairs (0)."""
    if not pool:
        raise RuntimeError("the round's pairs were already priced and freed")
    pairs = list(_priced_pairs(pool, member_pairs, singles))
    pool.clear()
    member_pairs.clear()
    return _priced_bound(pairs, cap, relaxed, hh, lab, vac, consume=True)


def _priced_size(
    pool: list[CandidatePairs], member_pairs: list[CandidatePairs], singles: np.ndarray
) -> int:
    """Pairs `_priced_pairs` gives, counted without making them."""
    if member_pairs:
        return len(member_pairs[0]) + sum(int(singles[p.laborer].sum()) for p in pool)
    return sum(len(p) for p in pool)


def _priced_pairs(
    pool: list[CandidatePairs], member_pairs: list[CandidatePairs], singles: np.ndarray
) -> list[CandidatePairs]:
    """Every pair the round used, the members' once: their pool pairs are all in their
    cached pairs (made from the pool once members stopped getting pool pairs)."""
    return [_select_lab(pool, singles), *member_pairs] if member_pairs else pool


def _price_plans(
    state: _State,
    hh: _Households,
    member_pairs: CandidatePairs,
    price: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
) -> list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray]]:
    """Households whose best option at `price` is worth more than their places now.

    An option (one employer / one city where every member has a pair) is worth the sum
    of each member's best score there less the vacancy's price; places now are worth
    their scores less prices (nothing for a household left out). Returns (gain,
    household, members, vacancies, scores), largest gain first (ties: household).
    """
    p_lab = member_pairs.laborer.astype(np.int64)
    p_vac = member_pairs.vacancy.astype(np.int64)
    keep = state.cap[p_vac] > 0
    p_lab, p_vac = p_lab[keep], p_vac[keep]
    p_sc = member_pairs.score[keep].astype(np.int64)
    if p_lab.shape[0] == 0:
        return []
    p_h = lab.household[p_lab].astype(np.int64)
    opts = _Options.build(p_lab, p_vac, p_sc, p_h, p_sc - price[p_vac], hh, vac)
    o_value, o_h = opts.value, opts.household
    # Each household's best complete option (ties: the smaller key, which comes first).
    cand = np.flatnonzero(opts.complete(hh) & (o_value > 0))
    if cand.shape[0] == 0:
        return []
    cand = cand[np.lexsort((-o_value[cand], o_h[cand]))]
    cand = cand[np.append(True, o_h[cand][1:] != o_h[cand][:-1])]
    # What the households' places are worth now.
    members = hh.members
    v = state.vacancy[members]
    now = np.bincount(
        lab.household[members].astype(np.int64),
        weights=np.where(v >= 0, state.score[members] - price[np.maximum(v, 0)], 0.0),
        minlength=hh.n,
    )
    gain = o_value[cand] - now[o_h[cand]]
    cand, gain = cand[gain > 1e-9], gain[gain > 1e-9]
    order = np.lexsort((o_h[cand], -gain))
    row_start = np.searchsorted(opts.option_of_row, cand)
    return [
        (float(gain[i]), int(o_h[cand[i]]), *opts.plan(int(cand[i]), int(row_start[i])))
        for i in order.tolist()
    ]


def _move_households(
    state: _State,
    hh: _Households,
    pool: list[CandidatePairs],
    member_pairs: CandidatePairs,
    price: np.ndarray,
    lab: LaborerArrays,
    vac: VacancyArrays,
    singles: np.ndarray,
    spent: dict[str, float],
) -> tuple[_State, int, bool]:
    """Move households to the options the priced bound's prices favour (`_price_plans`).

    The batch of households goes best gain first into its options where the openings the
    other members leave allow it (the singles are all placed again afterwards); one that
    does not fit keeps its places if they are still free. Then every single laborer is
    placed again by one exact flow (`_resolve_singles`), and households of the batch left
    with no place are placed jointly into the openings left where they fit. The batch is
    kept if the round's objective (placements, then score) improves; otherwise its better
    half is tried, up to PRICE_MOVE_TRIALS batches. Households stay whole throughout.
    Returns (state, households moved, whether a batch was kept): a kept batch may move no
    household and still change the singles' places.
    """
    batch = _price_plans(state, hh, member_pairs, price, lab, vac)
    before = _objective(state)
    for _ in range(PRICE_MOVE_TRIALS):
        if not batch:
            break
        trial = state.copy()
        olds = [hh.of(h) for _gain, h, *_ in batch]
        trial.release(np.concatenate(olds))
        # Openings left by the other members; the singles' places do not count here.
        held = trial.vacancy[~singles & (trial.vacancy >= 0)]
        rem = trial.cap - np.bincount(held, minlength=trial.cap.shape[0])
        moved = 0
        out = []
        for (_gain, h, members, vacs, scores), m in zip(batch, olds, strict=True):
            ov = state.vacancy[m]
            if _fits(rem, vacs):
                trial.place(members, vacs, scores)
                np.subtract.at(rem, vacs, 1)
                moved += 1
            elif (ov >= 0).all() and _fits(rem, ov):
                trial.place(m, ov, state.score[m])
                np.subtract.at(rem, ov, 1)
            else:
                out.append(h)
        _resolve_singles(trial, pool, singles, spent)
        if out:
            # Just after the singles' exact flow no unplaced single has a pool pair at a
            # vacancy with openings left: a free opening is a placement gained.
            _repair_households(
                trial, hh, np.array(out, dtype=np.int64), member_pairs, lab, vac,
                displace=False, successor=np.full(len(vac), -1, dtype=np.int64),
            )  # fmt: skip
        if _objective(trial) > before:
            return trial, moved, True
        batch = batch[: len(batch) // 2]
    return state, 0, False


def _fits(rem: np.ndarray, vacs: np.ndarray) -> bool:
    """Whether vacancies `vacs` (repeats allowed) have that many openings left."""
    u, c = np.unique(vacs, return_counts=True)
    return bool((rem[u] >= c).all())


def _resolve_singles(
    state: _State, pool: list[CandidatePairs], singles: np.ndarray, spent: dict[str, float]
) -> None:
    """Place every single laborer again, exactly (most placements, then the best score)
    over all its pool pairs, with the households' places fixed.

    The singles' places come from flows pruned to FLOW_KEEP pairs per opening and from
    one-move refills; one unpruned flow over their pool pairs does better. The singles'
    current pairs join the flow, so the result is never worse (lexicographically).
    """
    placed = np.flatnonzero(singles & (state.vacancy >= 0))
    current = CandidatePairs(placed, state.vacancy[placed], state.score[placed])
    pairs = _select_lab([*pool, current], singles)
    state.release(placed)
    idx = _solve_flow(pairs.laborer, pairs.vacancy, pairs.score, state.remaining(), spent)
    state.place(
        pairs.laborer[idx].astype(np.int64),
        pairs.vacancy[idx].astype(np.int64),
        pairs.score[idx].astype(np.int64),
    )


def _priced_bound(
    pairs: list[CandidatePairs],
    cap: np.ndarray,
    relaxed: np.ndarray,
    hh: _Households,
    lab: LaborerArrays,
    vac: VacancyArrays,
    start: np.ndarray | None = None,
    *,
    consume: bool = False,
) -> pricing.PricedBound:
    """`pricing.priced_bound` over the round's pairs (duplicates leave it valid; they only
    blunt the clearing steps a little: a duplicated best pair bids the price), from
    `start` prices or else the relaxation's (`pricing.assignment_prices`). `consume`
    empties the list `pairs` once split into singles' and members' pairs, so that its
    arrays can be freed (a third of a GB at Baise scale)."""
    if start is None:
        start = pricing.assignment_prices(pairs, cap, relaxed)
    is_member = lab.household >= 0
    singles = _select_lab(pairs, ~is_member)
    members = _select_lab(pairs, is_member)
    if consume:
        pairs.clear()
    mode = hh.mode[lab.household[members.laborer]] if hh.n else np.zeros(0, dtype=np.int8)
    return pricing.priced_bound(
        singles, members, _option_key(mode, members.vacancy.astype(np.int64), vac),
        lab.household, np.diff(hh.start), cap, start=start,
    )  # fmt: skip


def greedy_baseline(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    candidates: CandidatePairs | None = None,
    *,
    refresh: int = 32_768,
    refresh_k: int = 40,
    workers: int | None = None,
    window: int = 4096,
    low_water: int = 8,
) -> Assignment:
    """First come, first served: laborers in id order each take their best vacancy that
    still has openings (hard rules apply; households are ignored).

    Laborers go in chunks of `refresh` (id order) with their top-k lists as a padded
    matrix. A list computed at some moment stays exact later on: openings only
    disappear, so its first still-open entry is the best still-open vacancy (a list
    shorter than its k held every feasible vacancy). When a laborer's full-length list
    has no open entry left, every later laborer of the chunk in the same situation gets a
    fresh list of `refresh_k` vacancies still open in one `generate_candidates` call:
    refreshing only exhausted lists, in batches, keeps the number of calls small.
    """
    t0 = time.perf_counter()
    k = policy.k
    cand = (
        scoring.generate_candidates(lab, vac, vocab, policy, k=k, workers=workers)
        if candidates is None
        else candidates
    )
    n = len(lab)
    kmax = max(k, refresh_k)
    rem_np = np.maximum(vac.openings.astype(np.int64), 0)
    rem = rem_np.tolist()
    ptr = np.searchsorted(cand.laborer, np.arange(n + 1))
    out = np.full(n, -1, dtype=np.int32)
    out_sc = np.zeros(n, dtype=np.int16)
    order = np.argsort(lab.id, kind="stable")
    step = np.arange(kmax)
    for cs in range(0, n, max(1, int(refresh))):
        if not any(r > 0 for r in rem):
            break  # every opening is taken: nobody later can be placed
        rows = order[cs : cs + refresh]
        m = rows.shape[0]
        start, length = ptr[rows], ptr[rows + 1] - ptr[rows]
        valid = step[None, :] < np.minimum(length, k)[:, None]
        idx = np.where(valid, start[:, None] + step[None, :], 0)
        mat_v = np.where(valid, cand.vacancy[idx], -1).astype(np.int64)
        mat_s = np.where(valid, cand.score[idx], 0).astype(np.int64)
        complete = length < k  # list held every feasible vacancy
        lv, ls, done = mat_v.tolist(), mat_s.tolist(), complete.tolist()
        res_v = [-1] * m
        res_s = [0] * m
        p = 0
        while p < m:
            for vj, sc in zip(lv[p], ls[p], strict=True):
                if vj < 0:
                    break
                if rem[vj] > 0:
                    rem[vj] -= 1
                    res_v[p], res_s[p] = vj, sc
                    break
            if res_v[p] >= 0 or done[p]:
                p += 1
                continue
            # Laborer p's list is used up: fresh lists for p and every later laborer of
            # the chunk whose list is used up too, against the vacancies still open.
            rem_np = np.asarray(rem, dtype=np.int64)
            open_vac = np.flatnonzero(rem_np > 0)
            if open_vac.shape[0] == 0:
                break
            # Each call costs a fixed ~50 ms plus ~20 us per laborer: also refresh the
            # next `window` laborers whose lists are running short, so that calls stay few.
            sub = mat_v[p:]
            n_open = ((sub >= 0) & (rem_np[np.maximum(sub, 0)] > 0)).sum(axis=1)
            short = n_open < np.where(np.arange(sub.shape[0]) < window, low_water, 1)
            need = p + np.flatnonzero(short & ~complete[p:])
            fresh = scoring.generate_candidates(
                lab,
                vac,
                vocab,
                policy,
                k=refresh_k,
                laborers=rows[need],
                vacancies=open_vac,
                workers=workers,
            )
            # Fresh pairs are sorted by laborer index: map them to chunk positions.
            pos_of = dict(zip(rows[need].tolist(), need.tolist(), strict=True))
            f_pos = np.fromiter(
                (pos_of[li] for li in fresh.laborer.tolist()), dtype=np.int64, count=len(fresh)
            )
            first = np.searchsorted(fresh.laborer, fresh.laborer, side="left")
            rank = np.arange(len(fresh)) - first
            mat_v[need] = -1
            mat_s[need] = 0
            mat_v[f_pos, rank] = fresh.vacancy
            mat_s[f_pos, rank] = fresh.score
            counts = np.bincount(f_pos - p, minlength=m - p)[need - p]
            complete[need] = counts < refresh_k
            for q in need.tolist():
                lv[q], ls[q], done[q] = mat_v[q].tolist(), mat_s[q].tolist(), bool(complete[q])
            # Laborer p now has an open entry first (or none at all): retry it.
        out[rows] = np.asarray(res_v, dtype=np.int32)
        out_sc[rows] = np.asarray(res_s, dtype=np.int16)
    return Assignment(
        vacancy=out,
        score=out_sc,
        assigned=int((out >= 0).sum()),
        total_score=int(out_sc.sum(dtype=np.int64)),
        stats={"greedy": time.perf_counter() - t0},
    )
