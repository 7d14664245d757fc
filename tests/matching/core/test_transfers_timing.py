"""Itinerary timing: the travel model wrapper, stop order, PyVRP routing, the checker."""

from __future__ import annotations

import dataclasses
import itertools
import math
from datetime import date, datetime, timedelta

import pytest

from jobmatch import geo
from matching.core.transfers import Params, Point, plan_transfers
from matching.core.transfers_check import check_plan
from matching.core.transfers_timing import (
    TravelModel,
    best_itinerary,
    evaluate,
    night_halts,
    pyvrp_order,
)
from tests.matching.core.test_transfers import (
    CHANGAN,
    FUYONG,
    GUANLAN,
    PARAMS,
    PINGDI,
    POINTS,
    rider,
)

EPOCH = datetime(2026, 3, 1)
# Three pickups with their own coordinates (so order matters) and three drop-offs.
SPREAD = [
    Point("A", 23.90, 106.62),  # 右江区
    Point("B", 23.74, 106.92),  # 田阳区
    Point("C", 23.60, 107.13),  # 田东县
    Point("X", 22.67, 113.82),  # 福永
    Point("Y", 22.72, 114.05),  # 观澜
    Point("Z", 22.77, 114.31),  # 坪地
]


def model(points: list[Point] = SPREAD) -> TravelModel:
    return TravelModel([(p.lat, p.lng) for p in points], EPOCH, dwell=10)


@pytest.mark.parametrize("depart", [0, 90, 360, 600, 1400, 1500, 1560])
@pytest.mark.parametrize("minutes", [0, 45, 300, 1000, 1500])
def test_arrive_is_geo_arrival_after_in_minutes(depart: int, minutes: int) -> None:
    m = model()
    expected = geo.arrival_after(EPOCH + timedelta(minutes=depart), minutes / 60)
    assert EPOCH + timedelta(minutes=m.arrive(depart, minutes)) == expected
    halted = sum(end - start for start, end in night_halts(depart, minutes))
    assert m.arrive(depart, minutes) - depart - minutes == halted


def test_leg_is_geo_coach_hours_rounded_up() -> None:
    m = model()
    hours = geo.coach_hours(23.90, 106.62, 22.67, 113.82)
    assert m.leg(0, 3) == int(hours * 60) + 1
    assert m.leg(0, 0) == 0


def test_best_itinerary_is_the_least_rider_time_order() -> None:
    m = model()
    flows = {(0, 3): 5, (1, 4): 20, (2, 5): 1, (0, 4): 2}
    it = best_itinerary(m, flows, {}, 360, exact_max_orders=720, pyvrp_time_limit_s=1, seed=0)
    assert it is not None
    brute = min(
        (evaluate(m, ps + ds, 3, flows, 360).rider_minutes, ps + ds)
        for ps in itertools.permutations((0, 1, 2))
        for ds in itertools.permutations((3, 4, 5))
    )
    assert (it.rider_minutes, it.stops) == brute


def test_deadline_changes_the_drop_off_order() -> None:
    m = model()
    flows = {(0, 3): 30, (0, 5): 1}
    free = best_itinerary(m, flows, {}, 360, exact_max_orders=720, pyvrp_time_limit_s=1, seed=0)
    assert free is not None and free.stops == (0, 3, 5)
    direct = evaluate(m, (0, 5, 3), 1, flows, 360)
    assert direct.etas[1] < free.etas[2]  # Z first reaches Z sooner
    rushed = best_itinerary(
        m, flows, {5: direct.etas[1]}, 360, exact_max_orders=720, pyvrp_time_limit_s=1, seed=0
    )
    assert rushed is not None and rushed.stops == (0, 5, 3)
    impossible = {5: 360 + 60}
    assert (
        best_itinerary(
            m, flows, impossible, 360, exact_max_orders=720, pyvrp_time_limit_s=1, seed=0
        )
        is None
    )


def test_pyvrp_order_is_the_shortest_coach_route() -> None:
    m = model()
    flows = {(0, 3): 5, (1, 4): 20, (2, 5): 1, (0, 4): 2}
    order = pyvrp_order(m, flows, {}, 360, time_limit_s=2.0, seed=0)
    assert order is not None

    def duration(stops: tuple[int, ...]) -> int:
        etas = evaluate(m, stops, 3, flows, 360).etas
        return etas[-1] - etas[0]

    shortest = min(
        duration(ps + ds)
        for ps in itertools.permutations((0, 1, 2))
        for ds in itertools.permutations((3, 4, 5))
    )
    assert duration(order) == shortest
    assert sorted(order[:3]) == [0, 1, 2] and sorted(order[3:]) == [3, 4, 5]


def test_plan_routes_with_pyvrp_when_enumeration_is_too_large() -> None:
    params = dataclasses.replace(PARAMS, exact_route_max_orders=1)
    riders = [rider(i, dropoff=[FUYONG, GUANLAN, PINGDI][i % 3]) for i in range(1, 40)]
    result = plan_transfers(riders, POINTS, params)
    assert check_plan(result, riders, POINTS, params) == []
    assert result.stats["pyvrp_calls"] > 0
    (trip,) = result.trips
    assert len(trip.seats) == 39


def test_itinerary_times_follow_the_travel_model() -> None:
    riders = [rider(1, dropoff=FUYONG), rider(2, dropoff=CHANGAN)]
    result = plan_transfers(riders, POINTS, PARAMS)
    assert len(result.trips) == 2
    for trip in result.trips:
        pickup, dropoff = trip.stops
        lat, lng = next((p.lat, p.lng) for p in POINTS if p.code == dropoff.point)
        leg = math.ceil(geo.coach_hours(23.329376, 107.589809, lat, lng) * 60 - 1e-9)
        leave = pickup.eta.replace(tzinfo=None) + timedelta(minutes=10)
        assert dropoff.eta.replace(tzinfo=None) == geo.arrival_after(leave, leg / 60)
        assert trip.drivers == 2 and trip.road_km > 400


def test_checker_reports_broken_rules() -> None:
    riders = [rider(i) for i in range(1, 4)]
    result = plan_transfers(riders, POINTS, PARAMS)
    (trip,) = result.trips
    broken = dataclasses.replace(trip, seats={1: 1, 2: 1, 3: 60})
    late = dataclasses.replace(trip, departure=trip.departure + timedelta(hours=5))
    bad = dataclasses.replace(result, trips=[broken], unseated={})
    problems = check_plan(bad, riders, POINTS, PARAMS)
    assert f"{trip.key}: two riders share a seat" in problems
    assert f"{trip.key}: seat number outside 1..{trip.coach.seats}" in problems
    late_plan = dataclasses.replace(result, trips=[late])
    assert f"{trip.key}: stop times do not follow the travel model" in check_plan(
        late_plan, riders, POINTS, PARAMS
    )
    missing = dataclasses.replace(result, trips=[])
    assert "rider 1 has neither a seat nor a reason" in check_plan(missing, riders, POINTS, PARAMS)


def test_params_reject_an_empty_window() -> None:
    with pytest.raises(ValueError, match="to_date is before from_date"):
        plan_transfers([], POINTS, Params(from_date=date(2026, 3, 2), to_date=date(2026, 3, 1)))


def test_duplicate_rider_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate rider ids"):
        plan_transfers([rider(1), rider(1)], POINTS, PARAMS)
