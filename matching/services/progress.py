"""Progress against the year's targets, counted from the laborers' status history.

Every indicator counts distinct laborers whose status history shows the step in the year up
to the report's date (local time, Asia/Shanghai): `registered` (first registration),
`hired` (accepted an offer: status `matched`), `transferred` (departed on a point-to-point
coach), `employed` (the employer confirmed the start), and the hires of poverty-alleviated
laborers and of people with employment difficulty. Counts are by the laborer's county. A
laborer counts once a year per indicator, however often the step repeats; the daily figures
count laborers per day.

The four official indicators (rural labour moved into work, new urban jobs, re-employment,
re-employment of hard-to-employ people) are counted by the county offices outside this
system: they come from the counties' daily reports (`CountyReport`, each day's new count).

A county's target is its own row; the whole scope's target is the Baise-wide row when the
scope is all of Baise and one exists, otherwise the sum of the scope's county targets (none
set: no target). `on_track` compares the share done with the share of the year gone by.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from jobmatch import vocabulary
from jobmatch.models import User
from matching.progress_models import (
    REPORTED_INDICATORS,
    CountyReport,
    Indicator,
    ProgressTarget,
)
from workers.models import LaborerStatus, StatusEvent

DAILY_DAYS = 7  # "reported daily, judged weekly": the last week, day by day

# indicator -> (status reached, extra filter on the laborer)
_EVENTS: dict[str, tuple[str, Q]] = {
    Indicator.REGISTERED: (LaborerStatus.REGISTERED, Q(from_status="")),
    Indicator.HIRED: (LaborerStatus.MATCHED, Q()),
    Indicator.TRANSFERRED: (LaborerStatus.DEPARTED, Q()),
    Indicator.EMPLOYED: (LaborerStatus.EMPLOYED, Q()),
    Indicator.POVERTY_ALLEVIATED_HIRED: (
        LaborerStatus.MATCHED,
        Q(laborer__poverty_alleviated=True),
    ),
    Indicator.HARD_TO_EMPLOY_HIRED: (
        LaborerStatus.MATCHED,
        Q(laborer__employment_difficulty=True),
    ),
}


@dataclass(frozen=True)
class TargetChange:
    indicator: str
    county: str | None
    target: int  # 0 removes the target
    note: str = ""


def progress_targets(*, year: int) -> list[ProgressTarget]:
    """The year's targets, each indicator's Baise-wide one before the counties'."""
    return list(
        ProgressTarget.objects.filter(year=year).order_by(
            "indicator", F("county_id").asc(nulls_first=True)
        )
    )


def progress_targets_set(
    *, actor: User, year: int, changes: list[TargetChange]
) -> list[ProgressTarget]:
    """Set (or with 0 remove) the year's targets named in `changes`; others stay."""
    with transaction.atomic():
        for change in changes:
            key = {"year": year, "indicator": change.indicator, "county_id": change.county}
            if change.target == 0:
                ProgressTarget.objects.filter(**key).delete()
                continue
            ProgressTarget.objects.update_or_create(
                **key,
                defaults={"target": change.target, "note": change.note, "updated_by": actor},
            )
    return progress_targets(year=year)


def county_reports_set(
    *, actor: User, county: str, day: date, figures: dict[str, int]
) -> list[CountyReport]:
    """Record a county's figures of one day (a figure given again replaces the earlier)."""
    with transaction.atomic():
        for indicator, count in figures.items():
            CountyReport.objects.update_or_create(
                county_id=county,
                date=day,
                indicator=indicator,
                defaults={"count": count, "reported_by": actor},
            )
    return list(CountyReport.objects.filter(county_id=county, date=day).order_by("indicator"))


def county_report_list(*, counties: set[str] | None, first: date | None, last: date | None) -> Any:
    reports = CountyReport.objects.select_related("reported_by").order_by(
        "-date", "county_id", "indicator"
    )
    if counties is not None:
        reports = reports.filter(county_id__in=counties)
    if first is not None:
        reports = reports.filter(date__gte=first)
    if last is not None:
        reports = reports.filter(date__lte=last)
    return reports


def _local_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


def _counts(
    indicator: str, first: date, last: date, counties: set[str] | None
) -> tuple[dict[str, int], dict[date, int]]:
    """Distinct laborers per county over [first, last], and per day over the last week (for
    a reported indicator: the sums of the counties' daily figures)."""
    week_first = max(first, last - timedelta(days=DAILY_DAYS - 1))
    if indicator in REPORTED_INDICATORS:
        reports = CountyReport.objects.filter(indicator=indicator, date__range=(first, last))
        if counties is not None:
            reports = reports.filter(county_id__in=counties)
        totals = reports.values_list("county_id").annotate(n=Sum("count")).order_by()
        days = (
            reports.filter(date__gte=week_first)
            .values_list("date")
            .annotate(n=Sum("count"))
            .order_by()
        )
        return dict(totals), dict(days)
    to_status, extra = _EVENTS[indicator]
    start, end = _local_bounds(first, last)
    events = StatusEvent.objects.filter(extra, to_status=to_status, at__gte=start, at__lt=end)
    if counties is not None:
        events = events.filter(laborer__county_id__in=counties)
    by_county = dict(
        events.values_list("laborer__county_id")
        .annotate(n=Count("laborer_id", distinct=True))
        .order_by()
    )
    week_start, _ = _local_bounds(week_first, last)
    by_day = dict(
        events.filter(at__gte=week_start)
        .annotate(day=TruncDate("at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values_list("day")
        .annotate(n=Count("laborer_id", distinct=True))
        .order_by()
    )
    return by_county, by_day


def _share(done: int, target: int | None) -> float | None:
    return round(done / target, 4) if target else None


def progress_report(*, as_of: date, counties: set[str] | None) -> dict[str, Any]:
    """Every indicator in the year of `as_of`, up to that day, for `counties` (None: all)."""
    year = as_of.year
    first = date(year, 1, 1)
    days_in_year = 366 if calendar.isleap(year) else 365
    year_elapsed = round(((as_of - first).days + 1) / days_in_year, 4)
    names = vocabulary.get().counties
    scope = sorted(names) if counties is None else sorted(counties)
    targets: dict[tuple[str, str | None], int] = {
        (t.indicator, t.county_id): t.target for t in ProgressTarget.objects.filter(year=year)
    }
    week = [as_of - timedelta(days=d) for d in range(DAILY_DAYS - 1, -1, -1)]
    week = [day for day in week if day >= first]

    indicators = []
    per_county: dict[str, dict[str, Any]] = defaultdict(dict)
    for key, label in Indicator.choices:
        by_county, by_day = _counts(key, first, as_of, counties)
        county_targets = [targets[(key, c)] for c in scope if (key, c) in targets]
        if counties is None and (key, None) in targets:
            target: int | None = targets[(key, None)]
        else:
            target = sum(county_targets) if county_targets else None
        done = sum(by_county.get(c, 0) for c in scope)
        share = _share(done, target)
        indicators.append(
            {
                "key": key,
                "name": str(label),
                "done": done,
                "target": target,
                "share": share,
                "on_track": None if share is None else share >= year_elapsed,
                "on_date": by_day.get(as_of, 0),
                "last_7_days": [
                    {"date": day.isoformat(), "count": by_day.get(day, 0)} for day in week
                ],
            }
        )
        for code in scope:
            county_done = by_county.get(code, 0)
            county_target = targets.get((key, code))
            per_county[code][key] = {
                "done": county_done,
                "target": county_target,
                "share": _share(county_done, county_target),
            }
    return {
        "date": as_of.isoformat(),
        "year": year,
        "year_elapsed": year_elapsed,
        "counties": None if counties is None else scope,
        "indicators": indicators,
        "by_county": [
            {"county": code, "name": names[code], "indicators": per_county[code]} for code in scope
        ],
    }
