"""`helmc plan`: the runs HELM would build for these entries, with helm-run's selection flags."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from helmc.app.options import Where, add_flags

    parser.add_argument("paths", nargs="*", metavar="PATH", help="conf files or folders (same as -c)")
    add_flags(parser, Where.PLAN)


def _diag_dicts(diags: list) -> list[dict[str, Any]]:
    from helmc.compiler.diagnostics import Diagnostic
    from helmc.compiler.emit.json import to_dict

    return [to_dict(d) for d in sorted(diags, key=Diagnostic.sort_key)]


def run(args: argparse.Namespace) -> int:
    from helmc.compiler.collector import gc_paused

    with gc_paused():  # held through the output too: see gc_paused
        return _plan(args)


def _plan(args: argparse.Namespace) -> int:
    from helmc.app.plan import plan as plan_of

    if not [*args.paths, *args.conf_paths, *args.conf_file] and not args.run_entries:
        args._parser.error("give a conf file (PATH or -c/--conf-paths) or --run-entries")
    if args.parallel_runs < 1:
        args._parser.error("--parallel-runs must be at least 1")
    if not args.estimate and args.prices is not None:
        args._parser.error("--prices prices the estimate: give --estimate too")
    result = plan_of(args)
    plan, traces = result.plan, result.traces
    if result.problem is not None:
        print(f"helmc plan: {result.problem}", file=sys.stderr)
        return result.exit_code
    if plan is None:
        from helmc.compiler.emit import emit

        emit(result.diagnostics, "json" if args.format == "json" else "text", sys.stdout)
        return result.exit_code
    if args.format == "json":
        out = plan.to_json()
        if result.estimates is not None:
            for run, e in zip(out["runs"], result.estimates):
                run["estimate"] = e.to_json() if e is not None else None
            out["estimate"] = result.totals
        out["diagnostics"] = _diag_dicts(result.diagnostics)
        if traces is not None:
            out["explain"] = [{"entry": _ref(t.entry), "steps": t.steps} for t in traces]
        from helmc.compiler.emit.json import write_compact

        write_compact(out, sys.stdout)  # json.dumps's bytes, in pieces
        sys.stdout.write("\n")
    else:
        _print_text(plan, result.diagnostics, traces, result.estimates, result.totals)
    return result.exit_code


def _ref(ref) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(ref)


def _print_text(plan, diagnostics: list, traces, estimates: list | None = None, totals: dict | None = None) -> None:
    from rich.markup import escape

    from helmc.compiler.emit import emit
    from helmc.compiler.emit.table import Column, console_for, print_table
    from helmc.compiler.emit.text import clean

    if diagnostics:
        emit(diagnostics, "text", sys.stderr)
    console = console_for(sys.stdout)
    columns = [Column("where"), Column("run name"), Column("model"), Column("deployment")]
    if estimates is not None:
        columns += [Column(c, justify="right") for c in ("requests", "prompt tok", "max compl tok", "cached", "USD")]
    rows = []
    for i, r in enumerate(plan.runs):
        e = r.entry
        # An unknown name shows what HELM builds the run from instead, marked `?`.
        what = ",".join(f"{k}={v}" for k, v in {**r.args, **r.expanders}.items() if k != "model")
        cells = [
            f"{e.path}:{e.line}:{e.column}",
            r.name if r.name is not None else f"? {r.run_spec_function}" + (f":{what}" if what else ""),
            r.model,
            r.model_deployment or "",
        ]
        if estimates is not None:
            cells += _estimate_cells(estimates[i])
        rows.append(cells)
    print_table(console, f"{len(plan.runs)} run(s)", columns, rows)
    if estimates is not None:
        _print_estimate_notes(console, [e for e in estimates if e is not None], totals or {})
    if any(r.name is None for r in plan.runs):
        console.print("?: HELM's run name is not known without running its run spec function (--build gives it); "
                      "shown instead: the function and arguments HELM builds the run from",
                      markup=False, highlight=False, soft_wrap=True)
    if plan.dropped:
        print_table(console, f"{len(plan.dropped)} dropped",
                    [Column("where"), Column("description"), Column("reason", wrap=True)],
                    [[f"{d.entry.path}:{d.entry.line}:{d.entry.column}", d.entry.description, d.reason]
                     for d in plan.dropped])
    if traces:
        for t in traces:
            where = escape(clean(f"{t.entry.path}:{t.entry.line}:{t.entry.column}"))
            console.print(f"[bold]{where}[/bold] {escape(clean(t.entry.description))}", markup=True, highlight=False,
                          soft_wrap=True)
            for s in t.steps:
                console.print(f"  -> {clean(s)}", markup=False, highlight=False, soft_wrap=True)


def _count(n: int | None, exact: bool) -> str:
    if n is None:
        return "unknown"
    return f"{n:,}" if exact else f"<={n:,}"


def _estimate_cells(e) -> list[str]:
    if e is None:
        return ["not built"] * 4 + [""]
    exact_counts = e.source != "bound"
    cached = str(e.cached_requests) if e.cache_checked else "not checked"
    cost = "unpriced" if e.cost_usd is None else f"{e.cost_usd:.4f}" if exact_counts else f"<={e.cost_usd:.4f}"
    return [_count(e.requests, exact_counts), _count(e.prompt_tokens, exact_counts),
            _count(e.max_completion_tokens, exact_counts), cached, cost]


def _print_estimate_notes(console, estimates: list, t: dict[str, Any]) -> None:
    counted = all(e.source != "bound" for e in estimates)  # else the totals hold bounds: `<=`
    cost = "unpriced" if t["cost_usd"] is None else f"${t['cost_usd']:.4f}" if counted else f"<=${t['cost_usd']:.4f}"
    unpriced = f" ({t['unpriced_runs']} run(s) unpriced, not counted)" if t["unpriced_runs"] and t["cost_usd"] is not None else ""
    console.print(
        f"estimate: {_count(t['requests'], counted)} request(s), {_count(t['prompt_tokens'], counted)} prompt token(s), "
        f"at most {_count(t['max_completion_tokens'], counted)} completion token(s), {t['cached_requests']} cached; "
        f"{cost}{unpriced}", markup=False, highlight=False, soft_wrap=True)
    for e in estimates:
        if e.note:
            console.print(f"note: {e.name}: {e.note}", markup=False, highlight=False, soft_wrap=True)
