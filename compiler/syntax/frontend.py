"""The front end: files and --run-entries arguments in, run entries (ir.Entry) out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from .conf import read_entries
from ..diagnostics import DiagnosticSink, diag
from ..ir import ConfFile, Entry, HString
from .run_entry import parse_description
from ..collector import gc_paused
from ..files.reading import read_input_bytes
from ..source import SourceFile

RUN_ENTRIES_PATH = "<run-entries>"


def read_source(path: str, sink: DiagnosticSink) -> SourceFile | None:
    """Read a file as UTF-8 (as HELM does); an unreadable file is a diagnostic, not a crash."""
    try:
        data = read_input_bytes(path)
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


def parse_file(source: SourceFile, sink: DiagnosticSink) -> ConfFile:
    diagnostics: list = []
    with gc_paused():
        entries = read_entries(source, diagnostics)
    sink.extend(diagnostics)
    return ConfFile(source, tuple(entries))


def conf_files_under(paths: list[str], sink: DiagnosticSink | None = None) -> list[str]:
    """Files as given; a folder means every `*.conf` below it, in a stable order.

    Nothing is skipped without a word: a `*.conf` that is no regular file (a broken link, a
    FIFO) is listed, so that reading it reports why; a folder that cannot be listed is a
    diagnostic in `sink` (HC0901)."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(str(f) for f in sorted(_walk_confs(p, sink)))
        else:
            out.append(p)
    return out


def _walk_confs(root: str, sink: DiagnosticSink | None) -> list[Path]:
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(e: OSError) -> None:
        if sink is not None:
            where = e.filename or root
            src = SourceFile(str(where), "")
            sink.add(diag("HC0901", f"cannot read folder `{where}`: {e.strerror or e}", src.span(0, 0),
                          "unreadable", help="its *.conf files were not checked; fix its permissions"))

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(folder)
        except OSError as e:
            unreadable(e)
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symbolic link back up the tree
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        found.extend(Path(folder, f) for f in files if f.endswith(".conf"))
    return found


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


def load_entries(conf_paths: list[str], run_entries: list[str], sink: DiagnosticSink,
                 texts: Mapping[str, str] | None = None) -> list[Entry]:
    """All entries in HELM's order: conf files first, then --run-entries. `texts` (absolute
    path -> text) stands in for those files on disk: an editor's documents."""
    entries: list[Entry] = []
    for path in conf_files_under(conf_paths, sink):
        given = texts.get(os.path.abspath(path)) if texts else None
        source = SourceFile(path, given) if given is not None else read_source(path, sink)
        if source is not None:
            entries.extend(parse_file(source, sink).entries)
    entries.extend(run_entry_entries(run_entries, sink))
    return entries
