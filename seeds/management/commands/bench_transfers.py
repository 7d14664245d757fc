"""Coach planning benchmark on a generated season, in the core and through the database.

    python manage.py bench_transfers --riders 36500

1. The planner core alone on the season (`matching.core.transfers_synthetic`), every rule
   re-checked by `transfers_check.check_plan`.
2. The same season written to the database as accepted matches (laborers in their
   townships, households, employers and vacancies at the drop-off points), then the plan
   task's service end to end: load the riders, plan, write trips, stops and seats, set
   laborer statuses, send the seat messages (logging backend).

Meant for a scratch database (`make bench` uses one): it adds about `riders` laborers.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from employers.models import Employer, Vacancy, VacancyStatus
from jobmatch.bulk import writer_for_connection
from jobmatch.identifiers import USCC_ALPHABET, resident_id_check_character, uscc_check_character
from jobmatch.models import Destination
from matching.core.transfers import plan_transfers, strongest_lower_bound
from matching.core.transfers_check import check_plan
from matching.core.transfers_synthetic import generate_season
from matching.models import Match, MatchStatus, Seat, TransferPlan
from matching.services.transfers import DEFAULT_PARAMETERS, plan_execute
from seeds.bench import emit, machine, peak_memory_mib
from workers.models import Household, Laborer, LaborerStatus

SEED_RIDERS_PER_COACH = 36_500 / 1_064  # the 2022 season in the source article


def _uscc(n: int, region: str) -> str:
    body = ""
    for _ in range(9):
        body = USCC_ALPHABET[n % 31] + body
        n //= 31
    first17 = f"91{region}{body}"
    return first17 + uscc_check_character(first17)


class Command(BaseCommand):
    help = "Benchmark coach planning (core and end to end)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--riders", type=int, default=36_500)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--core-only", action="store_true")
        parser.add_argument("--json-out")

    def handle(self, *args: Any, **options: Any) -> None:
        first_start = timezone.localdate() + timedelta(days=10)
        started = time.perf_counter()
        season = generate_season(options["riders"], seed=options["seed"], first_start=first_start)
        generate_seconds = time.perf_counter() - started
        result: dict[str, Any] = {
            "machine": machine(),
            "riders": len(season.riders),
            "season": {
                "from_date": season.params.from_date,
                "to_date": season.params.to_date,
                "households": sum(1 for r in season.riders if r.household),
                "generate_seconds": round(generate_seconds, 2),
            },
        }
        started = time.perf_counter()
        plan = plan_transfers(season.riders, season.points, season.params)
        core_seconds = time.perf_counter() - started
        problems = check_plan(plan, season.riders, season.points, season.params)
        seated = len(season.riders) - len(plan.unseated)
        trips = len(plan.trips)
        reasons: dict[str, int] = {}
        for reason in plan.unseated.values():
            head = reason.split(": ")[0]  # "household H01050: ..." -> one key per household
            reasons[head] = reasons.get(head, 0) + 1
        # The strongest valid bound (windows, stop limits; a few seconds, outside the plan).
        bound_started = time.perf_counter()
        strongest = strongest_lower_bound(plan, season.riders, season.points, season.params)
        bound_seconds = time.perf_counter() - bound_started
        result["core"] = {
            "trips": trips,
            "lower_bound_trips": plan.lower_bound_trips,
            "ratio": round(trips / plan.lower_bound_trips, 4) if plan.lower_bound_trips else None,
            "bounds": {k: v for k, v in plan.stats.items() if "bound" in k},
            "strongest_lower_bound": strongest,
            "ratio_to_strongest": round(trips / strongest, 4) if strongest else None,
            "strongest_bound_seconds": round(bound_seconds, 2),
            "seat_utilization": round(plan.seat_utilization, 4),
            "riders_per_coach": round(seated / trips, 2) if trips else 0,
            "seated": seated,
            "unseated": len(plan.unseated),
            "unseated_reasons": reasons,
            "coaches_at_34_per_coach": math.ceil(seated / SEED_RIDERS_PER_COACH),
            "coaches_by_type": plan.stats.get("coaches_by_type"),
            "seconds": round(core_seconds, 2),
            "rule_violations": len(problems),
            "budget_hit": plan.stats.get("budget_hit"),
        }
        if not options["core_only"]:
            result["database"] = self._end_to_end(season)
        result["peak_memory_mib"] = peak_memory_mib()
        emit(result, options["json_out"])

    def _end_to_end(self, season: Any) -> dict[str, Any]:
        started = time.perf_counter()
        self._write_season(season)
        write_seconds = time.perf_counter() - started
        plan = TransferPlan.objects.create(
            from_date=season.params.from_date,
            to_date=season.params.to_date,
            parameters={**DEFAULT_PARAMETERS, "coach_types": ["large45", "large53", "medium35"]},
        )
        # 36,500 seat messages through the logging backend: keep them out of the output.
        logging.getLogger("jobmatch.sms").setLevel(logging.WARNING)
        started = time.perf_counter()
        plan_execute(plan_id=plan.pk)
        seconds = time.perf_counter() - started
        plan.refresh_from_db()
        return {
            "write_season_seconds": round(write_seconds, 2),
            "plan_status": plan.status,
            "error": plan.error,
            "riders": plan.riders,
            "seated": plan.seated,
            "seats_in_database": Seat.objects.filter(trip__plan=plan).count(),
            "unseated": len(plan.unseated),
            "trips": plan.trips,
            "lower_bound_trips": plan.lower_bound_trips,
            "seat_utilization": plan.seat_utilization,
            "plan_seconds_end_to_end": round(seconds, 2),
            "plan_seconds_recorded": plan.seconds,
        }

    @transaction.atomic
    def _write_season(self, season: Any) -> None:
        """Each rider becomes a laborer with an accepted match at a vacancy of the drop-off."""
        writer = writer_for_connection()
        now = timezone.now()
        dests = dict(Destination.objects.values_list("code", "city_id"))
        missing = sorted({r.dropoff for r in season.riders} - set(dests))
        if missing:
            raise ValueError(f"drop-off points unknown to the database: {missing[:5]}")
        dropoffs = sorted({r.dropoff for r in season.riders})
        taken = Employer.objects.count()
        employer_ids = writer.reserve_ids(Employer, len(dropoffs))
        employer_of = dict(zip(dropoffs, employer_ids.tolist(), strict=True))
        writer.write(
            Employer,
            [
                "id",
                "name",
                "uscc",
                "destination_id",
                "address",
                "contact_name",
                "contact_phone",
                "verified",
                "created_at",
                "updated_at",
            ],
            [
                (
                    eid,
                    f"基准测试工厂{code}",
                    _uscc(taken + i + 1, code[:6]),
                    code,
                    "",
                    "",
                    "",
                    True,
                    now,
                    now,
                )
                for i, (code, eid) in enumerate(employer_of.items())
            ],
        )
        groups: dict[tuple[str, date], int] = {}
        for r in season.riders:
            groups[(r.dropoff, r.start_date)] = groups.get((r.dropoff, r.start_date), 0) + 1
        keys = sorted(groups)
        vacancy_ids = writer.reserve_ids(Vacancy, len(keys))
        vacancy_of = dict(zip(keys, vacancy_ids.tolist(), strict=True))
        writer.write(
            Vacancy,
            [
                "id",
                "employer_id",
                "title",
                "occupation_id",
                "openings",
                "openings_left",
                "wage_min",
                "wage_max",
                "destination_id",
                "age_min",
                "age_max",
                "start_date",
                "end_date",
                "accommodation",
                "meals",
                "status",
                "created_at",
                "updated_at",
            ],
            [
                (
                    vid,
                    employer_of[code],
                    "普工",
                    "electronics_operator",
                    groups[(code, start)],
                    0,
                    4500,
                    6500,
                    code,
                    16,
                    60,
                    start,
                    None,
                    True,
                    True,
                    VacancyStatus.FILLED,
                    now,
                    now,
                )
                for (code, start), vid in vacancy_of.items()
            ],
        )
        household_keys = sorted({r.household for r in season.riders if r.household})
        household_ids = writer.reserve_ids(Household, len(household_keys))
        household_of = dict(zip(household_keys, household_ids.tolist(), strict=True))
        writer.write(
            Household,
            ["id", "keep_together", "created_at", "updated_at"],
            [(hid, Household.KeepTogether.SAME_CITY, now, now) for hid in household_ids.tolist()],
        )
        base = Laborer.objects.count()
        laborer_ids = writer.reserve_ids(Laborer, len(season.riders))
        rows = []
        for k, (r, lid) in enumerate(zip(season.riders, laborer_ids.tolist(), strict=True)):
            n = base + k
            birth = date(1985, 1, 1) + timedelta(days=n // 500)
            first17 = f"{r.county}{birth:%Y%m%d}{(n % 500) * 2 + 1:03d}"
            rows.append(
                (
                    lid,
                    f"乘客{n}",
                    first17 + resident_id_check_character(first17),
                    "male",
                    birth,
                    False,
                    f"139{n:08d}",
                    r.county,
                    r.pickup,
                    "",
                    None,
                    r.earliest_departure,
                    household_of.get(r.household),
                    False,
                    False,
                    False,
                    True,
                    LaborerStatus.MATCHED,
                    now,
                    now,
                )
            )
        writer.write(
            Laborer,
            [
                "id",
                "name",
                "id_number",
                "gender",
                "birth_date",
                "from_outside_baise",
                "phone",
                "county_id",
                "township_id",
                "village",
                "min_monthly_wage",
                "available_from",
                "household_id",
                "poverty_alleviated",
                "monitored_household",
                "employment_difficulty",
                "consent_to_share",
                "status",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        match_ids = writer.reserve_ids(Match, len(season.riders))
        writer.write(
            Match,
            [
                "id",
                "laborer_id",
                "vacancy_id",
                "score",
                "explanation",
                "status",
                "created_at",
                "updated_at",
            ],
            [
                (
                    mid,
                    lid,
                    vacancy_of[(r.dropoff, r.start_date)],
                    70,
                    "{}",
                    MatchStatus.ACCEPTED,
                    now,
                    now,
                )
                for r, lid, mid in zip(
                    season.riders, laborer_ids.tolist(), match_ids.tolist(), strict=True
                )
            ],
        )
        writer.finish([Employer, Vacancy, Household, Laborer, Match])
