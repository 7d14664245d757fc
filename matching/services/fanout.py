"""Scoring fanned out as a Celery group by occupation block, the solve as one task.

The round's task loads the pool once and leaves its arrays in `MATCHING_WORK_DIR` (a
folder every Celery worker can read: local disk on one machine, a shared volume beyond);
each block task scores the vacancies of some occupations and leaves its candidates there;
the chord's callback merges them and solves the whole round. Worth it only with several
Celery workers (`MATCHING_SCORING_FANOUT` > 1) and a result backend (chords need one).
"""

from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from django.conf import settings

from matching.core import scoring
from matching.core.types import CandidatePairs, HouseholdArrays, LaborerArrays, VacancyArrays

T = TypeVar("T")


def work_dir(run_id: int) -> Path:
    return Path(settings.MATCHING_WORK_DIR) / f"run-{run_id}"


def save(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **{f.name: getattr(obj, f.name) for f in fields(obj)})
    tmp.replace(path)  # readers never see a half-written file


def load(path: Path, cls: type[T]) -> T:
    with np.load(path) as data:
        return cls(**{name: data[name] for name in data.files})


def save_pool(
    run_id: int, lab: LaborerArrays, vac: VacancyArrays, households: HouseholdArrays
) -> None:
    folder = work_dir(run_id)
    save(folder / "laborers.npz", lab)
    save(folder / "vacancies.npz", vac)
    save(folder / "households.npz", households)


def load_pool(run_id: int) -> tuple[LaborerArrays, VacancyArrays, HouseholdArrays]:
    folder = work_dir(run_id)
    return (
        load(folder / "laborers.npz", LaborerArrays),
        load(folder / "vacancies.npz", VacancyArrays),
        load(folder / "households.npz", HouseholdArrays),
    )


def blocks(vac: VacancyArrays, n_tasks: int) -> list[list[int]]:
    """Occupation indices in `n_tasks` groups of about equal numbers of openings."""
    occupations, openings = np.unique(vac.occupation, return_counts=True)
    if occupations.size == 0:
        return []
    weights = np.zeros(occupations.size, dtype=np.int64)
    for i, occ in enumerate(occupations):
        weights[i] = int(vac.openings[vac.occupation == occ].sum()) or int(openings[i])
    groups: list[list[int]] = [[] for _ in range(min(n_tasks, occupations.size))]
    loads = [0] * len(groups)
    for i in np.argsort(-weights, kind="stable"):
        g = loads.index(min(loads))
        groups[g].append(int(occupations[i]))
        loads[g] += int(weights[i])
    return [sorted(g) for g in groups if g]


def save_prices(run_id: int, price: np.ndarray | None) -> None:
    """The round's vacancy prices (`assignment.round_prices`), if it has any: every block
    ranks by them, as the round in one task does."""
    if price is not None:
        path = work_dir(run_id) / "prices.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), price)
        path.with_suffix(".tmp.npy").replace(path)


def load_prices(run_id: int) -> np.ndarray | None:
    path = work_dir(run_id) / "prices.npy"
    return np.load(path) if path.exists() else None


def score_block(run_id: int, occupations: list[int], vocab: Any, policy: Any) -> str:
    lab, vac, _ = load_pool(run_id)
    candidates = scoring.generate_candidates(
        lab, vac, vocab, policy, policy.k, occupations=occupations, price=load_prices(run_id)
    )
    path = work_dir(run_id) / f"candidates-{'-'.join(map(str, occupations))}.npz"
    save(path, candidates)
    return str(path)


def merged_candidates(paths: list[str], k: int, price: np.ndarray | None = None) -> CandidatePairs:
    """The blocks' lists as one: each laborer's best k, by score less `price` if given
    (as `scoring.generate_candidates` ranks them)."""
    parts = [load(Path(p), CandidatePairs) for p in sorted(paths)]
    if price is None:
        return scoring.merge_candidates(parts, k)
    # Merged by value (score less price, lifted to stay >= 0), then given their scores back.
    lift = int(price.max(initial=0)) - price.astype(np.int64)
    valued = [CandidatePairs(p.laborer, p.vacancy, p.score + lift[p.vacancy]) for p in parts]
    out = scoring.merge_candidates(valued, k)
    return CandidatePairs(out.laborer, out.vacancy, out.score - lift[out.vacancy])


def cleanup(run_id: int) -> None:
    shutil.rmtree(work_dir(run_id), ignore_errors=True)
