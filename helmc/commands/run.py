"""`helm-run` (= `helmc run`): compile everything, then execute the plan through HELM.

Exit codes: 0 every run completed (or was completed earlier); 1 errors in the inputs (nothing
ran, nothing was written) or at least one run failed; 2 bad usage, crfm-helm not installed,
HELM refusing its configuration, or an internal failure; 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from typing import Any, Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # also: crfm-helm missing, HELM setup refused, internal error
EXIT_INTERRUPTED = 130

# helmc's own flags: not forwarded to HELM, listed so the re-run command can be rebuilt.
_HELMC_ONLY = {"conf_file", "parallel_runs", "allow_no_runs", "fresh", "only_runs", "format", "engine",
               "ray_address", "ray_num_cpus", "ray_num_gpus", "slurm_cluster", "slurm_arg", "slurm_config",
               "retries", "retry_backoff", "max_runs_per_provider"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """HELM 0.5.16's helm-run flags (same names, meaning and defaults), then helmc's own."""
    # helm.proxy.services.remote_service.add_service_args
    parser.add_argument("--server-url", type=str, default=None, help="URL of proxy server to connect to")
    parser.add_argument(
        "--api-key-path", type=str, default="proxy_api_key.txt", help="Path to a file containing the API key"
    )
    # helm.benchmark.run.build_parser
    parser.add_argument("-c", "--conf-paths", nargs="+", default=[], help="Where to read RunSpecs to run from")
    parser.add_argument(
        "--models-to-run",
        nargs="+",
        default=None,
        help="Only RunSpecs with these models specified. If no model is specified, runs with all models.",
    )
    parser.add_argument(
        "--groups-to-run",
        nargs="+",
        default=None,
        help="Only RunSpecs with these (scenario) groups specified. If no group is specified, runs with all groups.",
    )
    parser.add_argument(
        "--exit-on-error", action="store_true", help="Fail and exit immediately if a particular RunSpec fails."
    )
    parser.add_argument(
        "--skip-completed-runs",
        action="store_true",
        help="Skip RunSpecs that have completed i.e. output files exists.",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=None,
        help="Run RunSpecs with priority less than or equal to this number. "
        "If a value for --priority is not specified, run on everything",
    )
    parser.add_argument(
        "--run-specs",
        nargs="*",
        default=[],
        help="DEPRECATED: Use --run-entries instead. Will be removed in a future release. Specifies run entries to run.",
    )
    parser.add_argument("-r", "--run-entries", nargs="*", default=[], help="Specifies run entries to run")
    parser.add_argument(
        "--enable-huggingface-models",
        nargs="+",
        default=[],
        help="Experimental: Enable using AutoModelForCausalLM models from Hugging Face Model Hub. "
        "Format: namespace/model_name[@revision]",
    )
    parser.add_argument(
        "--enable-local-huggingface-models",
        nargs="+",
        default=[],
        help="Experimental: Enable using AutoModelForCausalLM models from a local path.",
    )
    parser.add_argument(
        "--runner-class-name",
        type=str,
        default=None,
        help="Full class name of the Runner class to use. If unset, uses the default Runner.",
    )
    parser.add_argument("--log-config", type=str, default=None, help="PATH to a YAML file to customize logging")
    parser.add_argument(
        "--plugins",
        nargs="+",
        default=None,
        help="Importable module names or filesystem paths that register custom run specs / scenarios / datasets",
    )
    # helm.benchmark.run.add_run_args
    parser.add_argument(
        "-o", "--output-path", type=str, default="benchmark_output", help="Where to save all the output"
    )
    parser.add_argument("-n", "--num-threads", type=int, default=4, help="Max number of threads to make requests")
    parser.add_argument(
        "--skip-instances",
        action="store_true",
        help="Skip creation of instances (basically do nothing but just parse everything).",
    )
    parser.add_argument(
        "--cache-instances",
        action="store_true",
        help="Save generated instances input to model to disk. If already cached, read instances from file.",
    )
    parser.add_argument(
        "--cache-instances-only",
        action="store_true",
        help="Generate and save instances for scenario ONLY (i.e. do not evaluate models on instances).",
    )
    parser.add_argument(
        "-d", "--dry-run", action="store_true",
        help="Skip execution, only output scenario states and estimate token usage.",
    )
    parser.add_argument(
        "-m",
        "--max-eval-instances",
        type=int,
        required=True,
        help="Maximum number of instances to evaluate on, overrides the value in Adapter spec.",
    )
    parser.add_argument(
        "-t",
        "--num-train-trials",
        type=int,
        default=None,
        help="Number of trials where each trial samples a different set of in-context examples. "
        "Overrides the value in Adapter spec.",
    )
    parser.add_argument(
        "--suite", type=str, default="default",
        help="Name of the suite this run belongs to (default is today's date).",
    )
    parser.add_argument(
        "--local-path", type=str, default="prod_env", help="If running locally, the path for `ServerService`."
    )
    parser.add_argument(
        "--mongo-uri",
        type=str,
        default="",
        help="If non-empty, the URL of the MongoDB database that will be used for caching instead of SQLite",
    )
    parser.add_argument(
        "--disable-cache",
        action="store_true",
        help="If true, the request-response cache for model clients and tokenizers will be disabled.",
    )
    # helmc's own
    helmc = parser.add_argument_group("helmc")
    helmc.add_argument(
        "--conf-file", nargs="+", default=[], metavar="PATH",
        help="Same as --conf-paths (the spelling in HELM's documentation).",
    )
    helmc.add_argument(
        "--parallel-runs", type=int, default=1, metavar="N",
        help="Run N RunSpecs at a time, each in its own worker process (default 1, as HELM).",
    )
    helmc.add_argument(
        "--allow-no-runs", action="store_true",
        help="Exit 0 when nothing is left to run after filtering, instead of reporting an error.",
    )
    helmc.add_argument(
        "--fresh", action="store_true",
        help="Ignore the journal: redo runs that an earlier helm-run of this suite completed.",
    )
    helmc.add_argument(
        "--only-runs", nargs="+", default=None, metavar="RUN_NAME",
        help="Run only the RunSpecs with these names (the re-run command for failed runs uses this).",
    )
    helmc.add_argument(
        "--format", choices=["text", "json", "sarif", "github", "lsp"], default="text",
        help="Format of diagnostics (default text).",
    )
    eng = parser.add_argument_group("helmc engines (docs/runtime.md)")
    eng.add_argument(
        "--engine", default="local", metavar="local|ray|slurm",
        help="Where runs execute: worker processes here (local, the default), Ray tasks (extra `ray`) "
        "or Slurm jobs through submitit (extra `slurm`).",
    )
    eng.add_argument(
        "--retries", type=int, default=None, metavar="N",
        help="Retry a run that fails or whose worker dies up to N times, with backoff "
        "(default 0 with --engine local, 1 with ray and slurm).",
    )
    eng.add_argument(
        "--retry-backoff", type=float, default=2.0, metavar="SECONDS",
        help="Wait this long before a first retry, twice as long before a second... (default 2, at most 60).",
    )
    eng.add_argument(
        "--max-runs-per-provider", type=int, default=None, metavar="N",
        help="At most N runs at once per model host organisation (openai, together...); runs on "
        "local models (simple/, huggingface/) are not limited.",
    )
    eng.add_argument("--ray-address", default=None, metavar="ADDR",
                     help="A running Ray cluster (HOST:PORT, ray://HOST:PORT, auto); without it helm-run "
                     "starts a Ray instance on this machine and stops it at the end.")
    eng.add_argument("--ray-num-cpus", type=float, default=None, metavar="N", help="CPUs per run (default 1).")
    eng.add_argument("--ray-num-gpus", type=float, default=None, metavar="N", help="GPUs per run (default 0).")
    eng.add_argument("--slurm-cluster", choices=["slurm", "local"], default=None,
                     help="slurm (sbatch, the default) or local: the same jobs run on this machine "
                     "with submitit's local executor.")
    eng.add_argument("--slurm-arg", nargs="+", action="extend", default=None, metavar="KEY=VALUE",
                     help="A Slurm parameter of submitit's SlurmExecutor (partition, account, time in "
                     "minutes, gpus_per_node, mem, ...); repeatable.")
    eng.add_argument("--slurm-config", default=None, metavar="PATH",
                     help="A YAML runner config file mapping Slurm parameters to values; --slurm-arg wins.")
    parser.set_defaults(_helm_run_parser=parser)


def run(args: argparse.Namespace) -> int:
    """Never raises and never prints a traceback (unless HELMC_DEBUG=1)."""
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(highlight=False, width=160)  # logs and pipes: wide enough for run names
    err = Console(stderr=True, highlight=False)
    from helmc.cli import outside_world
    from helmc.runtime.interrupts import sigint_guard
    from helmc.stdio import OutputError

    try:
        with sigint_guard():
            return _run(args, out, err)
    except KeyboardInterrupt:
        err.print("helm-run: interrupted; run the same command again to resume.", markup=False)
        return EXIT_INTERRUPTED
    except OutputError:
        raise  # standard output or error itself failed: the command line reports it
    except OSError as e:  # the outside world: a read-only or full output folder, a path that is a file
        err.print(f"error: helm-run cannot go on: {outside_world(e)}\n"
                  f"  = note: output folder: {args.output_path}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("HELMC_DEBUG"):
            traceback.print_exc()
        err.print(
            f"error: helm-run failed internally: {type(e).__name__}: {e}\n"
            "  = note: this is a bug in helmc; HELMC_DEBUG=1 shows the traceback",
            markup=False,
        )
        return EXIT_USAGE


# ------------------------------------------------------------------------------ compile


def _compile(args: argparse.Namespace, sink: Any) -> tuple[Any, list[Any]]:
    """Front end + planner: (Plan, entries). Imported here so helm-run starts fast."""
    from helmc.compiler.frontend import load_entries
    from helmc.commands.common import plan_options

    conf_paths = list(args.conf_paths) + list(args.conf_file)
    run_entries = list(args.run_entries) + list(args.run_specs)
    entries = load_entries(conf_paths, run_entries, sink)
    options = plan_options(args)
    plan = _build_plan(entries, args, options, sink)
    return plan, entries


def _build_plan(entries: list[Any], args: argparse.Namespace, options: Any, sink: Any) -> Any:
    from helmc.compiler.catalog import UserAdditions, load_catalog
    from helmc.compiler.planner import build_plan

    catalog = load_catalog(
        UserAdditions(
            local_path=args.local_path,
            plugins=tuple(args.plugins or ()),
            enable_huggingface_models=tuple(args.enable_huggingface_models or ()),
            enable_local_huggingface_models=tuple(args.enable_local_huggingface_models or ()),
        )
    )
    # helm-run says itself why nothing is left to run (HC0402, with --allow-no-runs).
    return build_plan(entries, catalog, options, sink, report_empty=False)


_WILDCARD = re.compile(
    r"\bmodel=(?:all|text_code|text|code|instruction_following|full_functionality_text|limited_functionality_text)\b"
)
_HAS_MODEL = re.compile(r"\bmodel=\b")


def _models_to_run_checks(entries: Sequence[Any], sink: Any) -> None:
    """HELM's helm_run checks without --models-to-run (same regexes, over every entry, before
    any filter), as diagnostics at the entry instead of a bare Exception."""
    from helmc.compiler.diagnostics import diag

    described = [e for e in entries if e.description is not None]
    for e in described:
        m = _WILDCARD.search(e.description.text)
        if m:
            span = _model_arg_span(e) or e.description.span
            sink.add(
                diag(
                    "HC0405",
                    f"`{m.group(0)}` expands to many models, so helm-run needs --models-to-run",
                    span,
                    "a model wildcard",
                    help="pass the models to evaluate, e.g. `--models-to-run openai/gpt2`",
                    notes=["HELM 0.5.16 refuses this too: --models-to-run must be set "
                           "(because the `model=` run expander expands to multiple models)"],
                )
            )
    if described and not any(_HAS_MODEL.search(e.description.text) for e in described):
        e = described[0]
        sink.add(
            diag(
                "HC0405",
                "no entry says `model=`, so helm-run needs --models-to-run",
                e.description.span,
                "no `model=` here",
                help="add `model=ORG/NAME` to the entries, or pass `--models-to-run ORG/NAME`",
                notes=["HELM 0.5.16 refuses this too: --models-to-run must be set "
                       "(because the `model=` run expander is omitted)"],
            )
        )


def _model_arg_span(entry: Any) -> Any:
    for a in reversed(entry.description.args):
        if a.key.value == "model":
            return a.span
    return None


def _no_runs(plan: Any, entries: Sequence[Any], sink: Any, args: argparse.Namespace) -> None:
    """HELM only logs "There were no RunSpecs or they got filtered out."; say why."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.source import SourceFile

    reasons: list[str] = []
    for d in plan.dropped:
        where = f"{d.entry.path}:{d.entry.line}:{d.entry.column}"
        reasons.append(f"{where} `{d.entry.description}`: {d.reason}")
    if not entries:
        reasons.append("no run entries were given (use --run-entries, --conf-paths or --conf-file)")
    span = entries[0].span if entries else SourceFile("<helm-run>", "").span(0, 0)
    notes = reasons[:20] + ([f"... and {len(reasons) - 20} more"] if len(reasons) > 20 else [])
    notes.append("HELM only logs `There were no RunSpecs or they got filtered out` and exits 0")
    filters = [f for f, v in (("--priority", args.priority), ("--models-to-run", args.models_to_run),
                              ("--groups-to-run", args.groups_to_run)) if v is not None]
    sink.add(
        diag(
            "HC0402",
            "nothing to run: every run was filtered out" if plan.dropped else "nothing to run",
            span,
            "no runs from here on",
            help=(f"check {', '.join(filters)}; " if filters else "")
            + "pass --allow-no-runs to make an empty suite succeed",
            notes=notes,
        )
    )


def _emit(diags: list[Any], fmt: str, stream: Any) -> None:
    try:
        from helmc.compiler.emit import emit
    except ImportError:
        emit = None
    if emit is not None:
        emit(diags, fmt, stream)
        return
    for d in diags:  # minimal fallback until the emitters land
        line, col = d.span.start_line_col
        stream.write(f"{d.severity.value}[{d.code}]: {d.message}\n  --> {d.path}:{line}:{col}\n")
        if d.help:
            stream.write(f"  = help: {d.help}\n")
        for n in d.notes:
            stream.write(f"  = note: {n}\n")


# ------------------------------------------------------------------------------ run


def _settings(args: argparse.Namespace) -> Any:
    from helmc.runtime.bridge import HelmSettings

    return HelmSettings(
        output_path=args.output_path,
        suite=args.suite,
        local_path=args.local_path,
        num_threads=args.num_threads,
        dry_run=args.dry_run,
        skip_instances=args.skip_instances,
        cache_instances=args.cache_instances,
        cache_instances_only=args.cache_instances_only,
        skip_completed_runs=args.skip_completed_runs,
        exit_on_error=args.exit_on_error,
        runner_class_name=args.runner_class_name,
        mongo_uri=args.mongo_uri,
        disable_cache=args.disable_cache,
        server_url=args.server_url,
        api_key_path=args.api_key_path,
        plugins=tuple(args.plugins or ()),
        enable_huggingface_models=tuple(args.enable_huggingface_models or ()),
        enable_local_huggingface_models=tuple(args.enable_local_huggingface_models or ()),
        log_config=args.log_config,
        max_eval_instances=args.max_eval_instances,
        num_train_trials=args.num_train_trials,
        models_to_run=tuple(args.models_to_run) if args.models_to_run else None,
        groups_to_run=tuple(args.groups_to_run) if args.groups_to_run else None,
        priority=args.priority,
    )


def _entry_key(e: Any) -> tuple[str, int, int]:
    line, col = e.span.start_line_col
    return (e.span.path, line, col)


def _run(args: argparse.Namespace, out: Any, err: Any) -> int:
    from helmc.compiler.diagnostics import DiagnosticSink, Severity, diag

    if args.cache_instances_only and not args.cache_instances:
        err.print("error: if --cache-instances-only is set, --cache-instances must also be set.", markup=False)
        return EXIT_USAGE
    from helmc.runtime.bridge import suite_name_problem

    problem = suite_name_problem(args.suite)
    if problem is not None:
        err.print(f"error: --suite: {problem}\n  = help: use a plain name such as `v1` or `2026-11-27`",
                  markup=False, soft_wrap=True)
        return EXIT_USAGE
    if args.parallel_runs < 1:
        err.print("error: --parallel-runs must be at least 1.", markup=False)
        return EXIT_USAGE
    code = _check_engine(args)
    if code is not None:
        return code
    if args.run_specs:
        # HELM warns after the whole suite ran; a deprecation is worth saying up front.
        err.print(
            "warning: --run-specs is deprecated and will be removed in a future HELM release; "
            "use --run-entries instead (same meaning).",
            markup=False,
        )

    # 1. Compile everything. Any error: stop before a single run starts, write nothing.
    from helmc.compiler.catalog import CatalogError

    sink = DiagnosticSink()
    try:
        plan, entries = _compile(args, sink)
    except CatalogError as e:
        err.print(f"error: cannot load HELM's catalog: {e}", markup=False)
        return EXIT_USAGE
    if not args.models_to_run:
        _models_to_run_checks(entries, sink)
    if not sink.has_errors and not plan.runs and not args.allow_no_runs:
        _no_runs(plan, entries, sink, args)
    diags = sink.sorted()
    if diags:
        _emit(diags, args.format, sys.stderr)
    if sink.has_errors:
        n = sum(1 for d in diags if d.severity is Severity.ERROR)
        err.print(f"helm-run: {n} error(s); nothing was run.", markup=False)
        return EXIT_FAILED
    if not plan.runs:
        out.print("helm-run: nothing to run.", markup=False)
        return EXIT_OK

    # 2. HELM: configure it as helm_run does, and let it build the RunSpecs.
    from helmc.runtime import bridge

    if not bridge.helm_available():
        err.print(
            "error: helm-run needs crfm-helm, which is not installed in this environment.\n"
            f"  = help: install it with: {bridge.INSTALL_HINT}\n"
            "  = note: `helmc plan` and `helm-check` work without it.",
            markup=False,
        )
        return EXIT_USAGE
    settings = _settings(args)
    build_log = os.path.join(bridge.log_dir(settings), "_build.log")
    try:
        with bridge.redirect_output(build_log):
            bridge.prepare(settings)
            helm_entries = [
                bridge.EntryInput(
                    _entry_key(e), e.description.text, e.priority,
                    tuple(e.groups) if e.groups is not None else None,
                )
                for e in entries
                if e.description is not None
            ]
            built, build_errors = bridge.build_runs(helm_entries, settings)
            if args.parallel_runs > 1 and args.engine == "local" and not build_errors:
                bridge.prewarm(built)
    except bridge.HelmUnavailable as e:
        err.print(f"error: crfm-helm cannot be imported.\n  = help: install it with: {e}", markup=False)
        return EXIT_USAGE
    except bridge.HelmSetupError as e:
        err.print(f"error: HELM refused its configuration: {e}\n  = note: HELM's log: {build_log}", markup=False)
        return EXIT_USAGE

    # 3. Check HELM's RunSpecs against the plan.
    from helmc.runtime.check import compare

    by_key = {_entry_key(e): e for e in entries}
    post = DiagnosticSink()
    for be in build_errors:
        e = by_key.get(be.entry_key)
        if e is not None:
            post.add(diag("HC0502", f"HELM could not build the runs of this entry: {be.message}",
                          e.description.span if e.description else e.span, "HELM raised here",
                          notes=[f"HELM's log: {build_log}"]))
    descriptions = {k: (e.description.text if e.description else "") for k, e in by_key.items()}
    failed_keys = {be.entry_key for be in build_errors}
    for mm in compare(plan, built, descriptions):
        e = by_key.get(mm.entry_key)
        if e is not None and mm.entry_key not in failed_keys:
            post.add(diag("HC0501", "HELM built other runs than helmc planned for this entry",
                          e.description.span if e.description else e.span, "this entry",
                          notes=[mm.message(), "helm-run runs what HELM built; please report this helmc bug"]))
    if post.items:
        _emit(post.sorted(), args.format, sys.stderr)
    if post.has_errors:
        err.print("helm-run: HELM could not build every run; nothing was run.", markup=False)
        return EXIT_FAILED

    from helmc.runtime.suite import run_suite, unique_runs

    runs, dups = unique_runs(built)
    if dups:
        err.print(f"note: {len(dups)} RunSpec name(s) repeated; each runs once: {', '.join(sorted(set(dups)))}",
                  markup=False)
    if args.only_runs:
        wanted = set(args.only_runs)
        unknown = wanted - {r.name for r in runs}
        if unknown:
            err.print(f"warning: --only-runs names no planned run: {', '.join(sorted(unknown))}", markup=False)
        runs = [r for r in runs if r.name in wanted]
    if not runs:
        if args.allow_no_runs:
            out.print("helm-run: nothing to run.", markup=False)
            return EXIT_OK
        err.print("error[HC0402]: nothing to run: HELM built no RunSpec for these entries.", markup=False)
        return EXIT_FAILED

    # 4. Execute.
    from helmc.runtime.engines import make_engine
    from helmc.runtime.journal import JournalError, SuiteLocked, journal_dir
    from helmc.runtime.rerun import invocation_words

    engine = make_engine(_engine_options(args),
                         submit_folder=os.path.join(journal_dir(settings.output_path, settings.suite), "submitit"))
    try:
        result = run_suite(runs, settings, engine, out, workers=args.parallel_runs, resume=not args.fresh,
                           command=invocation_words(args),
                           on_warning=lambda w: err.print(f"warning[HC0751]: {w}", markup=False, soft_wrap=True))
    except SuiteLocked as e:
        err.print(f"error: another helm-run is running suite `{settings.suite}` in this output folder "
                  f"(lock held on {e}/lock); wait for it to finish.", markup=False)
        return EXIT_USAGE
    except JournalError as e:
        err.print(f"error[HC0750]: cannot write the journal {e.path}: {e.error.strerror or e.error}\n"
                  "  = help: -o must name a folder helm-run can write; remove what is in the way",
                  markup=False, soft_wrap=True)
        return EXIT_USAGE

    from helmc.runtime.progress import summary_table

    out.print(summary_table(result.outcomes))
    done = sum(1 for o in result.outcomes if o.status == "completed")
    skipped = sum(1 for o in result.outcomes if o.status == "skipped")
    failed = result.failed
    unfinished = result.unfinished
    retried = result.retried
    out.print(
        f"{done} completed, {skipped} skipped (completed earlier), {len(failed)} failed"
        + (f", {len(unfinished)} not finished" if unfinished else "")
        + (f"; {len(retried)} retried ({sum(1 for o in retried if o.status == 'completed')} of them completed)"
           if retried else "")
        + f"; output in {os.path.join(settings.output_path, 'runs', settings.suite)}",
        markup=False,
    )
    if unfinished:
        out.print(
            f"{len(unfinished)} run(s) did not finish: run the same command again to resume "
            "(completed runs are skipped, the others are redone).",
            markup=False,
        )
    if result.storage_error:
        err.print(f"error: helm-run stopped: {result.storage_error}\n"
                  "  = help: free space or make the output folder writable, then run the same command again",
                  markup=False, soft_wrap=True)
        return EXIT_USAGE
    if failed:
        out.print("To run only the failed runs again:", markup=False)
        out.print("  " + rerun_command(args, [o.name for o in failed]), markup=False, soft_wrap=True)
    if failed:
        return EXIT_FAILED
    if unfinished:
        return EXIT_FAILED if args.exit_on_error else EXIT_INTERRUPTED
    return EXIT_OK


def _engine_options(args: argparse.Namespace) -> Any:
    from helmc.runtime.engines import EngineOptions

    return EngineOptions(
        engine=args.engine,
        parallel_runs=args.parallel_runs,
        retries=args.retries,
        retry_backoff=args.retry_backoff,
        max_runs_per_provider=args.max_runs_per_provider,
        ray_address=args.ray_address,
        ray_num_cpus=args.ray_num_cpus,
        ray_num_gpus=args.ray_num_gpus,
        slurm_cluster=args.slurm_cluster,
        slurm_args=tuple(args.slurm_arg or ()),
        slurm_config=args.slurm_config,
    )


def _check_engine(args: argparse.Namespace) -> int | None:
    """The engine flags, before anything is compiled, started or written: exit 2 on a problem."""
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.runtime.engines import check_engine

    sink = DiagnosticSink()
    check_engine(_engine_options(args), mongo_uri=args.mongo_uri, disable_cache=args.disable_cache,
                 local_path=args.local_path, sink=sink)
    if not sink.items:
        return None
    _emit(sink.sorted(), args.format, sys.stderr)
    if sink.has_errors:
        sys.stderr.write("helm-run: the engine flags are wrong; nothing was started.\n")
        return EXIT_USAGE
    return None


def rerun_command(args: argparse.Namespace, run_names: Sequence[str]) -> str:
    """The command line of this invocation, rebuilt from the parsed flags, limited to the runs."""
    from helmc.runtime.rerun import invocation_words, rerun_command as limited_to

    return limited_to(invocation_words(args), run_names)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (the lead's cli.py wires `helm-run` and `helmc run`)."""
    parser = argparse.ArgumentParser(prog="helm-run", description="Run HELM run entries through helmc.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
