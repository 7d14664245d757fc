"""Deterministic synthetic matching instances shaped like the Baise -> Guangdong flows.

Used by the unit tests (small instances, many seeds) and by `bench` (1.46M laborers,
20,000 vacancies, 544,400 openings). Only numpy; the same seed always gives the same
arrays. The shape follows the reference data:

* 12 Baise counties (weighted by population) and 34 destinations in 8 Guangdong cities,
  organised city > district > street so that preferences for a city cover its streets;
* 19 occupations whose supply (laborers' skills) and demand (openings) differ: assembly
  lines want far more people than registered, farming skills are plentiful and barely
  wanted, construction sits in between; a few occupations are related (0.5 fit);
* laborers 16-65, 1-2 skills, minimum wages mostly 3,000-6,000 yuan (20% unknown),
  available over about 50 days, 35% without a destination preference, 10% in households
  of 2-4 (same county, same preferences, 60% of relatives share the head's main
  occupation) that must stay together (same employer or same city);
* vacancies at ~V/6 employers of Zipf-like size, wages 4,000-9,000 by occupation and
  city, start dates over 60 days, age limits such as 18-45.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matching.core.types import (
    FLAG_EMPLOYMENT_DIFFICULTY,
    FLAG_MONITORED_HOUSEHOLD,
    FLAG_POVERTY_ALLEVIATED,
    HouseholdArrays,
    LaborerArrays,
    VacancyArrays,
    Vocabulary,
)

# name, share of laborers' skills, share of openings, typical mid wage (yuan/month)
OCCUPATIONS: tuple[tuple[str, float, float, int], ...] = (
    ("电子厂普工/装配", 14.0, 24.0, 5200),
    ("服装缝纫", 8.0, 7.0, 5600),
    ("制鞋", 4.0, 4.0, 5200),
    ("注塑/包装", 5.0, 7.0, 5000),
    ("质检", 3.0, 4.0, 5300),
    ("仓储搬运", 6.0, 7.0, 5400),
    ("快递分拣", 4.0, 6.0, 5600),
    ("建筑工", 12.0, 6.0, 7200),
    ("装修工", 5.0, 3.0, 7500),
    ("焊工", 3.0, 3.0, 8000),
    ("电工", 2.0, 2.0, 7600),
    ("保安", 4.0, 4.0, 4500),
    ("保洁", 5.0, 4.0, 4200),
    ("餐饮服务员", 6.0, 6.0, 4600),
    ("厨师/帮厨", 4.0, 3.0, 5800),
    ("家政/护工", 5.0, 3.0, 5500),
    ("货车/叉车司机", 3.0, 3.0, 7000),
    ("种养殖", 6.0, 1.0, 4200),
    ("美容美发", 1.0, 2.0, 5000),
)

# Related occupations (symmetric fit).
RELATED: tuple[tuple[int, int, float], ...] = (
    (0, 3, 0.5),
    (0, 4, 0.5),
    (3, 4, 0.5),
    (1, 2, 0.5),
    (5, 6, 0.5),
    (5, 16, 0.3),
    (7, 8, 0.5),
    (7, 9, 0.3),
    (8, 10, 0.3),
    (11, 12, 0.3),
    (13, 14, 0.5),
    (12, 15, 0.3),
)

# Baise counties and their population weights.
COUNTIES: tuple[tuple[str, float], ...] = (
    ("右江区", 1.0),
    ("田阳区", 1.0),
    ("田东县", 1.1),
    ("平果市", 1.2),
    ("德保县", 1.1),
    ("靖西市", 1.8),
    ("那坡县", 0.6),
    ("凌云县", 0.6),
    ("乐业县", 0.5),
    ("田林县", 0.7),
    ("西林县", 0.4),
    ("隆林县", 1.2),
)
# Extra coach hours of each county compared with 右江区 (mountain roads in the west).
COUNTY_EXTRA_HOURS: tuple[float, ...] = (0, 0.5, 1, 1, 2, 2.5, 3.5, 2, 2.5, 2, 4, 4)

# City: (name, coach hours from 右江区, wage premium, share of openings, share of preferences)
CITIES: tuple[tuple[str, float, int, float, float], ...] = (
    ("深圳市", 13.0, 500, 0.28, 0.30),
    ("东莞市", 12.5, 200, 0.26, 0.24),
    ("广州市", 10.5, 300, 0.16, 0.18),
    ("佛山市", 10.0, 100, 0.10, 0.10),
    ("中山市", 11.0, 0, 0.07, 0.06),
    ("惠州市", 14.0, 0, 0.06, 0.05),
    ("珠海市", 11.5, 200, 0.04, 0.04),
    ("江门市", 10.0, -200, 0.03, 0.03),
)
# Districts (city index) and streets (district number among these, 0-based).
DISTRICTS: tuple[tuple[str, int], ...] = (
    ("宝安区", 0),
    ("龙华区", 0),
    ("龙岗区", 0),
    ("光明区", 0),
    ("长安镇", 1),
    ("虎门镇", 1),
    ("塘厦镇", 1),
    ("松山湖", 1),
    ("白云区", 2),
    ("番禺区", 2),
    ("增城区", 2),
    ("顺德区", 3),
    ("南海区", 3),
    ("小榄镇", 4),
    ("惠阳区", 5),
    ("仲恺区", 5),
    ("香洲区", 6),
)
STREETS: tuple[tuple[str, int], ...] = (
    ("福永街道", 0),
    ("沙井街道", 0),
    ("石岩街道", 0),
    ("观澜街道", 1),
    ("大浪街道", 1),
    ("坪地街道", 2),
    ("永和街道", 10),
    ("容桂街道", 11),
    ("狮山镇", 12),
)

EPOCH = np.datetime64("1970-01-01", "D")


def day_number(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date (the core's day unit)."""
    return int((np.datetime64(iso, "D") - EPOCH).astype(np.int64))


@dataclass
class Geography:
    """The destination tree: names, parent and city of each destination index."""

    names: list[str]
    parent: np.ndarray  # int16[D], -1 for cities
    city: np.ndarray  # int16[D], index of the city (a destination itself)
    level: np.ndarray  # int8[D], 0 city, 1 district, 2 street

    @property
    def n(self) -> int:
        return len(self.names)


def geography() -> Geography:
    """The fixed 34-destination tree (8 cities, 17 districts, 9 streets)."""
    names = [c[0] for c in CITIES]
    parent = [-1] * len(CITIES)
    level = [0] * len(CITIES)
    district_index = []
    for name, city in DISTRICTS:
        district_index.append(len(names))
        names.append(name)
        parent.append(city)
        level.append(1)
    for name, district in STREETS:
        names.append(name)
        parent.append(district_index[district])
        level.append(2)
    par = np.asarray(parent, dtype=np.int16)
    city = np.arange(len(names), dtype=np.int16)
    for d in range(len(names)):
        while par[city[d]] >= 0:
            city[d] = par[city[d]]
    return Geography(names=names, parent=par, city=city, level=np.asarray(level, dtype=np.int8))


@dataclass
class SyntheticInstance:
    """A complete matching input plus the names behind the indices."""

    lab: LaborerArrays
    vac: VacancyArrays
    households: HouseholdArrays
    vocab: Vocabulary
    today: int
    occupation_names: list[str] = field(default_factory=list)
    destination_names: list[str] = field(default_factory=list)
    county_names: list[str] = field(default_factory=list)


def _vocabulary(geo: Geography, n_counties: int) -> Vocabulary:
    o = len(OCCUPATIONS)
    related = np.eye(o, dtype=np.float32)
    for a, b, f in RELATED:
        related[a, b] = related[b, a] = f
    d = geo.n
    within = np.eye(d, dtype=bool)
    for x in range(d):
        p = int(geo.parent[x])
        while p >= 0:
            within[x, p] = True
            p = int(geo.parent[p])
    city_hours = np.array([c[1] for c in CITIES])[geo.city]
    # Streets and districts are a little further than the city's coach terminal.
    hours = city_hours[None, :] + 0.5 * geo.level[None, :]
    extra = np.array(COUNTY_EXTRA_HOURS[:n_counties] + (0.0,) * max(0, n_counties - 12))
    hours = hours + extra[:, None]
    # Coach leaves at 06:00 and must arrive by 22:00 the evening before work: up to 16 h
    # means starting the next day, longer trips (night ban stop included) one day more.
    travel = 1 + (hours > 16).astype(np.int16)
    return Vocabulary(related=related, within=within, travel_days=travel.astype(np.int16))


def make_instance(
    n_laborers: int = 10_000,
    n_vacancies: int = 150,
    total_openings: int | None = None,
    *,
    seed: int = 0,
    household_share: float = 0.10,
    today: str = "2026-02-23",
    n_counties: int = len(COUNTIES),
) -> SyntheticInstance:
    """Generate a deterministic instance (same arguments -> identical arrays).

    `total_openings` defaults to the real ratio (544,400 openings for 1.46M laborers);
    every vacancy has at least one opening.
    """
    if n_vacancies < 1 or n_laborers < 1:
        raise ValueError("need at least one laborer and one vacancy")
    if total_openings is None:
        total_openings = max(n_vacancies, round(n_laborers * 544_400 / 1_460_000))
    if total_openings < n_vacancies:
        raise ValueError("total_openings must be >= n_vacancies")
    rng = np.random.default_rng(seed)
    geo = geography()
    vocab = _vocabulary(geo, n_counties)
    day0 = day_number(today)
    n_occ = len(OCCUPATIONS)
    supply = np.array([x[1] for x in OCCUPATIONS])
    supply = supply / supply.sum()
    demand = np.array([x[2] for x in OCCUPATIONS])
    demand = demand / demand.sum()
    base_wage = np.array([x[3] for x in OCCUPATIONS])

    lab = _laborers(rng, n_laborers, n_occ, supply, vocab, geo, day0, n_counties)
    households = _households(rng, lab, household_share)
    vac = _vacancies(rng, n_vacancies, total_openings, demand, base_wage, geo, day0)
    return SyntheticInstance(
        lab=lab,
        vac=vac,
        households=households,
        vocab=vocab,
        today=day0,
        occupation_names=[x[0] for x in OCCUPATIONS],
        destination_names=list(geo.names),
        county_names=[c[0] for c in COUNTIES[:n_counties]],
    )


def _laborers(
    rng: np.random.Generator,
    n: int,
    n_occ: int,
    supply: np.ndarray,
    vocab: Vocabulary,
    geo: Geography,
    day0: int,
    n_counties: int,
) -> LaborerArrays:
    # Ages: most migrants are 20-50, a tail of older workers up to 65, a few 16-19.
    age_years = np.clip(rng.normal(36.0, 10.5, n), 16.0, 65.99)
    birth = day0 - np.floor(age_years * 365.2425).astype(np.int64)
    county_w = np.array([c[1] for c in COUNTIES[:n_counties]] + [1.0] * (n_counties - 12))
    county = rng.choice(n_counties, size=n, p=county_w / county_w.sum())

    skill = np.full((n, n_occ), -1, dtype=np.int8)
    first = rng.choice(n_occ, size=n, p=supply)
    work_years = np.floor(age_years - 16.0).astype(np.int64)
    years1 = np.minimum(rng.geometric(0.2, n) - 1, work_years)
    skill[np.arange(n), first] = np.clip(years1, 0, 60)
    two = rng.random(n) < 0.35
    second = rng.choice(n_occ, size=n, p=supply)
    two &= second != first
    years2 = np.minimum(rng.geometric(0.3, n) - 1, work_years)
    idx = np.flatnonzero(two)
    skill[idx, second[idx]] = np.clip(years2[idx], 0, 60)

    wage = np.round(rng.normal(4300.0, 650.0, n) / 100.0) * 100.0
    min_wage = np.clip(wage, 3000, 6000).astype(np.int32)
    min_wage[rng.random(n) < 0.20] = 0

    kind = rng.random(n)
    avail_off = np.where(
        kind < 0.5,
        rng.integers(0, 8, n),
        np.where(kind < 0.85, rng.integers(8, 31, n), rng.integers(31, 51, n)),
    )
    available = (day0 + avail_off).astype(np.int32)

    n_cities = len(CITIES)
    city_p = np.array([c[4] for c in CITIES])
    city_p = city_p / city_p.sum()
    pref = np.zeros(n, dtype=np.uint64)
    r = rng.random(n)
    c1 = rng.choice(n_cities, size=n, p=city_p)
    c2 = rng.choice(n_cities, size=n, p=city_p)
    districts = np.flatnonzero(geo.level == 1)
    dist = rng.choice(districts, size=n)
    one = np.uint64(1)
    pref = np.where(r >= 0.35, one << c1.astype(np.uint64), pref)
    pref = np.where(r >= 0.80, pref | (one << c2.astype(np.uint64)), pref)
    pref = np.where(r >= 0.92, one << dist.astype(np.uint64), pref).astype(np.uint64)

    flags = (
        np.where(rng.random(n) < 0.25, FLAG_POVERTY_ALLEVIATED, 0)
        | np.where(rng.random(n) < 0.05, FLAG_MONITORED_HOUSEHOLD, 0)
        | np.where(rng.random(n) < 0.05, FLAG_EMPLOYMENT_DIFFICULTY, 0)
    ).astype(np.uint8)
    consent = rng.random(n) < 0.97
    return LaborerArrays(
        id=np.arange(1, n + 1, dtype=np.int64),
        birth_day=birth.astype(np.int32),
        county=county.astype(np.int16),
        skill_years=skill,
        preferred=pref,
        min_wage=min_wage,
        available_day=available,
        flags=flags,
        consent=consent,
        household=np.full(n, -1, dtype=np.int32),
    )


def _households(rng: np.random.Generator, lab: LaborerArrays, share: float) -> HouseholdArrays:
    """Group ~`share` of the laborers into households of 2-4 from the same county.

    Members travel together, so they share the head's county, preference and (within a
    few days) availability.
    """
    n = len(lab)
    target = round(n * share)
    if target < 2:
        return HouseholdArrays.empty()
    sizes = rng.choice([2, 3, 4], size=target // 2 + 1, p=[0.6, 0.3, 0.1])
    ends = np.cumsum(sizes)
    sizes = sizes[ends <= target]
    members = rng.permutation(n)[: int(sizes.sum())]
    # Members of a household come from one county: regroup the chosen people by county so
    # that consecutive runs (one household each) mostly share it, then copy the head's.
    members = members[np.argsort(lab.county[members], kind="stable")]
    hh = np.repeat(np.arange(sizes.shape[0], dtype=np.int32), sizes)
    perm = rng.permutation(sizes.shape[0])
    # Shuffle household numbering so household order is unrelated to county.
    hh = perm[hh].astype(np.int32)
    head_pos = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    head = members[np.repeat(head_pos, sizes)]
    lab.household[members] = hh
    lab.county[members] = lab.county[head]
    lab.preferred[members] = lab.preferred[head]
    lab.available_day[members] = lab.available_day[head] + rng.integers(0, 4, members.shape[0])
    # Relatives often follow each other into the same line of work: 60% of the other
    # members also have the head's main occupation (a few years of experience).
    other = members != head
    follow = other & (rng.random(members.shape[0]) < 0.6)
    main = np.argmax(lab.skill_years[head[follow]], axis=1)
    rows = members[follow]
    years = rng.integers(0, 6, rows.shape[0]).astype(np.int8)
    lab.skill_years[rows, main] = np.maximum(lab.skill_years[rows, main], years)
    keep = (rng.random(sizes.shape[0]) < 0.55).astype(np.int8)  # 1 = same city
    return HouseholdArrays(keep_together=keep)


def _vacancies(
    rng: np.random.Generator,
    n: int,
    total_openings: int,
    demand: np.ndarray,
    base_wage: np.ndarray,
    geo: Geography,
    day0: int,
) -> VacancyArrays:
    n_emp = max(1, n // 6)
    city_p = np.array([c[3] for c in CITIES])
    city_p = city_p / city_p.sum()
    # Each employer sits at one non-city destination of a city (or the city itself).
    emp_city = rng.choice(len(CITIES), size=n_emp, p=city_p)
    emp_dest = emp_city.copy()
    for c in range(len(CITIES)):
        inside = np.flatnonzero((geo.city == c) & (geo.level > 0))
        mine = np.flatnonzero(emp_city == c)
        if inside.shape[0]:
            pick = rng.choice(inside, size=mine.shape[0])
            at_city = rng.random(mine.shape[0]) < 0.15
            emp_dest[mine] = np.where(at_city, c, pick)
    size_w = 1.0 / np.arange(1, n_emp + 1) ** 0.8
    size_w = rng.permutation(size_w / size_w.sum())
    employer = rng.choice(n_emp, size=n, p=size_w)
    occupation = rng.choice(len(base_wage), size=n, p=demand)

    # Openings: skewed (a few mass-hiring lines), at least one each, exact total.
    weight = rng.lognormal(0.0, 1.0, n)
    extra = rng.multinomial(total_openings - n, weight / weight.sum())
    openings = (1 + extra).astype(np.int32)

    premium = np.array([c[2] for c in CITIES])[emp_city[employer]]
    mid = base_wage[occupation] + premium + rng.normal(0.0, 600.0, n)
    spread = rng.integers(5, 26, n) * 100
    wage_min = np.clip(np.round((mid - spread / 2) / 100) * 100, 3500, 8500).astype(np.int32)
    wage_max = np.clip(wage_min + spread, 4000, 9500).astype(np.int32)

    age_min = np.where(rng.random(n) < 0.2, 16, 18).astype(np.int16)
    age_max = rng.choice([35, 40, 45, 50, 55, 60], size=n, p=[0.1, 0.2, 0.3, 0.25, 0.1, 0.05])
    start_off = np.minimum(rng.integers(3, 64, n), rng.integers(3, 64, n))  # more early
    return VacancyArrays(
        id=np.arange(1, n + 1, dtype=np.int64),
        employer=employer.astype(np.int32),
        occupation=occupation.astype(np.int16),
        openings=openings,
        wage_min=wage_min,
        wage_max=wage_max,
        destination=emp_dest[employer].astype(np.int16),
        city=emp_city[employer].astype(np.int16),
        age_min=age_min,
        age_max=age_max.astype(np.int16),
        start_day=(day0 + start_off).astype(np.int32),
        accommodation=rng.random(n) < 0.75,
        meals=rng.random(n) < 0.55,
    )
