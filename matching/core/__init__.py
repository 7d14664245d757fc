"""Numeric core of matching: numpy + OR-Tools over plain arrays, no Django.

The Django layer builds the array dataclasses of `types`, calls `solve_round` (or the
pieces: `generate_candidates`, `merge_candidates`, `assign`) and stores the result.
"""

from matching.core.assignment import Assignment, assign, greedy_baseline, solve_round
from matching.core.scoring import (
    HARD_RULES,
    Ranking,
    age_on,
    explain,
    generate_candidates,
    hard_failures,
    hard_mask,
    merge_candidates,
    score_parts,
    top_laborers_for_vacancy,
    top_laborers_per_vacancy,
    top_vacancies_for_laborer,
)
from matching.core.types import (
    PART_NAMES,
    CandidatePairs,
    HouseholdArrays,
    LaborerArrays,
    Policy,
    RoundResult,
    VacancyArrays,
    Vocabulary,
)

__all__ = [
    "HARD_RULES",
    "PART_NAMES",
    "Assignment",
    "CandidatePairs",
    "HouseholdArrays",
    "LaborerArrays",
    "Policy",
    "Ranking",
    "RoundResult",
    "VacancyArrays",
    "Vocabulary",
    "age_on",
    "assign",
    "explain",
    "generate_candidates",
    "greedy_baseline",
    "hard_failures",
    "hard_mask",
    "merge_candidates",
    "score_parts",
    "solve_round",
    "top_laborers_for_vacancy",
    "top_laborers_per_vacancy",
    "top_vacancies_for_laborer",
]
