"""Assignment: optimality, capacities, households, stranding, determinism, baseline."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from matching.core import assignment, scoring
from matching.core.synthetic import make_instance
from matching.core.types import (
    KEEP_SAME_CITY,
    KEEP_SAME_EMPLOYER,
    PART_NAMES,
    CandidatePairs,
    HouseholdArrays,
    LaborerArrays,
    Policy,
    VacancyArrays,
    Vocabulary,
)

from .conftest import make_laborers, make_vacancies, make_vocab


def lsa_optimum(lab: np.ndarray, vac: np.ndarray, sc: np.ndarray, cap: np.ndarray, n: int):
    """(placements, total score) by linear_sum_assignment over opening slots.

    Weight B + score with B above any total score difference makes the maximum weight
    assignment the lexicographic optimum (most placements, then best score).
    """
    slots = np.repeat(np.arange(cap.shape[0]), cap)
    if slots.shape[0] == 0 or lab.shape[0] == 0:
        return 0, 0
    bonus = 100 * min(n, slots.shape[0]) + 1
    w = np.zeros((n, slots.shape[0]), dtype=np.int64)
    for li, vj, s in zip(lab.tolist(), vac.tolist(), sc.tolist(), strict=True):
        w[li, slots == vj] = bonus + s
    rows, cols = linear_sum_assignment(w, maximize=True)
    total = int(w[rows, cols].sum())
    return total // bonus, total % bonus


@pytest.mark.parametrize("seed", range(60))
def test_assign_is_lexicographically_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, v = int(rng.integers(1, 14)), int(rng.integers(1, 6))
    k = int(rng.integers(1, v + 1))
    lab = np.repeat(np.arange(n), k)
    vac = np.concatenate([rng.choice(v, size=k, replace=False) for _ in range(n)])
    sc = rng.integers(0, 101, lab.shape[0]) if seed % 2 else rng.integers(0, 3, lab.shape[0]) * 40
    cap = rng.integers(0, 4, v)
    res = assignment.assign(CandidatePairs(lab, vac, sc), cap, n)
    assert (res.assigned, res.total_score) == lsa_optimum(lab, vac, sc, cap, n)
    placed = res.vacancy >= 0
    assert (np.bincount(res.vacancy[placed], minlength=v) <= cap).all()
    key = set(zip(lab.tolist(), vac.tolist(), strict=True))
    assert all((i, int(res.vacancy[i])) in key for i in np.flatnonzero(placed))


def test_assign_prefers_placements_over_score() -> None:
    # One opening each at vacancies 0 and 1. Laborer 0 loves vacancy 0 (100) and could
    # take 1 (10); laborer 1 only fits vacancy 0 (20). Best score alone would place one
    # laborer at 0 with 100; the optimum places both: 0 -> 1 (10), 1 -> 0 (20).
    pairs = CandidatePairs(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([100, 10, 20]))
    res = assignment.assign(pairs, np.array([1, 1]), 2)
    assert res.vacancy.tolist() == [1, 0]
    assert (res.assigned, res.total_score) == (2, 30)


def household_status(
    res_assignment: np.ndarray, lab: LaborerArrays, hh: HouseholdArrays, vac: VacancyArrays
) -> np.ndarray:
    state = assignment._State(len(lab), vac.openings)
    state.vacancy = res_assignment.astype(np.int64)
    return assignment._household_status(state, assignment._Households.build(lab, hh), lab, vac)


def check_round(
    res,
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    hh: HouseholdArrays,
) -> None:
    """Invariants of every round result."""
    placed = np.flatnonzero(res.assignment >= 0)
    assert res.assigned == placed.shape[0]
    filled = np.bincount(res.assignment[placed], minlength=len(vac))
    assert (filled <= np.maximum(vac.openings, 0)).all()
    assert np.array_equal(filled, res.vacancy_filled)
    assert scoring.hard_mask(lab, vac, vocab, policy, placed, res.assignment[placed]).all()
    parts = scoring.score_parts(lab, vac, vocab, policy, placed, res.assignment[placed])
    assert np.array_equal(parts["score"], res.score[placed])
    assert res.total_score == int(res.score.astype(np.int64).sum())
    for name in PART_NAMES:
        assert np.array_equal(res.parts[name][placed], parts[name])
    assert (household_status(res.assignment, lab, hh, vac) != 2).all()
    # No stranding: no unplaced single laborer passes the hard rules for a vacancy with
    # openings left.
    left = np.flatnonzero(np.maximum(vac.openings, 0) - filled > 0)
    singles = np.flatnonzero((res.assignment < 0) & (lab.household < 0))
    if left.shape[0] and singles.shape[0]:
        li, vj = np.meshgrid(singles, left, indexing="ij")
        assert not scoring.hard_mask(lab, vac, vocab, policy, li.ravel(), vj.ravel()).any()


@pytest.mark.parametrize("seed", range(3))
def test_round_on_synthetic_data(seed: int) -> None:
    inst = make_instance(3000, 150, seed=seed)
    policy = Policy()
    res = assignment.solve_round(
        inst.lab, inst.vac, inst.households, inst.vocab, policy, progress=lambda f: None
    )
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)
    assert res.upper_bound >= res.total_score * 0.95
    assert res.upper_bound_assigned >= res.assigned
    assert res.households_placed > 0
    assert res.gap == pytest.approx((res.upper_bound - res.total_score) / res.upper_bound)


def test_round_is_deterministic() -> None:
    inst = make_instance(4000, 200, seed=9)
    policy = Policy()
    a = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    b = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    assert np.array_equal(a.assignment, b.assignment)
    assert np.array_equal(a.score, b.score)
    assert (a.total_score, a.upper_bound) == (b.total_score, b.upper_bound)


def test_pruning_to_k_does_not_strand(vocab: Vocabulary) -> None:
    # Both laborers' single best candidate (k=1) is vacancy 0 (one opening, better paid).
    # Laborer 1 also fits vacancy 1, which no top-1 list contains: the round must find it.
    policy = Policy(k=1)
    lab = make_laborers(2, skill_years=np.array([[9, -1, -1], [2, -1, -1]]))
    vac = make_vacancies(2, wage_min=np.array([7000, 4200]), wage_max=np.array([8000, 4600]))
    cand = scoring.generate_candidates(lab, vac, vocab, policy)
    assert cand.vacancy.tolist() == [0, 0]
    res = assignment.solve_round(lab, vac, None, vocab, policy)
    assert res.assignment.tolist() == [0, 1]
    assert res.stranding_pairs_added >= 1
    check_round(res, lab, vac, vocab, policy, HouseholdArrays.empty())


def test_stranding_is_removed_at_scale() -> None:
    inst = make_instance(5000, 400, seed=4)
    policy = Policy(k=2)
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    assert res.stranding_pairs_added > 0
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)


def two_member_case(mode: int) -> tuple[LaborerArrays, VacancyArrays, HouseholdArrays]:
    """Household {0, 1}; vacancy 0 (employer 0, city 0) pays best but has one opening,
    vacancies 1 and 2 (employer 1, city 1) one opening each; laborer 2 is single."""
    lab = make_laborers(3, household=np.array([0, 0, -1]))
    vac = make_vacancies(
        3,
        employer=np.array([0, 1, 1]),
        city=np.array([0, 1, 1]),
        destination=np.array([0, 1, 1]),
        wage_min=np.array([7000, 5000, 5000]),
        wage_max=np.array([8000, 6000, 6000]),
    )
    return lab, vac, HouseholdArrays(keep_together=np.array([mode], dtype=np.int8))


@pytest.mark.parametrize("mode", [KEEP_SAME_EMPLOYER, KEEP_SAME_CITY])
def test_household_kept_together(mode: int, vocab: Vocabulary, policy: Policy) -> None:
    lab, vac, hh = two_member_case(mode)
    relaxed = assignment.solve_round(lab, vac, None, vocab, policy)
    assert len(set(relaxed.assignment[:2].tolist())) == 2  # relaxation splits them
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert sorted(res.assignment[:2].tolist()) == [1, 2]  # together at employer / city 1
    assert res.assignment[2] == 0
    assert res.households_placed == 1
    check_round(res, lab, vac, vocab, policy, hh)


@pytest.mark.parametrize("mode", [KEEP_SAME_EMPLOYER, KEEP_SAME_CITY])
def test_household_left_out_rather_than_split(mode: int, vocab: Vocabulary, policy: Policy) -> None:
    # Only one opening each at two different employers / cities: they cannot be together.
    lab = make_laborers(2, household=np.array([0, 0]))
    vac = make_vacancies(2, employer=np.array([0, 1]), city=np.array([0, 1]))
    hh = HouseholdArrays(keep_together=np.array([mode], dtype=np.int8))
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert res.assignment.tolist() == [-1, -1]
    assert res.households_unplaced == 1
    # Without the household rule both would be placed (the upper bound knows it).
    assert res.upper_bound_assigned == 2 and res.gap == 1.0


def test_household_with_a_member_who_fits_nowhere_stays_out_of_the_bound(
    vocab: Vocabulary, policy: Policy
) -> None:
    # Laborer 1 withheld consent, so household {0, 1} can never be placed whole. Member 0
    # (more experience) would take the one opening in a relaxation that ignored this;
    # the round keeps the household out from the start, so single 2 gets it and the
    # upper bound is the round's own optimum: no gap.
    skills = np.full((3, 3), -1, dtype=np.int8)
    skills[:, 0] = [10, 10, 1]
    lab = make_laborers(
        3,
        household=np.array([0, 0, -1]),
        consent=np.array([True, False, True]),
        skill_years=skills,
    )
    vac = make_vacancies(1)
    hh = HouseholdArrays(keep_together=np.array([KEEP_SAME_EMPLOYER], dtype=np.int8))
    relaxed = assignment.solve_round(lab, vac, None, vocab, policy)
    assert relaxed.assignment.tolist() == [0, -1, -1]
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert res.assignment.tolist() == [-1, -1, 0]
    assert res.stats["households_impossible"] == 1.0
    assert res.households_unplaced == 1
    assert (res.upper_bound, res.upper_bound_assigned) == (res.total_score, 1)
    assert res.gap == 0.0
    check_round(res, lab, vac, vocab, policy, hh)


def brute_force_with_households(lab, vac, vocab, policy, hh) -> tuple[int, int]:
    n, m = len(lab), len(vac)
    li, vj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ok = scoring.hard_mask(lab, vac, vocab, policy, li.ravel(), vj.ravel()).reshape(n, m)
    sc = scoring.score_parts(lab, vac, vocab, policy, li.ravel(), vj.ravel())["score"]
    sc = sc.reshape(n, m).astype(int)
    options = [[-1, *np.flatnonzero(ok[i]).tolist()] for i in range(n)]
    best = (0, 0)
    for combo in itertools.product(*options):
        a = np.array(combo)
        used = np.bincount(a[a >= 0], minlength=m)
        if (used > np.maximum(vac.openings, 0)).any():
            continue
        if (household_status(a, lab, hh, vac) == 2).any():
            continue
        value = (int((a >= 0).sum()), int(sum(sc[i, a[i]] for i in range(n) if a[i] >= 0)))
        best = max(best, value)
    return best


def random_household_case(
    rng: np.random.Generator,
) -> tuple[LaborerArrays, VacancyArrays, HouseholdArrays, Vocabulary]:
    """Six laborers (households {0, 1} and {2, 3, 4}, a single) and four vacancies."""
    n, m = 6, 4
    vocab = make_vocab()
    skills = np.full((n, 3), -1)
    skills[np.arange(n), rng.integers(0, 3, n)] = rng.integers(0, 8, n)
    lab = make_laborers(
        n,
        skill_years=skills,
        min_wage=rng.choice([0, 4000, 5000], n),
        household=np.array([0, 0, 1, 1, 1, -1]),
    )
    vac = make_vacancies(
        m,
        occupation=rng.integers(0, 3, m),
        employer=rng.integers(0, 2, m),
        city=rng.integers(0, 2, m),
        openings=rng.integers(1, 3, m),
        wage_min=rng.integers(40, 60, m) * 100,
        wage_max=rng.integers(60, 80, m) * 100,
        meals=rng.random(m) < 0.5,
    )
    hh = HouseholdArrays(keep_together=rng.integers(0, 2, 2).astype(np.int8))
    return lab, vac, hh, vocab


@pytest.mark.parametrize("seed", range(12))
def test_small_rounds_with_households_are_optimal(seed: int) -> None:
    lab, vac, hh, vocab = random_household_case(np.random.default_rng(100 + seed))
    policy = Policy(k=len(vac))
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    check_round(res, lab, vac, vocab, policy, hh)
    assert (res.assigned, res.total_score) == brute_force_with_households(
        lab, vac, vocab, policy, hh
    )


def brute_greedy(lab, vac, vocab, policy) -> np.ndarray:
    n, m = len(lab), len(vac)
    li, vj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ok = scoring.hard_mask(lab, vac, vocab, policy, li.ravel(), vj.ravel()).reshape(n, m)
    sc = scoring.score_parts(lab, vac, vocab, policy, li.ravel(), vj.ravel())["score"]
    sc = np.where(ok, sc.reshape(n, m).astype(int), -1)
    rem = np.maximum(vac.openings, 0).astype(int)
    out = np.full(n, -1)
    for i in np.argsort(lab.id, kind="stable"):
        cand = np.where(rem > 0, sc[i], -1)
        if cand.max() >= 0:
            out[i] = int(np.argmax(cand))
            rem[out[i]] -= 1
    return out


@pytest.mark.parametrize("seed", range(3))
def test_greedy_baseline_is_first_come_first_served(seed: int) -> None:
    inst = make_instance(500, 40, seed=seed)
    # Shuffle ids so that id order differs from index order.
    inst.lab.id = np.random.default_rng(seed).permutation(len(inst.lab)).astype(np.int64)
    policy = Policy(k=3)
    got = assignment.greedy_baseline(
        inst.lab, inst.vac, inst.vocab, policy, refresh=40, refresh_k=4
    )
    assert np.array_equal(got.vacancy, brute_greedy(inst.lab, inst.vac, inst.vocab, policy))


@pytest.mark.parametrize(("seed", "refresh", "window", "low_water"), [(0, 7, 5, 2), (1, 64, 1, 1)])
def test_greedy_baseline_with_frequent_refreshes(
    seed: int, refresh: int, window: int, low_water: int
) -> None:
    # Small chunks and short lists force many batched refreshes of used-up lists; the
    # outcome must still be exactly first come, first served.
    inst = make_instance(400, 30, seed=seed)
    inst.lab.id = np.random.default_rng(seed + 7).permutation(len(inst.lab)).astype(np.int64)
    policy = Policy(k=2)
    got = assignment.greedy_baseline(
        inst.lab,
        inst.vac,
        inst.vocab,
        policy,
        refresh=refresh,
        refresh_k=3,
        window=window,
        low_water=low_water,
    )
    want = brute_greedy(inst.lab, inst.vac, inst.vocab, policy)
    assert np.array_equal(got.vacancy, want)
    assert got.assigned == int((want >= 0).sum())


def test_solve_flow_returns_positions_of_chosen_pairs() -> None:
    # Pairs on a full vacancy (capacity 0) are skipped; positions refer to the input.
    lab = np.array([0, 0, 1, 2, 2], dtype=np.int32)
    vac = np.array([2, 0, 0, 1, 0], dtype=np.int32)
    sc = np.array([90, 50, 60, 70, 10], dtype=np.int16)
    idx = assignment._solve_flow(lab, vac, sc, np.array([1, 1, 0]))
    assert idx.tolist() == [2, 3]  # 60 + 70 beats 50 + 70 (laborer 0 then unplaced)


def test_fill_residual_over_overlapping_lists() -> None:
    # The same pair in two pool lists must not place a laborer twice or overfill.
    state = assignment._State(3, np.array([1, 1]))
    state.place(np.array([2]), np.array([1]), np.array([40]))
    a = CandidatePairs(np.array([0, 1]), np.array([0, 0]), np.array([80, 30]))
    b = CandidatePairs(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([80, 30, 20]))
    placed = assignment._fill_residual(state, [a, b], np.ones(3, dtype=bool))
    assert placed == 1
    assert state.vacancy.tolist() == [0, -1, 1]
    assert state.score.tolist() == [80, 0, 40]
    assert (state.remaining() == 0).all()


def test_round_reports_flow_time() -> None:
    inst = make_instance(2000, 100, seed=3)
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, Policy())
    assert 0 < res.stats["flow_first"] <= res.stats["flow"] <= res.stats["total"]
    assert res.stats["cpu_total"] > 0


def small_household_instance(
    seed: int,
) -> tuple[LaborerArrays, VacancyArrays, HouseholdArrays, Vocabulary, Policy]:
    """Six laborers (household {0, 1}), four vacancies, at random."""
    rng = np.random.default_rng(seed)
    n, m = 6, 4
    vocab = make_vocab()
    skills = np.full((n, 3), -1)
    skills[np.arange(n), rng.integers(0, 3, n)] = rng.integers(0, 8, n)
    lab = make_laborers(
        n,
        skill_years=skills,
        min_wage=rng.choice([0, 4000, 5000], n),
        household=np.array([0, 0, -1, -1, -1, -1]),
    )
    vac = make_vacancies(
        m,
        occupation=rng.integers(0, 3, m),
        employer=rng.integers(0, 2, m),
        city=rng.integers(0, 2, m),
        openings=rng.integers(1, 3, m),
        wage_min=rng.integers(40, 60, m) * 100,
        wage_max=rng.integers(60, 80, m) * 100,
        meals=rng.random(m) < 0.5,
    )
    hh = HouseholdArrays(keep_together=rng.integers(0, 2, 1).astype(np.int8))
    return lab, vac, hh, vocab, Policy(k=m)


def solve_small_optimally(seed: int, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Round on `small_household_instance(seed)` without CP-SAT (as in components too
    large for it), checked to place household {0, 1} at the brute-force optimum."""
    monkeypatch.setattr(assignment, "CPSAT_MAX_PAIRS", 0)
    lab, vac, hh, vocab, policy = small_household_instance(seed)
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    check_round(res, lab, vac, vocab, policy, hh)
    assert res.households_placed == 1
    assert (res.assigned, res.total_score) == brute_force_with_households(
        lab, vac, vocab, policy, hh
    )
    return res, (lab, vac, hh, vocab, policy)


@pytest.mark.parametrize("seed", [103, 286, 386, 394])
def test_price_guided_insertion_places_households_optimally(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The joint repair leaves household {0, 1} out on these instances; the price-guided
    # insertion (displacing singles along their cheapest chains, re-solved exactly)
    # reaches the optimum.
    res, _ = solve_small_optimally(seed, monkeypatch)
    assert res.stats["lns_households"] == 1


@pytest.mark.parametrize("seed", [1, 27, 39])
def test_joint_repair_values_free_openings_at_who_would_take_them(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Valuing a free opening at the weakest single holding its vacancy, the joint repair
    # left household {0, 1} out here (only the price-guided insertion placed it). Valued at
    # the best unplaced single who could take it, the repair itself reaches the optimum.
    res, instance = solve_small_optimally(seed, monkeypatch)
    assert "lns_households" not in res.stats
    # The weakest holder's value leaves the household to the insertion, as before.
    repair = assignment._repair_households
    monkeypatch.setattr(
        assignment,
        "_repair_households",
        lambda *args, **kwargs: repair(*args, **{**kwargs, "successor": None}),
    )
    old = assignment.solve_round(*instance)
    assert old.stats["lns_households"] == 1


@pytest.mark.parametrize("seed", range(4))
def test_reassignments_fill_openings_like_all_pairs(seed: int) -> None:
    # k=1 leaves openings that only moves of placed laborers can fill (the no-stranding
    # rule sees unplaced laborers only): the relaxation must place as many laborers as
    # the exact optimum over ALL feasible pairs.
    inst = make_instance(1500, 120, 700, seed=seed, household_share=0.0)
    policy = Policy(k=1)
    every = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=len(inst.vac))
    best = assignment.assign(every, inst.vac.openings, len(inst.lab))
    top1 = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy)
    assert assignment.assign(top1, inst.vac.openings, len(inst.lab)).assigned < best.assigned
    res = assignment.solve_round(inst.lab, inst.vac, None, inst.vocab, policy)
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, HouseholdArrays.empty())
    assert res.assigned == res.upper_bound_assigned == best.assigned
    assert res.upper_bound <= best.total_score
    assert res.stats["refill_passes"] >= 1


def test_large_rounds_refill_by_moves_and_strand_nobody(monkeypatch) -> None:
    monkeypatch.setattr(assignment, "REFILL_MAX_POOL", 0)
    inst = make_instance(2000, 40, 700, seed=8, household_share=0.0)
    policy = Policy()
    monkeypatch.setattr(assignment, "MOVE_PASSES", 0)
    plain = assignment.solve_round(inst.lab, inst.vac, None, inst.vocab, policy, k=1)
    monkeypatch.setattr(assignment, "MOVE_PASSES", 3)
    res = assignment.solve_round(inst.lab, inst.vac, None, inst.vocab, policy, k=1)
    assert res.stats["refill_skipped"] == 1.0
    # One-move augmenting paths (the large rounds' refill) place more people here.
    assert res.stats["refill_passes"] >= 1
    assert res.assigned > plain.assigned
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, HouseholdArrays.empty())
    rows = np.flatnonzero(res.assignment >= 0)
    left = inst.vac.openings - np.bincount(res.assignment[rows], minlength=len(inst.vac))
    li, vj = np.meshgrid(
        np.flatnonzero(res.assignment < 0), np.flatnonzero(left > 0), indexing="ij"
    )
    assert not scoring.hard_mask(
        inst.lab, inst.vac, inst.vocab, policy, li.ravel(), vj.ravel()
    ).any()


def test_large_rounds_refill_singles_after_the_household_stage(monkeypatch) -> None:
    # Members whose household cannot be kept together leave openings behind; on large
    # rounds placed singles then step into those so that unplaced singles take their
    # places (one-move paths, as in the relaxation's refill).
    monkeypatch.setattr(assignment, "REFILL_MAX_POOL", 0)
    # No exact CP-SAT components, as in most of a full-scale round (here the whole graph
    # is one component, which CP-SAT takes most of a minute to prove).
    monkeypatch.setattr(assignment, "CPSAT_MAX_PAIRS", 0)
    # ... and no final exact flow of the singles or moves by price, which would make up
    # for the refill (as at full scale).
    monkeypatch.setattr(assignment, "SINGLES_EXACT_MAX_PAIRS", 0)
    monkeypatch.setattr(assignment, "PRICED_MAX_PAIRS", 0)
    inst = make_instance(3000, 40, 1000, seed=0, household_share=0.3)
    policy = Policy()
    monkeypatch.setattr(assignment, "SINGLES_MOVE_PASSES", 0)
    plain = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2)
    monkeypatch.setattr(assignment, "SINGLES_MOVE_PASSES", 6)
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2)
    assert (plain.assigned, res.assigned) == (992, 998)
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)


def _moves_case() -> tuple[assignment._State, list[CandidatePairs], CandidatePairs]:
    # Vacancies: 0 (2 places, m0 and m1), 1 (m2), 2 (m3 and m4), 3 open with 1 place.
    # Laborers 0-4 are m0-m4, 5 and 6 are unplaced.
    state = assignment._State(7, np.array([2, 1, 2, 1]))
    state.place(
        np.array([0, 1, 2, 3, 4]), np.array([0, 0, 1, 2, 2]), np.array([50, 60, 40, 40, 30])
    )
    pool = [CandidatePairs(np.array([5]), np.array([0]), np.array([70]))]  # 5 could take 0
    moves = CandidatePairs(
        np.array([0, 1, 2, 3, 4]), np.array([3, 3, 3, 3, 3]), np.array([45, 70, 30, 35, 35])
    )
    return state, pool, moves


def test_useful_moves_value_the_place_they_free(monkeypatch) -> None:
    state, pool, moves = _moves_case()
    taker = assignment._taker_scores(pool, state.vacancy < 0, 4)
    assert taker.tolist() == [70, -1, -1, -1]
    got = assignment._useful_moves(state, moves, taker, state.remaining())
    # m0 and m1 gain a placement (5 takes their place); m4 gains 5 points; m2 and m3,
    # whose places no unplaced pool candidate could take, would only lose points.
    assert [a.tolist() for a in (got.laborer, got.vacancy, got.score)] == [
        [0, 1, 4], [3, 3, 3], [45, 70, 35]
    ]  # fmt: skip
    # Each open vacancy keeps its best MOVE_KEEP per opening: placement, then score.
    monkeypatch.setattr(assignment, "MOVE_KEEP", 2)
    got = assignment._useful_moves(state, moves, taker, state.remaining())
    assert got.laborer.tolist() == [0, 1]  # values 1,065 and 1,080 beat m4's 5


@pytest.mark.parametrize("limit", [0, 40, 400, 10**9])
def test_components_label_small_ones_exactly_and_large_ones_together(monkeypatch, limit) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    monkeypatch.setattr(assignment, "CPSAT_MAX_PAIRS", limit)
    inst = make_instance(400, 60, seed=6, household_share=0.3)
    cand = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, Policy(), k=2)
    pool = [cand]
    hh = assignment._Households.build(inst.lab, inst.households)
    got = assignment._components(pool, 400, 60, hh, inst.lab)
    # Reference: every component of pairs + household links, labelled in full.
    heads = hh.members[hh.start[inst.lab.household[hh.members].astype(np.int64)]]
    rows = np.concatenate([cand.laborer, hh.members])
    cols = np.concatenate([cand.vacancy + 400, heads])
    graph = coo_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(460, 460))
    ref = connected_components(graph, directed=False)[1][:400]
    pairs = np.bincount(ref[cand.laborer], minlength=ref.max() + 1)
    small = pairs[ref] <= limit
    # Small components: the same partition. Large ones: one label, shared with no small.
    for c in np.unique(ref[small]):
        assert np.unique(got[ref == c]).shape[0] == 1
        assert (got == got[ref == c][0]).sum() == (ref == c).sum()
    assert np.unique(got[~small]).shape[0] <= 1
    assert not np.isin(got[~small], got[small]).any()
    assert (small.any() and (~small).any()) or limit in (0, 10**9)


@pytest.mark.parametrize("limit", [0, 40, 400])
def test_components_stop_once_every_wanted_laborer_is_in_a_large_one(monkeypatch, limit) -> None:
    monkeypatch.setattr(assignment, "CPSAT_MAX_PAIRS", limit)
    inst = make_instance(400, 60, seed=6, household_share=0.3)
    cand = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, Policy(), k=2)
    hh = assignment._Households.build(inst.lab, inst.households)
    full = assignment._components([cand], 400, 60, hh, inst.lab)
    in_large = full == np.unique(full)[-1]  # large components share the highest label
    members = np.zeros(400, dtype=bool)
    members[np.intersect1d(hh.members, cand.laborer)] = True
    got = assignment._components([cand], 400, 60, hh, inst.lab, wanted=members)
    if got is None:
        assert in_large[members].all()
    else:
        assert np.array_equal(got, full)
    # With no limit every paired laborer is in a large component from the first pass.
    assert (got is None) == (limit == 0)


def test_one_move_refill_stops_after_a_pass_that_places_nobody(monkeypatch) -> None:
    # Vacancies A, B, C with one place each; laborer 0 holds A (50 points), 1 holds B
    # (50), C is open and nobody is unplaced. Pass 1 moves 0 to C (60): more score, no
    # placement, so the refill stops there; a second pass would have moved 1 into the
    # place A left (70).
    options = {(0, 2): 60, (1, 0): 70}

    def moves(*_args, k, laborers, vacancies, **_kw) -> CandidatePairs:
        found = [
            (li, vj, sc) for (li, vj), sc in options.items()
            if li in set(laborers.tolist()) and vj in set(vacancies.tolist())
        ]  # fmt: skip
        cols = [np.array(c, dtype=np.int64) for c in zip(*found, strict=True)] or [
            np.zeros(0, dtype=np.int64)
        ] * 3
        return CandidatePairs(*cols)

    monkeypatch.setattr(scoring, "generate_candidates", moves)
    state = assignment._State(2, np.array([1, 1, 1]))
    state.place(np.array([0, 1]), np.array([0, 1]), np.array([50, 50]))
    state, _, passes = assignment._move_refill(
        state, [CandidatePairs.empty()], None, None, None, Policy(), 1, passes_max=5
    )
    assert passes == 1
    assert (state.vacancy.tolist(), state.score.tolist()) == ([2, 1], [60, 50])


@pytest.mark.parametrize(("all_passes", "movers"), [(1, [0, 1, 2]), (0, [1, 2])])
def test_later_refill_passes_move_only_laborers_a_taker_could_replace_and_members(
    monkeypatch, all_passes: int, movers: list[int]
) -> None:
    # Four vacancies, one place each, the last open. Laborer 0 (single) holds vacancy 0,
    # which nobody unplaced could take; laborer 1 (single) holds vacancy 1, which the
    # unplaced laborer 3 could take; laborer 2, a household member, holds vacancy 2.
    from types import SimpleNamespace

    asked: list[list[int]] = []

    def moves(*_args, laborers, **_kw) -> CandidatePairs:
        asked.append(laborers.tolist())
        return CandidatePairs.empty()

    monkeypatch.setattr(scoring, "generate_candidates", moves)
    monkeypatch.setattr(assignment, "MOVE_ALL_PASSES", all_passes)
    state = assignment._State(4, np.array([1, 1, 1, 1]))
    state.place(np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([50, 50, 50]))
    pool = [CandidatePairs(np.array([3]), np.array([1]), np.array([40]))]
    lab = SimpleNamespace(household=np.array([-1, -1, 0, -1], dtype=np.int32))
    assignment._move_refill(state, pool, lab, None, None, Policy(), 1)
    assert asked == [movers]


def test_large_flows_keep_each_vacancys_best_pairs_per_place(monkeypatch) -> None:
    monkeypatch.setattr(assignment, "FLOW_PRUNE_MIN", 0)
    monkeypatch.setattr(assignment, "FLOW_KEEP", 2)
    # Vacancy 0 (1 place) has 4 pairs: its best 2 stay, the tie at 70 going to the lower
    # laborer index. Vacancy 1 (2 places) has 3 pairs, fewer than 2 x 2: all stay.
    lab = np.array([5, 3, 1, 2, 4, 6, 7])
    vac = np.array([0, 0, 0, 0, 1, 1, 1])
    sc = np.array([70, 70, 90, 10, 20, 30, 40])
    got = assignment._prune(lab, vac, sc, np.array([1, 2]))
    pairs = sorted(zip(*(a.tolist() for a in got), strict=True))
    assert pairs == [(1, 0, 90), (3, 0, 70), (4, 1, 20), (6, 1, 30), (7, 1, 40)]
    # Below the size limit nothing is cut.
    monkeypatch.setattr(assignment, "FLOW_PRUNE_MIN", 7)
    got = assignment._prune(lab, vac, sc, np.array([1, 2]))
    assert [a.tolist() for a in got] == [lab.tolist(), vac.tolist(), sc.tolist()]


def test_pruned_flows_keep_every_rule_and_strand_nobody(monkeypatch) -> None:
    # Rounds large enough to prune their flows (here every flow, one pair per place)
    # still keep capacities, households and the no-stranding rule; the stranding passes
    # find what the cut first flow left, and here the round places as many people.
    inst = make_instance(5000, 400, seed=4)
    policy = Policy()
    exact = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    monkeypatch.setattr(assignment, "FLOW_PRUNE_MIN", 0)
    monkeypatch.setattr(assignment, "FLOW_KEEP", 1)
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)
    assert res.stranding_pairs_added > exact.stranding_pairs_added
    assert (exact.assigned, res.assigned) == (1864, 1864)


def test_best_within_keeps_each_vacancys_best_pairs_like_a_full_sort() -> None:
    # The histogram cut sorts only the pairs at each vacancy's cut level: the result is
    # the full sort's (vacancy, score desc, laborer) prefix of need[j] pairs per vacancy.
    rng = np.random.default_rng(8)
    for _ in range(200):
        n_vac, n = int(rng.integers(1, 30)), int(rng.integers(0, 400))
        vac = rng.integers(0, n_vac, n).astype(np.int64)
        lab = rng.permutation(3 * n)[:n].astype(np.int64)
        # Few distinct scores make many ties at the cut.
        score = rng.integers(0, 101, n) if rng.random() < 0.5 else rng.integers(60, 63, n)
        score = score.astype(np.int16)
        need = rng.integers(0, 20, n_vac)
        key = (vac << 40) | ((100 - score.astype(np.int64)) << 32) | lab
        order = np.argsort(key)
        first = np.searchsorted(vac[order], vac[order], side="left")
        want = order[(np.arange(n) - first) < need[vac[order]]]
        got = assignment._best_within(lab, vac, score, need)
        assert np.array_equal(got[0], lab[want])
        assert np.array_equal(got[1], vac[want])
        assert np.array_equal(got[2], score[want])
    # The histogram has one bin per point from 0 to 100: other scores are refused.
    for bad in (-1, 101):
        with pytest.raises(ValueError, match="scores must be whole points from 0 to 100"):
            assignment._best_within(
                np.array([1, 2]), np.array([0, 1]), np.array([bad, 50]), np.array([1, 1])
            )


def test_no_pairs_proof_keeps_laborers_only_while_its_vacancies_cover_the_new_ones() -> None:
    proof = assignment._NoPairs.none(4, 3)
    proof.learn(np.array([1, 1, 0, 0], dtype=bool), np.array([1, 1, 0], dtype=bool))
    # A smaller vacancy set: laborers 0 and 1 have no pair there either.
    proof.learn(np.array([0, 0, 1, 0], dtype=bool), np.array([1, 0, 0], dtype=bool))
    assert (proof.laborers.tolist(), proof.vacancies.tolist()) == (
        [True, True, True, False],
        [True, False, False],
    )
    # Vacancy 2 is new: only the laborers proven for it now stay.
    proof.learn(np.array([0, 0, 0, 1], dtype=bool), np.array([1, 0, 1], dtype=bool))
    assert (proof.laborers.tolist(), proof.vacancies.tolist()) == (
        [False, False, False, True],
        [True, False, True],
    )


@pytest.mark.parametrize("seed", range(4))
def test_unstranding_scans_proven_laborers_only_against_newly_open_vacancies(
    monkeypatch, seed: int
) -> None:
    # Fewer laborers than openings: openings stay open after the first search.
    inst = make_instance(600, 60, 900, seed=seed, household_share=0.0)
    policy = Policy(k=2)
    lab, vac, vocab = inst.lab, inst.vac, inst.vocab
    cand = scoring.generate_candidates(lab, vac, vocab, policy)
    first = assignment.assign(cand, vac.openings, len(lab))
    state = assignment._State(len(lab), vac.openings)
    placed = np.flatnonzero(first.vacancy >= 0)
    state.place(placed, first.vacancy[placed], first.score[placed])
    everyone = np.ones(len(lab), dtype=bool)
    assignment._unstrand(state, [cand], everyone, lab, vac, vocab, policy, 1)
    proven = state.no_pairs.laborers.copy()
    was_open = state.no_pairs.vacancies.copy()
    assert proven.any()
    # Placed laborers leave: their vacancies open again. Solve on with the proof and
    # without it: the same placements and pairs, with far less scanned.
    rng = np.random.default_rng(seed)
    leave = rng.choice(np.flatnonzero(state.vacancy >= 0), size=40, replace=False)
    state.release(leave)
    blind = state.copy()
    blind.no_pairs = assignment._NoPairs.none(len(lab), len(vac))
    scanned: list[tuple[np.ndarray, np.ndarray]] = []
    search = scoring.generate_candidates

    def spy(*args, laborers, vacancies, **kw) -> CandidatePairs:
        scanned.append((laborers, vacancies))
        return search(*args, laborers=laborers, vacancies=vacancies, **kw)

    monkeypatch.setattr(scoring, "generate_candidates", spy)
    pool_a: list[CandidatePairs] = [cand]
    pool_b: list[CandidatePairs] = [cand]
    now_open = state.remaining() > 0
    assignment._unstrand(state, pool_a, everyone, lab, vac, vocab, policy, 1)
    with_proof = list(scanned)
    scanned.clear()
    assignment._unstrand(blind, pool_b, everyone, lab, vac, vocab, policy, 1)
    assert np.array_equal(state.vacancy, blind.vacancy)
    assert np.array_equal(state.score, blind.score)
    merged = [scoring.merge_candidates(p[1:], None) for p in (pool_a, pool_b)]
    assert all(np.array_equal(getattr(merged[0], f), getattr(merged[1], f)) for f in
               ("laborer", "vacancy", "score"))  # fmt: skip
    # In the first pass the proven laborers were scanned against the vacancies opened
    # since the proof only, the others (those who left) against all open vacancies.
    (rest, rest_vac), (laborers, vacancies) = with_proof[:2]
    assert rest.tolist() == np.sort(leave).tolist()
    assert rest_vac.tolist() == np.flatnonzero(now_open).tolist()
    assert laborers.tolist() == np.flatnonzero(proven).tolist()
    assert vacancies.tolist() == np.flatnonzero(now_open & ~was_open).tolist()
    assert sum(len(a) * len(b) for a, b in with_proof) < sum(len(a) * len(b) for a, b in scanned)


def test_taker_scores_are_each_vacancys_best_unplaced_pool_score() -> None:
    rng = np.random.default_rng(12)
    pool = [
        CandidatePairs(
            rng.integers(0, 300, size).astype(np.int32),
            rng.integers(0, 50, size).astype(np.int32),
            rng.integers(0, 101, size).astype(np.int16),
        )
        for size in (0, 1, 2000, 700)
    ]
    unplaced = rng.random(300) < 0.3
    want = np.full(60, -1, dtype=np.int64)
    for p in pool:
        for li, vj, sc in zip(
            p.laborer.tolist(), p.vacancy.tolist(), p.score.tolist(), strict=True
        ):
            if unplaced[li]:
                want[vj] = max(want[vj], sc)
    got = assignment._taker_scores(pool, unplaced, 60)
    assert got.tolist() == want.tolist()
    assert (got[50:] == -1).all() and (got[:50] >= 0).any()


def test_singles_are_placed_again_exactly_with_the_members_fixed() -> None:
    # Laborer 0 is a household member at vacancy 0 (2 openings); singles 1-5. The singles'
    # places are poor: 1 holds vacancy 0's other opening with 10 points while 2 would
    # score 90 there, and 3 holds vacancy 1 (1 opening) where 4 scores more; 3 also fits
    # vacancy 2 (1 opening). Single 5 holds vacancy 3 by a pair that is in no pool list
    # (the flow gets the singles' current pairs too, so it keeps that place).
    state = assignment._State(6, np.array([2, 1, 1, 1]))
    state.place(np.array([0, 1, 3, 5]), np.array([0, 0, 1, 3]), np.array([70, 10, 50, 20]))
    pool = [
        CandidatePairs(
            np.array([0, 1, 1, 2, 3, 3, 4]),
            np.array([0, 0, 2, 0, 1, 2, 1]),
            np.array([70, 10, 5, 90, 50, 40, 60]),
        )
    ]
    singles = np.array([False, True, True, True, True, True])
    spent: dict[str, float] = {}
    assignment._resolve_singles(state, pool, singles, spent)
    # Most placements (5: the member and four singles), then the best score: 2 at 0 (90),
    # 4 at 1 (60), 3 at 2 (40), 5 stays at 3; 1 is left out (its pairs lead to full
    # vacancies).
    assert state.vacancy.tolist() == [0, -1, 0, 2, 1, 3]
    assert state.score.tolist() == [70, 0, 90, 40, 60, 20]
    assert spent["flow"] > 0


def test_rounds_end_with_the_singles_placed_exactly(monkeypatch) -> None:
    monkeypatch.setattr(assignment, "CPSAT_MAX_PAIRS", 0)
    monkeypatch.setattr(assignment, "PRICED_MAX_PAIRS", 0)  # no household moves after it
    monkeypatch.setattr(assignment, "REFILL_MAX_POOL", 0)
    inst = make_instance(3000, 40, 1000, seed=0, household_share=0.3)
    policy = Policy()
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2)
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)
    monkeypatch.setattr(assignment, "SINGLES_EXACT_MAX_PAIRS", 0)
    before = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2)
    assert "singles_exact" not in before.stats
    gained = (res.assigned - before.assigned, res.total_score - before.total_score)
    assert (res.stats["singles_exact_placed"], res.stats["singles_exact_score"]) == gained
    assert gained[0] > 0 or (gained[0] == 0 and gained[1] > 0)
    # The households' places are the same.
    members = inst.lab.household >= 0
    assert (res.assignment[members] == before.assignment[members]).all()


def _move_case(single_pairs: CandidatePairs, placed: list[tuple[int, int, int]]):
    """Vacancies A (employer 0) and B (employer 1), 2 openings each; laborers 0 and 1 a
    same_employer household scoring 30 at A and 80 at B, now both at A."""
    lab = make_laborers(4, household=np.array([0, 0, -1, -1]))
    vac = make_vacancies(2, employer=np.array([0, 1]), openings=np.array([2, 2]))
    hh = assignment._Households.build(
        lab, HouseholdArrays(keep_together=np.array([KEEP_SAME_EMPLOYER], dtype=np.int8))
    )
    members = CandidatePairs(
        np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([30, 80, 30, 80])
    )
    state = assignment._State(4, vac.openings)
    rows = np.array([0, 1] + [p[0] for p in placed])
    state.place(rows, np.array([0, 0] + [p[1] for p in placed]),
                np.array([30, 30] + [p[2] for p in placed]))  # fmt: skip
    return lab, vac, hh, members, state, [single_pairs]


def test_households_move_to_the_option_their_prices_favour() -> None:
    # Single 2 scores 70 at A and 10 at B and sits at B. At prices 0 the household's B
    # is worth 160 against 60 now: it moves, and the singles' exact flow puts 2 at A.
    singles = CandidatePairs(np.array([2, 2]), np.array([0, 1]), np.array([70, 10]))
    lab, vac, hh, members, state, pool = _move_case(singles, [(2, 1, 10)])
    plans = assignment._price_plans(state, hh, members, np.zeros(2), lab, vac)
    assert [(g, h, m.tolist(), v.tolist(), s.tolist()) for g, h, m, v, s in plans] == [
        (100.0, 0, [0, 1], [1, 1], [80, 80])
    ]
    spent: dict[str, float] = {}
    new, moved, kept = assignment._move_households(
        state, hh, pool, members, np.zeros(2), lab, vac, lab.household < 0, spent
    )
    assert (moved, kept) == (1, True)
    assert new.vacancy.tolist() == [1, 1, 0, -1]
    assert new.score.tolist() == [80, 80, 70, 0]
    assert state.vacancy.tolist() == [0, 0, 1, -1]  # the round's state is not changed


def test_household_moves_that_lose_placements_are_not_kept() -> None:
    # Singles 2 and 3 fit only B (90 each) and fill it. Moving the household to B (worth
    # 160 at prices 0) would leave both out: 2 placed instead of 4, so nothing moves.
    singles = CandidatePairs(np.array([2, 3]), np.array([1, 1]), np.array([90, 90]))
    lab, vac, hh, members, state, pool = _move_case(singles, [(2, 1, 90), (3, 1, 90)])
    new, moved, kept = assignment._move_households(
        state, hh, pool, members, np.zeros(2), lab, vac, lab.household < 0, {}
    )
    assert (new is state, moved, kept) == (True, 0, False)
    assert state.vacancy.tolist() == [0, 0, 1, 1]


def test_a_kept_batch_may_move_no_household_but_place_singles_better() -> None:
    # Household 0 (laborers 0, 1) sits at A and would rather be at B, which household 1
    # (laborers 4, 5, who fit B only) fills: the move does not fit, 0 keeps its places.
    # Single 2 sits at A with 10 points and scores 50 at C, which is free: the singles'
    # exact flow moves it, so the batch is kept with no household moved.
    lab = make_laborers(6, household=np.array([0, 0, -1, -1, 1, 1]))
    vac = make_vacancies(3, employer=np.array([0, 1, 2]), openings=np.array([3, 2, 1]))
    hh = assignment._Households.build(
        lab, HouseholdArrays(keep_together=np.full(2, KEEP_SAME_EMPLOYER, dtype=np.int8))
    )
    members = CandidatePairs(
        np.array([0, 0, 1, 1, 4, 5]),
        np.array([0, 1, 0, 1, 1, 1]),
        np.array([30, 80, 30, 80, 90, 90]),
    )
    singles_pairs = CandidatePairs(np.array([2, 2]), np.array([0, 2]), np.array([10, 50]))
    state = assignment._State(6, vac.openings)
    state.place(np.array([0, 1, 2, 4, 5]), np.array([0, 0, 0, 1, 1]),
                np.array([30, 30, 10, 90, 90]))  # fmt: skip
    new, moved, kept = assignment._move_households(
        state, hh, [singles_pairs], members, np.zeros(3), lab, vac, lab.household < 0, {}
    )
    assert (moved, kept) == (0, True)
    assert new.vacancy.tolist() == [0, 0, 2, -1, 1, 1]
    assert new.score.tolist() == [30, 30, 50, 0, 90, 90]


def test_rounds_move_households_by_price_and_stay_within_the_bound() -> None:
    inst = make_instance(3000, 40, 1000, seed=0, household_share=0.3)
    policy = Policy()
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2)
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)
    assert res.stats["price_moves"] > 0
    assert (res.stats["price_moves_placed"], res.stats["price_moves_score"]) >= (0, 0)
    assert res.household_bound >= res.total_score
    off = assignment.solve_round(
        inst.lab, inst.vac, inst.households, inst.vocab, policy, k=2, price_households=False
    )
    assert "price_moves" not in off.stats
    assert (off.assigned, off.total_score) < (res.assigned, res.total_score)


def test_rounds_priced_by_a_sample_keep_every_rule_and_strand_nobody(monkeypatch) -> None:
    # Large rounds rank candidates by score - price, prices from a sample's relaxation:
    # the round still keeps capacities and households, strands nobody, and gives the
    # same result twice.
    inst = make_instance(5000, 400, seed=4)
    policy = Policy()
    assert assignment.round_prices(inst.lab, inst.vac, inst.vocab, policy) is None
    monkeypatch.setattr(assignment, "PRICE_SAMPLE_MIN", 0)
    monkeypatch.setattr(assignment, "PRICE_SAMPLE", 0.2)
    price = assignment.round_prices(inst.lab, inst.vac, inst.vocab, policy, workers=2)
    assert price is not None
    assert price.dtype == np.int64 and price.shape == (len(inst.vac),)
    assert price.min() >= 0 and price.max() <= scoring.MAX_PRICE
    assert (price > 0).sum() > 100
    res = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    assert res.stats["sample_prices"] > 0
    check_round(res, inst.lab, inst.vac, inst.vocab, policy, inst.households)
    again = assignment.solve_round(inst.lab, inst.vac, inst.households, inst.vocab, policy)
    assert np.array_equal(again.assignment, res.assignment)
    # The first candidates are each laborer's best k at those prices.
    first = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, price=price)
    plain = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy)
    assert len(first) == len(plain) and not np.array_equal(first.vacancy, plain.vacancy)


@pytest.mark.parametrize("case", ["no vacancy", "no opening left"])
def test_a_round_with_households_and_nothing_open_places_nobody(case: str) -> None:
    # e.g. a round limited to an occupation whose vacancies are all filled.
    inst = make_instance(600, 30, seed=3, household_share=0.3)
    vac = (
        inst.vac.take(np.zeros(0, dtype=np.int64))
        if case == "no vacancy"
        else dataclasses.replace(inst.vac, openings=np.zeros(len(inst.vac), dtype=np.int32))
    )
    res = assignment.solve_round(inst.lab, vac, inst.households, inst.vocab, Policy())
    assert (res.assigned, res.total_score, res.households_placed) == (0, 0, 0)
    assert res.households_unplaced == len(inst.households)
    assert (res.assignment == -1).all()
