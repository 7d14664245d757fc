"""Planning point-to-point coaches: load riders, call the planner core, write trips."""

from __future__ import annotations

import logging
import time as _time
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.models import Destination, Township, User
from matching.core import transfers as core
from matching.models import CoachType, Match, MatchStatus, Seat, TransferPlan, Trip, TripStop
from matching.services.jobs import enqueue_on_commit, job_claim, job_done, job_fail
from matching.services.trips import notify_seats, set_laborer_statuses
from matching.transfer_models import FIXED_TRIP_STATES, TripState
from workers.models import LaborerStatus

logger = logging.getLogger(__name__)

DEFAULT_PARAMETERS: dict[str, Any] = {
    "max_pickup_stops": 3,
    "max_dropoff_stops": 3,
    "max_departures_per_pickup_per_day": 4,
    "min_gap_minutes": 20,
    "departure_window_start": "06:00",
    "departure_window_end": "10:00",
}


def plan_create(*, actor: User, from_date: date, to_date: date, **overrides: Any) -> TransferPlan:
    """Queue a plan (409 while another one is queued or running)."""
    from matching.tasks import plan_transfers

    parameters = dict(DEFAULT_PARAMETERS)
    for key, value in overrides.items():
        parameters[key] = value.strftime("%H:%M") if isinstance(value, time) else value
    coach_keys = parameters.pop("coach_types", None)
    coaches = CoachType.objects.filter(active=True)
    if coach_keys is not None:
        known = set(CoachType.objects.filter(key__in=coach_keys).values_list("key", flat=True))
        unknown = [k for k in coach_keys if k not in known]
        if unknown:
            raise ApplicationError(
                f"coach_types: Unknown coach type {unknown[0]!r}.",
                {"coach_types": [f"Unknown coach type {k!r}." for k in unknown]},
            )
        coaches = coaches.filter(key__in=coach_keys)
    parameters["coach_types"] = sorted(coaches.values_list("key", flat=True))
    if not parameters["coach_types"]:
        raise ApplicationError(
            "coach_types: No active coach type to plan with.",
            {"coach_types": ["No active coach type to plan with."]},
        )
    try:
        with transaction.atomic():
            plan = TransferPlan.objects.create(
                from_date=from_date, to_date=to_date, parameters=parameters, requested_by=actor
            )
    except IntegrityError:
        active = TransferPlan.objects.filter(active=True).values_list("pk", flat=True).first()
        raise Conflict(
            "A transfer plan is already queued or running.", {"active_plan": active}
        ) from None
    enqueue_on_commit(TransferPlan, plan.pk, plan_transfers)
    return plan


def _parse_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def core_params(plan: TransferPlan) -> core.Params:
    p = plan.parameters
    return core.Params(
        from_date=plan.from_date,
        to_date=plan.to_date,
        max_pickup_stops=p["max_pickup_stops"],
        max_dropoff_stops=p["max_dropoff_stops"],
        max_departures_per_pickup_per_day=p["max_departures_per_pickup_per_day"],
        min_gap_minutes=p["min_gap_minutes"],
        departure_window=(
            _parse_time(p["departure_window_start"]),
            _parse_time(p["departure_window_end"]),
        ),
        tz=settings.TIME_ZONE,
    )


def _points() -> list[core.Point]:
    townships = Township.objects.values_list("code", "lat", "lng")
    destinations = Destination.objects.values_list("code", "lat", "lng")
    return [core.Point(code, lat, lng) for code, lat, lng in [*townships, *destinations]]


def _riders(plan: TransferPlan) -> tuple[list[core.Rider], dict[int, Match]]:
    """Accepted matches whose laborer still needs a coach: no seat on a fixed trip, not yet
    travelled (statuses matched or scheduled)."""
    matches = list(
        Match.objects.filter(
            status=MatchStatus.ACCEPTED,
            laborer__status__in=[LaborerStatus.MATCHED, LaborerStatus.SCHEDULED],
        )
        .exclude(seat__trip__state__in=FIXED_TRIP_STATES)
        .select_related("laborer__household", "vacancy__destination")
        .order_by("id")
    )
    riders = []
    for m in matches:
        lab = m.laborer
        household = lab.household_id
        riders.append(
            core.Rider(
                id=m.pk,
                laborer_id=lab.pk,
                county=lab.county_id,
                pickup=lab.township_id,
                dropoff=m.vacancy.destination_id,
                city=m.vacancy.destination.city_id,
                earliest_departure=max(lab.available_from, plan.from_date),
                start_date=m.vacancy.start_date,
                household=f"h{household}" if household else None,
            )
        )
    return riders, {m.pk: m for m in matches}


def _existing() -> list[core.ExistingTrip]:
    trips = (
        Trip.objects.filter(
            state__in=[TripState.PLANNED, TripState.LOCKED, TripState.BOARDING, TripState.DEPARTED]
        )
        .prefetch_related("stops", "seat_set")
        .order_by("id")
    )
    out = []
    for trip in trips:
        out.append(
            core.ExistingTrip(
                id=str(trip.pk),
                status=trip.state,
                coach=trip.coach_type_id,
                departure=trip.departure,
                county=trip.county_id,
                city=trip.city_id,
                stops=tuple((s.kind, s.point_code) for s in trip.stops.all()),
                seats={seat.match_id: seat.number for seat in trip.seat_set.all()},
            )
        )
    return out


def _stops_key(stops: list[TripStop] | tuple[core.Stop, ...]) -> list[tuple[str, str, datetime]]:
    # Aware datetimes compare as instants: the database gives UTC, the planner local time.
    key = []
    for s in stops:
        if isinstance(s, TripStop):
            key.append((s.kind, s.point_code, s.eta))
        else:
            key.append((s.kind, s.point, s.eta))
    return key


def _sync_stops(trip: Trip, result_trip: core.Trip) -> dict[tuple[str, str], TripStop]:
    """Make the trip's stops those of the plan, keeping the rows of points still served
    (seats point at them, so riders whose stop stays keep their seat row)."""
    current = list(TripStop.objects.filter(trip=trip).order_by("order"))
    if _stops_key(current) == _stops_key(result_trip.stops):
        return {(s.kind, s.point_code): s for s in current}
    by_point = {(s.kind, s.point_code): s for s in current}
    served = {(s.kind, s.point) for s in result_trip.stops}
    obsolete = [stop.pk for key, stop in by_point.items() if key not in served]
    if obsolete:
        Seat.objects.filter(Q(pickup_id__in=obsolete) | Q(dropoff_id__in=obsolete)).delete()
        TripStop.objects.filter(pk__in=obsolete).delete()
    # (trip, order) is unique: move the kept stops out of the way before renumbering.
    TripStop.objects.filter(trip=trip).update(order=F("order") + 1000)
    stops = {}
    for order, s in enumerate(result_trip.stops, start=1):
        stop = by_point.get((s.kind, s.point))
        if stop is None:
            stop = TripStop.objects.create(
                trip=trip,
                order=order,
                kind=s.kind,
                township_id=s.point if s.kind == core.PICKUP else None,
                destination_id=s.point if s.kind == core.DROPOFF else None,
                eta=s.eta,
            )
        else:
            stop.order, stop.eta = order, s.eta
            stop.save(update_fields=["order", "eta"])
        stops[(s.kind, s.point)] = stop
    return stops


def _night_stop_json(trip: core.Trip) -> list[dict[str, Any]]:
    return [
        {"start": n.start.isoformat(), "end": n.end.isoformat(), "before_stop": n.before_stop}
        for n in trip.night_stops
    ]


def _write_trip(
    plan: TransferPlan, result_trip: core.Trip, existing: Trip | None, matches: dict[int, Match]
) -> list[int]:
    """Create or update one trip with its stops and seats; returns the ids of the seats whose
    rider may have something new to be told (`notify_seats` skips what they already know)."""
    fixed = existing is not None and existing.state in FIXED_TRIP_STATES
    if fixed:
        trip = existing  # schedule and stops stay exactly as they are; only empty seats fill
        stops = {(s.kind, s.point_code): s for s in trip.stops.all()}
    else:
        trip = Trip(plan=plan) if existing is None else existing
        trip.plan = plan
        trip.coach_type_id = result_trip.coach.key
        trip.seats = result_trip.coach.seats
        trip.county_id = result_trip.county
        trip.city_id = result_trip.city
        trip.departure = result_trip.departure
        trip.arrival = result_trip.arrival
        trip.night_stop = _night_stop_json(result_trip)
        trip.save()
        stops = _sync_stops(trip, result_trip)
    seats = {seat.match_id: seat for seat in Seat.objects.filter(trip=trip)}
    wanted = result_trip.seats
    changed: list[int] = []
    # Seats of riders no longer on this trip go first, so their numbers can be reused. A
    # fixed trip loses nobody: its riders are not even riders of this plan.
    gone = [seat.pk for mid, seat in seats.items() if mid not in wanted and not fixed]
    moved = [
        seat.pk
        for mid, seat in seats.items()
        if mid in wanted and seat.number != wanted[mid] and not fixed
    ]
    Seat.objects.filter(pk__in=gone + moved).delete()
    rider_stop = {}
    for stop in result_trip.stops:
        for rid in stop.riders:
            rider_stop.setdefault(rid, {})[stop.kind] = stop.point
    for mid, number in sorted(wanted.items()):
        seat = seats.get(mid)
        if seat is not None and seat.pk not in moved:
            continue
        if mid not in matches:
            continue  # a rider already seated on this fixed trip
        match = matches[mid]
        points = rider_stop.get(mid, {})
        pickup = stops[(core.PICKUP, points.get(core.PICKUP, match.laborer.township_id))]
        dropoff = stops[(core.DROPOFF, points.get(core.DROPOFF, match.vacancy.destination_id))]
        # A rider may hold a seat on another (planned) trip that this plan moved them from.
        Seat.objects.filter(match_id=mid).exclude(trip=trip).delete()
        new = Seat.objects.create(
            trip=trip,
            number=number,
            match_id=mid,
            laborer_id=match.laborer_id,
            pickup=pickup,
            dropoff=dropoff,
        )
        changed.append(new.pk)
    if not fixed:
        # Kept seats too: their stop time or coach may have changed.
        return list(Seat.objects.filter(trip=trip).values_list("pk", flat=True))
    return changed


class TripsChanged(Exception):
    """A coordinator locked, boarded, departed or cancelled a trip while the plan computed."""


PLAN_ATTEMPTS = 3


def plan_execute(*, plan_id: int) -> None:
    plan = job_claim(TransferPlan, plan_id)
    if plan is None:
        return
    started = _time.perf_counter()
    try:
        for attempt in range(1, PLAN_ATTEMPTS + 1):
            riders, matches = _riders(plan)
            existing = _existing()
            # The plan's coach types, plus those of trips it must keep as they are.
            coach_keys = set(plan.parameters["coach_types"]) | {t.coach for t in existing}
            coach_types = [
                core.CoachType(c.key, c.seats, c.cost)
                for c in CoachType.objects.filter(key__in=coach_keys)
            ]
            result = core.plan_transfers(
                riders, _points(), core_params(plan), coach_types, existing
            )
            try:
                with transaction.atomic():
                    changed_seats = _write_plan(plan, result, matches, existing)
                break
            except TripsChanged:
                if attempt == PLAN_ATTEMPTS:
                    raise
                logger.info("transfer plan %s: trips changed while planning, again", plan_id)
    except Exception as exc:
        logger.exception("transfer plan %s failed", plan_id)
        job_fail(TransferPlan, plan_id, f"{type(exc).__name__}: {exc}")
        raise
    notify_seats(changed_seats)
    seated = sum(len(t.seats) for t in result.trips)
    job_done(
        TransferPlan,
        plan_id,
        riders=len(riders),
        seated=len(riders) - len(result.unseated),
        unseated=[
            {"match": mid, "laborer": matches[mid].laborer_id, "reason": reason}
            for mid, reason in sorted(result.unseated.items())
        ],
        trips=len(result.trips),
        lower_bound_trips=result.lower_bound_trips,
        seat_utilization=round(result.seat_utilization, 4),
        seconds=round(_time.perf_counter() - started, 3),
        stats={
            **{k: v for k, v in result.stats.items() if isinstance(v, int | float | str | bool)},
            "seats_on_trips": seated,
        },
    )


def _write_plan(
    plan: TransferPlan,
    result: core.Plan,
    matches: dict[int, Match],
    existing: list[core.ExistingTrip],
) -> list[int]:
    trips_by_id = {
        t.pk: t
        for t in Trip.objects.select_for_update().filter(pk__in=[int(e.id) for e in existing])
    }
    # The plan was computed from a snapshot: a trip that changed state since (locked,
    # boarded, cancelled...) would be written as what it was. Plan again instead.
    for e in existing:
        trip = trips_by_id.get(int(e.id))
        if trip is None or trip.state != e.status:
            raise TripsChanged(f"trip {e.id} changed while planning")
    changed: list[int] = []
    kept: set[int] = set()
    for result_trip in sorted(result.trips, key=lambda t: (t.departure, t.key)):
        old = trips_by_id.get(int(result_trip.kept_from)) if result_trip.kept_from else None
        if old is not None:
            kept.add(old.pk)
        changed += _write_trip(plan, result_trip, old, matches)
    # Planned trips the new plan does not keep are dropped; their riders were re-seated or
    # are unseated now.
    dropped = [
        pk for pk, t in trips_by_id.items() if pk not in kept and t.state == TripState.PLANNED
    ]
    Seat.objects.filter(trip_id__in=dropped).delete()
    TripStop.objects.filter(trip_id__in=dropped).delete()
    Trip.objects.filter(pk__in=dropped).delete()
    seated_laborers = set(
        Seat.objects.filter(match_id__in=list(matches)).values_list("laborer_id", flat=True)
    )
    unseated_laborers = {m.laborer_id for m in matches.values()} - seated_laborers
    set_laborer_statuses(
        seated_laborers,
        LaborerStatus.SCHEDULED,
        None,
        f"plan {plan.pk}",
        only_from=[LaborerStatus.MATCHED],
    )
    set_laborer_statuses(
        unseated_laborers,
        LaborerStatus.MATCHED,
        None,
        f"plan {plan.pk}: no seat",
        only_from=[LaborerStatus.SCHEDULED],
    )
    return changed
