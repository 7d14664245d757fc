"""BENCHMARKS.md from the results of `run_benchmarks`: targets next to what was measured."""

from __future__ import annotations

from typing import Any


def _ok(passed: bool | None) -> str:
    if passed is None:
        return "n/a"
    return "met" if passed else "**not met**"


def _get(d: dict[str, Any], *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def render(results: dict[str, Any], options: dict[str, Any]) -> str:
    m = results["machine"]
    reg = results.get("registry", {})
    big = results.get("matching", {})
    small = results.get("matching_small", {})
    tr = results.get("transfers", {})
    rows: list[tuple[str, str, str, str]] = []

    imp = _get(reg, "import", "first_import_seconds")
    rows.append(
        ("Import a 10,000-row sheet", "< 20 s", f"{imp} s", _ok(imp is not None and imp < 20))
    )
    p95 = _get(reg, "list", "p95_ms")
    rows.append(
        (
            f"Laborer list p95, {reg.get('laborers_in_database', 0):,} laborers",
            "< 50 ms",
            f"{p95} ms (p50 {_get(reg, 'list', 'p50_ms')} ms)",
            _ok(p95 is not None and p95 < 50),
        )
    )
    for label, res, target in (
        (f"Round, {small.get('laborers_in_database', 0):,} laborers, end to end", small, 10),
        (f"Round, {big.get('laborers_in_database', 0):,} laborers, end to end", big, 90),
    ):
        seconds = _get(res, "round", "seconds_end_to_end")
        rows.append(
            (label, f"< {target} s", f"{seconds} s", _ok(seconds is not None and seconds < target))
        )
    sugg = _get(big, "interactive", "laborer_suggestions_seconds")
    n_open = _get(big, "interactive", "open_vacancies", default=0)
    rows.append(
        (
            f"A laborer's suggestions, {n_open:,} open vacancies",
            "< 1 s",
            f"{sugg} s",
            _ok(sugg is not None and sugg < 1),
        )
    )
    cand = _get(big, "interactive", "vacancy_candidates_seconds")
    rows.append(("A vacancy's candidates, whole pool", "reported", f"{cand} s", "n/a"))
    mem = big.get("peak_memory_mib_after_round")
    rows.append(
        (
            "Round at full scale, peak memory",
            "< 4 GB",
            f"{mem} MiB",
            _ok(mem is not None and mem < 4096),
        )
    )
    gap = _get(big, "round", "gap")
    gap_text = f"{gap:.3%}" if gap is not None else "?"
    rows.append(
        (
            "Gap to the relaxation's upper bound (households ignored), full scale",
            "< 0.5%",
            gap_text,
            _ok(gap is not None and gap < 0.005),
        )
    )
    for res in (small, big):
        own_gap = _get(res, "round", "household_gap")
        text = f"{own_gap:.3%}" if own_gap is not None else "not computed"
        if _get(res, "round", "stages", "priced_after_done"):
            text += (
                f" (computed after the run was done, in "
                f"{_get(res, 'round', 'stages', 'priced_seconds')} s)"
            )
        rows.append(
            (
                "Gap to the bound that prices households, over the round's candidate pairs, "
                f"{res.get('laborers_in_database', 0):,} laborers",
                "reported",
                text,
                "n/a",
            )
        )
    samples = results.get("households", [])
    if samples:
        every = [x.get("priced_gap_all_pairs") for x in samples]
        own = [x["round"].get("household_gap") for x in samples]

        def pct(values: list[float | None]) -> str:
            return ", ".join("?" if v is None else f"{v:.2%}" for v in values)

        rows.append(
            (
                "Gap to the bound that prices households, over every feasible pair, "
                f"{len(samples)} sample{'s' if len(samples) != 1 else ''}",
                "< 0.5%",
                f"{pct(every)} (over the round's pairs: {pct(own)})",
                _ok(None not in every and max(v for v in every if v is not None) < 0.005),
            )
        )
        least = [x["least_gap"] for x in samples]
        below = [x["round_below_bound"] for x in samples]
        rows.append(
            (
                "Least gap any household-keeping assignment can have, "
                f"{len(samples)} sample{'s' if len(samples) != 1 else ''} of "
                f"{samples[0]['laborers']:,} laborers (exact bound)",
                "reported",
                ", ".join(f"{v:.2%}" for v in least)
                + " (the round's: "
                + ", ".join(f"{x['round']['gap']:.2%}" for x in samples)
                + ")",
                "n/a",
            )
        )
        rows.append(
            (
                "Round below the best household bound (CP-SAT's or the priced one), same samples",
                "reported",
                ", ".join(f"{v:.2%}" for v in below),
                "n/a",
            )
        )
    solve = _get(big, "round", "stages", "solve")
    alone = _get(big, "baseline", "ortools_alone_on_candidates_seconds")
    solve_ok = solve is not None and bool(alone) and solve <= 1.5 * alone
    rows.append(
        (
            "Solve stage vs OR-Tools alone on the graph",
            "<= 1.5x",
            f"{solve} s vs {alone} s",
            _ok(solve_ok),
        )
    )
    for label, res in (("100k", small), ("full scale", big)):
        ratio = _get(res, "baseline", "round_over_greedy_total_score")
        placed = _get(res, "round", "assigned")
        relaxed = _get(res, "round", "stages", "upper_bound_assigned")
        greedy = _get(res, "baseline", "greedy_assigned")
        rows.append(
            (
                f"Round vs first-come greedy, {label}",
                "reported",
                f"total score ratio {ratio}; placed {placed} with households kept "
                f"({relaxed} without household rules) vs greedy {greedy} (households "
                "ignored)",
                "n/a",
            )
        )
    core = tr.get("core", {})
    trips_text = f"{core.get('trips')} / {core.get('lower_bound_trips')} = {core.get('ratio')}"
    ratio_ok = core.get("ratio") is not None and core["ratio"] <= 1.03
    rows.append(("Coaches / lower_bound_trips", "<= 1.03", trips_text, _ok(ratio_ok)))
    strongest = core.get("strongest_lower_bound")
    rows.append(
        (
            "Coaches / strongest valid lower bound (windows, stop limits)",
            "reported",
            f"{core.get('trips')} / {strongest} = {core.get('ratio_to_strongest')}",
            "n/a",
        )
    )
    rows.append(
        (
            "Coaches at the 2022 season's 34 riders per coach, same riders",
            "reported",
            f"{core.get('coaches_at_34_per_coach')} then, {core.get('trips')} planned "
            f"({core.get('riders_per_coach')} riders per coach)",
            "n/a",
        )
    )
    db = tr.get("database", {})
    plan_s = db.get("plan_seconds_end_to_end")
    plan_text = f"{plan_s} s (core alone {core.get('seconds')} s)"
    rows.append(
        (
            "Coach plan, end to end in PostgreSQL",
            "< 30 s",
            plan_text,
            _ok(plan_s is not None and plan_s < 30),
        )
    )
    seated_text = f"{core.get('seated')} seated, {core.get('unseated')} with a reason"
    rows.append(
        (
            "Every rider seated or given a reason",
            "all",
            seated_text,
            _ok(core.get("rule_violations") == 0),
        )
    )

    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python manage.py run_benchmarks --output BENCHMARKS.md` on a",
        "scratch PostgreSQL database, every benchmark in its own process). Do not edit by hand.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB",
        f"- {m['os']}, Python {m['python']}, {m['database']}",
        f"- measured {m['at']}; whole run {results.get('total_minutes')} minutes",
        "",
        "## Targets",
        "",
        "| what | target | measured | |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "## Details",
        "",
    ]
    for title, key in (
        ("Registry (`bench_registry`)", "registry"),
        ("Matching round, small (`bench_matching`)", "matching_small"),
        ("Households, exact bound on samples (`bench_households`)", "households"),
        ("Matching round, full scale (`bench_matching`)", "matching"),
        ("Coach planning (`bench_transfers`)", "transfers"),
    ):
        res = results.get(key, {})
        if isinstance(res, dict):
            res = {k: v for k, v in res.items() if k != "machine"}
        out += [f"### {title}", "", "```json", _json(res), "```", ""]
    return "\n".join(out)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=1, default=str)
