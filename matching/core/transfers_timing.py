"""Itinerary timing for coach planning: leg durations, the night stop and stop order.

Everything here works in whole minutes since the plan *epoch* (local midnight of the plan's
`from_date` in Asia/Shanghai). China has no daylight saving time, so a minute count maps one
to one onto wall-clock time and `minute % 1440` is the minute of the day; the night ban of
`jobmatch.geo` (02:00-05:00) is therefore the same minutes every day.

Travel times come only from `jobmatch.geo` (the project's one documented model):
`coach_hours` for every leg, rounded *up* to whole minutes so an ETA is never optimistic,
and `arrival_after` to move a leg across the 02:00-05:00 ban. A coach halts `dwell` minutes
at every stop (boarding or alighting); the ban forbids driving, not boarding, so only the
legs go through `arrival_after`.

Stop order inside one coach is small (at most `max_pickup_stops` pickups followed by at most
`max_dropoff_stops` drop-offs, 36 orders with the default 3 + 3): it is enumerated exactly,
which is optimal, deterministic and takes microseconds. With raised limits, pickups that
share coordinates are first merged into one place; only when even that is too many orders
does PyVRP solve it as a pickup-and-delivery problem under a time limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobmatch import geo

MINUTES_PER_DAY = 1440
BAN_START = geo.NIGHT_BAN_START_H * 60
BAN_END = geo.NIGHT_BAN_END_H * 60
# A leg duration PyVRP must never take (drive back from Guangdong to pick someone up).
_FORBIDDEN = 10**7


class TravelModel:
    """Leg durations and arrival times between plan points, cached for one plan.

    `coords[i]` is the (lat, lng) of point index `i`. Caching matters: one season has a few
    hundred distinct legs but hundreds of thousands of ETA evaluations.
    """

    def __init__(self, coords: Sequence[tuple[float, float]], epoch: datetime, dwell: int):
        self._coords = list(coords)
        self._epoch = epoch.replace(tzinfo=None)
        self.dwell = dwell
        self._legs: dict[tuple[int, int], int] = {}
        self._km: dict[tuple[int, int], float] = {}
        self._arrivals: dict[tuple[int, int], int] = {}

    def leg(self, a: int, b: int) -> int:
        """Driving minutes from point `a` to point `b` (breaks included, rounded up)."""
        if a == b:
            return 0
        key = (a, b)
        minutes = self._legs.get(key)
        if minutes is None:
            (la, ga), (lb, gb) = self._coords[a], self._coords[b]
            minutes = math.ceil(geo.coach_hours(la, ga, lb, gb) * 60 - 1e-9)
            self._legs[key] = minutes
        return minutes

    def coords(self, a: int) -> tuple[float, float]:
        return self._coords[a]

    def km(self, a: int, b: int) -> float:
        """Road kilometres from `a` to `b` (for the two-driver rule)."""
        key = (a, b)
        value = self._km.get(key)
        if value is None:
            (la, ga), (lb, gb) = self._coords[a], self._coords[b]
            value = 0.0 if a == b else geo.road_km(la, ga, lb, gb)
            self._km[key] = value
        return value

    def arrive(self, depart: int, minutes: int) -> int:
        """Arrival minute of a leg of `minutes` driving that leaves at minute `depart`.

        Delegates to `geo.arrival_after`, so the 02:00-05:00 halt is the project's rule.
        """
        if minutes == 0:
            return depart
        key = (depart, minutes)
        value = self._arrivals.get(key)
        if value is None:
            start = self._epoch + timedelta(minutes=depart)
            end = geo.arrival_after(start, minutes / 60)
            value = round((end - self._epoch).total_seconds() / 60)
            self._arrivals[key] = value
        return value

    def etas(self, stops: Sequence[int], t0: int) -> list[int]:
        """Arrival minute at every stop of `stops` when the first stop is reached at `t0`."""
        out = [t0]
        for prev, cur in itertools.pairwise(stops):
            out.append(self.arrive(out[-1] + self.dwell, self.leg(prev, cur)))
        return out

    def to_datetime(self, minute: int) -> datetime:
        """Naive local wall-clock time of a plan minute."""
        return self._epoch + timedelta(minutes=minute)

    def to_minute(self, moment: datetime) -> int:
        """Plan minute of a naive local wall-clock time."""
        return round((moment.replace(tzinfo=None) - self._epoch).total_seconds() / 60)


def night_halts(depart: int, minutes: int) -> list[tuple[int, int]]:
    """The (start, end) minutes a leg spends parked because of the 02:00-05:00 ban.

    Mirrors `geo.arrival_after` step by step so the itinerary can say *where* the coach
    waits; `TravelModel.arrive` stays the authority for the arrival time itself.
    """
    halts: list[tuple[int, int]] = []
    now, remaining = depart, minutes
    while remaining > 0:
        day = now - now % MINUTES_PER_DAY
        ban_start, ban_end = day + BAN_START, day + BAN_END
        if ban_start <= now < ban_end:
            halts.append((now, ban_end))
            now = ban_end
            continue
        next_ban = ban_start if now < ban_start else ban_start + MINUTES_PER_DAY
        step = min(remaining, next_ban - now)
        now += step
        remaining -= step
    return halts


@dataclass(frozen=True, slots=True)
class Itinerary:
    """A stop order with its ETAs for one departure minute `etas[0]`."""

    stops: tuple[int, ...]
    n_pickups: int
    etas: tuple[int, ...]
    rider_minutes: int
    halts: tuple[tuple[int, int, int], ...]  # (index of the stop driven to, start, end)

    @property
    def departure(self) -> int:
        return self.etas[0]


def evaluate(
    model: TravelModel,
    stops: Sequence[int],
    n_pickups: int,
    flows: Mapping[tuple[int, int], int],
    t0: int,
) -> Itinerary:
    """ETAs, rider-minutes on board and night halts of one stop order leaving at `t0`."""
    etas = model.etas(stops, t0)
    at = dict(zip(stops, etas, strict=True))
    rider_minutes = sum(n * (at[d] - at[p]) for (p, d), n in flows.items() if p in at and d in at)
    halts: list[tuple[int, int, int]] = []
    for i in range(1, len(stops)):
        leave = etas[i - 1] + model.dwell
        for start, end in night_halts(leave, model.leg(stops[i - 1], stops[i])):
            halts.append((i, start, end))
    return Itinerary(tuple(stops), n_pickups, tuple(etas), rider_minutes, tuple(halts))


def meets(itinerary: Itinerary, deadlines: Mapping[int, int]) -> bool:
    """True when every drop-off is reached no later than its deadline minute."""
    at = dict(zip(itinerary.stops, itinerary.etas, strict=True))
    return all(at[d] <= limit for d, limit in deadlines.items())


def best_itinerary(
    model: TravelModel,
    flows: Mapping[tuple[int, int], int],
    deadlines: Mapping[int, int],
    t0: int,
    *,
    exact_max_orders: int,
    pyvrp_time_limit_s: float,
    seed: int,
    counters: dict[str, int] | None = None,
) -> Itinerary | None:
    """The stop order with least rider time that meets every deadline when leaving at `t0`.

    `flows[(pickup, dropoff)]` counts riders. Ties break on the order itself (point indices
    follow sorted point codes) so the answer is deterministic. Returns None when no order
    meets the deadlines.
    """
    pickups = sorted({p for p, _ in flows})
    dropoffs = sorted({d for _, d in flows})
    orders = math.factorial(len(pickups)) * math.factorial(len(dropoffs))
    if orders <= exact_max_orders:
        return _enumerate(model, flows, deadlines, t0, itertools.permutations(pickups), dropoffs)
    # Points sharing coordinates (townships placed at their county seat) are one place:
    # visit them back to back, fewest boarders first (each later stop's dwell is ridden by
    # everyone already aboard), and enumerate only the order of the places.
    places = _places(model, pickups, flows)
    grouped = math.factorial(len(places)) * math.factorial(len(dropoffs))
    if grouped <= exact_max_orders:
        pickup_orders = (
            tuple(p for place in perm for p in place) for perm in itertools.permutations(places)
        )
        return _enumerate(model, flows, deadlines, t0, pickup_orders, dropoffs)
    if counters is not None:
        counters["pyvrp_calls"] = counters.get("pyvrp_calls", 0) + 1
    order = pyvrp_order(model, flows, deadlines, t0, time_limit_s=pyvrp_time_limit_s, seed=seed)
    for stops in (order, _fallback_order(flows, deadlines)):
        if stops is None:
            continue
        n_p = len(pickups)
        it = evaluate(model, stops, n_p, flows, t0)
        if meets(it, deadlines):
            return it
    return None


def order_exists(
    model: TravelModel,
    flows: Mapping[tuple[int, int], int],
    deadlines: Mapping[int, int],
    t0: int,
    *,
    exact_max_orders: int,
    pyvrp_time_limit_s: float,
    seed: int,
    counters: dict[str, int] | None = None,
) -> bool:
    """Whether some stop order leaving at `t0` meets every deadline.

    The same answer as `best_itinerary(...) is not None`, found faster: packing asks this
    hundreds of thousands of times, and it needs no rider time, night halts or best order -
    only ETAs, and it stops at the first order that works (drop-offs by deadline first).
    """
    pickups = sorted({p for p, _ in flows})
    dropoffs = sorted({d for _, d in flows}, key=lambda d: (deadlines.get(d, 1 << 60), d))
    orders = math.factorial(len(pickups)) * math.factorial(len(dropoffs))
    if orders > exact_max_orders:
        return (
            best_itinerary(
                model,
                flows,
                deadlines,
                t0,
                exact_max_orders=exact_max_orders,
                pyvrp_time_limit_s=pyvrp_time_limit_s,
                seed=seed,
                counters=counters,
            )
            is not None
        )
    checks = [(i, deadlines[d]) for i, d in enumerate(dropoffs) if d in deadlines]
    for ps in itertools.permutations(pickups):
        # ETAs up to the last pickup do not depend on the drop-off order.
        head = model.etas(ps, t0)
        leave = head[-1] + model.dwell
        for ds in itertools.permutations(dropoffs):
            at = model.arrive(leave, model.leg(ps[-1], ds[0]))
            etas = [at]
            for prev, cur in itertools.pairwise(ds):
                etas.append(model.arrive(etas[-1] + model.dwell, model.leg(prev, cur)))
            pos = {d: etas[j] for j, d in enumerate(ds)}
            if all(pos[dropoffs[i]] <= limit for i, limit in checks):
                return True
    return False


def _enumerate(
    model: TravelModel,
    flows: Mapping[tuple[int, int], int],
    deadlines: Mapping[int, int],
    t0: int,
    pickup_orders: Iterable[tuple[int, ...]],
    dropoffs: list[int],
) -> Itinerary | None:
    best: Itinerary | None = None
    for ps in pickup_orders:
        for ds in itertools.permutations(dropoffs):
            it = evaluate(model, ps + ds, len(ps), flows, t0)
            if not meets(it, deadlines):
                continue
            if best is None or (it.rider_minutes, it.stops) < (best.rider_minutes, best.stops):
                best = it
    return best


def _places(
    model: TravelModel, pickups: list[int], flows: Mapping[tuple[int, int], int]
) -> list[tuple[int, ...]]:
    """Pickups grouped by identical coordinates, each group fewest boarders first."""
    boarding: dict[int, int] = {}
    for (p, _), n in flows.items():
        boarding[p] = boarding.get(p, 0) + n
    groups: dict[tuple[float, float], list[int]] = {}
    for p in pickups:
        groups.setdefault(model.coords(p), []).append(p)
    return [tuple(sorted(g, key=lambda p: (boarding[p], p))) for g in groups.values()]


def _fallback_order(
    flows: Mapping[tuple[int, int], int], deadlines: Mapping[int, int]
) -> tuple[int, ...]:
    """Fewest boarders first, earliest deadline first: a safe order when a solver gives up."""
    boarding: dict[int, int] = {}
    for (p, _), n in flows.items():
        boarding[p] = boarding.get(p, 0) + n
    pickups = sorted(boarding, key=lambda p: (boarding[p], p))
    dropoffs = sorted({d for _, d in flows}, key=lambda d: (deadlines.get(d, 1 << 60), d))
    return tuple(pickups) + tuple(dropoffs)


def pyvrp_order(
    model: TravelModel,
    flows: Mapping[tuple[int, int], int],
    deadlines: Mapping[int, int],
    t0: int,
    *,
    time_limit_s: float,
    seed: int,
) -> tuple[int, ...] | None:
    """Stop order of one coach from PyVRP (pickup-and-delivery, one vehicle).

    Each (pickup, drop-off) flow is a shipment; an open start depot reaches only pickups and
    an open end depot is reached only from drop-offs. Every leg between distinct points costs
    its driving minutes plus the dwell, so PyVRP minimises the coach's time on the road with
    each drop-off's deadline as a time window. The night ban is not in the solver's model:
    the caller re-times the order with `geo.arrival_after` and checks the deadlines again.
    """
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    pickups = sorted({p for p, _ in flows})
    dropoffs = sorted({d for _, d in flows})
    m = Model()
    start = m.add_location(0, 0, name="start")
    end = m.add_location(0, 0, name="end")
    loc = {pt: m.add_location(0, 0, name=str(pt)) for pt in pickups + dropoffs}
    start_depot = m.add_depot(start)
    end_depot = m.add_depot(end)
    is_pickup = {pt: pt in set(pickups) for pt in loc}
    for a in pickups:
        m.add_edge(start, loc[a], distance=0, duration=0)
    for b in dropoffs:
        m.add_edge(loc[b], end, distance=0, duration=0)
    for a, la in loc.items():
        for b, lb in loc.items():
            if a == b:
                continue
            if not is_pickup[a] and is_pickup[b]:
                cost = _FORBIDDEN
            else:
                cost = model.leg(a, b) + model.dwell
            m.add_edge(la, lb, distance=cost, duration=cost)
    seats = sum(flows.values())
    m.add_vehicle_type(1, capacity=[seats], start_depot=start_depot, end_depot=end_depot)
    for (p, d), n in sorted(flows.items()):
        late = deadlines.get(d)
        m.add_shipment(
            loc[p],
            loc[d],
            delivery_tw_late=(late - t0) if late is not None else _FORBIDDEN * 10,
            amount=[n],
        )
    stop = MultipleCriteria([MaxIterations(2_000), MaxRuntime(time_limit_s)])
    result = m.solve(stop=stop, seed=seed, display=False)
    if not result.best.is_complete():
        return None
    names = list(loc)
    visited: list[int] = []
    for route in result.best.routes():
        for activity in route.schedule():
            if activity.is_depot():
                continue
            shipment = m.shipments[activity.idx]
            where = shipment.pickup.location if activity.is_pickup() else shipment.delivery.location
            pt = names[where - 2]  # locations 0 and 1 are the depots
            if pt not in visited:
                visited.append(pt)
    pick = [pt for pt in visited if is_pickup[pt]]
    drop = [pt for pt in visited if not is_pickup[pt]]
    return tuple(pick) + tuple(drop)


def latest_start(
    model: TravelModel,
    itinerary: Itinerary,
    flows: Mapping[tuple[int, int], int],
    deadlines: Mapping[int, int],
    earliest: int,
    latest: int,
    step: int,
) -> int | None:
    """Latest first-pickup minute on the `step` grid in [earliest, latest] meeting deadlines.

    Arrival times never decrease when the departure moves later (`arrival_after` is monotone),
    so a binary search over the grid is exact.
    """
    grid = list(range(earliest, latest + 1, step))
    lo, hi, found = 0, len(grid) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        it = evaluate(model, itinerary.stops, itinerary.n_pickups, flows, grid[mid])
        if meets(it, deadlines):
            found = grid[mid]
            lo = mid + 1
        else:
            hi = mid - 1
    return found
