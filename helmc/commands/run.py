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
    """HELM 0.5.16's helm-run flags (same names, meaning and defaults), then helmc's own: all
    from the one table of options (helmc/options.py)."""
    from helmc.options import Where, add_flags

    add_flags(parser, Where.RUN)
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

    from helmc.commands.common import prices_path
    from helmc.runtime.budget import Budget
    from helmc.settings import SettingsError

    options = options_from_args(args)
    try:
        prices = prices_path(args)
    except SettingsError as e:
        err.print(f"helm-run: {e}", markup=False, soft_wrap=True)
        return 2
    request = HelmRunRequest(
        run_set=RunSet(tuple(args.conf_paths) + tuple(args.conf_file), tuple(args.run_entries) + tuple(args.run_specs)),
        options=options,
        settings=_settings(args, options.catalog),
        engine=_engine_options(args),
        only_runs=tuple(args.only_runs) if args.only_runs else None,
        only_runs_file=args.only_runs_file,
        fresh=args.fresh,
        run_specs_given=bool(args.run_specs),
        command=tuple(invocation_words(args)),
        budget=Budget(args.max_cost, args.max_requests),
        prices=prices,
    )
    result = helm_run(request, out, show=report.show,
                      warn=lambda text: err.print(text, markup=False, soft_wrap=True))
    suite = result.suite
    status = suite.status if suite is not None else None
    if suite is not None:
        settings = request.settings
        print_summary(out, suite.outcomes)
        from helmc.runtime.status import spend_lines

        for line in spend_lines(status) if status is not None else ():
            out.print(line, markup=False, soft_wrap=True)
        report.show(result.diagnostics)
        out.print(suite.summary(os.path.join(settings.output_path, 'runs', settings.suite)), markup=False)
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
        request_limits=tuple((kind, text) for kind in ("requests-per-minute", "tokens-per-minute",
                                                       "max-concurrent-requests")
                             for text in _limit_values(args, kind)),
    )


def _limit_values(args: argparse.Namespace, kind: str) -> list[str]:
    """A governor flag's SCOPE=N values; without the flag, [tool.helmc]'s (as helm-check reads it)."""
    given = getattr(args, kind.replace("-", "_"), None)
    if given is not None:
        return list(given)
    from helmc.settings import SettingsError, load_settings

    try:
        value = load_settings(".").get(kind)
    except SettingsError:  # helm-check reports an unreadable pyproject.toml; helm-run runs without it
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def rerun_command(args: argparse.Namespace, run_names: Sequence[str]) -> str:
    """The command line of this invocation, rebuilt from the parsed flags, limited to the runs
    (listed in a file in helmc's folder of the suite when they are too many for a command line)."""
    from helmc.runtime.journal import journal_dir
    from helmc.runtime.rerun import RunListError, invocation_words, rerun_command as limited_to

    try:
        return limited_to(invocation_words(args), run_names, journal_dir(args.output_path, args.suite))
    except RunListError as e:
        return f"(too many runs for one command line, and their list could not be written: {e})"
