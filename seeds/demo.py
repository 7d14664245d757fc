"""Deterministic demo and benchmark data: laborers, households, employers, vacancies.

`generate()` is the API benchmarks call; `manage.py seed_demo` wraps it and adds one demo
account per role (`demo_accounts_ensure`).

Determinism: every random draw comes from one `numpy.random.Generator(PCG64(seed))`, in a
fixed order, over reference rows sorted by code; the only other input is the base date
(`today`, by default `timezone.localdate()`). Same seed, same size, same base date and an
empty database give the same rows (ids aside: sequences carry on after deletes).

Speed: laborers are drawn as numpy arrays, 100,000 at a time (memory stays flat), and
written with COPY on PostgreSQL, with ids reserved from the sequences beforehand so nothing
is read back; large loads also rebuild the laborer tables' indexes once at the end instead
of updating them row by row (`rebuilt_indexes`). Other databases get batched INSERTs with
explicit ids and a sequence reset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from employers.models import Employer, EmployerAccount, Vacancy, VacancyStatus
from jobmatch.bulk import Writer, writer_for_connection
from jobmatch.identifiers import (
    BAISE_PREFIXES,
    USCC_ALPHABET,
    resident_id_check_character,
    uscc_check_character,
)
from jobmatch.models import (
    County,
    Destination,
    LegacyCountyCode,
    MinimumWage,
    Occupation,
    Role,
    Township,
    User,
)
from jobmatch.services import account_upsert
from seeds import names
from workers.models import Household, Laborer, LaborerSkill, LaborerStatus, StatusEvent

DEMO_PASSWORD = "jobmatch-demo"
DEFAULT_LABORERS = 2_000
DEFAULT_VACANCIES = 120
DEFAULT_SEED = 2022
# The cooperation offered 544,400 openings; the benchmark shape spreads them over 20,000
# vacancies, so a vacancy has 27.22 openings on average at any size.
OPENINGS_PER_VACANCY = 544_400 / 20_000
VACANCIES_PER_EMPLOYER = 3
CHUNK = 100_000
# From this many laborers on (and more than already exist), PostgreSQL loads drop and
# rebuild the secondary indexes and constraints of the laborer tables (`rebuilt_indexes`).
REBUILD_INDEXES_FROM = 100_000

HOUSEHOLD_SHARE = 0.10  # of laborers, in households of 2-4
HOUSEHOLD_SIZES = np.array([2, 3, 4])
HOUSEHOLD_SIZE_P = np.array([0.72, 0.20, 0.08])
SAME_EMPLOYER_SHARE = 0.65  # couples want one employer; the rest settle for one city
HOUSEHOLD_HEAD_MIN_AGE = 22
REISSUED_SHARE = 0.10  # ID numbers re-issued with the county's current code
POVERTY_ALLEVIATED = 0.20
MONITORED_IF_POOR, MONITORED_OTHERWISE = 0.08, 0.0175  # ~3% overall
DIFFICULTY_50_PLUS, DIFFICULTY_UNDER_50 = 0.08, 0.025  # ~4% overall
CONSENT = 0.93
WAGE_UNKNOWN_SKILLED, WAGE_UNKNOWN_UNSKILLED = 0.12, 0.35
AVAILABLE_WITHIN_DAYS = 42
REGISTERED_WITHIN_DAYS = 120
START_DAYS = (3, 60)  # vacancies start this many days from today (inclusive)
ACCOMMODATION, MEALS = 0.88, 0.72
END_DATE_SHARE = 0.2
SIDE_TRADE_OPENINGS = 0.15  # of the main trade's, for an employer's other occupations

CASEWORKER_COUNTIES = ("451002", "451081")  # 右江区, 靖西市
DEMO_USERNAMES = ("caseworker", "employer", "coordinator", "supervisor", "admin")


# --- Reference data, loaded once per run -------------------------------------------------


def _cumulative(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0  # rounding must never leave a draw past the last category
    return c


def _probabilities(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _sample_grouped(rng: np.random.Generator, cum: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One category per row from its group's cumulative distribution (rows of `cum`).

    Rows shorter than the widest are padded with 1.0, which no draw in [0, 1) reaches.
    """
    u = rng.random(len(group))
    return (cum[group] <= u[:, None]).sum(axis=1)


@dataclass(frozen=True)
class Reference:
    county_codes: list[str]
    county_p: np.ndarray
    region_starts: list[np.ndarray]  # per county: the first year each code was in force
    region_codes: list[np.ndarray]  # per county: the codes, as ints, in that order
    township_codes: list[str]  # sorted; the townships of one county are contiguous
    township_first: np.ndarray  # per county: index of its first township
    township_cum: np.ndarray  # (counties, widest county) cumulative weights
    township_is_street: np.ndarray
    dest_codes: list[str]
    dest_names: list[str]
    dest_kinds: list[str]
    dest_cities: list[str]
    dest_parents: list[str | None]
    occ_keys: list[str]
    occ_low: np.ndarray
    occ_high: np.ndarray
    related_table: np.ndarray  # (occupations, most related) occupation indexes, -1 padded
    related_count: np.ndarray
    skill_cum: np.ndarray  # (2 genders x 3 age bands, occupations)
    minimum_wages: dict[str, list[tuple[date, int]]]

    def minimum_wage_on(self, city: str, day: date) -> int | None:
        """As `jobmatch.selectors.minimum_wage_on`, from memory (thousands of vacancies)."""
        current = None
        for effective_from, monthly in self.minimum_wages.get(city, []):
            if effective_from <= day:
                current = monthly
        return current


def load_reference() -> Reference:
    counties = list(County.objects.order_by("code").values_list("code", flat=True))
    if not counties:
        raise ValueError("No reference data: run `manage.py migrate` first.")
    legacy: dict[str, list[tuple[int, str]]] = {c: [] for c in counties}
    ends: dict[str, int] = {}
    for code, county, valid_from, valid_to in LegacyCountyCode.objects.order_by("code").values_list(
        "code", "county_id", "valid_from", "valid_to"
    ):
        legacy[county].append((valid_from or 0, code))
        ends[county] = max(ends.get(county, 0), (valid_to or 0) + 1)
    region_starts, region_codes = [], []
    for county in counties:
        timeline = sorted([*legacy[county], (ends.get(county, 0), county)])
        region_starts.append(np.array([start for start, _ in timeline]))
        region_codes.append(np.array([int(code) for _, code in timeline], dtype=np.int64))

    townships = list(Township.objects.order_by("code").values_list("code", "county_id"))
    township_codes = [code for code, _ in townships]
    per_county: dict[str, list[str]] = {c: [] for c in counties}
    for code, county in townships:
        per_county[county].append(code)
    widest = max(len(v) for v in per_county.values())
    kind_weights = dict(names.TOWNSHIP_KIND_WEIGHTS)
    township_cum = np.ones((len(counties), widest))
    first = np.zeros(len(counties), dtype=np.int64)
    for i, county in enumerate(counties):
        codes = per_county[county]
        first[i] = township_codes.index(codes[0])
        weights = [kind_weights.get(code[6], names.DEFAULT_TOWNSHIP_WEIGHT) for code in codes]
        township_cum[i, : len(codes)] = _cumulative(weights)

    dests = list(
        Destination.objects.order_by("code").values_list(
            "code", "name", "kind", "city_id", "parent_id"
        )
    )
    occupations = list(
        Occupation.objects.order_by("key").values_list("key", "wage_low", "wage_high")
    )
    occ_keys = [key for key, _, _ in occupations]
    occ_index = {key: i for i, key in enumerate(occ_keys)}
    related: list[list[int]] = [[] for _ in occ_keys]
    for source, target in (
        Occupation.related.through.objects.order_by("from_occupation_id", "to_occupation_id")
        .values_list("from_occupation_id", "to_occupation_id")
        .iterator()
    ):
        related[occ_index[source]].append(occ_index[target])
    related_table = np.full((len(occ_keys), max([1, *(len(r) for r in related)])), -1)
    for i, targets in enumerate(related):
        related_table[i, : len(targets)] = targets
    skill_cum = np.empty((6, len(occ_keys)))
    for gender in range(2):
        for band in range(3):
            profiles = [names.OCCUPATIONS.get(k, names.DEFAULT_OCCUPATION) for k in occ_keys]
            skill_cum[gender * 3 + band] = _cumulative(
                [p.weight * p.gender[gender] * p.age[band] for p in profiles]
            )
    minimum_wages: dict[str, list[tuple[date, int]]] = {}
    for city, effective_from, monthly in MinimumWage.objects.order_by(
        "city_id", "effective_from"
    ).values_list("city_id", "effective_from", "monthly"):
        minimum_wages.setdefault(city, []).append((effective_from, monthly))
    return Reference(
        county_codes=counties,
        county_p=_probabilities(
            [names.COUNTY_WEIGHTS.get(c, names.DEFAULT_COUNTY_WEIGHT) for c in counties]
        ),
        region_starts=region_starts,
        region_codes=region_codes,
        township_codes=township_codes,
        township_first=first,
        township_cum=township_cum,
        township_is_street=np.array([code[6] == "0" for code in township_codes]),
        dest_codes=[d[0] for d in dests],
        dest_names=[d[1] for d in dests],
        dest_kinds=[d[2] for d in dests],
        dest_cities=[d[3] for d in dests],
        dest_parents=[d[4] for d in dests],
        occ_keys=occ_keys,
        # Occupations without a wage range (none in the reference) ask about the average.
        occ_low=np.array([low or 4500 for _, low, _ in occupations], dtype=float),
        occ_high=np.array([high or 6500 for _, _, high in occupations], dtype=float),
        related_table=related_table,
        related_count=np.array([len(r) for r in related]),
        skill_cum=skill_cum,
        minimum_wages=minimum_wages,
    )


@dataclass(frozen=True)
class Villages:
    """Village names per township: (townships, most villages) with the count of each."""

    table: np.ndarray
    counts: np.ndarray


def village_pools(rng: np.random.Generator, ref: Reference) -> Villages:
    low, high = names.VILLAGES_PER_TOWNSHIP
    combos = [h + t for h in names.VILLAGE_HEADS for t in names.VILLAGE_TAILS if h != t]
    table = np.full((len(ref.township_codes), high), "", dtype=object)
    counts = rng.integers(low, high, size=len(ref.township_codes))
    for i, is_street in enumerate(ref.township_is_street):
        if is_street:
            counts[i] = min(counts[i], len(names.COMMUNITY_NAMES))
            picks = rng.choice(len(names.COMMUNITY_NAMES), size=counts[i], replace=False)
            table[i, : counts[i]] = [names.COMMUNITY_NAMES[p] + "社区" for p in picks]
        else:
            picks = rng.choice(len(combos), size=counts[i], replace=False)
            table[i, : counts[i]] = [combos[p] + "村" for p in picks]
    return Villages(table=table, counts=counts)


# --- Laborers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdLayout:
    """Households inside a chunk: members are consecutive rows (registered together)."""

    household: np.ndarray  # per row: index of its household in the chunk, -1 if none
    rank: np.ndarray  # per row: 0 for the head (and singles), 1 the spouse, 2+ the others
    head: np.ndarray  # per row: row of its household's head (itself for singles)
    count: int


def household_layout(rng: np.random.Generator, n: int) -> HouseholdLayout:
    mean_size = float(HOUSEHOLD_SIZES @ HOUSEHOLD_SIZE_P)
    sizes = rng.choice(
        HOUSEHOLD_SIZES, size=round(n * HOUSEHOLD_SHARE / mean_size), p=HOUSEHOLD_SIZE_P
    )
    while sizes.sum() > n:  # tiny chunks
        sizes = sizes[:-1]
    units = np.concatenate([sizes, np.ones(n - sizes.sum(), dtype=np.int64)])
    is_household = np.concatenate(
        [np.ones(len(sizes), bool), np.zeros(len(units) - len(sizes), bool)]
    )
    order = rng.permutation(len(units))
    units, is_household = units[order], is_household[order]
    # Number households in order of appearance, so household ids rise with member ids.
    household_of_unit = np.where(is_household, np.cumsum(is_household) - 1, -1)
    starts = np.cumsum(units) - units
    unit_of_row = np.repeat(np.arange(len(units)), units)
    head = starts[unit_of_row]
    return HouseholdLayout(
        household=household_of_unit[unit_of_row],
        rank=np.arange(n) - head,
        head=head,
        count=len(sizes),
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _epoch_days(day: date) -> int:
    return day.toordinal() - date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class LaborerChunk:
    n: int
    layout: HouseholdLayout
    keep_together_same_employer: np.ndarray  # per household
    name: list[str]
    id_number: list[str]
    id_key: np.ndarray  # first 17 digits as an int (uniqueness)
    male: np.ndarray
    birth: np.ndarray  # datetime64[D]
    outside: np.ndarray
    phone: list[str]
    township: np.ndarray  # index into ref.township_codes
    county: np.ndarray  # index into ref.county_codes
    village: np.ndarray
    min_wage: np.ndarray  # 0 = unknown
    available: np.ndarray  # datetime64[D]
    poverty: np.ndarray
    monitored: np.ndarray
    difficulty: np.ndarray
    consent: np.ndarray
    registered_seconds_ago: np.ndarray  # before midnight of `today`
    skill_row: np.ndarray  # skills: laborer row, occupation index, years
    skill_occ: np.ndarray
    skill_years: np.ndarray
    pref_row: np.ndarray  # preferred destinations: laborer row, destination index
    pref_dest: np.ndarray


_AGE_LO = np.array([lo for lo, _, _ in names.AGE_BANDS])
_AGE_SPAN = np.array([hi - lo + 1 for lo, hi, _ in names.AGE_BANDS])
_AGE_P = _probabilities([w for _, _, w in names.AGE_BANDS])
_SURNAME_CHARS = np.array([s for s, _ in names.SURNAMES], dtype=object)
_SURNAME_P = _probabilities([w for _, w in names.SURNAMES])
_MOBILE_PREFIXES = np.array([p for p, _ in names.MOBILE_PREFIXES], dtype=object)
_MOBILE_P = _probabilities([w for _, w in names.MOBILE_PREFIXES])
_OUTSIDE = np.array([int(code) for code in names.OUTSIDE_REGIONS], dtype=np.int64)
_GIVEN = [
    np.array(names.GIVEN_NAMES[(gender, era)], dtype=object)
    for gender in ("male", "female")
    for era in ("old", "mid", "young")
]


def _preference_p(ref: Reference) -> np.ndarray:
    return _probabilities(
        [
            names.PREFERENCE_WEIGHTS.get(code, names.PREFERENCE_DEFAULT_BY_KIND.get(kind, 0.5))
            for code, kind in zip(ref.dest_codes, ref.dest_kinds, strict=True)
        ]
    )


def laborer_chunk(
    rng: np.random.Generator,
    ref: Reference,
    villages: Villages,
    *,
    n: int,
    today: date,
    used_keys: np.ndarray,
) -> LaborerChunk:
    """Draw `n` laborers as arrays; `used_keys` (sorted) are ID numbers already taken."""
    layout = household_layout(rng, n)
    head = layout.head
    member = layout.household >= 0
    follower = member & (layout.rank > 0)
    spouse = member & (layout.rank == 1)
    third = member & (layout.rank >= 2)
    f_head = head[follower]

    # Where, who, how old: every row draws, then household members copy or derive from
    # their head, so the number of draws never depends on the data.
    county = rng.choice(len(ref.county_codes), size=n, p=ref.county_p)
    township = ref.township_first[county] + _sample_grouped(rng, ref.township_cum, county)
    village_u = rng.random(n)
    male = rng.random(n) < names.MALE_SHARE
    band = rng.choice(len(_AGE_P), size=n, p=_AGE_P)
    age = _AGE_LO[band] + (rng.random(n) * _AGE_SPAN[band]).astype(np.int64)
    spouse_gap = rng.integers(-4, 5, size=n)
    child_gap = rng.integers(20, 28, size=n)
    sibling_gap = rng.integers(-6, 7, size=n)
    surname = rng.choice(len(_SURNAME_CHARS), size=n, p=_SURNAME_P)

    is_head = member & (layout.rank == 0)
    age[is_head] = np.maximum(age[is_head], HOUSEHOLD_HEAD_MIN_AGE)
    county[follower] = county[f_head]
    township[follower] = township[f_head]
    village_u[follower] = village_u[f_head]
    male[spouse] = ~male[head[spouse]]
    age[spouse] = np.clip(age[head[spouse]] + spouse_gap[spouse], 18, 65)
    head_age = age[head]
    # A third or fourth member is a grown child of an older couple, else a sibling.
    child = third & (head_age >= 40)
    sibling = third & ~child
    age[child] = np.maximum(head_age[child] - child_gap[child], 16)
    age[sibling] = np.clip(head_age[sibling] + sibling_gap[sibling], 16, 65)
    father = np.where(male[head], head, head + 1)
    surname[child] = surname[father[child]]
    surname[sibling] = surname[head[sibling]]

    # Birth dates giving exactly `age` on `today`.
    ages = np.arange(0, 67)
    latest = np.array([_epoch_days(_years_before(today, int(a))) for a in ages])
    earliest = np.array([_epoch_days(_years_before(today, int(a) + 1)) + 1 for a in ages])
    birth_days = earliest[age] + (rng.random(n) * (latest[age] - earliest[age] + 1)).astype(
        np.int64
    )
    birth = birth_days.astype("datetime64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    birth_month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    birth_day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1

    era = np.where(birth_year < 1975, 0, np.where(birth_year < 1995, 1, 2))
    name_group = np.where(male, 0, 3) + era
    given_u = rng.random(n)
    given = np.empty(n, dtype=object)
    for g, pool in enumerate(_GIVEN):
        rows = name_group == g
        given[rows] = pool[(given_u[rows] * len(pool)).astype(np.int64)]
    name = [s + g for s, g in zip(_SURNAME_CHARS[surname], given, strict=True)]

    # ID region: the county's code in force when the number was assigned - at the first
    # card (16, not before the 1985 roll-out) for people born before 1984, between birth
    # registration and 16 for the younger; some were re-issued with today's code.
    assign_year = np.where(
        birth_year < 1984,
        np.maximum(birth_year + 16, 1985),
        birth_year + rng.integers(0, 17, size=n),
    )
    assign_year = np.minimum(assign_year, today.year)
    assign_year[rng.random(n) < REISSUED_SHARE] = today.year
    region = np.empty(n, dtype=np.int64)
    for c in range(len(ref.county_codes)):
        rows = county == c
        at = np.searchsorted(ref.region_starts[c], assign_year[rows], side="right") - 1
        region[rows] = ref.region_codes[c][np.maximum(at, 0)]
    outside = ~male & (rng.random(n) < names.OUTSIDE_SHARE_OF_WOMEN)
    outside_pick = rng.integers(0, len(_OUTSIDE), size=n)
    region[outside] = _OUTSIDE[outside_pick[outside]]
    outside = ~np.isin(region // 100, [int(p) for p in BAISE_PREFIXES])

    # Sequence: odd for men, even for women (GB 11643); redraw any number already taken.
    ymd = birth_year * 10_000 + birth_month * 100 + birth_day
    key = region * 10**11 + ymd * 1000 + rng.integers(0, 500, size=n) * 2 + male
    while True:
        taken = np.ones(n, dtype=bool)
        taken[np.unique(key, return_index=True)[1]] = False
        taken |= np.isin(key, used_keys, assume_unique=False)
        redraw = int(taken.sum())
        if not redraw:
            break
        key[taken] = (
            key[taken] - key[taken] % 1000 + rng.integers(0, 500, size=redraw) * 2 + (male[taken])
        )
    id_number = []
    for k in key.tolist():
        first17 = f"{k:017d}"
        id_number.append(first17 + resident_id_check_character(first17))

    prefix = rng.choice(len(_MOBILE_PREFIXES), size=n, p=_MOBILE_P)
    suffix = rng.integers(0, 10**8, size=n)
    phone = [f"{p}{s:08d}" for p, s in zip(_MOBILE_PREFIXES[prefix], suffix.tolist(), strict=True)]

    # Skills: a mix by gender and age, the second usually a related trade.
    age_band = np.where(age < 30, 0, np.where(age < 50, 1, 2))
    skill_group = np.where(male, 0, 3) + age_band
    n_skills = rng.choice(len(names.SKILL_COUNT_WEIGHTS), size=n, p=names.SKILL_COUNT_WEIGHTS)
    occ1 = _sample_grouped(rng, ref.skill_cum, skill_group)
    occ2 = _sample_grouped(rng, ref.skill_cum, skill_group)
    occ3 = _sample_grouped(rng, ref.skill_cum, skill_group)
    related_u = rng.random(n)
    use_related = (rng.random(n) < names.SECOND_SKILL_RELATED) & (ref.related_count[occ1] > 0)
    related_pick = ref.related_table[
        occ1, (related_u * np.maximum(ref.related_count[occ1], 1)).astype(np.int64)
    ]
    occ2 = np.where(use_related, related_pick, occ2)
    working_years = age - 16
    years1 = np.minimum(working_years, rng.gamma(1.6, 3.0, size=n).astype(np.int64))
    years2 = np.minimum(working_years, rng.exponential(2.0, size=n).astype(np.int64))
    years3 = np.minimum(working_years, rng.exponential(1.5, size=n).astype(np.int64))
    slots = [
        (n_skills >= 1, occ1, years1),
        ((n_skills >= 2) & (occ2 != occ1), occ2, years2),
        ((n_skills >= 3) & (occ3 != occ1) & (occ3 != occ2), occ3, years3),
    ]
    skill_row = np.concatenate([np.flatnonzero(has) for has, _, _ in slots])
    skill_occ = np.concatenate([occ[has] for has, occ, _ in slots])
    skill_years = np.minimum(np.concatenate([yrs[has] for has, _, yrs in slots]), 60)
    order = np.argsort(skill_row, kind="stable")
    skill_row, skill_occ, skill_years = skill_row[order], skill_occ[order], skill_years[order]

    # Expected wage: about the low end of the main trade's range, more with experience.
    ask_skilled = ref.occ_low[occ1] * (0.85 + 0.25 * rng.random(n)) + 50 * np.minimum(years1, 10)
    ask_unskilled = 3000 + 2000 * rng.random(n)
    min_wage = (np.round(np.where(n_skills > 0, ask_skilled, ask_unskilled) / 100) * 100).astype(
        np.int64
    )
    unknown = rng.random(n) < np.where(n_skills > 0, WAGE_UNKNOWN_SKILLED, WAGE_UNKNOWN_UNSKILLED)
    min_wage[unknown] = 0

    # Preferences, start date, policy groups and registration time are the household's.
    n_pref = rng.choice(
        len(names.PREFERENCE_COUNT_WEIGHTS), size=n, p=names.PREFERENCE_COUNT_WEIGHTS
    )
    pref_p = _preference_p(ref)
    pref1 = rng.choice(len(ref.dest_codes), size=n, p=pref_p)
    pref2 = rng.choice(len(ref.dest_codes), size=n, p=pref_p)
    available_in = rng.integers(0, AVAILABLE_WITHIN_DAYS + 1, size=n)
    poverty = rng.random(n) < POVERTY_ALLEVIATED
    monitored = rng.random(n) < np.where(poverty, MONITORED_IF_POOR, MONITORED_OTHERWISE)
    difficulty = rng.random(n) < np.where(age >= 50, DIFFICULTY_50_PLUS, DIFFICULTY_UNDER_50)
    consent = rng.random(n) < CONSENT
    registered = rng.integers(1, REGISTERED_WITHIN_DAYS + 1, size=n) * 86_400 - rng.integers(
        8 * 3600, 18 * 3600, size=n
    )
    for column in (n_pref, pref1, pref2, available_in, poverty, monitored, registered):
        column[follower] = column[f_head]
    with_pref = n_pref >= 1
    with_second = (n_pref >= 2) & (pref2 != pref1)
    pref_row = np.concatenate([np.flatnonzero(with_pref), np.flatnonzero(with_second)])
    pref_dest = np.concatenate([pref1[with_pref], pref2[with_second]])
    order = np.argsort(pref_row, kind="stable")

    village_local = (village_u * villages.counts[township]).astype(np.int64)
    return LaborerChunk(
        n=n,
        layout=layout,
        keep_together_same_employer=rng.random(layout.count) < SAME_EMPLOYER_SHARE,
        name=name,
        id_number=id_number,
        id_key=key,
        male=male,
        birth=birth,
        outside=outside,
        phone=phone,
        township=township,
        county=county,
        village=villages.table[township, village_local],
        min_wage=min_wage,
        available=np.datetime64(today, "D") + available_in,
        poverty=poverty,
        monitored=monitored,
        difficulty=difficulty,
        consent=consent,
        registered_seconds_ago=registered,
        skill_row=skill_row,
        skill_occ=skill_occ,
        skill_years=skill_years,
        pref_row=pref_row[order],
        pref_dest=pref_dest[order],
    )


# --- Employers and vacancies ---------------------------------------------------------------


@dataclass(frozen=True)
class EmployerDraft:
    name: str
    uscc: str
    destination: str
    city: str
    industry: str
    address: str
    contact_name: str
    contact_phone: str


def _pick(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    return options[int(rng.choice(len(options), p=_probabilities(weights)))]


def _organisation_code(rng: np.random.Generator) -> str:
    """A GB 11714 organisation code (8 characters and its check), as in credit codes."""
    if rng.random() < names.OLD_ORGANISATION_CODE_SHARE:
        body = str(int(rng.integers(1, 10))) + "".join(str(d) for d in rng.integers(0, 10, size=7))
    else:  # codes issued since 2015 start with MA
        body = "MA" + "".join(USCC_ALPHABET[i] for i in rng.integers(0, 31, size=6))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(ch, 36) * w for ch, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _contact_name(rng: np.random.Generator) -> str:
    surname = _pick(rng, *zip(*names.CONTACT_SURNAMES, strict=True))
    pool = names.GIVEN_NAMES[("female" if rng.random() < 0.6 else "male", "mid")]
    return surname + pool[int(rng.integers(0, len(pool)))]


def _mobile(rng: np.random.Generator) -> str:
    prefix = _MOBILE_PREFIXES[int(rng.choice(len(_MOBILE_PREFIXES), p=_MOBILE_P))]
    return f"{prefix}{int(rng.integers(0, 10**8)):08d}"


def employer_drafts(
    rng: np.random.Generator, ref: Reference, *, count: int, taken_uscc: set[str]
) -> list[EmployerDraft]:
    """`count` employers; the first is the demo employer (a Bao'an electronics factory)."""
    index = {code: i for i, code in enumerate(ref.dest_codes)}
    place_weights = [
        names.EMPLOYER_PLACE_WEIGHTS.get(code, names.EMPLOYER_PLACE_DEFAULT_BY_KIND.get(kind, 1))
        for code, kind in zip(ref.dest_codes, ref.dest_kinds, strict=True)
    ]
    industries = sorted(names.INDUSTRIES)
    used_names: set[str] = set()
    drafts = []
    for i in range(count):
        place = _pick(rng, range(len(ref.dest_codes)), place_weights)
        kind = ref.dest_kinds[place]
        by_place = names.INDUSTRY_WEIGHTS_BY_PLACE[kind]
        industry = _pick(rng, industries, [by_place.get(k, 0) for k in industries])
        if i == 0 and names.DEMO_EMPLOYER_PLACE in index:
            place, industry = index[names.DEMO_EMPLOYER_PLACE], names.DEMO_EMPLOYER_INDUSTRY
            kind = ref.dest_kinds[place]
        code, city = ref.dest_codes[place], ref.dest_cities[place]
        parent = ref.dest_parents[place]
        city_name = ref.dest_names[index[city]]

        # Where it is registered (the credit code's region) and its street address.
        if city in names.CITY_DISTRICTS:
            region, district_name = names.CITY_DISTRICTS[city][
                int(rng.integers(0, len(names.CITY_DISTRICTS[city])))
            ]
            locality = district_name
        elif kind == "street" and parent is not None:
            region, locality = parent, ref.dest_names[index[parent]] + ref.dest_names[place]
        elif kind == "district":
            region, locality = code, ref.dest_names[place]
        else:
            region, locality = city, "" if kind == "city" else ref.dest_names[place]
        if city == "440300" and rng.random() < names.SHENZHEN_CITY_REGISTRATION:
            region = "440300"
        road = names.ROADS[int(rng.integers(0, len(names.ROADS)))]
        address = f"{locality}{road}{int(rng.integers(1, 300))}号"
        if industry in {"electronics", "hardware", "garment"} and rng.random() < 0.6:
            park = names.PARKS[int(rng.integers(0, len(names.PARKS)))]
            address += f"{park}{int(rng.integers(1, 20))}栋"

        suffixes = names.INDUSTRIES[industry].suffixes
        for _ in range(20):  # company names are unique in a city: try a few brands
            brand = "".join(
                names.BRAND_CHARS[j] for j in rng.integers(0, len(names.BRAND_CHARS), size=2)
            )
            name = city_name + brand + suffixes[int(rng.integers(0, len(suffixes)))]
            if name not in used_names:
                break
        used_names.add(name)
        while True:
            first17 = f"91{region}{_organisation_code(rng)}"
            uscc = first17 + uscc_check_character(first17)
            if uscc not in taken_uscc:
                break
        taken_uscc.add(uscc)
        drafts.append(
            EmployerDraft(
                name=name,
                uscc=uscc,
                destination=code,
                city=city,
                industry=industry,
                address=address,
                contact_name=_contact_name(rng),
                contact_phone=_mobile(rng),
            )
        )
    return drafts


@dataclass(frozen=True)
class VacancyDraft:
    employer: int  # index into the employer drafts
    title: str
    occupation: str
    openings: int
    wage_min: int
    wage_max: int
    destination: str
    age_min: int
    age_max: int
    start_date: date
    end_date: date | None
    accommodation: bool
    meals: bool


def allocate_openings(weights: np.ndarray, total: int) -> np.ndarray:
    """At least one opening each, the rest in proportion to `weights`, summing to `total`."""
    extra = total - len(weights)
    share = weights / weights.sum() * extra
    base = np.floor(share).astype(np.int64)
    left = extra - int(base.sum())
    # Largest remainders first; ties by position so the result is deterministic.
    base[np.argsort(-(share - base), kind="stable")[:left]] += 1
    return base + 1


def _round_up_100(value: float) -> int:
    return int(math.ceil(value / 100) * 100)


def vacancy_drafts(
    rng: np.random.Generator,
    ref: Reference,
    employers: Sequence[EmployerDraft],
    *,
    count: int,
    openings: int,
    today: date,
) -> list[VacancyDraft]:
    if count == 0:
        return []
    # Every employer posts; the demo employer a few; big employers post more.
    size = rng.lognormal(0.0, 0.8, size=len(employers))
    rest = rng.choice(len(employers), size=max(0, count - len(employers) - 2), p=size / size.sum())
    employer_of = np.concatenate([[0, 0], np.arange(len(employers)), rest])[:count]
    employer_of = employer_of[rng.permutation(count)]
    occ_index = {key: i for i, key in enumerate(ref.occ_keys)}
    weights = np.empty(count)
    occupation = []
    for v, e in enumerate(employer_of.tolist()):
        industry = names.INDUSTRIES[employers[e].industry]
        options = [k for k in sorted(industry.occupations) if k in occ_index]
        key = _pick(rng, options, [industry.occupations[k] for k in options])
        occupation.append(key)
        # The trade the employer exists for recruits in numbers; its canteen and gate don't.
        main = max(options, key=lambda k: industry.occupations[k])
        scale = 1.0 if key == main else SIDE_TRADE_OPENINGS
        weights[v] = industry.median_openings * scale * math.exp(0.8 * rng.standard_normal())
    per_vacancy = allocate_openings(weights, openings)

    drafts = []
    for v, e in enumerate(employer_of.tolist()):
        employer, key = employers[e], occupation[v]
        profile = names.OCCUPATIONS.get(key, names.DEFAULT_OCCUPATION)
        factor = names.WAGE_FACTORS.get(employer.city, 0.92)
        low = ref.occ_low[occ_index[key]] * factor
        high = ref.occ_high[occ_index[key]] * factor
        start = today + timedelta(days=int(rng.integers(START_DAYS[0], START_DAYS[1] + 1)))
        wage_min = round((low + (high - low) * 0.35 * rng.random()) / 100) * 100
        wage_max = round((wage_min + (high - low) * (0.4 + 0.5 * rng.random())) / 100) * 100
        # Never below the city's legal minimum on the first day of work.
        legal = ref.minimum_wage_on(employer.city, start)
        if legal is not None:
            wage_min = max(wage_min, _round_up_100(legal))
        usual_min, max_choices = profile.age_limits
        age_min = 16 if usual_min == 18 and rng.random() < 0.03 else usual_min
        age_max = max_choices[int(rng.integers(0, len(max_choices)))]
        titles = profile.titles or (key,)
        has_end = rng.random() < END_DATE_SHARE
        end_in = int(rng.integers(30, 91))
        drafts.append(
            VacancyDraft(
                employer=e,
                title=titles[int(rng.integers(0, len(titles)))],
                occupation=key,
                openings=int(per_vacancy[v]),
                wage_min=int(wage_min),
                wage_max=int(max(wage_max, wage_min)),
                destination=employer.destination,
                age_min=age_min,
                age_max=max(age_max, age_min),
                start_date=start,
                end_date=start + timedelta(days=end_in) if has_end else None,
                accommodation=bool(rng.random() < ACCOMMODATION),
                meals=bool(rng.random() < MEALS),
            )
        )
    return drafts


# --- Writing -------------------------------------------------------------------------------


@contextmanager
def rebuilt_indexes(tables: Sequence[str]) -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of `tables` (not the
    primary keys); build them again from their exact definitions on the way out.

    PostgreSQL's advice for populating a database: the laborer table has 15 indexes, 9 on
    text, and every COPYed row otherwise pays a B-tree insertion per index and a foreign-
    key lookup per reference; rebuilding sorts once per index and validates each foreign
    key with one join. The ACCESS EXCLUSIVE locks it takes last until the commit: meant
    for bulk loads (benchmarks, a fresh database), not for a database in use.
    """
    quote = connection.ops.quote_name
    constraints: list[tuple[str, str, str]] = []
    indexes: list[str] = []
    with connection.cursor() as cursor:
        for table in tables:
            # Unique constraints come first when adding back: foreign keys may use them.
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') "
                "ORDER BY contype DESC, conname",
                [table],
            )
            constraints += [(table, name, definition) for name, definition in cursor.fetchall()]
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) ORDER BY 1",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")  # regclass text comes quoted as needed
                indexes.append(definition)
        for table, name, _ in reversed(constraints):
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")  # the planner has never seen these rows


LABORER_COLUMNS = (
    "id", "name", "id_number", "gender", "birth_date", "from_outside_baise", "phone",
    "county_id", "township_id", "village", "min_monthly_wage", "available_from",
    "household_id", "poverty_alleviated", "monitored_household", "employment_difficulty",
    "consent_to_share", "status", "created_by_id", "created_at", "updated_at",
)  # fmt: skip


def _aware(times: np.ndarray) -> list[datetime]:
    return [t.replace(tzinfo=UTC) for t in times.astype("datetime64[us]").tolist()]


def write_laborer_chunk(
    writer: Writer, ref: Reference, chunk: LaborerChunk, *, midnight: datetime
) -> dict[str, int]:
    """Write one chunk (households first, for their ids); returns rows written by table."""
    household_ids = writer.reserve_ids(Household, chunk.layout.count)
    laborer_ids = writer.reserve_ids(Laborer, chunk.n)
    midnight_utc = np.datetime64(midnight.astimezone(UTC).replace(tzinfo=None), "s")
    registered = _aware(midnight_utc - chunk.registered_seconds_ago.astype("timedelta64[s]"))
    layout = chunk.layout
    head_rows = np.flatnonzero((layout.household >= 0) & (layout.rank == 0))
    keep = np.where(
        chunk.keep_together_same_employer,
        Household.KeepTogether.SAME_EMPLOYER.value,
        Household.KeepTogether.SAME_CITY.value,
    ).tolist()
    households = writer.write(
        Household,
        ("id", "keep_together", "created_by_id", "created_at", "updated_at"),
        (
            (hid, keep[h], None, registered[row], registered[row])
            for h, (hid, row) in enumerate(
                zip(household_ids.tolist(), head_rows.tolist(), strict=True)
            )
        ),
    )

    hids = household_ids.tolist()
    household_col = [hids[h] if h >= 0 else None for h in layout.household.tolist()]
    county_codes = np.array(ref.county_codes, dtype=object)[chunk.county].tolist()
    township_codes = np.array(ref.township_codes, dtype=object)[chunk.township].tolist()
    wages = [w or None for w in chunk.min_wage.tolist()]
    gender = np.where(chunk.male, "male", "female").tolist()
    registered_status = LaborerStatus.REGISTERED.value
    rows = zip(
        laborer_ids.tolist(),
        chunk.name,
        chunk.id_number,
        gender,
        chunk.birth.tolist(),
        chunk.outside.tolist(),
        chunk.phone,
        county_codes,
        township_codes,
        chunk.village.tolist(),
        wages,
        chunk.available.tolist(),
        household_col,
        chunk.poverty.tolist(),
        chunk.monitored.tolist(),
        chunk.difficulty.tolist(),
        chunk.consent.tolist(),
        [registered_status] * chunk.n,
        [None] * chunk.n,
        registered,
        registered,
        strict=True,
    )
    laborers = writer.write(Laborer, LABORER_COLUMNS, rows)

    occ_keys = np.array(ref.occ_keys, dtype=object)
    skills = writer.write(
        LaborerSkill,
        ("laborer_id", "occupation_id", "years"),
        zip(
            laborer_ids[chunk.skill_row].tolist(),
            occ_keys[chunk.skill_occ].tolist(),
            chunk.skill_years.tolist(),
            strict=True,
        ),
    )
    dest_codes = np.array(ref.dest_codes, dtype=object)
    preferred = writer.write(
        Laborer.preferred_destinations.through,
        ("laborer_id", "destination_id"),
        zip(
            laborer_ids[chunk.pref_row].tolist(),
            dest_codes[chunk.pref_dest].tolist(),
            strict=True,
        ),
    )
    events = writer.write(
        StatusEvent,
        ("laborer_id", "from_status", "to_status", "actor_id", "note", "at"),
        (
            (lid, "", registered_status, None, "", at)
            for lid, at in zip(laborer_ids.tolist(), registered, strict=True)
        ),
    )
    return {
        "households": households,
        "household_members": int((layout.household >= 0).sum()),
        "laborers": laborers,
        "skills": skills,
        "preferred_destinations": preferred,
        "status_events": events,
    }


# --- The API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    laborers: int
    households: int
    household_members: int
    skills: int
    preferred_destinations: int
    status_events: int
    employers: int
    vacancies: int
    openings: int
    seconds: float
    laborer_seconds: float
    method: str
    demo_employer_uscc: str | None


def default_openings(vacancies: int) -> int:
    return max(vacancies, round(vacancies * OPENINGS_PER_VACANCY))


def _existing_id_keys() -> np.ndarray:
    """First 17 digits of the ID numbers already registered (new ones must differ)."""
    keys = [
        int(number[:17])
        for number in Laborer.objects.values_list("id_number", flat=True).iterator(
            chunk_size=10_000
        )
        if number[:17].isdigit()
    ]
    return np.unique(np.array(keys, dtype=np.int64))


def generate(
    *,
    laborers: int = DEFAULT_LABORERS,
    vacancies: int = DEFAULT_VACANCIES,
    openings: int | None = None,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    chunk_size: int = CHUNK,
    rebuild_indexes: bool | None = None,
) -> Summary:
    """Add `laborers` laborers and `vacancies` vacancies with `openings` openings in all.

    Runs in one transaction: a failure leaves nothing behind. Employers number about a
    third of the vacancies; the first is the demo employer (`demo_employer_uscc`).
    `rebuild_indexes`: see `rebuilt_indexes` (PostgreSQL; by default for large loads).
    """
    if laborers < 0 or vacancies < 0:
        raise ValueError("The numbers of laborers and vacancies cannot be negative.")
    openings = default_openings(vacancies) if openings is None else openings
    if vacancies and openings < vacancies:
        raise ValueError(f"{vacancies} vacancies need at least {vacancies} openings (one each).")
    if not vacancies and openings:
        raise ValueError("Openings need vacancies.")
    today = today or timezone.localdate()
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    ref = load_reference()
    villages = village_pools(rng, ref)
    midnight = timezone.make_aware(datetime.combine(today, clock_time.min))
    writer = writer_for_connection()
    totals = dict.fromkeys(
        ("laborers", "households", "household_members", "skills", "preferred_destinations",
         "status_events"),
        0,
    )  # fmt: skip
    with transaction.atomic():
        used = _existing_id_keys()
        if rebuild_indexes is None:
            rebuild_indexes = laborers >= max(REBUILD_INDEXES_FROM, len(used))
        bulk: AbstractContextManager[None] = nullcontext()
        if rebuild_indexes and connection.vendor == "postgresql":
            laborer_tables = (
                Laborer,
                LaborerSkill,
                Laborer.preferred_destinations.through,
                StatusEvent,
            )
            bulk = rebuilt_indexes([model._meta.db_table for model in laborer_tables])
        with bulk:
            for offset in range(0, laborers, chunk_size):
                chunk = laborer_chunk(
                    rng,
                    ref,
                    villages,
                    n=min(chunk_size, laborers - offset),
                    today=today,
                    used_keys=used,
                )
                written = write_laborer_chunk(writer, ref, chunk, midnight=midnight)
                for table, count in written.items():
                    totals[table] += count
                used = np.union1d(used, chunk.id_key)
                del chunk  # keep one chunk in memory at a time
        laborer_seconds = time.perf_counter() - started

        employer_count = math.ceil(vacancies / VACANCIES_PER_EMPLOYER) if vacancies else 0
        taken = set(Employer.objects.values_list("uscc", flat=True))
        employers = employer_drafts(rng, ref, count=employer_count, taken_uscc=taken)
        employer_ids = writer.reserve_ids(Employer, len(employers))
        now = timezone.now()
        writer.write(
            Employer,
            ("id", "name", "uscc", "destination_id", "address", "contact_name", "contact_phone",
             "verified", "created_at", "updated_at"),
            (
                (eid, e.name, e.uscc, e.destination, e.address, e.contact_name, e.contact_phone,
                 True, now, now)
                for eid, e in zip(employer_ids.tolist(), employers, strict=True)
            ),
        )  # fmt: skip
        drafts = vacancy_drafts(
            rng, ref, employers, count=vacancies, openings=openings, today=today
        )
        writer.write(
            Vacancy,
            ("employer_id", "title", "occupation_id", "openings", "openings_left", "wage_min",
             "wage_max", "destination_id", "age_min", "age_max", "start_date", "end_date",
             "accommodation", "meals", "status", "created_by_id", "created_at", "updated_at"),
            (
                (int(employer_ids[v.employer]), v.title, v.occupation, v.openings, v.openings,
                 v.wage_min, v.wage_max, v.destination, v.age_min, v.age_max, v.start_date,
                 v.end_date, v.accommodation, v.meals, VacancyStatus.OPEN.value, None, now, now)
                for v in drafts
            ),
        )  # fmt: skip
        writer.finish([Household, Laborer, Employer])
    return Summary(
        laborers=totals["laborers"],
        households=totals["households"],
        household_members=totals["household_members"],
        skills=totals["skills"],
        preferred_destinations=totals["preferred_destinations"],
        status_events=totals["status_events"],
        employers=len(employers),
        vacancies=len(drafts),
        openings=sum(v.openings for v in drafts),
        seconds=time.perf_counter() - started,
        laborer_seconds=laborer_seconds,
        method=writer.method,
        demo_employer_uscc=employers[0].uscc if employers else None,
    )


# --- Demo accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    sees: str


def demo_accounts_ensure(*, employer_uscc: str | None) -> list[DemoAccount]:
    """Create or reset one account per role, all with `DEMO_PASSWORD`.

    Without a demo employer (no vacancies seeded) the employer account is left as it is.
    """
    counties = list(
        County.objects.filter(code__in=CASEWORKER_COUNTIES)
        .order_by("code")
        .values_list("code", flat=True)
    )
    account_upsert(
        username="caseworker", role=Role.CASEWORKER, password=DEMO_PASSWORD, counties=counties
    )
    if employer_uscc:
        account_upsert(
            username="employer",
            role=Role.EMPLOYER,
            password=DEMO_PASSWORD,
            employer_uscc=employer_uscc,
        )
    for role in (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN):
        account_upsert(username=role.value, role=role, password=DEMO_PASSWORD)
    return demo_accounts()


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts that exist, with what each may see."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    accounts = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        if user.role == Role.CASEWORKER:
            county_names = list(user.counties.order_by("code").values_list("name", flat=True))
            sees = (
                f"full records of the laborers of {', '.join(county_names)}; "
                "households; all vacancies"
            )
        elif user.role == Role.EMPLOYER:
            link = EmployerAccount.objects.filter(user=user).select_related("employer").first()
            employer = link.employer.name if link else "no employer"
            sees = (
                f"its employer {employer} and its vacancies; "
                "proposed candidates with masked ID and phone"
            )
        elif user.role == Role.COORDINATOR:
            sees = "matching rounds, departures, trips and riders' phones; laborers masked"
        elif user.role == Role.SUPERVISOR:
            sees = "everything, every read of personal data logged; targets, reports"
        else:
            sees = "everything, and the Django admin at /admin/"
        accounts.append(
            DemoAccount(username=username, role=user.role, password=DEMO_PASSWORD, sees=sees)
        )
    return accounts
