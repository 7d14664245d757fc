"""Hard rules and the 0..100 score of (laborer, vacancy) pairs, vectorized with numpy.

Two kinds of entry points share one set of canonical part functions:

* pair functions (`hard_failures`, `hard_mask`, `score_parts`, `explain`) take index
  arrays of pairs and compute everything directly, for explanations, tests and
  assignments of any size;
* bulk functions (`generate_candidates`, `top_vacancies_for_laborer`,
  `top_laborers_for_vacancy`) evaluate whole blocks of laborers x vacancies of one
  occupation with precomputed lookup tables.

Both call the same `_wage_points`, `_start_table`, `_occupation_fraction` ... helpers with
the same float64 operations, so a pair gets bit-identical points on every path (the tests
check this). Each part is rounded half up to an integer and the score is the sum of the
rounded parts, so an explanation's parts always add up to its score exactly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from matching.core.types import (
    PART_NAMES,
    PRIORITY_FLAGS,
    CandidatePairs,
    LaborerArrays,
    Policy,
    VacancyArrays,
    Vocabulary,
)

HARD_RULES: tuple[str, ...] = (
    "consent",
    "occupation",
    "age",
    "on_time",
    "wage",
    "openings",
    "excluded",
)

# Bulk evaluation packs a pair into one int32 key: score << 16 | (65535 - column), so
# a single np.partition selects the best scores with ties broken by the lower vacancy
# index. Failing a hard rule adds _PEN (several failures still stay far from overflow).
_SHIFT = 16
_COLMASK = (1 << _SHIFT) - 1
_PEN = -(1 << 28)
# Columns (vacancies) per block: bounds the per-class tables (classes x columns) and
# keeps the column index within the 16 bits of a packed key.
_MAX_BLOCK_COLS = 2048
# Merged candidate keys: total score << 32 | (2**31 - 1 - vacancy index).
_KEY64_SHIFT = 32
_VAC64_MASK = (1 << 31) - 1


# --------------------------------------------------------------------------------------
# Canonical part functions (shared by every path)
# --------------------------------------------------------------------------------------


def _half_up(x: np.ndarray) -> np.ndarray:
    """Round half up (0.5 -> 1) like people do; np.round would round half to even."""
    return np.floor(x + 0.5)


def _half_up_int(x: float) -> int:
    return int(np.floor(x + 0.5))


def fit_matrix(vocab: Vocabulary, policy: Policy) -> np.ndarray:
    """float64[O, O]: fit[s, o] of a skill in s for a vacancy in o (1 on the diagonal).

    Off-diagonal relatedness is scaled by `policy.related_factor`; a zero fit means the
    skill does not qualify for the occupation at all (hard rule).
    """
    fit = vocab.related.astype(np.float64) * float(policy.related_factor)
    np.fill_diagonal(fit, 1.0)
    return fit


def _credit_table(policy: Policy) -> np.ndarray:
    """float64[128]: share of the occupation points earned by y years of experience."""
    years = np.arange(128, dtype=np.float64)
    base = float(policy.occupation_base)
    full = float(policy.years_full)
    return base + (1.0 - base) * np.minimum(years, full) / full


def _occupation_fraction(
    skill_rows: np.ndarray, occ: np.ndarray, fit: np.ndarray, credit: np.ndarray
) -> np.ndarray:
    """float64[P]: best fit x experience credit over the laborer's skills; -1 = no fit.

    `skill_rows` is int8[P, O] (each pair's laborer's skill years), `occ` int[P].
    """
    fit_t = fit.T[occ]  # [P, O]: fit[s, occ_p]
    has = (skill_rows >= 0) & (fit_t > 0)
    terms = np.where(has, fit_t * credit[np.maximum(skill_rows, 0)], -1.0)
    if terms.shape[1] == 0:
        return np.full(terms.shape[0], -1.0)
    return terms.max(axis=1)


def _occupation_fraction_block(
    skill_years: np.ndarray, rows: np.ndarray | None, o: int, fit: np.ndarray, credit: np.ndarray
) -> np.ndarray:
    """float64[n]: as `_occupation_fraction` for every laborer (or `rows`) and one occupation.

    Loops over the few skills that fit occupation `o` instead of all O columns.
    """
    n = skill_years.shape[0] if rows is None else rows.shape[0]
    frac = np.full(n, -1.0)
    for s in np.flatnonzero(fit[:, o] > 0).tolist():
        col = skill_years[:, s] if rows is None else skill_years[rows, s]
        np.maximum(frac, _skill_term(col, fit[s, o], credit), out=frac)
    return frac


def _skill_term(years: np.ndarray, fit_so: float, credit: np.ndarray) -> np.ndarray:
    """float64: one fitting skill's share of the occupation points (-1: no such skill)."""
    return np.where(years >= 0, fit_so * credit[np.maximum(years, 0)], -1.0)


def _occupation_points(frac: np.ndarray, weight: int) -> np.ndarray:
    return np.where(frac >= 0, _half_up(weight * np.maximum(frac, 0.0)), 0.0).astype(np.int16)


def _wage_points(
    wage_min: np.ndarray, wage_max: np.ndarray, min_wage: np.ndarray, policy: Policy
) -> np.ndarray:
    """Points for the vacancy's mid wage above the laborer's minimum (broadcasts).

    Linear from 0 (mid wage at the minimum) to the full weight (mid wage
    `wage_margin` above it). An unknown minimum (0) earns nothing: there is nothing to
    compare with, and missing data must never look like a good match.
    """
    mid = (np.asarray(wage_min, dtype=np.float64) + np.asarray(wage_max, dtype=np.float64)) * 0.5
    m = np.asarray(min_wage, dtype=np.float64)
    known = m > 0
    x = (mid - m) / (float(policy.wage_margin) * np.where(known, m, 1.0))
    pts = _half_up(float(policy.wage) * np.clip(x, 0.0, 1.0))
    return np.where(known, pts, 0.0).astype(np.int16)


def _start_table(policy: Policy) -> np.ndarray:
    """int16[start_zero_days + 1]: start points for a wait of g days (index min(g, zero)).

    Full points within `start_full_days` of the earliest possible start, falling linearly
    to 0 at `start_zero_days`: a long idle wait often makes people take something else.
    """
    zero = int(policy.start_zero_days)
    full = int(policy.start_full_days)
    g = np.arange(zero + 1, dtype=np.float64)
    share = np.clip((zero - g) / float(zero - full), 0.0, 1.0)
    return _half_up(float(policy.start) * share).astype(np.int16)


def _destination_points(
    preferred: np.ndarray, cover_of_dest: np.ndarray, policy: Policy
) -> np.ndarray:
    """Full points when a preference covers the destination, half without preference."""
    w = int(policy.destination)
    half = _half_up_int(w / 2)
    pref = np.asarray(preferred, dtype=np.uint64)
    hit = (pref & np.asarray(cover_of_dest, dtype=np.uint64)) != 0
    return np.where(pref == 0, half, np.where(hit, w, 0)).astype(np.int16)


def _amenity_table(policy: Policy) -> np.ndarray:
    """int16[3]: points by number of amenities (accommodation, meals), half each."""
    w = int(policy.amenities)
    return np.array([0, _half_up_int(w * 0.5), w], dtype=np.int16)


def _priority_points(flags: np.ndarray, policy: Policy) -> np.ndarray:
    return np.where((flags & PRIORITY_FLAGS) != 0, int(policy.priority), 0).astype(np.int16)


# --------------------------------------------------------------------------------------
# Ages
# --------------------------------------------------------------------------------------


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1..12) and day (1..31) of day numbers, via datetime64 units."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def age_on(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """int64: age in whole years on `day` (birthday counted on the day itself).

    Someone born on 29 February turns a year older on 1 March in common years (they have
    not had their birthday on 28 February). Broadcasts.
    """
    by, bm, bd = _ymd(birth_day)
    sy, sm, sd = _ymd(day)
    before_birthday = (sm * 32 + sd) < (bm * 32 + bd)
    return sy - by - before_birthday.astype(np.int64)


def _latest_birth_day(day: np.ndarray, age: np.ndarray) -> np.ndarray:
    """int64: the latest birth day of someone at least `age` years old on `day`.

    The same month and day `age` years earlier, or the month's last day when that date
    does not exist (29 February -> 28 February). age_on(b, day) >= age <=> b <= result.
    """
    y, m, d = _ymd(day)
    month_index = (y - np.asarray(age, dtype=np.int64) - 1970) * 12 + (m - 1)
    first = month_index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    next_first = (month_index + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + np.minimum(d, next_first - first) - 1


def birth_bounds(vac: VacancyArrays, rows: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(lo, hi) int64 per vacancy: age rule passes exactly when lo < birth_day <= hi.

    Turns the per-pair age computation into two comparisons per pair for bulk scoring.
    """
    start = vac.start_day if rows is None else vac.start_day[rows]
    amin = vac.age_min if rows is None else vac.age_min[rows]
    amax = vac.age_max if rows is None else vac.age_max[rows]
    hi = _latest_birth_day(start, amin.astype(np.int64))
    lo = _latest_birth_day(start, amax.astype(np.int64) + 1)
    return lo, hi


# --------------------------------------------------------------------------------------
# Pair functions
# --------------------------------------------------------------------------------------


def _pairs(li: np.ndarray | int, vj: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    li_a = np.atleast_1d(np.asarray(li, dtype=np.int64))
    vj_a = np.atleast_1d(np.asarray(vj, dtype=np.int64))
    li_a, vj_a = np.broadcast_arrays(li_a, vj_a)
    return li_a, vj_a


def is_excluded(lab: LaborerArrays, li: np.ndarray, vj: np.ndarray) -> np.ndarray:
    """bool[P]: True where the pair is one of `lab.excluded`."""
    li, vj = _pairs(li, vj)
    if lab.excluded.shape[0] == 0:
        return np.zeros(li.shape, dtype=bool)
    keys = (li << 32) | vj
    pos = np.minimum(np.searchsorted(lab.excluded, keys), lab.excluded.shape[0] - 1)
    return lab.excluded[pos] == keys


def _excluded_per(positions: np.ndarray, size: int) -> np.ndarray:
    """int64[size]: how many excluded pairs each laborer (or vacancy) position has."""
    return np.bincount(positions, minlength=size).astype(np.int64)


def _drop_excluded(lab: LaborerArrays, pairs: CandidatePairs) -> CandidatePairs:
    keep = ~is_excluded(lab, pairs.laborer, pairs.vacancy)
    return CandidatePairs(pairs.laborer[keep], pairs.vacancy[keep], pairs.score[keep])


def hard_failures(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    li: np.ndarray | int,
    vj: np.ndarray | int,
) -> dict[str, np.ndarray]:
    """bool[P] per hard rule (HARD_RULES order): True where the pair FAILS that rule.

    Rules: consent given; a skill in the vacancy's occupation or a related one; age on the
    start day within [age_min, age_max]; there on time (available_day + travel days <=
    start_day); wage_max >= min_wage when the minimum is known; openings left.
    """
    li, vj = _pairs(li, vj)
    fit = fit_matrix(vocab, policy)
    occ = vac.occupation[vj].astype(np.int64)
    frac = _occupation_fraction(lab.skill_years[li], occ, fit, _credit_table(policy))
    age = age_on(lab.birth_day[li], vac.start_day[vj])
    travel = vocab.travel_days[lab.county[li], vac.destination[vj]].astype(np.int64)
    earliest = lab.available_day[li].astype(np.int64) + travel
    m = lab.min_wage[li]
    return {
        "consent": ~lab.consent[li],
        "occupation": frac < 0,
        "age": (age < vac.age_min[vj]) | (age > vac.age_max[vj]),
        "on_time": earliest > vac.start_day[vj],
        "wage": (m > 0) & (vac.wage_max[vj] < m),
        "openings": vac.openings[vj] <= 0,
        "excluded": is_excluded(lab, li, vj),
    }


def hard_mask(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    li: np.ndarray | int,
    vj: np.ndarray | int,
) -> np.ndarray:
    """bool[P]: True where the pair passes every hard rule (a candidate pair)."""
    fails = hard_failures(lab, vac, vocab, policy, li, vj)
    bad = np.zeros_like(fails["consent"])
    for arr in fails.values():
        bad |= arr
    return ~bad


def score_parts(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    li: np.ndarray | int,
    vj: np.ndarray | int,
) -> dict[str, np.ndarray]:
    """int16[P] per part (PART_NAMES order) plus "score", their exact sum.

    Parts are computed whether or not the pair passes the hard rules (use `hard_mask`);
    for a failing occupation rule the occupation part is 0.
    """
    li, vj = _pairs(li, vj)
    fit = fit_matrix(vocab, policy)
    occ = vac.occupation[vj].astype(np.int64)
    frac = _occupation_fraction(lab.skill_years[li], occ, fit, _credit_table(policy))
    travel = vocab.travel_days[lab.county[li], vac.destination[vj]].astype(np.int64)
    gap = vac.start_day[vj].astype(np.int64) - lab.available_day[li] - travel
    table = _start_table(policy)
    start = np.where(gap >= 0, table[np.clip(gap, 0, table.shape[0] - 1)], 0).astype(np.int16)
    cover = vocab.cover_masks()
    n_amen = vac.accommodation[vj].astype(np.int64) + vac.meals[vj]
    parts = {
        "occupation": _occupation_points(frac, policy.occupation),
        "wage": _wage_points(vac.wage_min[vj], vac.wage_max[vj], lab.min_wage[li], policy),
        "destination": _destination_points(lab.preferred[li], cover[vac.destination[vj]], policy),
        "start": start,
        "amenities": _amenity_table(policy)[n_amen],
        "priority": _priority_points(lab.flags[li], policy),
    }
    total = np.zeros(li.shape[0], dtype=np.int16)
    for name in PART_NAMES:
        total += parts[name]
    parts["score"] = total
    return parts


def pair_scores(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    li: np.ndarray,
    vj: np.ndarray,
    chunk: int = 1 << 18,
) -> np.ndarray:
    """int16[P]: scores of many pairs, in chunks so memory stays bounded."""
    li = np.asarray(li)
    out = np.zeros(li.shape[0], dtype=np.int16)
    for s in range(0, li.shape[0], chunk):
        out[s : s + chunk] = score_parts(
            lab, vac, vocab, policy, li[s : s + chunk], np.asarray(vj)[s : s + chunk]
        )["score"]
    return out


@dataclass(frozen=True)
class Labels:
    """How reasons name an occupation or a destination given by its position."""

    occupations: Sequence[str]
    destinations: Sequence[str]

    def occupation(self, index: int) -> str:
        return self.occupations[index]

    def destination(self, index: int) -> str:
        return self.destinations[index]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _day_text(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def explain(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    i: int,
    j: int,
    labels: Labels | None = None,
) -> dict[str, object]:
    """Score, parts and short reasons of one pair, as stored next to a proposed match.

    Returns {"score", "parts", "reasons", "feasible", "failed_rules"}; "failed_rules" maps
    each failing hard rule to a reason (empty for a candidate pair). The parts always
    add up to the score. `labels` names occupations and destinations in the reasons
    (without them, their positions are shown).
    """
    occupation_name = labels.occupation if labels is not None else lambda o: f"occupation {o}"
    destination_name = labels.destination if labels is not None else lambda d: f"destination {d}"
    fails = {k: bool(v[0]) for k, v in hard_failures(lab, vac, vocab, policy, i, j).items()}
    parts_arr = score_parts(lab, vac, vocab, policy, i, j)
    parts = {name: int(parts_arr[name][0]) for name in PART_NAMES}
    w = policy.weights()

    o_vac = int(vac.occupation[j])
    skills = lab.skill_years[i]
    fit = fit_matrix(vocab, policy)
    if skills[o_vac] >= 0:
        years = _count(int(skills[o_vac]), "year")
        occ_reason = f"has {occupation_name(o_vac)} with {years} of experience"
    else:
        related = [int(s) for s in np.flatnonzero((skills >= 0) & (fit[:, o_vac] > 0))]
        if related:
            best = max(related, key=lambda s: (fit[s, o_vac], int(skills[s])))
            occ_reason = (
                f"related {occupation_name(best)} (fit {fit[best, o_vac]:.2f}) with "
                f"{_count(int(skills[best]), 'year')} of experience"
            )
        else:
            occ_reason = "no skill in this or a related occupation"
    m = int(lab.min_wage[i])
    wmin, wmax = int(vac.wage_min[j]), int(vac.wage_max[j])
    if m <= 0:
        wage_reason = f"pays {wmin}-{wmax} yuan; minimum wage unknown"
    else:
        mid = (wmin + wmax) / 2
        wage_reason = (
            f"pays {wmin}-{wmax} yuan (mid {mid:.0f}), {100 * (mid - m) / m:+.0f}% vs minimum {m}"
        )
    pref = int(lab.preferred[i])
    dest = int(vac.destination[j])
    if pref == 0:
        dest_reason = f"{destination_name(dest)}; no preference given"
    elif parts["destination"] == w["destination"]:
        dest_reason = f"{destination_name(dest)} is preferred"
    else:
        dest_reason = f"{destination_name(dest)} is not among the preferred destinations"
    travel = int(vocab.travel_days[lab.county[i], dest])
    earliest = int(lab.available_day[i]) + travel
    wait = int(vac.start_day[j]) - earliest
    if wait >= 0:
        start_reason = (
            f"can start {_day_text(earliest)} ({_count(travel, 'travel day')}); vacancy starts "
            f"{_day_text(int(vac.start_day[j]))}, {_count(wait, 'day')} later"
        )
    else:
        start_reason = (
            f"earliest start {_day_text(earliest)} is {_count(-wait, 'day')} after the vacancy's "
            f"start {_day_text(int(vac.start_day[j]))}"
        )
    amen = [
        name
        for name, flag in (("accommodation", vac.accommodation[j]), ("meals", vac.meals[j]))
        if flag
    ]
    amen_reason = ("offers " + " and ".join(amen)) if amen else "no accommodation or meals"
    flags = int(lab.flags[i])
    groups = [
        name
        for bit, name in (
            (1, "poverty alleviated"),
            (2, "monitored household"),
            (4, "employment difficulty"),
        )
        if flags & bit
    ]
    prio_reason = ("priority group: " + ", ".join(groups)) if groups else "no priority group"

    age = int(age_on(lab.birth_day[i], vac.start_day[j]))
    failed: dict[str, str] = {}
    if fails["consent"]:
        failed["consent"] = "laborer has not consented to matching"
    if fails["occupation"]:
        failed["occupation"] = occ_reason
    if fails["age"]:
        failed["age"] = (
            f"age {age} on the start day outside {int(vac.age_min[j])}-{int(vac.age_max[j])}"
        )
    if fails["on_time"]:
        failed["on_time"] = start_reason
    if fails["wage"]:
        failed["wage"] = f"maximum wage {wmax} below the laborer's minimum {m}"
    if fails["openings"]:
        failed["openings"] = "vacancy has no openings left"
    if fails["excluded"]:
        failed["excluded"] = "declined by the laborer or rejected by the employer before"
    return {
        "score": int(parts_arr["score"][0]),
        "parts": parts,
        "reasons": {
            "occupation": occ_reason,
            "wage": wage_reason,
            "destination": dest_reason,
            "start": start_reason,
            "amenities": amen_reason,
            "priority": prio_reason,
        },
        "feasible": not failed,
        "failed_rules": failed,
    }


# --------------------------------------------------------------------------------------
# Interactive rankings
# --------------------------------------------------------------------------------------


@dataclass
class Ranking:
    """Best counterparts of one laborer or vacancy: indices and scores, best first."""

    index: np.ndarray  # int32[n]
    score: np.ndarray  # int16[n]

    def __len__(self) -> int:
        return int(self.index.shape[0])


def _top_n(scores: np.ndarray, index: np.ndarray, n: int) -> Ranking:
    """Best n by score desc, then index asc (`index` is ascending)."""
    if scores.shape[0] > n:
        # A threshold on the score keeps everything tied with the n-th best so the
        # tie-break by index below stays exact.
        kth = np.partition(scores, scores.shape[0] - n)[scores.shape[0] - n]
        keep = scores >= kth
        scores, index = scores[keep], index[keep]
    order = np.lexsort((index, -scores.astype(np.int32)))[:n]
    return Ranking(index=index[order].astype(np.int32), score=scores[order].astype(np.int16))


def top_vacancies_for_laborer(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    n: int = 10,
    i: int = 0,
) -> Ranking:
    """Best n candidate vacancies of laborer `i` of `lab` (a one-row LaborerArrays for a
    laborer not saved yet), for interactive suggestions.

    Evaluates the pair functions against every vacancy at once (20,000 vacancies take a
    few milliseconds).
    """
    if len(vac) == 0:
        return Ranking(np.zeros(0, np.int32), np.zeros(0, np.int16))
    vj = np.arange(len(vac), dtype=np.int64)
    li = np.full(len(vac), i, dtype=np.int64)
    ok = hard_mask(lab, vac, vocab, policy, li, vj)
    vj = vj[ok]
    scores = score_parts(lab, vac, vocab, policy, li[: vj.shape[0]], vj)["score"]
    return _top_n(scores, vj, n)


def top_laborers_for_vacancy(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    j: int,
    n: int = 50,
) -> Ranking:
    """Best n candidate laborers for vacancy `j` among all laborers (1.5M in ~0.1 s).

    Works column-wise: the occupation fraction is computed from the few skill columns
    that fit the vacancy's occupation, the age rule via birth-day bounds, so no
    [laborers, occupations] temporary is built.
    """
    if vac.openings[j] <= 0 or len(lab) == 0:
        return Ranking(np.zeros(0, np.int32), np.zeros(0, np.int16))
    o = int(vac.occupation[j])
    fit = fit_matrix(vocab, policy)
    frac = _occupation_fraction_block(lab.skill_years, None, o, fit, _credit_table(policy))
    lo, hi = birth_bounds(vac, np.array([j]))
    d = int(vac.destination[j])
    travel = vocab.travel_days[:, d].astype(np.int64)[lab.county]
    gap = int(vac.start_day[j]) - lab.available_day.astype(np.int64) - travel
    m = lab.min_wage
    ok = (
        lab.consent
        & (frac >= 0)
        & (lab.birth_day > lo[0])
        & (lab.birth_day <= hi[0])
        & (gap >= 0)
        & ((m <= 0) | (m <= vac.wage_max[j]))
    )
    if lab.excluded.shape[0]:
        excl_lab, excl_vac = lab.excluded_pairs()
        ok[excl_lab[excl_vac == j]] = False
    rows = np.flatnonzero(ok)
    table = _start_table(policy)
    cover = vocab.cover_masks()
    n_amen = int(vac.accommodation[j]) + int(vac.meals[j])
    score = (
        _occupation_points(frac[rows], policy.occupation)
        + _wage_points(vac.wage_min[j], vac.wage_max[j], m[rows], policy)
        + _destination_points(lab.preferred[rows], cover[d], policy)
        + table[np.minimum(gap[rows], table.shape[0] - 1)]
        + _amenity_table(policy)[n_amen]
        + _priority_points(lab.flags[rows], policy)
    ).astype(np.int16)
    return _top_n(score, rows, n)


# --------------------------------------------------------------------------------------
# Bulk candidate generation
# --------------------------------------------------------------------------------------


@dataclass
class _Block:
    """Open vacancies of one occupation (at most _MAX_BLOCK_COLS), in evaluation order.

    Columns are ordered by start day, latest first, so the vacancies a chunk of laborers
    can still reach in time form a prefix. `rank` is the position of each column in
    ascending vacancy-index order and is what the packed keys carry, so ties still break
    by vacancy index.
    """

    occupation: int
    cols: np.ndarray  # int64[B] global vacancy indices, evaluation order
    by_rank: np.ndarray  # int64[B] global vacancy indices, ascending (rank -> index)
    colkey: np.ndarray  # int32[B] _COLMASK - rank
    dest: np.ndarray  # int64[B]
    start: np.ndarray  # int64[B], descending
    lo: np.ndarray  # int64[B] birth bounds: lo < birth_day <= hi
    hi: np.ndarray
    wage_min: np.ndarray  # int32[B]
    wage_max: np.ndarray  # int32[B]
    amen: np.ndarray  # int32[B] amenity points


def _make_blocks(
    vac: VacancyArrays,
    policy: Policy,
    occupations: Iterable[int] | None,
    vac_rows: np.ndarray | None,
    shift: np.ndarray | None = None,
) -> list[_Block]:
    """Split open vacancies (optionally only `vac_rows`) into per-occupation blocks.

    `shift[j]` (int32 >= 0, optional) is added to vacancy j's amenity points: the
    searches then rank by score + shift (see `generate_candidates`' `price`)."""
    rows = np.arange(len(vac), dtype=np.int64) if vac_rows is None else np.unique(vac_rows)
    rows = rows[vac.openings[rows] > 0]
    occ = vac.occupation[rows]
    wanted = np.unique(occ) if occupations is None else np.unique(np.asarray(list(occupations)))
    amen_table = _amenity_table(policy).astype(np.int32)
    blocks = []
    for o in wanted:
        sel = rows[occ == o]
        for s in range(0, sel.shape[0], _MAX_BLOCK_COLS):
            by_rank = sel[s : s + _MAX_BLOCK_COLS]
            order = np.lexsort((by_rank, -vac.start_day[by_rank].astype(np.int64)))
            cols = by_rank[order]
            lo, hi = birth_bounds(vac, cols)
            blocks.append(
                _Block(
                    occupation=int(o),
                    cols=cols,
                    by_rank=by_rank,
                    colkey=(_COLMASK - order).astype(np.int32),
                    dest=vac.destination[cols].astype(np.int64),
                    start=vac.start_day[cols].astype(np.int64),
                    lo=lo,
                    hi=hi,
                    wage_min=vac.wage_min[cols],
                    wage_max=vac.wage_max[cols],
                    amen=amen_table[vac.accommodation[cols].astype(np.int64) + vac.meals[cols]]
                    + (0 if shift is None else shift[cols]),
                )
            )
    return blocks


_INT32_MIN = int(np.iinfo(np.int32).min)
# (laborer, vacancy) pairs scored at once by `top_per_column` (tens of MB of temporaries).
_EVAL_PAIRS = 1 << 20
# Birth days are compared as int32; clipping keeps UNKNOWN_BIRTH_DAY below every bound.
_BIRTH_CLIP = 1 << 29
# Tables indexed by distinct minimum wage are built once per block up to this many rows.
_MAX_WAGE_ROWS = 1024


def _classes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(x, return_inverse=True)` for integers, through a table over x's range
    when that range is small (no sort): the minimum wages and wage-destination classes
    of a block's rows, set up again in every stranding pass."""
    if x.shape[0] == 0:
        return np.unique(x, return_inverse=True)
    lo, hi = int(x.min()), int(x.max())
    if hi - lo > max(1 << 16, 4 * x.shape[0]):
        return np.unique(x, return_inverse=True)
    # Offsets in a wide type: x - lo can overflow x's own (e.g. int16 from -30000 to 30000).
    off = (x - x.dtype.type(lo)) if x.dtype.kind == "u" else x.astype(np.int64) - lo
    off = off.astype(np.intp)
    present = np.zeros(hi - lo + 1, dtype=bool)
    present[off] = True
    rank = np.cumsum(present, dtype=np.intp) - 1
    values = np.flatnonzero(present).astype(x.dtype) + x.dtype.type(lo)
    return values, rank[off]


def _order_by(*keys: np.ndarray) -> np.ndarray:
    """Positions sorted by `keys` (first key most significant), like np.lexsort with the
    keys reversed, for integer keys that are distinct together (ties may come out in
    another order than lexsort's). They are packed into one int64 (as offsets from
    their minimums) when their ranges fit: one argsort instead of a
    four-key lexsort was 5 times faster on the rows of a block (a third of the
    evaluator's set-up in a stranding pass)."""
    span = 1
    lows = [int(k.min()) if k.shape[0] else 0 for k in keys]
    widths = [
        int(k.max()) - low + 1 if k.shape[0] else 1 for k, low in zip(keys, lows, strict=True)
    ]
    for w in widths:
        span *= w
    if span >= 1 << 63 or any(k.dtype.kind == "u" and k.dtype.itemsize == 8 for k in keys):
        return np.lexsort(keys[::-1])
    packed = np.zeros(keys[0].shape[0], dtype=np.int64)
    for k, low, w in zip(keys, lows, widths, strict=True):
        packed *= w
        packed += k.astype(np.int64) - low
    # The packed keys are distinct: any sort gives the one order.
    return np.argsort(packed)


class _SkilledRows:
    """The consenting laborers of a search (all, or the rows asked for) and which skills
    each holds, set up once for all of its blocks: a block then starts from the laborers
    with a skill that fits its occupation. Every no-stranding pass and refill searches
    for up to a million laborers, each of whom fits two or three of some twenty blocks,
    and working through all of them in every block was a third of a block's set-up."""

    def __init__(self, lab: LaborerArrays, lab_rows: np.ndarray | None) -> None:
        self.rows = (
            np.flatnonzero(lab.consent) if lab_rows is None else lab_rows[lab.consent[lab_rows]]
        )
        # int8[skills, rows] (-1: none): one skill's column of years is contiguous.
        self.years = np.ascontiguousarray(lab.skill_years[self.rows].T)
        # Preference masks (uint64, no small range) numbered once for all blocks.
        self.pref_values, self.pref_class = np.unique(lab.preferred[self.rows], return_inverse=True)

    def fitting(self, occupation: int, fit: np.ndarray) -> np.ndarray:
        """Positions in `rows` (ascending) of those with a skill that fits `occupation`."""
        some = np.zeros(self.rows.shape[0], dtype=bool)
        for s in np.flatnonzero(fit[:, occupation] > 0).tolist():
            some |= self.years[s] >= 0
        return np.flatnonzero(some)

    def fraction(
        self, at: np.ndarray, occupation: int, fit: np.ndarray, credit: np.ndarray
    ) -> np.ndarray:
        """`_occupation_fraction_block` of the rows at positions `at`."""
        frac = np.full(at.shape[0], -1.0)
        for s in np.flatnonzero(fit[:, occupation] > 0).tolist():
            np.maximum(frac, _skill_term(self.years[s][at], fit[s, occupation], credit), out=frac)
        return frac


class _BlockEvaluator:
    """Scores the eligible laborers of one block (occupation) against its vacancies.

    A pair's key is the sum of lookups in small tables:

    * wage + amenities + column key, by the laborer's minimum wage (wage rule as penalty);
    * destination points, by the laborer's preference pattern over the block's
      destinations;
    * start points, by (county, available day) (on-time rule as penalty);
    * the age rule, two comparisons against the vacancy's birth-day bounds.

    The laborer-only parts (occupation, priority) are constant along a row and kept in
    `const`, added where a total score is needed. Rows are sorted by (county, wage and
    preference class, available day) so that a chunk of rows shares few classes.
    """

    def __init__(
        self,
        lab: LaborerArrays,
        vocab: Vocabulary,
        policy: Policy,
        block: _Block,
        fit: np.ndarray,
        credit: np.ndarray,
        skilled: _SkilledRows,
    ) -> None:
        self.block = block
        self.policy = policy
        at = skilled.fitting(block.occupation, fit)
        base = skilled.rows[at]
        frac = skilled.fraction(at, block.occupation, fit, credit)
        keep = frac >= 0
        rows = base[keep]
        frac = frac[keep]
        at = at[keep]
        self.n = int(rows.shape[0])
        b = block.cols.shape[0]
        self.lo = np.clip(block.lo, -_BIRTH_CLIP, _BIRTH_CLIP).astype(np.int32)
        self.hi = np.clip(block.hi, -_BIRTH_CLIP, _BIRTH_CLIP).astype(np.int32)

        # Classes: distinct minimum wages and destination-point patterns.
        self.m_vals, m_cls = _classes(lab.min_wage[rows])
        dest_u, dest_local = np.unique(block.dest, return_inverse=True)
        self.dest_local = dest_local.astype(np.intp)
        cover = vocab.cover_masks()
        pref_at, pref_cls = _classes(skilled.pref_class[at])
        pref_u = skilled.pref_values[pref_at]
        pats = _destination_points(pref_u[:, None], cover[dest_u][None, :], policy)
        self.pat_vals, pat_of_pref = np.unique(pats, axis=0, return_inverse=True)
        self.pat_vals = self.pat_vals.astype(np.int32) << _SHIFT
        pat_cls = pat_of_pref.reshape(-1)[pref_cls]
        q_key = pat_cls.astype(np.int64) * max(1, self.m_vals.shape[0]) + m_cls
        q_vals, q_cls = _classes(q_key)
        self.q_m = (q_vals % max(1, self.m_vals.shape[0])).astype(np.intp)
        self.q_pat = (q_vals // max(1, self.m_vals.shape[0])).astype(np.intp)

        county = lab.county[rows].astype(np.int64)
        avail = lab.available_day[rows].astype(np.int64)
        order = _order_by(county, q_cls, avail, rows)
        self.rows = rows[order]
        self.q = q_cls[order].astype(np.intp)
        self.m_cls = m_cls[order].astype(np.intp)
        self.pat_cls = pat_cls[order].astype(np.intp)
        county = county[order]
        self.avail = avail[order]
        self.birth = np.clip(lab.birth_day[self.rows], -_BIRTH_CLIP, _BIRTH_CLIP).astype(np.int32)
        self.const = _occupation_points(frac[order], policy.occupation).astype(
            np.int32
        ) + _priority_points(lab.flags[self.rows], policy)

        self.wt = self._wage_rows(self.m_vals) if self.m_vals.shape[0] <= _MAX_WAGE_ROWS else None

        # Start tables per county segment, one row per distinct available day. Days far
        # outside the block's start range behave alike, so they are clamped first.
        table = _start_table(policy).astype(np.int32)
        self.segments: list[tuple[int, int, int, np.ndarray]] = []
        self.a_cls = np.zeros(self.n, dtype=np.intp)
        cuts = np.flatnonzero(np.diff(county)) + 1
        for s, e in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [self.n]]), strict=True):
            if e <= s or b == 0:
                continue
            c = int(county[s])
            travel = vocab.travel_days[c, block.dest].astype(np.int64)
            slack = block.start - travel
            lo_a = int(slack.min()) - table.shape[0] - 1
            hi_a = int(slack.max()) + 1
            a_vals, a_cls = np.unique(np.clip(self.avail[s:e], lo_a, hi_a), return_inverse=True)
            self.a_cls[s:e] = a_cls
            gap = slack[None, :] - a_vals[:, None]
            pts = table[np.clip(gap, 0, table.shape[0] - 1)] << _SHIFT
            st = np.where(gap >= 0, pts, _PEN).astype(np.int32)
            self.segments.append((int(s), int(e), int(travel.min()), st))

    def _wage_rows(self, m_vals: np.ndarray) -> np.ndarray:
        """int32[len(m_vals), B]: wage + amenity points << 16 + column key (+ penalty)."""
        block = self.block
        wpts = _wage_points(
            block.wage_min[None, :], block.wage_max[None, :], m_vals[:, None], self.policy
        ).astype(np.int32)
        wt = ((wpts + block.amen[None, :]) << _SHIFT) + block.colkey[None, :]
        fail = (m_vals[:, None] > 0) & (block.wage_max[None, :] < m_vals[:, None])
        return np.where(fail, wt + _PEN, wt).astype(np.int32)

    def _wage_for(self, m_cls: np.ndarray) -> np.ndarray:
        if self.wt is not None:
            return self.wt[m_cls]
        u, inv = np.unique(m_cls, return_inverse=True)
        return self._wage_rows(self.m_vals[u])[inv]

    def _dest_for(self, pat_cls: np.ndarray) -> np.ndarray:
        return self.pat_vals[pat_cls][:, self.dest_local]

    def _deep_top(self, pos: np.ndarray, st: np.ndarray, kk: int, group: int = 64) -> np.ndarray:
        """int32[len(pos), kk]: best keys of rows the class walk could not settle.

        These are mostly people whom the age or on-time rule excludes from most
        vacancies. Sorted by birth day and taken in small groups, each group only scans
        the columns whose age range and start day could admit at least one of its rows.
        """
        out = np.full((pos.shape[0], kk), -1, dtype=np.int32)
        order = np.argsort(self.birth[pos], kind="stable")
        for g in range(0, pos.shape[0], group):
            sel = order[g : g + group]
            p = pos[sel]
            birth = self.birth[p]
            a = self.a_cls[p]
            cols = np.flatnonzero(
                (self.lo < birth.max()) & (self.hi >= birth.min()) & (st[a.min()] >= 0)
            )
            if cols.shape[0] == 0:
                continue
            if self.wt is not None:
                keys = self.wt[:, cols][self.m_cls[p]]
            else:
                keys = self._wage_for(self.m_cls[p])[:, cols]
            keys += st[:, cols][a]
            keys += self.pat_vals[:, self.dest_local[cols]][self.pat_cls[p]]
            bad = (birth[:, None] <= self.lo[cols]) | (birth[:, None] > self.hi[cols])
            np.copyto(keys, -1, where=bad)
            c = cols.shape[0]
            if c > kk:
                keys = np.partition(keys, c - kk, axis=1)[:, c - kk :]
            out[sel, : keys.shape[1]] = np.where(keys >= 0, keys, -1)
        return out

    def top_per_row(
        self, k: int, depth: int = 192, chunk_rows: int = 16384, first: int = 24
    ) -> tuple[np.ndarray, np.ndarray]:
        """(laborer rows int64[n], keys int64[n, k]) of the best k vacancies per row.

        Exact threshold search. Laborers of one class (minimum wage, destination
        pattern) rank the columns alike up to the start and age parts, so each class
        gets its best `depth` columns sorted by that "static" key once. A row walks its
        class order in growing steps and stops as soon as its k-th best key beats
        static[next] + its best possible start points, an upper bound of every remaining
        column. Rows still open after `depth` columns (few: e.g. people whose age rules
        out most vacancies) are evaluated in full. Most rows stop after a few dozen of
        the ~1,000 columns. Keys pack the total score and the vacancy index; -1 = none.

        Rows are walked `chunk_rows` at a time: 16,384 instead of 4,096 made the
        candidates of a Baise-scale round 0.8 s (7%) faster on two threads, as fewer
        numpy calls leave the threads less time holding the GIL between them.
        """
        out = np.full((self.n, k), -1, dtype=np.int64)
        b = self.block.cols.shape[0]
        if self.n == 0 or b == 0:
            return self.rows, out
        kk = min(k, b)
        depth = min(max(depth, kk), b)
        tables = self._class_tables(depth)
        for s, e, _travel_min, st in self.segments:
            st_max = st.max(axis=1)
            st_flat = st.ravel()
            for cs in range(s, e, chunk_rows):
                ce = min(cs + chunk_rows, e)
                best, deep = self._walk(cs, ce, st_flat, st_max, tables, kk, depth, first)
                if deep.shape[0]:
                    best[deep] = self._deep_top(cs + deep, st, kk)
                valid = best >= 0
                rank = np.where(valid, _COLMASK - (best & _COLMASK), 0)
                vac = self.block.by_rank[rank]
                total = (best >> _SHIFT).astype(np.int64) + self.const[cs:ce, None]
                packed = (total << _KEY64_SHIFT) | (_VAC64_MASK - vac)
                out[cs:ce, :kk] = np.where(valid, packed, -1)
        return self.rows, out

    def _class_tables(self, depth: int) -> tuple[np.ndarray, ...]:
        """Per class: its best `depth` columns by static key, sorted (plus one bound).

        Returns (static int32[Q, depth+1] with a final "nothing left" bound, position
        int32[Q, depth], lo+1 int32[Q, depth], span uint32[Q, depth]). Static keys are
        unique within a class (they carry the column key), so a value threshold from an
        int32 partition selects exactly the best depth+1 columns.
        """
        b = self.block.cols.shape[0]
        static = self._wage_for(self.q_m) + self._dest_for(self.q_pat)
        q = static.shape[0]
        take = min(depth + 1, b)
        if take < b:
            thr = np.partition(static, b - take, axis=1)[:, b - take]
            sel = static[static >= thr[:, None]].reshape(q, take)
        else:
            sel = static
        sel = np.sort(sel, axis=1)[:, ::-1]
        bound = np.full((q, depth + 1), _INT32_MIN // 2, dtype=np.int32)
        bound[:, :take] = sel
        rank_to_pos = np.empty(b, dtype=np.int32)
        rank_to_pos[_COLMASK - self.block.colkey] = np.arange(b, dtype=np.int32)
        pos = rank_to_pos[_COLMASK - (sel[:, :depth] & _COLMASK)]
        lo1 = self.lo.astype(np.int64) + 1
        span = np.maximum(self.hi.astype(np.int64) - self.lo, 0)
        return (
            np.ascontiguousarray(bound),
            np.ascontiguousarray(pos),
            lo1.astype(np.int32)[pos],
            span.astype(np.uint32)[pos],
        )

    def _walk(
        self,
        cs: int,
        ce: int,
        st_flat: np.ndarray,
        st_max: np.ndarray,
        tables: tuple[np.ndarray, ...],
        kk: int,
        depth: int,
        first: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Walk rows cs:ce along their class orders; returns (best keys, rows not done)."""
        cls_static, cls_pos, cls_lo1, cls_span = tables
        b = self.block.cols.shape[0]
        n = ce - cs
        q = self.q[cs:ce]
        a_off = self.a_cls[cs:ce] * b
        a = self.a_cls[cs:ce]
        birth = self.birth[cs:ce]
        best = np.full((n, kk), _INT32_MIN, dtype=np.int32)
        open_rows = np.arange(n)
        t0, step = 0, first
        while open_rows.shape[0] and t0 < depth:
            t1 = min(depth, t0 + step)
            qo = q[open_rows]
            keys = cls_static[qo, t0:t1]
            keys += np.take(st_flat, cls_pos[qo, t0:t1] + a_off[open_rows, None])
            # lo < birth <= hi  <=>  0 <= birth - (lo + 1) < hi - lo, as one unsigned test.
            since = birth[open_rows, None] - cls_lo1[qo, t0:t1]
            np.copyto(keys, -1, where=since.view(np.uint32) >= cls_span[qo, t0:t1])
            both = np.concatenate([best[open_rows], keys], axis=1)
            if both.shape[1] > kk:
                both = np.partition(both, both.shape[1] - kk, axis=1)[:, -kk:]
            best[open_rows] = both
            bound = cls_static[qo, t1] + st_max[a[open_rows]]
            open_rows = open_rows[(both.min(axis=1) < bound) & (bound >= 0)]
            t0, step = t1, step * 2
        # Rows still open after the class orders' depth need the remaining columns too.
        deep = open_rows if depth < b else open_rows[:0]
        return np.where(best >= 0, best, -1), deep

    def top_per_column(self, need: np.ndarray) -> CandidatePairs:
        """Best `need[c]` rows per block column (score desc, laborer index asc), exact.

        A threshold search over groups of rows that share a class and a row constant
        (`const`): a group's score in a column is at most its static key + its constant +
        the column's best start points, the same for all its rows. Each column evaluates
        the groups whose bound reaches a threshold chosen to hold about twice `need[c]`
        rows; it is settled once `need[c]` evaluated rows score at least the threshold
        (no row left out can reach it, so ties break exactly), and otherwise lowers the
        threshold to four times as many rows. The dense scan of every row against every
        column took 7 minutes at Baise scale for a stranding pass (1.1M unplaced
        laborers x 7,700 open vacancies); this takes 12 s there (one thread), evaluating
        about 50 rows per row kept: bounds are whole points, so a threshold level holds
        many rows, and the age rule, not in the bound, fails half of them. Columns that
        almost nobody passes (e.g. a one-year age range) end up scoring every row, pair by
        pair: there the dense scan was faster (3.7 s against 5.9 s for 300,000 laborers x
        1,000 such vacancies), at the same memory (pairs are scored in pieces).
        """
        b = self.block.cols.shape[0]
        need = np.minimum(np.asarray(need, dtype=np.int64), self.n)
        if self.n == 0 or b == 0 or need.max(initial=0) <= 0:
            return CandidatePairs.empty()
        # Start keys of every (county segment, available-day class) row, stacked.
        tables = [st for _s, _e, _t, st in self.segments]
        st_all = np.concatenate(tables) if tables else np.zeros((0, b), np.int32)
        arow = self.a_cls.copy()
        base = 0
        for s, e, _t, st in self.segments:
            arow[s:e] += base
            base += st.shape[0]
        st_best = np.where(st_all >= 0, st_all >> _SHIFT, -1).max(axis=0, initial=-1)
        # Groups: rows of one class and one constant (their bounds are equal).
        c_min = int(self.const.min())
        span = int(self.const.max()) - c_min + 1
        gkey = self.q.astype(np.int64) * span + (self.const - c_min)
        order = np.argsort(gkey, kind="stable")
        gk = gkey[order]
        gstart = np.flatnonzero(np.r_[True, gk[1:] != gk[:-1]])
        gsize = np.diff(np.r_[gstart, gk.shape[0]])
        g_q = (gk[gstart] // span).astype(np.intp)
        g_const = (gk[gstart] % span + c_min).astype(np.int64)
        g_m, g_pat = self.q_m[g_q], self.q_pat[g_q]
        groups = gstart.shape[0]
        # Column slices keep the group x column tables and the evaluated pairs small.
        width = int(max(8, min(b, (1 << 20) // max(1, groups))))
        out_lab, out_vac, out_sc = [], [], []
        for c0 in range(0, b, width):
            c1 = min(b, c0 + width)
            if need[c0:c1].max(initial=0) <= 0:
                continue
            res = self._walk_columns(
                c0, c1, need[c0:c1], st_all, arow, st_best, order, gstart, gsize,
                g_const, g_m, g_pat,
            )  # fmt: skip
            if res is not None:
                out_lab.append(res[0])
                out_vac.append(res[1])
                out_sc.append(res[2])
        if not out_lab:
            return CandidatePairs.empty()
        return CandidatePairs(
            laborer=np.concatenate(out_lab),
            vacancy=np.concatenate(out_vac),
            score=np.concatenate(out_sc),
        )

    def _walk_columns(
        self,
        c0: int,
        c1: int,
        need: np.ndarray,
        st_all: np.ndarray,
        arow: np.ndarray,
        st_best: np.ndarray,
        order: np.ndarray,
        gstart: np.ndarray,
        gsize: np.ndarray,
        g_const: np.ndarray,
        g_m: np.ndarray,
        g_pat: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """`top_per_column` for block columns c0:c1 (sorted by vacancy, score desc,
        laborer index)."""
        w = c1 - c0
        if self.wt is not None:
            wage = self.wt[:, c0:c1][g_m]
        else:
            u, inv = np.unique(g_m, return_inverse=True)
            wage = self._wage_rows(self.m_vals[u])[:, c0:c1][inv.reshape(-1)]
        static = wage + self.pat_vals[:, self.dest_local[c0:c1]][g_pat]
        best_start = st_best[c0:c1]
        bound = np.where(
            (static >= 0) & (best_start >= 0)[None, :],
            (static >> _SHIFT) + g_const[:, None] + best_start[None, :],
            -1,
        )
        lo = self.lo[c0:c1]
        hi = self.hi[c0:c1]
        levels = int(bound.max(initial=-1)) + 2  # bound values -1 .. max
        p_all: list[np.ndarray] = []
        c_all: list[np.ndarray] = []
        s_all: list[np.ndarray] = []
        scored = np.zeros((w, 256), dtype=np.int64)  # feasible pairs found, by score

        def evaluate(gi: np.ndarray, ci: np.ndarray) -> None:
            """Score the rows of groups gi in columns ci; keep the feasible pairs.

            At most about _EVAL_PAIRS (row, column) pairs at a time: columns that few
            laborers pass (a narrow age range, an early start) lower their threshold to
            0 and evaluate every row, which in one piece took gigabytes."""
            ends = np.cumsum(gsize[gi])
            lo_i = 0
            while lo_i < gi.shape[0]:
                base = int(ends[lo_i - 1]) if lo_i else 0
                hi_i = max(lo_i + 1, int(np.searchsorted(ends, base + _EVAL_PAIRS, "right")))
                evaluate_part(gi[lo_i:hi_i], ci[lo_i:hi_i])
                lo_i = hi_i

        def evaluate_part(gi: np.ndarray, ci: np.ndarray) -> None:
            sizes = gsize[gi]
            pair = np.repeat(np.arange(gi.shape[0]), sizes)
            within = np.arange(pair.shape[0]) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            pos = order[gstart[gi][pair] + within]
            gg, cc = gi[pair], ci[pair]
            key = static[gg, cc] + st_all[arow[pos], c0 + cc]
            birth = self.birth[pos]
            ok = (key >= 0) & (birth > lo[cc]) & (birth <= hi[cc])
            score = (key[ok] >> _SHIFT) + g_const[gg[ok]]
            p_all.append(pos[ok])
            c_all.append(cc[ok])
            s_all.append(score)
            np.add(
                scored,
                np.bincount(cc[ok] * 256 + score, minlength=w * 256).reshape(w, 256),
                out=scored,
            )

        def at_least_of(live: np.ndarray) -> np.ndarray:
            """[c, v]: rows of `live` groups whose bound in column c is at least v."""
            hist = np.bincount(
                (np.arange(w)[None, :] * levels + bound + 1)[live],
                weights=np.broadcast_to(gsize[:, None], bound.shape)[live],
                minlength=w * levels,
            ).reshape(w, levels)
            return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]

        target = 2 * need
        done = need <= 0
        at_least = at_least_of(bound >= 0)
        above = np.full(w, levels, dtype=np.int64)  # bounds >= this are evaluated
        while not done.all():
            reach = (at_least >= target[:, None]).sum(axis=1) - 1
            threshold = np.clip(np.minimum(reach, above - 1), 0, None)
            threshold = np.where(done, above, threshold)
            evaluate(*np.nonzero((bound >= threshold[None, :]) & (bound < above[None, :])))
            above = threshold
            # Pairs found so far that score at least the threshold, per column.
            at_or_over = np.cumsum(scored[:, ::-1], axis=1)[:, ::-1]
            count = at_or_over[np.arange(w), np.minimum(threshold, 255)]
            done |= (count >= need) | (threshold <= 0)
            target = 4 * target
        if not p_all:
            return None
        pos = np.concatenate(p_all)
        cc = np.concatenate(c_all).astype(np.int64)
        sc = np.concatenate(s_all).astype(np.int64)
        lab_i = self.rows[pos]
        # Column, then score desc, then laborer index, as one int64 key.
        key = (cc << 40) | ((255 - sc) << 32) | lab_i
        sel = np.argsort(key)
        cc, sc, lab_i = cc[sel], sc[sel], lab_i[sel]
        first = np.searchsorted(cc, cc, side="left")
        keep = (np.arange(cc.shape[0]) - first) < need[cc]
        return lab_i[keep], self.block.cols[c0 + cc[keep]], sc[keep]


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _keys_to_pairs(rows: np.ndarray, keys: np.ndarray) -> CandidatePairs:
    """Packed per-row keys -> CandidatePairs sorted by laborer, score desc, vacancy."""
    if rows.shape[0] > 1 and not (rows[1:] > rows[:-1]).all():  # callers mostly sort
        order = np.argsort(rows, kind="stable")
        rows, keys = rows[order], keys[order]
    keys = np.sort(keys, axis=1)[:, ::-1]  # descending: best score, then lowest vacancy
    valid = keys >= 0
    lab_i = np.broadcast_to(rows[:, None], keys.shape)[valid]
    flat = keys[valid]
    vacancy = flat & _VAC64_MASK
    np.subtract(_VAC64_MASK, vacancy, out=vacancy)
    flat >>= _KEY64_SHIFT
    return CandidatePairs(
        laborer=lab_i.astype(np.int32),
        vacancy=vacancy.astype(np.int32),
        score=flat.astype(np.int16),
    )


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """int64 sorted distinct values; callers mostly pass such arrays already (e.g.
    `np.flatnonzero`), which a linear check spares the sort."""
    x = np.asarray(x, dtype=np.int64)
    if x.shape[0] < 2 or bool((x[1:] > x[:-1]).all()):
        return x
    return np.unique(x)


def generate_candidates(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    k: int | None = None,
    occupations: Iterable[int] | None = None,
    *,
    laborers: np.ndarray | None = None,
    vacancies: np.ndarray | None = None,
    workers: int | None = None,
    progress: Callable[[float], None] | None = None,
    price: np.ndarray | None = None,
) -> CandidatePairs:
    """The best k vacancies per laborer among pairs that pass every hard rule.

    Works per block of one vacancy occupation (so `occupations` lets a caller fan blocks
    out as separate tasks and combine them with `merge_candidates`), in chunks of rows so
    memory stays bounded, on `workers` threads (numpy releases the GIL). `laborers` /
    `vacancies` restrict rows / columns to index subsets. Ties: score desc, then vacancy
    index asc; the result is sorted by laborer, then that order.

    `price[j]` (whole points >= 0, optional) ranks by score - price[j] instead: the best
    k vacancies per laborer at those prices, ties and order by that value. The pairs
    still carry their scores. The same search, with each vacancy's amenity points
    lowered by its price (lifted by the highest price, so that a pair that passes the
    hard rules keeps a key >= 0, which is how the search tells it from one that fails).
    """
    k = policy.k if k is None else int(k)
    if k < 1:
        raise ValueError("k must be >= 1")
    if price is None:
        return _candidates(
            lab, vac, vocab, policy, k, occupations, laborers=laborers, vacancies=vacancies,
            workers=workers, progress=progress, shift=None,
        )  # fmt: skip
    p = np.asarray(price)
    if p.shape != (len(vac),) or p.dtype.kind not in "iu" or (p.size and p.min() < 0):
        raise ValueError("price must hold one whole number >= 0 per vacancy")
    top = int(p.max(initial=0))
    if top > MAX_PRICE:
        raise ValueError(f"price must be at most {MAX_PRICE}")
    shift = (top - p).astype(np.int32)
    out = _candidates(
        lab, vac, vocab, policy, k, occupations, laborers=laborers, vacancies=vacancies,
        workers=workers, progress=progress, shift=shift,
    )  # fmt: skip
    score = out.score.astype(np.int32) - shift[out.vacancy]
    return CandidatePairs(out.laborer, out.vacancy, score.astype(out.score.dtype))


# Highest price `generate_candidates` takes: score + shift stays far below the key's
# 15 bits of points, and far above the hard rules' penalty (_PEN >> _SHIFT).
MAX_PRICE = 1_000


def _candidates(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    k: int,
    occupations: Iterable[int] | None,
    *,
    laborers: np.ndarray | None,
    vacancies: np.ndarray | None,
    workers: int | None,
    progress: Callable[[float], None] | None,
    shift: np.ndarray | None,
) -> CandidatePairs:
    """`generate_candidates` with `shift[j]` added to vacancy j's points (scores come
    out with it)."""
    lab_rows = None if laborers is None else _sorted_unique(laborers)
    if lab.excluded.shape[0]:
        # The few laborers with excluded pairs ask for as many more as they exclude, so
        # k are left once those are dropped; the others go the fast way.
        excl_lab, _ = lab.excluded_pairs()
        per_row = _excluded_per(excl_lab, len(lab))
        rows = np.arange(len(lab), dtype=np.int64) if lab_rows is None else lab_rows
        special = rows[per_row[rows] > 0]
        if special.shape[0]:
            common = dict(workers=workers, progress=None, shift=shift)
            plain = dataclasses.replace(lab, excluded=np.zeros(0, dtype=np.int64))
            rest = rows[per_row[rows] == 0]
            parts = [
                _candidates(
                    plain, vac, vocab, policy, k, occupations,
                    laborers=rest, vacancies=vacancies, **common,
                ),
                _drop_excluded(
                    lab,
                    _candidates(
                        plain, vac, vocab, policy, k + int(per_row[special].max()),
                        occupations, laborers=special, vacancies=vacancies, **common,
                    ),
                ),
            ]  # fmt: skip
            if progress is not None:
                progress(1.0)
            return _insert_rows(parts[0], parts[1], k)
    fit = fit_matrix(vocab, policy)
    credit = _credit_table(policy)
    blocks = _make_blocks(vac, policy, occupations, vacancies, shift)
    if not blocks or len(lab) == 0:
        return CandidatePairs.empty()
    skilled = _SkilledRows(lab, lab_rows)

    def run(block: _Block) -> tuple[np.ndarray, np.ndarray]:
        return _BlockEvaluator(lab, vocab, policy, block, fit, credit, skilled).top_per_row(k)

    # One row of running best keys per laborer asked for (a restricted call, e.g. a late
    # stranding pass over a few thousand laborers, must not allocate for everybody).
    index = np.arange(len(lab), dtype=np.int64) if lab_rows is None else lab_rows
    if lab_rows is not None:
        position = np.full(len(lab), -1, dtype=np.int64)  # laborer -> row of `best`
        position[lab_rows] = np.arange(lab_rows.shape[0])
    best = np.full((index.shape[0], k), -1, dtype=np.int64)
    touched = np.zeros(index.shape[0], dtype=bool)
    floor = np.full(index.shape[0], -1, dtype=np.int64)  # each row's k-th best key so far
    n_workers = _default_workers() if workers is None else max(1, int(workers))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for done, (rows, keys) in enumerate(pool.map(run, blocks), start=1):
            if rows.shape[0]:
                at = rows if lab_rows is None else position[rows]
                # Rows seen in no earlier block take their keys as they are; only the
                # others are merged (this loop runs on the main thread, between the
                # blocks' results, and merging every row cost 6 s in a full round).
                seen = touched[at]
                fresh = ~seen
                best[at[fresh]] = keys[fresh]
                floor[at[fresh]] = keys.min(axis=1)[fresh]
                # Of the others, only rows with a key above their k-th best so far.
                merge = np.flatnonzero(seen & (keys.max(axis=1) > floor[at]))
                if merge.shape[0]:
                    again = at[merge]
                    both = np.concatenate([best[again], keys[merge]], axis=1)
                    top = np.partition(both, both.shape[1] - k, axis=1)[:, -k:]
                    best[again] = top
                    floor[again] = top.min(axis=1)
                touched[at] = True
            if progress is not None:
                progress(done / len(blocks))
    at = np.flatnonzero(touched)
    return _keys_to_pairs(index[at], best[at])


def _insert_rows(base: CandidatePairs, extra: CandidatePairs, k: int) -> CandidatePairs:
    """`extra`'s first k pairs per laborer inserted into `base`: two lists of disjoint
    laborers, each sorted by laborer and then in the order a laborer's pairs should keep.

    O(n), where `merge_candidates` sorts every pair: for the 11.8 million pairs of a
    Baise-scale search with 500 laborers who have excluded pairs, 0.03 s against 2.4 s
    (the same result), in every search of the round once anybody has declined."""
    first = np.searchsorted(extra.laborer, extra.laborer, side="left")
    keep = (np.arange(len(extra)) - first) < k
    at = np.searchsorted(base.laborer, extra.laborer[keep])
    return CandidatePairs(
        np.insert(base.laborer, at, extra.laborer[keep]),
        np.insert(base.vacancy, at, extra.vacancy[keep]),
        np.insert(base.score, at, extra.score[keep]),
    )


def merge_candidates(parts: Sequence[CandidatePairs], k: int | None) -> CandidatePairs:
    """Combine candidate lists (e.g. per-occupation tasks): best k per laborer, deduplicated.

    Sorted by laborer, score descending, vacancy; `k=None` keeps every pair.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return CandidatePairs.empty()
    lab_i = np.concatenate([p.laborer for p in parts]).astype(np.int64)
    vac_i = np.concatenate([p.vacancy for p in parts]).astype(np.int64)
    score = np.concatenate([p.score for p in parts]).astype(np.int64)
    if vac_i.max() < (1 << 24) and score.min() >= 0 and score.max() < 256:
        # One packed int64 key sorts several times faster than a three-key lexsort.
        order = np.argsort((lab_i << 32) | ((255 - score) << 24) | vac_i)
    else:
        order = np.lexsort((vac_i, -score, lab_i))
    lab_i, vac_i, score = lab_i[order], vac_i[order], score[order]
    dup = np.zeros(lab_i.shape[0], dtype=bool)
    if lab_i.shape[0] > 1:
        # Same pair from two lists has the same score, so duplicates are adjacent.
        dup[1:] = (lab_i[1:] == lab_i[:-1]) & (vac_i[1:] == vac_i[:-1])
    lab_i, vac_i, score = lab_i[~dup], vac_i[~dup], score[~dup]
    if k is None:
        return CandidatePairs(laborer=lab_i, vacancy=vac_i, score=score)
    first = np.searchsorted(lab_i, lab_i, side="left")
    keep = (np.arange(lab_i.shape[0]) - first) < k
    return CandidatePairs(laborer=lab_i[keep], vacancy=vac_i[keep], score=score[keep])


def top_laborers_per_vacancy(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    need: np.ndarray,
    *,
    laborers: np.ndarray | None = None,
    vacancies: np.ndarray | None = None,
    workers: int | None = None,
) -> CandidatePairs:
    """The best `need[j]` candidate laborers of each vacancy j (rows limited to `laborers`).

    Sorted by vacancy, then score desc, then laborer index; blocks (occupations) on
    `workers` threads. A vacancy that gets fewer than `need[j]` got every laborer who
    passes its hard rules.
    """
    fit = fit_matrix(vocab, policy)
    credit = _credit_table(policy)
    need = np.asarray(need, dtype=np.int64)
    cols = np.flatnonzero(need > 0) if vacancies is None else np.asarray(vacancies)
    cols = cols[need[cols] > 0]
    if lab.excluded.shape[0]:
        # Ask each vacancy for as many more laborers as it excludes, drop those pairs, and
        # keep the best need[j] of what is left.
        _, excl_vac = lab.excluded_pairs()
        extra = _excluded_per(excl_vac, len(vac))
        plain = dataclasses.replace(lab, excluded=np.zeros(0, dtype=np.int64))
        found = _drop_excluded(
            lab,
            top_laborers_per_vacancy(
                plain,
                vac,
                vocab,
                policy,
                need + extra,
                laborers=laborers,
                vacancies=cols,
                workers=workers,
            ),
        )
        first = np.searchsorted(found.vacancy, found.vacancy, side="left")
        keep = (np.arange(len(found)) - first) < need[found.vacancy]
        return CandidatePairs(found.laborer[keep], found.vacancy[keep], found.score[keep])
    lab_rows = None if laborers is None else np.unique(np.asarray(laborers, dtype=np.int64))
    skilled = _SkilledRows(lab, lab_rows)

    def run(block: _Block) -> CandidatePairs:
        ev = _BlockEvaluator(lab, vocab, policy, block, fit, credit, skilled)
        return ev.top_per_column(need[block.cols])

    n_workers = _default_workers() if workers is None else max(1, int(workers))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        out = list(pool.map(run, _make_blocks(vac, policy, None, cols)))
    res = CandidatePairs.concat(out)
    order = np.lexsort((res.laborer, -res.score.astype(np.int32), res.vacancy))
    return CandidatePairs(res.laborer[order], res.vacancy[order], res.score[order])
