"""The bound that prices households: L(p) by hand, validity against brute force."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from matching.core import assignment, household_bound, pricing
from matching.core.types import (
    KEEP_SAME_CITY,
    KEEP_SAME_EMPLOYER,
    CandidatePairs,
    HouseholdArrays,
    Policy,
)

from .test_assignment import random_household_case
from .test_household_bound import brute_best_score

# Vacancies A, B, C: employers 0, 1, 1; cities 0, 0, 1; openings 1, 1, 2.
CAP = np.array([1.0, 1.0, 2.0])
EMPLOYER = np.array([0, 1, 1])
CITY = np.array([0, 0, 1])
# Laborers 0 and 1 are single; 2 and 3 a same_employer household (0); 4 and 5 a
# same_city household (1).
HOUSEHOLD = np.array([-1, -1, 0, 0, 1, 1])
SIZE = np.array([2, 2])
MODE = np.array([KEEP_SAME_EMPLOYER, KEEP_SAME_CITY])
PAIRS = [  # (laborer, vacancy, score)
    (0, 0, 50), (0, 1, 35), (1, 0, 30),
    (2, 0, 60), (2, 1, 20), (3, 1, 30), (3, 2, 50),
    (4, 0, 70), (4, 2, 10), (5, 2, 40),
]  # fmt: skip


def hand_layout() -> pricing._Layout:
    lab, vac, sc = (np.array(c) for c in zip(*PAIRS, strict=True))
    single = HOUSEHOLD[lab] < 0
    singles = CandidatePairs(lab[single], vac[single], sc[single])
    members = CandidatePairs(lab[~single], vac[~single], sc[~single])
    mode = MODE[HOUSEHOLD[members.laborer]]
    option = np.where(mode == KEEP_SAME_EMPLOYER, EMPLOYER[members.vacancy], CITY[members.vacancy])
    return pricing._Layout(singles, members, option, HOUSEHOLD, SIZE)


def test_l_at_given_prices_worked_by_hand() -> None:
    # At prices A 20, B 10, C 5: openings 20 + 10 + 2 x 5 = 40.
    # Laborer 0: max(50 - 20, 35 - 10) = 30 (A); laborer 1: 30 - 20 = 10 (A).
    # Household 0, employer 0 (A): laborer 3 has no pair there, no option. Employer 1
    # (B, C): laborer 2 20 - 10 = 10 (B), laborer 3 max(30 - 10, 50 - 5) = 45 (C): 55.
    # Household 1, city 0 (A, B): laborer 5 has no pair there. City 1 (C): laborer 4
    # 10 - 5, laborer 5 40 - 5: 40 (both C).
    value, demand = hand_layout().evaluate(np.array([20.0, 10.0, 5.0]), CAP)
    assert value == 40 + 30 + 10 + 55 + 40
    assert demand.tolist() == [2, 1, 3]


def test_a_household_whose_best_option_is_worth_nothing_asks_for_nothing() -> None:
    # At C 60 household 1's only option is worth (10 - 60) + (40 - 60) < 0: it stays
    # out. Household 0's employer 1 is worth max(20 - 0, ...) = 20 + max(30 - 0, 50 - 60)
    # = 50 with B free; laborer 0 takes A (50), laborer 1 A (30).
    value, demand = hand_layout().evaluate(np.array([0.0, 0.0, 60.0]), CAP)
    assert value == 2 * 60 + 50 + 30 + 50 + 0
    assert demand.tolist() == [2, 2, 0]


def test_clearing_prices_worked_by_hand() -> None:
    # At prices A 20, B 10, C 5 (L as above). A pair's bid: the price below which its
    # laborer (household) would rather take it than anything else.
    # Laborer 0: A 30 (best), B 25: A bids 50 - 25 = 25, B 35 - 30 = 5. Laborer 1 has
    # only A: 30 - 0 = 30.
    # Household 0 has one option, employer 1 (55: laborer 2 B 10, laborer 3 C 45), and
    # 0 without it. (2, B): the others give 45, so 20 - (0 - 45) = 65. (3, C): laborer
    # 3's next pair there is B (20): 50 - max(20, 0 - 10) = 30. (3, B): 30 - 45 < 0.
    # Household 1 has only city 1 (40): (4, C) 10 - (0 - 35) = 45, (5, C) 40 + 5 = 45
    # (each as if its price moved alone; the household as a whole leaves at 5 + 40 / 2:
    # see `clearing`). A clears at its highest bid (30), B at 65, C (2 openings) at its
    # second (45).
    value, clearing = hand_layout().clearing(np.array([20.0, 10.0, 5.0]), CAP)
    assert value == 40 + 30 + 10 + 55 + 40
    assert clearing.tolist() == [30.0, 65.0, 45.0]
    # With B and C held, just below A's clearing price A is asked for by its 1 opening
    # (laborer 1; laborer 0 turns to B), just above by nobody.
    assert hand_layout().evaluate(np.array([29.99, 10.0, 5.0]), CAP)[1][0] == 1
    assert hand_layout().evaluate(np.array([30.01, 10.0, 5.0]), CAP)[1][0] == 0


def test_clearing_prices_round_bids_down_and_are_0_without_enough_bidders() -> None:
    # Vacancy 0 (2 openings, price 0.4), vacancy 1 (1 opening, price 6.6). Laborer 0
    # bids 81 for 0; laborer 1 gets 37.6 at 0 and 13.4 at 1, so bids 38 - 13.4 = 24.6
    # for 0 and nothing for 1; laborer 2 bids 12 for 0. Vacancy 0 clears at its second
    # bid, 24.6 rounded down to a quarter point; vacancy 1 has no bid: 0.
    singles = CandidatePairs(
        np.array([0, 1, 1, 2]), np.array([0, 0, 1, 0]), np.array([81, 38, 20, 12])
    )
    layout = pricing._Layout(
        singles, CandidatePairs.empty(), np.zeros(0), np.full(3, -1), np.zeros(0, np.int64)
    )
    value, clearing = layout.clearing(np.array([0.4, 6.6]), np.array([2.0, 1.0]))
    assert value == pytest.approx(2 * 0.4 + 6.6 + 80.6 + 37.6 + 11.6)
    assert clearing.tolist() == [24.5, 0.0]
    # With 4 openings the 3 bids are too few: the price falls to 0.
    assert layout.clearing(np.zeros(2), np.array([4.0, 1.0]))[1].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("seed", range(5))
def test_clearing_steps_reach_the_best_score_without_households(seed: int) -> None:
    # Without households L's least value is the best total score (an assignment
    # problem), found here by linear_sum_assignment over every opening and a "no place"
    # column per laborer. From prices 0, 20 steps reach it (12 came within 0.3%).
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(900 + seed)
    n_lab, n_vac = 300, 12
    cap = rng.integers(1, 12, n_vac)
    lab, vac = np.nonzero(rng.random((n_lab, n_vac)) < 0.3)
    score = rng.integers(20, 100, lab.shape[0])
    columns = np.repeat(np.arange(n_vac), cap)
    table = np.zeros((n_lab, columns.shape[0] + n_lab))
    for i, j, s in zip(lab, vac, score, strict=True):
        table[i, np.flatnonzero(columns == j)] = s
    rows, cols = linear_sum_assignment(table, maximize=True)
    best = int(table[rows, cols].sum())
    singles = CandidatePairs(lab, vac, score)
    no_members = (CandidatePairs.empty(), np.zeros(0), np.full(n_lab, -1), np.zeros(0, np.int64))
    start = pricing.priced_bound(singles, *no_members, cap, steps=1).bound
    got = pricing.priced_bound(singles, *no_members, cap, steps=20)
    assert got.bound == best < start


def test_start_prices_are_what_another_laborer_gains_by_taking_an_opening() -> None:
    lab, vac, sc = (np.array(c) for c in zip(*PAIRS, strict=True))
    pairs = CandidatePairs(lab, vac, sc)
    # A holds laborer 4 (70), B laborer 3 (30), C laborer 5 and has an opening left.
    placed = np.array([-1, -1, -1, 1, 0, 2])
    price = pricing.assignment_prices([pairs], CAP, placed)
    # A: the unplaced laborers 0, 1 and 2 would gain 50, 30 and 60: 60. B: laborer 0
    # gains 35, 2 gains 20: 35. C costs 0. Moving a placed laborer counts what it
    # gives up: 3 (B, 30) would gain 50 - 30 = 20 at C, which is free anyway.
    assert price.tolist() == [60.0, 35.0, 0.0]


@pytest.mark.parametrize("seed", range(20))
def test_no_household_keeping_assignment_scores_above_the_bound(seed: int) -> None:
    lab, vac, hh, vocab = random_household_case(np.random.default_rng(300 + seed))
    policy = Policy()
    best, _ = brute_best_score(lab, vac, vocab, policy, hh)
    pairs = household_bound.feasible_pairs(lab, vac, vocab, policy)
    cap = np.maximum(vac.openings, 0)
    relax = assignment.assign(pairs, cap, len(lab))
    members = assignment._Households.build(lab, hh)
    got = assignment._priced_bound([pairs], cap, relax.vacancy, members, lab, vac)
    assert got.bound >= best
    # Households ignored, L's least value is the best total score (an assignment
    # problem has an integral relaxation); the adjustments come within 2 points of it.
    alone = dataclasses.replace(lab, household=np.full(len(lab), -1, dtype=np.int32))
    best_alone, _ = brute_best_score(alone, vac, vocab, policy, HouseholdArrays.empty())
    nobody = assignment._Households.build(alone, HouseholdArrays.empty())
    free = assignment._priced_bound([pairs], cap, relax.vacancy, nobody, alone, vac)
    assert best_alone <= free.bound <= best_alone + 2


def test_round_reports_its_gap_to_the_priced_bound(monkeypatch) -> None:
    lab, vac, hh, vocab = random_household_case(np.random.default_rng(304))
    policy = Policy(k=len(vac))
    res = assignment.solve_round(lab, vac, hh, vocab, policy)
    best, _ = brute_best_score(lab, vac, vocab, policy, hh)
    assert res.total_score <= best <= res.household_bound
    assert res.household_gap == (res.household_bound - res.total_score) / res.household_bound
    assert res.stats["priced_steps"] >= 1
    again = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert (again.household_bound, again.household_gap) == (
        res.household_bound,
        res.household_gap,
    )

    off = assignment.solve_round(lab, vac, hh, vocab, policy, price_households=False)
    assert (off.household_bound, off.household_gap) == (None, None)
    assert "priced_seconds" not in off.stats
    monkeypatch.setattr(assignment, "PRICED_MAX_PAIRS", 0)
    too_many = assignment.solve_round(lab, vac, hh, vocab, policy)
    assert (too_many.household_bound, too_many.household_gap) == (None, None)
    # Without prices no household moves by them: the round is no better.
    assert (too_many.assigned, too_many.total_score) <= (res.assigned, res.total_score)
    # The bound is left for the caller, over the same pairs.
    bound_later = too_many.household_bound_later
    assert bound_later is not None
    assert res.household_bound_later is None
    # Over the pairs it holds, as the round would have computed it; once only (it frees
    # the pairs).
    pool, member_pairs, singles, *rest = bound_later.args
    held = assignment._priced_pairs(list(pool), list(member_pairs), singles)
    assert too_many.stats["priced_pairs"] == sum(len(p) for p in held) >= len(lab)
    direct = assignment._priced_bound(list(held), *rest)
    later = bound_later()
    assert best <= later.bound == direct.bound
    assert later.steps == direct.steps >= 1
    with pytest.raises(RuntimeError, match=r"^the round's pairs were already priced and freed$"):
        bound_later()


def brute_best(n_lab, pairs, cap, household, size, key) -> int:
    """Best total score of a household-keeping assignment, by trying every choice."""
    options = [[None] + [k for k, p in enumerate(pairs) if p[0] == i] for i in range(n_lab)]
    best = 0
    for choice in itertools.product(*options):
        used = np.zeros(len(cap), dtype=int)
        for k in choice:
            if k is not None:
                used[pairs[k][1]] += 1
        if (used > np.maximum(cap, 0)).any():
            continue
        ok = True
        for h in range(len(size)):
            placed = [choice[i] for i in range(n_lab) if household[i] == h]
            placed = [k for k in placed if k is not None]
            if placed and (
                len(placed) != size[h] or len({key(h, pairs[k][1]) for k in placed}) != 1
            ):
                ok = False
        if ok:
            best = max(best, sum(pairs[k][2] for k in choice if k is not None))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_l_is_never_below_the_best_assignment_at_any_prices(seed: int) -> None:
    # Edge cases on purpose: duplicate pairs, vacancies with 0 or -1 openings, members
    # without any pair (their household then has no option), no singles or no members.
    rng = np.random.default_rng(seed)
    n_lab, n_vac, n_h = int(rng.integers(0, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    household = rng.integers(-1, n_h, n_lab) if n_h else np.full(n_lab, -1)
    size = np.bincount(household[household >= 0], minlength=n_h)
    employer, city = rng.integers(0, 2, n_vac), rng.integers(0, 2, n_vac)
    mode = rng.integers(0, 2, max(n_h, 1))
    cap = rng.integers(-1, 3, n_vac)
    pairs = [
        (i, j, int(rng.integers(0, 100)))
        for i in range(n_lab)
        for j in range(n_vac)
        if rng.random() < 0.6
    ]
    if pairs:
        pairs += [pairs[int(rng.integers(0, len(pairs)))] for _ in range(2)]

    def key(h: int, v: int) -> int:
        return int(employer[v] if mode[h] == KEEP_SAME_EMPLOYER else city[v])

    best = brute_best(n_lab, pairs, cap, household, size, key)
    table = np.array(pairs, dtype=np.int64).reshape(-1, 3)
    single = household[table[:, 0]] < 0
    singles = CandidatePairs(table[single, 0], table[single, 1], table[single, 2])
    members = CandidatePairs(table[~single, 0], table[~single, 1], table[~single, 2])
    option = np.array(
        [key(household[i], v) for i, v in zip(members.laborer, members.vacancy, strict=True)],
        dtype=np.int64,
    )
    layout = pricing._Layout(singles, members, option, household, size)
    for _ in range(10):
        price = rng.random(n_vac) * rng.choice([0, 10, 60, 120])
        assert layout.evaluate(price, np.maximum(cap, 0).astype(float))[0] >= best - 1e-9
    got = pricing.priced_bound(singles, members, option, household, size, cap)
    assert got.bound >= best


def test_bad_calls_are_refused() -> None:
    one = CandidatePairs(np.array([0]), np.array([0]), np.array([50]))
    with pytest.raises(ValueError, match=r"^steps must be >= 1$"):
        pricing.priced_bound(one, CandidatePairs.empty(), np.zeros(0), np.array([-1]),
                             np.zeros(0, dtype=np.int64), np.array([1]), steps=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"^members' pairs include a laborer in no household$"):
        pricing.priced_bound(CandidatePairs.empty(), one, np.zeros(1), np.array([-1, 0]),
                             np.array([1]), np.array([1]))  # fmt: skip
