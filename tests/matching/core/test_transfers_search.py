"""The improvement phases: same-evening days in the search, the CP-SAT re-packing and the
fast timing feasibility test that both lean on (plain pytest: no Django, no database)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import date

import pytest

import matching.core.transfers_improve as improve_mod
from matching.core.transfers import DEFAULT_COACH_TYPES, _Planner
from matching.core.transfers_exact import exact_skeletons, flow_ok
from matching.core.transfers_improve import GroupSearch
from matching.core.transfers_timing import best_itinerary, order_exists
from tests.matching.core.test_transfers import (
    CHANGAN,
    FUYONG,
    GUANLAN,
    PARAMS,
    PG1,
    PG2,
    PINGDI,
    PINGGUO,
    SHENZHEN,
    plan,
    rider,
)
from tests.matching.core.test_transfers_timing import model


def _late_and_early(n: int = 20) -> list:
    """`n` riders free from 3/1 and `n` free only from 3/5, all starting work on 3/6.

    平果 -> 福永 is about 12 h: the early riders' safe last day is 3/4 (any coach arrives by
    22:00 on 3/5), but a coach leaving 平果 first thing on 3/5 still arrives that evening -
    the late riders' only day."""
    early = [rider(i, earliest=date(2026, 3, 1), start=date(2026, 3, 6)) for i in range(1, n + 1)]
    late = [
        rider(100 + i, earliest=date(2026, 3, 5), start=date(2026, 3, 6)) for i in range(1, n + 1)
    ]
    return early + late


def test_search_pools_early_riders_onto_a_same_evening_coach() -> None:
    result = plan(_late_and_early())
    (trip,) = result.trips
    assert trip.departure.date() == date(2026, 3, 5)
    assert len(trip.seats) == 40
    assert result.unseated == {}


def test_without_same_evening_days_in_the_search_two_coaches_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same season with the search kept to the safe days: what the extension buys.
    monkeypatch.setattr(improve_mod, "EXTEND_WINDOWS", False)
    result = plan(_late_and_early())
    assert len(result.trips) == 2


def test_extended_search_is_deterministic_and_leaves_windows_as_planned() -> None:
    riders = _late_and_early(30)
    first, second = plan(riders), plan(list(reversed(riders)))
    assert [(t.key, t.departure, t.seats) for t in first.trips] == [
        (t.key, t.departure, t.seats) for t in second.trips
    ]


def _search(riders: list, skeletons: list[tuple[set[int], set[int], int]]) -> GroupSearch:
    planner = _Planner(riders, _points(), PARAMS, DEFAULT_COACH_TYPES, ())
    parties = planner._parties({r.id for r in riders})
    ctx = planner.ctx
    # What `transfers._safe_day` records for the planner: the group's worst-case offset.
    for r in riders:
        planner._safe_day(r)
    quota = {(p, day): ctx.max_departures for p in range(len(planner.codes)) for day in range(10)}
    index = planner.index
    shaped = [({index[p] for p in ps}, {index[d] for d in ds}, day) for ps, ds, day in skeletons]
    return GroupSearch(ctx, PINGGUO, SHENZHEN, parties, shaped, quota=quota, seed="test", budget=0)


def _points():
    from tests.matching.core.test_transfers import POINTS

    return POINTS


def test_exact_repacking_finds_the_coach_the_skeletons_waste() -> None:
    # 30 riders to 福永 and 20 to 观澜, all free for days: one coach seats them, but the
    # skeletons given run three coaches on three days.
    riders = [rider(i, dropoff=FUYONG) for i in range(1, 31)]
    riders += [rider(i, dropoff=GUANLAN, pickup=PG2) for i in range(31, 51)]
    search = _search(
        riders,
        [({PG1}, {FUYONG}, 2), ({PG2}, {GUANLAN}, 3), ({PG1, PG2}, {FUYONG, GUANLAN}, 4)],
    )
    _, deficit = search.solve([search.eligible(sk) for sk in search.skeletons])
    assert deficit == 0
    better = exact_skeletons(search, search.skeletons)
    assert better is not None and len(better) == 1
    assert flow_ok(search, better, deficit)
    (sk,) = better
    assert {search.pickups[r] for r in sk[0]} == {
        _index(PG1),
        _index(PG2),
    }


def _index(code: str) -> int:
    return sorted(p.code for p in _points()).index(code)


def test_exact_repacking_gives_up_when_the_skeletons_are_already_at_the_bound() -> None:
    riders = [rider(i, dropoff=FUYONG) for i in range(1, 54)]  # exactly one full coach
    riders += [rider(i, dropoff=FUYONG) for i in range(54, 60)]  # six more: two coaches
    search = _search(riders, [({PG1}, {FUYONG}, 2), ({PG1}, {FUYONG}, 3)])
    assert exact_skeletons(search, search.skeletons) is None


def test_exact_repacking_keeps_households_whole() -> None:
    # Two households of 27 cannot share a 53-seat coach: still two coaches.
    riders = [rider(i, household="H1") for i in range(1, 28)]
    riders += [rider(i, household="H2") for i in range(28, 55)]
    search = _search(riders, [({PG1}, {FUYONG}, 2), ({PG1}, {FUYONG}, 5), ({PG1}, {FUYONG}, 6)])
    better = exact_skeletons(search, search.skeletons)
    assert better is not None and len(better) == 2


@pytest.mark.parametrize("seed", range(6))
def test_order_exists_agrees_with_best_itinerary(seed: int) -> None:
    m = model()
    rng = random.Random(seed)
    pickups, dropoffs = [0, 1, 2], [3, 4, 5]
    for _ in range(40):
        ps = rng.sample(pickups, rng.randint(1, 3))
        ds = rng.sample(dropoffs, rng.randint(1, 3))
        flows = {(p, d): 1 for p, d in itertools.product(ps, ds)}
        t0 = rng.choice([360, 420, 600, 1440 + 360])
        # Deadlines around the arrival times, so both answers occur.
        deadlines = {d: t0 + rng.randint(700, 1100) for d in ds}
        expected = (
            best_itinerary(
                m, flows, deadlines, t0, exact_max_orders=720, pyvrp_time_limit_s=0.5, seed=0
            )
            is not None
        )
        assert (
            order_exists(
                m, flows, deadlines, t0, exact_max_orders=720, pyvrp_time_limit_s=0.5, seed=0
            )
            == expected
        )


def test_plan_with_the_extended_search_meets_every_rule_on_a_mixed_season() -> None:
    params = dataclasses.replace(PARAMS, search_workers=1)
    result = plan(_mixed_season(), params)  # `plan` asserts check_plan finds nothing
    assert not result.unseated


def _mixed_season() -> list:
    return [
        rider(
            i,
            pickup=[PG1, PG2][i % 2],
            dropoff=[FUYONG, GUANLAN, PINGDI, CHANGAN][i % 4],
            earliest=date(2026, 3, 1 + i % 5),
            start=date(2026, 3, 6 + i % 4),
        )
        for i in range(1, 121)
    ]


def test_exact_step_is_skipped_when_the_plan_runs_late(monkeypatch: pytest.MonkeyPatch) -> None:
    # No time left for CP-SAT: the plan still meets every rule and says what it skipped.
    import matching.core.transfers as transfers_mod

    monkeypatch.setattr(transfers_mod, "EXACT_BUDGET_SHARE", 0.0)
    params = dataclasses.replace(PARAMS, search_workers=1)
    result = plan(_mixed_season(), params)
    assert result.stats["exact_skipped_for_time"] > 0
    assert result.stats["exact_coaches_removed"] == 0
    assert not result.unseated


def test_exact_step_never_costs_a_coach() -> None:
    riders = _mixed_season()
    params = dataclasses.replace(PARAMS, search_workers=1)
    with_exact = plan(riders, params)
    without = plan(riders, dataclasses.replace(params, exact_time=0.0))
    assert len(with_exact.trips) <= len(without.trips)
    assert len(with_exact.unseated) <= len(without.unseated)
