"""Benchmark of coach planning on a generated season.

    python -m matching.core.transfers_bench --riders 36500

Without flags the season is the realistic one of `transfers_synthetic` (most hired laborers
home when the plan is made, a quarter available later, start dates over three weeks,
recruitment concentrated in one to three townships per vacancy and county).

Prints trips against the lower bound `lower_bound_trips` (riders / 53 per county and
city), the window-aware and stop-aware bounds the plan reports, and the strongest valid
bound we compute (`transfers_bounds`: pooling only inside riders' windows, per-point stop
limits, over the best set of disjoint day intervals - a few seconds, outside the plan's
time), with the ratio of trips to each; then seat use, riders per coach, riders without a
seat (by reason), planning seconds, and the coaches the same riders would need at the 2022
season's 34 riders per coach (36,500 laborers on 1,064 coaches). Every rule is re-checked
by `transfers_check.check_plan`; the exit status is 1 if any rule is broken. Flags change
the season, the rules or the search effort, to see what drives the coach count.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import sys
import time

from matching.core.transfers import plan_transfers, strongest_lower_bound
from matching.core.transfers_check import check_plan
from matching.core.transfers_synthetic import generate_season

SEED_RIDERS_PER_COACH = 36_500 / 1_064  # the season in the source article: about 34


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--riders", type=int, default=36_500)
    ap.add_argument("--seed", type=int, default=2026, help="season generator seed")
    ap.add_argument("--scatter", type=float, default=0.18, help="share recruited county-wide")
    ap.add_argument(
        "--slack-min",
        type=int,
        default=None,
        help="older availability model: fewest departure days a rider has (default 2)",
    )
    ap.add_argument(
        "--slack-max",
        type=int,
        default=None,
        help="older availability model: most departure days a rider has (default 6)",
    )
    ap.add_argument(
        "--later-share", type=float, default=0.25, help="share available after the first day"
    )
    ap.add_argument(
        "--lead-days", type=int, default=4, help="days the plan opens before the first start"
    )
    ap.add_argument("--households", type=float, default=0.10, help="share in households")
    ap.add_argument(
        "--seat-boarding", type=float, default=0.0, help="share boarding at the county seat"
    )
    ap.add_argument("--max-pickup-stops", type=int, default=3)
    ap.add_argument("--max-dropoff-stops", type=int, default=3)
    ap.add_argument("--max-departures", type=int, default=4, help="per pickup point per day")
    ap.add_argument("--effort", type=float, default=1.0, help="search effort (0: no search)")
    ap.add_argument("--workers", type=int, default=2, help="processes for the search")
    ap.add_argument(
        "--exact-time", type=float, default=1.0, help="CP-SAT time per small group (0: off)"
    )
    ap.add_argument(
        "--no-bound", action="store_true", help="skip the strongest (slower) lower bound"
    )
    ap.add_argument("--json", action="store_true", help="print the full stats as JSON")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    season = generate_season(
        args.riders,
        seed=args.seed,
        scatter=args.scatter,
        slack_days=(args.slack_min or 2, args.slack_max or 6)
        if args.slack_min is not None or args.slack_max is not None
        else None,
        later_share=args.later_share,
        lead_days=args.lead_days,
        household_share=args.households,
        seat_boarding=args.seat_boarding,
    )
    params = dataclasses.replace(
        season.params,
        max_pickup_stops=args.max_pickup_stops,
        max_dropoff_stops=args.max_dropoff_stops,
        max_departures_per_pickup_per_day=args.max_departures,
        search_effort=args.effort,
        search_workers=args.workers,
        exact_time=args.exact_time,
    )
    gen_s = time.perf_counter() - t
    t, cpu, cpu_all = time.perf_counter(), time.process_time(), _cpu_with_children()
    plan = plan_transfers(season.riders, season.points, params)
    plan_s, plan_cpu = time.perf_counter() - t, time.process_time() - cpu
    plan_cpu_all = _cpu_with_children() - cpu_all
    t = time.perf_counter()
    problems = check_plan(plan, season.riders, season.points, params)
    check_s = time.perf_counter() - t
    t = time.perf_counter()
    strongest = (
        None if args.no_bound else strongest_lower_bound(plan, season.riders, season.points, params)
    )
    bound_s = time.perf_counter() - t

    seated = plan.stats["seated"]
    trips = len(plan.trips)
    in_households = sum(1 for r in season.riders if r.household is not None)
    lines = {
        "riders": len(season.riders),
        "riders in households": in_households,
        "plan window": f"{season.params.from_date} .. {season.params.to_date}",
        "trips": trips,
        "lower_bound_trips": plan.lower_bound_trips,
        "ratio": round(trips / plan.lower_bound_trips, 4) if plan.lower_bound_trips else None,
        "window-aware lower bound": plan.stats["window_lower_bound"],
        "stop-aware lower bound": plan.stats["stop_aware_lower_bound"],
        "trips / stop-aware lower bound": round(trips / plan.stats["stop_aware_lower_bound"], 4)
        if plan.stats["stop_aware_lower_bound"]
        else None,
        "strongest valid lower bound": strongest,
        "trips / strongest valid lower bound": round(trips / strongest, 4) if strongest else None,
        "seat utilization": plan.seat_utilization,
        "riders per coach": round(seated / trips, 2) if trips else 0,
        "coaches at the seed's 34 riders/coach": math.ceil(seated / SEED_RIDERS_PER_COACH),
        "seated": seated,
        "unseated": len(plan.unseated),
        "cost (yuan)": plan.stats["cost_yuan"],
        "coaches by type": plan.stats["coaches_by_type"],
        "night stops": plan.stats["night_stops"],
        "rider hours on board (mean)": round(plan.stats["rider_hours"] / seated, 2)
        if seated
        else 0,
        "seconds (plan, wall)": round(plan_s, 2),
        "seconds (plan, CPU of this process)": round(plan_cpu, 2),
        # The search runs in forked workers: their CPU counts too (wall time is noisy when
        # other jobs share the two cores).
        "seconds (plan, CPU with search workers)": round(plan_cpu_all, 2),
        "seconds (generate, check, bound)": (
            round(gen_s, 2),
            round(check_s, 2),
            round(bound_s, 2),
        ),
        "search: coaches removed, evaluations": (
            plan.stats.get("search_coaches_removed", 0),
            plan.stats.get("search_evaluations", 0),
        ),
        "of which by the CP-SAT re-packing": plan.stats.get("exact_coaches_removed", 0),
        "CP-SAT groups skipped (plan ran late)": plan.stats.get("exact_skipped_for_time", 0),
        "search workers, budget hit": (
            plan.stats.get("search_workers", 0),
            bool(plan.stats.get("budget_hit", 0)),
        ),
        "rule violations": len(problems),
    }
    for key, value in lines.items():
        print(f"{key:>40}: {value}")
    reasons: dict[str, int] = {}
    for reason in plan.unseated.values():
        head = reason.split(":")[0]
        reasons[head] = reasons.get(head, 0) + 1
    for head, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"{'unseated: ' + head[:60]:>40}: {n}")
    for problem in problems[:20]:
        print("VIOLATION", problem)
    if args.json:
        print(json.dumps(plan.stats, indent=1, ensure_ascii=False, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
