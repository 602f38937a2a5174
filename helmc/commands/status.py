"""`helmc status`: the state of each run of a suite, read from its journal.

Read-only and lock-free, so it works while a helm-run of the suite is in progress. What to
show and the exit code come from runtime/status.py (`status_report`); diagnostics go through
--format: on stderr, or inside the JSON document when there is a state to show.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

_LISTED = 50  # runs listed per state in text; --format json lists every run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", type=str, default="default", help="The suite (helm-run's --suite; default `default`).")
    parser.add_argument("-o", "--output-path", type=str, default="benchmark_output",
                        help="helm-run's output folder (default benchmark_output, as helm-run).")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="Output format (default text).")


def run(args: argparse.Namespace) -> int:
    from helmc.compiler.emit import emit
    from helmc.runtime.status import status_report

    report = status_report(args.output_path, args.suite)
    if report.usage is not None:
        print(f"error: {_clean(report.usage)}", file=sys.stderr)
        return report.exit_code
    status = report.status
    if args.format == "json" and status is not None:  # one document, its diagnostics inside
        from helmc.compiler.emit.json import to_dict

        doc = status.to_json()
        doc["diagnostics"] = [to_dict(d) for d in report.diagnostics]
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return report.exit_code
    if report.diagnostics:
        emit(report.diagnostics, args.format, sys.stderr)
    if status is not None:
        _text(status, sys.stdout)
    return report.exit_code


def _text(status: Any, out: TextIO) -> None:
    out.write(f"suite `{_clean(status.suite)}` in {_clean(status.output_path)}\n")
    s = status.session
    if s is not None:
        now = {True: "still running", False: "not running any more", None: "cannot tell if it still runs"}
        out.write(f"helm-run: pid {s.pid} on {_clean(s.host)}, started {_when(s.started)}, "
                  f"{now[status.alive]}\n")
    out.write(status.counts_line() + "\n")  # the line helm-run's summary ends with
    for st in ("failed", "interrupted", "running", "pending", "done"):
        runs = [r for r in status.runs if r.state == st]
        if not runs:
            continue
        out.write(f"\n{st}:\n")
        for r in runs[:_LISTED]:
            extra = []
            if r.attempts > 1:
                extra.append(f"{r.attempts} attempts")
            if st == "running" and r.started is not None:
                extra.append(f"since {_when(r.started)}")
            if st == "done" and r.duration is not None:
                extra.append(f"{r.duration:.1f} s")
            if r.requests:
                c = r.requests
                extra.append(f"{c.get('sent', 0)} requests sent, {c.get('throttled', 0)} answered 429"
                             + (f", {c['failed']} failed for good" if c.get("failed") else ""))
            out.write(f"  {_clean(r.name)}" + (f"  ({', '.join(extra)})" if extra else "") + "\n")
            if st == "failed":
                out.write(f"    error: {_clean(r.error or 'no message')}\n")
            if st in ("failed", "interrupted") and r.log:
                out.write(f"    log: {_clean(r.log)}\n")
            if st == "pending" and r.reason:
                out.write(f"    {_clean(r.reason)}\n")
        if len(runs) > _LISTED:
            out.write(f"  ... and {len(runs) - _LISTED} more (--format json lists every run)\n")
    from helmc.runtime.status import spend_lines

    spend = spend_lines(status)
    if spend:
        out.write("\n" + "\n".join(_clean(line) for line in spend) + "\n")
    if status.rerun:
        out.write(f"\n{status.rerun_advice}\n  {_clean(status.rerun)}\n")
        if status.alive:
            out.write("  (once the running helm-run has finished: it holds the suite's lock)\n")
    elif status.rerun_error:
        out.write(f"\nerror: {_clean(status.rerun_error)}\n")


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]}


def _clean(text: str) -> str:
    """Text from the journal, with control characters shown escaped, never sent to the terminal."""
    return text.translate(_CONTROL)
