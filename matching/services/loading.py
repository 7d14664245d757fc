"""From the database to the matching core's arrays, in bulk.

One SQL query per table, one row per laborer / vacancy, columns straight into numpy: a
round at Baise scale (1.46 million laborers) must not go through model instances. Dates
become day numbers (days since 1970-01-01) in SQL, portable between PostgreSQL and the
embedded SQLite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from typing import Any, TypeVar

import numpy as np
import psycopg
from django.db import connection, connections
from django.db.models import Exists, OuterRef
from django.utils import timezone

from employers.models import Vacancy, VacancyStatus
from jobmatch import geo
from jobmatch.models import County, Destination, Occupation
from matching.core.scoring import Labels
from matching.core.types import (
    FLAG_EMPLOYMENT_DIFFICULTY,
    FLAG_MONITORED_HOUSEHOLD,
    FLAG_POVERTY_ALLEVIATED,
    KEEP_SAME_CITY,
    KEEP_SAME_EMPLOYER,
    HouseholdArrays,
    LaborerArrays,
    VacancyArrays,
    Vocabulary,
    pair_keys,
)
from matching.models import Match, MatchEvent, MatchStatus
from workers.models import Household, Laborer, LaborerSkill, LaborerStatus

EPOCH = date(1970, 1, 1)
# Fit of a skill in a related occupation (the policy's related_factor scales it further).
RELATED_FIT = 0.5


@dataclass(frozen=True)
class Axes:
    """Index <-> code of every axis the arrays use."""

    occupations: tuple[str, ...]
    destinations: tuple[str, ...]
    counties: tuple[str, ...]

    def occupation_index(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.occupations)}

    def destination_index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.destinations)}

    def county_index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.counties)}


def day_number(value: date) -> int:
    return (value - EPOCH).days


def _days_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _true_sql(column: str) -> str:
    return column if connection.vendor == "postgresql" else f"{column} = 1"


@cache
def _vocabulary_cached() -> tuple[Vocabulary, Axes]:
    occupations = tuple(Occupation.objects.order_by("key").values_list("key", flat=True))
    destinations = list(
        Destination.objects.order_by("code").values("code", "parent_id", "lat", "lng")
    )
    counties = list(County.objects.order_by("code").values("code", "lat", "lng"))
    axes = Axes(
        occupations=occupations,
        destinations=tuple(d["code"] for d in destinations),
        counties=tuple(c["code"] for c in counties),
    )
    oi = axes.occupation_index()
    related = np.eye(len(occupations), dtype=np.float32)
    through = Occupation.related.through
    for a, b in through.objects.values_list("from_occupation_id", "to_occupation_id"):
        related[oi[a], oi[b]] = RELATED_FIT
        related[oi[b], oi[a]] = RELATED_FIT
    di = axes.destination_index()
    parents = {d["code"]: d["parent_id"] for d in destinations}
    within = np.eye(len(destinations), dtype=bool)
    for code in axes.destinations:
        parent = parents[code]
        while parent is not None:
            within[di[code], di[parent]] = True
            parent = parents[parent]
    travel = np.zeros((len(counties), len(destinations)), dtype=np.int16)
    for ci, c in enumerate(counties):
        for d in destinations:
            hours = geo.coach_hours(c["lat"], c["lng"], d["lat"], d["lng"])
            travel[ci, di[d["code"]]] = geo.days_needed(hours)
    return Vocabulary(related=related, within=within, travel_days=travel), axes


def vocabulary_arrays() -> tuple[Vocabulary, Axes]:
    """The reference tables as arrays (cached per process: reference data is fixed)."""
    return _vocabulary_cached()


@cache
def _labels_cached() -> Labels:
    _, axes = _vocabulary_cached()
    occupations = dict(Occupation.objects.values_list("key", "name_zh"))
    places = {d["code"]: d for d in Destination.objects.values("code", "name", "parent__name")}

    def place(code: str) -> str:
        # A street or district alone is ambiguous ("新安街道"): name its parent too.
        parent = places[code]["parent__name"]
        return f"{parent}{places[code]['name']}" if parent else places[code]["name"]

    return Labels(
        occupations=tuple(occupations[key] for key in axes.occupations),
        destinations=tuple(place(code) for code in axes.destinations),
    )


def reason_labels() -> Labels:
    """Chinese names of the occupations and destinations, for the reasons of a score."""
    return _labels_cached()


def clear_cache() -> None:
    _vocabulary_cached.cache_clear()
    _labels_cached.cache_clear()


def fitting_occupations(occupations: Sequence[str]) -> list[str]:
    """Occupations whose skills qualify for any of `occupations` (themselves and related)."""
    if not occupations:
        return []
    related = Occupation.related.through.objects.filter(from_occupation_id__in=occupations)
    return sorted(set(occupations) | set(related.values_list("to_occupation_id", flat=True)))


def _pool_sql(
    *,
    counties: Sequence[str],
    skills: Sequence[str],
    laborer_ids: Sequence[int] | None,
    available_by: date | None = None,
) -> tuple[str, list[Any]]:
    """SELECT of the ids of laborers a round may place (registered, consenting, holding no
    offered or accepted match), optionally limited."""
    lab = Laborer._meta.db_table
    match = Match._meta.db_table
    skill = LaborerSkill._meta.db_table
    where = ["l.status = %s", _true_sql("l.consent_to_share")]
    params: list[Any] = [LaborerStatus.REGISTERED]
    where.append(
        f"NOT EXISTS (SELECT 1 FROM {match} m WHERE m.laborer_id = l.id AND m.status IN (%s, %s))"
    )
    params += [MatchStatus.OFFERED, MatchStatus.ACCEPTED]
    if counties:
        where.append(f"l.county_id IN ({', '.join(['%s'] * len(counties))})")
        params += list(counties)
    if skills:
        where.append(
            f"EXISTS (SELECT 1 FROM {skill} s WHERE s.laborer_id = l.id "
            f"AND s.occupation_id IN ({', '.join(['%s'] * len(skills))}))"
        )
        params += list(skills)
    if available_by is not None:
        where.append("l.available_from <= %s")
        params.append(available_by)
    if laborer_ids is not None:
        where.append(
            f"l.id IN ({', '.join(['%s'] * len(laborer_ids))})" if laborer_ids else "1 = 0"
        )
        params += list(laborer_ids)
    return f"SELECT l.id FROM {lab} l WHERE {' AND '.join(where)}", params


def with_exclusions(lab: LaborerArrays, vac: VacancyArrays) -> LaborerArrays:
    """`lab` with the pairs never to propose again: matches the employer rejected or the
    laborer declined. Offers declined only because the laborer accepted another one are
    not held against them (they may come back to the pool, e.g. a cancelled coach)."""
    if len(lab) == 0 or len(vac) == 0:
        return lab
    accepted_other = MatchEvent.objects.filter(
        match=OuterRef("pk"), to_status=MatchStatus.DECLINED, note__startswith="accepted match"
    )
    rows = np.array(
        list(
            Match.objects.filter(status__in=[MatchStatus.REJECTED, MatchStatus.DECLINED])
            .exclude(Exists(accepted_other))
            .values_list("laborer_id", "vacancy_id")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    lab_order = np.argsort(lab.id, kind="stable")
    vac_order = np.argsort(vac.id, kind="stable")
    li = lab_order[np.minimum(np.searchsorted(lab.id, rows[:, 0], sorter=lab_order), len(lab) - 1)]
    vj = vac_order[np.minimum(np.searchsorted(vac.id, rows[:, 1], sorter=vac_order), len(vac) - 1)]
    known = (lab.id[li] == rows[:, 0]) & (vac.id[vj] == rows[:, 1])
    if not known.any():
        return lab
    return dataclasses.replace(lab, excluded=pair_keys(li[known], vj[known]))


# Columns of the laborers' query: name and type (big-endian, as PostgreSQL sends them).
_LABORER_COLUMNS = (
    ("id", ">i8"),
    ("birth", ">i4"),
    ("county", ">i4"),
    ("min_wage", ">i4"),
    ("available", ">i4"),
    ("poverty", "?"),
    ("monitored", "?"),
    ("difficulty", "?"),
    ("consent", "?"),
    ("household", ">i8"),
)
_SEND = {">i8": "int8send", ">i4": "int4send", "?": "boolsend"}


def _packed_columns(
    source: str,
    order: str,
    params: Sequence[Any],
    columns: Sequence[tuple[str, str]],
    exprs: Sequence[str],
) -> dict[str, np.ndarray]:
    """Columns of `SELECT exprs FROM source` read as numpy arrays (PostgreSQL).

    PostgreSQL packs each row as fixed-width binary values and the whole result into one
    bytea (string_agg), which numpy reads as a structured array: no Python object per
    value or per row. At Baise scale this reads 1.36M laborers in a fraction of what
    fetchall() took (and of a binary COPY, whose rows arrive one Python call each).
    Every expression must be NOT NULL of the column's type (the callers cast and
    COALESCE); a NULL would drop its row, which the row count catches.
    """
    record = " || ".join(
        f"{_SEND[code]}({expr})" for (_, code), expr in zip(columns, exprs, strict=True)
    )
    by = f" ORDER BY {order}" if order else ""
    sql = f"SELECT string_agg({record}, ''::bytea{by}), COUNT(*) FROM {source}"
    connection.ensure_connection()
    # A server-side binding cursor: Django's client-side cursors cannot ask for binary
    # results, and as text the bytea would arrive hex-encoded, twice the size. It runs on
    # Django's connection (inside its transaction) but past its cursor wrapper: the query
    # is not in Django's query log, and an error is a psycopg one.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        packed, count = cursor.fetchone()
    layout = np.dtype(list(columns))
    rows = np.frombuffer(packed or b"", dtype=layout)
    if rows.shape[0] != count:
        raise RuntimeError("packed rows lost: a NULL in a column read as binary")
    return {name: rows[name].astype(np.dtype(code).newbyteorder("=")) for name, code in columns}


T = TypeVar("T")


def _run_apart(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Results of independent read-only queries: the first on this connection, the others
    one after the other on a second connection in a thread, when the caller is in no
    transaction (PostgreSQL works on the two in separate processes, on both cores); else
    all in turn on this connection.

    The laborers' three queries (1.36M laborers, 1.9M skills, 750,000 preferred
    destinations at Baise scale) took 4.3 s one after the other and take 2.2 s so. They
    were already separate statements, each with its own snapshot, so reading them apart
    changes nothing a reader could see. In a transaction (tests, an `atomic` caller, or
    autocommit turned off) another connection would not see its writes, and could wait
    for its locks. Three connections at once were slower than two on two cores.
    """
    if connection.in_atomic_block or not connection.get_autocommit() or len(jobs) < 2:
        return [job() for job in jobs]

    def on_second_connection() -> list[T]:
        try:
            return [job() for job in jobs[1:]]
        finally:
            connections.close_all()  # this thread's connection only

    with ThreadPoolExecutor(max_workers=1) as thread:
        rest = thread.submit(on_second_connection)
        first = jobs[0]()
        return [first, *rest.result()]


def _laborer_columns_packed(pool: str, params: list[Any], axes: Axes) -> dict[str, np.ndarray]:
    """The laborers of `pool`, their skills and preferred destinations (PostgreSQL)."""
    # -1 for a code missing from the reference tables (caught below).
    index = "(COALESCE(array_position(%s::text[], {}::text), 0) - 1)::int4"
    through = Laborer.preferred_destinations.through._meta.db_table
    queries: list[tuple[str, str, list[Any], Sequence[tuple[str, str]], list[str]]] = [
        (
            f"{Laborer._meta.db_table} l JOIN ({pool}) pool ON pool.id = l.id",
            "l.id",
            [list(axes.counties), *params],
            _LABORER_COLUMNS,
            [
                "l.id::int8",
                f"{_days_sql('l.birth_date')}::int4",
                index.format("l.county_id"),
                "COALESCE(l.min_monthly_wage, 0)::int4",
                f"{_days_sql('l.available_from')}::int4",
                "l.poverty_alleviated",
                "l.monitored_household",
                "l.employment_difficulty",
                "l.consent_to_share",
                "COALESCE(l.household_id, 0)::int8",
            ],
        ),
        (
            f"{LaborerSkill._meta.db_table} s JOIN ({pool}) pool ON pool.id = s.laborer_id",
            "",
            [list(axes.occupations), *params],
            (("skill_laborer", ">i8"), ("skill_occupation", ">i4"), ("skill_years", ">i4")),
            ["s.laborer_id::int8", index.format("s.occupation_id"), "s.years::int4"],
        ),
        (
            f"{through} p JOIN ({pool}) pool ON pool.id = p.laborer_id",
            "",
            [list(axes.destinations), *params],
            (("preferred_laborer", ">i8"), ("preferred_destination", ">i4")),
            ["p.laborer_id::int8", index.format("p.destination_id")],
        ),
    ]
    out: dict[str, np.ndarray] = {}
    for part in _run_apart([partial(_packed_columns, *query) for query in queries]):
        out |= part
    for name in ("county", "skill_occupation", "preferred_destination"):
        if (out[name] < 0).any():
            raise RuntimeError(f"{name}: a code missing from the reference tables")
    return out


def _laborer_columns_fetch(pool: str, params: list[Any], axes: Axes) -> dict[str, np.ndarray]:
    """The same columns as `_laborer_columns_packed`, through fetchall (SQLite)."""
    lab = Laborer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH pool AS ({pool}) "
            f"SELECT l.id, {_days_sql('l.birth_date')}, l.county_id, "
            f"COALESCE(l.min_monthly_wage, 0), "
            f"{_days_sql('l.available_from')}, l.poverty_alleviated, l.monitored_household, "
            f"l.employment_difficulty, l.consent_to_share, COALESCE(l.household_id, 0) "
            f"FROM {lab} l JOIN pool ON pool.id = l.id ORDER BY l.id",
            params,
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"WITH pool AS ({pool}) SELECT s.laborer_id, s.occupation_id, s.years "
            f"FROM {LaborerSkill._meta.db_table} s JOIN pool ON pool.id = s.laborer_id",
            params,
        )
        skill_rows = cursor.fetchall()
        through = Laborer.preferred_destinations.through._meta.db_table
        cursor.execute(
            f"WITH pool AS ({pool}) SELECT p.laborer_id, p.destination_id "
            f"FROM {through} p JOIN pool ON pool.id = p.laborer_id",
            params,
        )
        preferred_rows = cursor.fetchall()
    county_index = axes.county_index()
    occupation_index = axes.occupation_index()
    destination_index = axes.destination_index()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(_LABORER_COLUMNS)
    out = {
        name: np.fromiter(values, dtype=np.int64, count=n)
        for (name, _), values in zip(_LABORER_COLUMNS, cols, strict=True)
        if name != "county"
    }
    out["county"] = np.fromiter((county_index[c] for c in cols[2]), dtype=np.int64, count=n)
    s_cols = list(zip(*skill_rows, strict=True)) if skill_rows else [()] * 3
    out["skill_laborer"] = np.array(s_cols[0], dtype=np.int64)
    out["skill_occupation"] = np.array([occupation_index[o] for o in s_cols[1]], dtype=np.int64)
    out["skill_years"] = np.array(s_cols[2], dtype=np.int64)
    p_cols = list(zip(*preferred_rows, strict=True)) if preferred_rows else [()] * 2
    out["preferred_laborer"] = np.array(p_cols[0], dtype=np.int64)
    out["preferred_destination"] = np.array(
        [destination_index[d] for d in p_cols[1]], dtype=np.int64
    )
    return out


def _rows_of(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `wanted` in sorted `ids`, and which of them are there at all."""
    rows_idx = np.minimum(np.searchsorted(ids, wanted), max(ids.shape[0] - 1, 0))
    known = ids[rows_idx] == wanted if ids.shape[0] else np.zeros(wanted.shape[0], dtype=bool)
    return rows_idx, known


def load_laborers(
    axes: Axes,
    *,
    counties: Sequence[str] = (),
    skills: Sequence[str] = (),
    laborer_ids: Sequence[int] | None = None,
    available_by: date | None = None,
    eligible_only: bool = True,
) -> tuple[LaborerArrays, HouseholdArrays]:
    """The round's laborers (sorted by id) and their households.

    `eligible_only=False` loads `laborer_ids` whatever their status (suggestions for one
    laborer still explain the scores of someone already matched).
    """
    lab = Laborer._meta.db_table
    if eligible_only:
        pool, params = _pool_sql(
            counties=counties, skills=skills, laborer_ids=laborer_ids, available_by=available_by
        )
    else:
        ids = list(laborer_ids or [])
        pool = (
            f"SELECT l.id FROM {lab} l WHERE l.id IN ({', '.join(['%s'] * len(ids))})"
            if ids
            else f"SELECT l.id FROM {lab} l WHERE 1 = 0"
        )
        params = ids
    if connection.vendor == "postgresql":
        raw = _laborer_columns_packed(pool, params, axes)
    else:
        raw = _laborer_columns_fetch(pool, params, axes)
    ids = raw["id"]
    n = ids.shape[0]
    county = raw["county"].astype(np.int16)
    flags = (
        raw["poverty"].astype(np.uint8) * FLAG_POVERTY_ALLEVIATED
        | raw["monitored"].astype(np.uint8) * FLAG_MONITORED_HOUSEHOLD
        | raw["difficulty"].astype(np.uint8) * FLAG_EMPLOYMENT_DIFFICULTY
    ).astype(np.uint8)

    # The three queries are separate statements: a laborer who joined the pool between
    # them has skills or destinations but no row, and is not in this round.
    skill_years = np.full((n, len(axes.occupations)), -1, dtype=np.int8)
    rows_idx, known = _rows_of(ids, raw["skill_laborer"])
    skill_years[rows_idx[known], raw["skill_occupation"][known]] = np.minimum(
        raw["skill_years"][known], 60
    )

    preferred = np.zeros(n, dtype=np.uint64)
    rows_idx, known = _rows_of(ids, raw["preferred_laborer"])
    bits = np.left_shift(np.uint64(1), raw["preferred_destination"][known].astype(np.uint64))
    np.bitwise_or.at(preferred, rows_idx[known], bits)

    # Households: only members inside this pool are kept together (a member already placed
    # elsewhere is outside the round).
    household_ids = raw["household"]
    present, household = np.unique(household_ids, return_inverse=True)
    household = household.astype(np.int32)
    in_household = household_ids > 0
    if present.size and present[0] == 0:
        household -= 1
        present = present[1:]
    household[~in_household] = -1
    # Same city is the exception: its households' ids, in one query without the pool's
    # 62,000 ids as parameters (that IN list took 1 s at Baise scale).
    same_city = np.fromiter(
        Household.objects.filter(keep_together=Household.KeepTogether.SAME_CITY).values_list(
            "pk", flat=True
        ),
        dtype=np.int64,
    )
    modes = np.where(np.isin(present, same_city), KEEP_SAME_CITY, KEEP_SAME_EMPLOYER).astype(
        np.int8
    )
    laborers = LaborerArrays(
        id=ids,
        birth_day=raw["birth"].astype(np.int32),
        county=county,
        skill_years=skill_years,
        preferred=preferred,
        min_wage=raw["min_wage"].astype(np.int32),
        available_day=raw["available"].astype(np.int32),
        flags=flags,
        consent=raw["consent"].astype(bool),
        household=household,
    )
    return laborers, HouseholdArrays(keep_together=modes)


def load_vacancies(
    axes: Axes,
    *,
    occupations: Sequence[str] = (),
    vacancy_ids: Sequence[int] | None = None,
    today: date | None = None,
) -> VacancyArrays:
    """Open vacancies with openings not yet accepted or offered (sorted by id).

    Offered matches hold their opening until answered, so a round does not propose more
    laborers than the employer can still take.
    """
    today = today or timezone.localdate()
    vac = Vacancy._meta.db_table
    dest = Destination._meta.db_table
    match = Match._meta.db_table
    where = ["v.status = %s", "v.openings_left > 0", "v.start_date >= %s"]
    params: list[Any] = [VacancyStatus.OPEN, today]
    if occupations:
        where.append(f"v.occupation_id IN ({', '.join(['%s'] * len(occupations))})")
        params += list(occupations)
    if vacancy_ids is not None:
        where.append(
            f"v.id IN ({', '.join(['%s'] * len(vacancy_ids))})" if vacancy_ids else "1 = 0"
        )
        params += list(vacancy_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v.id, v.employer_id, v.occupation_id, "
            f"v.openings_left - (SELECT COUNT(*) FROM {match} m "
            f"WHERE m.vacancy_id = v.id AND m.status = %s), "
            f"v.wage_min, v.wage_max, v.destination_id, d.city_id, v.age_min, v.age_max, "
            f"{_days_sql('v.start_date')}, v.accommodation, v.meals "
            f"FROM {vac} v JOIN {dest} d ON d.code = v.destination_id "
            f"WHERE {' AND '.join(where)} ORDER BY v.id",
            [MatchStatus.OFFERED, *params],
        )
        rows = cursor.fetchall()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 13
    oi, di = axes.occupation_index(), axes.destination_index()
    return VacancyArrays(
        id=np.fromiter(cols[0], dtype=np.int64, count=n),
        # Dense employer index: the core only compares employers for equality.
        employer=np.unique(np.fromiter(cols[1], dtype=np.int64, count=n), return_inverse=True)[
            1
        ].astype(np.int32),
        occupation=np.fromiter((oi[o] for o in cols[2]), dtype=np.int16, count=n),
        openings=np.maximum(np.fromiter(cols[3], dtype=np.int64, count=n), 0).astype(np.int32),
        wage_min=np.fromiter(cols[4], dtype=np.int32, count=n),
        wage_max=np.fromiter(cols[5], dtype=np.int32, count=n),
        destination=np.fromiter((di[d] for d in cols[6]), dtype=np.int16, count=n),
        city=np.fromiter((di[c] for c in cols[7]), dtype=np.int16, count=n),
        age_min=np.fromiter(cols[8], dtype=np.int16, count=n),
        age_max=np.fromiter(cols[9], dtype=np.int16, count=n),
        start_day=np.fromiter(cols[10], dtype=np.int32, count=n),
        accommodation=np.fromiter(cols[11], dtype=bool, count=n),
        meals=np.fromiter(cols[12], dtype=bool, count=n),
    )
