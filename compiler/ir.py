"""The typed IR: frozen dataclasses, a span on every node.

Two layers:
- HOCON values (`HValue` and friends), produced from the conf grammar's parse tree;
- run entries (`Entry`, `Description`, `Argument`), produced by the conf reader (compiler/conf/schema.py) and the
  run-entry grammar. Spans inside a description point into the conf file, escapes included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .source import SourceFile, Span

Scalar = Union[str, int, float, bool, None]


# ---------------------------------------------------------------- HOCON values


@dataclass(frozen=True, slots=True)
class HString:
    value: str
    span: Span
    quoted: bool
    # offsets[i] is the file offset of decoded character i (len(value) + 1 items, the last is
    # the end); None for an unquoted or concatenated string whose characters map one to one.
    offsets: tuple[int, ...] | None = None

    def span_of(self, start: int, end: int) -> Span:
        """The file span of decoded characters [start, end) of this string."""
        if self.offsets is None:
            base = self.span.start + (1 if self.quoted else 0)
            return Span(self.span.source, base + start, base + end)
        return Span(self.span.source, self.offsets[start], self.offsets[end])


@dataclass(frozen=True, slots=True)
class HNumber:
    value: int | float
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class HBool:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class HNull:
    span: Span


@dataclass(frozen=True, slots=True)
class HField:
    key: str
    key_span: Span
    value: "HValue"
    span: Span


@dataclass(frozen=True, slots=True)
class HObject:
    # Resolved fields in first-definition order, duplicates already merged as HOCON does.
    fields: tuple[HField, ...]
    span: Span

    def get(self, key: str) -> HField | None:
        for f in self.fields:
            if f.key == key:
                return f
        return None


@dataclass(frozen=True, slots=True)
class HArray:
    items: tuple["HValue", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class HError:
    """A value that could not be read; its diagnostic is already reported."""

    span: Span


HValue = Union[HString, HNumber, HBool, HNull, HObject, HArray, HError]


# ---------------------------------------------------------------- run entries


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of a description as written, with its span in the source."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Argument:
    key: Text
    raw: Text  # the value as written
    value: int | float | str  # as parse_object_spec coerces it
    span: Span  # the whole `key=value`


@dataclass(frozen=True, slots=True)
class Description:
    """A run entry description, `name:key=value,...`, parsed as parse_object_spec reads it."""

    text: str
    span: Span
    name: Text
    args: tuple[Argument, ...]
    ok: bool  # False when the run-entry syntax pass reported an error

    def arg_dict(self) -> dict[str, int | float | str]:
        """The args as HELM's dict sees them: a later duplicate key wins."""
        return {a.key.value: a.value for a in self.args}


@dataclass(frozen=True, slots=True)
class Entry:
    """One run entry, from a conf file's `entries` or from --run-entries."""

    description: Description | None  # None when the description is missing or not a string
    priority: int | None
    groups: tuple[str, ...] | None
    span: Span  # the entry's object (opening `{`), or the whole argument
    index: int  # position in its file
    priority_span: Span | None = None
    groups_span: Span | None = None
    # False when the conf reader found an error in this entry (a wrong type, no description):
    # HELM would refuse the whole file, so the entry plans no runs.
    ok: bool = True

    @property
    def plannable(self) -> bool:
        return self.ok and self.description is not None and self.description.ok

    @property
    def path(self) -> str:
        return self.span.path

    @property
    def line_col(self) -> tuple[int, int]:
        return self.span.start_line_col


@dataclass(frozen=True, slots=True)
class ConfFile:
    source: SourceFile
    entries: tuple[Entry, ...]
