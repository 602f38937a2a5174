"""`helm-check PATH...`: its flags; helmc/app/check.py settles them with `[tool.helmc]` in the
nearest pyproject.toml (flags win) into a HelmCheckRequest and checks (and fixes) the inputs;
this prints what comes back.

Exit 0: no errors; 1: errors found; 2: bad usage or internal failure (ruff's convention).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from typing import TextIO

from helmc.compiler.codes import CODES
from helmc.compiler.diagnostics import Diagnostic
from helmc.compiler.emit import emit
from helmc.compiler.collector import gc_paused
from helmc.app.check import HelmCheckRequest, HelmCheckResult, UsageError, helm_check, request_from_flags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Flags that [tool.helmc] may give default to None, so that settings fill what is left out.
    from helmc.app.options import Where, add_flags

    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="conf files (each checked as `helm-run --conf-paths FILE` reads it), folders of *.conf files, "
        "or HELM config YAML files (model_deployments.yaml, ...)",
    )
    add_flags(parser, Where.CHECK)


def write_statistics(diagnostics: list[Diagnostic], fmt: str, stream: TextIO) -> None:
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if d.fixes)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        out = [
            {"code": code, "name": CODES[code].name if code in CODES else None, "count": n, "fixable": fixable[code]}
            for code, n in rows
        ]
        json.dump(out, stream, indent=2)
        stream.write("\n")
        return
    width = max((len(str(n)) for n in counts.values()), default=1)
    for code, n in rows:
        name = CODES[code].name if code in CODES else ""
        mark = f"  ({fixable[code]} fixable)" if fixable[code] else ""
        stream.write(f"{n:>{width}}  {code}  {name}{mark}\n")


def run(args: argparse.Namespace) -> int:
    try:
        request, warnings = request_from_flags(vars(args), isolated=args.isolated)
    except UsageError as e:
        print(f"helm-check: {e}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"helm-check: warning: {w}", file=sys.stderr)
    with gc_paused():  # held through the output too: see gc_paused
        return _print(request, helm_check(request))


def _print(request: HelmCheckRequest, result: HelmCheckResult) -> int:
    for note in result.notes:
        print(f"helm-check: {note}", file=sys.stderr)
    if result.refusal is not None:
        print(f"helm-check: {result.refusal}", file=sys.stderr)
        return result.exit_code
    report = request.report
    if result.fixed and (report.statistics or report.format not in ("text", "json")):  # else the emitter says it
        print(f"helm-check: fixed {len(result.fixed)} problem(s)", file=sys.stderr)
    # To a file: render into memory, then write it aside and rename: never a half-written file.
    # To stdout: write directly, so the text format keeps its colours on a terminal.
    out: TextIO = io.StringIO() if report.output_file else sys.stdout
    if report.statistics:
        write_statistics(result.diagnostics, report.format, out)
    else:
        emit(
            result.diagnostics, report.format, out, files=result.files,
            run_entries=len(request.run_set.run_entries), fixed=result.fixed, unsafe_fixes=request.unsafe_fixes,
        )
    if report.output_file:
        assert isinstance(out, io.StringIO)
        from helmc.compiler.files.atomic_write import write_atomically

        try:
            write_atomically(report.output_file, out.getvalue())
        except OSError as e:
            print(f"helm-check: cannot write `{report.output_file}`: {e.strerror or e}", file=sys.stderr)
            return 2
    return result.exit_code
