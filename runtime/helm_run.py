"""helm-run's flow, from checked flags to an ending: what runs, and which exit code follows.

flags checked -> engine made -> compile with helm-check's verdict -> HELM prepared, builds
every run from the plan -> --only-runs -> execute (journal, resume) -> an Ending. Every step
that stops the flow says why in `HelmRunResult.message`; the command line (helmc/commands/run.py)
turns flags into a HelmRunRequest, calls `helm_run`, and prints what comes back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable, Sequence

from rich.console import Console

from helmc.compiler.collector import gc_paused
from helmc.compiler.diagnostics import Diagnostic
from helmc.compiler.plan.plan import Plan
from helmc.compiler.session import Options, RunSet

from . import helm_setup
from .helm_setup import HelmSettings
from .run_folders import suite_name_problem
from .runspecs import BuiltRun, prewarm
from .budget import Budget, Spend
from .engine import Engine
from .engines import EngineOptions
from .governor import RequestLimits
from .session import Session, errors_in
from .suite import SuiteResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # also: crfm-helm missing, HELM setup refused, the journal or the disk failing, internal error
EXIT_INTERRUPTED = 130


class Ending(Enum):
    """How a helm-run ended; the exit code follows from it (HelmRunResult.exit_code)."""

    COMPLETED = "completed"  # every run completed, now or earlier
    NOTHING_TO_RUN = "nothing to run"  # an empty plan that is no error (its message goes to stdout)
    INPUT_ERRORS = "input errors"  # errors in the inputs, or HELM could not build a run: nothing ran
    RUNS_FAILED = "runs failed"  # at least one run failed
    BUDGET_SPENT = "budget spent"  # the actual spend reached --max-cost or --max-requests: the runs left did not start
    UNFINISHED = "unfinished"  # runs left unfinished (Ctrl-C in a worker, --exit-on-error)
    REFUSED = "refused"  # bad usage, crfm-helm missing, HELM refusing its configuration, journal or disk


@dataclass(frozen=True, slots=True)
class HelmRunRequest:
    """One helm-run invocation, parsed from its flags once."""

    run_set: RunSet
    options: Options  # the compile's: selection, catalog additions, --allow-no-runs
    settings: HelmSettings  # what HELM reads
    engine: EngineOptions
    only_runs: tuple[str, ...] | None = None
    only_runs_file: str | None = None  # more names for only_runs, one a line (or a JSON array)
    fresh: bool = False  # ignore the journal
    run_specs_given: bool = False  # HELM's deprecated --run-specs was used
    command: tuple[str, ...] = ()  # this invocation's words, journaled for the re-run command
    budget: Budget = field(default_factory=Budget)  # --max-cost, --max-requests
    prices: str | None = None  # --prices (or [tool.helmc]'s `prices`)


@dataclass(slots=True)
class HelmRunResult:
    ending: Ending
    diagnostics: list[Diagnostic]
    message: str | None = None  # why the flow stopped, or what it found nothing to do
    runs: list[BuiltRun] = field(default_factory=list)  # what was (to be) executed
    suite: SuiteResult | None = None  # None: execution never started
    exit_on_error: bool = False

    @property
    def exit_code(self) -> int:
        return {
            Ending.COMPLETED: EXIT_OK,
            Ending.NOTHING_TO_RUN: EXIT_OK,
            Ending.INPUT_ERRORS: EXIT_FAILED,
            Ending.RUNS_FAILED: EXIT_FAILED,
            Ending.BUDGET_SPENT: EXIT_FAILED,
            Ending.UNFINISHED: EXIT_FAILED if self.exit_on_error else EXIT_INTERRUPTED,
            Ending.REFUSED: EXIT_USAGE,
        }[self.ending]


Show = Callable[[Sequence[Diagnostic]], None]  # the diagnostics so far, to be shown now
Warn = Callable[[str], None]  # a one-line warning, now


def helm_run(request: HelmRunRequest, console: Console, *, show: Show, warn: Warn) -> HelmRunResult:
    """Run one helm-run. `console` gets the progress display; `show` and `warn` are called where
    helm-run says something before the end (before any run starts, and as the journal opens)."""
    settings = request.settings
    session = Session(request.options, request.run_set, settings)
    sink = session.sink
    # What this helm-run creates before a run starts (HELM's output folder, the build log), so
    # that a refusal by the budget leaves the output folder as it found it.
    from .journal import journal_dir

    created = _first_missing(journal_dir(settings.output_path, settings.suite))

    def stop(ending: Ending, message: str | None = None, **more) -> HelmRunResult:
        return HelmRunResult(ending, sink.items, message, exit_on_error=settings.exit_on_error, **more)

    # 0. Flags that no compile can fix: exit 2 before anything is compiled, started or written.
    if settings.cache_instances_only and not settings.cache_instances:
        return stop(Ending.REFUSED, "error: if --cache-instances-only is set, --cache-instances must also be set.")
    problem = helm_setup.check_flag_files(settings, warn)  # --log-config, --api-key-path: read as every input
    if problem is not None:
        return stop(Ending.REFUSED, problem)
    problem = suite_name_problem(settings.suite)
    if problem is not None:
        return stop(Ending.REFUSED, f"error: --suite: {problem}\n  = help: use a plain name such as `v1` or `2026-11-27`")
    if request.engine.parallel_runs < 1:
        return stop(Ending.REFUSED, "error: --parallel-runs must be at least 1.")
    if request.only_runs_file is not None:
        from .rerun import RunListError, read_run_list

        try:
            listed = read_run_list(request.only_runs_file)
        except RunListError as e:
            return stop(Ending.REFUSED, f"error: --only-runs-file {e}")
        request = replace(request, only_runs=(*(request.only_runs or ()), *listed), only_runs_file=None)
    from .engines import check_engine, make_engine
    from .journal import journal_dir

    check_engine(request.engine, mongo_uri=settings.mongo_uri, disable_cache=settings.disable_cache,
                 local_path=settings.catalog.local_path, sink=sink)
    show(sink.items)
    if sink.has_errors:
        return stop(Ending.REFUSED, "helm-run: the engine flags are wrong; nothing was started.")
    prices = _load_prices(request, session)
    if sink.has_errors:
        return stop(Ending.INPUT_ERRORS, "helm-run: the prices file has errors; nothing was run.")
    engine = make_engine(request.engine,
                         submit_folder=os.path.join(journal_dir(settings.output_path, settings.suite), "submitit"))
    if request.run_specs_given:
        # HELM warns after the whole suite ran; a deprecation is worth saying up front.
        warn("warning: --run-specs is deprecated and will be removed in a future HELM release; "
             "use --run-entries instead (same meaning).")

    # 1. Compile everything, with helm-check's verdict. Any error: stop before a single run
    # starts, write nothing.
    plan = session.compile("run")
    if plan is None:
        return stop(Ending.REFUSED, "error: helm-run cannot load HELM's catalog; nothing was run.")
    # The governor's scopes name deployments or host organizations HELM knows (HC0709, exit 2).
    limits = _request_limits(request, sink)
    if limits is None:
        return stop(Ending.REFUSED, "helm-run: a request limit names no known scope; nothing was started.")
    request = replace(request, settings=replace(settings, limits=limits))
    settings = session.settings = request.settings
    if sink.has_errors:
        return stop(Ending.INPUT_ERRORS, f"helm-run: {errors_in(sink.items)} error(s); nothing was run.")
    if not plan.runs:
        return stop(Ending.NOTHING_TO_RUN, "helm-run: nothing to run.")

    if not helm_setup.helm_available():
        return stop(Ending.REFUSED,
                    "error: helm-run needs crfm-helm, which is not installed in this environment.\n"
                    f"  = help: install it with: {helm_setup.INSTALL_HINT}\n"
                    "  = note: `helmc plan` and `helm-check` work without it.")
    # 2-4. The engine's slow start (Ray, its hosts importing HELM) overlaps HELM's build; it is
    # stopped in any case.
    engine.start_early(preload=helm_setup.preload)
    try:
        return _build_and_execute(request, session, engine, plan, console, show=show, warn=warn, stop=stop,
                                  created=created, prices=prices)
    finally:
        engine.release()


def _request_limits(request: HelmRunRequest, sink) -> "RequestLimits | None":
    """The suite's request limits, their state beside the journal; None when a scope is unknown."""
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.compiler.session import load_catalog_for

    from .engines import request_limits
    from .governor import RequestLimits
    from .journal import journal_dir

    known = None
    if request.engine.request_limits:
        catalog = load_catalog_for(request.options, DiagnosticSink())
        if catalog is not None:
            names = set(catalog.deployments)
            known = names | {n.split("/", 1)[0] for n in names}
    before = len(sink.items)
    limits = request_limits(request.engine, DiagnosticSink() if known is None else sink, known)
    if len(sink.items) > before:
        return None
    settings = request.settings
    # absolute: workers elsewhere (Ray, Slurm) start in helm-run's directory, but tests change it
    # on Ray, one actor per suite holds the pace (hosts need share no filesystem); else files
    return RequestLimits(limits, folder=os.path.abspath(journal_dir(settings.output_path, settings.suite)),
                         shared_by="ray" if request.engine.engine == "ray" else "files")


def _build_and_execute(request: HelmRunRequest, session: Session, engine: Engine, plan: Plan, console: Console, *,
                       show: Show, warn: Warn, stop: Callable[..., HelmRunResult],
                       created: str | None = None, prices: dict | None = None) -> HelmRunResult:
    settings = request.settings
    sink = session.sink

    # 2. HELM: configure it as helm_run does, and let it build each RunSpec from the plan.
    build_log = helm_setup.build_log_path(settings)
    try:
        with helm_setup.redirect_output(build_log), gc_paused():
            helm_setup.prepare(settings)
            runs = session.build(plan)
            if request.engine.parallel_runs > 1 and request.engine.engine == "local" and runs:
                prewarm(runs)
    except helm_setup.HelmUnavailable as e:
        return stop(Ending.REFUSED, f"error: crfm-helm cannot be imported.\n  = help: install it with: {e}")
    except helm_setup.FlagFileError as e:  # the user's file (a --log-config that logging refuses)
        return stop(Ending.REFUSED, f"error: {e}")
    except helm_setup.HelmSetupError as e:
        return stop(Ending.REFUSED, f"error: HELM refused its configuration: {e}\n  = note: HELM's log: {build_log}")
    if runs is None:
        return stop(Ending.INPUT_ERRORS, "helm-run: HELM could not build every run; nothing was run.")
    show(sink.items)  # HC0406, HC0501: said before anything runs

    # 3. --only-runs (the re-run command) picks runs by name.
    if request.only_runs:
        wanted = set(request.only_runs)
        unknown = sorted(wanted - {r.name for r in runs})
        if unknown:
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            warn(f"warning: --only-runs names no planned run: {', '.join(unknown[:10])}{more}")
        runs = [r for r in runs if r.name in wanted]
    if not runs:
        if request.options.allow_no_runs:
            return stop(Ending.NOTHING_TO_RUN, "helm-run: nothing to run.")
        return stop(Ending.INPUT_ERRORS, "helm-run: nothing to run: HELM built no RunSpec for these entries.")

    # 4. The budget: the estimate of what is left to run, against --max-cost / --max-requests;
    # under it, the actual spend is counted as runs finish (budget.Spend).
    spend = None
    if request.budget.given:
        over, spend = _over_budget(request, session, runs, build_log, prices or {})
        if over is not None:
            import shutil

            if created is not None:  # it holds all the rest this helm-run wrote (the build log)
                shutil.rmtree(created, ignore_errors=True)
            return stop(Ending.INPUT_ERRORS, over)

    # 5. Execute; every failed run becomes a diagnostic at its entry.
    from .journal import JournalError, SuiteLocked, damage_diagnostic, unusable_diagnostic

    def damaged(damage) -> None:  # HC0751, said as the journal opens, before any run starts
        sink.add(damage_diagnostic(damage))
        show(sink.items)

    try:
        result = session.execute(
            runs, engine, console, workers=request.engine.parallel_runs, resume=not request.fresh,
            command=list(request.command), on_warning=damaged, spend=spend,
        )
    except SuiteLocked as e:
        return stop(Ending.REFUSED, f"error: another helm-run is running suite `{settings.suite}` in this output "
                    f"folder (lock held on {e}/lock); wait for it to finish.", runs=runs)
    except JournalError as e:
        sink.add(unusable_diagnostic(e, "write"))
        return stop(Ending.REFUSED, runs=runs)
    if result.shared_error:
        from .governor import unshared_diagnostic

        sink.add(unshared_diagnostic(settings.limits.folder or "", result.shared_error))
        ending = Ending.REFUSED
        message = "error: helm-run stopped: a job cannot share the request limits; run the same command again once fixed"
    elif result.storage_error:
        ending = Ending.REFUSED
        message = (f"error: helm-run stopped: {result.storage_error}\n"
                   "  = help: free space or make the output folder writable, then run the same command again")
    elif result.failed:
        ending, message = Ending.RUNS_FAILED, _budget_message(result)
    elif result.budget_stop and not result.interrupted:
        ending, message = Ending.BUDGET_SPENT, _budget_message(result)
    elif result.unfinished:
        ending, message = Ending.UNFINISHED, None
    else:
        ending, message = Ending.COMPLETED, None
    return stop(ending, message, runs=runs, suite=result)


def _budget_message(result: SuiteResult) -> str | None:
    """Why the runs left were not started, where the actual spend reached a cap."""
    if not result.budget_stop:
        return None
    held = sum(1 for o in result.outcomes if o.status == "pending" and o.error)
    return (f"helm-run: {result.budget_stop}; {held} run(s) not started (`helmc status` lists them)\n"
            "  = help: raise the cap and run the same command again: completed runs are skipped")


def _first_missing(path: str) -> str | None:
    """The outermost folder of `path` that does not exist yet (None: `path` exists)."""
    path = os.path.abspath(path)
    top = None
    while not os.path.lexists(path):
        top, parent = path, os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return top


def _load_prices(request: HelmRunRequest, session: Session) -> dict:
    """--prices, read and checked before anything is compiled or written (HC0800-HC0802)."""
    from .estimate import load_prices

    return load_prices(request.prices, session.sink)


def _over_budget(request: HelmRunRequest, session: Session, runs: Sequence[BuiltRun], log: str,
                 prices: dict) -> tuple[str | None, "Spend | None"]:
    """Estimate the runs (HELM's dry run, remembered; runtime/estimate.py) and check them
    against the budget: (None, the spend to count while they run) when they fit, else why
    helm-run starts nothing (the diagnostics in the session's sink)."""
    from .budget import Spend, check_budget, estimate_json
    from .estimate import lookup_price
    from .engine import LocalEngine
    from .estimate import estimate_runs, prewarm_dry_runs, price_runs
    from .session import _context_window

    with helm_setup.redirect_output(log):
        prewarm_dry_runs(runs)
        estimates = estimate_runs(runs, request.settings, LocalEngine(request.engine.parallel_runs),
                                  context_window=_context_window, log=log)
    priced = [e for e in price_runs(estimates, prices) if e is not None]
    check_budget(priced, request.budget, session.sink)
    if session.sink.has_errors:
        return "helm-run: over budget; nothing was run.", None
    if request.settings.dry_run:
        return None, None  # a dry run sends nothing: no spend to count
    rates = {}
    for r in runs:
        found = lookup_price(r.model, r.model_deployment, prices)
        rates[r.name] = found[:2] if found is not None else None
    return None, Spend(request.budget, rates, {e.name: estimate_json(e) for e in priced})
