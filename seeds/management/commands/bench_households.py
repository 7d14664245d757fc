"""What keeping households together costs at best, on a sample of the seed data.

    python manage.py bench_households --time-limit 60

Loads the round's pool from the database as the round task does (every registered,
consenting laborer without an offered or accepted match; every open vacancy), runs the
round's numeric core on it (`solve_round`, nothing written), and then the exact model
over every feasible pair (`household_optimum`): the relaxation without household rules
and the best score of any assignment that keeps households together, with CP-SAT's
proven bound. Meant for samples of a few thousand laborers (`run_benchmarks` seeds
5,000); larger pools are refused.

`least_gap` = (round's upper_bound - score_bound) / upper_bound: no assignment that keeps
households together can report a smaller gap on this pool. `round_below_bound` =
(bound - round total) / bound with the tighter of CP-SAT's `score_bound` and the priced
bound over every pair: the most the round can be below the best.
`round.household_gap` is the round's own gap to the bound that prices households (over
its pairs); `priced_gap_all_pairs` the same over every feasible pair.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.core.assignment import solve_round
from matching.core.household_bound import household_optimum
from matching.services.loading import (
    load_laborers,
    load_vacancies,
    vocabulary_arrays,
    with_exclusions,
)
from matching.services.policy import policy_core, policy_current
from seeds.bench import emit, machine


def household_sample(time_limit_s: float, workers: int = 2) -> dict[str, Any]:
    """The round and the exact household bound on the pool the database holds."""
    policy = policy_core(policy_current())
    vocab, axes = vocabulary_arrays()
    lab, households = load_laborers(axes)
    vac = load_vacancies(axes)
    lab = with_exclusions(lab, vac)
    started = time.perf_counter()
    res = solve_round(lab, vac, households, vocab, policy)
    round_seconds = time.perf_counter() - started
    exact = household_optimum(
        lab, vac, households, vocab, policy, time_limit_s=time_limit_s, workers=workers
    )
    members = int((lab.household >= 0).sum())
    best_bound = min(exact.score_bound, exact.priced_bound)
    return {
        "laborers": len(lab),
        "household_members": members,
        "households": len(households),
        "vacancies": len(vac),
        "openings": int(vac.openings.sum()),
        "round": {
            "assigned": res.assigned,
            "total_score": res.total_score,
            "upper_bound": res.upper_bound,
            "upper_bound_assigned": res.upper_bound_assigned,
            "gap": round(res.gap, 5),
            "household_bound": res.household_bound,
            "household_gap": None if res.household_gap is None else round(res.household_gap, 5),
            "households_placed": res.households_placed,
            "seconds": round(round_seconds, 2),
        },
        "exact": exact.as_dict(),
        "least_gap": round((res.upper_bound - exact.score_bound) / res.upper_bound, 5)
        if res.upper_bound
        else 0.0,
        # The tighter of CP-SAT's proven bound and the priced one: both hold for every
        # household-keeping assignment of the pool.
        "round_below_bound": round((best_bound - res.total_score) / best_bound, 5)
        if best_bound
        else 0.0,
        "priced_gap_all_pairs": round(
            (exact.priced_bound - res.total_score) / exact.priced_bound, 5
        )
        if exact.priced_bound
        else 0.0,
    }


class Command(BaseCommand):
    help = "Exact household bound and the round on the (small) pool in the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT seconds")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--json-out")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sample = household_sample(options["time_limit"], options["workers"])
        except ValueError as exc:  # a pool too large for the exact model
            raise CommandError(str(exc)) from exc
        result = {"machine": machine(), "sample": sample}
        emit(result, options["json_out"])
