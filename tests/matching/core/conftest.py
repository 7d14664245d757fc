"""Fixtures for the matching core tests: plain numpy, no Django, no database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from matching.core.synthetic import day_number
from matching.core.types import (
    HouseholdArrays,
    LaborerArrays,
    Policy,
    VacancyArrays,
    Vocabulary,
)

TODAY = day_number("2026-03-02")
BIRTH_30 = day_number("1996-01-15")  # 30 years old around TODAY


def make_vocab(n_occ: int = 3, n_dest: int = 3, n_county: int = 2) -> Vocabulary:
    """Occupation 0 and 1 related (0.5), 2 unrelated; destination 2 lies in 0."""
    related = np.eye(n_occ, dtype=np.float32)
    if n_occ >= 2:
        related[0, 1] = related[1, 0] = 0.5
    within = np.eye(n_dest, dtype=bool)
    if n_dest >= 3:
        within[2, 0] = True
    travel = np.ones((n_county, n_dest), dtype=np.int16)
    return Vocabulary(related=related, within=within, travel_days=travel)


def make_laborers(n: int, n_occ: int = 3, **cols: Any) -> LaborerArrays:
    """n laborers that pass every rule for the default vacancy (override columns)."""
    skills = np.full((n, n_occ), -1, dtype=np.int8)
    skills[:, 0] = 3
    base: dict[str, Any] = {
        "id": np.arange(1, n + 1),
        "birth_day": np.full(n, BIRTH_30),
        "county": np.zeros(n, dtype=np.int64),
        "skill_years": skills,
        "preferred": np.zeros(n, dtype=np.uint64),
        "min_wage": np.full(n, 4000),
        "available_day": np.full(n, TODAY),
        "flags": np.zeros(n, dtype=np.int64),
        "consent": np.ones(n, dtype=bool),
        "household": np.full(n, -1),
    }
    base.update(cols)
    return LaborerArrays(**base)


def make_vacancies(m: int, **cols: Any) -> VacancyArrays:
    """m vacancies (occupation 0, destination 0, starting in 10 days; override)."""
    base: dict[str, Any] = {
        "id": np.arange(1, m + 1),
        "employer": np.arange(m),
        "occupation": np.zeros(m, dtype=np.int64),
        "openings": np.ones(m, dtype=np.int64),
        "wage_min": np.full(m, 5000),
        "wage_max": np.full(m, 6000),
        "destination": np.zeros(m, dtype=np.int64),
        "city": np.zeros(m, dtype=np.int64),
        "age_min": np.full(m, 18),
        "age_max": np.full(m, 50),
        "start_day": np.full(m, TODAY + 10),
        "accommodation": np.ones(m, dtype=bool),
        "meals": np.zeros(m, dtype=bool),
    }
    base.update(cols)
    return VacancyArrays(**base)


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def vocab() -> Vocabulary:
    return make_vocab()


@pytest.fixture
def no_households() -> HouseholdArrays:
    return HouseholdArrays.empty()


@pytest.fixture
def laborers() -> Callable[..., LaborerArrays]:
    return make_laborers


@pytest.fixture
def vacancies() -> Callable[..., VacancyArrays]:
    return make_vacancies
