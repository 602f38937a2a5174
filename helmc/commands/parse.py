"""`helmc parse FILE...`: the run entries of conf files, as HELM would read them."""

from __future__ import annotations

import argparse
import sys

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.emit import emit
from helmc.compiler.emit.json import dumps_indented, to_dict
from helmc.compiler.collector import gc_paused
from helmc.compiler.syntax.frontend import conf_files_under, parse_file, read_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE", help="conf files, or folders of *.conf files")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def entry_json(e, nul: bool = True) -> dict:
    """`nul`: whether the entry's file holds a NUL byte (asked once per file: searching the
    file's text for each entry made a large file cost quadratic time)."""
    line, column = e.line_col
    return {
        "description": (as_written(e.description.lit) if nul else e.description.lit.value) if e.description is not None else None,
        "priority": e.priority,
        "groups": list(e.groups) if e.groups is not None else None,
        "line": line,
        "column": column,
    }


def as_written(lit) -> str:
    """A string's value with the NUL bytes of its file: the reader blanks them to spaces so the
    rest of the file can be parsed (HC0003), and the output must show what is there."""
    value, source = lit.value, lit.span.source.text
    if "\x00" not in source or " " not in value:
        return value
    return "".join("\x00" if ch == " " and source[lit.span_of(i, i + 1).start] == "\x00" else ch
                   for i, ch in enumerate(value))


def parse_paths(paths: list[str]) -> tuple[list[dict], DiagnosticSink]:
    """The `files` of the JSON output, and the diagnostics."""
    sink = DiagnosticSink()
    files = []
    with gc_paused():
        for path in conf_files_under(paths, sink):
            source = read_source(path, sink)
            entries = parse_file(source, sink).entries if source is not None else ()
            nul = source is not None and "\x00" in source.text
            files.append({"path": path, "entries": [entry_json(e, nul) for e in entries]})
    return files, sink


def run(args: argparse.Namespace) -> int:
    with gc_paused():  # held through the output too: see gc_paused
        return _print(*parse_paths(args.paths), args.format)


def _print(files: list[dict], sink: DiagnosticSink, fmt: str) -> int:
    diagnostics = sink.sorted()
    if fmt == "json":
        # One write of json.dumps(..., indent=2, ensure_ascii=False)'s bytes: see dumps_indented.
        sys.stdout.write(dumps_indented({"files": files, "diagnostics": [to_dict(d) for d in diagnostics]}) + "\n")
    else:
        from helmc.compiler.emit.text import clean  # text from the files: nothing reaches the terminal raw

        for f in files:
            print(clean(f"{f['path']}: {len(f['entries'])} entries"))
            for e in f["entries"]:
                extra = ""
                if e["priority"] is not None:
                    extra += f"  priority={e['priority']}"
                if e["groups"] is not None:
                    extra += f"  groups={','.join(e['groups'])}"
                print(clean(f"  {e['line']}:{e['column']}  {e['description']}{extra}"))
        if diagnostics:
            emit(diagnostics, "text", sys.stdout, files=len(files))
    return 1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0
