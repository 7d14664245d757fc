"""Independent check of a coach plan against every rule (used by tests and the benchmark).

Deliberately shares no code with the planner beyond the public dataclasses: ETAs are
recomputed from each trip's departure with `jobmatch.geo` and plain datetimes, so a
bookkeeping bug in the planner cannot hide behind the same bug here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jobmatch import geo
from matching.core.transfers import (
    DROPOFF,
    FIXED_STATUSES,
    PICKUP,
    ExistingTrip,
    Params,
    Plan,
    Point,
    Rider,
    Trip,
)


def recompute_etas(trip: Trip, points: dict[str, Point], dwell: int) -> list[datetime]:
    """ETAs of a trip's stops from its departure: geo leg hours (rounded up to minutes),
    `dwell` minutes at each stop, `geo.arrival_after` for the night ban."""
    tz = trip.departure.tzinfo
    now = trip.departure.replace(tzinfo=None)
    out = [now]
    for a, b in zip(trip.stops, trip.stops[1:], strict=False):
        pa, pb = points[a.point], points[b.point]
        hours = 0.0 if a.point == b.point else geo.coach_hours(pa.lat, pa.lng, pb.lat, pb.lng)
        minutes = math.ceil(hours * 60 - 1e-9)
        now = geo.arrival_after(now + timedelta(minutes=dwell), minutes / 60)
        now = now.replace(second=0, microsecond=0) + timedelta(minutes=1 if now.second >= 30 else 0)
        out.append(now)
    return [t.replace(tzinfo=tz) for t in out]


def check_plan(
    plan: Plan,
    riders: Sequence[Rider],
    points: Iterable[Point],
    params: Params,
    existing: Sequence[ExistingTrip] = (),
) -> list[str]:
    """Every broken rule of `plan`, as readable sentences (empty when the plan is valid)."""
    tz = ZoneInfo(params.tz)
    pts = {p.code: p for p in points}
    by_id = {r.id: r for r in riders}
    problems: list[str] = []
    fixed = {t.id: t for t in existing if t.status in FIXED_STATUSES}

    # Exactly one seat or a reason.
    seat_of: dict[int, str] = {}
    for trip in plan.trips:
        for rid in trip.seats:
            if rid in seat_of:
                problems.append(f"rider {rid} has seats on {seat_of[rid]} and {trip.key}")
            seat_of[rid] = trip.key
    for r in riders:
        if r.id in seat_of and r.id in plan.unseated:
            problems.append(f"rider {r.id} is both seated and unseated")
        if r.id not in seat_of and not plan.unseated.get(r.id):
            problems.append(f"rider {r.id} has neither a seat nor a reason")

    # Households together: one trip, or nobody seated - unless members already sit on a
    # fixed trip the planner may not change (then the others are unseated with a reason).
    households: dict[str, set[str | None]] = {}
    for r in riders:
        if r.household is not None:
            households.setdefault(r.household, set()).add(seat_of.get(r.id))
    fixed_keys = {t.key for t in plan.trips if t.locked and t.kept_from in fixed}
    for key, trips in households.items():
        seated = trips - {None}
        if len(seated) > 1 or (None in trips and seated and not seated <= fixed_keys):
            problems.append(f"household {key} is split over {sorted(map(str, trips))}")

    calls: dict[tuple[str, str], list[tuple[datetime, str, bool]]] = {}
    window_start, window_end = params.departure_window
    for trip in plan.trips:
        locked = trip.locked and trip.kept_from in fixed
        seats = list(trip.seats.values())
        if len(set(seats)) != len(seats):
            problems.append(f"{trip.key}: two riders share a seat")
        if any(not 1 <= s <= trip.coach.seats for s in seats):
            problems.append(f"{trip.key}: seat number outside 1..{trip.coach.seats}")
        if len(seats) > trip.coach.seats:
            problems.append(f"{trip.key}: {len(seats)} riders on {trip.coach.seats} seats")
        if locked:
            problems.extend(_check_locked(trip, fixed[trip.kept_from or ""], tz))
        kinds = [s.kind for s in trip.stops]
        n_pick = kinds.count(PICKUP)
        if kinds != [PICKUP] * n_pick + [DROPOFF] * (len(kinds) - n_pick):
            problems.append(f"{trip.key}: a pickup comes after a drop-off")
        for s in trip.stops:
            if s.kind == PICKUP:
                calls.setdefault((s.point, s.eta.date().isoformat()), []).append(
                    (s.eta, trip.key, locked)
                )
        etas = recompute_etas(trip, pts, params.dwell_minutes)
        if [s.eta for s in trip.stops] != etas:
            problems.append(f"{trip.key}: stop times do not follow the travel model")
        problems.extend(_check_night(trip, pts, params.dwell_minutes))
        if locked:
            continue
        if n_pick > params.max_pickup_stops:
            problems.append(f"{trip.key}: {n_pick} pickup stops")
        if len(kinds) - n_pick > params.max_dropoff_stops:
            problems.append(f"{trip.key}: {len(kinds) - n_pick} drop-off stops")
        if len({s.point for s in trip.stops}) != len(trip.stops):
            problems.append(f"{trip.key}: a point is visited twice")
        dep = trip.departure.astimezone(tz)
        if not window_start <= dep.time() <= window_end:
            problems.append(f"{trip.key}: departs at {dep.time()} outside the window")
        if not params.from_date <= dep.date() <= params.to_date:
            problems.append(f"{trip.key}: departs on {dep.date()} outside the plan")
        board = {rid: s for s in trip.stops if s.kind == PICKUP for rid in s.riders}
        alight = {rid: s for s in trip.stops if s.kind == DROPOFF for rid in s.riders}
        for rid in trip.seats:
            r = by_id.get(rid)
            if r is None:
                problems.append(f"{trip.key}: seat for unknown rider {rid}")
                continue
            if r.county != trip.county or r.city != trip.city:
                problems.append(f"{trip.key}: rider {rid} from another county or city")
            if rid not in board or board[rid].point != r.pickup:
                problems.append(f"{trip.key}: rider {rid} does not board at {r.pickup}")
            if rid not in alight or alight[rid].point != r.dropoff:
                problems.append(f"{trip.key}: rider {rid} does not alight at {r.dropoff}")
                continue
            if dep.date() < r.earliest_departure:
                problems.append(f"{trip.key}: rider {rid} leaves before {r.earliest_departure}")
            limit = datetime.combine(
                r.start_date - timedelta(days=1), params.latest_arrival, tzinfo=tz
            )
            if alight[rid].eta > limit:
                problems.append(f"{trip.key}: rider {rid} arrives after {limit}")
        if set(board) != set(trip.seats) or set(alight) != set(trip.seats):
            problems.append(f"{trip.key}: stop rider lists differ from the seats")

    # Staggering at every pickup point.
    for (point, day), visits in calls.items():
        visits.sort()
        if len(visits) > params.max_departures_per_pickup_per_day and not all(v[2] for v in visits):
            problems.append(f"{point} on {day}: {len(visits)} departures")
        for (t1, k1, l1), (t2, k2, l2) in itertools.pairwise(visits):
            if t2 - t1 < timedelta(minutes=params.min_gap_minutes) and not (l1 and l2):
                problems.append(f"{point} on {day}: {k1} and {k2} are {t2 - t1} apart")
    return problems


def _check_night(trip: Trip, pts: dict[str, Point], dwell: int) -> list[str]:
    """A leg that crosses 02:00-05:00 must show the halt, and only such legs may."""
    out = []
    halted = {n.before_stop for n in trip.night_stops}
    for i in range(1, len(trip.stops)):
        a, b = trip.stops[i - 1], trip.stops[i]
        pa, pb = pts[a.point], pts[b.point]
        hours = 0.0 if a.point == b.point else geo.coach_hours(pa.lat, pa.lng, pb.lat, pb.lng)
        minutes = math.ceil(hours * 60 - 1e-9)
        moving = b.eta - (a.eta + timedelta(minutes=dwell))
        delayed = moving > timedelta(minutes=minutes)
        if delayed != (i in halted):
            out.append(
                f"{trip.key}: night stop before stop {i} is {'missing' if delayed else 'spurious'}"
            )
    for n in trip.night_stops:
        if not (n.start.hour >= geo.NIGHT_BAN_START_H and n.end.hour == geo.NIGHT_BAN_END_H):
            out.append(f"{trip.key}: night stop {n.start}-{n.end} is not inside 02:00-05:00")
    return out


def _check_locked(trip: Trip, before: ExistingTrip, tz: ZoneInfo) -> list[str]:
    """A fixed trip keeps coach, departure, stops and every seat it had."""
    out = []
    dep = before.departure
    dep = dep.astimezone(tz) if dep.tzinfo else dep.replace(tzinfo=tz)
    if trip.coach.key != before.coach:
        out.append(f"{trip.key}: locked trip changed coach")
    if trip.departure != dep:
        out.append(f"{trip.key}: locked trip changed departure")
    if tuple((s.kind, s.point) for s in trip.stops) != tuple(before.stops):
        out.append(f"{trip.key}: locked trip changed stops")
    for rid, seat in before.seats.items():
        if trip.seats.get(rid) != seat:
            out.append(f"{trip.key}: locked seat of rider {rid} changed")
    return out
