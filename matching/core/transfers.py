"""Coach planning for the free "point-to-point" transfers (pure numeric core, no Django).

Hired laborers ride chartered coaches from their home township in Baise to their workplace
in Guangdong. `plan_transfers` seats every accepted match (a `Rider`) on exactly one coach
trip, or says why it cannot, and returns a `Plan`. It is plain Python over dataclasses so a
Celery task, the benchmark (`python -m matching.core.transfers_bench`) and unit tests run
the same code; the Django service maps database rows to these dataclasses and back.

Data contract
-------------
* Point codes: pickups are township codes (9-digit NBS codes), drop-offs are destination
  codes (a factory street, district, town or a whole city). Every code used by a rider or
  an existing trip must be in `points`. Two codes with the same coordinates are still two
  stops (a township without its own coordinates is given its county seat's, but its
  laborers gather at their own township).
* Dates are calendar dates in `Params.tz` (Asia/Shanghai). Datetimes in the output are
  timezone-aware in `Params.tz`. An `ExistingTrip.departure` may be aware (converted to
  `Params.tz`) or naive (read as local time in `Params.tz`). China has no daylight saving
  time, so the planner internally counts whole minutes from local midnight of `from_date`.
* Travel times come only from `jobmatch.geo` (`coach_hours` per leg, rounded up to whole
  minutes; `arrival_after` for the 02:00-05:00 ban). The coach also halts
  `Params.dwell_minutes` (default 10) at every stop for boarding or alighting.
* A stop's `eta` is when the coach reaches it; a trip's `departure` is the first pickup's
  eta. Staggering rules use the eta at each pickup point.

Rules every plan obeys (checked independently by `transfers_check.check_plan`)
-----------------------------------------------------------------------------
* Each rider has exactly one seat (a number in 1..coach seats) or is in `Plan.unseated`
  with a reason.
* A rider departs on or after `earliest_departure` and `from_date`, on or before
  `to_date`, and reaches the drop-off by `latest_arrival` (22:00) on the day before
  `start_date`.
* Riders sharing a `household` key ride the same coach.
* At most `max_departures_per_pickup_per_day` coaches call at one pickup point per day,
  at least `min_gap_minutes` apart there; the first pickup is inside `departure_window`.
* No driving 02:00-05:00: the itinerary includes the halt (`Trip.night_stops`) and later
  etas show it; departure times that avoid it are preferred.
* A trip's pickups are in one county (at most `max_pickup_stops`), its drop-offs in one
  city (at most `max_dropoff_stops`); no coach carries more riders than its seats.
* Objective, in order: fewest coaches, lowest coach cost, least rider time on board.

Re-planning
-----------
Existing trips with status locked/boarding/departed are reproduced exactly (coach,
departure, stops, riders, seats). Empty seats of `locked` trips are offered first to
compatible riders (same county and city, pickup and drop-off among the trip's stops, the
trip's fixed schedule on time for them); boarding and departed trips take nobody new.
Trips with status `planned` are hints: every party (household or single rider) seated
together on one of them keeps its trip and seat numbers when that trip is still valid for
it; the trip then takes new riders first. A kept trip is never dissolved to save a coach:
stability wins over the coach count on a re-plan (plan without hints to start afresh).

Method (details in the modules named)
-------------------------------------
1. Windows (`_Planner._window`): each rider may leave from max(earliest_departure,
   from_date) to the last day on which *any* coach of its county and city is surely on time
   (latest departure, most stops, night halt); the extra same-evening-arrival day is used
   only when nothing else is left, and then checked against the exact itinerary.
2. Packing (`transfers_packing`): per county, a lazy earliest-deadline sweep over days
   opens a coach only for riders who cannot wait, picks its stop block and fills it with
   every compatible rider who can already leave (pooling riders of different start dates);
   then coaches are emptied into others; a flow-based local search per (county, city)
   (`transfers_improve`, which may also use the same-evening days) removes more, and small
   groups are re-packed by CP-SAT (`transfers_exact`) under a deterministic time limit;
   finally coach sizes are cut where riders can move.
3. Timing (`transfers_timing`, `transfers_slots`): the stop order of each coach (exact
   enumeration, PyVRP beyond it), then staggered first-pickup times per pickup point;
   a coach without a time is moved to another day or its riders re-seated.

`Plan.stats` also carries two valid lower bounds besides `lower_bound_trips`:
`window_lower_bound` (riders only pool within their date windows) and
`stop_aware_lower_bound` (also: coaches calling at each pickup / drop-off point, divided
by the stops a coach may make), so a plan can be judged against what is achievable.
"""

from __future__ import annotations

import itertools
import math
import time as _time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobmatch import geo
from matching.core.transfers_bounds import interval_lower_bound
from matching.core.transfers_improve import SearchStats, improve
from matching.core.transfers_packing import (
    Coach,
    Context,
    CountyPacker,
    Party,
    alight,
    board,
    can_take,
    lower_bounds,
)
from matching.core.transfers_slots import Scheduler, Slot
from matching.core.transfers_timing import TravelModel, evaluate

PICKUP = "pickup"
DROPOFF = "dropoff"
PLANNED = "planned"
LOCKED = "locked"
BOARDING = "boarding"
DEPARTED = "departed"
FIXED_STATUSES = frozenset({LOCKED, BOARDING, DEPARTED})
TWO_DRIVERS_OVER_KM = 400.0  # reference coach_rules.two_drivers (BUSRULES_2DRV)
# Share of `Params.budget_s` after which the CP-SAT re-packing is skipped (the search of
# the remaining counties is worth more; on an idle machine the whole plan takes less).
EXACT_BUDGET_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class Point:
    """A pickup point (township) or a drop-off point (destination), WGS-ish lat/lng."""

    code: str
    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class Rider:
    """One accepted match that needs a seat.

    `id` is the match id (the seat belongs to the match, not to the person, so a laborer
    re-matched later is a new rider). `earliest_departure` is
    max(laborer.available_from, plan from_date) as the service computed it; the planner
    also never departs before `Params.from_date`. `start_date` is the vacancy's first
    working day: the coach must reach `dropoff` by 22:00 the evening before.
    `household` is a key shared by riders who must ride the same coach (None: alone).
    """

    id: int
    laborer_id: int
    county: str
    pickup: str
    dropoff: str
    city: str
    earliest_departure: date
    start_date: date
    household: str | None = None


@dataclass(frozen=True, slots=True)
class CoachType:
    """A coach size; `seats` excludes the two drivers, `cost` is yuan per trip."""

    key: str
    seats: int
    cost: int


# Illustrative charter prices for a ~1000 km one-way trip (not quotes): 12 m coach,
# 10.5-11 m coach, 8-9 m midibus. Seat counts from reference coach_rules.seat_counts_GK.
DEFAULT_COACH_TYPES: tuple[CoachType, ...] = (
    CoachType("coach-53", 53, 9000),
    CoachType("coach-45", 45, 8200),
    CoachType("coach-35", 35, 7000),
)


@dataclass(frozen=True, slots=True)
class Params:
    """Plan settings. Defaults are the coordinators' rules; see the module docstring."""

    from_date: date
    to_date: date
    max_pickup_stops: int = 3
    max_dropoff_stops: int = 3
    max_departures_per_pickup_per_day: int = 4
    min_gap_minutes: int = 20
    departure_window: tuple[time, time] = (time(6), time(10))
    dwell_minutes: int = 10
    latest_arrival: time = time(geo.LATEST_ARRIVAL_H)
    # Departure times are chosen on this grid (minutes); coarser is faster, finer packs
    # more coaches into the window at one pickup point.
    slot_step_minutes: int = 5
    tz: str = "Asia/Shanghai"
    # Per solver call (PyVRP routing of coaches with more stops than exact enumeration
    # handles). Iteration caps stop the solver first, so results stay deterministic.
    time_limit_s: float = 0.5
    # Whole plan: the improvement phases stop when it is spent (construction always ends).
    budget_s: float = 25.0
    # Stop orders are enumerated exactly up to this many (3 pickups x 3 drop-offs = 36).
    exact_route_max_orders: int = 720
    seed: int = 0
    # Effort of the improvement search (`transfers_improve`), as a multiple of its default
    # number of max-flow evaluations; 0 switches it off. Deterministic: no clock involved.
    search_effort: float = 1.0
    # Processes for that search (forked; 1 = in this process). The result is the same
    # either way: each (county, city) is searched independently and deterministically.
    search_workers: int = 2
    # CP-SAT deterministic time (its work units, about seconds) to re-pack each small
    # (county, city) after the search (`transfers_exact`); 0 switches it off.
    exact_time: float = 1.0


@dataclass(frozen=True, slots=True)
class ExistingTrip:
    """A trip from an earlier plan.

    `status` is `planned` (a hint: keep what still works) or `locked`, `boarding`,
    `departed` (fixed). `stops` are (kind, point code) in order; `seats` maps rider id to
    seat number. `departure` is the first pickup's time.
    """

    id: str
    status: str
    coach: str
    departure: datetime
    county: str
    city: str
    stops: tuple[tuple[str, str], ...]
    seats: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class Stop:
    """One call of a trip: `riders` board at a pickup, alight at a drop-off."""

    kind: str
    point: str
    eta: datetime
    riders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NightStop:
    """The coach is parked from `start` to `end` (02:00-05:00 ban) on the way to a stop.

    `before_stop` indexes `Trip.stops`: the halt is on the leg that ends at that stop.
    """

    start: datetime
    end: datetime
    before_stop: int


@dataclass(frozen=True, slots=True)
class Trip:
    """One coach departure of the plan."""

    key: str
    coach: CoachType
    departure: datetime
    arrival: datetime
    county: str
    city: str
    stops: tuple[Stop, ...]
    seats: dict[int, int]
    night_stops: tuple[NightStop, ...] = ()
    kept_from: str | None = None
    locked: bool = False
    drivers: int = 2
    road_km: float = 0.0
    rider_minutes: int = 0

    @property
    def night_stop(self) -> NightStop | None:
        return self.night_stops[0] if self.night_stops else None


@dataclass(slots=True)
class Plan:
    """The result: trips, riders without a seat (with the reason), and measures."""

    trips: list[Trip]
    unseated: dict[int, str]
    lower_bound_trips: int
    seat_utilization: float
    stats: dict[str, Any] = field(default_factory=dict)


def lower_bound_trips(riders: Iterable[Rider], coach_types: Sequence[CoachType]) -> int:
    """Sum over (county, destination city) of ceil(riders / largest coach seats).

    A coach never mixes counties or cities, so no plan can use fewer coaches; dates, stop
    limits and households only add to it.
    """
    biggest = max(c.seats for c in coach_types)
    groups: dict[tuple[str, str], int] = {}
    for r in riders:
        groups[(r.county, r.city)] = groups.get((r.county, r.city), 0) + 1
    return sum(math.ceil(n / biggest) for n in groups.values())


def strongest_lower_bound(
    plan: Plan,
    riders: Sequence[Rider],
    points: Iterable[Point],
    params: Params,
    coach_types: Sequence[CoachType] = DEFAULT_COACH_TYPES,
) -> int:
    """The interval lower bound (`transfers_bounds`) over the riders `plan` counts in its
    bounds: valid for any plan of these riders, and at least the plan's other bounds.

    Costs seconds on a season, so it is not part of `plan_transfers`; the benchmark calls it.
    """
    planner = _Planner(riders, points, params, coach_types, ())
    planner.unseated = dict(plan.unseated)
    spans = planner._spans(planner._carried())
    bound = interval_lower_bound(
        spans, planner.max_seats, params.max_pickup_stops, params.max_dropoff_stops
    )
    return max(
        bound,
        plan.lower_bound_trips,
        plan.stats.get("window_lower_bound", 0),
        plan.stats.get("stop_aware_lower_bound", 0),
    )


def plan_transfers(
    riders: Sequence[Rider],
    points: Iterable[Point],
    params: Params,
    coach_types: Sequence[CoachType] = DEFAULT_COACH_TYPES,
    existing: Sequence[ExistingTrip] = (),
) -> Plan:
    """Seat every rider on one coach trip or give the reason; see the module docstring.

    Deterministic: the same inputs (in any order) give the same plan, as long as neither a
    solver time limit nor `Params.budget_s` is reached (`stats["budget_hit"]` says so) and
    the CP-SAT re-packing was not skipped for time (`stats["exact_skipped_for_time"]`).
    Raises ValueError on malformed input (duplicate rider ids, unknown coach type or a
    fixed trip with an unknown point), never on riders that merely cannot be seated.
    """
    return _Planner(riders, points, params, coach_types, existing).run()


class _Planner:
    """One planning run: input mapping, the packing/scheduling phases, output assembly."""

    def __init__(
        self,
        riders: Sequence[Rider],
        points: Iterable[Point],
        params: Params,
        coach_types: Sequence[CoachType],
        existing: Sequence[ExistingTrip],
    ) -> None:
        self.t_start = _time.perf_counter()
        if params.to_date < params.from_date:
            raise ValueError("to_date is before from_date")
        if not coach_types:
            raise ValueError("at least one coach type is needed")
        self.params = params
        self.tz = ZoneInfo(params.tz)
        self.coach_types = sorted(coach_types, key=lambda c: (c.seats, c.cost, c.key))
        self.types_by_key = {c.key: c for c in coach_types}
        self.max_seats = max(c.seats for c in coach_types)
        by_code: dict[str, Point] = {}
        for pt in points:
            by_code[pt.code] = pt
        self.codes = sorted(by_code)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.epoch = datetime.combine(params.from_date, time(0))
        self.model = TravelModel(
            [(by_code[c].lat, by_code[c].lng) for c in self.codes],
            self.epoch,
            params.dwell_minutes,
        )
        self.n_days = (params.to_date - params.from_date).days + 1
        window = (_minute_of(params.departure_window[0]), _minute_of(params.departure_window[1]))
        self.ctx = Context(
            model=self.model,
            codes=self.codes,
            n_days=self.n_days,
            window=window,
            step=params.slot_step_minutes,
            max_pickups=params.max_pickup_stops,
            max_dropoffs=params.max_dropoff_stops,
            max_departures=params.max_departures_per_pickup_per_day,
            min_gap=params.min_gap_minutes,
            max_seats=self.max_seats,
            exact_max_orders=params.exact_route_max_orders,
            solver_time_limit_s=params.time_limit_s,
            seed=params.seed,
            deadline_s=self.t_start + params.budget_s,
        )
        ids = [r.id for r in riders]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate rider ids")
        self.riders = sorted(riders, key=lambda r: r.id)
        self.by_id = {r.id: r for r in self.riders}
        self._county_points: dict[str, set[int]] = {}
        self._city_points: dict[str, set[int]] = {}
        for r in self.riders:
            if r.pickup in self.index and r.dropoff in self.index:
                self._county_points.setdefault(r.county, set()).add(self.index[r.pickup])
                self._city_points.setdefault(r.city, set()).add(self.index[r.dropoff])
        self._worst_offset: dict[tuple[str, str], int] = {}
        self._windows: dict[int, tuple[int, int, int] | str] = {}
        self.existing = sorted(existing, key=lambda t: (t.departure.isoformat(), t.id))
        self.unseated: dict[int, str] = {}
        self.coaches: list[Coach] = []
        self.seat_hint: dict[int, int] = {}  # rider id -> seat kept from an existing trip
        self.ghosts: dict[int, dict[int, int]] = {}  # coach uid -> seats of absent riders
        self.timings: dict[str, float] = {}

    # -- orchestration ---------------------------------------------------------------------
    def run(self) -> Plan:
        t = _time.perf_counter()
        free = self._locked_trips()
        parties = self._parties(free)
        self._fill_locked(parties)
        parties = self._kept_trips(parties)
        self.timings["prepare_s"] = _time.perf_counter() - t

        t = _time.perf_counter()
        counties = sorted({p.county for p in parties} | {c.county for c in self.coaches})
        removed = moved = 0
        packers: list[CountyPacker] = []
        for county in counties:
            own = [p for p in parties if p.county == county]
            in_horizon = [
                c for c in self.coaches if c.county == county and 0 <= c.day < self.n_days
            ]
            packer = CountyPacker(self.ctx, county, own, in_horizon)
            packer.dispatch()
            packers.append(packer)
        self.timings["dispatch_s"] = _time.perf_counter() - t
        t = _time.perf_counter()
        for packer in packers:
            removed += packer.eliminate()
        self.timings["eliminate_s"] = _time.perf_counter() - t
        t = _time.perf_counter()
        search = SearchStats()
        self.ctx.exact_time = self.params.exact_time
        self.ctx.exact_deadline_s = self.t_start + EXACT_BUDGET_SHARE * self.params.budget_s
        if self.params.search_effort > 0:
            improve(
                self.ctx,
                packers,
                seed=self.params.seed,
                effort=self.params.search_effort,
                workers=self.params.search_workers,
                stats=search,
            )
        self.timings["search_s"] = _time.perf_counter() - t
        t = _time.perf_counter()
        settled = sum(packer.settle_days() for packer in packers)
        sizes = [c.seats for c in self.coach_types]
        for packer in packers:
            moved += packer.downsize(sizes)
        self.timings["downsize_s"] = _time.perf_counter() - t
        outside = [c for c in self.coaches if not 0 <= c.day < self.n_days]
        self.coaches = outside + [c for packer in packers for c in packer.coaches]
        self.ctx.counters["coaches_eliminated"] = removed
        self.ctx.counters["parties_moved_for_smaller_coach"] = moved
        self.ctx.counters["coaches_moved_to_a_later_day"] = settled
        self.ctx.counters.update(search.as_counters())

        t = _time.perf_counter()
        scheduler = self._schedule()
        self.timings["schedule_s"] = _time.perf_counter() - t

        for party in parties:
            if party.coach is None:
                for rid in party.riders:
                    self.unseated[rid] = party.reason or "no coach could take this rider"
        t = _time.perf_counter()
        plan = self._output(scheduler)
        self.timings["output_s"] = _time.perf_counter() - t
        plan.stats["seconds"] = round(_time.perf_counter() - self.t_start, 3)
        plan.stats["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        return plan

    # -- inputs ------------------------------------------------------------------------------
    def _window(self, rider: Rider) -> tuple[int, int, int] | str:
        """(first day, planned last day, last feasible day) for a rider, or why none.

        The planned last day is the last *safe* day (any coach of the county and city is on
        time); the last feasible day may add a same-evening arrival that needs an early
        departure, used only when the safe days are exhausted.
        """
        win = self._windows.get(rider.id)
        if win is None:
            win = self._windows[rider.id] = self._compute_window(rider)
        return win

    def _compute_window(self, rider: Rider) -> tuple[int, int, int] | str:
        p = self.params
        if rider.pickup not in self.index:
            return f"unknown pickup point {rider.pickup}"
        if rider.dropoff not in self.index:
            return f"unknown drop-off point {rider.dropoff}"
        if rider.earliest_departure > p.to_date:
            return (
                f"no departure date inside the window: available from "
                f"{rider.earliest_departure.isoformat()}, the plan ends {p.to_date.isoformat()}"
            )
        lo = max((rider.earliest_departure - p.from_date).days, 0)
        last = min(self._last_day(rider), self.n_days - 1)
        if last < lo:
            return (
                f"cannot arrive by {p.latest_arrival.strftime('%H:%M')} on "
                f"{(rider.start_date - timedelta(days=1)).isoformat()} (start "
                f"{rider.start_date.isoformat()}) from any departure between "
                f"{max(rider.earliest_departure, p.from_date).isoformat()} and "
                f"{p.to_date.isoformat()}"
            )
        hi = min(self._safe_day(rider), last)
        return lo, (hi if hi >= lo else last), last

    def _deadline(self, rider: Rider) -> int:
        day = (rider.start_date - timedelta(days=1) - self.params.from_date).days
        return day * 1440 + _minute_of(self.params.latest_arrival)

    def _safe_day(self, rider: Rider) -> int:
        """Last day from which *any* coach of the rider's county and city is on time.

        Worst case: first pickup at the end of the departure window, the most stops allowed,
        the longest legs between the points this county and city use, a night halt. Riders
        are planned up to this day, so the tight same-evening arrivals (which need an early
        departure slot at a crowded point) are only used when nothing else is left.
        """
        key = (rider.county, rider.city)
        offset = self._worst_offset.get(key)
        if offset is None:
            m, ctx = self.model, self.ctx
            pickups = sorted(self._county_points.get(rider.county, set()))
            dropoffs = sorted(self._city_points.get(rider.city, set()))
            np_, nd = min(len(pickups), ctx.max_pickups), min(len(dropoffs), ctx.max_dropoffs)
            total = m.dwell * (np_ + nd - 1)
            total += (np_ - 1) * max((m.leg(a, b) for a in pickups for b in pickups), default=0)
            total += max((m.leg(a, b) for a in pickups for b in dropoffs), default=0)
            total += (nd - 1) * max((m.leg(a, b) for a in dropoffs for b in dropoffs), default=0)
            offset = m.arrive(ctx.window[1], total)
            self._worst_offset[key] = offset
            ctx.safe_offset[key] = offset
        return (self._deadline(rider) - offset) // 1440

    def _last_day(self, rider: Rider) -> int:
        """Last day a coach straight from pickup to drop-off, leaving first thing, is on time.

        The night ban repeats daily, so the arrival offset from a day's midnight is the same
        every day and the last day follows by division.
        """
        p, d = self.index[rider.pickup], self.index[rider.dropoff]
        offset = self.model.arrive(self.ctx.window[0] + self.model.dwell, self.model.leg(p, d))
        return (self._deadline(rider) - offset) // 1440

    def _locked_trips(self) -> set[int]:
        """Build coaches for fixed trips; returns the rider ids still to be seated."""
        free = {r.id for r in self.riders}
        for trip in self.existing:
            if trip.status not in FIXED_STATUSES:
                continue
            if trip.coach not in self.types_by_key:
                raise ValueError(f"trip {trip.id}: unknown coach type {trip.coach}")
            for kind, code in trip.stops:
                if code not in self.index:
                    raise ValueError(f"trip {trip.id}: unknown point {code}")
                if kind not in (PICKUP, DROPOFF):
                    raise ValueError(f"trip {trip.id}: unknown stop kind {kind}")
            start = self.model.to_minute(self._local(trip.departure))
            seats = self.types_by_key[trip.coach].seats
            present = {rid: s for rid, s in trip.seats.items() if rid in free}
            ghosts = {rid: s for rid, s in trip.seats.items() if rid not in self.by_id}
            for rid in trip.seats:
                if rid in self.by_id and rid not in free:
                    raise ValueError(f"rider {rid} holds seats on two fixed trips")
            capacity = seats - len(ghosts) if trip.status == LOCKED else len(present)
            coach = Coach(
                uid=self.ctx.new_uid(),
                county=trip.county,
                city=trip.city,
                day=start // 1440,
                capacity=capacity,
                locked=True,
                kept_from=trip.id,
                min_seats=seats,
                fixed_pickups=tuple(self.index[c] for k, c in trip.stops if k == PICKUP),
                fixed_dropoffs=tuple(self.index[c] for k, c in trip.stops if k == DROPOFF),
                preferred_start=start,
            )
            if 0 <= coach.day < self.n_days:
                self.ctx.book(coach.fixed_pickups, coach.day, +1)
            for rid in sorted(present):
                rider = self.by_id[rid]
                party = self._single_party(rider, pinned=True)
                coach.parties.append(party)
                coach.load += 1
                party.coach = coach
                self.seat_hint[rid] = present[rid]
                free.discard(rid)
            self.ghosts[coach.uid] = ghosts
            self.coaches.append(coach)
        return free

    def _single_party(self, rider: Rider, *, pinned: bool = False) -> Party:
        win = self._window(rider)
        lo, hi, last = win if isinstance(win, tuple) else (0, -1, -1)
        p, d = self.index.get(rider.pickup), self.index.get(rider.dropoff)
        known = p is not None and d is not None
        return Party(
            idx=rider.id,
            riders=(rider.id,),
            county=rider.county,
            city=rider.city,
            flows={(p, d): 1} if known else {},
            lo=lo,
            hi=hi,
            last=last,
            deadlines={d: self._deadline(rider)} if known else {},
            household=rider.household,
            pinned=pinned,
        )

    def _parties(self, free: set[int]) -> list[Party]:
        """Group free riders into parties (households) with their common window."""
        households: dict[str, list[Rider]] = {}
        singles: list[Rider] = []
        for rider in self.riders:
            if rider.id not in free:
                continue
            if rider.household is None:
                singles.append(rider)
            else:
                households.setdefault(rider.household, []).append(rider)
        parties: list[Party] = []
        for rider in singles:
            win = self._window(rider)
            if isinstance(win, str):
                self.unseated[rider.id] = win
                continue
            party = self._single_party(rider)
            parties.append(party)
        for key in sorted(households):
            members = households[key]
            party_or_reason = self._household(key, members)
            if isinstance(party_or_reason, str):
                for r in members:
                    self.unseated[r.id] = party_or_reason
            else:
                parties.append(party_or_reason)
        parties.sort(key=lambda p: p.idx)
        return parties

    def _household(self, key: str, members: list[Rider]) -> Party | str:
        """One party for a household, or the reason its members cannot share a coach."""
        ctx = self.ctx
        if len({(r.county, r.city) for r in members}) > 1:
            return (
                f"household {key}: members travel from different counties or to different "
                "cities, so no single coach can carry them together"
            )
        windows = []
        for r in members:
            win = self._window(r)
            if isinstance(win, str):
                return f"household {key}: member {r.id}: {win}"
            windows.append(win)
        lo = max(w[0] for w in windows)
        last = min(w[2] for w in windows)
        hi = min(w[1] for w in windows)
        if hi < lo:
            hi = last
        flows: dict[tuple[int, int], int] = {}
        deadlines: dict[int, int] = {}
        for r in members:
            f = (self.index[r.pickup], self.index[r.dropoff])
            flows[f] = flows.get(f, 0) + 1
            limit = self._deadline(r)
            deadlines[f[1]] = min(deadlines.get(f[1], limit), limit)
        pickups = {p for p, _ in flows}
        dropoffs = {d for _, d in flows}
        if len(members) > self.max_seats:
            return f"household {key}: {len(members)} members exceed the largest coach"
        if len(pickups) > ctx.max_pickups or len(dropoffs) > ctx.max_dropoffs:
            return (
                f"household {key}: members need {len(pickups)} pickup and {len(dropoffs)} "
                "drop-off points, more than one coach may serve"
            )
        while last >= lo and not ctx.timing_ok(flows, deadlines, last):
            last -= 1
        hi = min(hi, last)
        while hi >= lo and not ctx.timing_ok(flows, deadlines, hi):
            hi -= 1
        if hi < lo:
            return (
                f"household {key}: no common departure day on which every member "
                "arrives by the evening before their start date"
            )
        return Party(
            idx=min(r.id for r in members),
            riders=tuple(sorted(r.id for r in members)),
            county=members[0].county,
            city=members[0].city,
            flows=flows,
            lo=lo,
            hi=hi,
            last=last,
            deadlines=deadlines,
            household=key,
        )

    def _fill_locked(self, parties: list[Party]) -> None:
        """Offer the empty seats of locked trips first, earliest deadline first.

        Household members of riders already on a fixed trip may only join that trip.
        """
        order = sorted(parties, key=lambda p: (p.hi, p.idx))
        fixed = [c for c in self.coaches if c.locked]
        joined: dict[str, Coach] = {}
        for coach in fixed:
            for p in coach.parties:
                if p.household is not None:
                    joined.setdefault(p.household, coach)
        for party in order:
            coach = joined.get(party.household) if party.household is not None else None
            if coach is None:
                continue
            if 0 <= coach.day < self.n_days and can_take(self.ctx, coach, party):
                board(self.ctx, coach, party)
            else:
                party.reason = (
                    f"household {party.household}: other members are on fixed trip "
                    f"{coach.kept_from}, which cannot take these members"
                )
        for coach in fixed:
            if not 0 <= coach.day < self.n_days:
                continue
            for party in order:
                if coach.load >= coach.capacity:
                    break
                if (
                    party.coach is None
                    and party.reason is None
                    and can_take(self.ctx, coach, party)
                ):
                    board(self.ctx, coach, party)

    def _kept_trips(self, parties: list[Party]) -> list[Party]:
        """Keep planned trips (hints) for parties seated together on one of them."""
        seat_of: dict[int, tuple[ExistingTrip, int]] = {}
        for trip in self.existing:
            if trip.status != PLANNED:
                continue
            for rid, seat in trip.seats.items():
                seat_of.setdefault(rid, (trip, seat))
        keep: dict[str, list[Party]] = {}
        for party in parties:
            if party.coach is not None or party.reason is not None:
                continue
            trips = {seat_of[r][0].id if r in seat_of else None for r in party.riders}
            if len(trips) == 1 and None not in trips:
                keep.setdefault(next(iter(trips)), []).append(party)
        for trip in self.existing:
            if trip.status != PLANNED or trip.id not in keep:
                continue
            start = self.model.to_minute(self._local(trip.departure))
            coach = Coach(
                uid=self.ctx.new_uid(),
                county=trip.county,
                city=trip.city,
                day=start // 1440,
                capacity=self.max_seats,
                kept_from=trip.id,
                preferred_start=start,
            )
            if not 0 <= coach.day < self.n_days:
                continue
            for party in keep[trip.id]:
                planned_hi = party.hi
                if party.hi < coach.day <= party.last:
                    # The earlier plan used a same-evening arrival: still allowed if on time.
                    party.hi = party.last
                if can_take(self.ctx, coach, party):
                    board(self.ctx, coach, party)
                    party.pinned = True
                    for rid in party.riders:
                        self.seat_hint[rid] = seat_of[rid][1]
                else:
                    party.hi = planned_hi
            if coach.parties:
                seats = [self.seat_hint[r] for p in coach.parties for r in p.riders]
                if len(set(seats)) != len(seats) or max(seats) > self.max_seats:
                    # A corrupt hint (two riders on one seat): keep the trip, renumber seats.
                    for p in coach.parties:
                        for r in p.riders:
                            self.seat_hint.pop(r, None)
                else:
                    coach.min_seats = max(seats)
                self.coaches.append(coach)
        return parties

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz)
        return moment.replace(tzinfo=None)

    # -- scheduling --------------------------------------------------------------------------
    def _schedule(self) -> Scheduler:
        scheduler = Scheduler(self.ctx)
        by_day: dict[tuple[str, int], list[Coach]] = {}
        for coach in self.coaches:
            by_day.setdefault((coach.county, coach.day), []).append(coach)
        failed: list[Coach] = []
        for key in sorted(by_day):
            coaches = by_day[key]
            for coach in coaches:
                if coach.locked:
                    scheduler.place_locked(coach)
            rest = [c for c in coaches if not c.locked]
            kept = sorted((c for c in rest if c.kept_from), key=lambda c: c.uid)
            new = sorted((c for c in rest if not c.kept_from), key=scheduler.latest_key)
            for coach in kept + new:
                if scheduler.place(coach) is None:
                    failed.append(coach)
        for coach in failed:
            self._repair(coach, scheduler)
        self.coaches = [c for c in self.coaches if c.parties or c.locked]
        return scheduler

    def _repair(self, coach: Coach, scheduler: Scheduler) -> None:
        """A coach without a departure time: move it to another day, else re-seat its parties."""
        ctx = self.ctx
        self.ctx.counters["repairs"] = self.ctx.counters.get("repairs", 0) + 1
        lo = max(p.lo for p in coach.parties)
        hi = min(p.hi for p in coach.parties)
        pickups = sorted(coach.pickups)
        old = coach.day
        for day in sorted(range(lo, hi + 1), key=lambda d: (abs(d - old), -d)):
            if day == old:
                continue
            ctx.book(pickups, old, -1)
            if all(ctx.departures_left(p, day) > 0 for p in pickups) and ctx.timing_ok(
                coach.flows(), coach.deadlines(), day
            ):
                ctx.book(pickups, day, +1)
                coach.day = day
                if scheduler.place(coach) is not None:
                    return
                ctx.book(pickups, day, -1)
                coach.day = old
            ctx.book(pickups, old, +1)
        for party in list(coach.parties):
            alight(ctx, coach, party)
            if party.pinned:
                party.pinned = False
                for rid in party.riders:
                    self.seat_hint.pop(rid, None)
            if not self._reseat(party, scheduler):
                party.reason = (
                    "no departure slot: no time in the departure window keeps "
                    f"{ctx.min_gap} minutes from other coaches at the pickup point and "
                    "still arrives in time, on any day of the window"
                )

    def _reseat(self, party: Party, scheduler: Scheduler) -> bool:
        ctx = self.ctx
        targets = [
            s.coach
            for s in sorted(scheduler.slots.values(), key=lambda s: s.coach.uid)
            if s.coach.city == party.city and s.coach.county == party.county
        ]
        for target in targets:
            if target.locked:
                if can_take(ctx, target, party):
                    board(ctx, target, party)
                    scheduler.slots[target.uid] = _reslot(ctx, scheduler.slots[target.uid])
                    return True
                continue
            if not (party.pickups <= target.pickups and party.dropoffs <= target.dropoffs):
                continue
            if not can_take(ctx, target, party):
                continue
            scheduler.unplace(target)
            board(ctx, target, party)
            if scheduler.place(target) is not None:
                return True
            alight(ctx, target, party)
            restored = scheduler.place(target)
            assert restored is not None, "a coach that had a time must get one back"
        for day in range(party.hi, party.lo - 1, -1):
            coach = Coach(
                uid=ctx.new_uid(),
                county=party.county,
                city=party.city,
                day=day,
                capacity=self.max_seats,
            )
            if not can_take(ctx, coach, party):
                continue
            board(ctx, coach, party)
            if scheduler.place(coach) is not None:
                self.coaches.append(coach)
                return True
            alight(ctx, coach, party)
        return False

    # -- output ------------------------------------------------------------------------------
    def _coach_type(self, coach: Coach) -> CoachType:
        if coach.locked:
            existing = next(t for t in self.existing if t.id == coach.kept_from)
            return self.types_by_key[existing.coach]
        need = max(coach.load, coach.min_seats)
        fitting = [c for c in self.coach_types if c.seats >= need]
        return min(fitting, key=lambda c: (c.cost, c.seats, c.key))

    def _output(self, scheduler: Scheduler) -> Plan:
        trips: list[Trip] = []
        used_keys = {t.id for t in self.existing}
        counters: dict[tuple[str, str, int], int] = {}
        slots = sorted(
            scheduler.slots.values(),
            key=lambda s: (s.itinerary.departure, s.coach.county, s.coach.city, s.coach.uid),
        )
        for slot in slots:
            coach = slot.coach
            if not coach.parties and not coach.locked:
                continue
            trips.append(self._trip(slot, counters, used_keys))
        trips.sort(key=lambda t: (t.departure, t.county, t.city, t.key))
        seated = sum(len(t.seats) for t in trips)
        seats = sum(t.coach.seats for t in trips)
        carried = self._carried()
        lb = lower_bound_trips(carried, self.coach_types)
        spans = self._spans(carried)
        window_lb, stop_lb = lower_bounds(
            spans, self.max_seats, self.ctx.max_pickups, self.ctx.max_dropoffs
        )
        stats: dict[str, Any] = {
            "riders": len(self.riders),
            "seated": sum(1 for t in trips for r in t.seats if r in self.by_id),
            "unseated": len(self.unseated),
            "trips": len(trips),
            "lower_bound_trips": lb,
            "ratio": round(len(trips) / lb, 4) if lb else None,
            "window_lower_bound": window_lb,
            "stop_aware_lower_bound": stop_lb,
            "riders_per_trip": round(seated / len(trips), 2) if trips else 0.0,
            "cost_yuan": sum(t.coach.cost for t in trips),
            "rider_hours": round(sum(t.rider_minutes for t in trips) / 60, 1),
            "night_stops": sum(1 for t in trips if t.night_stops),
            "coaches_by_type": _count(t.coach.key for t in trips),
            "kept_trips": sum(1 for t in trips if t.kept_from and not t.locked),
            "locked_trips": sum(1 for t in trips if t.locked),
            **self.ctx.counters,
        }
        return Plan(
            trips=trips,
            unseated=dict(sorted(self.unseated.items())),
            lower_bound_trips=lb,
            seat_utilization=round(seated / seats, 4) if seats else 0.0,
            stats=stats,
        )

    def _carried(self) -> list[Rider]:
        """Riders the lower bounds count: seated, or unseated only for want of a slot."""
        return [r for r in self.riders if r.id not in self.unseated or self._late_fail(r)]

    def _spans(self, riders: Iterable[Rider]) -> list[tuple[str, str, int, int, int, int]]:
        """(county, city, pickup, drop-off, first day, last feasible day) per rider."""
        spans = []
        for r in riders:
            if r.pickup in self.index and r.dropoff in self.index:
                lo = max((r.earliest_departure - self.params.from_date).days, 0)
                hi = min(self._last_day(r), self.n_days - 1)
                if hi >= lo:
                    spans.append(
                        (r.county, r.city, self.index[r.pickup], self.index[r.dropoff], lo, hi)
                    )
        return spans

    def _late_fail(self, rider: Rider) -> bool:
        """Riders unseated for lack of a departure slot still count in the lower bound."""
        return self.unseated[rider.id].startswith(("no departure left", "no departure slot"))

    def _trip(self, slot: Slot, counters: dict[tuple[str, str, int], int], used: set[str]) -> Trip:
        coach, it = slot.coach, slot.itinerary
        ctype = self._coach_type(coach)
        stops_idx = it.stops
        pos = {pt: i for i, pt in enumerate(stops_idx)}
        boarding: dict[int, list[int]] = {}
        alighting: dict[int, list[int]] = {}
        riders_on: list[Rider] = []
        for party in coach.parties:
            for rid in party.riders:
                rider = self.by_id[rid]
                riders_on.append(rider)
                p, d = self.index[rider.pickup], self.index[rider.dropoff]
                if p in pos and pos[p] < it.n_pickups:
                    boarding.setdefault(pos[p], []).append(rid)
                if d in pos and pos[d] >= it.n_pickups:
                    alighting.setdefault(pos[d], []).append(rid)
        seats = self._seats(coach, ctype, riders_on, pos)
        stops = []
        for i, pt in enumerate(stops_idx):
            kind = PICKUP if i < it.n_pickups else DROPOFF
            who = boarding.get(i, []) if kind == PICKUP else alighting.get(i, [])
            stops.append(Stop(kind, self.codes[pt], self._aware(it.etas[i]), tuple(sorted(who))))
        halts = tuple(
            NightStop(self._aware(start), self._aware(end), i) for i, start, end in it.halts
        )
        km = sum(self.model.km(a, b) for a, b in itertools.pairwise(stops_idx))
        if coach.kept_from is not None:
            key = coach.kept_from
        else:
            group = (coach.county, coach.city, coach.day)
            n = counters.get(group, 0)
            while True:
                n += 1
                day = self.params.from_date + timedelta(days=coach.day)
                key = f"{coach.county}-{coach.city}-{day:%Y%m%d}-{n:02d}"
                if key not in used:
                    break
            counters[group] = n
            used.add(key)
        real = evaluate(self.model, it.stops, it.n_pickups, coach.flows(), it.departure)
        return Trip(
            key=key,
            coach=ctype,
            departure=self._aware(it.etas[0]),
            arrival=self._aware(it.etas[-1]),
            county=coach.county,
            city=coach.city,
            stops=tuple(stops),
            seats=seats,
            night_stops=halts,
            kept_from=coach.kept_from,
            locked=coach.locked,
            drivers=2 if km > TWO_DRIVERS_OVER_KM else 1,
            road_km=round(km, 1),
            rider_minutes=real.rider_minutes,
        )

    def _seats(
        self, coach: Coach, ctype: CoachType, riders_on: list[Rider], pos: dict[int, int]
    ) -> dict[int, int]:
        """Seat numbers: kept ones stay; newcomers take the lowest free seats, households
        next to each other, in boarding order."""
        seats: dict[int, int] = dict(self.ghosts.get(coach.uid, {}))
        for r in riders_on:
            if r.id in self.seat_hint:
                seats[r.id] = self.seat_hint[r.id]
        taken = set(seats.values())
        free = (s for s in range(1, ctype.seats + 1) if s not in taken)
        newcomers = sorted(
            (r for r in riders_on if r.id not in seats),
            key=lambda r: (pos.get(self.index[r.pickup], 99), r.household or "", r.id),
        )
        for r in newcomers:
            seats[r.id] = next(free)
        return dict(sorted(seats.items()))

    def _aware(self, minute: int) -> datetime:
        return self.model.to_datetime(minute).replace(tzinfo=self.tz)


def _minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _count(keys: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in keys:
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


def _reslot(ctx: Context, slot: Slot) -> Slot:
    """Recompute a locked trip's itinerary after it took a new party (same order, time)."""
    coach = slot.coach
    it = evaluate(
        ctx.model,
        slot.itinerary.stops,
        slot.itinerary.n_pickups,
        coach.flows(),
        slot.itinerary.departure,
    )
    return Slot(coach, it)
