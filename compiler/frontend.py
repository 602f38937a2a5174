"""The front end: files and --run-entries arguments in, run entries (ir.Entry) out."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .conf import entries_of, parse_conf
from .diagnostics import DiagnosticSink, diag
from .ir import ConfFile, Entry, HString
from .run_entry_parser import parse_description
from .source import SourceFile

RUN_ENTRIES_PATH = "<run-entries>"


def read_source(path: str, sink: DiagnosticSink) -> SourceFile | None:
    """Read a file as UTF-8 (as HELM does); an unreadable file is a diagnostic, not a crash."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        src = SourceFile(path, "")
        sink.add(diag("HC0901", f"cannot read `{path}`: {e.strerror or e}", src.span(0, 0), "unreadable"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = data[: e.start].decode("utf-8")
        src = SourceFile(path, good + "\ufffd")
        sink.add(
            diag(
                "HC0901",
                f"`{path}` is not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})",
                src.span(len(good), len(good) + 1),
                "invalid UTF-8 here",
                help="save the file as UTF-8",
            )
        )
        return None
    # Python's universal newlines are what HELM's open() gives pyhocon; keep offsets stable
    # by leaving the text as is: the grammar treats "\r" as whitespace.
    return SourceFile(path, text)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing allocates millions of small acyclic objects (tokens, trees, IR) that all stay
    alive until the end; the cyclic collector would rescan them again and again, making a
    large file cost more than linear time. Refcounting still frees everything.

    The one-shot commands (parse, check, plan) hold it for their whole run, since what they
    build from the entries (JSON, diagnostics) would trigger the same rescans; long-running
    ones (the language server, helm-run's HELM) must not."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_file(source: SourceFile, sink: DiagnosticSink) -> ConfFile:
    diagnostics: list = []
    with gc_paused():
        root = parse_conf(source, diagnostics)
        entries = entries_of(root, source, diagnostics)
    sink.extend(diagnostics)
    return ConfFile(source, tuple(entries))


def conf_files_under(paths: list[str]) -> list[str]:
    """Files as given; a folder means every `*.conf` below it, in a stable order."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(str(f) for f in sorted(Path(p).rglob("*.conf")) if f.is_file())
        else:
            out.append(p)
    return out


def run_entry_entries(run_entries: list[str], sink: DiagnosticSink) -> list[Entry]:
    """--run-entries arguments: HELM gives each priority 1 and no groups."""
    entries: list[Entry] = []
    for i, text in enumerate(run_entries):
        source = SourceFile(RUN_ENTRIES_PATH, text, line_base=i + 1)
        lit = HString(text, source.span(0, len(text)), quoted=False)
        diagnostics: list = []
        desc = parse_description(lit, diagnostics)
        sink.extend(diagnostics)
        entries.append(Entry(description=desc, priority=1, groups=None, span=lit.span, index=i))
    return entries


def load_entries(conf_paths: list[str], run_entries: list[str], sink: DiagnosticSink) -> list[Entry]:
    """All entries in HELM's order: conf files first, then --run-entries."""
    entries: list[Entry] = []
    for path in conf_files_under(conf_paths):
        source = read_source(path, sink)
        if source is not None:
            entries.extend(parse_file(source, sink).entries)
    entries.extend(run_entry_entries(run_entries, sink))
    return entries
