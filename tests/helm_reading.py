"""Two readings of one conf text, for differential tests: HELM's (pyhocon + dacite) and helmc's.

HELM's reading is `read_run_entries`: `open(path)` (universal newlines), then
`pyhocon.ConfigFactory.parse_string`, then `dacite.from_dict(RunEntries, raw)`. We replay it on
text so that generated files need no temporary file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import parse_file
from helmc.compiler.source import SourceFile

Entries = list[tuple[str, Any, Any]]  # (description, priority, groups) in order


@dataclass
class RunEntry:
    """A copy of helm.benchmark.presentation.run_entry.RunEntry, for machines without crfm-helm;
    tests/compiler/syntax/conf/test_reader_pyhocon.py checks that it still equals HELM's (fields, types, defaults)."""

    description: str
    priority: Optional[int] = None
    groups: Optional[List[str]] = None


@dataclass
class RunEntries:
    entries: List[RunEntry]


def run_entries_class() -> type:
    """HELM's RunEntries when crfm-helm is installed, else the copy above."""
    try:
        from helm.benchmark.presentation.run_entry import RunEntries as helm_run_entries
    except ImportError:
        return RunEntries
    return helm_run_entries


def helm_read_errors() -> tuple[type[BaseException], ...]:
    """What HELM's reading raises for a conf text it cannot read: pyparsing's parse errors,
    pyhocon's config errors, dacite's type errors. Anything else is a broken oracle, not a
    verdict on the text, and must fail the test that uses it."""
    import dacite
    import pyparsing
    from pyhocon.exceptions import ConfigException

    return (pyparsing.ParseBaseException, ConfigException, dacite.DaciteError)


def helm_entries(text: str) -> Entries:
    """HELM's entries for a conf text; raises whatever HELM would raise."""
    import dacite
    from pyhocon import ConfigFactory

    text = text.replace("\r\n", "\n").replace("\r", "\n")  # what open() in text mode does
    raw = ConfigFactory.parse_string(text)
    entries = dacite.from_dict(run_entries_class(), raw).entries
    return [(e.description, e.priority, list(e.groups) if e.groups is not None else None) for e in entries]


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
