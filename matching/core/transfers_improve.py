"""Flow-based local search over coach skeletons: the improvement phase of the packing.

Internal to `matching.core.transfers`; runs per county after the constructive packing
(`CountyPacker.dispatch` and `eliminate`) and before coach sizes are cut.

Why
---
The constructive sweep decides one coach at a time, so it ends with a tail of half-empty
coaches: riders from scattered townships and riders who become available late, whose
companions were used up earlier. Choosing the coaches of a (county, city) together fixes
that, but as a set-partitioning problem it is hopeless to round: its LP relaxation is
ceil(riders / seats) almost always here and its optimum is spread over hundreds of
fractional coach loads. What works is to search over *which coaches run* and to let a
max-flow decide *who rides them*.

Model, per (county, city)
-------------------------
* A **skeleton** is a coach without riders: a day, at most `max_pickup_stops` pickups and
  `max_dropoff_stops` drop-offs (always filled up to the limits when the departure cap
  allows: extra stops cost nothing until riders use them, and unused ones are dropped when
  the coach is built).
* Free riders are grouped in **classes** of interchangeable parties: single riders with the
  same pickup, drop-off and day window; a household is a class of its own.
* Given the skeletons, the most riders they can carry is a **max-flow** (OR-Tools
  `SimpleMaxFlow`): source -> class (its seats) -> every skeleton whose stops contain the
  class's points and whose day is in its window -> sink (the seats of the largest coach).
  The **deficit** is the seats left over. The flow splits households (a relaxation); they
  are made whole when the coaches are read off.
* **Search.** Repeatedly take out the skeleton whose loss leaves the smallest deficit, then
  repair the deficit with moves aimed at the classes the flow cannot serve: move a coach
  to a day of their window, swap one pickup or drop-off for theirs, or replace a lightly
  used coach by a new skeleton (the stop block with most unserved seats on one of their
  days). Moves are scored by the unserved seats they reach and the best ones evaluated
  exactly (one max-flow each); equal moves are allowed under a short tabu list. A removal
  that cannot be repaired is undone and that skeleton is not tried again until another
  removal succeeds. The search never accepts a larger deficit than it started with, so it
  never seats fewer riders.
* **Effort** is a number of max-flow evaluations (`Params.search_effort` times a budget per
  coach), never seconds, so the same input gives the same plan on any machine; the plan's
  wall-clock budget (`Params.budget_s`) only stops it early as a safety net (then
  `stats["budget_hit"]` is set).
* **Read-off.** The final flow seats the parties: households first, each on the skeleton
  carrying most of it (checked by another max-flow when the flow had split it), then single
  riders as the flow says. Coaches are built with the packer's `can_take` / `board`, so
  every rule (window, stop limits, departure cap, exact timing) is checked again; a party
  that does not fit goes through the packer's fallback placement. A county that ends with
  more coaches or fewer seated riders than its constructive plan - or just as many of
  both - keeps the constructive plan, so the phase never makes a plan worse.

* **Same-evening days.** The constructive sweep plans each rider up to their last *safe*
  day (any coach of the county and city is on time) and uses the day after - when only a
  coach leaving early in a good stop order arrives by 22:00 - as a last resort. Most riders
  (85% of a season) have such a day, and pooling them there is what saves coaches: the
  search therefore opens it for every party it moves (`EXTEND_WINDOWS`). Timing checks then
  assume a departure `TIGHT_SLACK` minutes after the window opens, so that the few coaches
  a pickup point sends that early can still be staggered `min_gap` apart; the scheduler
  re-checks the exact itinerary. Parties left on a safe day get their planned window back.
* **Exact step.** When the search has stopped, a small group is handed to CP-SAT
  (`transfers_exact`), which chooses all its coaches together and often needs one or two
  fewer; its answer is kept only if the max-flow seats as many riders.

Determinism: classes, skeletons and moves are kept in sorted order, ties are broken by a
`random.Random` seeded from `Params.seed` and the group, and OR-Tools max-flow is exact.
"""

from __future__ import annotations

import multiprocessing
import random
import time as _time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import max_flow

from matching.core.transfers_exact import exact_skeletons, flow_ok
from matching.core.transfers_packing import (
    Coach,
    Context,
    CountyPacker,
    Party,
    alight,
    board,
    can_take,
)

Skeleton = tuple[frozenset[int], frozenset[int], int]  # pickup rows, drop-off cols, day

# Search constants. They are effort knobs, not tuned results: more only means slower.
EVALS_PER_COACH = 150  # max-flow evaluations per constructive coach of the group
REPAIR_STEPS = 12  # moves tried to repair one removal before it is undone
MOVES_SCORED = 80  # moves scored on their eligible classes per repair step (best rough gain)
MOVES_EVALUATED = 30  # exact evaluations per repair step (best-scored moves first)
STARVED_CLASSES = 6  # unserved classes that moves are generated for, per step
REPLACE_TARGETS = 4  # least-used coaches a new skeleton may replace
TABU = 30  # recent (coach, old skeleton) pairs a move may not restore
STALL_STEPS = 3  # a repair gives up after this many steps without a smaller deficit
FIRST_IMPROVEMENT = True  # take the first move that serves more seats (best-scored first)
SWAP_OPTIONS = 2  # alternatives for the stop a move drops (least-loaded first)
MAX_REPAIR_SEATS = 8  # a removal leaving more seats unserved is not worth repairing
NO_DEPARTURE = "no departure left"
EXTEND_WINDOWS = True  # the search may use riders' same-evening arrival days
TIGHT_SLACK = 80  # minutes after the window start that timing checks assume while searching


@dataclass(slots=True)
class SearchStats:
    """What the search did, summed over groups (copied into `Plan.stats`)."""

    evaluations: int = 0
    removed: int = 0
    failed_removals: int = 0
    reverted_counties: int = 0
    reseated: int = 0  # previously unseated parties that got a seat
    exact_removed: int = 0  # coaches the CP-SAT step (`transfers_exact`) saved
    exact_skipped: int = 0  # groups that step skipped because the plan ran late

    def add(self, other: SearchStats) -> None:
        self.evaluations += other.evaluations
        self.removed += other.removed
        self.failed_removals += other.failed_removals
        self.reverted_counties += other.reverted_counties
        self.reseated += other.reseated
        self.exact_removed += other.exact_removed
        self.exact_skipped += other.exact_skipped

    def as_counters(self) -> dict[str, int]:
        return {
            "search_evaluations": self.evaluations,
            "search_coaches_removed": self.removed,
            "search_failed_removals": self.failed_removals,
            "search_reverted_counties": self.reverted_counties,
            "search_reseated_parties": self.reseated,
            "exact_coaches_removed": self.exact_removed,
            "exact_skipped_for_time": self.exact_skipped,
        }


@dataclass(eq=False, slots=True)
class _Class:
    """Interchangeable parties of one group (same points and window, or one household)."""

    parties: list[Party]
    size: int
    lo: int
    hi: int
    rows: frozenset[int]
    cols: frozenset[int]
    min_deadline: int
    deadlines: dict[int, int]
    seats: int = field(init=False)

    def __post_init__(self) -> None:
        self.seats = self.size * len(self.parties)


class GroupSearch:
    """The skeleton search of one (county, city); see the module docstring."""

    def __init__(
        self,
        ctx: Context,
        county: str,
        city: str,
        parties: Sequence[Party],
        skeletons: Sequence[tuple[set[int], set[int], int]],
        *,
        quota: dict[tuple[int, int], int],
        seed: str,
        budget: int,
    ) -> None:
        self.ctx = ctx
        self.quota = quota
        self.county = county
        self.city = city
        self.cap = ctx.max_seats
        self.offset = ctx.safe_offset.get((county, city))
        self.rng = random.Random(seed)
        self.budget = budget
        self.evaluations = 0
        self.removed = self.failed = 0
        pickups = {p for party in parties for p in party.pickups}
        dropoffs = {d for party in parties for d in party.dropoffs}
        for ps, ds, _ in skeletons:
            pickups |= ps
            dropoffs |= ds
        self.pickups, self.dropoffs = sorted(pickups), sorted(dropoffs)
        self.row_of = {p: i for i, p in enumerate(self.pickups)}
        self.col_of = {d: i for i, d in enumerate(self.dropoffs)}
        self.n_rows, self.n_cols = len(self.pickups), len(self.dropoffs)
        self.classes = self._classes(parties)
        cls = self.classes
        self.n = len(cls)
        self.lo = np.array([c.lo for c in cls], dtype=np.int64)
        self.hi = np.array([c.hi for c in cls], dtype=np.int64)
        self.seats = np.array([c.seats for c in cls], dtype=np.int64)
        self.total = int(self.seats.sum())
        # Single-cell classes by cell index (row * n_cols + col); -1 for the rest.
        self.cell = np.array(
            [
                min(c.rows) * self.n_cols + min(c.cols) if len(c.rows) == len(c.cols) == 1 else -1
                for c in cls
            ],
            dtype=np.int64,
        )
        self.multi = [k for k in range(self.n) if self.cell[k] < 0]
        # Class -> stop incidence, to sum the seats a coach boards at each stop.
        self.row_matrix = np.zeros((self.n, self.n_rows))
        self.col_matrix = np.zeros((self.n, self.n_cols))
        for k, c in enumerate(cls):
            for r in c.rows:
                self.row_matrix[k, r] = 1.0
            for col in c.cols:
                self.col_matrix[k, col] = 1.0
        # Last day on which a class is on time whatever the stop order (else: exact check).
        if self.offset is None:
            self.safe_until = np.full(self.n, -(1 << 40), dtype=np.int64)
        else:
            self.safe_until = np.array(
                [(c.min_deadline - self.offset) // 1440 for c in cls], dtype=np.int64
            )
        self._elig: dict[Skeleton, np.ndarray] = {}
        self._tight: dict[tuple[int, Skeleton], bool] = {}
        self._frame: dict[int, tuple[np.ndarray, ...]] = {}
        # Departures this group's skeletons book at each (pickup point, day); the group may
        # book up to `quota` there (see `_quotas`).
        self.usage: Counter[tuple[int, int]] = Counter()
        originals = [
            (frozenset(self.row_of[p] for p in ps), frozenset(self.col_of[d] for d in ds), day)
            for ps, ds, day in skeletons
        ]
        for sk in originals:
            self._book(sk, +1)  # all first: an expansion must not take a slot one of them uses
        self.originals = originals
        self.skeletons = [self._expand(sk) for sk in originals] if budget > 0 else originals

    # -- setup ---------------------------------------------------------------------------
    def _classes(self, parties: Sequence[Party]) -> list[_Class]:
        offset = self.offset
        groups: dict[tuple, list[Party]] = {}
        for party in sorted(parties, key=lambda p: p.idx):
            if party.household is None and len(party.flows) == 1:
                ((p, d),) = party.flows
                tight = offset is None or party.min_deadline < party.hi * 1440 + offset
                key: tuple = (0, p, d, party.lo, party.hi, party.min_deadline if tight else 0)
            else:
                key = (1, party.idx)
            groups.setdefault(key, []).append(party)
        out = []
        for key in sorted(groups):
            members = groups[key]
            first = members[0]
            out.append(
                _Class(
                    parties=members,
                    size=first.size,
                    lo=first.lo,
                    hi=first.hi,
                    rows=frozenset(self.row_of[p] for p in first.pickups),
                    cols=frozenset(self.col_of[d] for d in first.dropoffs),
                    min_deadline=first.min_deadline,
                    deadlines=dict(first.deadlines),
                )
            )
        return out

    def _book(self, sk: Skeleton, delta: int) -> None:
        for r in sk[0]:
            self.usage[(self.pickups[r], sk[2])] += delta

    def _full(self) -> set[tuple[int, int]]:
        """(row, day) pairs where the group's departure quota is used up."""
        quota, usage = self.quota, self.usage
        return {
            (r, day)
            for r, p in enumerate(self.pickups)
            for day in range(self.ctx.n_days)
            if usage[(p, day)] >= quota.get((p, day), 0)
        }

    def _cap_ok(
        self, rows: frozenset[int], day: int, full: set[tuple[int, int]], skip: Skeleton
    ) -> bool:
        """Whether a coach replacing `skip` may call at `rows` on `day`."""
        return all((r, day) not in full or (skip[2] == day and r in skip[0]) for r in rows)

    def _day_grid(self, day: int, weights: np.ndarray) -> np.ndarray:
        """Seats per (row, col) cell of single-cell classes whose window holds `day`."""
        live = (self.lo <= day) & (day <= self.hi) & (self.cell >= 0)
        grid = np.bincount(
            self.cell[live], weights=weights[live], minlength=self.n_rows * self.n_cols
        )
        return grid.reshape(self.n_rows, self.n_cols)

    def _expand(self, sk: Skeleton) -> Skeleton:
        """Fill a skeleton up to the stop limits with the stops of most riders that day."""
        rows, cols, day = set(sk[0]), set(sk[1]), sk[2]
        grid = self._day_grid(day, self.seats.astype(float))
        max_r = min(self.ctx.max_pickups, self.n_rows)
        max_c = min(self.ctx.max_dropoffs, self.n_cols)
        while len(cols) < max_c:
            gain = grid[sorted(rows)].sum(axis=0) if rows else grid.sum(axis=0)
            gain[sorted(cols)] = -1.0
            cols.add(int(np.argmax(gain)))
        full = self._full()
        while len(rows) < max_r:
            gain = grid[:, sorted(cols)].sum(axis=1)
            gain[sorted(rows)] = -1.0
            pick = [
                int(r)
                for r in np.argsort(-gain, kind="stable")
                if gain[r] > 0 and (int(r), day) not in full
            ]
            if not pick:
                break
            rows.add(pick[0])
        out = (frozenset(rows), frozenset(cols), day)
        self._book((out[0] - sk[0], out[1], day), +1)
        return out

    # -- eligibility and flows -------------------------------------------------------------
    def eligible(self, sk: Skeleton) -> np.ndarray:
        """Classes a coach with this skeleton may carry (sorted class indices)."""
        hit = self._elig.get(sk)
        if hit is not None:
            return hit
        rows, cols, day = sk
        cells = np.zeros(self.n_rows * self.n_cols + 1, dtype=bool)  # last: "no cell"
        for r in rows:
            cells[[r * self.n_cols + c for c in cols]] = True
        ok = cells[self.cell] & (self.lo <= day) & (day <= self.hi)
        for k in self.multi:
            c = self.classes[k]
            ok[k] = c.lo <= day <= c.hi and c.rows <= rows and c.cols <= cols
        ks = np.flatnonzero(ok)
        late = ks[self.safe_until[ks] < day]
        if len(late):
            drop = [k for k in late if not self._on_time(int(k), sk)]
            if drop:
                ks = np.setdiff1d(ks, np.array(drop, dtype=np.int64), assume_unique=True)
        self._elig[sk] = ks
        return ks

    def _on_time(self, k: int, sk: Skeleton) -> bool:
        """Exact timing for a class whose deadline this day is only met in a good order:
        a coach calling at every stop of the skeleton must still be on time."""
        key = (k, sk)
        hit = self._tight.get(key)
        if hit is None:
            rows, cols, day = sk
            flows = {(self.pickups[r], self.dropoffs[c]): 1 for r in rows for c in cols}
            hit = self.ctx.timing_ok(flows, self.classes[k].deadlines, day)
            self._tight[key] = hit
        return hit

    def solve(
        self, el: Sequence[np.ndarray], caps: np.ndarray | None = None
    ) -> tuple[max_flow.SimpleMaxFlow, int]:
        """Max-flow of classes into coaches with eligible classes `el`; returns the solver
        and the deficit (seats left over). Arc order: source arcs, coach arcs coach by
        coach, sink arcs."""
        self.evaluations += 1
        n, k = self.n, len(el)
        frame = self._frame.get(k)
        if frame is None:
            src, snk = n + k, n + k + 1
            nodes = np.arange(n, n + k, dtype=np.int64)
            frame = (
                np.full(n, src, dtype=np.int64),
                np.arange(n, dtype=np.int64),
                nodes,
                np.full(k, snk, dtype=np.int64),
                np.full(k, self.cap, dtype=np.int64),
            )
            self._frame[k] = frame
        src_t, src_h, nodes, snk_h, snk_c = frame
        lens = np.fromiter(map(len, el), dtype=np.int64, count=k)
        inner = int(lens.sum())
        tails = np.concatenate([src_t, *el, nodes])
        heads = np.concatenate([src_h, np.repeat(nodes, lens), snk_h])
        capacities = np.concatenate(
            [self.seats, np.full(inner, self.cap, dtype=np.int64), snk_c if caps is None else caps]
        )
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(tails, heads, capacities)
        status = solver.solve(n + k, n + k + 1)
        if status != solver.OPTIMAL:  # pragma: no cover - integer capacities always solve
            raise RuntimeError(f"max-flow failed with status {status}")
        return solver, self.total - solver.optimal_flow()

    def _carried(self, solver: max_flow.SimpleMaxFlow, el: list[np.ndarray]) -> np.ndarray:
        """Seats the flow puts on each coach from each class (coaches x classes)."""
        lens = np.fromiter(map(len, el), dtype=np.int64, count=len(el))
        flows = solver.flows(np.arange(self.n, self.n + int(lens.sum())))
        out = np.zeros((len(el), self.n))
        out[np.repeat(np.arange(len(el)), lens), np.concatenate(el)] = flows
        return out

    def _unmet(self, solver: max_flow.SimpleMaxFlow) -> np.ndarray:
        return self.seats - solver.flows(np.arange(self.n))

    def _loads(self, solver: max_flow.SimpleMaxFlow, k: int) -> np.ndarray:
        arcs = solver.num_arcs()
        return solver.flows(np.arange(arcs - k, arcs))

    # -- search --------------------------------------------------------------------------
    def run(self, over_budget: Callable[[], bool]) -> list[Skeleton]:
        """Remove skeletons while the deficit can be repaired; returns the final skeletons."""
        sks = list(self.skeletons)
        el = [self.eligible(sk) for sk in sks]
        _, deficit = self.solve(el)
        if deficit > 0:
            sks, el, deficit = self._repair(sks, el, deficit, 0)
        while self.evaluations < self.budget and len(sks) > 1 and not over_budget():
            # Deficit left by taking out each skeleton; try them smallest first. A failed
            # attempt restores the state, so the list stays valid until one succeeds.
            solver, _ = self.solve(el)
            loads = self._loads(solver, len(sks))
            options = []
            for i in range(len(sks)):
                _, d = self.solve(el[:i] + el[i + 1 :])
                options.append((d, int(loads[i]), i))
                if self.evaluations >= self.budget:
                    break
            options.sort()
            success = False
            for d, _, i in options:
                if self.evaluations >= self.budget or over_budget():
                    break
                if d - deficit > MAX_REPAIR_SEATS:
                    break
                trial, trial_el = sks[:i] + sks[i + 1 :], el[:i] + el[i + 1 :]
                self._book(sks[i], -1)
                trial, trial_el, d = self._repair(trial, trial_el, d, deficit)
                if d <= deficit:
                    sks, el = trial, trial_el
                    self.removed += 1
                    success = True
                    break
                for sk in trial:
                    self._book(sk, -1)
                for sk in sks:
                    self._book(sk, +1)
                self.failed += 1
            if not success:
                break
        self.skeletons = sks
        return sks

    def _repair(
        self, sks: list[Skeleton], el: list[np.ndarray], deficit: int, target: int
    ) -> tuple[list[Skeleton], list[np.ndarray], int]:
        """Apply the best moves until the deficit is at most `target` (or no move helps).

        `sks` are booked in `usage` on entry; the returned skeletons are on return."""
        sks, el = list(sks), list(el)
        tabu: list[tuple[int, Skeleton]] = []
        steps = stalled = 0
        if deficit - target > MAX_REPAIR_SEATS:
            return sks, el, deficit
        while deficit > target and steps < REPAIR_STEPS and self.evaluations < self.budget:
            if stalled >= STALL_STEPS:
                break
            steps += 1
            solver, deficit = self.solve(el)
            unmet = self._unmet(solver)
            loads = self._loads(solver, len(sks))
            carried = self._carried(solver, el)
            scored = []
            for _, j, sk in self._moves(sks, unmet, loads, carried):
                if (j, sk) in tabu:
                    continue
                new = self.eligible(sk)
                # Unserved seats the move reaches, minus seats it takes away from coach j
                # (those riders may find another coach, but often cannot).
                gain = float(unmet[new].sum()) - float(loads[j] - carried[j, new].sum())
                scored.append((-gain, self.rng.random(), j, sk))
            scored.sort(key=lambda m: (m[0], m[1]))
            best: tuple[tuple[int, float], int, Skeleton] | None = None
            for _, _, j, sk in scored[:MOVES_EVALUATED]:
                _, d = self.solve([*el[:j], self.eligible(sk), *el[j + 1 :]])
                key = (d, self.rng.random())
                if best is None or key < best[0]:
                    best = (key, j, sk)
                if self.evaluations >= self.budget or (FIRST_IMPROVEMENT and d < deficit):
                    break
            if best is None or best[0][0] > deficit:
                break
            stalled = stalled + 1 if best[0][0] == deficit else 0
            (deficit, _), j, sk = best
            tabu.append((j, sks[j]))
            del tabu[:-TABU]
            self._book(sks[j], -1)
            self._book(sk, +1)
            sks[j] = sk
            el[j] = self.eligible(sk)
        return sks, el, deficit

    def _moves(
        self, sks: list[Skeleton], unmet: np.ndarray, loads: np.ndarray, carried: np.ndarray
    ) -> list[tuple[float, int, Skeleton]]:
        """The `MOVES_SCORED` most promising moves (rough gain, coach index, new skeleton)
        toward unserved classes, best first (ties in generation order, no duplicates).

        For each of the most-starved classes and each coach: the coach moves to the nearest
        day of the class's window if needed, and its stops are completed with the class's
        points, dropping the stops that carry the fewest seats when the coach is full (or
        the next fewest: `SWAP_OPTIONS`). The rough gain - the class's unserved seats minus
        the seats boarding at dropped stops, or the whole load when the day changes - is
        computed for all coaches at once before any skeleton is built. Replacements of
        lightly used coaches by the block of most unserved seats follow."""
        ctx = self.ctx
        n_k = len(sks)
        starved = sorted(np.flatnonzero(unmet > 0).tolist(), key=lambda k: (-unmet[k], k))
        days = np.array([sk[2] for sk in sks], dtype=np.int64)
        sides = []
        for axis, matrix, limit in (
            (0, self.row_matrix, ctx.max_pickups),
            (1, self.col_matrix, ctx.max_dropoffs),
        ):
            member = np.zeros((n_k, matrix.shape[1]), dtype=bool)
            for j, sk in enumerate(sks):
                member[j, list(sk[axis])] = True
            sides.append((axis, member, np.where(member, carried @ matrix, np.inf), limit))
        parts: list[np.ndarray] = []  # rows of (gain, class, coach, row option, col option)
        for k in starved[:STARVED_CLASSES]:
            c = self.classes[k]
            day_k = np.clip(days, c.lo, c.hi)
            moved = day_k != days
            options = []
            for axis, member, stop_load, limit in sides:
                needed = sorted(c.rows if axis == 0 else c.cols)
                if len(needed) > limit:
                    break
                missing = len(needed) - member[:, needed].sum(axis=1)
                drop = np.where(missing > 0, np.maximum(member.sum(axis=1) + missing - limit, 0), 0)
                spare = stop_load.copy()
                spare[:, needed] = np.inf
                spare = np.sort(spare, axis=1)[:, :limit]
                spare = np.where(np.isinf(spare), 0.0, spare)
                cum = np.concatenate([np.zeros((n_k, 1)), np.cumsum(spare, axis=1)], axis=1)
                n_spare = np.isfinite(stop_load).sum(axis=1) - member[:, needed].sum(axis=1)
                per_option = []
                for o in range(SWAP_OPTIONS):
                    ok = (drop > 0) | (o == 0)
                    ok &= o + drop <= n_spare
                    top = np.minimum(o + drop, limit)
                    lost = cum[np.arange(n_k), top] - cum[np.arange(n_k), np.minimum(o, limit)]
                    per_option.append((ok, lost, missing))
                options.append(per_option)
            if len(options) < 2:
                continue
            want = float(unmet[k])
            coaches = np.arange(n_k)
            for o_r, (ok_r, lost_r, miss_r) in enumerate(options[0]):
                for o_c, (ok_c, lost_c, miss_c) in enumerate(options[1]):
                    ok = ok_r & ok_c & (moved | (miss_r > 0) | (miss_c > 0))
                    gain = want - np.where(moved, loads, lost_r + lost_c)
                    parts.append(
                        np.stack(
                            [gain, np.full(n_k, k), coaches, np.full(n_k, o_r), np.full(n_k, o_c)],
                            axis=1,
                        )[ok]
                    )
        rough = np.concatenate(parts) if parts else np.zeros((0, 5))
        # Best rough gain first; ties in generation order (a stable sort).
        rough = rough[np.argsort(-rough[:, 0], kind="stable")]
        full = self._full()
        out: dict[tuple[int, Skeleton], float] = {}
        for gain, k, j, o_r, o_c in rough.tolist():
            if len(out) >= MOVES_SCORED:
                break
            k, j, o_r, o_c = int(k), int(j), int(o_r), int(o_c)
            c = self.classes[k]
            rows, cols, t = sks[j]
            day = min(max(t, c.lo), c.hi)
            sk = (
                _with(rows, c.rows, ctx.max_pickups, o_r, sides[0][2][j]),
                _with(cols, c.cols, ctx.max_dropoffs, o_c, sides[1][2][j]),
                day,
            )
            if (j, sk) not in out and sk != sks[j] and self._cap_ok(sk[0], day, full, sks[j]):
                out[(j, sk)] = gain
        light = [int(i) for i in np.argsort(loads, kind="stable")[:REPLACE_TARGETS]]
        for day in sorted(
            {d for k in starved[:STARVED_CLASSES] for d in (self.classes[k].lo, self.classes[k].hi)}
        ):
            block = self._best_block(unmet, day)
            if block is None:
                continue
            for j in light:
                sk = (block[0], block[1], day)
                if sk != sks[j] and (j, sk) not in out and self._cap_ok(sk[0], day, full, sks[j]):
                    out[(j, sk)] = float(self.cap - loads[j])
        return [(gain, j, sk) for (j, sk), gain in out.items()]

    def _best_block(self, unmet: np.ndarray, day: int) -> tuple[frozenset, frozenset] | None:
        """Stops of most unserved seats on `day` (then most seats), greedy rows/columns."""
        starving = self._day_grid(day, unmet.astype(float))
        if starving.max() <= 0:
            return None
        score = starving * (self.cap + 1) + self._day_grid(day, self.seats.astype(float))
        r0, c0 = np.unravel_index(int(np.argmax(score)), score.shape)
        rows, cols = {int(r0)}, {int(c0)}
        for _ in range(2):
            while len(cols) < min(self.ctx.max_dropoffs, self.n_cols):
                gain = score[sorted(rows)].sum(axis=0)
                gain[sorted(cols)] = -1.0
                if gain.max() <= 0:
                    break
                cols.add(int(np.argmax(gain)))
            while len(rows) < min(self.ctx.max_pickups, self.n_rows):
                gain = score[:, sorted(cols)].sum(axis=1)
                gain[sorted(rows)] = -1.0
                if gain.max() <= 0:
                    break
                rows.add(int(np.argmax(gain)))
        return frozenset(rows), frozenset(cols)

    # -- read-off ------------------------------------------------------------------------
    def realize(self, sks: list[Skeleton]) -> tuple[list[Coach], list[Party]]:
        """Coaches for the skeletons, seated by the flow; returns them and parties left over.

        Households are pinned first, largest first, each to the coach carrying most of it;
        when the flow had split one, the pin is kept only if a max-flow shows that it costs
        no seat. Everything else follows the final flow."""
        ctx = self.ctx
        k = len(sks)
        el = [self.eligible(sk) for sk in sks]
        caps = np.full(k, self.cap, dtype=np.int64)
        solver, deficit = self.solve(el, caps)
        carried = self._carried(solver, el)
        pinned: dict[int, int] = {}  # class index (household) -> coach index
        households = [i for i, c in enumerate(self.classes) if c.parties[0].household is not None]
        households.sort(key=lambda i: (-self.classes[i].size, i))
        for i in households:
            size = self.classes[i].size
            per_coach = _per_coach(carried, i)
            for j in sorted(per_coach, key=lambda j: (-per_coach[j], j)):
                if caps[j] < size:
                    continue
                caps[j] -= size
                saved = int(self.seats[i])
                self.seats[i] = 0
                self.total -= saved
                trial, d = self.solve(el, caps) if per_coach[j] < size else (solver, deficit)
                if d > deficit:
                    caps[j] += size
                    self.seats[i] = saved
                    self.total += saved
                    continue
                pinned[i] = j
                if trial is not solver:
                    solver, deficit = trial, d
                    carried = self._carried(solver, el)
                break
        coaches = [
            Coach(
                uid=ctx.new_uid(), county=self.county, city=self.city, day=sk[2], capacity=self.cap
            )
            for sk in sks
        ]
        left: list[Party] = []
        for i, j in sorted(pinned.items()):
            party = self.classes[i].parties[0]
            if can_take(ctx, coaches[j], party):
                board(ctx, coaches[j], party)
            else:
                left.append(party)
        for i, c in enumerate(self.classes):
            if i in pinned:
                continue
            per_coach = _per_coach(carried, i)
            queue = list(c.parties)
            for j in sorted(per_coach):
                for _ in range(per_coach[j] // c.size):
                    if not queue:
                        break
                    party = queue.pop(0)
                    if can_take(ctx, coaches[j], party):
                        board(ctx, coaches[j], party)
                    else:
                        left.append(party)
            left.extend(queue)
        for sk in sks:
            self._book(sk, -1)
        return [c for c in coaches if c.parties], left


def _per_coach(carried: np.ndarray, i: int) -> dict[int, int]:
    """Seats of class `i` on each coach that carries some, from a `_carried` matrix."""
    column = carried[:, i]
    return {int(j): int(column[j]) for j in np.flatnonzero(column > 0)}


def _with(
    current: frozenset[int], needed: frozenset[int], limit: int, option: int, load: np.ndarray
) -> frozenset[int]:
    """`current` completed with `needed`; when over `limit`, the spare stops are dropped
    from the `option`-th least loaded on (`load`: seats per stop, inf where not a stop)."""
    missing = needed - current
    drop = len(current) + len(missing) - limit
    if not missing or drop <= 0:
        return current | missing
    spare = sorted((x for x in current if x not in needed), key=lambda x: (load[x], x))
    return frozenset((current - set(spare[option : option + drop])) | missing)


def _movable(coach: Coach) -> bool:
    """Coaches the search may rebuild: not locked or kept from a plan, no pinned party."""
    return not coach.locked and coach.kept_from is None and not any(p.pinned for p in coach.parties)


def improve_county(
    ctx: Context, packer: CountyPacker, *, seed: int, effort: float, stats: SearchStats
) -> None:
    """Search every city of one county in turn (largest first) and rebuild its coaches.

    A city's search sees the departures the county's other coaches book at that moment,
    so the cities share the per-pickup cap as the constructive sweep did. Parties the
    read-off cannot seat go through the packer's fallback placement. A county that ends
    with no fewer coaches and no more seated riders than its constructive plan is restored.
    """
    before = _County(packer)
    for city in packer.cities:
        if ctx.over_budget():
            break
        free = [c for c in packer.coaches if c.city == city and _movable(c)]
        if len(free) < 2:
            continue
        waiting = [
            p
            for p in packer.parties[city]
            if p.coach is None and (p.reason or "").startswith(NO_DEPARTURE)
        ]
        parties = [p for c in free for p in c.parties] + waiting
        planned_hi = {p.idx: p.hi for p in parties}
        if EXTEND_WINDOWS:
            ctx.timing_slack = TIGHT_SLACK
            for p in parties:
                if not p.pinned:
                    p.hi = max(p.hi, p.last)
        shapes = [(set(c.pickups), set(c.dropoffs), c.day) for c in free]
        for coach in free:
            for party in list(coach.parties):
                alight(ctx, coach, party)
        points = {p for party in parties for p in party.pickups}
        points.update(p for ps, _, _ in shapes for p in ps)
        quota = {
            (p, day): ctx.departures_left(p, day)
            for p in sorted(points)
            for day in range(ctx.n_days)
        }
        search = GroupSearch(
            ctx,
            packer.county,
            city,
            parties,
            shapes,
            quota=quota,
            seed=f"{seed}:{packer.county}:{city}",
            budget=int(effort * EVALS_PER_COACH * len(free)),
        )
        final = search.run(ctx.over_budget)
        final = _exact_step(search, final, ctx, stats)
        coaches, left = search.realize(final)
        stats.evaluations += search.evaluations
        stats.failed_removals += search.failed
        packer.coaches = [c for c in packer.coaches if c not in free] + coaches
        ctx.timing_slack = 0
        for party in parties:
            if party.coach is None or party.coach.day <= planned_hi[party.idx]:
                party.hi = planned_hi[party.idx]
            else:
                party.hi = party.coach.day
        for party in sorted(left, key=lambda p: (p.hi, p.idx)):
            party.reason = None
            packer._place_anywhere(party)
        for party in parties:
            if party.coach is not None:
                party.reason = None
    if not before.improved_by(packer):
        before.restore(ctx, packer)
        stats.reverted_counties += 1
        return
    stats.removed += before.coaches - len(packer.coaches)
    stats.reseated += before.reseated(packer)


def _exact_step(
    search: GroupSearch, sks: list[Skeleton], ctx: Context, stats: SearchStats
) -> list[Skeleton]:
    """Try the CP-SAT re-packing (`transfers_exact`) on the search's result; keep the
    skeletons with fewer coaches only if the max-flow seats as many riders."""
    if ctx.exact_time <= 0 or ctx.over_budget():
        return sks
    if _time.perf_counter() > ctx.exact_deadline_s:
        # The plan then depends on the machine's load, as when the budget is hit.
        stats.exact_skipped += 1
        return sks
    _, deficit = search.solve([search.eligible(sk) for sk in sks])
    better = exact_skeletons(search, sks, det_time=ctx.exact_time)
    if better is None or len(better) >= len(sks) or not flow_ok(search, better, deficit):
        return sks
    stats.exact_removed += len(sks) - len(better)
    for sk in sks:
        search._book(sk, -1)
    for sk in better:
        search._book(sk, +1)
    search.skeletons = better
    return better


class _County:
    """A county's constructive plan, to compare with and to restore."""

    def __init__(self, packer: CountyPacker) -> None:
        self.coaches = len(packer.coaches)
        self.parties = [p for city in packer.cities for p in packer.parties[city]]
        self.seated = sum(p.size for p in self.parties if p.coach is not None)
        self.snapshot = [(c, c.day, list(c.parties)) for c in packer.coaches]
        self.reasons = {p.idx: p.reason for p in self.parties}
        self.his = {p.idx: p.hi for p in self.parties}  # the search may widen windows
        self.unseated = {p.idx for p in self.parties if p.coach is None}

    def improved_by(self, packer: CountyPacker) -> bool:
        """Fewer coaches, or as many seating more riders. A mere reshuffle is not kept: the
        constructive plan keeps riders on their safe days, the search may not have."""
        seated = sum(p.size for p in self.parties if p.coach is not None)
        if seated < self.seated or len(packer.coaches) > self.coaches:
            return False
        return len(packer.coaches) < self.coaches or seated > self.seated

    def reseated(self, packer: CountyPacker) -> int:
        return sum(1 for p in self.parties if p.idx in self.unseated and p.coach is not None)

    def restore(self, ctx: Context, packer: CountyPacker) -> None:
        """Put every party of the county back where the constructive plan had it.

        Riders a fixed trip carried from the start are not the county's parties to move
        (they were never boarded through `board`), so they stay where they are."""
        own = {id(p) for p in self.parties}
        for coach in packer.coaches:
            for party in list(coach.parties):
                if id(party) in own:
                    alight(ctx, coach, party)
        for coach, day, parties in self.snapshot:
            coach.day = day
            for party in parties:
                if id(party) in own:
                    board(ctx, coach, party)
        packer.coaches = [c for c, _, _ in self.snapshot]
        for party in self.parties:
            party.reason = self.reasons[party.idx]
            party.hi = self.his[party.idx]


# -- running the counties, in this process or in forked workers ----------------------------

UID_STRIDE = 10_000_000  # coach ids each county's search may hand out


@dataclass(slots=True)
class _Result:
    """A county after its search, in plain data (sent back by a worker process)."""

    coaches: list[tuple[int, str, int, list[int]]]  # uid, city, day, party ids in order
    reasons: dict[int, str | None]
    his: dict[int, int]  # last planned day per party (the search may widen it)
    stats: SearchStats
    budget_hit: bool
    next_uid: int


def _run_county(
    ctx: Context, packer: CountyPacker, uid_base: int, seed: int, effort: float
) -> _Result:
    ctx.reset_uids(uid_base)
    stats = SearchStats()
    hit_before = ctx.counters.get("budget_hit", 0)
    improve_county(ctx, packer, seed=seed, effort=effort, stats=stats)
    return _Result(
        coaches=[(c.uid, c.city, c.day, [p.idx for p in c.parties]) for c in packer.coaches],
        reasons={p.idx: p.reason for city in packer.cities for p in packer.parties[city]},
        his={p.idx: p.hi for city in packer.cities for p in packer.parties[city]},
        stats=stats,
        budget_hit=ctx.counters.get("budget_hit", 0) > hit_before,
        next_uid=ctx.peek_uid(),
    )


def _apply(ctx: Context, packer: CountyPacker, result: _Result) -> None:
    """Rebuild a county in this process from a worker's result (same ids, same order)."""
    known = {c.uid: c for c in packer.coaches}
    party_of = {p.idx: p for city in packer.cities for p in packer.parties[city]}
    for coach in packer.coaches:
        for party in list(coach.parties):
            alight(ctx, coach, party)
    coaches = []
    for uid, city, day, ids in result.coaches:
        coach = known.get(uid)
        if coach is None:
            coach = Coach(uid=uid, county=packer.county, city=city, day=day, capacity=ctx.max_seats)
        coach.day = day
        for idx in ids:
            board(ctx, coach, party_of[idx])
        coaches.append(coach)
    packer.coaches = coaches
    for idx, reason in result.reasons.items():
        party_of[idx].reason = reason
    for idx, hi in result.his.items():
        party_of[idx].hi = hi


# Worker processes find their inputs here (inherited at fork, never pickled).
_FORKED: tuple[Context, list[CountyPacker], list[int], int, float] | None = None


def _forked_county(i: int) -> _Result:
    assert _FORKED is not None
    ctx, packers, bases, seed, effort = _FORKED
    return _run_county(ctx, packers[i], bases[i], seed, effort)


def improve(
    ctx: Context,
    packers: list[CountyPacker],
    *,
    seed: int,
    effort: float,
    workers: int,
    stats: SearchStats,
) -> None:
    """Run `improve_county` on every county, in `workers` forked processes if possible.

    Counties share nothing the search touches (their pickup points differ), and each
    county hands out coach ids from its own range, so the plan is the same whether the
    counties run here one after the other or in parallel workers; parallel only saves
    time. Workers take the largest counties first; results are applied in county order.
    """
    global _FORKED
    base = ctx.peek_uid()
    bases = [base + (i + 1) * UID_STRIDE for i in range(len(packers))]
    results: list[_Result] | None = None
    pickups = [{p for c in pk.cities for q in pk.parties[c] for p in q.pickups} for pk in packers]
    disjoint = sum(map(len, pickups)) == len(set().union(*pickups)) if pickups else True
    if (
        workers > 1
        and len(packers) > 1
        and disjoint
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        size = [sum(p.size for c in pk.cities for p in pk.parties[c]) for pk in packers]
        order = sorted(range(len(packers)), key=lambda i: (-size[i], i))
        _FORKED = (ctx, packers, bases, seed, effort)
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(packers))) as pool:
                done = pool.map(_forked_county, order, chunksize=1)
            results = [done[order.index(i)] for i in range(len(packers))]
        except (OSError, AssertionError, RuntimeError):
            results = None  # no child processes here (e.g. a daemonic worker)
        finally:
            _FORKED = None
    if results is not None:
        ctx.counters["search_workers"] = min(workers, len(packers))
        for packer, result in zip(packers, results, strict=True):
            _apply(ctx, packer, result)
    else:
        ctx.counters["search_workers"] = 1
        results = [
            _run_county(ctx, packer, uid_base, seed, effort)
            for packer, uid_base in zip(packers, bases, strict=True)
        ]
    for result in results:
        stats.add(result.stats)
        if result.budget_hit:
            ctx.counters["budget_hit"] = 1
    ctx.reset_uids(max([base, *(r.next_uid for r in results)]))
