"""Deterministic synthetic season for coach-planning tests and the benchmark.

The geography is real and copied here as data (the planner never reads /work/shared at run
time): the 12 county-level divisions of Baise with their seat coordinates and all 137
township-level codes (NBS 2022 division codes, `baise_streets.csv`; seat coordinates CPCA
via `baise_reference.json`), Shenzhen factory streets and Dongguan factory towns
(NBS 2022 codes, coordinates approximate to +-3 km) and four other Guangdong cities (CPCA).
Townships without sourced coordinates use their county seat's, as the reference advises.

The season itself is a model. Every assumption is a parameter of `generate_season`, and
the defaults are the realistic season the benchmark plans (`transfers_bench` without flags):

* **Who.** Laborers per county follow the 2020 census resident population (general
  knowledge, rounded to 10,000; only the proportions matter). Inside a county the seat
  town is three times as large as a rural township, the townships' sizes are lognormal.
* **Vacancies.** Hires come from vacancies of `mean_vacancy` hires on average (lognormal,
  8-400). A vacancy has one drop-off point and one start date (its first working day) and
  recruits in one to four counties at county job fairs. Cities: Shenzhen and Dongguan take
  most (45% / 30%), then Guangzhou, Foshan, Huizhou, Zhongshan.
* **Start dates** spread over `weeks` weeks from `first_start` (2026-02-23, 正月初七, when
  factories reopen after the 2026-02-17 Spring Festival), heavier right after the
  festival: weight 1.6 per day in the first week, 1.0 in the second, 0.7 in the third.
* **Recruitment is concentrated.** The recruits of one vacancy in one county come from
  `catchment` (1-3, uniform) townships where the township job fair was held and fellow
  villagers bring each other (老乡带老乡); a share `scatter` (18%) comes from anywhere in the
  county (the county job fair, online), in proportion to the townships' sizes.
* **When they can leave.** The plan is made after the festival, when the coaches start to
  run: `from_date` is `lead_days` (4) days before the first start date, 正月初三. Hired
  laborers registered after coming home for the festival, so most can leave on the first
  day of the plan (`earliest_departure` = `from_date`). A share `later_share` (25%) becomes
  available later (visiting family, finishing work at home): on a day drawn uniformly from
  the day after `from_date` to two days before their start date (two days always reach the
  factory in time, from any township). A rider's departure window therefore runs from their
  earliest departure to the last day that still arrives by 22:00 the evening before the
  start (the planner computes it from the travel model): a few days for the first start
  dates, up to three weeks for the last ones.
* **Households.** About `household_share` (10%) of riders travel in households of 2-4
  (60/30/10%): same township, same city, same start date and earliest departure; one in five
  members after the first works at another factory of that city.
* **Late acceptances.** A share `late_share` (0.3%) accepted a job too late: their earliest
  departure is the start date itself, so no coach reaches the factory the evening before and
  the plan must leave them unseated with a reason.
* **Older model.** `slack_days=(a, b)` replaces the availability model above with the
  earlier one (every rider may leave a to b days before the last day that reaches the
  factory, counted as two days before the start), for sensitivity runs.

The same arguments always give the same season (numpy `default_rng(seed)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from matching.core.transfers import Params, Point, Rider

# code: (name, seat lat, seat lng, population 2020 in 10k (GK), seat township suffix,
#        township suffixes (code = county code + suffix), from baise_streets.csv)
COUNTIES: dict[str, tuple[str, float, float, int, str, str]] = {
    "451002": ("右江区", 23.90097, 106.618225, 42, "001", "001 002 101 102 103 104 202 203 204"),
    "451003": (
        "田阳区",
        23.735692,
        106.915496,
        33,
        "100",
        "100 101 102 103 104 105 106 107 108 204",
    ),
    "451022": (
        "田东县",
        23.597194,
        107.12608,
        37,
        "100",
        "100 101 103 105 106 107 108 109 110 201",
    ),
    "451024": (
        "德保县",
        23.32345,
        106.615373,
        30,
        "100",
        "100 101 102 103 104 105 106 200 203 204 205 206 450",
    ),
    "451026": ("那坡县", 23.387441, 105.83253, 15, "100", "100 101 102 200 203 204 205 207 208"),
    "451027": ("凌云县", 24.347557, 106.56131, 17, "100", "100 101 102 103 201 202 203 205"),
    "451028": ("乐业县", 24.776827, 106.556519, 14, "100", "100 101 102 103 201 203 204 205"),
    "451029": (
        "田林县",
        24.294487,
        106.228538,
        21,
        "100",
        "100 101 102 103 104 200 201 202 204 205 206 207 208 209",
    ),
    "451030": ("西林县", 24.489823, 105.093825, 13, "100", "100 101 102 103 203 204 206 208"),
    "451031": (
        "隆林各族自治县",
        24.770896,
        105.34404,
        36,
        "100",
        "100 101 102 103 104 105 200 203 204 205 206 208 210 211 213 215",
    ),
    "451081": (
        "靖西市",
        23.134117,
        106.417805,
        53,
        "100",
        "100 101 102 103 104 105 106 107 108 109 110 200 201 202 206 207 209 211 215",
    ),
    "451082": (
        "平果市",
        23.329376,
        107.589809,
        43,
        "100",
        "100 101 102 103 104 105 106 107 108 202 205 206 450",
    ),
}

# Drop-off points: Shenzhen factory streets, Dongguan factory towns (NBS 2022 codes,
# coordinates approximate +-3 km), and four cities as one point each (CPCA city centres).
CITIES: dict[str, tuple[str, float, tuple[tuple[str, float, float], ...]]] = {
    "440300": (
        "深圳市",
        0.45,
        (
            ("440306020", 22.67, 113.82),  # 福永街道
            ("440306022", 22.73, 113.83),  # 沙井街道
            ("440306024", 22.77, 113.85),  # 松岗街道
            ("440306026", 22.68, 113.93),  # 石岩街道
            ("440309006", 22.72, 114.05),  # 观澜街道
            ("440309004", 22.67, 114.01),  # 大浪街道
            ("440307006", 22.77, 114.31),  # 坪地街道
            ("440307017", 22.64, 114.21),  # 横岗街道
            ("440307003", 22.69, 114.13),  # 平湖街道
            ("440311002", 22.78, 113.90),  # 公明街道
            ("440310005", 22.74, 114.38),  # 坑梓街道
        ),
    ),
    "441900": (
        "东莞市",
        0.30,
        (
            ("441900119", 22.81, 113.80),  # 长安镇
            ("441900116", 22.80, 114.08),  # 塘厦镇
            ("441900117", 22.75, 114.14),  # 凤岗镇
            ("441900115", 22.84, 114.16),  # 清溪镇
            ("441900121", 22.82, 113.67),  # 虎门镇
            ("441900113", 22.94, 113.94),  # 大朗镇
            ("441900110", 22.98, 114.03),  # 常平镇
        ),
    ),
    "440100": ("广州市", 0.08, (("440100", 23.12911, 113.264385),)),
    "440600": ("佛山市", 0.07, (("440600", 23.021478, 113.121435),)),
    "441300": ("惠州市", 0.06, (("441300", 23.112381, 114.415612),)),
    "442000": ("中山市", 0.04, (("442000", 22.517585, 113.39277),)),
}


@dataclass(frozen=True, slots=True)
class Season:
    """A generated season: the riders, every point they use, and plan parameters."""

    riders: list[Rider]
    points: list[Point]
    params: Params


def season_points() -> list[Point]:
    """All 137 Baise townships and all drop-off points, sorted by code."""
    out: list[Point] = []
    for code, (_, lat, lng, _, _, suffixes) in COUNTIES.items():
        out.extend(Point(code + s, lat, lng) for s in suffixes.split())
    for _, _, spots in CITIES.values():
        out.extend(Point(c, lat, lng) for c, lat, lng in spots)
    return sorted(out, key=lambda p: p.code)


def generate_season(
    riders: int = 36_500,
    *,
    seed: int = 2026,
    first_start: date = date(2026, 2, 23),
    weeks: int = 3,
    lead_days: int = 4,
    later_share: float = 0.25,
    slack_days: tuple[int, int] | None = None,
    household_share: float = 0.10,
    scatter: float = 0.18,
    catchment: tuple[int, int] = (1, 3),
    seat_boarding: float = 0.0,
    late_share: float = 0.003,
    mean_vacancy: int = 60,
) -> Season:
    """Generate `riders` riders of one season; the same arguments give the same season.

    See the module docstring for the meaning of every argument. `from_date` of the returned
    `params` is `lead_days` before `first_start` (earlier if `slack_days` asks for it);
    `to_date` is the eve of the last start date.
    """
    rng = np.random.default_rng(seed)
    county_codes = sorted(COUNTIES)
    county_w = np.array([COUNTIES[c][3] for c in county_codes], dtype=float)
    county_w /= county_w.sum()
    townships = {c: [c + s for s in COUNTIES[c][5].split()] for c in county_codes}
    # Township weights: the seat is a town several times larger than a rural township.
    town_w = {}
    for c in county_codes:
        seat = c + COUNTIES[c][4]
        w = rng.lognormal(0.0, 0.5, len(townships[c]))
        w[townships[c].index(seat)] *= 3.0
        town_w[c] = w / w.sum()
    city_codes = sorted(CITIES)
    city_w = np.array([CITIES[c][1] for c in city_codes])
    city_w /= city_w.sum()
    n_days = weeks * 7
    day_w = np.array([1.6 if d < 7 else (1.0 if d < 14 else 0.7) for d in range(n_days)])
    day_w /= day_w.sum()
    plan_from = first_start - timedelta(days=lead_days)

    # Vacancies until their hires cover the season; sizes lognormal around `mean_vacancy`.
    cohorts: list[tuple[str, str, str, date, int]] = []  # county, city, dropoff, start, n
    total = 0
    while total < riders:
        city = city_codes[rng.choice(len(city_codes), p=city_w)]
        spots = CITIES[city][2]
        dropoff = spots[rng.integers(len(spots))][0]
        start = first_start + timedelta(days=int(rng.choice(n_days, p=day_w)))
        size = int(np.clip(rng.lognormal(math.log(mean_vacancy) - 0.3, 0.8), 8, 400))
        size = min(size, riders - total)
        k = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
        counties = rng.choice(len(county_codes), size=k, replace=False, p=county_w)
        shares = rng.dirichlet(np.ones(k) * 2.0)
        split = np.floor(shares * size).astype(int)
        split[0] += size - split.sum()
        for ci, n in zip(counties, split, strict=True):
            if n > 0:
                cohorts.append((county_codes[ci], city, dropoff, start, int(n)))
        total += size

    spots_of = {c: [code for code, _, _ in CITIES[c][2]] for c in city_codes}
    out: list[Rider] = []
    next_id = 1
    household_no = 0
    for county, city, dropoff, start, n in cohorts:
        towns = townships[county]
        k = min(len(towns), int(rng.integers(catchment[0], catchment[1] + 1)))
        fair = rng.choice(len(towns), size=k, replace=False, p=town_w[county])
        made = 0
        while made < n:
            left = n - made
            size = 1
            if rng.random() < household_share / 2.6 and left >= 2:
                size = min(left, int(rng.choice([2, 3, 4], p=[0.6, 0.3, 0.1])))
            if rng.random() < seat_boarding:
                town = county + COUNTIES[county][4]
            elif rng.random() < scatter:
                town = towns[rng.choice(len(towns), p=town_w[county])]
            else:
                town = towns[fair[rng.integers(k)]]
            # Two days before the start always reaches the factory in time, from anywhere.
            surely = start - timedelta(days=2)
            if slack_days is not None:
                slack = int(rng.integers(slack_days[0], slack_days[1] + 1))
                earliest = surely - timedelta(days=slack - 1)
            elif rng.random() < later_share and surely > plan_from:
                earliest = plan_from + timedelta(
                    days=int(rng.integers(1, (surely - plan_from).days + 1))
                )
            else:
                earliest = plan_from
            if rng.random() < late_share:
                earliest = start
            household = None
            if size > 1:
                household_no += 1
                household = f"H{household_no:05d}"
            for member in range(size):
                spot = dropoff
                if member > 0 and len(spots_of[city]) > 1 and rng.random() < 0.2:
                    # A spouse working at a neighbouring factory of the same city.
                    spot = spots_of[city][rng.integers(len(spots_of[city]))]
                out.append(
                    Rider(
                        id=next_id,
                        laborer_id=100_000 + next_id,
                        county=county,
                        pickup=town,
                        dropoff=spot,
                        city=city,
                        earliest_departure=earliest,
                        start_date=start,
                        household=household,
                    )
                )
                next_id += 1
            made += size
    first = min(r.earliest_departure for r in out)
    from_date = min(first, plan_from)
    to_date = first_start + timedelta(days=n_days - 2)
    riders_out = [
        Rider(
            id=r.id,
            laborer_id=r.laborer_id,
            county=r.county,
            pickup=r.pickup,
            dropoff=r.dropoff,
            city=r.city,
            earliest_departure=max(r.earliest_departure, from_date),
            start_date=r.start_date,
            household=r.household,
        )
        for r in out
    ]
    params = Params(from_date=from_date, to_date=to_date)
    return Season(riders=riders_out, points=season_points(), params=params)
