"""Assignment of laborers to vacancies: most placements first, then the best total score.

Layers:

* `_Market`: an exact forward/reverse auction (Bertsekas) over the candidate pairs,
  vectorized with numpy, with warm starts (new pairs, fewer openings, laborers taken
  out) so the stranding and household repairs do not re-solve from scratch;
* `assign`: the lexicographic optimum over candidate pairs without household rules,
  by the auction (large instances) or OR-Tools SimpleMinCostFlow (small ones);
* `solve_round`: candidates -> relaxation -> no-stranding loop -> households ->
  no-stranding loop, with an upper bound and the gap to it.

Objective. Placing one more laborer always beats any score gain, so each pair is worth
B + score with B = 100 * (most placements possible) + 1: one placement outweighs the
largest total score difference. With integers this is exact (no tolerance).

Why an auction next to min-cost flow: on the realistic 1.46M-laborer instance
(14M candidate pairs) SimpleMinCostFlow needs ~80 s of CPU and SimpleMaxFlow alone ~9 s,
while the market clears in seconds because only a small fraction of the laborers is in
contention after the first bidding rounds. Both are exact; tests check them against each
other and against scipy's linear_sum_assignment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.core.types import CandidatePairs

# Below this many candidate pairs `assign(method="auto")` uses SimpleMinCostFlow.
FLOW_MAX_PAIRS = 20_000
_I64_MAX = np.iinfo(np.int64).max


def placement_bonus(n_laborers: int, total_openings: int) -> int:
    """B: worth of one placement, above any possible difference in total score."""
    return 100 * max(1, min(int(n_laborers), int(total_openings))) + 1


def _run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """bool mask of the first element of each run of equal keys."""
    out = np.ones(sorted_keys.shape[0], dtype=bool)
    out[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return out


def _segments(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated index ranges [starts[i], starts[i] + lengths[i])."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(lengths) - lengths
    return np.repeat(starts - offs, lengths) + np.arange(total, dtype=np.int64)


class _Market:
    """Exact auction for: each laborer at most one vacancy, vacancy j at most cap[j].

    Laborers are bidders; the openings of a vacancy are slots with their own prices.
    A laborer's profit is (pair worth - price paid). Invariants (epsilon-complementary
    slackness), for prices P1[j] = the cheapest slot of j:

    * an assigned laborer's profit is >= (w - P1) of each other candidate - eps, and
      >= -eps;
    * an unassigned laborer values every candidate at most eps (w - P1 <= eps);
    * once quiet, every vacancy with a free slot has P1 = 0.

    Then the total worth is within n * eps of the optimum (LP duality with prices P1),
    so with worths scaled by n + 1 and a final eps of 1 the result is optimal. Unassigned
    laborers bid (forward auction, prices rise); vacancies with a free slot above price 0
    bid for laborers (reverse auction, prices fall); eps shrinks by `factor` per phase
    (eps-scaling) so prices move in big steps first. Jacobi rounds: all bidders of a
    round bid at once, as numpy operations over their candidate pairs.
    """

    def __init__(
        self,
        n: int,
        lab: np.ndarray,
        vac: np.ndarray,
        worth: np.ndarray,
        cap: np.ndarray,
        factor: int = 8,
    ) -> None:
        self.n = int(n)
        self.V = int(cap.shape[0])
        self.scale = self.n + 1
        self.factor = factor
        self.cap = np.maximum(cap.astype(np.int64), 0)
        self.s_off = np.concatenate([[0], np.cumsum(self.cap)]).astype(np.int64)
        self.s_vac = np.repeat(np.arange(self.V, dtype=np.int64), self.cap)
        n_slots = int(self.s_off[-1])
        self.s_price = np.zeros(n_slots, dtype=np.int64)
        self.s_holder = np.full(n_slots, -1, dtype=np.int64)
        self.slot_of = np.full(self.n, -1, dtype=np.int64)
        self.own_w = np.zeros(self.n, dtype=np.int64)  # worth of the held pair
        self.eps = 0
        self.rounds = 0
        self._set_arcs(lab, vac, worth)

    # ---- arcs -------------------------------------------------------------------------

    def _set_arcs(self, lab: np.ndarray, vac: np.ndarray, worth: np.ndarray) -> None:
        order = np.lexsort((vac, lab))
        self.a_lab = lab[order].astype(np.int64)
        self.a_vac = vac[order].astype(np.int64)
        self.a_w = worth[order].astype(np.int64) * self.scale
        self.p_ptr = np.concatenate(
            [[0], np.cumsum(np.bincount(self.a_lab, minlength=self.n))]
        ).astype(np.int64)
        by_vac = np.argsort(self.a_vac, kind="stable")
        self.r_idx = by_vac
        self.r_ptr = np.concatenate(
            [[0], np.cumsum(np.bincount(self.a_vac, minlength=self.V))]
        ).astype(np.int64)

    def add_arcs(self, lab: np.ndarray, vac: np.ndarray, worth: np.ndarray) -> None:
        """Add pairs (duplicates of existing pairs are ignored). Warm start."""
        if lab.shape[0] == 0:
            return
        old_key = self.a_lab * self.V + self.a_vac
        key = lab.astype(np.int64) * self.V + vac.astype(np.int64)
        key, first = np.unique(key, return_index=True)
        fresh = ~np.isin(key, old_key)
        if not fresh.any():
            return
        sel = first[fresh]
        self._set_arcs(
            np.concatenate([self.a_lab, lab[sel].astype(np.int64)]),
            np.concatenate([self.a_vac, vac[sel].astype(np.int64)]),
            np.concatenate([self.a_w // self.scale, worth[sel].astype(np.int64)]),
        )
        if self.eps:
            self._restore_slackness(np.unique(lab[sel]).astype(np.int64))

    def remove_laborers(self, rows: np.ndarray) -> None:
        """Take laborers out (their pairs vanish, their slots become free). Warm start."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if rows.shape[0] == 0:
            return
        drop = np.isin(self.a_lab, rows)
        held = self.slot_of[rows]
        held = held[held >= 0]
        self.s_holder[held] = -1
        self.slot_of[rows] = -1
        self._set_arcs(self.a_lab[~drop], self.a_vac[~drop], self.a_w[~drop] // self.scale)

    def reduce_capacity(self, vac: np.ndarray, by: np.ndarray) -> None:
        """Remove `by` openings of each vacancy, cheapest slots first (their holders
        bid again). Prices only rise, so every other laborer keeps its slackness."""
        take = np.zeros(self.V, dtype=np.int64)
        np.add.at(take, np.asarray(vac, dtype=np.int64), np.asarray(by, dtype=np.int64))
        take = np.minimum(take, self.cap)
        if not take.any():
            return
        order = np.lexsort((self.s_holder >= 0, self.s_price, self.s_vac))
        rank = np.arange(order.shape[0]) - self.s_off[self.s_vac[order]]
        drop = order[rank < take[self.s_vac[order]]]
        evicted = self.s_holder[drop]
        evicted = evicted[evicted >= 0]
        self.slot_of[evicted] = -1
        keep = np.ones(self.s_vac.shape[0], dtype=bool)
        keep[drop] = False
        self.cap = self.cap - take
        self.s_vac = self.s_vac[keep]
        self.s_price = self.s_price[keep]
        self.s_holder = self.s_holder[keep]
        self.s_off = np.concatenate([[0], np.cumsum(self.cap)]).astype(np.int64)
        held = np.flatnonzero(self.s_holder >= 0)
        self.slot_of[self.s_holder[held]] = held
        self._pending = np.union1d(getattr(self, "_pending", np.zeros(0, np.int64)), evicted)

    # ---- prices -----------------------------------------------------------------------

    def _p1(self) -> np.ndarray:
        """Cheapest slot price per vacancy (int64 max for a vacancy without slots)."""
        p1 = np.full(self.V, _I64_MAX // 4, dtype=np.int64)
        has = self.cap > 0
        if has.any():
            p1[has] = np.minimum.reduceat(self.s_price, self.s_off[:-1][has])
        return p1

    def _best_two(
        self, rows: np.ndarray, p1: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per laborer in `rows` (each with >= 1 pair): best value, its vacancy and
        worth, and the best value among the other vacancies (or 0, the outside option)."""
        deg = self.p_ptr[rows + 1] - self.p_ptr[rows]
        idx = _segments(self.p_ptr[rows], deg)
        val = self.a_w[idx] - p1[self.a_vac[idx]]
        starts = np.cumsum(deg) - deg
        best = np.maximum.reduceat(val, starts)
        owner = np.repeat(np.arange(rows.shape[0]), deg)
        hit = np.flatnonzero(val == best[owner])
        first = hit[_run_starts(owner[hit])]
        val[first] = np.iinfo(np.int64).min // 4
        second = np.maximum(np.maximum.reduceat(val, starts), 0)
        return best, self.a_vac[idx[first]], self.a_w[idx[first]], second

    def _effective(self, rows: np.ndarray, p1: np.ndarray) -> np.ndarray:
        """Profit of `rows` at the cheapest-slot prices: worth - P1 of the held vacancy
        (what matters for optimality, whatever each paid), 0 when unassigned."""
        slot = self.slot_of[rows]
        held = slot >= 0
        vac = self.s_vac[np.maximum(slot, 0)]
        return np.where(held, self.own_w[rows] - p1[vac], 0)

    # ---- slackness --------------------------------------------------------------------

    def _restore_slackness(self, rows: np.ndarray) -> None:
        """Unassign laborers of `rows` that violate eps-slackness; queue unassigned ones
        that now value some candidate above eps."""
        rows = rows[self.p_ptr[rows + 1] > self.p_ptr[rows]]
        if rows.shape[0] == 0:
            return
        p1 = self._p1()
        deg = self.p_ptr[rows + 1] - self.p_ptr[rows]
        idx = _segments(self.p_ptr[rows], deg)
        val = self.a_w[idx] - p1[self.a_vac[idx]]
        own = self.slot_of[rows]
        own_vac = np.where(own >= 0, self.s_vac[np.maximum(own, 0)], -1)
        owner = np.repeat(np.arange(rows.shape[0]), deg)
        val[self.a_vac[idx] == own_vac[owner]] = np.iinfo(np.int64).min // 4
        best_other = np.maximum.reduceat(val, np.cumsum(deg) - deg)
        assigned = own >= 0
        eff = self._effective(rows, p1)
        bad = np.where(
            assigned,
            (eff < best_other - self.eps) | (eff < -self.eps),
            best_other > self.eps,
        )
        viol = rows[bad & assigned]
        self.s_holder[self.slot_of[viol]] = -1
        self.slot_of[viol] = -1
        self._pending = np.union1d(getattr(self, "_pending", np.zeros(0, np.int64)), rows[bad])

    # ---- auction rounds ---------------------------------------------------------------

    def _forward(self, bidders: np.ndarray) -> None:
        """Rounds of bids by unassigned laborers until none is left bidding."""
        eps = self.eps
        while bidders.shape[0]:
            self.rounds += 1
            p1 = self._p1()
            best, j, w, second = self._best_two(bidders, p1)
            out = best <= eps
            # Laborers whose best candidate is not worth its price stay out.
            bid_rows = bidders[~out]
            if bid_rows.shape[0] == 0:
                break
            bj = j[~out]
            price = w[~out] - second[~out] + eps
            # Each vacancy keeps the highest prices among its slots and the new bids.
            vs = np.unique(bj)
            sidx = _segments(self.s_off[vs], self.cap[vs])
            c_vac = np.concatenate([self.s_vac[sidx], bj])
            c_price = np.concatenate([self.s_price[sidx], price])
            c_who = np.concatenate([self.s_holder[sidx], bid_rows])
            c_new = np.concatenate([np.zeros(sidx.shape[0], np.int8), np.ones(bj.shape[0], np.int8)])
            c_slot = np.concatenate([sidx, np.full(bj.shape[0], -1, np.int64)])
            tie = np.concatenate([sidx, bid_rows])
            order = np.lexsort((tie, c_new, -c_price, c_vac))
            c_vac, c_price, c_who = c_vac[order], c_price[order], c_who[order]
            c_new, c_slot = c_new[order], c_slot[order]
            rank = np.arange(c_vac.shape[0]) - np.searchsorted(c_vac, c_vac, side="left")
            keep = rank < self.cap[c_vac]
            # Kept bids take over the slots of dropped entries (same vacancy, same count).
            won = keep & (c_new == 1)
            freed = ~keep & (c_new == 0)
            won_pos = np.flatnonzero(won)
            freed_pos = np.flatnonzero(freed)
            slots = c_slot[freed_pos]
            # Pair them per vacancy in order (both lists are sorted by vacancy).
            evicted = c_who[freed_pos]
            evicted = evicted[evicted >= 0]
            self.slot_of[evicted] = -1
            winners = c_who[won_pos]
            self.s_price[slots] = c_price[won_pos]
            self.s_holder[slots] = winners
            self.slot_of[winners] = slots
            self.own_w[winners] = w[~out][np.searchsorted(bid_rows, winners)]
            losers = c_who[~keep & (c_new == 1)]
            bidders = np.unique(np.concatenate([losers, evicted]))

    def _reverse(self) -> None:
        """Rounds of bids by vacancies that have a free slot but no slot at price 0.

        Such a vacancy offers its free slots to the laborers that gain most from them
        (worth - current profit), at a price just below the gain of the best laborer not
        offered one, so every other laborer keeps its slackness; once nobody gains more
        than eps its free slots drop to price 0. Laborers only move, nobody is
        unassigned. A vacancy's step is applied in a round only when all its offers are
        taken and none of its own holders moves (it did not rank them); when no vacancy
        qualifies, the first one in the queue acts alone, which is always safe.
        """
        while True:
            p1 = self._p1()
            held = np.bincount(self.s_vac[self.s_holder >= 0], minlength=self.V)
            free_cnt = self.cap - held
            queue = np.flatnonzero((free_cnt > 0) & (p1 > 0))
            if queue.shape[0] == 0:
                return
            self.rounds += 1
            if not self._reverse_step(queue, free_cnt, p1, jacobi=True):
                self._reverse_step(queue[:1], free_cnt, p1, jacobi=False)

    def _reverse_step(
        self, queue: np.ndarray, free_cnt: np.ndarray, p1: np.ndarray, jacobi: bool
    ) -> bool:
        """One reverse round for the vacancies in `queue`; False when nothing changed."""
        eps = self.eps
        neg = np.iinfo(np.int64).min // 4
        deg = self.r_ptr[queue + 1] - self.r_ptr[queue]
        ridx = self.r_idx[_segments(self.r_ptr[queue], deg)]
        r_vac = self.a_vac[ridx]
        r_lab = self.a_lab[ridx]
        own = self.slot_of[r_lab]
        own_vac = np.where(own >= 0, self.s_vac[np.maximum(own, 0)], -1)
        gain = np.where(own_vac == r_vac, neg, self.a_w[ridx] - self._effective(r_lab, p1))
        order = np.lexsort((r_lab, -gain, r_vac))
        r_vac, r_lab, gain = r_vac[order], r_lab[order], gain[order]
        r_w, own_vac = self.a_w[ridx][order], own_vac[order]
        rank = np.arange(r_vac.shape[0]) - np.searchsorted(r_vac, r_vac, side="left")
        n_elig = np.bincount(r_vac[gain > eps], minlength=self.V)
        m = np.minimum(free_cnt, n_elig)
        offer = rank < m[r_vac]
        nxt = np.full(self.V, neg, dtype=np.int64)
        at_m = rank == m[r_vac]
        nxt[r_vac[at_m]] = gain[at_m]
        new_price = np.maximum(nxt - eps, 0)
        o_vac, o_lab, o_old = r_vac[offer], r_lab[offer], own_vac[offer]
        o_w = r_w[offer]
        o_profit = o_w - new_price[o_vac]
        # Each laborer takes its most profitable offer (then the lowest vacancy index).
        order = np.lexsort((o_vac, -o_profit, o_lab))
        o_vac, o_lab, o_old, o_w = o_vac[order], o_lab[order], o_old[order], o_w[order]
        take = _run_starts(o_lab)
        rejected = np.unique(o_vac[~take])
        o_vac, o_lab, o_old, o_w = o_vac[take], o_lab[take], o_old[take], o_w[take]
        losing = np.unique(o_old[o_old >= 0])  # vacancies whose holders would move
        safe = np.setdiff1d(np.setdiff1d(queue, rejected), losing)
        if jacobi and safe.shape[0] == 0:
            return False
        act = np.isin(o_vac, safe)
        o_vac, o_lab, o_w = o_vac[act], o_lab[act], o_w[act]
        # Accepted offers fill each vacancy's free slots in slot order.
        free_slots = np.flatnonzero(self.s_holder < 0)
        fs_vac = self.s_vac[free_slots]
        fs_start = np.searchsorted(fs_vac, np.arange(self.V), side="left")
        order = np.argsort(o_vac, kind="stable")
        o_vac, o_lab, o_w = o_vac[order], o_lab[order], o_w[order]
        o_rank = np.arange(o_vac.shape[0]) - np.searchsorted(o_vac, o_vac, side="left")
        slot = free_slots[fs_start[o_vac] + o_rank]
        old = self.slot_of[o_lab]
        self.s_holder[old[old >= 0]] = -1
        self.s_holder[slot] = o_lab
        self.s_price[slot] = new_price[o_vac]
        self.slot_of[o_lab] = slot
        self.own_w[o_lab] = o_w
        # Offered fewer slots than free: nobody else gains more than eps, so the
        # still-free slots (free before this step) cost 0 from now on.
        settled = safe[m[safe] < free_cnt[safe]]
        if settled.shape[0]:
            still = free_slots[np.isin(fs_vac, settled)]
            still = still[self.s_holder[still] < 0]
            self.s_price[still] = 0
        return True

    def solve(self, progress: Callable[[float], None] | None = None) -> None:
        """Run (or continue) eps-scaling phases until eps = 1, then stay at 1."""
        w_max = int(self.a_w.max(initial=0))
        if self.eps == 0:
            self.eps = max(1, w_max // self.factor)
            pending = np.arange(self.n, dtype=np.int64)
            pending = pending[self.p_ptr[pending + 1] > self.p_ptr[pending]]
            self._pending = pending
            phases = max(1, int(np.ceil(np.log(max(2, self.eps)) / np.log(self.factor))) + 1)
        else:
            phases = 1
        done = 0
        while True:
            pending = getattr(self, "_pending", np.zeros(0, np.int64))
            self._pending = np.zeros(0, np.int64)
            pending = pending[self.slot_of[pending] < 0]
            while True:
                self._forward(pending)
                self._reverse()
                pending = getattr(self, "_pending", np.zeros(0, np.int64))
                self._pending = np.zeros(0, np.int64)
                pending = pending[self.slot_of[pending] < 0]
                if pending.shape[0] == 0:
                    break
            done += 1
            if progress is not None:
                progress(min(1.0, done / phases))
            if self.eps == 1:
                return
            self.eps = max(1, self.eps // self.factor)
            self._restore_slackness(np.arange(self.n, dtype=np.int64))

    # ---- results ----------------------------------------------------------------------

    def assignment(self) -> np.ndarray:
        """int64[n]: vacancy of each laborer or -1."""
        out = np.full(self.n, -1, dtype=np.int64)
        held = self.slot_of >= 0
        out[held] = self.s_vac[self.slot_of[held]]
        return out


def _solve_flow(
    lab: np.ndarray, vac: np.ndarray, score: np.ndarray, cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lexicographic optimum with OR-Tools: max flow, then min cost among max flows.

    Returns the chosen (laborer, vacancy) pairs. Only laborers and vacancies that have a
    pair become nodes; arcs are added as numpy batches; costs are 100 - score (>= 0,
    int64, no overflow: at most 100 per unit of flow).
    """
    if lab.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    u_lab, li = np.unique(lab, return_inverse=True)
    u_vac, vi = np.unique(vac, return_inverse=True)
    nl, nv = u_lab.shape[0], u_vac.shape[0]
    sink = nl + nv
    f = min_cost_flow.SimpleMinCostFlow()
    arcs = f.add_arcs_with_capacity_and_unit_cost(
        li.astype(np.int64),
        (nl + vi).astype(np.int64),
        np.ones(lab.shape[0], dtype=np.int64),
        (100 - score).astype(np.int64),
    )
    caps = np.minimum(cap[u_vac].astype(np.int64), nl)
    f.add_arcs_with_capacity_and_unit_cost(
        nl + np.arange(nv, dtype=np.int64),
        np.full(nv, sink, dtype=np.int64),
        caps,
        np.zeros(nv, dtype=np.int64),
    )
    f.set_nodes_supplies(np.arange(nl, dtype=np.int64), np.ones(nl, dtype=np.int64))
    f.set_node_supply(sink, -int(nl))
    status = f.solve_max_flow_with_min_cost()
    if status != f.OPTIMAL:
        raise RuntimeError(f"min cost flow failed: {status}")
    used = f.flows(arcs) > 0
    return lab[used].astype(np.int64), vac[used].astype(np.int64)


@dataclass
class Assignment:
    """Result of `assign`: vacancy per laborer (-1 = none) and the pair's score."""

    vacancy: np.ndarray  # int32[L]
    score: np.ndarray  # int16[L]
    assigned: int
    total_score: int
    method: str
    stats: dict[str, float] = field(default_factory=dict)


def assign(
    candidates: CandidatePairs,
    vac_openings: np.ndarray,
    n_laborers: int | None = None,
    *,
    method: str = "auto",
    progress: Callable[[float], None] | None = None,
) -> Assignment:
    """Most placements over the candidate pairs, then the best total score.

    Each laborer gets at most one vacancy, vacancy j at most `vac_openings[j]` laborers
    (no household rules here; see `solve_round`). `method` is "flow" (OR-Tools min cost
    flow), "auction" (`_Market`) or "auto" (flow up to FLOW_MAX_PAIRS pairs). Both are
    exact; ties between optimal assignments are resolved deterministically.
    """
    t0 = time.perf_counter()
    n = int(candidates.laborer.max(initial=-1)) + 1 if n_laborers is None else int(n_laborers)
    cap = np.maximum(np.asarray(vac_openings, dtype=np.int64), 0)
    lab = candidates.laborer.astype(np.int64)
    vac = candidates.vacancy.astype(np.int64)
    score = candidates.score.astype(np.int64)
    ok = cap[vac] > 0
    lab, vac, score = lab[ok], vac[ok], score[ok]
    if method == "auto":
        method = "flow" if lab.shape[0] <= FLOW_MAX_PAIRS else "auction"
    out = np.full(n, -1, dtype=np.int32)
    sc = np.zeros(n, dtype=np.int16)
    if method == "flow":
        l_sel, v_sel = _solve_flow(lab, vac, score, cap)
        out[l_sel] = v_sel
    elif method == "auction":
        market = _Market(n, lab, vac, placement_bonus(n, int(cap.sum())) + score, cap)
        market.solve(progress)
        out[:] = market.assignment()
    else:
        raise ValueError(f"unknown method {method!r}")
    placed = np.flatnonzero(out >= 0)
    sc[placed] = _pair_scores(lab, vac, score, placed, out[placed])
    return Assignment(
        vacancy=out,
        score=sc,
        assigned=int(placed.shape[0]),
        total_score=int(sc.sum(dtype=np.int64)),
        method=method,
        stats={"solve": time.perf_counter() - t0},
    )


def _pair_scores(
    lab: np.ndarray, vac: np.ndarray, score: np.ndarray, q_lab: np.ndarray, q_vac: np.ndarray
) -> np.ndarray:
    """Scores of the queried pairs, looked up in (lab, vac, score) (pairs must exist)."""
    span = int(max(vac.max(initial=0), q_vac.max(initial=0))) + 1
    key = lab.astype(np.int64) * span + vac
    order = np.argsort(key, kind="stable")
    pos = np.searchsorted(key[order], q_lab.astype(np.int64) * span + q_vac)
    return score[order][pos]
