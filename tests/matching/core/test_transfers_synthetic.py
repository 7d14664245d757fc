"""The synthetic season generator and the benchmark entry point."""

from __future__ import annotations

from collections import Counter

from matching.core.transfers import plan_transfers
from matching.core.transfers_bench import main
from matching.core.transfers_check import check_plan
from matching.core.transfers_synthetic import COUNTIES, generate_season, season_points


def test_points_cover_all_137_townships_and_the_destinations() -> None:
    points = season_points()
    townships = [p for p in points if p.code[:6] in COUNTIES]
    assert len(townships) == 137
    assert len({p.code for p in points}) == len(points)
    seat = next(p for p in points if p.code == "451081100")  # 靖西市 新靖镇
    assert (seat.lat, seat.lng) == (23.134117, 106.417805)


def test_season_is_deterministic_and_shaped_like_the_brief() -> None:
    a = generate_season(6_000, seed=3)
    b = generate_season(6_000, seed=3)
    assert a == b
    assert len(a.riders) == 6_000
    assert len({r.id for r in a.riders}) == 6_000
    assert set(Counter(r.county for r in a.riders)) == set(COUNTIES)
    cities = Counter(r.city for r in a.riders)
    assert (cities["440300"] + cities["441900"]) / 6_000 > 0.65
    households = Counter(r.household for r in a.riders if r.household)
    share = sum(households.values()) / 6_000
    assert 0.07 < share < 0.13
    assert set(households.values()) <= {2, 3, 4}
    starts = sorted({r.start_date for r in a.riders})
    assert (starts[-1] - starts[0]).days == 20  # three weeks of start dates
    known = {p.code for p in a.points}
    assert all(r.pickup in known and r.dropoff in known for r in a.riders)


def test_counties_follow_population_at_season_size() -> None:
    season = generate_season(36_500, seed=2026)
    counties = Counter(r.county for r in season.riders)
    population = sum(c[3] for c in COUNTIES.values())
    for code, (_, _, _, people, _, _) in COUNTIES.items():
        share = counties[code] / len(season.riders)
        assert 0.6 < share / (people / population) < 1.4, code


def test_generated_season_plans_clean() -> None:
    season = generate_season(1_500, seed=9)
    result = plan_transfers(season.riders, season.points, season.params)
    assert check_plan(result, season.riders, season.points, season.params) == []
    seated = {rid for t in result.trips for rid in t.seats}
    assert seated | set(result.unseated) == {r.id for r in season.riders}
    assert not seated & set(result.unseated)
    assert result.stats["stop_aware_lower_bound"] >= result.lower_bound_trips
    assert len(result.trips) >= result.stats["stop_aware_lower_bound"]


def test_bench_prints_the_measures(capsys) -> None:
    assert main(["--riders", "800"]) == 0
    out = capsys.readouterr().out
    for label in ("trips", "lower_bound_trips", "seat utilization", "riders per coach", "unseated"):
        assert f"{label}:" in out
