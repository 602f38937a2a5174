"""`helm-run` (= `helmc run`): its flags, parsed into a HelmRunRequest; runtime/helm_run.py
runs it (compile everything, then execute the plan through HELM); this prints what comes back.

Exit codes: 0 every run completed (or was completed earlier); 1 errors in the inputs (nothing
ran, nothing was written) or at least one run failed; 2 bad usage, crfm-helm not installed,
HELM refusing its configuration, or an internal failure; 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, Sequence


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
        help="Name of the suite this run belongs to (default: default). HELM's own help says "
        "\"default is today's date\", but its default is `default` too.",
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
    from helmc.compiler.emit.table import console_for

    out = console_for()  # logs and pipes: nothing wrapped, run names and commands stay whole
    err = console_for(stderr=True)
    from helmc.cli import outside_world
    from helmc.runtime.helm_run import EXIT_INTERRUPTED, EXIT_USAGE
    from helmc.runtime.interrupts import sigint_guard
    from helmc.stdio import OutputError

    report = _Report(args.format)
    try:
        with sigint_guard():
            try:
                return _run(args, out, err, report)
            finally:
                report.close()
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


# ------------------------------------------------------------------------------ run


def _settings(args: argparse.Namespace, catalog: Any) -> Any:
    """What HELM reads of the flags; `catalog` is the compile's catalog additions (one object)."""
    from helmc.runtime.bridge import HelmSettings

    return HelmSettings(
        output_path=args.output_path,
        suite=args.suite,
        catalog=catalog,
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
        log_config=args.log_config,
    )


class _Report:
    """Diagnostics through --format, on stderr: text as they come (before the runs start, and
    the failed runs at the end); a machine format as one document when helm-run ends."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.shown = 0
        self.pending: list[Any] = []

    def show(self, diagnostics: Sequence[Any]) -> None:
        new = list(diagnostics[self.shown :])
        self.shown = len(diagnostics)
        if self.fmt == "text":
            self._write(new)
        else:
            self.pending.extend(new)

    def finish(self, diagnostics: Sequence[Any]) -> None:
        """The last diagnostics, before helm-run's closing line."""
        self.show(diagnostics)
        self.close()

    def close(self) -> None:
        self._write(self.pending)
        self.pending = []

    def _write(self, diagnostics: list[Any]) -> None:
        from helmc.compiler.diagnostics import Diagnostic
        from helmc.compiler.emit import emit

        if diagnostics:
            emit(sorted(diagnostics, key=Diagnostic.sort_key), self.fmt, sys.stderr)
            sys.stderr.flush()


def _run(args: argparse.Namespace, out: Any, err: Any, report: _Report) -> int:
    from helmc.commands.common import options_from_args
    from helmc.compiler.session import RunSet
    from helmc.runtime.helm_run import Ending, HelmRunRequest, helm_run
    from helmc.runtime.progress import print_summary
    from helmc.runtime.rerun import invocation_words

    options = options_from_args(args)
    request = HelmRunRequest(
        run_set=RunSet(tuple(args.conf_paths) + tuple(args.conf_file), tuple(args.run_entries) + tuple(args.run_specs)),
        options=options,
        settings=_settings(args, options.catalog),
        engine=_engine_options(args),
        only_runs=tuple(args.only_runs) if args.only_runs else None,
        fresh=args.fresh,
        run_specs_given=bool(args.run_specs),
        command=tuple(invocation_words(args)),
    )
    result = helm_run(request, out, show=report.show,
                      warn=lambda text: err.print(text, markup=False, soft_wrap=True))
    suite = result.suite
    status = suite.status if suite is not None else None
    if suite is not None:
        settings = request.settings
        print_summary(out, suite.outcomes)
        report.show(result.diagnostics)
        skipped = sum(1 for o in suite.outcomes if o.status == "skipped")
        # The counts as the journal has them, the very line `helmc status` prints.
        counts = status.counts_line() if status is not None else f"{len(suite.outcomes)} planned"
        out.print(f"{counts}; {skipped} of the done runs completed earlier (skipped); "
                  f"output in {os.path.join(settings.output_path, 'runs', settings.suite)}", markup=False)
    else:
        report.finish(result.diagnostics)
    if result.message is not None:
        (out if result.ending is Ending.NOTHING_TO_RUN else err).print(result.message, markup=False, soft_wrap=True)
    if status is not None and status.rerun is not None and result.ending in (Ending.RUNS_FAILED, Ending.UNFINISHED):
        out.print(status.rerun_advice, markup=False)
        out.print("  " + status.rerun, markup=False, soft_wrap=True)
    return result.exit_code


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
