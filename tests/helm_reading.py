"""Two readings of one conf text, for differential tests: HELM's (pyhocon + dacite) and helmc's.

HELM's reading is `read_run_entries`: `open(path)` (universal newlines), then
`pyhocon.ConfigFactory.parse_string`, then `dacite.from_dict(RunEntries, raw)`. We replay it on
text so that generated files need no temporary file.
"""

from __future__ import annotations

from typing import Any

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.frontend import parse_file
from helmc.compiler.source import SourceFile

Entries = list[tuple[str, Any, Any]]  # (description, priority, groups) in order


def helm_entries(text: str) -> Entries:
    """HELM's entries for a conf text; raises whatever HELM would raise."""
    from pyhocon import ConfigFactory

    text = text.replace("\r\n", "\n").replace("\r", "\n")  # what open() in text mode does
    raw = ConfigFactory.parse_string(text)
    try:
        import dacite
        from helm.benchmark.presentation.run_entry import RunEntries

        entries = dacite.from_dict(RunEntries, raw).entries
        return [(e.description, e.priority, list(e.groups) if e.groups is not None else None) for e in entries]
    except ImportError:  # crfm-helm absent: dacite's default reading, done by hand
        out: Entries = []
        for e in raw["entries"]:
            if not isinstance(e.get("description"), str):
                raise TypeError("description must be a str")
            g = e.get("groups")
            out.append((e["description"], e.get("priority"), list(g) if g is not None else None))
        return out


def helmc_read(text: str, path: str = "gen.conf") -> tuple[Entries, list]:
    """helmc's entries (as `helmc parse` reports them) and all diagnostics."""
    sink = DiagnosticSink()
    conf = parse_file(SourceFile(path, text), sink)
    entries = [
        (e.description.text if e.description is not None else None, e.priority, list(e.groups) if e.groups is not None else None)
        for e in conf.entries
    ]
    return entries, sink.items


def errors(diagnostics: list) -> list:
    return [d for d in diagnostics if d.severity is Severity.ERROR]
