"""Transfer planning on the database: the spec's rules through `plan_execute`, re-planning,
the day of departure and seat notifications.

Geography is the real reference data: 平果市 (451082) reaches Shenzhen the same evening,
西林县 (451030) is 17 hours away. Plans cover DAY .. DAY+9 unless a test says otherwise.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from jobmatch.api.errors import ApplicationError, Conflict
from jobmatch.models import Destination
from matching import sms
from matching.core import transfers as core
from matching.models import Match, Notification, Seat, TransferPlan, Trip, TripEvent, TripStop
from matching.services import transfers as transfer_services
from matching.services.transfers import plan_create, plan_execute
from matching.services.trips import (
    notify_seats,
    trip_arrive,
    trip_board,
    trip_cancel,
    trip_depart,
    trip_lock,
    trip_unlock,
)
from matching.tasks import plan_transfers
from tests.factories import HouseholdFactory, MatchFactory
from tests.matching.conftest import (
    CHANGAN,
    DAY,
    FUYONG,
    GUANLAN,
    JINGXI_SEAT,
    PINGGUO_2,
    PINGGUO_3,
    PINGGUO_4,
    PINGGUO_5,
    PINGGUO_SEAT,
    SHAJING,
    SHIYAN,
    SONGGANG,
    XILIN_SEAT,
    BrokenBackend,
    day,
)
from workers.models import Laborer, StatusEvent

pytestmark = pytest.mark.django_db


# -- helpers -------------------------------------------------------------------------------


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(d, time(hh, mm)))


def seat_of(match: Match) -> Seat:
    return Seat.objects.select_related("trip", "pickup", "dropoff").get(match=match)


def seats_state() -> dict[int, tuple[int, int, int, int, int]]:
    """laborer id -> (seat id, trip id, seat number, pickup stop id, dropoff stop id)."""
    return {
        s.laborer_id: (s.pk, s.trip_id, s.number, s.pickup_id, s.dropoff_id)
        for s in Seat.objects.all()
    }


def trips_state() -> dict[int, tuple[Any, ...]]:
    """Everything a rider or a coordinator sees of each trip (the plan id aside)."""
    out = {}
    for t in Trip.objects.prefetch_related("stops", "seat_set"):
        out[t.pk] = (
            t.state,
            t.coach_type_id,
            t.seats,
            t.departure,
            t.arrival,
            t.night_stop,
            [(s.pk, s.order, s.kind, s.point_code, s.eta) for s in t.stops.all()],
            sorted((s.pk, s.number, s.laborer_id) for s in t.seat_set.all()),
        )
    return out


def pickups(trip: Trip) -> list[TripStop]:
    return [s for s in trip.stops.all() if s.kind == "pickup"]


def dropoffs(trip: Trip) -> list[TripStop]:
    return [s for s in trip.stops.all() if s.kind == "dropoff"]


def retire(*matches: Match) -> None:
    """The laborers travelled on their own: they no longer need a coach."""
    Laborer.objects.filter(pk__in=[m.laborer_id for m in matches]).update(status="employed")


# -- who is a rider; exactly one seat ----------------------------------------------------------


def test_riders_are_accepted_matches_not_yet_travelling(accepted, plan_run, coordinator):
    riders = accepted(2)
    MatchFactory(laborer__township_id=PINGGUO_SEAT, laborer__county_id="451082")  # proposed
    MatchFactory(status="offered", laborer__county_id="451082", laborer__township_id=PINGGUO_2)
    gone = accepted(1)[0]
    Laborer.objects.filter(pk=gone.laborer_id).update(status="departed")
    first = plan_run()
    assert (first.riders, first.seated, first.unseated) == (2, 2, [])
    trip_lock(actor=coordinator, trip=Trip.objects.get())
    newcomer = accepted(1)[0]
    second = plan_run()
    # Riders with a seat on a locked trip are not riders of the next plan.
    assert (second.riders, second.seated) == (1, 1)
    assert sorted(Seat.objects.values_list("match_id", flat=True)) == sorted(
        [riders[0].pk, riders[1].pk, newcomer.pk]
    )


def test_every_rider_gets_exactly_one_seat_or_a_reason(accepted, plan_run, mini_coach):
    seated = accepted(6) + accepted(3, township=PINGGUO_2, destination=CHANGAN, start=day(4))
    late = accepted(1, available=day(12))
    plan = plan_run(coach_types=["mini4"])
    counts = Counter(Seat.objects.values_list("match_id", flat=True))
    assert counts == {m.pk: 1 for m in seated}
    assert [u["match"] for u in plan.unseated] == [late[0].pk]
    assert (plan.riders, plan.seated) == (10, 9)
    assert Laborer.objects.get(pk=late[0].laborer_id).status == "matched"
    assert set(Laborer.objects.filter(seat__isnull=False).values_list("status", flat=True)) == {
        "scheduled"
    }


def test_database_refuses_a_second_seat_for_a_laborer_or_a_match(accepted, plan_run):
    match = accepted(1)[0]
    plan_run()
    seat = seat_of(match)
    other = accepted(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(
            trip=seat.trip,
            number=9,
            match=other,
            laborer_id=match.laborer_id,
            pickup=seat.pickup,
            dropoff=seat.dropoff,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(
            trip=seat.trip,
            number=9,
            match=match,
            laborer_id=other.laborer_id,
            pickup=seat.pickup,
            dropoff=seat.dropoff,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(
            trip=seat.trip,
            number=seat.number,
            match=other,
            laborer_id=other.laborer_id,
            pickup=seat.pickup,
            dropoff=seat.dropoff,
        )


# -- travel windows ------------------------------------------------------------------------


def test_departure_inside_the_window_and_arrival_by_22_the_evening_before(accepted, plan_run):
    early = accepted(2, start=day(5))
    later = accepted(2, available=day(3), start=day(7))
    far = accepted(1, township=XILIN_SEAT, start=day(2))
    before_plan = accepted(1, available=DAY - timedelta(days=5), start=day(6))
    plan = plan_run(from_date=day(2), to_date=day(9))
    assert plan.unseated == [
        {
            "match": far[0].pk,
            "laborer": far[0].laborer_id,
            "reason": "cannot arrive by 22:00 on 2031-03-04 (start 2031-03-05) from any "
            "departure between 2031-03-05 and 2031-03-12",
        }
    ]
    for match in [*early, *later, *before_plan]:
        seat = seat_of(match)
        leaves = local(seat.pickup.eta)
        assert leaves.date() >= max(match.laborer.available_from, day(2))
        assert leaves.date() <= day(9)
        start = match.vacancy.start_date
        assert local(seat.dropoff.eta) <= at(start - timedelta(days=1), 22)


def test_farthest_county_leaves_a_day_earlier(accepted, plan_run):
    match = accepted(1, township=XILIN_SEAT, start=day(3))[0]
    plan_run()
    seat = seat_of(match)
    # 17 hours on the road: leaving on the eve of the start would arrive after 22:00.
    assert local(seat.pickup.eta).date() <= day(1)
    assert local(seat.dropoff.eta) <= at(day(2), 22)


def test_riders_without_a_possible_departure_are_unseated_with_the_reason(accepted, plan_run):
    too_soon = accepted(1, available=day(3), start=day(3))[0]
    too_late = accepted(1, available=day(12))[0]
    plan = plan_run()
    assert plan.unseated == [
        {
            "match": too_soon.pk,
            "laborer": too_soon.laborer_id,
            "reason": "cannot arrive by 22:00 on 2031-03-05 (start 2031-03-06) from any "
            "departure between 2031-03-06 and 2031-03-12",
        },
        {
            "match": too_late.pk,
            "laborer": too_late.laborer_id,
            "reason": "no departure date inside the window: available from 2031-03-15, "
            "the plan ends 2031-03-12",
        },
    ]
    assert (plan.riders, plan.seated, plan.trips) == (2, 0, 0)
    assert Seat.objects.count() == 0


# -- households ----------------------------------------------------------------------------


def test_household_rides_on_one_coach(accepted, plan_run, mini_coach):
    accepted(2)
    family = accepted(3, household=True)
    accepted(4)
    plan = plan_run(coach_types=["mini4"])
    assert plan.seated == 9
    assert len({seat_of(m).trip_id for m in family}) == 1
    numbers = sorted(seat_of(m).number for m in family)
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # side by side


def test_household_from_two_townships_shares_the_coach(accepted, plan_run, mini_coach):
    home = HouseholdFactory()
    family = accepted(1, household=home) + accepted(1, township=PINGGUO_2, household=home)
    accepted(6)
    plan_run(coach_types=["mini4"])
    trip = seat_of(family[0]).trip
    assert seat_of(family[1]).trip == trip
    assert {s.point_code for s in pickups(trip)} == {PINGGUO_SEAT, PINGGUO_2}


def test_household_without_a_common_day_is_unseated_together(accepted, plan_run):
    home = HouseholdFactory()
    a = accepted(1, household=home, start=day(2))[0]
    b = accepted(1, household=home, available=day(3), start=day(6))[0]
    split = HouseholdFactory()
    c = accepted(1, household=split)[0]
    d = accepted(1, township=JINGXI_SEAT, household=split)[0]
    plan = plan_run()
    no_day = (
        f"household h{home.pk}: no common departure day on which every member arrives by "
        "the evening before their start date"
    )
    apart = (
        f"household h{split.pk}: members travel from different counties or to different "
        "cities, so no single coach can carry them together"
    )
    assert plan.unseated == [
        {"match": a.pk, "laborer": a.laborer_id, "reason": no_day},
        {"match": b.pk, "laborer": b.laborer_id, "reason": no_day},
        {"match": c.pk, "laborer": c.laborer_id, "reason": apart},
        {"match": d.pk, "laborer": d.laborer_id, "reason": apart},
    ]
    assert Seat.objects.count() == 0


# -- staggered departures, night stop, capacity, stop limits ---------------------------------


def departures_by_point() -> dict[tuple[str, date], list[datetime]]:
    out: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for stop in TripStop.objects.filter(kind="pickup"):
        eta = local(stop.eta)
        out[(stop.township_id, eta.date())].append(eta)
    return out


def test_departures_are_staggered_per_pickup_point(accepted, plan_run, mini_coach):
    accepted(20, available=day(1), start=day(3))
    plan = plan_run(coach_types=["mini4"])
    assert (plan.seated, plan.trips) == (20, 5)
    for etas in departures_by_point().values():
        assert len(etas) <= 4
        etas.sort()
        assert all(b - a >= timedelta(minutes=20) for a, b in itertools.pairwise(etas))
    for trip in Trip.objects.all():
        first = local(trip.departure)
        assert time(6) <= first.time() <= time(10)
        assert first == local(pickups(trip)[0].eta)


def test_staggering_follows_the_plan_parameters(accepted, plan_run, mini_coach):
    accepted(12, start=day(9))
    plan = plan_run(
        coach_types=["mini4"],
        max_departures_per_pickup_per_day=2,
        min_gap_minutes=45,
        departure_window_start=time(7),
        departure_window_end=time(9),
    )
    assert plan.parameters["departure_window_start"] == "07:00"
    assert plan.trips == 3
    for etas in departures_by_point().values():
        assert len(etas) <= 2
        etas.sort()
        assert all(b - a >= timedelta(minutes=45) for a, b in itertools.pairwise(etas))
        assert all(time(7) <= e.time() <= time(9) for e in etas)


def test_no_driving_between_2_and_5_and_the_itinerary_shows_the_stop(accepted, plan_run):
    accepted(2, township=XILIN_SEAT, start=day(4))
    plan_run(departure_window_start=time(9, 30), departure_window_end=time(10))
    trip = Trip.objects.get()
    [halt] = trip.night_stop
    start, end = datetime.fromisoformat(halt["start"]), datetime.fromisoformat(halt["end"])
    assert (local(start).time(), local(end).time()) == (time(2), time(5))
    assert end - start == timedelta(hours=3)
    assert halt["before_stop"] == 1  # on the leg to the drop-off (stop index 1)
    assert local(trip.arrival) > local(end)
    for stop in trip.stops.all():
        assert not time(2) < local(stop.eta).time() < time(5)


def test_night_stop_avoided_when_the_window_allows(accepted, plan_run):
    accepted(2, township=XILIN_SEAT, start=day(4))
    plan_run()
    assert Trip.objects.get().night_stop == []


def test_no_coach_carries_more_riders_than_its_seats(accepted, plan_run, mini_coach):
    accepted(9)
    plan = plan_run(coach_types=["mini4"])
    trips = list(Trip.objects.prefetch_related("seat_set"))
    assert (plan.seated, len(trips)) == (9, 3)
    for trip in trips:
        numbers = [s.number for s in trip.seat_set.all()]
        assert trip.seats == trip.coach_type.seats == 4
        assert len(numbers) <= 4
        assert len(set(numbers)) == len(numbers) and set(numbers) <= {1, 2, 3, 4}
    assert plan.seat_utilization == round(9 / 12, 4)


def test_stops_stay_in_one_county_and_one_city_within_the_limits(accepted, plan_run):
    for township, street in zip(
        [PINGGUO_SEAT, PINGGUO_2, PINGGUO_3, PINGGUO_4, PINGGUO_5],
        [FUYONG, SHAJING, SONGGANG, SHIYAN, GUANLAN],
        strict=True,
    ):
        accepted(1, township=township, destination=street)
    accepted(1, township=JINGXI_SEAT)
    accepted(1, destination=CHANGAN)
    plan = plan_run()
    assert plan.seated == 7
    for trip in Trip.objects.prefetch_related("stops__township", "stops__destination"):
        assert 1 <= len(pickups(trip)) <= 3 and 1 <= len(dropoffs(trip)) <= 3
        assert {s.township.county_id for s in pickups(trip)} == {trip.county_id}
        assert {s.destination.city_id for s in dropoffs(trip)} == {trip.city_id}
        kinds = [s.kind for s in trip.stops.all()]
        assert kinds == sorted(kinds, key=lambda k: k == "dropoff")  # pickups first
        assert [s.order for s in trip.stops.all()] == list(range(1, len(kinds) + 1))
        etas = [s.eta for s in trip.stops.all()]
        assert etas == sorted(etas)
        assert (trip.departure, trip.arrival) == (etas[0], etas[-1])
    assert Destination.objects.get(code=CHANGAN).city_id == "441900"
    assert Trip.objects.filter(county_id="451081").count() == 1
    assert Trip.objects.filter(city_id="441900").count() == 1


def test_stop_limits_follow_the_plan_parameters(accepted, plan_run):
    for township, street in [(PINGGUO_SEAT, FUYONG), (PINGGUO_2, SHAJING), (PINGGUO_3, FUYONG)]:
        accepted(1, township=township, destination=street)
    plan = plan_run(max_pickup_stops=1, max_dropoff_stops=1)
    assert plan.trips == 3
    for trip in Trip.objects.all():
        assert (len(pickups(trip)), len(dropoffs(trip))) == (1, 1)


def test_plan_summary(accepted, plan_run):
    accepted(3)
    plan = plan_run()
    assert plan.parameters == {
        "max_pickup_stops": 3,
        "max_dropoff_stops": 3,
        "max_departures_per_pickup_per_day": 4,
        "min_gap_minutes": 20,
        "departure_window_start": "06:00",
        "departure_window_end": "10:00",
        "coach_types": ["large45", "large53", "medium35"],
    }
    assert (plan.riders, plan.seated, plan.trips, plan.lower_bound_trips) == (3, 3, 1, 1)
    assert plan.seat_utilization == round(3 / 35, 4)
    assert plan.seconds is not None and plan.finished_at is not None and not plan.active
    trip = Trip.objects.get()
    assert (trip.plan_id, trip.coach_type_id, trip.seats, trip.state) == (
        plan.pk,
        "medium35",
        35,
        "planned",
    )


# -- re-planning -----------------------------------------------------------------------------


def test_rider_who_can_no_longer_travel_loses_the_seat(accepted, plan_run):
    stays, leaves = accepted(2)
    plan_run()
    Laborer.objects.filter(pk=leaves.laborer_id).update(available_from=day(20))
    plan = plan_run()
    assert not Seat.objects.filter(laborer_id=leaves.laborer_id).exists()
    assert Seat.objects.filter(laborer_id=stays.laborer_id).exists()
    assert [u["match"] for u in plan.unseated] == [leaves.pk]
    assert list(
        StatusEvent.objects.filter(laborer_id=leaves.laborer_id).values_list(
            "from_status", "to_status", "note"
        )
    ) == [
        ("matched", "scheduled", f"plan {plan.pk - 1}"),
        ("scheduled", "matched", f"plan {plan.pk}: no seat"),
    ]


def test_replan_keeps_locked_trip_and_fills_its_empty_seats_first(accepted, plan_run, coordinator):
    first = accepted(2)
    plan_run()
    trip = Trip.objects.get()
    trip_lock(actor=coordinator, trip=trip)
    before = trips_state()[trip.pk]
    seats_before = {m.laborer_id: seats_state()[m.laborer_id] for m in first}
    compatible = accepted(3)
    elsewhere = accepted(1, township=PINGGUO_2)[0]
    plan = plan_run()
    after = trips_state()[trip.pk]
    assert after[:7] == before[:7]  # state, coach, schedule, stops (same rows, same etas)
    assert {m.laborer_id: seats_state()[m.laborer_id] for m in first} == seats_before
    assert sorted(seat_of(m).number for m in compatible) == [3, 4, 5]
    assert {seat_of(m).trip_id for m in compatible} == {trip.pk}
    # A rider of another township cannot join (the locked stops are fixed): a new coach.
    assert seat_of(elsewhere).trip_id != trip.pk
    assert (plan.riders, plan.seated, plan.trips) == (4, 4, 2)
    assert Trip.objects.get(pk=trip.pk).plan_id != plan.pk  # a fixed trip stays its plan's


@pytest.mark.parametrize("state", ["boarding", "departed"])
def test_replan_adds_nobody_to_a_boarding_or_departed_trip(accepted, plan_run, coordinator, state):
    first = accepted(2)
    plan_run()
    trip = Trip.objects.get()
    trip_lock(actor=coordinator, trip=trip)
    trip_board(actor=coordinator, trip=trip, laborer_ids=[m.laborer_id for m in first])
    if state == "departed":
        trip_depart(actor=coordinator, trip=trip)
    before = trips_state()[trip.pk]
    assert before[0] == state
    newcomer = accepted(1)[0]
    plan_run()
    assert trips_state()[trip.pk] == before
    assert seat_of(newcomer).trip_id != trip.pk


def test_replan_with_nothing_new_changes_nothing(accepted, plan_run, sms_outbox):
    accepted(3)
    accepted(2, township=PINGGUO_2, destination=GUANLAN, start=day(4))
    accepted(2, township=JINGXI_SEAT, start=day(6))
    plan_run()
    trips, seats = trips_state(), seats_state()
    messages = list(Notification.objects.values_list("pk", "laborer_id", "signature"))
    assert len(sms_outbox) == len(messages) == 7
    events = StatusEvent.objects.count()
    second = plan_run()
    assert trips_state() == trips
    assert seats_state() == seats
    assert list(Notification.objects.values_list("pk", "laborer_id", "signature")) == messages
    assert len(sms_outbox) == 7
    assert StatusEvent.objects.count() == events
    assert set(Trip.objects.values_list("plan_id", flat=True)) == {second.pk}


def test_replan_keeps_the_seat_rows_of_riders_whose_seat_did_not_change(
    accepted, plan_run, sms_outbox
):
    riders = accepted(2)
    plan_run()
    before = {m.laborer_id: seats_state()[m.laborer_id] for m in riders}
    # A rider for a second drop-off later on the route: the pickup of the others is as it was.
    newcomer = accepted(1, destination=GUANLAN)[0]
    plan_run()
    assert seat_of(newcomer).trip_id == before[riders[0].laborer_id][1]
    kept = {m.laborer_id: seats_state()[m.laborer_id] for m in riders}
    assert {k: v[:3] for k, v in kept.items()} == {k: v[:3] for k, v in before.items()}
    assert Notification.objects.filter(laborer_id__in=before).count() == 2
    assert [phone for phone, _ in sms_outbox] == [
        riders[0].laborer.phone,
        riders[1].laborer.phone,
        newcomer.laborer.phone,
    ]


def test_replan_tells_riders_whose_pickup_time_changed(accepted, plan_run, sms_outbox):
    rider, _companion = accepted(2)
    plan_run()
    seat = seat_of(rider)
    trip_id, number, seat_id = seat.trip_id, seat.number, seat.pk
    assert "3月6日06:00在马头镇上车" in sms_outbox[0][1]
    # A rider from another township: the coach calls there first (fewer riders wait on
    # board that way), so the pickup at 马头镇 moves ten minutes later.
    newcomer = accepted(1, township=PINGGUO_2)[0]
    plan_run()
    seat = seat_of(rider)
    assert (seat.pk, seat.trip_id, seat.number) == (seat_id, trip_id, number)
    assert local(seat.pickup.eta) == at(day(3), 6, 10)
    assert seat_of(newcomer).trip_id == trip_id
    mine = [text for phone, text in sms_outbox if phone == rider.laborer.phone]
    assert len(mine) == 2 and "3月6日06:10在马头镇上车" in mine[1]
    assert Notification.objects.filter(laborer_id=rider.laborer_id).count() == 2


def test_rider_told_again_when_the_seat_changes_back(accepted, plan_run, sms_outbox):
    rider, _companion = accepted(2)
    plan_run()
    other = accepted(1, township=PINGGUO_2)[0]
    plan_run()
    retire(other)
    plan_run()
    assert local(seat_of(rider).pickup.eta) == at(day(3), 6)
    mine = [text for phone, text in sms_outbox if phone == rider.laborer.phone]
    assert [("06:00在" in t, "06:10在" in t) for t in mine] == [
        (True, False),
        (False, True),
        (True, False),
    ]


def test_replan_tells_riders_when_their_coach_changes(accepted, plan_run, sms_outbox):
    riders = accepted(40)
    plan_run()
    trip = Trip.objects.get()
    assert trip.coach_type_id == "large45"
    by_number = sorted(riders, key=lambda m: seat_of(m).number)
    staying, leaving = by_number[:30], by_number[30:]
    before = {m.laborer_id: seats_state()[m.laborer_id] for m in staying}
    retire(*leaving)
    sms_outbox.clear()
    plan_run()
    trip.refresh_from_db()
    assert (trip.coach_type_id, trip.seats) == ("medium35", 35)
    assert {m.laborer_id: seats_state()[m.laborer_id] for m in staying} == before
    assert len(sms_outbox) == 30
    assert all("中型客车 35座" in text for _, text in sms_outbox)


def test_running_the_same_plan_task_twice_has_one_effect(accepted, coordinator, sms_outbox):
    accepted(3)
    plan = plan_create(actor=coordinator, from_date=DAY, to_date=day(9))
    plan_transfers(plan.pk)
    plan.refresh_from_db()
    trips, seats = trips_state(), seats_state()
    notes = Notification.objects.count()
    plan_transfers(plan.pk)
    plan_execute(plan_id=plan.pk)
    again = TransferPlan.objects.get(pk=plan.pk)
    assert (again.status, again.finished_at, again.deliveries) == ("done", plan.finished_at, 1)
    assert trips_state() == trips and seats_state() == seats
    assert Notification.objects.count() == notes == len(sms_outbox) == 3


def test_a_trip_locked_while_the_plan_computes_keeps_its_riders(
    accepted, plan_run, coordinator, monkeypatch
):
    riders = accepted(3)
    plan_run()
    trip = Trip.objects.get()
    seats = seats_state()
    retire(riders[2])  # the next plan would drop this rider from the planned trip
    real = core.plan_transfers

    def lock_meanwhile(*args: Any, **kwargs: Any) -> core.Plan:
        result = real(*args, **kwargs)
        if Trip.objects.get(pk=trip.pk).state == "planned":
            trip_lock(actor=coordinator, trip=trip)
        return result

    monkeypatch.setattr(transfer_services.core, "plan_transfers", lock_meanwhile)
    plan_run()
    trip.refresh_from_db()
    assert trip.state == "locked"
    assert seats_state() == seats


def test_plan_refused_while_another_is_active(coordinator, second_coordinator):
    first = plan_create(actor=coordinator, from_date=DAY, to_date=day(9))
    with pytest.raises(Conflict) as refused:
        plan_create(actor=second_coordinator, from_date=DAY, to_date=day(3))
    assert (refused.value.message, refused.value.extra) == (
        "A transfer plan is already queued or running.",
        {"active_plan": first.pk},
    )
    assert TransferPlan.objects.count() == 1
    plan_execute(plan_id=first.pk)
    assert plan_create(actor=second_coordinator, from_date=DAY, to_date=day(3)).pk != first.pk


def test_plan_create_refuses_unknown_or_inactive_coach_types(coordinator, mini_coach):
    with pytest.raises(ApplicationError) as unknown:
        plan_create(actor=coordinator, from_date=DAY, to_date=day(1), coach_types=["bus99"])
    assert (unknown.value.message, unknown.value.extra) == (
        "coach_types: Unknown coach type 'bus99'.",
        {"coach_types": ["Unknown coach type 'bus99'."]},
    )
    mini_coach.active = False
    mini_coach.save()
    with pytest.raises(ApplicationError) as inactive:
        plan_create(actor=coordinator, from_date=DAY, to_date=day(1), coach_types=["mini4"])
    assert (inactive.value.message, inactive.value.extra) == (
        "coach_types: No active coach type to plan with.",
        {"coach_types": ["No active coach type to plan with."]},
    )
    assert TransferPlan.objects.count() == 0


# -- the day of departure --------------------------------------------------------------------


def test_trip_life_events_and_laborer_statuses(accepted, plan_run, coordinator):
    on_board, no_show = accepted(2)
    plan = plan_run()
    trip = Trip.objects.get()
    assert list(
        StatusEvent.objects.filter(laborer_id=on_board.laborer_id).values_list(
            "from_status", "to_status", "note"
        )
    ) == [("matched", "scheduled", f"plan {plan.pk}")]
    trip_lock(actor=coordinator, trip=trip)
    trip_unlock(actor=coordinator, trip=trip)
    trip_lock(actor=coordinator, trip=trip)
    trip_board(actor=coordinator, trip=trip, laborer_ids=[on_board.laborer_id])
    trip_board(actor=coordinator, trip=trip, laborer_ids=[on_board.laborer_id])
    assert seat_of(on_board).boarded_at is not None
    trip_depart(actor=coordinator, trip=trip)
    trip_arrive(actor=coordinator, trip=trip)
    trip.refresh_from_db()
    assert trip.state == "arrived"
    assert list(
        TripEvent.objects.filter(trip=trip).values_list("from_state", "to_state", "note")
    ) == [
        ("planned", "locked", ""),
        ("locked", "planned", ""),
        ("planned", "locked", ""),
        ("locked", "boarding", "1 boarded"),
        ("boarding", "boarding", "1 boarded"),
        ("boarding", "departed", "1 on board, 1 absent"),
        ("departed", "arrived", ""),
    ]
    assert set(TripEvent.objects.values_list("actor", flat=True)) == {coordinator.pk}
    assert list(
        StatusEvent.objects.filter(laborer_id=on_board.laborer_id).values_list(
            "from_status", "to_status"
        )
    ) == [("matched", "scheduled"), ("scheduled", "departed"), ("departed", "arrived")]
    # The no-show lost the seat and is back in the pool for the next plan.
    assert not Seat.objects.filter(laborer_id=no_show.laborer_id).exists()
    assert Laborer.objects.get(pk=no_show.laborer_id).status == "matched"
    assert list(Seat.objects.values_list("laborer_id", flat=True)) == [on_board.laborer_id]


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        (
            "planned",
            trip_board,
            "Cannot board a trip that is planned: it must be boarding or locked.",
        ),
        ("planned", trip_unlock, "Cannot unlock a trip that is planned: it must be locked."),
        ("planned", trip_arrive, "Cannot arrive a trip that is planned: it must be departed."),
        ("locked", trip_lock, "Cannot lock a trip that is locked: it must be planned."),
        (
            "departed",
            trip_cancel,
            "Cannot cancel a trip that is departed: it must be boarding or locked or planned.",
        ),
        (
            "arrived",
            trip_depart,
            "Cannot depart a trip that is arrived: it must be boarding or locked.",
        ),
        ("cancelled", trip_lock, "Cannot lock a trip that is cancelled: it must be planned."),
    ],
)
def test_transition_refused_from_the_wrong_state(
    accepted, plan_run, coordinator, state, action, message
):
    rider = accepted(1)[0]
    plan_run()
    trip = Trip.objects.get()
    Trip.objects.filter(pk=trip.pk).update(state=state)
    kwargs = {"laborer_ids": [rider.laborer_id]} if action is trip_board else {}
    with pytest.raises(Conflict) as refused:
        action(actor=coordinator, trip=trip, **kwargs)
    assert refused.value.message == message
    assert Trip.objects.get(pk=trip.pk).state == state
    assert TripEvent.objects.count() == 0


def test_acting_on_a_trip_a_new_plan_replaced(accepted, plan_run, coordinator):
    rider = accepted(1)[0]
    plan_run()
    stale = Trip.objects.get()
    retire(rider)
    plan_run()  # nobody left to carry: the planned trip is dropped
    assert not Trip.objects.filter(pk=stale.pk).exists()
    with pytest.raises(ApplicationError) as gone:
        trip_lock(actor=coordinator, trip=stale)
    assert (gone.value.status, gone.value.message) == (
        404,
        "This trip no longer exists: a new plan replaced it.",
    )


def test_departure_needs_someone_on_board(accepted, plan_run, coordinator):
    accepted(1)
    plan_run()
    trip = Trip.objects.get()
    trip_lock(actor=coordinator, trip=trip)
    with pytest.raises(Conflict) as refused:
        trip_depart(actor=coordinator, trip=trip)
    assert (
        refused.value.message == "Nobody has boarded this trip: board the riders before departure."
    )
    assert Trip.objects.get(pk=trip.pk).state == "locked"


def test_board_only_this_trips_riders(accepted, plan_run, coordinator):
    here = accepted(1)[0]
    there = accepted(1, township=JINGXI_SEAT)[0]
    plan_run()
    trip = seat_of(here).trip
    trip_lock(actor=coordinator, trip=trip)
    with pytest.raises(ApplicationError) as refused:
        trip_board(actor=coordinator, trip=trip, laborer_ids=[here.laborer_id, there.laborer_id])
    assert (refused.value.message, refused.value.extra) == (
        f"laborers: Laborer {there.laborer_id} has no seat on this trip.",
        {"laborers": [f"Laborer {there.laborer_id} has no seat on this trip."]},
    )
    assert Seat.objects.filter(boarded_at__isnull=False).count() == 0
    assert Trip.objects.get(pk=trip.pk).state == "locked"


def test_cancel_returns_riders_to_the_pool(accepted, plan_run, coordinator):
    riders = accepted(2)
    plan_run()
    trip = Trip.objects.get()
    trip_lock(actor=coordinator, trip=trip)
    trip_cancel(actor=coordinator, trip=trip)
    trip.refresh_from_db()
    assert trip.state == "cancelled"
    assert Seat.objects.count() == 0
    assert set(
        Laborer.objects.filter(pk__in=[m.laborer_id for m in riders]).values_list(
            "status", flat=True
        )
    ) == {"matched"}
    assert TripEvent.objects.filter(trip=trip).last().note == "2 riders back to the pool"
    assert (
        StatusEvent.objects.filter(to_status="matched", note=f"trip {trip.pk} cancelled").count()
        == 2
    )
    # The next plan seats them again, on a new trip; the cancelled one stays as it was.
    plan = plan_run()
    assert plan.seated == 2
    assert {seat_of(m).trip_id for m in riders} != {trip.pk}
    assert Trip.objects.get(pk=trip.pk).state == "cancelled"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_boarding_of_one_rider_on_two_trips(
    accepted, plan_run, coordinator, eager_celery
):
    assert connection.vendor == "postgresql"
    mine = accepted(1)[0]
    accepted(1, township=JINGXI_SEAT)
    plan_run()
    trip_a = seat_of(mine).trip
    trip_b = Trip.objects.exclude(pk=trip_a.pk).get()
    for trip in (trip_a, trip_b):
        trip_lock(actor=coordinator, trip=trip)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def board(trip: Trip) -> None:
        try:
            barrier.wait()
            try:
                trip_board(actor=coordinator, trip=trip, laborer_ids=[mine.laborer_id])
                outcomes[trip.pk] = "boarded"
            except ApplicationError as exc:
                outcomes[trip.pk] = f"{exc.status}"
        finally:
            connection.close()

    threads = [threading.Thread(target=board, args=(t,)) for t in (trip_a, trip_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {trip_a.pk: "boarded", trip_b.pk: "400"}
    assert Seat.objects.get(laborer_id=mine.laborer_id).trip_id == trip_a.pk
    assert Trip.objects.get(pk=trip_b.pk).state == "locked"


# -- notifications ---------------------------------------------------------------------------


def test_seat_notification_in_chinese_once_per_seat(accepted, plan_run, sms_outbox, settings):
    rider = accepted(1)[0]
    plan_run()
    seat = seat_of(rider)
    text = (
        f"【百色就业】{rider.laborer.name}您好：您已安排乘坐点对点免费专车，"
        f"3月6日06:00在马头镇上车，车次{seat.trip_id}（中型客车 35座），座位1号，"
        f"前往福永街道。联系人：{settings.TRANSFER_CONTACT}。"
    )
    assert sms_outbox == [(rider.laborer.phone, text)]
    note = Notification.objects.get()
    assert (note.laborer_id, note.trip_id, note.phone, note.message, note.sent, note.error) == (
        rider.laborer_id,
        seat.trip_id,
        rider.laborer.phone,
        text,
        True,
        "",
    )
    assert note.backend == "tests.matching.conftest.RecordingBackend"
    assert notify_seats([seat.pk]) == 0  # asked again: the seat is unchanged
    assert len(sms_outbox) == 1 and Notification.objects.count() == 1


def test_failed_message_is_recorded_with_the_error(accepted, plan_run):
    rider = accepted(1)[0]
    with override_settings(SMS_BACKEND="tests.matching.conftest.FailingBackend"):
        sms.backend.cache_clear()
        try:
            plan_run()
        finally:
            sms.backend.cache_clear()
    note = Notification.objects.get()
    assert (note.laborer_id, note.sent, note.error) == (
        rider.laborer_id,
        False,
        "gateway refused: quota exceeded",
    )
    assert Seat.objects.filter(laborer_id=rider.laborer_id).exists()


def test_broken_gateway_does_not_fail_the_plan(accepted, plan_run):
    riders = accepted(3)
    Laborer.objects.filter(pk=riders[0].laborer_id).update(phone=BrokenBackend.UNREACHABLE)
    with override_settings(SMS_BACKEND="tests.matching.conftest.BrokenBackend"):
        sms.backend.cache_clear()
        try:
            plan = plan_run()
        finally:
            sms.backend.cache_clear()
    assert (plan.status, plan.seated) == ("done", 3)
    notes = {n.laborer_id: (n.sent, n.error) for n in Notification.objects.all()}
    assert notes == {
        riders[0].laborer_id: (False, "ConnectionError: gateway unreachable"),
        riders[1].laborer_id: (True, ""),
        riders[2].laborer_id: (True, ""),
    }
    assert TransferPlan.objects.filter(active=True).count() == 0


def test_default_backend_logs_with_the_phone_masked(accepted, plan_run, caplog):
    sms.backend.cache_clear()
    rider = accepted(1)[0]
    with caplog.at_level("INFO", logger="jobmatch.sms"):
        plan_run()
    [record] = [r for r in caplog.records if r.name == "jobmatch.sms"]
    phone = rider.laborer.phone
    assert f"SMS to {phone[:3]}****{phone[7:]}:" in record.getMessage()
    assert phone not in record.getMessage()
