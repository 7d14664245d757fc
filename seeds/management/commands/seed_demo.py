"""`manage.py seed_demo`: deterministic demo data and one demo account per role."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone

from employers.models import Vacancy, VacancyStatus
from jobmatch.api.errors import ApplicationError
from matching.progress_models import Indicator, ProgressTarget
from matching.services.suggestions import laborer_suggestions_compute, vacancy_candidates_compute
from seeds import demo
from workers.models import Laborer

# Demo-sized data gets its rankings at once; bench-sized data (millions) would take long.
RANKINGS_AUTO_LIMIT = 20_000


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def store_rankings() -> tuple[int, int]:
    """Suggestions of every laborer and candidates of every open vacancy, as the save hooks
    store them for one laborer or vacancy at a time."""
    laborer_ids = list(Laborer.objects.order_by("pk").values_list("pk", flat=True))
    suggestions = 0
    for start in range(0, len(laborer_ids), 5000):  # open vacancies loaded once per chunk
        suggestions += laborer_suggestions_compute(laborer_ids=laborer_ids[start : start + 5000])
    candidates = sum(
        vacancy_candidates_compute(vacancy_id=pk)
        for pk in Vacancy.objects.filter(status=VacancyStatus.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return suggestions, candidates


# Illustrative year targets for the demo (no sourced county figures exist): shares of each
# county's registered laborers, as a county leader might be set them.
DEMO_TARGET_SHARES = {
    Indicator.REGISTERED: 1.2,
    Indicator.HIRED: 0.6,
    Indicator.TRANSFERRED: 0.4,
    Indicator.EMPLOYED: 0.35,
}


# Baise-wide targets of the official indicators, implied by the source article (done by the
# end of June 2022 over the share of the year's target it represents).
ARTICLE_TARGETS = {
    Indicator.RURAL_LABOUR_OUT: 1_481_600,
    Indicator.URBAN_NEW_JOBS: 16_000,
    Indicator.UNEMPLOYED_REEMPLOYED: 3_500,
    Indicator.HARD_TO_EMPLOY_REEMPLOYED: 1_500,
}


def store_demo_targets(year: int) -> int:
    """The demo year's targets, unless the year already has targets: illustrative ones by
    county, and the article's Baise-wide ones of the official indicators."""
    if ProgressTarget.objects.filter(year=year).exists():
        return 0
    laborers = dict(Laborer.objects.values_list("county_id").annotate(n=Count("pk")).order_by())
    rows = [
        ProgressTarget(
            year=year,
            indicator=indicator,
            county_id=county,
            target=max(1, round(n * share)),
            note="演示数据,示例目标",
        )
        for county, n in sorted(laborers.items())
        for indicator, share in DEMO_TARGET_SHARES.items()
    ]
    rows += [
        ProgressTarget(
            year=year,
            indicator=indicator,
            target=target,
            note="百色2022年目标(据2022年6月进度推算)",
        )
        for indicator, target in ARTICLE_TARGETS.items()
    ]
    ProgressTarget.objects.bulk_create(rows)
    return len(rows)


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Seed deterministic demo data: laborers (with households, skills, preferences), "
        "employers and vacancies, and one demo account per role (password "
        f"{demo.DEMO_PASSWORD!r}). The same --seed on an empty database gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--laborers", type=_non_negative, default=demo.DEFAULT_LABORERS, metavar="N"
        )
        parser.add_argument(
            "--vacancies", type=_non_negative, default=demo.DEFAULT_VACANCIES, metavar="M"
        )
        parser.add_argument(
            "--openings",
            type=_non_negative,
            default=None,
            metavar="K",
            help=f"openings in all (default: {demo.OPENINGS_PER_VACANCY} per vacancy, the "
            "cooperation's 544,400 openings over 20,000 vacancies)",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, metavar="S")
        parser.add_argument(
            "--rankings",
            choices=["auto", "yes", "no"],
            default="auto",
            help="store every laborer's suggestions and every vacancy's candidates, as the "
            "save hooks would (bulk seeding bypasses them); auto: only up to "
            f"{RANKINGS_AUTO_LIMIT:,} laborers",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if laborers exist (still list the demo accounts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Laborer.objects.exists():
            self.stdout.write("Laborers already registered: nothing seeded.")
            self._print_accounts(demo.demo_accounts())
            return
        try:
            summary = demo.generate(
                laborers=options["laborers"],
                vacancies=options["vacancies"],
                openings=options["openings"],
                seed=options["seed"],
            )
            accounts = demo.demo_accounts_ensure(employer_uscc=summary.demo_employer_uscc)
        except (ValueError, ApplicationError) as exc:
            raise CommandError(str(exc)) from None
        if options["rankings"] == "yes" or (
            options["rankings"] == "auto" and summary.laborers <= RANKINGS_AUTO_LIMIT
        ):
            started = time.perf_counter()
            suggestions, candidates = store_rankings()
            self.stdout.write(
                f"Stored {suggestions:,} suggestions and {candidates:,} candidates in "
                f"{time.perf_counter() - started:.1f} s."
            )
        targets = store_demo_targets(timezone.localdate().year)
        if targets:
            self.stdout.write(f"Stored {targets} targets for this year.")
        self.stdout.write(
            f"Seeded in {summary.seconds:.1f} s ({summary.method}; laborers "
            f"{summary.laborer_seconds:.1f} s):\n"
            f"  {summary.laborers:,} laborers ({summary.household_members:,} in "
            f"{summary.households:,} households), {summary.skills:,} skills, "
            f"{summary.preferred_destinations:,} preferred destinations, "
            f"{summary.status_events:,} status events\n"
            f"  {summary.employers:,} employers, {summary.vacancies:,} vacancies with "
            f"{summary.openings:,} openings"
        )
        self._print_accounts(accounts)

    def _print_accounts(self, accounts: list[demo.DemoAccount]) -> None:
        if not accounts:
            self.stdout.write("No demo accounts.")
            return
        self.stdout.write("\nDemo accounts (change the passwords before any real use):")
        self.stdout.write(
            _table(
                ("username", "role", "password", "sees"),
                [(a.username, a.role, a.password, a.sees) for a in accounts],
            )
        )
