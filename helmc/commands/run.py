"""`helm-run` (= `helmc run`): its flags; helmc/app/run.py reads them into a HelmRunRequest and
runtime/helm_run.py runs it (compile everything, then execute the plan through HELM); this
prints what comes back.

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
    from the one table of options (helmc/app/options.py)."""
    from helmc.app.options import Where, add_flags

    add_flags(parser, Where.RUN)


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
    from helmc.app.run import helm_run_flags
    from helmc.runtime.helm_run import Ending
    from helmc.runtime.progress import print_summary

    result = helm_run_flags(args, out, show=report.show,
                            warn=lambda text: err.print(text, markup=False, soft_wrap=True))
    suite = result.suite
    status = suite.status if suite is not None else None
    if suite is not None:
        print_summary(out, suite.outcomes)
        from helmc.runtime.status import spend_lines

        for line in spend_lines(status) if status is not None else ():
            out.print(line, markup=False, soft_wrap=True)
        report.show(result.diagnostics)
        out.print(suite.summary(os.path.join(args.output_path, 'runs', args.suite)), markup=False)
    else:
        report.finish(result.diagnostics)
    if result.message is not None:
        (out if result.ending is Ending.NOTHING_TO_RUN else err).print(result.message, markup=False, soft_wrap=True)
    if status is not None and status.rerun is not None and result.ending in (Ending.RUNS_FAILED, Ending.UNFINISHED):
        out.print(status.rerun_advice, markup=False)
        out.print("  " + status.rerun, markup=False, soft_wrap=True)
    return result.exit_code
