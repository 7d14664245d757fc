"""Matching round benchmark on data from the seed generator, in PostgreSQL.

    python manage.py bench_matching --laborers 1460000 --vacancies 20000 --openings 544400

Seeds the laborers and vacancies (unless `--no-seed`: use what the database holds), then
runs one round exactly as the Celery task does (`round_execute`: load, candidates and
scores, solve, households, write), printing each stage's seconds and the peak memory.
`--greedy` also computes a first-come greedy baseline on the same pool (laborers in id
order take their best vacancy still open) and the ratio of the totals; `--flow-only`
re-solves the round's candidate graph with OR-Tools alone, to compare with the solve stage.
It also times what the next round adds: deleting these proposals (rolled back).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from employers.models import Vacancy
from matching.core import assignment, scoring
from matching.models import MatchingRun
from matching.services.loading import load_laborers, load_vacancies, vocabulary_arrays
from matching.services.policy import policy_core, policy_current
from matching.services.rounds import delete_proposals, round_execute
from matching.services.suggestions import laborer_suggestions_compute, vacancy_candidates_compute
from seeds.bench import emit, machine, peak_memory_mib
from workers.models import Laborer


class Command(BaseCommand):
    help = "Benchmark one matching round at scale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--laborers", type=int, default=1_460_000)
        parser.add_argument("--vacancies", type=int, default=20_000)
        parser.add_argument("--openings", type=int, default=544_400)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--no-seed", action="store_true", help="use the laborers already there")
        parser.add_argument("--greedy", action="store_true", help="also run the greedy baseline")
        parser.add_argument("--json-out")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seed"]:
            call_command(
                "seed_demo",
                laborers=options["laborers"],
                vacancies=options["vacancies"],
                openings=options["openings"],
                seed=options["seed"],
            )
        MatchingRun.objects.filter(active=True).update(active=False, status="failed", error="bench")
        policy = policy_current()
        run = MatchingRun.objects.create(policy=policy)
        started = time.perf_counter()
        round_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
        run.refresh_from_db()
        result: dict[str, Any] = {
            "machine": machine(),
            "laborers_in_database": Laborer.objects.count(),
            "round": {
                "status": run.status,
                "error": run.error,
                "laborers": run.laborers,
                "openings": run.openings,
                "candidate_pairs": run.candidate_pairs,
                "assigned": run.assigned,
                "total_score": run.total_score,
                "upper_bound": run.upper_bound,
                "gap": run.gap,
                "household_bound": run.household_bound,
                "household_gap": run.household_gap,
                # From the task's start to the run marked done with its proposals
                # written; a round too large to wait for its household bound computes it
                # after that, within the task's whole time.
                "seconds_end_to_end": round(run.seconds, 2) if run.seconds else None,
                "task_seconds": round(seconds, 2),
                "stages": run.stats,
            },
            "peak_memory_mib_after_round": peak_memory_mib(),
        }
        if run.status == "done":
            result["round"]["next_round_deleting_these_proposals_seconds"] = self._replacing(run)
        result["interactive"] = self._interactive()
        if options["greedy"] and run.status == "done":
            result["baseline"] = self._baseline(run, policy)
        emit(result, options["json_out"])

    @staticmethod
    def _replacing(run: MatchingRun) -> float:
        """What the next round adds to its write: deleting this round's proposals, with
        the foreign-key checks that otherwise run at its commit (rolled back here)."""

        class _RolledBack(Exception):
            pass

        t = time.perf_counter()
        try:
            with transaction.atomic():
                delete_proposals(run)
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                seconds = time.perf_counter() - t
                raise _RolledBack
        except _RolledBack:
            pass
        return round(seconds, 2)

    def _interactive(self) -> dict[str, Any]:
        """What the save hooks' tasks take: one laborer's suggestions against every open
        vacancy, one vacancy's candidates among every laborer a round could place."""
        laborer_id = Laborer.objects.order_by("-id").values_list("id", flat=True).first()
        vacancy = Vacancy.objects.filter(status="open").order_by("-openings_left").first()
        out: dict[str, Any] = {"open_vacancies": Vacancy.objects.filter(status="open").count()}
        if laborer_id is not None:
            t = time.perf_counter()
            laborer_suggestions_compute(laborer_ids=[laborer_id])
            out["laborer_suggestions_seconds"] = round(time.perf_counter() - t, 3)
        if vacancy is not None:
            t = time.perf_counter()
            vacancy_candidates_compute(vacancy_id=vacancy.pk)
            out["vacancy_candidates_seconds"] = round(time.perf_counter() - t, 3)
        return out

    def _baseline(self, run: MatchingRun, policy_row: Any) -> dict[str, Any]:
        """The same pool as the round, first come first served, and OR-Tools alone."""
        policy = policy_core(policy_row)
        vocab, axes = vocabulary_arrays()
        lab, _ = load_laborers(axes)
        # The round's proposals took no openings (only accepted matches do): same vacancies.
        vac = load_vacancies(axes)
        t = time.perf_counter()
        candidates = scoring.generate_candidates(lab, vac, vocab, policy, policy.k)
        candidates_seconds = time.perf_counter() - t
        t = time.perf_counter()
        greedy = assignment.greedy_baseline(lab, vac, vocab, policy, candidates)
        greedy_seconds = time.perf_counter() - t
        # OR-Tools alone on the round's own first graph: its top-K lists are by score less
        # the sample's prices at Baise scale (the greedy's are by score: first come, best
        # score).
        price = assignment.round_prices(lab, vac, vocab, policy)
        if price is not None:
            candidates = scoring.generate_candidates(lab, vac, vocab, policy, policy.k, price=price)
        t = time.perf_counter()
        flow = assignment.assign(candidates, vac.openings, n_laborers=len(lab))
        flow_seconds = time.perf_counter() - t
        greedy_total = int(greedy.total_score)
        return {
            "greedy_assigned": int(greedy.assigned),
            "greedy_total_score": greedy_total,
            "round_over_greedy_total_score": round(run.total_score / greedy_total, 4)
            if greedy_total
            else None,
            "greedy_seconds": round(greedy_seconds, 2),
            "candidates_seconds": round(candidates_seconds, 2),
            "ortools_alone_on_candidates_seconds": round(flow_seconds, 2),
            "ortools_alone_assigned": int(flow.assigned),
        }
