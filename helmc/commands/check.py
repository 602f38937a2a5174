"""`helm-check PATH...`: lint conf files (and --run-entries) against HELM's rules.

Exit 0: no errors; 1: errors found; 2: bad usage or internal failure (ruff's convention).
Defaults come from `[tool.helmc]` in the nearest pyproject.toml; flags win over them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections import Counter
from typing import Any, TextIO

from helmc.compiler.codes import CODES
from helmc.compiler.diagnostics import Diagnostic, DiagnosticSink, Severity
from helmc.compiler.emit import FORMATS, emit
from helmc.compiler.frontend import conf_files_under, gc_paused


class UsageError(Exception):
    """Bad flags or settings: reported in one line, exit code 2."""


def _codes(values: list[str] | None) -> list[str] | None:
    """`--select HC03,HC0106 --select HC01` -> ["HC03", "HC0106", "HC01"]; None when not given."""
    if values is None:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Defaults are None so that settings from pyproject.toml can fill what the flags leave out.
    from helmc.commands.common import add_selection_arguments

    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="conf files (each checked as `helm-run --conf-paths FILE` reads it), folders of *.conf files, "
        "or HELM config YAML files (model_deployments.yaml, ...)",
    )
    add_selection_arguments(parser)
    parser.add_argument(
        "--allow-no-runs", action="store_true", help="as helm-run's flag: nothing left to run is no error"
    )
    parser.add_argument("--format", choices=FORMATS, default=None, help="output format (default: text)")
    parser.add_argument("--local-path", default=None, help="HELM's local config folder (default: prod_env)")
    parser.add_argument("--plugins", nargs="+", default=None, metavar="MODULE", help="plugin modules or paths")
    parser.add_argument("--enable-huggingface-models", nargs="+", default=None, metavar="MODEL")
    parser.add_argument("--enable-local-huggingface-models", nargs="+", default=None, metavar="PATH")
    parser.add_argument(
        "--no-catalog", action="store_true", default=None, help="check syntax and schema only, not names against HELM's catalog"
    )
    parser.add_argument(
        "--select", action="append", default=None, metavar="CODES",
        help="report only these codes or prefixes, comma-separated (e.g. HC03,HC0106)",
    )
    parser.add_argument(
        "--ignore", action="append", default=None, metavar="CODES", help="never report these codes or prefixes"
    )
    parser.add_argument("--statistics", action="store_true", help="print the number of diagnostics per code instead")
    parser.add_argument("--output-file", "-o", default=None, metavar="FILE", help="write the output to FILE")
    parser.add_argument("--isolated", action="store_true", help="ignore [tool.helmc] in pyproject.toml")
    parser.add_argument("--fix", action="store_true", help="apply every safe fix to the files in place")
    parser.add_argument("--unsafe-fixes", action="store_true", help="with --fix, apply the unsafe fixes too")


def _check_selectors(codes: list[str], flag: str) -> None:
    for c in codes:
        if not any(code.startswith(c) for code in CODES):
            raise UsageError(f"{flag} {c}: no diagnostic code starts with `{c}` (codes look like HC0308)")


def is_selected(code: str, select: list[str] | None, ignore: list[str] | None) -> bool:
    """The most specific matching prefix decides; on a tie --ignore wins. No --select: all."""
    best_select = max((len(s) for s in select if code.startswith(s)), default=-1) if select else 0
    best_ignore = max((len(s) for s in (ignore or ()) if code.startswith(s)), default=-1)
    if best_select < 0:
        return False
    return best_ignore < best_select or best_ignore < 0


def filter_diagnostics(diagnostics: list[Diagnostic], select: list[str] | None, ignore: list[str] | None) -> list[Diagnostic]:
    return [d for d in diagnostics if is_selected(d.code, select, ignore)]


def apply_settings(args: argparse.Namespace) -> list[str]:
    """Fill flags the user left out from [tool.helmc]; return warnings to print."""
    from helmc.settings import SettingsError, load_settings

    warnings: list[str] = []
    values: dict[str, Any] = {}
    if not args.isolated:
        try:
            settings = load_settings(".")
        except SettingsError as e:
            raise UsageError(str(e)) from None
        warnings = settings.warnings
        values = settings.values
    for key, default in (
        ("format", "text"),
        ("local-path", "prod_env"),
        ("plugins", []),
        ("models-to-run", None),
        ("enable-huggingface-models", []),
        ("enable-local-huggingface-models", []),
        ("no-catalog", False),
        ("output-file", None),
    ):
        attr = key.replace("-", "_")
        if getattr(args, attr) is None:
            setattr(args, attr, values.get(key, default))
    if args.format not in FORMATS:
        raise UsageError(f"format `{args.format}` in [tool.helmc] is none of {', '.join(FORMATS)}")
    select = _codes(args.select)
    ignore = _codes(args.ignore)
    args.select = select if select is not None else _codes(values.get("select"))
    # --ignore adds to the settings' list, so a one-off ignore keeps the project's own.
    args.ignore = (_codes(values.get("ignore")) or []) + (ignore or [])
    _check_selectors(args.select or [], "--select")
    _check_selectors(args.ignore, "--ignore")
    return warnings


def fix_files(files: list[str], config_paths: list[str], args: argparse.Namespace) -> list:
    """--fix: the fixes of the selected diagnostics, applied to each conf file and HELM config
    YAML file in place."""
    from helmc.commands.common import options_from_args
    from helmc.compiler.fixes import check_config_source, check_source, fix_files as apply_to_files
    from helmc.compiler.session import load_catalog_for

    # The catalog's own problems are reported by the check that follows, not twice.
    catalog = None if args.no_catalog else load_catalog_for(options_from_args(args), DiagnosticSink())
    configs = set(config_paths)

    def check_of(path: str):
        if path in configs:
            return lambda s: check_config_source(s, args.plugins, names=not args.no_catalog)
        return lambda s: check_source(s, catalog)

    wanted = lambda d: is_selected(d.code, args.select, args.ignore)  # noqa: E731
    applied, errors = apply_to_files(files + config_paths, check_of, unsafe=args.unsafe_fixes, wanted=wanted)
    for e in errors:
        print(f"helm-check: {e}", file=sys.stderr)
    if applied and (args.statistics or args.format not in ("text", "json")):  # else the emitter reports them
        print(f"helm-check: fixed {len(applied)} problem(s)", file=sys.stderr)
    return applied


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


def _input_named(output: str, inputs: list[str]) -> str | None:
    """The input that `output` names (the same file, whatever the spelling or link), if any."""
    try:
        out = os.stat(output)
    except OSError:
        return None  # it does not exist yet, so it is no input
    for p in inputs:
        try:
            st = os.stat(p)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            return p
    return None


def run(args: argparse.Namespace) -> int:
    try:
        for w in apply_settings(args):
            print(f"helm-check: warning: {w}", file=sys.stderr)
    except UsageError as e:
        print(f"helm-check: {e}", file=sys.stderr)
        return 2
    if not args.paths and not args.run_entries and not args.conf_paths and not args.conf_file:
        print("helm-check: give at least one conf file, folder, -c/--conf-paths or --run-entries", file=sys.stderr)
        return 2
    if args.statistics and args.format not in ("text", "json"):
        print(f"helm-check: --statistics prints a table (text) or JSON, not {args.format}; "
              "use --format text or --format json with it", file=sys.stderr)
        return 2
    if getattr(args, "unsafe_fixes", False) and not getattr(args, "fix", False):
        print("helm-check: --unsafe-fixes applies fixes only with --fix", file=sys.stderr)
        return 2
    with gc_paused():  # held through the output too: see gc_paused
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    from helmc.commands.common import options_from_args
    from helmc.compiler.prodenv import check_paths, split_paths
    from helmc.compiler.session import check_run_sets, compile_run_sets

    sink = DiagnosticSink()
    conf_paths, config_paths = split_paths(args.paths, sink)  # HELM's config YAML files: HC06xx
    found = conf_files_under(conf_paths, sink)
    run_sets = check_run_sets(found, [*args.conf_paths, *args.conf_file], args.run_entries)
    files = [f for rs in run_sets for f in conf_files_under(list(rs.conf_paths))]
    if args.paths and not found and not config_paths:
        print(f"helm-check: warning: no *.conf files under {', '.join(args.paths)}", file=sys.stderr)
    if args.output_file:
        clash = _input_named(args.output_file, files + config_paths + [p for p in args.plugins if os.path.isfile(p)])
        if clash is not None:
            print(f"helm-check: -o/--output-file `{args.output_file}` is the input `{clash}`; "
                  "refusing to write over an input", file=sys.stderr)
            return 2
    fixed = fix_files(files, config_paths, args) if getattr(args, "fix", False) else None
    compile_run_sets(run_sets, options_from_args(args), sink, "check")
    checked = check_paths(config_paths, args.local_path, sink, args.plugins, names=not args.no_catalog)
    kept = filter_diagnostics(sink.items, args.select, args.ignore)
    # To a file: render into memory, then write it aside and rename: never a half-written file.
    # To stdout: write directly, so the text format keeps its colours on a terminal.
    out: TextIO = io.StringIO() if args.output_file else sys.stdout
    if args.statistics:
        write_statistics(kept, args.format, out)
    else:
        emit(
            kept, args.format, out, files=len(files) + checked, run_entries=len(args.run_entries),
            fixed=fixed, unsafe_fixes=getattr(args, "unsafe_fixes", False),
        )
    if args.output_file:
        assert isinstance(out, io.StringIO)
        from helmc.compiler.atomic_write import write_atomically

        try:
            write_atomically(args.output_file, out.getvalue())
        except OSError as e:
            print(f"helm-check: cannot write `{args.output_file}`: {e.strerror or e}", file=sys.stderr)
            return 2
    return 1 if any(d.severity is Severity.ERROR for d in kept) else 0
