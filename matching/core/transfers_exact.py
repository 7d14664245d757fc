"""Exact re-packing of one (county, city) with CP-SAT: the last improvement step.

Internal to `matching.core.transfers`; called by `transfers_improve.improve_county` after
the skeleton search of a group has stopped.

Why
---
The skeleton search (`transfers_improve.GroupSearch`) removes one coach at a time and
repairs the hole with single-coach moves. It stops in local optima where a better plan
needs several coaches to change day and stops at once - typically small groups (one or two
hundred riders from a dozen townships over three weeks) whose coaches run a third empty.
A model that chooses all coaches of the group together finds those plans directly.

Model (a CP-SAT feasibility/min-count model over the search's classes)
-------------------------------------------------------------------------
* Coaches `k < K` (K = the search's coach count): `z[k, t]` one departure day or none
  (unused), `u[k, r]` pickups (at most `max_pickup_stops`), `v[k, c]` drop-offs (at most
  `max_dropoff_stops`).
* Class `i` (interchangeable parties, or one household) may use coach `k` (`e[i, k]`) only
  if the coach calls at all its points and leaves inside its window; `y[i, k]` seats go
  there (a household goes whole: `y = size * e`). Every seat of every class is placed; a
  coach carries at most the largest coach's seats.
* Departure cap: coaches of this group calling at pickup `r` on day `t` stay within the
  group's quota there (what the county's other coaches left).
* Objective: fewest used coaches; the search's plan is the hint, so the solver starts
  from it. Used coaches come first and in day order (symmetry). The interval lower bound
  of `transfers_bounds` over the classes' windows is a constraint: a group already at it
  is not modelled at all, and the solver stops as soon as it reaches it.
* Only groups with at most `MAX_PAIRS` (class, coach) pairs are modelled: on a season the
  larger ones found nothing in the time given, while the small ones - up to about 150
  riders in a dozen townships - often save a coach or two (11 coaches on the benchmark
  season for about 6 CPU seconds).

Riders whose deadline is only met in a good stop order on a day (`safe_until` < day) may
use that day only when their window holds no safe day; the result is re-checked by the
search's own eligibility (exact itinerary timing) and max-flow, and dropped unless it
carries as many riders as before with fewer coaches. So the step never makes a plan worse.

Determinism: one search worker, a fixed seed and a limit in CP-SAT's deterministic time
(a measure of work, not seconds) give the same answer on any machine; a wall-clock limit
(several times larger) is only a safety net.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matching.core.transfers_bounds import group_bound

if TYPE_CHECKING:
    from matching.core.transfers_improve import GroupSearch, Skeleton

# Model size (classes x coaches) above which the step is skipped: bigger groups rarely
# solve in the time given, and the search already does well on them.
MAX_PAIRS = 2_000
# Deterministic-time limit per group (CP-SAT work units) and the wall-clock safety net.
DET_TIME = 1.0
WALL_FACTOR = 8.0


def exact_skeletons(
    search: GroupSearch, sks: Sequence[Skeleton], *, det_time: float = DET_TIME
) -> list[Skeleton] | None:
    """Fewer coaches than `sks` for the search's classes, or None if none was found.

    The caller re-checks the answer with the search's eligibility (exact timing) and
    max-flow (`flow_ok`); the skeletons' departures are not booked here.
    """
    n, k_max = search.n, len(sks)
    if k_max < 2 or n == 0 or n * k_max > MAX_PAIRS:
        return None
    ctx = search.ctx
    classes = search.classes
    # The interval bound over the classes' own windows is valid for this model (households
    # counted as single riders only relax it): no need to search a group already there,
    # and the solver stops as soon as it reaches it.
    floor = group_bound(
        [(min(c.rows), min(c.cols), c.lo, c.hi) for c in classes for _ in range(c.seats)],
        search.cap,
        ctx.max_pickups,
        ctx.max_dropoffs,
    )
    if floor >= k_max:
        return None
    days = sorted({t for c in classes for t in range(c.lo, c.hi + 1)} | {sk[2] for sk in sks})
    model = cp_model.CpModel()
    coaches, rows_ix, cols_ix = range(k_max), range(search.n_rows), range(search.n_cols)
    z = {(k, t): model.new_bool_var(f"z{k}_{t}") for k in coaches for t in days}
    u = {(k, r): model.new_bool_var(f"u{k}_{r}") for k in coaches for r in rows_ix}
    v = {(k, c): model.new_bool_var(f"v{k}_{c}") for k in coaches for c in cols_ix}
    used = [model.new_bool_var(f"used{k}") for k in range(k_max)]
    day_of = [model.new_int_var(min(days), max(days), f"day{k}") for k in range(k_max)]
    for k in range(k_max):
        model.add(sum(z[k, t] for t in days) == used[k])
        model.add(day_of[k] == sum(t * z[k, t] for t in days)).only_enforce_if(used[k])
        model.add(sum(u[k, r] for r in range(search.n_rows)) <= ctx.max_pickups)
        model.add(sum(v[k, c] for c in range(search.n_cols)) <= ctx.max_dropoffs)
        for r in range(search.n_rows):
            model.add_implication(u[k, r], used[k])
        if k + 1 < k_max:
            model.add_implication(used[k + 1], used[k])
            model.add(day_of[k] <= day_of[k + 1]).only_enforce_if(used[k + 1])

    loads: list[list] = [[] for _ in range(k_max)]
    e: dict[tuple[int, int], cp_model.IntVar] = {}
    y: dict[tuple[int, int], cp_model.IntVar | cp_model.LinearExpr] = {}
    for i, c in enumerate(classes):
        window = list(range(c.lo, c.hi + 1))
        safe = [t for t in window if t <= search.safe_until[i]]
        allowed = safe or window  # tight days only when no day is safe (re-checked later)
        household = c.parties[0].household is not None
        parts = []
        for k in range(k_max):
            ek = model.new_bool_var(f"e{i}_{k}")
            e[i, k] = ek
            for r in c.rows:
                model.add_implication(ek, u[k, r])
            for col in c.cols:
                model.add_implication(ek, v[k, col])
            model.add(sum(z[k, t] for t in allowed) >= 1).only_enforce_if(ek)
            if household:
                yk = ek * c.size
            else:
                yk = model.new_int_var(0, min(c.seats, search.cap), f"y{i}_{k}")
                model.add(yk <= min(c.seats, search.cap) * ek)
            y[i, k] = yk
            parts.append(yk)
            loads[k].append(yk)
        model.add(sum(parts) == c.seats)
    for k in range(k_max):
        model.add(sum(loads[k]) <= search.cap * used[k])

    # Departure cap per (pickup, day): a coach books a pickup it calls at on its day.
    for r, point in enumerate(search.pickups):
        for t in days:
            quota = search.quota.get((point, t), 0)
            if quota >= k_max:
                continue
            calls = []
            for k in range(k_max):
                b = model.new_bool_var(f"b{k}_{r}_{t}")
                model.add_bool_and([u[k, r], z[k, t]]).only_enforce_if(b)
                model.add_bool_or([u[k, r].Not(), z[k, t].Not(), b])
                calls.append(b)
            model.add(sum(calls) <= quota)
    model.add(sum(used) >= floor)
    model.minimize(sum(used))

    _hint(model, search, sks, days, z, u, v, used, e, y)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = ctx.seed
    solver.parameters.max_deterministic_time = det_time
    # Wall clock only as a safety net (never past the plan's budget): hitting it would
    # make the answer depend on the machine's load.
    left = ctx.deadline_s - _time.perf_counter()
    solver.parameters.max_time_in_seconds = max(0.1, min(det_time * WALL_FACTOR, left))
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if round(solver.objective_value) >= k_max:
        return None
    out: list[Skeleton] = []
    for k in range(k_max):
        if not solver.boolean_value(used[k]):
            continue
        day = next(t for t in days if solver.boolean_value(z[k, t]))
        carried = [i for i in range(n) if solver.value(y[i, k]) > 0]
        rows = frozenset(r for i in carried for r in classes[i].rows)
        cols = frozenset(col for i in carried for col in classes[i].cols)
        out.append((rows, cols, day))
    return out


def _hint(
    model: cp_model.CpModel,
    search: GroupSearch,
    sks: Sequence[Skeleton],
    days: list[int],
    z: dict,
    u: dict,
    v: dict,
    used: list,
    e: dict,
    y: dict,
) -> None:
    """The search's plan as the solver's starting point (coaches sorted by day)."""
    order = sorted(range(len(sks)), key=lambda j: (sks[j][2], j))
    el = [search.eligible(sks[j]) for j in order]
    solver, _ = search.solve(el)
    carried = search._carried(solver, el)
    for k, j in enumerate(order):
        rows, cols, day = sks[j]
        model.add_hint(used[k], True)
        for t in days:
            model.add_hint(z[k, t], t == day)
        for r in range(search.n_rows):
            model.add_hint(u[k, r], r in rows)
        for c in range(search.n_cols):
            model.add_hint(v[k, c], c in cols)
        for i in range(search.n):
            seats = int(carried[k, i])
            model.add_hint(e[i, k], seats > 0)
            if isinstance(y[i, k], cp_model.IntVar):
                model.add_hint(y[i, k], seats)


def flow_ok(search: GroupSearch, sks: Sequence[Skeleton], deficit: int) -> bool:
    """Whether `sks` seat at least as many riders as the search's plan (`deficit` left)."""
    el = [search.eligible(sk) for sk in sks]
    _, d = search.solve(el)
    return d <= deficit
