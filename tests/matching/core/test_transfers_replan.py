"""Re-planning: fixed trips stay as they are, planned trips keep unchanged riders, and the
same input always gives the same plan."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from matching.core.transfers import (
    DROPOFF,
    PICKUP,
    ExistingTrip,
    Plan,
    Trip,
    plan_transfers,
)
from matching.core.transfers_check import check_plan
from matching.core.transfers_synthetic import generate_season
from tests.matching.core.test_transfers import (
    FUYONG,
    PARAMS,
    PG1,
    PINGGUO,
    POINTS,
    SHENZHEN,
    TZ,
    at,
    plan,
    rider,
    trip_of,
)

LOCKED_AT = datetime(2026, 3, 3, 6, 0, tzinfo=TZ)


def locked_trip(status: str, seats: dict[int, int]) -> ExistingTrip:
    return ExistingTrip(
        id="T-17",
        status=status,
        coach="coach-53",
        departure=LOCKED_AT,
        county=PINGGUO,
        city=SHENZHEN,
        stops=((PICKUP, PG1), (DROPOFF, FUYONG)),
        seats=seats,
    )


def as_hints(p: Plan) -> list[ExistingTrip]:
    return [
        ExistingTrip(
            id=t.key,
            status="planned",
            coach=t.coach.key,
            departure=t.departure,
            county=t.county,
            city=t.city,
            stops=tuple((s.kind, s.point) for s in t.stops),
            seats=dict(t.seats),
        )
        for t in p.trips
    ]


def seat_map(p: Plan) -> dict[int, tuple[str, int]]:
    return {rid: (t.key, seat) for t in p.trips for rid, seat in t.seats.items()}


def shape(t: Trip) -> tuple:
    return (
        t.key,
        t.coach.key,
        t.departure,
        tuple((s.kind, s.point, s.eta, s.riders) for s in t.stops),
        tuple(sorted(t.seats.items())),
        t.night_stops,
    )


# -- locked trips ----------------------------------------------------------------------------


def test_locked_trip_is_untouched_and_its_empty_seats_are_filled_first() -> None:
    riders = [rider(i, start=date(2026, 3, 6)) for i in range(1, 31)]
    existing = [locked_trip("locked", {i: i for i in range(1, 11)})]
    result = plan(riders, existing=existing)
    (trip,) = result.trips
    assert trip.locked and trip.kept_from == "T-17" and trip.key == "T-17"
    assert trip.departure == LOCKED_AT
    assert [(s.kind, s.point) for s in trip.stops] == [(PICKUP, PG1), (DROPOFF, FUYONG)]
    assert trip.coach.key == "coach-53"
    assert trip.seats == {i: i for i in range(1, 31)}


def test_locked_trip_takes_only_compatible_riders() -> None:
    riders = [rider(1, start=date(2026, 3, 6))]
    riders.append(rider(2, start=date(2026, 3, 9), dropoff="440309006"))  # other drop-off
    riders.append(rider(3, earliest=date(2026, 3, 4), start=date(2026, 3, 9)))  # later window
    existing = [locked_trip("locked", {1: 5})]
    result = plan(riders, existing=existing)
    locked = next(t for t in result.trips if t.locked)
    assert locked.seats == {1: 5}
    assert trip_of(result, 2).key != "T-17"
    assert trip_of(result, 3).departure.date() == date(2026, 3, 7)


def test_boarding_and_departed_trips_take_nobody_new() -> None:
    riders = [rider(i, start=date(2026, 3, 6)) for i in range(1, 6)]
    for status in ("boarding", "departed"):
        result = plan(riders, existing=[locked_trip(status, {1: 1, 2: 2})])
        locked = next(t for t in result.trips if t.locked)
        assert locked.seats == {1: 1, 2: 2}
        assert sorted(r for t in result.trips if not t.locked for r in t.seats) == [3, 4, 5]


def test_locked_seat_of_a_withdrawn_rider_is_kept() -> None:
    riders = [rider(1, start=date(2026, 3, 6))]
    result = plan(riders, existing=[locked_trip("locked", {1: 1, 99: 2})])
    (trip,) = result.trips
    assert trip.seats == {1: 1, 99: 2}
    assert trip.stops[0].riders == (1,)


def test_household_member_joins_the_locked_trip_of_the_household() -> None:
    riders = [rider(1, start=date(2026, 3, 9), household="H5")]
    riders.append(rider(2, start=date(2026, 3, 9), household="H5"))
    result = plan(riders, existing=[locked_trip("locked", {1: 4})])
    (trip,) = result.trips
    assert trip.seats == {1: 4, 2: 1}


def test_household_member_who_cannot_join_the_locked_trip_gets_a_reason() -> None:
    riders = [rider(1, start=date(2026, 3, 9), household="H6")]
    riders.append(rider(2, start=date(2026, 3, 9), dropoff="440309006", household="H6"))
    result = plan(riders, existing=[locked_trip("locked", {1: 4})])
    assert result.unseated == {
        2: "household H6: other members are on fixed trip T-17, which cannot take these members"
    }


def test_replanning_never_moves_a_locked_rider() -> None:
    # Alone the rider would leave on 03-07; locked on 03-03 it stays there.
    riders = [rider(1, start=date(2026, 3, 9))]
    result = plan(riders, existing=[locked_trip("locked", {1: 7})])
    (trip,) = result.trips
    assert trip.departure == at(date(2026, 3, 3), 6)
    assert trip.seats == {1: 7}


# -- planned trips as hints ------------------------------------------------------------------


def test_replan_with_unchanged_input_gives_the_same_plan() -> None:
    season = generate_season(500, seed=11)
    first = plan_transfers(season.riders, season.points, season.params)
    again = plan_transfers(season.riders, season.points, season.params, existing=as_hints(first))
    assert [shape(t) for t in again.trips] == [shape(t) for t in first.trips]
    assert again.unseated == first.unseated
    assert again.stats["kept_trips"] == len(first.trips)


def test_replan_keeps_the_seat_of_every_rider_whose_seat_need_not_change() -> None:
    season = generate_season(500, seed=11)
    first = plan_transfers(season.riders, season.points, season.params)
    leaving = {r.id for r in season.riders[::25]}
    newcomers = [
        dataclasses.replace(r, id=10_000 + r.id, laborer_id=20_000 + r.id, household=None)
        for r in season.riders[3::40]
    ]
    riders = [r for r in season.riders if r.id not in leaving] + newcomers
    second = plan_transfers(riders, season.points, season.params, existing=as_hints(first))
    assert check_plan(second, riders, season.points, season.params) == []
    before, after = seat_map(first), seat_map(second)
    stayed = [r.id for r in riders if r.id in before]
    assert stayed and all(after[rid] == before[rid] for rid in stayed)
    assert all(n.id in after or n.id in second.unseated for n in newcomers)


def test_hint_no_longer_valid_for_a_rider_is_replanned() -> None:
    riders = [rider(i, start=date(2026, 3, 9)) for i in range(1, 4)]
    first = plan(riders)
    moved = [*riders[:2], dataclasses.replace(riders[2], start_date=date(2026, 3, 6))]
    second = plan(moved, existing=as_hints(first))
    assert trip_of(second, 1).key == trip_of(first, 1).key
    assert trip_of(second, 3).departure.date() == date(2026, 3, 4)


# -- determinism -----------------------------------------------------------------------------


def test_same_input_in_any_order_gives_the_same_plan() -> None:
    season = generate_season(700, seed=5)
    a = plan_transfers(season.riders, season.points, season.params)
    b = plan_transfers(season.riders[::-1], season.points[::-1], season.params)
    assert [shape(t) for t in a.trips] == [shape(t) for t in b.trips]
    assert a.unseated == b.unseated
    assert check_plan(a, season.riders, season.points, season.params) == []


def test_small_input_plan_is_checked_clean() -> None:
    riders = [rider(i) for i in range(1, 5)]
    result = plan_transfers(riders, POINTS, PARAMS)
    assert check_plan(result, riders, POINTS, PARAMS) == []
    assert plan(riders).trips[0].key == f"{PINGGUO}-{SHENZHEN}-20260307-01"
