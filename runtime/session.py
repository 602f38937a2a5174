"""A helm-run session: compile -> plan -> build -> execute, each step returning diagnostics.

helm-run and `helmc plan --build` drive this; the command line only parses flags into
Options and HelmSettings, and prints what comes back. Every problem of every step is a
Diagnostic at the entry that planned it, so it goes through the chosen --format.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from typing import Any, Collection, Sequence

from rich.console import Console

from helmc.compiler.diagnostics import Diagnostic, DiagnosticSink, Severity, diag
from helmc.compiler.plan.plan import ArgSpans, EntryRef, Plan, SpanRef
from helmc.compiler.plan.planner import Trace
from helmc.compiler.files.reading import open_for_append
from helmc.compiler.session import Compiled, Options, Purpose, RunSet, compile_run_sets, name_clash, same_run
from helmc.compiler.source import SourceFile, Span

from . import helm_setup
from .executor import error_type
from .helm_setup import HelmSettings
from .run_folders import Occupant
from .runspecs import BuildError, BuiltRun, Mismatch, build_plan
from .engine import Engine
from .governor import RunReport, read_run_report, shared_state_failure
from .suite import SuiteResult, run_suite


@dataclass(slots=True)
class Session:
    options: Options
    run_set: RunSet
    settings: HelmSettings
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)
    compiled: Compiled | None = None
    # the inputs' texts, for diagnostics placed at the plan's spans (compiled.sources())
    _sources: dict[tuple[str, int], SourceFile] = field(default_factory=dict)

    # ------------------------------------------------------------------ compile and plan

    def compile(self, purpose: Purpose = "run", traces: list[Trace] | None = None) -> Plan | None:
        """The same compile and verdict as helm-check's; None when no catalog could be loaded."""
        if purpose == "run":  # the --local-path files HELM will read: helm-check's own diagnostics
            from helmc.compiler.prodenv.check import local_path_preflight

            local_path_preflight(self.options.catalog.local_path, self.sink, self.options.catalog.plugins)
        (self.compiled,) = compile_run_sets([self.run_set], self.options, self.sink, purpose, traces=traces)
        self._sources = self.compiled.sources()
        return self.compiled.plan

    # ------------------------------------------------------------------ build

    def build(self, plan: Plan) -> list[BuiltRun] | None:
        """HELM builds every RunSpec from the plan (HELM must be prepared). None when HELM
        raised for an entry (HC0502, as HELM stops the whole run); otherwise the runs to
        execute, a repeated run name once (the later run, as HELM's folder ends up)."""
        built, errors, mismatches = build_plan(plan, self.settings)
        self._report_build(errors, mismatches, f"HELM's log: {helm_setup.build_log_path(self.settings)}")
        if errors:
            return None
        return self.name_clashes(built)

    def _report_build(self, errors: Sequence[BuildError], mismatches: Sequence[Mismatch], log: str) -> None:
        for err in errors:
            self.sink.add(
                diag(
                    "HC0502",
                    f"HELM could not build the runs of this entry: {err.message}",
                    self._arg_span(err.spec.entry, err.spec.entry.arg(err.argument) if err.argument else None),
                    "HELM raised here",
                    notes=[log],
                )
            )
        for mm in mismatches:
            self.sink.add(
                diag(
                    "HC0501",
                    "HELM built other runs than helmc planned for this entry",
                    self._entry_span(mm.spec.entry),
                    "this entry",
                    notes=[mm.message, "helm-run runs what HELM built; please report this helmc bug"],
                )
            )

    def name_with_helm(self, plan: Plan) -> Plan | None:
        """`helmc plan --build`: HELM builds every RunSpec (in a scratch output folder, its log
        there too); the plan gets HELM's run names and adapter settings. None without crfm-helm."""
        import tempfile

        if not helm_setup.helm_available():
            return None
        with tempfile.TemporaryDirectory(prefix="helmc-plan-") as scratch:
            settings = replace(self.settings, output_path=scratch)
            log = f"{scratch}/build.log"
            try:
                # fds 1 and 2, and Python's own streams where a caller has replaced them
                with helm_setup.redirect_output(log), os.fdopen(open_for_append(log), "a", encoding="utf-8") as py_log, \
                        contextlib.redirect_stdout(py_log), contextlib.redirect_stderr(py_log):
                    helm_setup.prepare(settings)
                    built, errors, mismatches = build_plan(plan, settings)
            except (helm_setup.HelmUnavailable, helm_setup.HelmSetupError) as e:
                self.sink.add(diag("HC0502", f"HELM refused its configuration: {e}", _nowhere(), ""))
                return plan
        self._report_build(errors, mismatches, "see `helmc plan --build` (HELM's log is not kept)")
        self.name_clashes(built)
        return self.named_plan(plan, built)

    def estimate(self, plan: Plan, parallel_runs: int = 1,
                 priced: Collection[str] = ()) -> tuple[Plan, list[Any]] | None:
        """`helmc plan --estimate`: HELM builds every RunSpec and dry-runs those not remembered
        (runtime/estimate.py) with `parallel_runs` local workers. The plan named by HELM, and
        each run's RunEstimate in the plan's order (None for a run HELM did not build). None
        without crfm-helm. `priced`: the names the prices file prices (the others are looked
        up in genai-prices meanwhile)."""
        from .estimate import memo_dir, remembered_plan

        # first the memo, which imports nothing of HELM (its key holds HELM's installed version)
        again = remembered_plan(plan, self.settings)
        if again is not None:
            return again
        if not helm_setup.helm_available():
            return None
        from .engine import LocalEngine
        from .estimate import (context_digest, estimate_runs, genai_prices_meanwhile, plan_key, prewarm_dry_runs,
                               remember_plan)

        home = os.path.dirname(memo_dir())
        settings = replace(self.settings, output_path=os.path.join(home, "helm_output"))
        log = os.path.join(home, "estimate.log")
        unpriced = [r.model_deployment or r.model for r in plan.runs
                    if r.model_deployment not in priced and r.model not in priced]
        try:
            os.makedirs(home, exist_ok=True)
            with contextlib.suppress(OSError):
                os.truncate(log, 0)  # this estimate's log only: its dry runs write megabytes to it
            with genai_prices_meanwhile(unpriced), helm_setup.redirect_output(log), \
                    open(log, "a", encoding="utf-8") as py_log, \
                    contextlib.redirect_stdout(py_log), contextlib.redirect_stderr(py_log):
                helm_setup.prepare(settings)
                said = len(self.sink.items)
                built, errors, mismatches = build_plan(plan, settings)  # the plan's run spec modules only
                self._report_build(errors, mismatches, f"HELM's log: {log}")
                built = self.name_clashes(built)
                if built:
                    prewarm_dry_runs(built)  # once here, not in every forked worker
                estimates = estimate_runs(built, settings, LocalEngine(parallel_runs), context_window=_context_window,
                                          log=log)
        except (helm_setup.HelmUnavailable, helm_setup.HelmSetupError) as e:
            self.sink.add(diag("HC0502", f"HELM refused its configuration: {e}", _nowhere(), ""))
            return plan, [None] * len(plan.runs)
        named = self.named_plan(plan, built)
        if len(self.sink.items) == said:  # what the build said (HC0406, HC05xx) is said again next time
            digest = context_digest(self.settings)
            key = plan_key(plan, self.settings, digest)
            if key is not None:
                remember_plan(key, named, built, digest)
        by_name = {e.name: e for e in estimates}
        return named, [by_name.get(r.name) if r.name is not None else None for r in named.runs]

    def named_plan(self, plan: Plan, built: Sequence[BuiltRun]) -> Plan:
        """The plan with HELM's run names and adapter settings from the RunSpecs it built."""
        by_run = {id(b.planned): b for b in built if b.planned is not None}
        runs = tuple(
            replace(r, name=by_run[id(r)].name, adapter=by_run[id(r)].adapter) if id(r) in by_run else r
            for r in plan.runs
        )
        return replace(plan, runs=runs)

    def name_clashes(self, built: Sequence[BuiltRun]) -> list[BuiltRun]:
        """HC0406 for each run name given twice; keep the later run, as HELM's folder does."""
        last: dict[str, int] = {b.name: i for i, b in enumerate(built)}
        first: dict[str, BuiltRun] = {}
        for i, b in enumerate(built):
            if b.name not in first:
                first[b.name] = b
            elif last[b.name] == i and not (
                b.planned and first[b.name].planned and same_run(b.planned, first[b.name].planned)  # HC0401's case
            ):
                self.sink.add(self.clash(b, first[b.name]))
        return [b for i, b in enumerate(built) if last[b.name] == i]

    def clash(self, later: BuiltRun, earlier: BuiltRun) -> Diagnostic:
        return name_clash(
            later.name,
            self._entry_span(later.planned.entry) if later.planned else _nowhere(),
            self._entry_span(earlier.planned.entry) if earlier.planned else None,
        )

    # ------------------------------------------------------------------ execute

    def execute(self, runs: Sequence[BuiltRun], engine: Engine, console: Console, **how: Any) -> SuiteResult:
        """Run the built runs (journal, resume, progress: runtime/suite.py); each failed run
        becomes HC0503 at its entry. Raises SuiteLocked or JournalError as run_suite does."""
        result = run_suite(runs, self.settings, engine, console, **how)
        by_name = {r.name: r for r in runs}
        for o in result.failed:
            if o.name in result.occupied:
                self.run_folder_occupied(by_name[o.name], result.occupied[o.name])
            elif shared_state_failure(o.error):
                continue  # the suite's HC0710 says it, once, at the folder (helm_run)
            elif o.name in by_name:
                self.run_failed(by_name[o.name], o.error, o.log)
        folder = self.settings.limits.folder
        if folder is not None:
            for o in result.outcomes:
                if o.status != "skipped" and o.name in by_name:
                    report = read_run_report(folder, o.name)
                    if report is not None and report.failures:
                        self.requests_failed(by_name[o.name], report, run_failed=o.status == "failed")
        return result

    def run_folder_occupied(self, run: BuiltRun, occupant: Occupant) -> None:
        """HC0504: the run's folder path holds what the user put there; the run did not start."""
        self.sink.add(
            diag(
                "HC0504",
                f"{occupant.kind} that helm-run did not write stands where run `{run.name}` writes its folder",
                self._entry_span(run.planned.entry) if run.planned else _nowhere(),
                "the entry that planned this run, which was not started",
                help="move it away (or choose another --suite or --output-path), then run the same command again",
                notes=[f"it is `{occupant.path}`, left as it is: helm-run replaces only the run folders it wrote",
                       "HELM's own helm-run fails this run with FileExistsError"],
            )
        )

    def requests_failed(self, run: BuiltRun, report: RunReport, *, run_failed: bool = False) -> None:
        """HC0505: requests of a run that failed for good, at the entry that planned it, with
        the provider's own message."""
        first = report.failures[0]
        total = sum(int(f.get("count", 1)) for f in report.failures)
        notes = [f"{f.get('deployment')}: {f.get('message')}" + (f" ({f['count']} requests)" if f.get("count", 1) > 1 else "")
                 for f in report.failures[:3]]
        sent = report.counts.get("sent", 0)
        notes.append(f"the run sent {sent} request(s); " + (
            "HELM stopped it at a failed one (HC0503)" if run_failed else "HELM completed it without these answers"))
        ref = run.planned.entry if run.planned else None
        self.sink.add(
            diag(
                "HC0505",
                f"{total} request(s) of run `{run.name}` failed for good: {first.get('message')}",
                self._entry_span(ref) if ref else _nowhere(),
                "the entry that planned this run",
                help="fix what the provider says (the prompt, the deployment's settings), then run it again "
                     "with --fresh --only-runs " + run.name,
                notes=notes,
            )
        )

    def run_failed(self, run: BuiltRun, error: str | None, log: str | None) -> None:
        """HC0503: a run that failed, at the entry (or the argument or model it names) that planned it."""
        ref = run.planned.entry if run.planned else None
        if error_type(error) == helm_setup.LOG_UNUSABLE:
            # helm-run's own failure before HELM started: no HELM error, no HELM log to show
            message = error.split(": ", 1)[1] if error and ": " in error else error
            self.sink.add(
                diag(
                    "HC0503",
                    f"run `{run.name}` failed before HELM started",
                    self._entry_span(ref) if ref else _nowhere(),
                    "the entry that planned this run",
                    help="move what stands at the log's path away, then run the same command again",
                    notes=[f"helm-run could not open the run's log, so it did not start HELM: {message}"],
                )
            )
            return
        notes = [f"HELM raised: {error}" if error else "HELM raised (see the log)"]
        if log:
            notes.append(f"HELM's log of this run: {log}")
        self.sink.add(
            diag(
                "HC0503",
                f"run `{run.name}` failed",
                self._arg_span(ref, failed_argument(ref, error)) if ref else _nowhere(),
                "the entry that planned this run (at the value HELM's error names)",
                notes=notes,
            )
        )

    # ------------------------------------------------------------------ spans

    def _at(self, ref: SpanRef) -> Span:
        src = self._sources.get((ref.path, ref.line_base))
        return src.span(ref.start, ref.end) if src is not None else _nowhere()

    def _entry_span(self, ref: EntryRef) -> Span:
        return self._at(ref.description_span)

    def _arg_span(self, ref: EntryRef, arg: ArgSpans | None) -> Span:
        """The value of one of the entry's arguments, else its description."""
        return self._at(arg.value_span if arg is not None else ref.description_span)


@dataclass(slots=True)
class PlanResult:
    """What `helmc plan` shows: the plan (None when there is none to show), its diagnostics,
    and the exit code that follows."""

    plan: Plan | None
    diagnostics: list[Diagnostic]
    exit_code: int
    problem: str | None = None  # why there is no plan, beyond the diagnostics (one line)
    estimates: list[Any] | None = None  # --estimate: a RunEstimate (or None) per run of the plan


def plan_runs(options: Options, run_set: RunSet, settings: HelmSettings, *, build: bool = False,
              traces: list[Trace] | None = None, estimate: bool = False, parallel_runs: int = 1,
              prices: str | None = None) -> PlanResult:
    """`helmc plan`: compile with the plan's verdict; with `build`, HELM names every run. Exit 0
    without errors, 1 with errors in the inputs, 2 without a catalog or (--build) crfm-helm."""
    session = Session(options, run_set, settings)
    plan = session.compile("plan", traces=traces)
    if plan is None:
        return PlanResult(None, session.sink.items, 2)
    if estimate:
        from .estimate import load_prices, price_runs

        table = load_prices(prices, session.sink)  # its problems are said even if HELM is missing
        got = session.estimate(plan, parallel_runs, priced=table.keys())
        if got is None:
            return PlanResult(None, session.sink.items, 2, f"--estimate needs crfm-helm: {helm_setup.INSTALL_HINT}")
        plan, estimates = got
        estimates = price_runs(estimates, table)
        return PlanResult(plan, session.sink.items, 1 if session.sink.has_errors else 0, estimates=estimates)
    if build:
        named = session.name_with_helm(plan)
        if named is None:
            return PlanResult(None, session.sink.items, 2, f"--build needs crfm-helm: {helm_setup.INSTALL_HINT}")
        plan = named
    return PlanResult(plan, session.sink.items, 1 if session.sink.has_errors else 0)




def failed_argument(ref: EntryRef, error: str | None) -> ArgSpans | None:
    """The argument of the entry that a failed run's one-line error points at, or None.

    A request that HELM's executor could not complete (ExecutorError: the client, its
    deployment's settings, the provider) is the deployment's: `model_deployment=`, else
    `model=`, which HELM pairs a deployment with. Any other failure crosses from the worker as
    one line of text and nothing else, so there the argument is the one whose value (two
    characters or more) that text names first."""
    if not error:
        return None
    kind = error_type(error)
    if kind is not None and kind == _executor_error():
        return ref.arg("model_deployment") or ref.arg("model")
    named = [a for a in ref.args if len(a.raw) > 1 and a.raw in error]
    if not named:
        return None
    return min(named, key=lambda a: (error.index(a.raw), -len(a.raw)))


def _executor_error() -> str | None:
    """The qualified name of HELM's ExecutorError, as a run's one-line error starts with it."""
    try:
        from helm.benchmark.executor import ExecutorError
    except Exception:  # noqa: BLE001 - without HELM no run has failed with it
        return None
    return f"{ExecutorError.__module__}.{ExecutorError.__qualname__}"


def _context_window(deployment: str | None) -> int | None:
    """The deployment's context window in HELM's registry (HELM prepared), for a bound."""
    if not deployment:
        return None
    try:
        from helm.benchmark.model_deployment_registry import get_model_deployment

        return get_model_deployment(deployment).max_sequence_length
    except Exception:  # noqa: BLE001 - an unknown deployment: no bound from it
        return None


def _nowhere() -> Span:
    return SourceFile("<helm-run>", "").span(0, 0)


def errors_in(diagnostics: Sequence[Diagnostic]) -> int:
    return sum(1 for d in diagnostics if d.severity is Severity.ERROR)



def budget_preflight(options: Options, run_set: RunSet, settings: HelmSettings, budget: Any,
                     prices: str | None, parallel_runs: int = 1) -> tuple[list[Diagnostic], str | None]:
    """helm-check with helm-run's --prices / --max-cost / --max-requests: the diagnostics of
    helm-run's gate for the same inputs (the prices file's, HC0810, HC0811), and a one-line
    refusal where it cannot be decided (no crfm-helm). The compile's own diagnostics are left to
    helm-check, which reports them itself."""
    from .budget import check_budget
    from .estimate import load_prices, price_runs

    prices_sink = DiagnosticSink()
    table = load_prices(prices, prices_sink)
    if prices_sink.has_errors or not budget.given:
        return prices_sink.items, None
    session = Session(options, run_set, settings)
    plan = session.compile("run")
    if plan is None or session.sink.has_errors or not plan.runs:
        return prices_sink.items, None  # helm-run would not reach its gate; helm-check says why
    got = session.estimate(plan, parallel_runs)
    if got is None:
        return prices_sink.items, f"--max-cost and --max-requests need crfm-helm to estimate: {helm_setup.INSTALL_HINT}"
    if session.sink.has_errors:  # HELM could not build a run: helm-run stops there (HC0502)
        return prices_sink.items + [d for d in session.sink.items if d.code.startswith("HC05")], None
    estimates = [e for e in price_runs(got[1], table) if e is not None]
    check_budget(estimates, budget, prices_sink)
    return prices_sink.items, None
