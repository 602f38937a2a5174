"""`helmc fmt PATH... [--check] [--diff] [--stdin]`: conf files in the canonical layout.

The layout and its guarantees (comments kept, meaning unchanged, idempotent) are
compiler/syntax/conf/format.py's; this module reads flags, files and settings, and prints.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import sys
from pathlib import Path

from helmc.compiler.files.atomic_write import write_atomically
from helmc.compiler.syntax.conf.format import format_source
from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.emit import emit
from helmc.compiler.collector import gc_paused
from helmc.compiler.syntax.frontend import conf_files_under, read_source
from helmc.compiler.source import SourceFile

STDIN_PATH = "<stdin>"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="conf files, or folders of *.conf files")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    parser.add_argument("--diff", action="store_true", help="write nothing; print a diff of what would change (exit 1 if any)")
    parser.add_argument("--stdin", action="store_true", help="format standard input to standard output")


def _indent_width(where: str) -> int:
    """`indent-width` of [tool.helmc.format] in the nearest pyproject.toml; 2 without one."""
    from helmc.app.settings import SettingsError, load_settings

    try:
        return load_settings(where).get("fmt", {}).get("indent-width", 2)
    except SettingsError as e:
        raise _UsageError(str(e)) from None


class _UsageError(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    if args.stdin == bool(args.paths):
        print("helmc fmt: give paths, or --stdin (not both)", file=sys.stderr)
        return 2
    try:
        with gc_paused():  # a one-shot command: see gc_paused
            if args.stdin:
                return _stdin(args)
            return _files(args)
    except _UsageError as e:
        print(f"helmc fmt: {e}", file=sys.stderr)
        return 2


def _stdin(args: argparse.Namespace) -> int:
    from helmc.compiler.files.reading import read_stream

    try:  # bounded as every input: `< /dev/zero` never ends
        data = read_stream(getattr(sys.stdin, "buffer", sys.stdin), STDIN_PATH)
        text = data.decode(sys.stdin.encoding or "utf-8", sys.stdin.errors or "strict") if isinstance(data, bytes) else data
    except (OSError, ValueError) as e:
        print(f"helmc fmt: cannot read {STDIN_PATH}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 1
    result = format_source(SourceFile(STDIN_PATH, text), _indent_width("."))
    if result.text is None:
        sys.stdout.write(text)  # left as it was
        emit(list(result.diagnostics), "text", sys.stderr, files=1)
        return 1
    if args.diff:
        sys.stdout.writelines(_diff(STDIN_PATH, text, result.text))
    elif not args.check:
        sys.stdout.write(result.text)
    return 1 if (args.check or args.diff) and result.text != text else 0


def _files(args: argparse.Namespace) -> int:
    sink = DiagnosticSink()
    paths = conf_files_under(args.paths)
    widths: dict[Path, int] = {}
    changed: list[str] = []
    unchanged = failed = 0
    outside = False
    for path in paths:
        source = read_source(path, sink)
        if source is None:
            failed += 1
            continue
        folder = Path(path).resolve().parent
        if folder not in widths:
            widths[folder] = _indent_width(str(folder))
        result = format_source(source, widths[folder])
        if result.text is None:
            sink.extend(d for d in result.diagnostics if d.severity is Severity.ERROR)
            failed += 1
            continue
        if result.text == source.text:
            unchanged += 1
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(_diff(path, source.text, result.text))
        elif args.check:
            print(f"would reformat {path}")
        else:
            # as --fix writes: a kill mid-write leaves the old file or the new, never half of one
            try:
                write_atomically(path, result.text)
            except OSError as e:  # this file is left as it was; the others are still formatted
                print(f"helmc fmt: cannot write `{path}`: {e.strerror or e}; left as it was", file=sys.stderr)
                changed.pop()
                failed += 1
                # A file the user may not write is that file's state (exit 1, as a file with an
                # error); a full disk or a failing device is the outside world's (exit 2).
                outside = outside or e.errno not in _NOT_WRITABLE
    diagnostics = sink.sorted()
    if diagnostics:
        emit(diagnostics, "text", sys.stderr, files=len(paths))
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    parts = [f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}", f"{unchanged} left unchanged"]
    if failed:
        parts.append(f"{failed} not formatted because of errors")
    print(", ".join(parts), file=sys.stderr if args.diff else sys.stdout)
    if outside:
        return 2
    return 1 if failed or ((args.check or args.diff) and changed) else 0


_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def _diff(path: str, before: str, after: str):
    return difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"{path}", f"{path} (formatted)"
    )
