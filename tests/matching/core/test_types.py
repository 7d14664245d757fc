"""Data contract: validation, dtype coercion and the policy's JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matching.core.types import CandidatePairs, HouseholdArrays, Policy

from .conftest import make_laborers, make_vacancies, make_vocab


def test_policy_round_trip_through_json() -> None:
    policy = Policy(wage=25, destination=10, related_factor=0.8, k=7)
    data = json.loads(json.dumps(policy.to_dict()))
    assert Policy.from_dict(data) == policy
    assert data["wage"] == 25 and data["related_factor"] == 0.8


def test_policy_defaults_sum_to_100() -> None:
    assert sum(Policy().weights().values()) == 100


@pytest.mark.parametrize(
    "changes",
    [
        {"wage": 21},
        {"occupation": -1, "wage": 61},
        {"years_full": 0},
        {"k": 0},
        {"start_full_days": 60, "start_zero_days": 60},
        {"related_factor": 1.5},
    ],
)
def test_policy_rejects_invalid(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Policy(**changes)


def test_policy_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown"):
        Policy.from_dict({"bonus": 3})


def test_arrays_are_coerced_to_contract_dtypes() -> None:
    lab = make_laborers(2)
    assert lab.birth_day.dtype == np.int32
    assert lab.county.dtype == np.int16
    assert lab.skill_years.dtype == np.int8
    assert lab.preferred.dtype == np.uint64
    assert lab.consent.dtype == np.bool_
    vac = make_vacancies(2)
    assert vac.openings.dtype == np.int32 and vac.destination.dtype == np.int16


def test_arrays_reject_bad_shapes_and_values() -> None:
    with pytest.raises(ValueError):
        make_laborers(2, county=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        make_laborers(2, min_wage=np.array([-1, 0]))
    with pytest.raises(ValueError):
        make_vacancies(1, destination=np.array([64]))
    with pytest.raises(ValueError):
        HouseholdArrays(keep_together=np.array([2]))
    with pytest.raises(ValueError):
        make_laborers(1, skill_years=np.array([[-2, 0, 0]]))


def test_cover_masks_follow_the_destination_tree() -> None:
    cover = make_vocab().cover_masks()
    # Destination 2 lies inside 0: a preference for 0 (bit 0) or for 2 (bit 2) covers it.
    assert int(cover[2]) == 0b101
    assert int(cover[0]) == 0b001


def test_candidate_pairs_concat_joins_lists_as_they_are() -> None:
    a = CandidatePairs(np.array([3, 1]), np.array([0, 2]), np.array([50, 60]))
    b = CandidatePairs(np.array([0]), np.array([1]), np.array([70]))
    got = CandidatePairs.concat([a, CandidatePairs.empty(), b])
    assert (got.laborer.tolist(), got.vacancy.tolist(), got.score.tolist()) == (
        [3, 1, 0],
        [0, 2, 1],
        [50, 60, 70],
    )
    assert (got.laborer.dtype, got.score.dtype) == (np.int32, np.int16)
    assert len(CandidatePairs.concat([])) == 0
