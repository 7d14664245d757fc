"""Excluded pairs (declined or rejected before) are never candidates again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matching.core import scoring
from matching.core.assignment import solve_round
from matching.core.synthetic import make_instance
from matching.core.types import LaborerArrays, Policy, pair_keys

from .test_scoring import all_pairs, brute_top_k


def with_exclusions(lab: LaborerArrays, pairs, share: float, seed: int) -> LaborerArrays:
    """`lab` excluding a random `share` of the given candidate pairs."""
    rng = np.random.default_rng(seed)
    pick = rng.random(len(pairs)) < share
    return dataclasses.replace(lab, excluded=pair_keys(pairs.laborer[pick], pairs.vacancy[pick]))


def test_keys_are_checked_and_follow_a_take() -> None:
    inst = make_instance(50, 10, seed=1)
    with pytest.raises(ValueError, match="excluded must be sorted unique pair keys"):
        dataclasses.replace(inst.lab, excluded=np.array([(3 << 32) | 1, (2 << 32) | 1]))
    with pytest.raises(ValueError, match="excluded must be sorted unique pair keys"):
        dataclasses.replace(inst.lab, excluded=np.array([50 << 32]))  # no laborer 50
    lab = dataclasses.replace(inst.lab, excluded=pair_keys(np.array([3, 7, 7]), [1, 2, 4]))
    taken = lab.take(np.array([7, 8, 3]))
    laborers, vacancies = taken.excluded_pairs()
    assert sorted(zip(laborers.tolist(), vacancies.tolist(), strict=True)) == [
        (0, 2),
        (0, 4),
        (2, 1),
    ]


def test_excluded_pairs_fail_their_own_hard_rule() -> None:
    inst = make_instance(200, 30, seed=3)
    policy = Policy()
    cand = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, 1)
    i, j = int(cand.laborer[0]), int(cand.vacancy[0])
    lab = dataclasses.replace(inst.lab, excluded=pair_keys([i], [j]))
    fails = scoring.hard_failures(lab, inst.vac, inst.vocab, policy, i, j)
    assert [rule for rule in scoring.HARD_RULES if fails[rule][0]] == ["excluded"]
    assert not scoring.hard_mask(lab, inst.vac, inst.vocab, policy, i, j)[0]
    explained = scoring.explain(lab, inst.vac, inst.vocab, policy, i, j)
    assert explained["feasible"] is False
    assert explained["failed_rules"] == {
        "excluded": "declined by the laborer or rejected by the employer before"
    }


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 5])
def test_candidates_skip_excluded_pairs_and_still_give_k(seed: int, k: int) -> None:
    inst = make_instance(600, 80, seed=seed)
    policy = Policy()
    lab = with_exclusions(
        inst.lab, brute_top_k(inst.lab, inst.vac, inst.vocab, policy, k + 2), 0.2, seed
    )
    assert lab.excluded.shape[0] > 50
    got = scoring.generate_candidates(lab, inst.vac, inst.vocab, policy, k=k, workers=2)
    want = brute_top_k(lab, inst.vac, inst.vocab, policy, k)  # the hard rule excludes them
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)
    # Only a laborer subset: the same rows of the full answer.
    rows = np.arange(0, 600, 3)
    part = scoring.generate_candidates(lab, inst.vac, inst.vocab, policy, k=k, laborers=rows)
    sel = np.isin(want.laborer, rows)
    assert np.array_equal(part.vacancy, want.vacancy[sel])
    # At prices too: the laborers with exclusions still get their best k.
    price = np.random.default_rng(seed).integers(0, 60, len(inst.vac))
    got = scoring.generate_candidates(
        lab, inst.vac, inst.vocab, policy, k=k, workers=2, price=price
    )
    want = brute_top_k(lab, inst.vac, inst.vocab, policy, k, price)
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)


def test_vacancy_rankings_skip_excluded_pairs() -> None:
    inst = make_instance(500, 40, seed=4)
    policy = Policy()
    lab = with_exclusions(inst.lab, brute_top_k(inst.lab, inst.vac, inst.vocab, policy, 3), 0.3, 4)
    li, vj = all_pairs(lab, inst.vac)
    ok = scoring.hard_mask(lab, inst.vac, inst.vocab, policy, li, vj)
    sc = scoring.score_parts(lab, inst.vac, inst.vocab, policy, li, vj)["score"]
    need = np.full(len(inst.vac), 7)
    got = scoring.top_laborers_per_vacancy(lab, inst.vac, inst.vocab, policy, need)
    for j in range(len(inst.vac)):
        sel = ok & (vj == j)
        order = np.lexsort((li[sel], -sc[sel].astype(np.int64)))
        mine = got.vacancy == j
        assert got.laborer[mine].tolist() == li[sel][order][:7].tolist()
        one = scoring.top_laborers_for_vacancy(lab, inst.vac, inst.vocab, policy, j, n=7)
        assert one.index.tolist() == li[sel][order][:7].tolist()


def test_a_round_never_proposes_an_excluded_pair_and_strands_nobody() -> None:
    inst = make_instance(3000, 60, 900, seed=6, household_share=0.0)
    policy = Policy()
    first = solve_round(inst.lab, inst.vac, None, inst.vocab, policy)
    placed = np.flatnonzero(first.assignment >= 0)
    # Everybody placed declines what the first round proposed.
    lab = dataclasses.replace(inst.lab, excluded=pair_keys(placed, first.assignment[placed]))
    again = solve_round(lab, inst.vac, None, inst.vocab, policy)
    rows = np.flatnonzero(again.assignment >= 0)
    assert not scoring.is_excluded(lab, rows, again.assignment[rows]).any()
    # No stranding: nobody unplaced passes the hard rules for a vacancy with openings left.
    left = inst.vac.openings - np.bincount(again.assignment[rows], minlength=len(inst.vac))
    unplaced = np.flatnonzero(again.assignment < 0)
    open_vac = np.flatnonzero(left > 0)
    li, vj = np.meshgrid(unplaced, open_vac, indexing="ij")
    assert not scoring.hard_mask(lab, inst.vac, inst.vocab, policy, li.ravel(), vj.ravel()).any()
