"""Coach planning rules, one test per rule (plain pytest: no Django, no database).

Geography is real (reference data): 平果市 is the closest county to Guangdong (a coach can
leave in the morning and arrive the same evening), 西林县 the farthest (never the same day).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobmatch import geo
from matching.core.transfers import (
    DEFAULT_COACH_TYPES,
    DROPOFF,
    PICKUP,
    Params,
    Plan,
    Point,
    Rider,
    lower_bound_trips,
    plan_transfers,
)
from matching.core.transfers_check import check_plan

TZ = ZoneInfo("Asia/Shanghai")
PINGGUO, XILIN = "451082", "451030"
SHENZHEN, DONGGUAN, HUIZHOU = "440300", "441900", "441300"
PG1, PG2, PG3, PG4 = "451082100", "451082101", "451082102", "451082103"  # seat + 3 others
XL1 = "451030100"
NP1 = "451026100"  # 那坡县 seat: 平湖 is 15 h 38 min away, 12 minutes to spare at 06:00
PINGHU = "440307003"
FUYONG, GUANLAN, PINGDI, KENGZI = "440306020", "440309006", "440307006", "440310005"
CHANGAN = "441900119"

POINTS = [
    Point(PG1, 23.329376, 107.589809),
    Point(PG2, 23.329376, 107.589809),  # townships without coordinates use the seat's
    Point(PG3, 23.329376, 107.589809),
    Point(PG4, 23.329376, 107.589809),
    Point(XL1, 24.489823, 105.093825),
    Point(NP1, 23.387441, 105.83253),
    Point(PINGHU, 22.69, 114.13),
    Point(FUYONG, 22.67, 113.82),
    Point(GUANLAN, 22.72, 114.05),
    Point(PINGDI, 22.77, 114.31),
    Point(KENGZI, 22.74, 114.38),
    Point(CHANGAN, 22.81, 113.80),
    Point(HUIZHOU, 23.112381, 114.415612),
]
PARAMS = Params(from_date=date(2026, 3, 1), to_date=date(2026, 3, 10))
CITY_OF = {
    FUYONG: SHENZHEN,
    PINGHU: SHENZHEN,
    GUANLAN: SHENZHEN,
    PINGDI: SHENZHEN,
    KENGZI: SHENZHEN,
    CHANGAN: DONGGUAN,
    HUIZHOU: HUIZHOU,
}


def rider(
    rid: int,
    *,
    pickup: str = PG1,
    dropoff: str = FUYONG,
    earliest: date = date(2026, 3, 1),
    start: date = date(2026, 3, 9),
    household: str | None = None,
) -> Rider:
    county = pickup[:6]
    return Rider(
        id=rid,
        laborer_id=10_000 + rid,
        county=county,
        pickup=pickup,
        dropoff=dropoff,
        city=CITY_OF[dropoff],
        earliest_departure=earliest,
        start_date=start,
        household=household,
    )


def plan(riders: list[Rider], params: Params = PARAMS, **kw) -> Plan:
    """Plan and assert the independent checker finds nothing wrong."""
    result = plan_transfers(riders, POINTS, params, **kw)
    assert check_plan(result, riders, POINTS, params, kw.get("existing", ())) == []
    return result


def trip_of(p: Plan, rid: int):
    return next(t for t in p.trips if rid in t.seats)


def minutes(a: str, b: str) -> int:
    pa = next(p for p in POINTS if p.code == a)
    pb = next(p for p in POINTS if p.code == b)
    return math.ceil(geo.coach_hours(pa.lat, pa.lng, pb.lat, pb.lng) * 60 - 1e-9)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


# -- exactly one seat --------------------------------------------------------------------


def test_every_rider_has_exactly_one_seat_or_a_reason() -> None:
    riders = [rider(i, dropoff=[FUYONG, GUANLAN, CHANGAN][i % 3]) for i in range(1, 121)]
    riders.append(rider(500, earliest=date(2026, 3, 12)))  # after the plan window
    result = plan(riders)
    seats = [rid for t in result.trips for rid in t.seats]
    assert sorted(seats) == list(range(1, 121))
    assert list(result.unseated) == [500]
    for t in result.trips:
        assert sorted(t.seats.values()) == list(range(1, len(t.seats) + 1))


def test_lower_bound_is_sum_over_county_and_city() -> None:
    riders = (
        [rider(i) for i in range(60)]
        + [rider(100 + i, dropoff=CHANGAN) for i in range(10)]
        + [rider(200 + i, pickup=XL1) for i in range(53)]
    )
    assert lower_bound_trips(riders, DEFAULT_COACH_TYPES) == 2 + 1 + 1
    assert plan(riders).lower_bound_trips == 4


# -- windows -------------------------------------------------------------------------------


def test_departure_not_before_earliest_departure() -> None:
    riders = [rider(1, earliest=date(2026, 3, 5), start=date(2026, 3, 9))]
    (trip,) = plan(riders).trips
    # Planned on the last day every coach of the county is surely on time: start - 2.
    assert trip.departure == at(date(2026, 3, 7), 6)


def test_arrival_by_22_on_the_eve_of_the_start_date() -> None:
    # 西林 -> 惠州 takes over 17 h: leaving on 03-04 would arrive after 22:00 that day.
    riders = [rider(1, pickup=XL1, dropoff=HUIZHOU, start=date(2026, 3, 5))]
    (trip,) = plan(riders).trips
    assert trip.departure == at(date(2026, 3, 3), 6)
    expected = at(date(2026, 3, 3), 6) + timedelta(minutes=10 + minutes(XL1, HUIZHOU))
    assert trip.stops[1].eta == expected
    assert expected <= at(date(2026, 3, 4), 22)


def test_same_evening_arrival_used_when_it_is_the_only_day() -> None:
    # 平果 -> 福永 is about 12 h: leaving at 06:00 arrives before 22:00 the same day.
    riders = [rider(1, earliest=date(2026, 3, 5), start=date(2026, 3, 6))]
    (trip,) = plan(riders).trips
    assert trip.departure == at(date(2026, 3, 5), 6)
    assert trip.stops[-1].eta == at(date(2026, 3, 5), 6) + timedelta(
        minutes=10 + minutes(PG1, FUYONG)
    )
    assert trip.stops[-1].eta <= at(date(2026, 3, 5), 22)


def test_unseated_reasons_are_exact() -> None:
    riders = [
        rider(1, earliest=date(2026, 3, 11)),
        rider(2, pickup=XL1, dropoff=HUIZHOU, earliest=date(2026, 3, 4), start=date(2026, 3, 5)),
        Rider(3, 3, PINGGUO, "999999999", FUYONG, SHENZHEN, date(2026, 3, 1), date(2026, 3, 9)),
    ]
    result = plan(riders)
    assert result.trips == []
    assert result.unseated == {
        1: "no departure date inside the window: available from 2026-03-11, "
        "the plan ends 2026-03-10",
        2: "cannot arrive by 22:00 on 2026-03-04 (start 2026-03-05) from any departure "
        "between 2026-03-04 and 2026-03-10",
        3: "unknown pickup point 999999999",
    }


# -- households ----------------------------------------------------------------------------


def test_household_rides_one_coach() -> None:
    # 52 riders due on 03-07 fill a coach first (earliest deadline first); the household of
    # four, due a day later, cannot take the last seat and travels whole on the next coach.
    singles = [rider(i, start=date(2026, 3, 9)) for i in range(1, 53)]
    family = [rider(100 + i, start=date(2026, 3, 10), household="H1") for i in range(4)]
    result = plan(singles + family)
    trips = {trip_of(result, r.id).key for r in family}
    assert len(trips) == 1
    family_trip = trip_of(result, 100)
    assert sorted(family_trip.seats) == [100, 101, 102, 103]
    assert family_trip.departure == at(date(2026, 3, 8), 6)
    assert sorted(len(t.seats) for t in result.trips) == [4, 52]


def test_household_split_over_cities_is_unseated_with_reason() -> None:
    riders = [
        rider(1, household="H9"),
        rider(2, dropoff=CHANGAN, household="H9"),
        rider(3),
    ]
    result = plan(riders)
    reason = (
        "household H9: members travel from different counties or to different cities, "
        "so no single coach can carry them together"
    )
    assert result.unseated == {1: reason, 2: reason}
    assert [sorted(t.seats) for t in result.trips] == [[3]]


def test_household_without_common_day_is_unseated_with_reason() -> None:
    riders = [
        rider(1, pickup=XL1, earliest=date(2026, 3, 1), start=date(2026, 3, 4), household="H2"),
        rider(2, pickup=XL1, earliest=date(2026, 3, 6), start=date(2026, 3, 9), household="H2"),
    ]
    result = plan(riders)
    reason = (
        "household H2: no common departure day on which every member arrives by the "
        "evening before their start date"
    )
    assert result.unseated == {1: reason, 2: reason}


# -- staggering ----------------------------------------------------------------------------


def test_at_most_four_departures_per_pickup_point_per_day_twenty_minutes_apart() -> None:
    # 西林 riders who can only leave on 03-03: five coaches' worth at one township.
    riders = [
        rider(i, pickup=XL1, earliest=date(2026, 3, 3), start=date(2026, 3, 5))
        for i in range(1, 5 * 53 + 1)
    ]
    result = plan(riders)
    assert [t.departure for t in result.trips] == [
        at(date(2026, 3, 3), 6, 0),
        at(date(2026, 3, 3), 6, 20),
        at(date(2026, 3, 3), 6, 40),
        at(date(2026, 3, 3), 7, 0),
    ]
    assert len(result.unseated) == 53
    assert set(result.unseated.values()) == {
        "no departure left: every day of the window already has 4 coaches leaving from "
        "pickup point(s) 451030100"
    }


def test_fifth_coach_moves_to_another_day_of_the_window() -> None:
    riders = [
        rider(i, pickup=XL1, earliest=date(2026, 3, 2), start=date(2026, 3, 5))
        for i in range(1, 5 * 53 + 1)
    ]
    result = plan(riders)
    days = sorted(t.departure.date().isoformat() for t in result.trips)
    assert days == ["2026-03-02"] + ["2026-03-03"] * 4
    assert result.unseated == {}


def test_no_departure_slot_left_when_only_the_first_time_arrives_in_time() -> None:
    # Only a same-evening arrival is possible and only a coach leaving by 06:10 makes it:
    # a second coach at the same township would leave at 06:20 and arrive after 22:00.
    riders = [
        rider(i, pickup=NP1, dropoff=PINGHU, earliest=date(2026, 3, 5), start=date(2026, 3, 6))
        for i in range(1, 61)
    ]
    result = plan(riders)
    (trip,) = result.trips
    assert trip.departure == at(date(2026, 3, 5), 6)
    assert len(trip.seats) == 53
    assert trip.arrival <= at(date(2026, 3, 5), 22)
    assert len(result.unseated) == 7
    assert set(result.unseated.values()) == {
        "no departure slot: no time in the departure window keeps 20 minutes from other "
        "coaches at the pickup point and still arrives in time, on any day of the window"
    }
    assert result.stats["repairs"] == 1


def test_first_pickup_inside_the_departure_window() -> None:
    params = Params(
        from_date=date(2026, 3, 1),
        to_date=date(2026, 3, 10),
        departure_window=(time(7, 15), time(8, 0)),
    )
    riders = [rider(i, dropoff=[FUYONG, CHANGAN][i % 2]) for i in range(1, 80)]
    result = plan(riders, params)
    # Two coaches (Shenzhen, Dongguan) call at the same township: 20 minutes apart.
    assert sorted(t.departure.time() for t in result.trips) == [time(7, 15), time(7, 35)]


# -- night ban -----------------------------------------------------------------------------


def test_night_stop_is_in_the_itinerary_when_unavoidable() -> None:
    params = Params(
        from_date=date(2026, 3, 1),
        to_date=date(2026, 3, 10),
        departure_window=(time(9, 30), time(10, 0)),
    )
    riders = [rider(1, pickup=XL1, dropoff=HUIZHOU, start=date(2026, 3, 9))]
    (trip,) = plan(riders, params).trips
    leave = datetime(2026, 3, 7, 9, 40)
    assert trip.departure == at(date(2026, 3, 7), 9, 30)
    assert trip.night_stop is not None
    assert (trip.night_stop.start, trip.night_stop.end) == (
        at(date(2026, 3, 8), 2),
        at(date(2026, 3, 8), 5),
    )
    assert trip.night_stop.before_stop == 1
    arrival = geo.arrival_after(leave, minutes(XL1, HUIZHOU) / 60)
    assert trip.arrival == arrival.replace(tzinfo=TZ)
    assert trip.arrival - trip.departure > timedelta(hours=20)


def test_departure_time_avoids_the_night_ban_when_it_can() -> None:
    riders = [rider(1, pickup=XL1, dropoff=HUIZHOU, start=date(2026, 3, 9))]
    (trip,) = plan(riders).trips
    assert trip.departure == at(date(2026, 3, 7), 6)
    assert trip.night_stops == ()


# -- capacity, coach types and cost ------------------------------------------------------------


def test_no_coach_over_its_seats_and_cheapest_types() -> None:
    riders = [rider(i) for i in range(1, 61)]
    result = plan(riders)
    # 53 + 7 would cost 9000 + 7000; 45 + 15 seats everyone on two coaches for 8200 + 7000.
    assert sorted((t.coach.seats, len(t.seats)) for t in result.trips) == [(35, 15), (45, 45)]
    assert result.stats["cost_yuan"] == 15_200


@pytest.mark.parametrize(("n", "seats"), [(30, 35), (40, 45), (53, 53)])
def test_single_coach_is_the_cheapest_that_seats_everyone(n: int, seats: int) -> None:
    (trip,) = plan([rider(i) for i in range(1, n + 1)]).trips
    assert trip.coach.seats == seats
    assert len(trip.seats) == n


# -- stop limits and grouping ------------------------------------------------------------------


def test_at_most_three_pickup_points_per_coach() -> None:
    riders = [
        rider(10 * k + i, pickup=p) for k, p in enumerate([PG1, PG2, PG3, PG4]) for i in range(5)
    ]
    result = plan(riders)
    pickups = sorted(sum(1 for s in t.stops if s.kind == PICKUP) for t in result.trips)
    assert pickups == [1, 3]
    assert sorted(len(t.seats) for t in result.trips) == [5, 15]


def test_at_most_three_dropoff_points_per_coach() -> None:
    riders = [
        rider(10 * k + i, dropoff=d)
        for k, d in enumerate([FUYONG, GUANLAN, PINGDI, KENGZI])
        for i in range(5)
    ]
    result = plan(riders)
    dropoffs = sorted(sum(1 for s in t.stops if s.kind == DROPOFF) for t in result.trips)
    assert dropoffs == [1, 3]


def test_trips_never_mix_counties_or_cities() -> None:
    riders = (
        [rider(i) for i in range(1, 6)]
        + [rider(10 + i, pickup=XL1) for i in range(5)]
        + [rider(20 + i, dropoff=CHANGAN) for i in range(5)]
    )
    result = plan(riders)
    groups = sorted((t.county, t.city, sorted(t.seats)) for t in result.trips)
    assert groups == [
        (XILIN, SHENZHEN, [10, 11, 12, 13, 14]),
        (PINGGUO, SHENZHEN, [1, 2, 3, 4, 5]),
        (PINGGUO, DONGGUAN, [20, 21, 22, 23, 24]),
    ]


def test_pooling_riders_of_different_dates_into_one_departure() -> None:
    # Ten start dates, overlapping windows: one coach carries all of them.
    riders = [
        rider(i, earliest=date(2026, 3, 1), start=date(2026, 3, 4) + timedelta(days=i % 4))
        for i in range(1, 41)
    ]
    (trip,) = plan(riders).trips
    assert trip.departure == at(date(2026, 3, 2), 6)
    assert len(trip.seats) == 40
