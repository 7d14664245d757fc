"""Assignment of riders to coaches and departure days (the hard part of coach planning).

Internal to `matching.core.transfers`; works on point *indices* and day *indices* (day 0 is
the plan's `from_date`) rather than on the public dataclasses.

Method (per county, because the per-pickup departure cap couples a county's cities):

1. **Lazy earliest-deadline dispatch.** Days are swept in order. On day `d` only the parties
   (a household or a single rider) whose last planned day is `d` *must* leave; every other
   party can still wait and be pooled with riders who become available later. For each
   (county, city) the urgent parties go first into coaches already leaving that day, then
   into new coaches. A new coach starts from the urgent party whose flow (pickup,
   drop-off) holds most urgent riders; its stop set is the best block of at most
   `max_pickup_stops` pickups x `max_dropoff_stops` drop-offs containing that party's stops
   (most urgent riders, then most riders, then riders due soonest), found by alternating
   best rows / best columns on the flow-count grid. The coach is then filled
   earliest-deadline-first with every compatible available party, so riders due later are
   pulled forward into seats that would otherwise leave empty. Without stop limits this is
   optimal for identical coaches (sending later never shrinks the pool); with them it is a
   heuristic. A party that finds no departure on its day tries any coach or day of its
   window, then a same-evening arrival day, then frees a departure at its pickup point by
   moving the riders another coach boards there.
2. **Coach elimination.** Coaches are emptied, least loaded first, by moving each of their
   parties into another coach of the same (county, city) whose day is inside the party's
   window - or can move inside it - with room, within the stop limits, the departure cap
   and the deadlines. A coach is removed only when all its parties found a place.
3. **Cheaper coach types.** A coach's type is the cheapest one that seats its load; parties
   are then moved out of coaches just above a smaller type's size into coaches with room.

Every move is checked against all rules (window, stop limits, departure cap, capacity,
deadline by exact itinerary timing when the deadline is close), so the result is feasible by
construction; `transfers_check.check_plan` re-verifies it independently in the tests.
"""

from __future__ import annotations

import heapq
import math
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from matching.core.transfers_timing import TravelModel, order_exists

NO_DEADLINE = 1 << 40


@dataclass(eq=False, slots=True)
class Party:
    """Riders that must share a coach: one household, or one rider alone."""

    idx: int
    riders: tuple[int, ...]
    county: str
    city: str
    flows: dict[tuple[int, int], int]  # (pickup, drop-off) -> riders
    lo: int  # first allowed departure day
    hi: int  # last day from which every member still arrives in time
    deadlines: dict[int, int]  # drop-off -> latest arrival minute
    last: int = -1  # last day still on time with an early departure (>= hi)
    household: str | None = None
    pinned: bool = False  # boarded from an existing trip: never moved by the improvement
    coach: Coach | None = None
    reason: str | None = None  # set when the party cannot be seated
    size: int = field(init=False)
    pickups: frozenset[int] = field(init=False)
    dropoffs: frozenset[int] = field(init=False)
    min_deadline: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.riders)
        self.pickups = frozenset(p for p, _ in self.flows)
        self.dropoffs = frozenset(d for _, d in self.flows)
        self.min_deadline = min(self.deadlines.values(), default=NO_DEADLINE)


@dataclass(eq=False, slots=True)
class Coach:
    """One departure being planned: a day, a stop set and the parties on board."""

    uid: int
    county: str
    city: str
    day: int
    capacity: int
    parties: list[Party] = field(default_factory=list)
    load: int = 0
    locked: bool = False  # an existing locked trip: stops, day and time are fixed
    kept_from: str | None = None  # id of the existing trip this coach continues
    min_seats: int = 0  # highest seat number already promised on this coach
    fixed_pickups: tuple[int, ...] = ()  # locked trips: their stop order
    fixed_dropoffs: tuple[int, ...] = ()
    preferred_start: int | None = None  # locked/kept trips: their previous departure minute
    pickup_count: dict[int, int] = field(default_factory=dict)
    dropoff_count: dict[int, int] = field(default_factory=dict)

    @property
    def pickups(self) -> set[int]:
        return set(self.fixed_pickups) | set(self.pickup_count)

    @property
    def dropoffs(self) -> set[int]:
        return set(self.fixed_dropoffs) | set(self.dropoff_count)

    def flows(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for party in self.parties:
            for key, n in party.flows.items():
                out[key] = out.get(key, 0) + n
        return out

    def deadlines(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for party in self.parties:
            for d, limit in party.deadlines.items():
                if d not in out or limit < out[d]:
                    out[d] = limit
        return out


class Context:
    """Plan-wide settings and shared state for packing and scheduling."""

    def __init__(
        self,
        *,
        model: TravelModel,
        codes: list[str],
        n_days: int,
        window: tuple[int, int],
        step: int,
        max_pickups: int,
        max_dropoffs: int,
        max_departures: int,
        min_gap: int,
        max_seats: int,
        exact_max_orders: int,
        solver_time_limit_s: float,
        seed: int,
        deadline_s: float,
    ):
        self.model = model
        self.codes = list(codes)  # point index -> code, for messages
        self.n_days = n_days
        self.window = window  # first-pickup minutes of the day, e.g. (360, 600)
        self.step = step
        self.max_pickups = max_pickups
        self.max_dropoffs = max_dropoffs
        self.max_departures = max_departures
        self.min_gap = min_gap
        self.max_seats = max_seats
        self.exact_max_orders = exact_max_orders
        self.solver_time_limit_s = solver_time_limit_s
        self.seed = seed
        self.deadline_s = deadline_s  # perf_counter() value after which improvement stops
        self.departures: dict[tuple[int, int], int] = {}  # (pickup, day) -> coaches
        # (county, city) -> latest arrival, in minutes after a day's midnight, of any coach
        # of that county and city leaving that day (worst order, most stops, night halt).
        self.safe_offset: dict[tuple[str, str], int] = {}
        self.counters: dict[str, int] = {}
        # Minutes after the window start at which `timing_ok` assumes the coach leaves. The
        # improvement search raises it while it plans same-evening arrivals, so that a few
        # such coaches can still be staggered at one pickup point (`min_gap` apart).
        self.timing_slack = 0
        # CP-SAT deterministic time per small group in the improvement (`transfers_exact`);
        # the planner sets it from `Params.exact_time`, 0 switches the step off.
        self.exact_time = 0.0
        # perf_counter() value after which that step is skipped: under a loaded machine the
        # plan's budget goes to the search of every county first (`improve_county`).
        self.exact_deadline_s = deadline_s
        self._timing_cache: dict[tuple, bool] = {}
        self._slowest: dict[tuple[frozenset[int], frozenset[int]], int] = {}
        self._next_uid = 0

    # -- bookkeeping ---------------------------------------------------------------------
    def new_uid(self) -> int:
        self._next_uid += 1
        return self._next_uid

    def peek_uid(self) -> int:
        """The last coach id handed out."""
        return self._next_uid

    def reset_uids(self, last: int) -> None:
        """Hand out ids after `last` from now on (the improvement search gives each county
        its own range, so its ids do not depend on the order counties run in)."""
        self._next_uid = last

    def over_budget(self) -> bool:
        hit = _time.perf_counter() > self.deadline_s
        if hit:
            self.counters["budget_hit"] = 1
        return hit

    def departures_left(self, pickup: int, day: int) -> int:
        return self.max_departures - self.departures.get((pickup, day), 0)

    def book(self, pickups: Iterable[int], day: int, delta: int) -> None:
        for p in pickups:
            key = (p, day)
            self.departures[key] = self.departures.get(key, 0) + delta

    # -- timing ----------------------------------------------------------------------------
    def bound_ok(self, flows: dict[tuple[int, int], int], deadlines: dict[int, int], day: int):
        """Cheap sufficient test: even the latest departure in the slowest order is on time."""
        m = self.model
        pickups = frozenset(p for p, _ in flows)
        dropoffs = frozenset(d for _, d in flows)
        total = self._slowest.get((pickups, dropoffs))
        if total is None:  # the slowest drive through these stops, cached: asked very often
            total = m.dwell * (len(pickups) + len(dropoffs) - 1)
            total += max((m.leg(a, b) for a in pickups for b in pickups), default=0) * (
                len(pickups) - 1
            )
            total += max(m.leg(a, b) for a in pickups for b in dropoffs)
            total += max((m.leg(a, b) for a in dropoffs for b in dropoffs), default=0) * (
                len(dropoffs) - 1
            )
            self._slowest[(pickups, dropoffs)] = total
        latest = m.arrive(day * 1440 + self.window[1], total)
        return latest <= min(deadlines.values())

    def timing_ok(
        self, flows: dict[tuple[int, int], int], deadlines: dict[int, int], day: int
    ) -> bool:
        """Whether some stop order leaving at the window start meets every deadline."""
        if not flows:
            return True
        if self.bound_ok(flows, deadlines, day):
            return True
        key = (tuple(sorted(flows)), tuple(sorted(deadlines.items())), day, self.timing_slack)
        hit = self._timing_cache.get(key)
        if hit is None:
            self.counters["exact_timing_checks"] = self.counters.get("exact_timing_checks", 0) + 1
            hit = order_exists(
                self.model,
                dict.fromkeys(flows, 1),
                deadlines,
                day * 1440 + self.window[0] + self.timing_slack,
                exact_max_orders=self.exact_max_orders,
                pyvrp_time_limit_s=self.solver_time_limit_s,
                seed=self.seed,
                counters=self.counters,
            )
            self._timing_cache[key] = hit
        return hit


# -- coach mutations shared by packing and repair ------------------------------------------


def can_take(ctx: Context, coach: Coach, party: Party, *, room: int | None = None) -> bool:
    """Whether `party` may board `coach` under every rule (nothing is changed)."""
    if party.county != coach.county or party.city != coach.city:
        return False
    if not party.lo <= coach.day <= party.hi:
        return False
    cap = coach.capacity if room is None else room
    if coach.load + party.size > cap:
        return False
    pickups, dropoffs = coach.pickups, coach.dropoffs
    new_p = party.pickups - pickups
    new_d = party.dropoffs - dropoffs
    if coach.locked and (new_p or new_d):
        return False
    if len(pickups) + len(new_p) > ctx.max_pickups:
        return False
    if len(dropoffs) + len(new_d) > ctx.max_dropoffs:
        return False
    if any(ctx.departures_left(p, coach.day) <= 0 for p in new_p):
        return False
    if coach.locked:
        return locked_on_time(ctx, coach, party)
    soonest = min([party.min_deadline] + [p.min_deadline for p in coach.parties])
    offset = ctx.safe_offset.get((coach.county, coach.city))
    if offset is not None and soonest >= coach.day * 1440 + offset:
        return True  # on time whatever the order and departure time
    flows = coach.flows()
    for key, n in party.flows.items():
        flows[key] = flows.get(key, 0) + n
    deadlines = coach.deadlines()
    for d, limit in party.deadlines.items():
        if d not in deadlines or limit < deadlines[d]:
            deadlines[d] = limit
    return ctx.timing_ok(flows, deadlines, coach.day)


def locked_on_time(ctx: Context, coach: Coach, party: Party) -> bool:
    """A locked trip keeps its order and time: the party's drop-offs must be reached in time."""
    assert coach.preferred_start is not None
    stops = coach.fixed_pickups + coach.fixed_dropoffs
    etas = ctx.model.etas(stops, coach.preferred_start)
    at = dict(zip(stops, etas, strict=True))
    return all(at[d] <= limit for d, limit in party.deadlines.items())


def board(ctx: Context, coach: Coach, party: Party) -> None:
    """Put `party` on `coach` (caller checked `can_take`) and book new pickup departures."""
    new_p = [p for p in sorted(party.pickups) if p not in coach.pickups]
    ctx.book(new_p, coach.day, +1)
    coach.parties.append(party)
    coach.load += party.size
    for (p, d), n in party.flows.items():
        coach.pickup_count[p] = coach.pickup_count.get(p, 0) + n
        coach.dropoff_count[d] = coach.dropoff_count.get(d, 0) + n
    party.coach = coach


def alight(ctx: Context, coach: Coach, party: Party) -> None:
    """Take `party` off `coach`, releasing pickup departures no longer used."""
    coach.parties.remove(party)
    coach.load -= party.size
    before = coach.pickups
    for (p, d), n in party.flows.items():
        coach.pickup_count[p] -= n
        if coach.pickup_count[p] == 0:
            del coach.pickup_count[p]
        coach.dropoff_count[d] -= n
        if coach.dropoff_count[d] == 0:
            del coach.dropoff_count[d]
    ctx.book(sorted(before - coach.pickups), coach.day, -1)
    party.coach = None


class CountyPacker:
    """Runs the three packing phases for the parties of one county."""

    def __init__(
        self, ctx: Context, county: str, parties: list[Party], coaches: list[Coach]
    ) -> None:
        self.ctx = ctx
        self.county = county
        self.coaches = coaches  # kept/locked coaches of this county first
        cities: dict[str, list[Party]] = {}
        for party in parties:
            cities.setdefault(party.city, []).append(party)
        # Larger flows first: they shape the shared per-pickup departure cap the most.
        self.cities = sorted(cities, key=lambda c: (-sum(p.size for p in cities[c]), c))
        self.parties = {
            c: sorted(ps, key=lambda p: (p.lo, p.hi, p.idx)) for c, ps in cities.items()
        }

    # -- phase 1 ------------------------------------------------------------------------
    def dispatch(self) -> None:
        """The late sweep, then the lazy earliest-deadline sweep over the days."""
        self._late_sweep()
        pools: dict[str, list[Party]] = {c: [] for c in self.cities}
        cursor = dict.fromkeys(self.cities, 0)
        for day in range(self.ctx.n_days):
            for city in self.cities:
                queue = self.parties[city]
                i = cursor[city]
                while i < len(queue) and queue[i].lo <= day:
                    pools[city].append(queue[i])
                    i += 1
                cursor[city] = i
                pool = [p for p in pools[city] if p.coach is None and p.reason is None]
                pools[city] = pool
                self._dispatch_day(city, day, pool)

    def _late_sweep(self) -> None:
        """Seat the riders who become available after the first day, latest first.

        Going backwards in time, a party available from day `d` has no later chance than
        day `d`. Its coach is filled with other late-available parties first, then with
        parties available from the start whose deadline is nearest: the late riders get
        the companions they need before the forward sweep spends them on early coaches
        (without this, late riders end up on half-empty coaches at the end of the season).
        A party no coach can take here is left to the forward sweep.
        """
        ctx = self.ctx
        for city in self.cities:
            parties = self.parties[city]
            if not any(p.lo > 0 for p in parties):
                continue
            for day in range(ctx.n_days - 1, 0, -1):
                urgent = [
                    p for p in parties if p.lo == day and p.coach is None and p.reason is None
                ]
                if not urgent:
                    continue
                pool = [
                    p
                    for p in parties
                    if p.coach is None and p.reason is None and p.lo <= day <= p.hi
                ]
                for party in sorted(urgent, key=lambda p: (-p.size, p.idx)):
                    self._insert_best(party, self._coaches_on(city, day))
                while True:
                    waiting = [p for p in urgent if p.coach is None]
                    if not waiting or self._build(city, day, pool, waiting, late=True) is None:
                        break

    def _coaches_on(self, city: str, day: int) -> list[Coach]:
        return [c for c in self.coaches if c.city == city and c.day == day]

    def _dispatch_day(self, city: str, day: int, pool: list[Party]) -> None:
        urgent = [p for p in pool if p.hi <= day]
        if not urgent:
            return
        # Coaches already leaving today (kept, locked or built earlier today) come first.
        for party in sorted(urgent, key=lambda p: (-p.size, p.idx)):
            self._insert_best(party, self._coaches_on(city, day))
        while True:
            waiting = [p for p in urgent if p.coach is None and p.reason is None]
            if not waiting:
                return
            coach = self._build(city, day, pool, waiting)
            if coach is None:
                for party in waiting:
                    self._place_anywhere(party)
                return

    def _insert_best(self, party: Party, coaches: Iterable[Coach]) -> bool:
        """Board `party` on the best-fitting coach among `coaches`; False if none fits."""
        best: tuple[tuple[int, int, int], Coach] | None = None
        for coach in coaches:
            if coach is party.coach or not can_take(self.ctx, coach, party):
                continue
            added = len(party.pickups - coach.pickups) + len(party.dropoffs - coach.dropoffs)
            key = (added, coach.capacity - coach.load - party.size, coach.uid)
            if best is None or key < best[0]:
                best = (key, coach)
        if best is None:
            return False
        board(self.ctx, best[1], party)
        return True

    def _build(
        self, city: str, day: int, pool: list[Party], urgent: list[Party], *, late: bool = False
    ) -> Coach | None:
        """Open one coach on `day` around the urgent parties and fill it (None if blocked).

        The stop set is the best block of (pickup, drop-off) flows containing the seed
        party's stops: most urgent riders first, then most riders overall (capped at the
        seats), then riders due soonest, as they would force a coach of their own soon.
        `late` is the backward sweep: urgent means available from `day` on, and "due soon"
        means available from a day just before it.
        """
        ctx = self.ctx
        if late:

            def due(p: Party) -> bool:
                return p.lo >= day

            def soon(p: Party) -> float:
                return p.size / (day - p.lo) if p.lo > 0 else 0.0
        else:

            def due(p: Party) -> bool:
                return p.hi <= day

            def soon(p: Party) -> float:
                return p.size / (p.hi - day)

        free = [p for p in pool if p.coach is None and p.reason is None]
        singles = [p for p in free if len(p.flows) == 1]
        rows_pt = sorted({f[0] for p in free for f in p.flows})
        cols_pt = sorted({f[1] for p in free for f in p.flows})
        ri = {p: i for i, p in enumerate(rows_pt)}
        ci = {d: i for i, d in enumerate(cols_pt)}
        urgent_m = np.zeros((len(rows_pt), len(cols_pt)))
        all_m = np.zeros_like(urgent_m)
        soon_m = np.zeros_like(urgent_m)
        for party in singles:
            ((p, d),) = party.flows
            all_m[ri[p], ci[d]] += party.size
            if due(party):
                urgent_m[ri[p], ci[d]] += party.size
            else:
                soon_m[ri[p], ci[d]] += soon(party)

        def seed_key(party: Party) -> tuple:
            u = sum(urgent_m[ri[p], ci[d]] for p, d in party.flows)
            a = sum(all_m[ri[p], ci[d]] for p, d in party.flows)
            return (-u, -a, -party.size, party.idx)

        seed = None
        for party in sorted(urgent, key=seed_key):
            probe = Coach(uid=0, county=self.county, city=city, day=day, capacity=ctx.max_seats)
            if can_take(ctx, probe, party):
                seed = party
                break
        if seed is None:
            return None
        # The last departure of a township is kept for riders who must leave from it.
        row_ok = np.array([ctx.departures_left(p, day) > 1 for p in rows_pt])
        _, _, rows, cols = _best_block(
            urgent_m,
            all_m,
            soon_m,
            row_ok,
            ctx.max_pickups,
            ctx.max_dropoffs,
            ctx.max_seats,
            force_rows=[ri[p] for p in sorted(seed.pickups)],
            force_cols=[ci[d] for d in sorted(seed.dropoffs)],
        )
        pickups = {rows_pt[r] for r in rows}
        dropoffs = {cols_pt[c] for c in cols}
        cap = ctx.max_seats
        coach = Coach(uid=ctx.new_uid(), county=self.county, city=city, day=day, capacity=cap)
        candidates = [
            p for p in free if p.pickups <= pickups and p.dropoffs <= dropoffs and p.lo <= day
        ]
        if late:  # the late parties, latest first, then those due soonest
            candidates.sort(key=lambda p: (p is not seed, p.lo == 0, -p.lo, p.hi, -p.size, p.idx))
        else:
            candidates.sort(key=lambda p: (p is not seed, p.hi, -p.size, p.idx))
        board(ctx, coach, seed)
        for party in candidates[1:]:
            if coach.load >= cap:
                break
            if can_take(ctx, coach, party):
                board(ctx, coach, party)
        self.coaches.append(coach)
        return coach

    def _place_anywhere(self, party: Party) -> None:
        """Last resort for a party its own day could not take: any coach or day in its window,
        then the same-evening arrival days past its planned window."""
        if self._place_in_window(party):
            return
        if party.last > party.hi:
            lo, hi = party.lo, party.hi
            party.lo, party.hi = party.hi + 1, party.last
            if self._place_in_window(party):
                return
            party.lo, party.hi = lo, hi
        if self._free_departure(party) and self._place_in_window(party):
            return
        ctx = self.ctx
        blocked = ", ".join(ctx.codes[p] for p in sorted(party.pickups))
        capped = all(
            any(ctx.departures_left(p, day) <= 0 for p in party.pickups)
            for day in range(party.lo, party.hi + 1)
        )
        party.reason = (
            "no departure left: every day of the window already has "
            f"{ctx.max_departures} coaches leaving from pickup point(s) {blocked}"
            if capped
            else "no departure left: no coach of the window has room and arrives in time"
        )

    def _free_departure(self, party: Party) -> bool:
        """Free a departure at the party's pickup point on a day of its window by moving the
        riders another coach picks up there onto other coaches (any city of the county)."""
        ctx = self.ctx
        for day in range(party.hi, party.lo - 1, -1):
            full = [p for p in sorted(party.pickups) if ctx.departures_left(p, day) <= 0]
            if len(full) != 1:
                continue
            point = full[0]
            calling = [
                c
                for c in self.coaches
                if c.day == day and point in c.pickup_count and self._movable(c)
            ]
            for coach in sorted(calling, key=lambda c: (c.pickup_count[point], c.uid)):
                boarding = [p for p in coach.parties if point in p.pickups]
                if any(p.pinned for p in boarding):
                    continue
                moves: list[Party] = []
                for moved in sorted(boarding, key=lambda p: (-p.size, p.idx)):
                    alight(ctx, coach, moved)
                    others = [
                        c
                        for c in self.coaches
                        if c is not coach
                        and c.city == moved.city
                        and moved.lo <= c.day <= moved.hi
                        and (c.day != day or point in c.pickup_count)
                    ]
                    if self._insert_best(moved, others):
                        moves.append(moved)
                        continue
                    board(ctx, coach, moved)
                    break
                if len(moves) == len(boarding):
                    if not coach.parties:
                        self.coaches.remove(coach)
                    return True
                for moved in reversed(moves):
                    assert moved.coach is not None
                    alight(ctx, moved.coach, moved)
                    board(ctx, coach, moved)
        return False

    def _place_in_window(self, party: Party) -> bool:
        ctx = self.ctx
        others = [c for c in self.coaches if c.city == party.city and party.lo <= c.day <= party.hi]
        if self._insert_best(party, others):
            return True
        for day in range(min(party.hi, ctx.n_days - 1), party.lo - 1, -1):
            if all(ctx.departures_left(p, day) > 0 for p in party.pickups):
                coach = Coach(
                    uid=ctx.new_uid(),
                    county=self.county,
                    city=party.city,
                    day=day,
                    capacity=ctx.max_seats,
                )
                if can_take(ctx, coach, party):
                    board(ctx, coach, party)
                    self.coaches.append(coach)
                    return True
        return False

    # -- phase 2 ------------------------------------------------------------------------
    def eliminate(self) -> int:
        """Empty and remove coaches whose parties all fit elsewhere; returns coaches removed."""
        removed = 0
        improved = True
        while improved and not self.ctx.over_budget():
            improved = False
            movable = [c for c in self.coaches if not c.locked and c.kept_from is None]
            movable = [c for c in movable if not any(p.pinned for p in c.parties)]
            for coach in sorted(movable, key=lambda c: (c.load, c.uid)):
                if coach not in self.coaches or not coach.parties:
                    continue
                if self._try_empty(coach):
                    self.coaches.remove(coach)
                    removed += 1
                    improved = True
                if self.ctx.over_budget():
                    break
        self.coaches = [c for c in self.coaches if c.parties or c.locked]
        return removed

    def _try_empty(self, coach: Coach) -> bool:
        """Move every party of `coach` elsewhere, or change nothing.

        A target coach may also move to another day inside all its parties' windows (and
        the newcomer's) when that is what lets it take the party.
        """
        ctx = self.ctx
        spare = sum(
            c.capacity - c.load for c in self.coaches if c is not coach and c.city == coach.city
        )
        if spare < coach.load:
            return False
        undo: list[tuple[str, Party | None, Coach, int]] = []
        for party in sorted(coach.parties, key=lambda p: (-p.size, p.idx)):
            alight(ctx, coach, party)
            same_city = [c for c in self.coaches if c is not coach and c.city == coach.city]
            direct = [c for c in same_city if party.lo <= c.day <= party.hi]
            if self._insert_best(party, direct):
                undo.append(("move", party, coach, 0))
                continue
            if self._insert_shifted(party, same_city, undo):
                undo.append(("move", party, coach, 0))
                continue
            board(ctx, coach, party)
            for kind, moved, target, day in reversed(undo):
                if kind == "move":
                    assert moved is not None and moved.coach is not None
                    alight(ctx, moved.coach, moved)
                    board(ctx, target, moved)
                else:
                    restored = self._shift(target, day)
                    assert restored, "undoing a day change frees what it took"
            return False
        return True

    def _movable(self, coach: Coach) -> bool:
        return not coach.locked and coach.kept_from is None and bool(coach.parties)

    def _shift(self, coach: Coach, day: int) -> bool:
        """Move a whole coach to `day` if caps and deadlines allow (its parties' windows
        must contain `day`; the caller checks)."""
        ctx = self.ctx
        if day == coach.day:
            return True
        pickups = sorted(coach.pickups)
        ctx.book(pickups, coach.day, -1)
        if all(ctx.departures_left(p, day) > 0 for p in pickups) and ctx.timing_ok(
            coach.flows(), coach.deadlines(), day
        ):
            ctx.book(pickups, day, +1)
            coach.day = day
            return True
        ctx.book(pickups, coach.day, +1)
        return False

    def _insert_shifted(
        self, party: Party, coaches: list[Coach], undo: list[tuple[str, Party | None, Coach, int]]
    ) -> bool:
        ctx = self.ctx
        options = []
        for c in coaches:
            if not self._movable(c) or c.load + party.size > c.capacity:
                continue
            if party.lo <= c.day <= party.hi:
                continue
            lo = max([party.lo] + [p.lo for p in c.parties])
            hi = min([party.hi] + [p.hi for p in c.parties])
            if lo > hi:
                continue
            new_p = len(party.pickups - c.pickups)
            new_d = len(party.dropoffs - c.dropoffs)
            if (
                len(c.pickups) + new_p > ctx.max_pickups
                or len(c.dropoffs) + new_d > ctx.max_dropoffs
            ):
                continue
            options.append(((new_p + new_d, c.capacity - c.load - party.size, c.uid), c, lo, hi))
        for _, c, lo, hi in sorted(options, key=lambda o: o[0]):
            old = c.day
            for day in sorted(range(lo, hi + 1), key=lambda d: (abs(d - old), d)):
                if not self._shift(c, day):
                    continue
                if can_take(ctx, c, party):
                    undo.append(("shift", None, c, old))
                    board(ctx, c, party)
                    return True
                self._shift(c, old)
        return False

    def settle_days(self) -> int:
        """Move each coach to the latest day its riders all allow; returns coaches moved.

        The coach count does not depend on the day inside that range, but riders prefer to
        arrive just before they start work (no nights to pay for at the factory town), and
        it is what the lazy sweep would have chosen. Locked and kept coaches stay; a move
        must keep the departure cap and the exact deadlines.
        """
        moved = 0
        movable = [c for c in self.coaches if self._movable(c)]
        for coach in sorted(movable, key=lambda c: (-c.day, c.uid)):
            lo = max(p.lo for p in coach.parties)
            hi = min(p.hi for p in coach.parties)
            for day in range(hi, coach.day, -1):
                if day >= lo and self._shift(coach, day):
                    moved += 1
                    break
        return moved

    # -- phase 3 ------------------------------------------------------------------------
    def downsize(self, seat_sizes: list[int]) -> int:
        """Move parties so coaches just above a smaller coach size fit that size."""
        moved_total = 0
        for coach in sorted(self.coaches, key=lambda c: (c.load, c.uid)):
            if coach.locked or self.ctx.over_budget():
                continue
            smaller = [s for s in seat_sizes if s < coach.load]
            if not smaller:
                continue
            target = max(smaller)
            excess = coach.load - target
            if excess > 12:  # moving a dozen riders for one size step rarely pays off
                continue
            moves: list[tuple[Party, Coach]] = []
            for party in sorted(coach.parties, key=lambda p: (p.size, p.idx)):
                if coach.load <= target:
                    break
                if party.pinned:
                    continue  # riders of an existing trip keep their seat
                others = [
                    c
                    for c in self.coaches
                    if c is not coach and c.city == coach.city and party.lo <= c.day <= party.hi
                ]
                alight(self.ctx, coach, party)
                if self._insert_fit(party, others, seat_sizes):
                    moves.append((party, coach))
                else:
                    board(self.ctx, coach, party)
            if coach.load > target:
                for moved, origin in reversed(moves):
                    assert moved.coach is not None
                    alight(self.ctx, moved.coach, moved)
                    board(self.ctx, origin, moved)
            else:
                moved_total += len(moves)
        return moved_total

    def _insert_fit(self, party: Party, coaches: list[Coach], seat_sizes: list[int]) -> bool:
        """Insert only where the target keeps its current coach size (no cost increase)."""
        for coach in sorted(coaches, key=lambda c: (c.capacity - c.load, c.uid)):
            size_now = min(s for s in seat_sizes if s >= max(coach.load, coach.min_seats))
            if coach.load + party.size > size_now:
                continue
            if can_take(self.ctx, coach, party):
                board(self.ctx, coach, party)
                return True
        return False


def _best_block(
    urgent: np.ndarray,
    riders: np.ndarray,
    soon: np.ndarray,
    row_ok: np.ndarray,
    max_rows: int,
    max_cols: int,
    cap: int,
    *,
    force_rows: list[int] | None = None,
    force_cols: list[int] | None = None,
    seeds: int = 6,
) -> tuple[tuple[float, float, float], int, list[int], list[int]]:
    """Best stop set for one coach over a (pickup x drop-off) grid of rider counts.

    A block of at most `max_rows` pickups and `max_cols` drop-offs scores, in order:
    urgent riders it covers, riders it covers (both capped at the seats `cap`), and riders
    due soon (`soon` holds size / days left). Search: alternate best rows for the chosen
    columns and best columns for the chosen rows, from the forced stops or from the
    densest cells; then drop stops the score does not need (each costs rider time and a
    departure slot). Rows with `row_ok` False (no departure left) are never added.
    """
    force_rows = force_rows or []
    force_cols = force_cols or []
    big = float(cap + 1) * (cap + 1)
    linear = urgent * big + riders * (cap + 1) + soon

    def score(rows: list[int], cols: list[int]) -> tuple[float, float, float]:
        if not rows or not cols:
            return (0.0, 0.0, 0.0)
        ix = np.ix_(rows, cols)
        return (
            min(float(urgent[ix].sum()), cap),
            min(float(riders[ix].sum()), cap),
            float(soon[ix].sum()),
        )

    def top(values: np.ndarray, forced: list[int], k: int, ok: np.ndarray | None) -> list[int]:
        chosen = list(forced)
        for i in np.argsort(-values, kind="stable"):
            if len(chosen) >= k:
                break
            i = int(i)
            if i in chosen or values[i] <= 0 or (ok is not None and not ok[i]):
                continue
            chosen.append(i)
        return sorted(chosen)

    if force_rows or force_cols:
        starts = [(sorted(force_rows), sorted(force_cols))]
    else:
        flat = (linear * row_ok[:, None]).ravel()
        n_cols = linear.shape[1]
        starts = [
            ([int(i) // n_cols], [int(i) % n_cols])
            for i in np.argsort(-flat, kind="stable")[:seeds]
            if flat[i] > 0
        ]
    best: tuple[tuple[float, float, float], int, list[int], list[int]] = ((0, 0, 0), 0, [], [])
    for rows, cols in starts:
        for _ in range(3):
            if rows:
                cols = top(linear[rows].sum(axis=0), force_cols or cols[:0], max_cols, None)
            new_rows = top(linear[:, cols].sum(axis=1), force_rows, max_rows, row_ok)
            if new_rows == rows:
                break
            rows = new_rows
        rows = sorted(set(rows) | set(force_rows))
        cols = sorted(set(cols) | set(force_cols))
        current = score(rows, cols)
        improved = True
        while improved:
            improved = False
            for axis, idx in [(0, r) for r in rows if r not in force_rows] + [
                (1, c) for c in cols if c not in force_cols
            ]:
                r2 = [r for r in rows if not (axis == 0 and r == idx)]
                c2 = [c for c in cols if not (axis == 1 and c == idx)]
                trial = score(r2, c2)
                if trial[:2] >= current[:2]:
                    rows, cols, current, improved = r2, c2, trial, True
                    break
        stops = len(rows) + len(cols)
        if (current, -stops) > (best[0], -best[1]):
            best = (current, stops, rows, cols)
    return best


def lazy_coaches(windows: list[tuple[int, int]], cap: int) -> int:
    """Fewest coaches of `cap` seats for riders with day windows, ignoring stops.

    Earliest-deadline dispatch is optimal for one corridor (send a coach only when someone
    is due, with the `cap` riders due soonest), so this is a valid lower bound.
    """
    items = sorted(windows)
    heap: list[int] = []
    i = coaches = 0
    day = items[0][0] if items else 0
    while i < len(items) or heap:
        if not heap:
            day = max(day, items[i][0])
        while i < len(items) and items[i][0] <= day:
            heapq.heappush(heap, items[i][1])
            i += 1
        if heap and heap[0] <= day:
            coaches += 1
            for _ in range(min(cap, len(heap))):
                heapq.heappop(heap)
        else:
            day += 1
    return coaches


def lower_bounds(
    riders: list[tuple[str, str, int, int, int, int]], cap: int, max_pickups: int, max_dropoffs: int
) -> tuple[int, int]:
    """(window bound, stop-aware bound) on the coaches of any valid plan.

    `riders` are (county, city, pickup, drop-off, first day, last feasible day). Per
    (county, city): the window bound is the earliest-deadline count of all its riders; the
    stop-aware bound also counts, per pickup point, the coaches that must call there
    (the same count over that point's riders alone), divided by the pickups a coach may
    make - and the same for drop-offs. Households are counted as separate riders, which
    only relaxes the problem, so both stay valid bounds.
    """
    groups: dict[tuple[str, str], list[tuple[int, int, int, int]]] = {}
    for county, city, p, d, lo, hi in riders:
        groups.setdefault((county, city), []).append((p, d, lo, hi))
    window = stops = 0
    for members in groups.values():
        by_p: dict[int, list[tuple[int, int]]] = {}
        by_d: dict[int, list[tuple[int, int]]] = {}
        for p, d, lo, hi in members:
            by_p.setdefault(p, []).append((lo, hi))
            by_d.setdefault(d, []).append((lo, hi))
        w = lazy_coaches([(lo, hi) for _, _, lo, hi in members], cap)
        vp = sum(lazy_coaches(v, cap) for v in by_p.values())
        vd = sum(lazy_coaches(v, cap) for v in by_d.values())
        window += w
        stops += max(w, math.ceil(vp / max_pickups), math.ceil(vd / max_dropoffs))
    return window, stops
