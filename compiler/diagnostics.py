"""Diagnostics: what is wrong, where, and how to fix it (rustc's primary label, help, note)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .codes import CODES, Severity  # noqa: F401 - Severity is the registry's, used here and by importers
from .frozen import record
from .source import Span


@record
class Label:
    span: Span
    message: str = ""


class Applicability(str, Enum):
    """Whether `helm-check --fix` may apply a fix on its own (ruff's safe and unsafe fixes).

    SAFE: the single right edit (a unique close did-you-mean, quotes around a number, the
    pre-2023 rewrite); `--fix` applies it. UNSAFE: one of several plausible edits, or an edit
    that changes what HELM does with a file it reads today; only `--unsafe-fixes` applies it.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"


@record
class Fix:
    """An edit: replace the text of `span` with `replacement`. The place that makes a fix says
    how sure it is; a fix that does not say is never applied without --unsafe-fixes."""

    span: Span
    replacement: str
    applicability: Applicability = Applicability.UNSAFE

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@record
class Diagnostic:
    code: str
    severity: Severity
    message: str
    primary: Label
    secondary: tuple[Label, ...] = ()
    help: str | None = None
    notes: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def span(self) -> Span:
        return self.primary.span

    @property
    def path(self) -> str:
        return self.primary.span.path

    def full_message(self) -> str:
        """The message with its help and notes, for formats that carry one plain text."""
        text = self.message
        if self.help:
            text += f"\nhelp: {self.help}"
        for n in self.notes:
            text += f"\nnote: {n}"
        return text

    def sort_key(self) -> tuple:
        span = self.primary.span  # not the properties: every emitter sorts every diagnostic
        line, col = span.source.line_col(span.start)
        return (span.source.path, line, col, self.code)


def diag(
    code: str,
    message: str,
    span: Span,
    label: str = "",
    *,
    help: str | None = None,
    notes: tuple[str, ...] | list[str] = (),
    fixes: tuple[Fix, ...] | list[Fix] = (),
    secondary: tuple[Label, ...] | list[Label] = (),
    severity: Severity | None = None,
) -> Diagnostic:
    """Build a diagnostic whose severity defaults to the one its code is registered with."""
    rule = CODES[code]
    return Diagnostic(
        code=code,
        severity=severity or rule.severity,
        message=message,
        primary=Label(span, label),
        secondary=tuple(secondary),
        help=help,
        notes=tuple(notes),
        fixes=tuple(fixes),
    )


@dataclass(slots=True)
class DiagnosticSink:
    """Collects diagnostics from every stage; nothing stops the pipeline early."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, d: Diagnostic) -> None:
        self.items.append(d)

    def extend(self, ds) -> None:
        self.items.extend(ds)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)
