"""bench_households: the round against the exact household bound on a seeded sample."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching.core.household_bound import feasible_pairs
from matching.services.loading import load_laborers, load_vacancies, vocabulary_arrays
from matching.services.policy import policy_core, policy_current
from seeds.bench_report import render

pytestmark = pytest.mark.django_db


def test_bench_households_reports_the_round_under_the_exact_bound(tmp_path) -> None:
    call_command("seed_demo", laborers=400, vacancies=6, openings=150, seed=3, rankings="no")
    out = tmp_path / "households.json"
    call_command("bench_households", "--time-limit", "20", "--json-out", str(out))
    sample = json.loads(out.read_text(encoding="utf-8"))["sample"]
    vocab, axes = vocabulary_arrays()
    lab, households = load_laborers(axes)
    vac = load_vacancies(axes)
    pairs = feasible_pairs(lab, vac, vocab, policy_core(policy_current()))
    assert (sample["laborers"], sample["vacancies"], sample["openings"]) == (
        len(lab),
        len(vac),
        int(vac.openings.sum()),
    )
    assert sample["households"] == len(households) > 0
    exact, rnd = sample["exact"], sample["round"]
    assert exact["feasible_pairs"] == len(pairs)
    # The round keeps households together: it cannot beat the bound, and its relaxation
    # (households ignored) cannot place more than the exact one over every pair.
    assert rnd["total_score"] <= exact["score_bound"]
    assert exact["best_score"] <= exact["score_bound"]
    assert rnd["upper_bound_assigned"] <= exact["relaxation_assigned"]
    assert sample["least_gap"] == round(
        (rnd["upper_bound"] - exact["score_bound"]) / rnd["upper_bound"], 5
    )
    bound = min(exact["score_bound"], exact["priced_bound"])
    assert sample["round_below_bound"] == round((bound - rnd["total_score"]) / bound, 5)
    # The bound that prices households: over the round's pairs and over every pair.
    assert rnd["total_score"] <= rnd["household_bound"]
    assert rnd["household_gap"] == round(
        (rnd["household_bound"] - rnd["total_score"]) / rnd["household_bound"], 5
    )
    assert exact["best_score"] <= exact["priced_bound"]
    assert sample["priced_gap_all_pairs"] == round(
        (exact["priced_bound"] - rnd["total_score"]) / exact["priced_bound"], 5
    )


def test_bench_households_refuses_a_pool_too_large_for_the_exact_model(monkeypatch) -> None:
    from matching.core import household_bound

    call_command("seed_demo", laborers=50, vacancies=3, openings=20, seed=3, rankings="no")
    monkeypatch.setattr(household_bound, "MAX_CELLS", 10)
    with pytest.raises(CommandError, match=r"^\d+ laborers x 3 vacancies is too large"):
        call_command("bench_households", "--time-limit", "5")


def test_report_lists_the_household_samples() -> None:
    machine = {
        "cpu": "x",
        "cores": 2,
        "memory_gib": 1,
        "os": "Linux",
        "python": "3.11",
        "database": "PostgreSQL",
        "at": "now",
    }
    sample = {
        "seed": 7,
        "laborers": 4650,
        "least_gap": 0.01472,
        "round_below_bound": 0.00247,
        "round": {"gap": 0.01716, "household_gap": 0.00132},
        "priced_gap_all_pairs": 0.00129,
    }
    other = {**sample, "seed": 11, "least_gap": 0.03344, "round_below_bound": 0.00608}
    other["round"] = {"gap": 0.03932, "household_gap": 0.00362}
    other["priced_gap_all_pairs"] = 0.00421
    text = render({"machine": machine, "households": [sample, other]}, {})
    assert (
        "| Least gap any household-keeping assignment can have, 2 samples of 4,650 laborers "
        "(exact bound) | reported | 1.47%, 3.34% (the round's: 1.72%, 3.93%) | n/a |"
    ) in text
    assert (
        "| Round below the best household bound (CP-SAT's or the priced one), same samples "
        "| reported | 0.25%, 0.61% | n/a |" in text
    )
    assert (
        "| Gap to the bound that prices households, over every feasible pair, 2 samples "
        "| < 0.5% | 0.13%, 0.42% (over the round's pairs: 0.13%, 0.36%) | met |"
    ) in text
    other["priced_gap_all_pairs"] = 0.0052
    text = render({"machine": machine, "households": [sample, other]}, {})
    assert "| < 0.5% | 0.13%, 0.52% (over the round's pairs: 0.13%, 0.36%) | **not met** |" in text
    assert "### Households, exact bound on samples (`bench_households`)" in text
