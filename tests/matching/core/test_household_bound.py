"""The exact household bound: every feasible pair, CP-SAT against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matching.core import assignment, household_bound, scoring
from matching.core.types import KEEP_SAME_CITY, KEEP_SAME_EMPLOYER, HouseholdArrays, Policy

from .conftest import make_laborers, make_vacancies, make_vocab
from .test_assignment import household_status, random_household_case


def brute_best_score(lab, vac, vocab, policy, hh) -> tuple[int, int]:
    """(best total score, placements) over all assignments that keep households."""
    n, m = len(lab), len(vac)
    li, vj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ok = scoring.hard_mask(lab, vac, vocab, policy, li.ravel(), vj.ravel()).reshape(n, m)
    sc = scoring.score_parts(lab, vac, vocab, policy, li.ravel(), vj.ravel())["score"]
    sc = sc.reshape(n, m).astype(int)
    best = (0, 0)
    for combo in itertools.product(*[[-1, *np.flatnonzero(ok[i]).tolist()] for i in range(n)]):
        a = np.array(combo)
        if (np.bincount(a[a >= 0], minlength=m) > np.maximum(vac.openings, 0)).any():
            continue
        if (household_status(a, lab, hh, vac) == 2).any():
            continue
        total = int(sum(sc[i, a[i]] for i in range(n) if a[i] >= 0))
        best = max(best, (total, int((a >= 0).sum())))
    return best


@pytest.mark.parametrize("seed", range(10))
def test_household_optimum_matches_brute_force(seed: int) -> None:
    lab, vac, hh, vocab = random_household_case(np.random.default_rng(300 + seed))
    n = len(lab)
    policy = Policy()
    got = household_bound.household_optimum(lab, vac, hh, vocab, policy, time_limit_s=30)
    score, _placed = brute_best_score(lab, vac, vocab, policy, hh)
    assert got.optimal
    assert (got.best_score, got.score_bound) == (score, score)
    pairs = household_bound.feasible_pairs(lab, vac, vocab, policy)
    relax = assignment.assign(pairs, vac.openings, n)
    assert (got.relaxation_assigned, got.relaxation_score) == (relax.assigned, relax.total_score)
    assert got.feasible_pairs == len(pairs)
    # No household-keeping round can score above the bound.
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert res.total_score <= got.score_bound


@pytest.mark.parametrize("mode", [KEEP_SAME_EMPLOYER, KEEP_SAME_CITY])
def test_a_household_that_fits_only_apart_counts_for_nothing(mode: int) -> None:
    # Laborer 0 qualifies only for vacancy 0 (employer 0, city 0), laborer 1 only for
    # vacancy 1 (employer 1, city 1): the relaxation places both, a household neither.
    vocab = make_vocab()
    lab = make_laborers(
        3,
        skill_years=np.array([[3, -1, -1], [-1, -1, 3], [3, -1, -1]]),
        household=np.array([0, 0, -1]),
    )
    vac = make_vacancies(
        2, occupation=np.array([0, 2]), employer=np.array([0, 1]), city=np.array([0, 1])
    )
    hh = HouseholdArrays(keep_together=np.array([mode], dtype=np.int8))
    policy = Policy()
    got = household_bound.household_optimum(lab, vac, hh, vocab, policy, time_limit_s=10)
    pairs = household_bound.feasible_pairs(lab, vac, vocab, policy)
    assert sorted(zip(pairs.laborer.tolist(), pairs.vacancy.tolist(), strict=True)) == [
        (0, 0),
        (1, 1),
        (2, 0),
    ]
    score = {
        (int(a), int(b)): int(s)
        for a, b, s in zip(pairs.laborer, pairs.vacancy, pairs.score, strict=True)
    }
    assert got.relaxation_assigned == 2
    assert got.relaxation_score == max(score[0, 0], score[2, 0]) + score[1, 1]
    assert (got.best_assigned, got.best_score, got.score_bound, got.optimal) == (
        1,
        score[2, 0],
        score[2, 0],
        True,
    )


def test_pools_too_large_for_the_exact_model_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(household_bound, "MAX_CELLS", 5)
    lab, vac = make_laborers(3), make_vacancies(2)
    with pytest.raises(ValueError, match="3 laborers x 2 vacancies is too large"):
        household_bound.household_optimum(lab, vac, HouseholdArrays.empty(), make_vocab(), Policy())


def test_feasible_pairs_in_chunks_equal_one_pass(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    lab = make_laborers(40, min_wage=rng.choice([0, 5000, 7000], 40))
    vac = make_vacancies(7, wage_max=rng.integers(50, 80, 7) * 100)
    whole = household_bound.feasible_pairs(lab, vac, make_vocab(), Policy())
    monkeypatch.setattr(household_bound, "_CHUNK_CELLS", 10)
    chunked = household_bound.feasible_pairs(lab, vac, make_vocab(), Policy())
    for name in ("laborer", "vacancy", "score"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name))
    assert 0 < len(whole) < 40 * 7
