"""Planning point-to-point coaches: load riders, call the planner core, write trips."""

from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.bulk import writer_for_connection
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
            messages = [_("Unknown coach type %(key)r.") % {"key": k} for k in unknown]
            raise ApplicationError(f"coach_types: {messages[0]}", {"coach_types": messages})
        coaches = coaches.filter(key__in=coach_keys)
    parameters["coach_types"] = sorted(coaches.values_list("key", flat=True))
    if not parameters["coach_types"]:
        message = _("No active coach type to plan with.")
        raise ApplicationError(f"coach_types: {message}", {"coach_types": [message]})
    try:
        with transaction.atomic():
            plan = TransferPlan.objects.create(
                from_date=from_date, to_date=to_date, parameters=parameters, requested_by=actor
            )
    except IntegrityError:
        active = TransferPlan.objects.filter(active=True).values_list("pk", flat=True).first()
        raise Conflict(
            _("A transfer plan is already queued or running."), {"active_plan": active}
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


@dataclass(frozen=True, slots=True)
class RiderRow:
    """What writing a seat needs to know of a rider (an accepted match)."""

    laborer_id: int
    township: str
    dropoff: str


def _riders(plan: TransferPlan) -> tuple[list[core.Rider], dict[int, RiderRow]]:
    """Accepted matches whose laborer still needs a coach: no seat on a fixed trip, not yet
    travelled (statuses matched or scheduled). Read as plain values: a season is 36,500."""
    rows = (
        Match.objects.filter(
            status=MatchStatus.ACCEPTED,
            laborer__status__in=[LaborerStatus.MATCHED, LaborerStatus.SCHEDULED],
        )
        .exclude(seat__trip__state__in=FIXED_TRIP_STATES)
        .order_by("id")
        .values_list(
            "id",
            "laborer_id",
            "laborer__county_id",
            "laborer__township_id",
            "laborer__available_from",
            "laborer__household_id",
            "vacancy__destination_id",
            "vacancy__destination__city_id",
            "vacancy__start_date",
        )
    )
    riders, by_id = [], {}
    for mid, lab, county, township, available, household, dropoff, city, start in rows:
        riders.append(
            core.Rider(
                id=mid,
                laborer_id=lab,
                county=county,
                pickup=township,
                dropoff=dropoff,
                city=city,
                earliest_departure=max(available, plan.from_date),
                start_date=start,
                household=f"h{household}" if household else None,
            )
        )
        by_id[mid] = RiderRow(laborer_id=lab, township=township, dropoff=dropoff)
    return riders, by_id


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


def _trip_fields(trip: Trip, plan: TransferPlan, result_trip: core.Trip) -> None:
    trip.plan = plan
    trip.updated_at = timezone.now()  # bulk_update leaves auto_now fields alone
    trip.coach_type_id = result_trip.coach.key
    trip.seats = result_trip.coach.seats
    trip.county_id = result_trip.county
    trip.city_id = result_trip.city
    trip.departure = result_trip.departure
    trip.arrival = result_trip.arrival
    trip.night_stop = _night_stop_json(result_trip)


def _new_stops(trip: Trip, result_trip: core.Trip) -> list[TripStop]:
    return [
        TripStop(
            trip=trip,
            order=order,
            kind=s.kind,
            township_id=s.point if s.kind == core.PICKUP else None,
            destination_id=s.point if s.kind == core.DROPOFF else None,
            eta=s.eta,
        )
        for order, s in enumerate(result_trip.stops, start=1)
    ]


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
    matches: dict[int, RiderRow],
    existing: list[core.ExistingTrip],
) -> list[int]:
    """Write the plan in bulk; returns the ids of the seats whose rider may have something
    new to be told (`notify_seats` skips what they already know).

    Kept trips keep their rows, their stops' rows where the point is still served, and
    the seat rows of riders whose seat did not change; fixed trips (locked and later) keep
    everything and only gain riders in their empty seats.
    """
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

    # Trips: kept ones updated in place, new ones created, dropped ones deleted below.
    placed: list[tuple[core.Trip, Trip, bool]] = []  # (planned trip, row, fixed)
    new_trips: list[tuple[core.Trip, Trip]] = []
    for result_trip in sorted(result.trips, key=lambda t: (t.departure, t.key)):
        old = trips_by_id.get(int(result_trip.kept_from)) if result_trip.kept_from else None
        if old is not None and old.state in FIXED_TRIP_STATES:
            placed.append((result_trip, old, True))
        elif old is not None:
            _trip_fields(old, plan, result_trip)
            placed.append((result_trip, old, False))
        else:
            row = Trip()
            _trip_fields(row, plan, result_trip)
            new_trips.append((result_trip, row))
    kept_planned = [row for _, row, fixed in placed if not fixed]
    Trip.objects.bulk_update(
        kept_planned,
        [
            "plan",
            "coach_type",
            "seats",
            "county",
            "city",
            "departure",
            "arrival",
            "night_stop",
            "updated_at",
        ],
        batch_size=500,
    )
    Trip.objects.bulk_create([row for _, row in new_trips], batch_size=1000)
    TripStop.objects.bulk_create(
        [stop for result_trip, row in new_trips for stop in _new_stops(row, result_trip)],
        batch_size=2000,
    )
    placed += [(result_trip, row, False) for result_trip, row in new_trips]
    kept = {row.pk for _, row, _ in placed}
    dropped = [
        pk for pk, t in trips_by_id.items() if pk not in kept and t.state == TripState.PLANNED
    ]

    # Stops of every placed trip, keyed by (trip, kind, point).
    for result_trip, row, fixed in placed:
        if not fixed and row.pk in trips_by_id:
            _sync_stops(row, result_trip)  # a no-op unless the kept trip's itinerary changed
    stops: dict[tuple[int, str, str], int] = {}
    for stop in TripStop.objects.filter(trip_id__in=list(kept)).values(
        "pk", "trip_id", "kind", "township_id", "destination_id"
    ):
        point = stop["township_id"] or stop["destination_id"]
        stops[(stop["trip_id"], stop["kind"], point)] = stop["pk"]

    # Seats wanted for this plan's riders (a fixed trip's own riders are not riders here).
    wanted: dict[
        int, tuple[int, int, int, int, int]
    ] = {}  # match -> (trip, number, laborer, pickup, dropoff)
    for result_trip, row, _fixed in placed:
        points: dict[int, dict[str, str]] = {}
        for stop in result_trip.stops:
            for rid in stop.riders:
                points.setdefault(rid, {})[stop.kind] = stop.point
        for mid, number in result_trip.seats.items():
            match = matches.get(mid)
            if match is None:
                continue
            at = points.get(mid, {})
            pickup = stops[(row.pk, core.PICKUP, at.get(core.PICKUP, match.township))]
            dropoff = stops[(row.pk, core.DROPOFF, at.get(core.DROPOFF, match.dropoff))]
            wanted[mid] = (row.pk, number, match.laborer_id, pickup, dropoff)
    # Current seats of this plan's riders, and every seat on the kept trips that may change
    # (a rider who is no longer a rider, e.g. whose match was withdrawn, loses the seat).
    flexible = [row.pk for _, row, fixed in placed if not fixed and row.pk in trips_by_id]
    seat_fields = ("pk", "match_id", "trip_id", "number", "laborer_id", "pickup_id", "dropoff_id")
    current = {
        seat["match_id"]: seat
        for seat in Seat.objects.filter(
            Q(match_id__in=list(matches)) | Q(trip_id__in=flexible)
        ).values(*seat_fields)
    }
    unchanged = {
        mid
        for mid, seat in current.items()
        if wanted.get(mid)
        == (
            seat["trip_id"],
            seat["number"],
            seat["laborer_id"],
            seat["pickup_id"],
            seat["dropoff_id"],
        )
    }
    # Changed and vacated seats go first: numbers and riders are unique.
    Seat.objects.filter(
        pk__in=[seat["pk"] for mid, seat in current.items() if mid not in unchanged]
    ).delete()
    Seat.objects.filter(trip_id__in=dropped).delete()
    TripStop.objects.filter(trip_id__in=dropped).delete()
    Trip.objects.filter(pk__in=dropped).delete()
    new_seats = [(mid, *seat) for mid, seat in sorted(wanted.items()) if mid not in unchanged]
    writer = writer_for_connection()
    created = writer.reserve_ids(Seat, len(new_seats)).tolist()
    writer.write(
        Seat,
        ["id", "trip_id", "number", "match_id", "laborer_id", "pickup_id", "dropoff_id"],
        [
            (sid, t, n, mid, lab, p, d)
            for sid, (mid, t, n, lab, p, d) in zip(created, new_seats, strict=True)
        ],
    )
    writer.finish([Seat])

    seated_laborers = {lab for _, _, lab, _, _ in wanted.values()}
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
    # Every seat of a non-fixed trip may carry news (its stop time or coach may have
    # changed); on a fixed trip only the newly filled seats do.
    changeable = [row.pk for _, row, fixed in placed if not fixed]
    news = set(Seat.objects.filter(trip_id__in=changeable).values_list("pk", flat=True))
    news.update(created)
    return sorted(news)
