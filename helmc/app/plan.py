"""`helmc plan` as an application function: its parsed flags in, the plan (runtime/session.py's
plan_runs: the compile, and with --build or --estimate HELM's own functions) out, with what the
command line (helmc/commands/plan.py) prints already worked out: the estimate's totals.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from helmc.compiler.diagnostics import Diagnostic
from helmc.compiler.plan.plan import Plan
from helmc.compiler.plan.planner import Trace


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """What `helmc plan` shows: the plan (None when there is none to show), its diagnostics and
    the exit code; `problem`: why there is no plan, beyond the diagnostics (one line)."""

    plan: Plan | None
    diagnostics: list[Diagnostic]
    exit_code: int
    problem: str | None = None
    estimates: list[Any] | None = None  # --estimate: a RunEstimate (or None) per run of the plan
    totals: dict[str, Any] | None = None  # --estimate: their sums (runtime/estimate.py's totals_json)
    traces: list[Trace] | None = None  # --explain: each entry's way to its runs


def plan(args: argparse.Namespace) -> PlanOutcome:
    """The plan of `helmc plan`'s flags (checked for usage by the command line already)."""
    from helmc.app.options import options_from_args
    from helmc.app.settings import SettingsError, prices_path
    from helmc.compiler.session import RunSet
    from helmc.runtime.helm_setup import HelmSettings
    from helmc.runtime.session import plan_runs

    conf_paths = [*args.paths, *args.conf_paths, *args.conf_file]
    traces: list[Trace] | None = [] if args.explain else None
    options = options_from_args(args)
    prices = None
    if args.estimate:
        try:
            prices = prices_path(args.prices)
        except SettingsError as e:
            return PlanOutcome(None, [], 2, problem=str(e))
    result = plan_runs(options, RunSet(tuple(conf_paths), tuple(args.run_entries or ())),
                       HelmSettings(catalog=options.catalog), build=args.build, traces=traces,
                       estimate=args.estimate, parallel_runs=args.parallel_runs, prices=prices)
    totals = None
    if result.plan is not None and result.estimates is not None:
        from helmc.runtime.estimate import totals_json

        totals = totals_json([e for e in result.estimates if e is not None])
    return PlanOutcome(result.plan, result.diagnostics, result.exit_code, result.problem, result.estimates,
                       totals, traces)
