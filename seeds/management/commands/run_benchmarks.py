"""`make bench`: every benchmark in turn on a scratch PostgreSQL database, then BENCHMARKS.md.

    python manage.py run_benchmarks --output BENCHMARKS.md

Each benchmark runs in its own process (so peak memory is its own) against the database
of DATABASE_URL, which it fills: point it at a scratch database (the Makefile creates
`jobmatch_bench` afresh). Steps:

1. 100,000 laborers (with vacancies in proportion): a matching round end to end.
2. Samples of 5,000 laborers (vacancies in proportion), one per seed: the round against
   the exact household bound (`bench_households`).
3. Up to 1,000,000 laborers: laborer list latency and a 10,000-row sheet import.
4. Up to 1,460,000 laborers, 20,000 vacancies, 544,400 openings: a matching round.
5. A generated season of 36,500 riders: coach planning, core and end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from seeds.bench import machine


def _run(args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    command = [sys.executable, "manage.py", *args, "--json-out", path]
    print("+", " ".join(command[1:]), flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    result = json.loads(Path(path).read_text(encoding="utf-8"))
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    Path(path).unlink()
    return result


def _truncate_people() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE matching_notification, matching_seat, matching_tripstop, matching_tripevent, "
            "matching_trip, matching_transferplan, matching_matchevent, matching_match, "
            "matching_suggestion, matching_candidate, matching_matchingrun, workers_statusevent, "
            "workers_laborerskill, workers_laborer_preferred_destinations, workers_laborer, "
            "workers_household, employers_vacancy, employers_employeraccount, employers_employer "
            "RESTART IDENTITY CASCADE"
        )


def _in_proportion(laborers: int, options: dict[str, Any]) -> tuple[int, int]:
    """(vacancies, openings) for `laborers`, in the full scale's proportions."""
    ratio = laborers / options["laborers"]
    vacancies = max(1, round(options["vacancies"] * ratio))
    return vacancies, max(vacancies, round(options["openings"] * ratio))


class Command(BaseCommand):
    help = "Run every benchmark and write BENCHMARKS.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default="BENCHMARKS.md")
        parser.add_argument("--laborers", type=int, default=1_460_000)
        parser.add_argument("--list-laborers", type=int, default=1_000_000)
        parser.add_argument("--small-laborers", type=int, default=100_000)
        parser.add_argument("--vacancies", type=int, default=20_000)
        parser.add_argument("--openings", type=int, default=544_400)
        parser.add_argument("--riders", type=int, default=36_500)
        parser.add_argument("--household-laborers", type=int, default=5_000)
        parser.add_argument(
            "--household-seeds", default="7,11,2026", help="one sample per seed (comma list)"
        )
        parser.add_argument("--household-time-limit", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise SystemExit("Benchmarks run on PostgreSQL (set DATABASE_URL).")
        started = time.perf_counter()
        results: dict[str, Any] = {"machine": machine()}
        small = options["small_laborers"]
        small_vacancies, small_openings = _in_proportion(small, options)

        _truncate_people()
        call_command(
            "seed_demo", laborers=small, vacancies=small_vacancies, openings=small_openings, seed=7
        )
        results["matching_small"] = _run(["bench_matching", "--no-seed", "--greedy"])

        # Samples small enough for an exact model: what households cost at best.
        sample = options["household_laborers"]
        sample_vacancies, sample_openings = _in_proportion(sample, options)
        results["households"] = []
        for seed in (int(s) for s in options["household_seeds"].split(",") if s.strip()):
            _truncate_people()
            call_command(
                "seed_demo",
                laborers=sample,
                vacancies=sample_vacancies,
                openings=sample_openings,
                seed=seed,
            )
            found = _run(["bench_households", "--time-limit", str(options["household_time_limit"])])
            results["households"].append({"seed": seed, **found["sample"]})

        _truncate_people()
        call_command(
            "seed_demo",
            laborers=options["list_laborers"],
            vacancies=options["vacancies"],
            openings=options["openings"],
            seed=2026,
        )
        results["registry"] = _run(["bench_registry"])
        call_command(
            "seed_demo",
            laborers=options["laborers"] - options["list_laborers"] - 10_000,
            vacancies=0,
            openings=0,
            seed=2027,
        )
        results["matching"] = _run(["bench_matching", "--no-seed", "--greedy"])
        _truncate_people()
        results["transfers"] = _run(["bench_transfers", "--riders", str(options["riders"])])
        results["total_minutes"] = round((time.perf_counter() - started) / 60, 1)
        Path(options["output"]).write_text(render(results, options), encoding="utf-8")
        print(f"wrote {options['output']}")


def render(results: dict[str, Any], options: dict[str, Any]) -> str:
    from seeds.bench_report import render as render_report

    return render_report(results, options)
