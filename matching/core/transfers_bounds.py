"""The strongest valid lower bound on the coaches of a plan that we compute (benchmark only).

`lower_bound_trips` (riders / seats per county and city), and the window-aware and
stop-aware bounds of `transfers_packing.lower_bounds` are cheap enough for every plan.
This one costs a few seconds on a season, so `transfers_bench` computes it next to the plan
to judge how far the plan is from what any plan could do.

The bound, per (county, city), relaxes the problem to what any plan must satisfy:

* A rider can only ride a coach leaving inside their window [first day, last feasible
  day] (the last feasible day is the one a coach from their pickup straight to their
  drop-off, leaving first thing, still arrives by 22:00 - never earlier than any plan's).
* For a set of riders, the earliest-deadline count `edf(set)` (send a coach only when
  someone is due, with the `seats` riders due soonest) is the fewest coaches that can carry
  them if nothing else mattered; it is optimal for identical coaches and day windows.
* Coaches calling at pickup `p` carry all of `p`'s riders: at least `edf(riders of p)` of
  them; each of those calls serves at most `max_dropoff_stops` drop-offs, and the riders of
  each (p, d) need `edf(riders of p to d)` calls serving `d`, so `p` needs at least
  ceil(sum over d / max_dropoff_stops) calls too. A coach calls at `max_pickup_stops`
  pickups at most, so coaches >= ceil(sum of pickup calls / max_pickup_stops); the same
  with drop-offs and pickups exchanged.
* Coaches leaving inside disjoint day intervals are different coaches, and the riders whose
  whole window lies inside an interval can only use coaches of that interval. So for any
  set of disjoint intervals, coaches >= the sum of the bounds above over the riders inside
  each interval; a dynamic program over the days finds the best set of intervals.

Households are counted as independent riders and the departure cap and exact itinerary
timing are ignored: each only relaxes the problem further, so the bound stays valid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def edf_coaches(counts: np.ndarray, cap: int) -> np.ndarray:
    """Earliest-deadline coach counts for many rider sets at once.

    `counts[s, lo, hi]` is the number of riders of set `s` with window [lo, hi] (days).
    Returns, per set, the coaches of `cap` seats the lazy earliest-deadline dispatch sends:
    on each day, while someone is due, a coach leaves with the `cap` riders due soonest.
    """
    n_sets, n_days, _ = counts.shape
    pending = np.zeros((n_sets, n_days), dtype=np.int64)
    coaches = np.zeros(n_sets, dtype=np.int64)
    for day in range(n_days):
        pending += counts[:, day, :]
        while True:
            due = pending[:, day] > 0
            if not due.any():
                break
            coaches += due
            rows = pending[due, day:]
            taken_before = np.cumsum(rows, axis=1) - rows
            take = np.clip(cap - taken_before, 0, rows)
            pending[due, day:] = rows - take
    return coaches


def group_bound(members: list[tuple[int, int, int, int]], cap: int, max_p: int, max_d: int) -> int:
    """The interval bound of one (county, city); `members` are (pickup, drop-off, lo, hi)."""
    if not members:
        return 0
    arr = np.array(members, dtype=np.int64)
    day0 = int(arr[:, 2].min())
    lo = arr[:, 2] - day0
    hi = arr[:, 3] - day0
    n_days = int(hi.max()) + 1
    pickups, p_idx = np.unique(arr[:, 0], return_inverse=True)
    drops, d_idx = np.unique(arr[:, 1], return_inverse=True)
    cells, c_idx = np.unique(p_idx * len(drops) + d_idx, return_inverse=True)
    n_p, n_d, n_c = len(pickups), len(drops), len(cells)
    # Sets: 0 = everyone, then pickups, drop-offs, (pickup, drop-off) cells.
    n_sets = 1 + n_p + n_d + n_c
    base = np.zeros((n_sets, n_days, n_days), dtype=np.int64)
    for sets in (np.zeros_like(p_idx), 1 + p_idx, 1 + n_p + d_idx, 1 + n_p + n_d + c_idx):
        np.add.at(base, (sets, lo, hi), 1)
    cell_p = cells // len(drops)
    cell_d = cells % len(drops)
    starts = sorted({0, *lo.tolist()})
    ends = sorted(set(hi.tolist()))
    best = np.zeros(n_days + 1, dtype=np.int64)  # best[b] = bound using days < b
    for b in range(n_days):
        best[b + 1] = best[b]
        if b not in ends:
            continue
        for a in starts:
            if a > b:
                break
            window = base[:, a : b + 1, a : b + 1]  # riders whose window lies in [a, b]
            if not window[0].any():
                continue
            edf = edf_coaches(window, cap)
            everyone = int(edf[0])
            by_p = edf[1 : 1 + n_p]
            by_d = edf[1 + n_p : 1 + n_p + n_d]
            by_c = edf[1 + n_p + n_d :]
            per_p = np.bincount(cell_p, weights=by_c, minlength=n_p)
            per_d = np.bincount(cell_d, weights=by_c, minlength=n_d)
            calls_p = np.maximum(by_p, np.ceil(per_p / max_d)).sum()
            calls_d = np.maximum(by_d, np.ceil(per_d / max_p)).sum()
            bound = max(everyone, math.ceil(calls_p / max_p), math.ceil(calls_d / max_d))
            best[b + 1] = max(best[b + 1], best[a] + bound)
    return int(best[n_days])


def interval_lower_bound(
    riders: Iterable[tuple[str, str, int, int, int, int]], cap: int, max_p: int, max_d: int
) -> int:
    """Sum over (county, city) of the interval bound (see the module docstring).

    `riders` are (county, city, pickup, drop-off, first day, last feasible day) - the same
    spans `transfers_packing.lower_bounds` takes.
    """
    groups: dict[tuple[str, str], list[tuple[int, int, int, int]]] = {}
    for county, city, p, d, lo, hi in riders:
        groups.setdefault((county, city), []).append((p, d, lo, hi))
    return sum(group_bound(groups[key], cap, max_p, max_d) for key in sorted(groups))
