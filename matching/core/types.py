"""Plain array containers of the matching core (no Django, no ORM).

The Django layer turns querysets into these dataclasses once per round (one column per
field, one row per laborer / vacancy) so that scoring and assignment run as numpy
operations over whole columns, identically in a Celery task, a benchmark and a unit test.

Every array is validated once on construction (`validate()`): dtypes are coerced to the
documented ones and shapes checked, so the numeric code can rely on them without
re-checking in every hot loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

# Laborer `flags` bits (policy priority groups).
FLAG_POVERTY_ALLEVIATED = 1 << 0
FLAG_MONITORED_HOUSEHOLD = 1 << 1
FLAG_EMPLOYMENT_DIFFICULTY = 1 << 2
PRIORITY_FLAGS = FLAG_POVERTY_ALLEVIATED | FLAG_MONITORED_HOUSEHOLD | FLAG_EMPLOYMENT_DIFFICULTY

# Household `keep_together` modes.
KEEP_SAME_EMPLOYER = 0
KEEP_SAME_CITY = 1

# `birth_day` of a laborer whose birth date is unknown: such a laborer fails every age rule
# (missing data is never a match). Any day far outside real birth dates works the same.
UNKNOWN_BIRTH_DAY = int(np.iinfo(np.int32).min)

# Destinations are addressed by bits of a uint64 preference mask.
MAX_DESTINATIONS = 64

# The parts of a score, in display order. `Policy` has one weight per part.
PART_NAMES: tuple[str, ...] = (
    "occupation",
    "wage",
    "destination",
    "start",
    "amenities",
    "priority",
)


def _col(value: Any, dtype: type[np.generic], name: str, n: int | None) -> np.ndarray:
    """Coerce one column to `dtype` (checked, lossless) and check its length."""
    arr = np.asarray(value)
    if arr.dtype != np.dtype(dtype):
        if np.dtype(dtype) == np.bool_:
            if arr.size and not np.isin(arr, (0, 1)).all():
                raise ValueError(f"{name}: boolean column holds values other than 0/1")
        elif arr.size and np.issubdtype(np.dtype(dtype), np.integer):
            info = np.iinfo(dtype)
            if not np.issubdtype(arr.dtype, np.integer) and not np.issubdtype(arr.dtype, np.bool_):
                raise ValueError(f"{name}: expected integers, got {arr.dtype}")
            if arr.min() < info.min or arr.max() > info.max:
                raise ValueError(f"{name}: values out of range for {np.dtype(dtype)}")
        arr = arr.astype(dtype)
    arr = np.ascontiguousarray(arr)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows, got {arr.shape[0]}")
    return arr


@dataclass
class LaborerArrays:
    """One row per laborer; indices into these arrays are the core's laborer ids.

    `id` is the database primary key (kept only to map results back and to order the
    first-come baseline); everything else refers to positions, not keys.
    """

    id: np.ndarray  # int64[L]
    birth_day: np.ndarray  # int32[L], days since 1970-01-01; UNKNOWN_BIRTH_DAY if unknown
    county: np.ndarray  # int16[L], row of Vocabulary.travel_days
    skill_years: np.ndarray  # int8[L, O]; -1 = no skill in occupation o, else 0..60 years
    preferred: np.ndarray  # uint64[L], bit d = prefers destination d; 0 = anywhere
    min_wage: np.ndarray  # int32[L], yuan/month; 0 = unknown
    available_day: np.ndarray  # int32[L], days since epoch
    flags: np.ndarray  # uint8[L], FLAG_* bits
    consent: np.ndarray  # bool[L]
    household: np.ndarray  # int32[L], row of HouseholdArrays or -1
    # Pairs never to propose again (declined by the laborer or rejected by the employer):
    # sorted unique keys `laborer << 32 | vacancy`, positions in this round's arrays.
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Coerce dtypes and check shapes (raises ValueError on bad input)."""
        self.id = _col(self.id, np.int64, "id", None)
        n = self.id.shape[0]
        self.birth_day = _col(self.birth_day, np.int32, "birth_day", n)
        self.county = _col(self.county, np.int16, "county", n)
        self.skill_years = _col(self.skill_years, np.int8, "skill_years", n)
        if self.skill_years.ndim != 2:
            raise ValueError("skill_years must be 2-D [laborers, occupations]")
        if self.skill_years.size and self.skill_years.min() < -1:
            raise ValueError("skill_years: -1 means no skill; other negatives are invalid")
        self.preferred = _col(self.preferred, np.uint64, "preferred", n)
        self.min_wage = _col(self.min_wage, np.int32, "min_wage", n)
        if n and self.min_wage.min() < 0:
            raise ValueError("min_wage must be >= 0 (0 = unknown)")
        self.available_day = _col(self.available_day, np.int32, "available_day", n)
        self.flags = _col(self.flags, np.uint8, "flags", n)
        self.consent = _col(self.consent, np.bool_, "consent", n)
        self.household = _col(self.household, np.int32, "household", n)
        self.excluded = _col(self.excluded, np.int64, "excluded", None)
        if self.excluded.size and (
            np.any(np.diff(self.excluded) <= 0)
            or self.excluded[0] < 0
            or (self.excluded[-1] >> 32) >= n
        ):
            raise ValueError("excluded must be sorted unique pair keys of these laborers")

    def __len__(self) -> int:
        return int(self.id.shape[0])

    @property
    def n_occupations(self) -> int:
        return int(self.skill_years.shape[1])

    def take(self, rows: np.ndarray) -> LaborerArrays:
        """A copy restricted to `rows` (household indices are kept as they are)."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = {
            f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name != "excluded"
        }
        new_of_old = np.full(len(self), -1, dtype=np.int64)
        new_of_old[rows] = np.arange(rows.shape[0])
        kept = self.excluded[new_of_old[self.excluded >> 32] >= 0] if len(self) else self.excluded
        keys = (new_of_old[kept >> 32] << 32) | (kept & 0xFFFFFFFF)
        return LaborerArrays(**columns, excluded=np.unique(keys))

    def excluded_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(laborer, vacancy) positions of the excluded pairs."""
        return self.excluded >> 32, self.excluded & 0xFFFFFFFF


def pair_keys(laborer: np.ndarray, vacancy: np.ndarray) -> np.ndarray:
    """Sorted unique keys of (laborer, vacancy) position pairs, as `LaborerArrays.excluded`."""
    laborer = np.asarray(laborer, dtype=np.int64)
    vacancy = np.asarray(vacancy, dtype=np.int64)
    return np.unique((laborer << 32) | vacancy)


@dataclass
class VacancyArrays:
    """One row per open vacancy; indices into these arrays are the core's vacancy ids."""

    id: np.ndarray  # int64[V]
    employer: np.ndarray  # int32[V]
    occupation: np.ndarray  # int16[V]
    openings: np.ndarray  # int32[V], remaining openings (<= 0: not a candidate)
    wage_min: np.ndarray  # int32[V]
    wage_max: np.ndarray  # int32[V]
    destination: np.ndarray  # int16[V], < 64
    city: np.ndarray  # int16[V], the destination's city
    age_min: np.ndarray  # int16[V]
    age_max: np.ndarray  # int16[V]
    start_day: np.ndarray  # int32[V], first working day, days since epoch
    accommodation: np.ndarray  # bool[V]
    meals: np.ndarray  # bool[V]

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Coerce dtypes and check shapes (raises ValueError on bad input)."""
        self.id = _col(self.id, np.int64, "id", None)
        n = self.id.shape[0]
        self.employer = _col(self.employer, np.int32, "employer", n)
        self.occupation = _col(self.occupation, np.int16, "occupation", n)
        self.openings = _col(self.openings, np.int32, "openings", n)
        self.wage_min = _col(self.wage_min, np.int32, "wage_min", n)
        self.wage_max = _col(self.wage_max, np.int32, "wage_max", n)
        self.destination = _col(self.destination, np.int16, "destination", n)
        if n and (self.destination.min() < 0 or self.destination.max() >= MAX_DESTINATIONS):
            raise ValueError(f"destination must be in [0, {MAX_DESTINATIONS})")
        self.city = _col(self.city, np.int16, "city", n)
        self.age_min = _col(self.age_min, np.int16, "age_min", n)
        self.age_max = _col(self.age_max, np.int16, "age_max", n)
        self.start_day = _col(self.start_day, np.int32, "start_day", n)
        self.accommodation = _col(self.accommodation, np.bool_, "accommodation", n)
        self.meals = _col(self.meals, np.bool_, "meals", n)

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def take(self, rows: np.ndarray) -> VacancyArrays:
        """A copy restricted to `rows`."""
        return VacancyArrays(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


@dataclass
class HouseholdArrays:
    """One row per household that must be kept together (members point here)."""

    keep_together: np.ndarray  # int8[H], KEEP_SAME_EMPLOYER or KEEP_SAME_CITY

    def __post_init__(self) -> None:
        self.keep_together = _col(self.keep_together, np.int8, "keep_together", None)
        if (
            self.keep_together.size
            and not np.isin(self.keep_together, (KEEP_SAME_EMPLOYER, KEEP_SAME_CITY)).all()
        ):
            raise ValueError("keep_together must be 0 (same_employer) or 1 (same_city)")

    def __len__(self) -> int:
        return int(self.keep_together.shape[0])

    @classmethod
    def empty(cls) -> HouseholdArrays:
        return cls(keep_together=np.zeros(0, dtype=np.int8))


@dataclass
class Vocabulary:
    """Reference tables shared by all laborers and vacancies of a round."""

    related: np.ndarray  # float32[O, O]; 1 on the diagonal, e.g. 0.5 related, 0 unrelated
    within: np.ndarray  # bool[D, D]; within[d, p]: d is p or lies inside p
    travel_days: np.ndarray  # int16[C, D]; days from county c to the first working day at d

    def __post_init__(self) -> None:
        self.related = _col(self.related, np.float32, "related", None)
        o = self.related.shape[0]
        if self.related.shape != (o, o):
            raise ValueError("related must be square [O, O]")
        if o and not np.all(np.diag(self.related) == 1.0):
            raise ValueError("related must be 1.0 on the diagonal")
        if o and (self.related.min() < 0 or self.related.max() > 1):
            raise ValueError("related must be within [0, 1]")
        self.within = _col(self.within, np.bool_, "within", None)
        d = self.within.shape[0]
        if self.within.shape != (d, d) or d > MAX_DESTINATIONS:
            raise ValueError(f"within must be square [D, D] with D <= {MAX_DESTINATIONS}")
        self.travel_days = _col(self.travel_days, np.int16, "travel_days", None)
        if self.travel_days.ndim != 2 or self.travel_days.shape[1] != d:
            raise ValueError("travel_days must be [C, D] with the destinations of `within`")
        if self.travel_days.size and self.travel_days.min() < 0:
            raise ValueError("travel_days must be >= 0")

    @property
    def n_occupations(self) -> int:
        return int(self.related.shape[0])

    @property
    def n_destinations(self) -> int:
        return int(self.within.shape[0])

    def cover_masks(self) -> np.ndarray:
        """uint64[D]: bit p of cover[d] is set when a preference for p covers d.

        A laborer prefers vacancy destination d exactly when `preferred & cover[d] != 0`, so
        the hierarchy (street < district < city) costs one AND per pair.
        """
        d = self.n_destinations
        bits = np.left_shift(np.uint64(1), np.arange(d, dtype=np.uint64))
        within = self.within | np.eye(d, dtype=bool)
        return np.bitwise_or.reduce(np.where(within, bits[None, :], np.uint64(0)), axis=1)


class PolicyError(ValueError):
    """A policy that cannot be used. `rule` names the broken rule and `values` fill its
    message, so a caller can word it in the user's language (the core stays free of
    Django); `str()` is the English message."""

    def __init__(self, rule: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.rule = rule
        self.values = values


@dataclass
class Policy:
    """Weights and shape parameters of the score; stored as JSON and versioned by the caller.

    Weights are whole points so that a score's parts are whole numbers that add up to
    the score exactly (what the explanation shows is what was ranked).
    """

    # Points for the occupation fit: the main reason a placement works out.
    occupation: int = 40
    # Points for pay above the laborer's stated minimum.
    wage: int = 20
    # Points for the laborer's preferred destination (half when no preference is given).
    destination: int = 15
    # Points for a start date close to when the laborer can be there.
    start: int = 10
    # Points for accommodation and meals (half each): they matter a lot to migrants.
    amenities: int = 5
    # Points for any policy priority flag (poverty alleviated, monitored, difficulty).
    priority: int = 10
    # Multiplier on off-diagonal `Vocabulary.related` fits: 1.0 uses the vocabulary as is,
    # 0.0 disables matching to related occupations altogether (also as a hard rule).
    related_factor: float = 1.0
    # Share of the occupation points a skill earns with no experience; the rest grows
    # linearly with years up to `years_full` (beginners still fit, veterans fit better).
    occupation_base: float = 0.5
    # Years of experience for full occupation credit.
    years_full: int = 5
    # Relative excess of the vacancy's mid wage over the laborer's minimum that earns full
    # wage points (0.3: a mid wage 30% above the minimum scores full, equal scores 0).
    wage_margin: float = 0.3
    # Days of waiting (earliest possible start to vacancy start) still scoring full points.
    start_full_days: int = 7
    # Days of waiting at which the start points reach 0 (linear in between).
    start_zero_days: int = 60
    # Candidate vacancies kept per laborer before assignment.
    k: int = 10

    def __post_init__(self) -> None:
        self.validate()

    def weights(self) -> dict[str, int]:
        """The weight of each score part, in PART_NAMES order."""
        return {name: int(getattr(self, name)) for name in PART_NAMES}

    def validate(self) -> None:
        """Raise PolicyError unless the policy is usable (weights non-negative, sum 100)."""
        w = self.weights()
        for name, value in w.items():
            if not isinstance(getattr(self, name), (int, np.integer)) or isinstance(
                getattr(self, name), bool
            ):
                raise PolicyError("integer", f"weight {name} must be an integer", name=name)
            if value < 0:
                raise PolicyError("negative", f"weight {name} must be >= 0", name=name)
        total = sum(w.values())
        if total != 100:
            raise PolicyError("sum", f"weights must sum to 100, got {total}", total=total)
        for name in ("related_factor", "occupation_base"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise PolicyError("unit", f"{name} must be within [0, 1]", name=name)
        if self.years_full < 1:
            raise PolicyError("years_full", "years_full must be >= 1")
        if not self.wage_margin > 0:
            raise PolicyError("wage_margin", "wage_margin must be > 0")
        if not 0 <= self.start_full_days < self.start_zero_days:
            raise PolicyError("start_days", "need 0 <= start_full_days < start_zero_days")
        if self.k < 1:
            raise PolicyError("k", "k must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain int/float values)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = float(value) if isinstance(f.default, float) else int(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Inverse of `to_dict`; missing keys take the defaults, unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            keys = sorted(unknown)
            raise PolicyError("unknown", f"unknown policy keys: {keys}", keys=str(keys))
        return cls(**data)


@dataclass
class CandidatePairs:
    """Scored (laborer, vacancy) pairs that pass every hard rule.

    Sorted by laborer, then score descending, then vacancy index (the deterministic
    tie-break used everywhere).
    """

    laborer: np.ndarray  # int32[P]
    vacancy: np.ndarray  # int32[P]
    score: np.ndarray  # int16[P]

    def __post_init__(self) -> None:
        self.laborer = _col(self.laborer, np.int32, "laborer", None)
        n = self.laborer.shape[0]
        self.vacancy = _col(self.vacancy, np.int32, "vacancy", n)
        self.score = _col(self.score, np.int16, "score", n)

    def __len__(self) -> int:
        return int(self.laborer.shape[0])

    @classmethod
    def empty(cls) -> CandidatePairs:
        z = np.zeros(0, dtype=np.int32)
        return cls(laborer=z, vacancy=z.copy(), score=np.zeros(0, dtype=np.int16))

    @classmethod
    def concat(cls, parts: Sequence[CandidatePairs]) -> CandidatePairs:
        """The lists one after another, as they are (no sort, no deduplication)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.laborer for p in parts]),
            np.concatenate([p.vacancy for p in parts]),
            np.concatenate([p.score for p in parts]),
        )


def household_gap(bound: int | None, total: int) -> float | None:
    """(bound - total) / bound; None without a bound."""
    if bound is None:
        return None
    return (bound - total) / bound if bound else 0.0


@dataclass
class RoundResult:
    """Outcome of one matching round, ready to be written as proposed matches.

    `assignment[i]` is the vacancy index of laborer i or -1; `score[i]` is that pair's
    score (0 when unassigned). `parts` holds the per-part points of every assigned pair
    (int8 arrays aligned with `assignment`, 0 when unassigned) so the caller can store
    explanations without recomputing them.
    """

    assignment: np.ndarray  # int32[L]
    score: np.ndarray  # int16[L]
    assigned: int
    total_score: int
    candidate_pairs: int
    # The relaxation without household rules: optimum over the top-k candidates, then
    # refills of stranded openings (placements kept), exact up to a million pairs per
    # flow and on pruned graphs above (see `assignment.FLOW_KEEP`). `upper_bound` is its
    # total score, `upper_bound_assigned` its placements.
    upper_bound: int
    upper_bound_assigned: int
    # (upper_bound - total_score) / upper_bound: what keeping households together cost.
    gap: float
    vacancy_filled: np.ndarray  # int32[V], openings taken in this round
    # No household-keeping assignment made of the round's candidate pairs scores more
    # than `household_bound` (`pricing.priced_bound`, the Lagrangian that keeps the
    # household rules and prices the openings); `household_gap` = (household_bound -
    # total_score) / household_bound: how far the round can be from the best assignment
    # of those pairs (pairs outside them may do better). None: not computed.
    household_bound: int | None = None
    household_gap: float | None = None
    # Set instead of the two above on rounds too large to wait for the bound: computes
    # it (`pricing.PricedBound`) over the round's pairs, once, after the round.
    household_bound_later: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    # Households placed / left out entirely (never split).
    households_placed: int = 0
    households_unplaced: int = 0
    # Laborer-vacancy pairs added by the stranding check (beyond the top-k candidates).
    stranding_pairs_added: int = 0
    stats: dict[str, float] = field(default_factory=dict)
