"""Benchmark of the matching core on synthetic data (no database).

    python -m matching.core.bench --laborers 1460000 --vacancies 20000 --openings 544400

Times candidate generation, the round (relaxation, stranding, households), the
interactive rankings and the first-come greedy baseline, and reports peak memory
(ru_maxrss) after the round and after the baseline. Wall times depend on machine load;
CPU time (process_time, all threads) is printed next to them.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence

import numpy as np

from matching.core import scoring
from matching.core.assignment import greedy_baseline, solve_round
from matching.core.synthetic import make_instance
from matching.core.types import Policy


def _peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _Timer:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> _Timer:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:8.2f} s wall {self.cpu:8.2f} s cpu"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; prints a report, returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laborers", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--openings", type=int, default=None, help="default: real ratio")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--households", type=float, default=0.10, help="share of laborers")
    parser.add_argument("--k", type=int, default=None, help="candidates per laborer")
    parser.add_argument("--workers", type=int, default=None, help="threads (default 2)")
    parser.add_argument("--no-greedy", action="store_true", help="skip the baseline")
    args = parser.parse_args(argv)

    policy = Policy() if args.k is None else Policy(k=args.k)
    with _Timer() as t_gen:
        inst = make_instance(
            args.laborers,
            args.vacancies,
            args.openings,
            seed=args.seed,
            household_share=args.households,
        )
    lab, vac = inst.lab, inst.vac
    print(
        f"instance: {len(lab):,} laborers, {len(vac):,} vacancies, "
        f"{int(vac.openings.sum()):,} openings, {len(inst.households):,} households "
        f"({int((lab.household >= 0).sum()):,} members)   [generated in{t_gen}]"
    )

    with _Timer() as t_cand:
        cand = scoring.generate_candidates(
            lab, vac, inst.vocab, policy, k=policy.k, workers=args.workers
        )
    print(f"candidates:  {t_cand}   {len(cand):,} pairs (k={policy.k})")

    with _Timer() as t_round:
        res = solve_round(
            lab, vac, inst.households, inst.vocab, policy, workers=args.workers, candidates=cand
        )
    stages = "  ".join(
        f"{name} {res.stats[name]:.2f}"
        for name in ("solve", "stranding", "households", "repair", "parts")
    )
    stages += (
        f"; OR-Tools flow {res.stats['flow']:.2f} in all, "
        f"{res.stats['flow_first']:.2f} in the first solve"
    )
    print(f"round:       {t_round}   ({stages})")
    print(
        f"total candidates + round: {t_cand.wall + t_round.wall:.2f} s wall, "
        f"{t_cand.cpu + t_round.cpu:.2f} s cpu; peak memory {_peak_mb():,.0f} MB"
    )
    print(
        f"placed {res.assigned:,} (relaxation {res.upper_bound_assigned:,}), total score "
        f"{res.total_score:,}, upper bound {res.upper_bound:,}, gap {100 * res.gap:.3f}%; "
        f"households placed {res.households_placed:,}, left out {res.households_unplaced:,}; "
        f"stranding passes {int(res.stats['stranding_passes'])} "
        f"(+{res.stranding_pairs_added:,} pairs)"
    )
    if res.household_bound_later is not None:
        with _Timer() as t_bound:
            priced = res.household_bound_later()
        res.household_bound_later = None  # frees the pairs before the greedy baseline
        gap = (priced.bound - res.total_score) / priced.bound if priced.bound else 0.0
        print(
            f"household bound (after the round): {t_bound}   {priced.bound:,}, gap {100 * gap:.3f}%"
        )

    rng = np.random.default_rng(args.seed)
    one = lab.take(rng.integers(0, len(lab), 1))
    with _Timer() as t_top_v:
        for _ in range(20):
            scoring.top_vacancies_for_laborer(one, vac, inst.vocab, policy, n=10)
    print(
        f"top_vacancies_for_laborer (vs {len(vac):,} vacancies): {1000 * t_top_v.wall / 20:.1f} ms"
    )
    j = int(np.argmax(vac.openings))
    with _Timer() as t_top_l:
        for _ in range(3):
            scoring.top_laborers_for_vacancy(lab, vac, inst.vocab, policy, j, n=50)
    print(f"top_laborers_for_vacancy (vs {len(lab):,} laborers): {1000 * t_top_l.wall / 3:.0f} ms")

    if not args.no_greedy:
        with _Timer() as t_greedy:
            greedy = greedy_baseline(lab, vac, inst.vocab, policy, cand, workers=args.workers)
        ratio = res.total_score / greedy.total_score if greedy.total_score else float("nan")
        print(
            f"greedy (first come, id order, households ignored): {t_greedy}   placed "
            f"{greedy.assigned:,}, total score {greedy.total_score:,}; "
            f"optimal/greedy total score {ratio:.4f}; peak memory {_peak_mb():,.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
