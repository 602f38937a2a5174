"""The typed IR: frozen dataclasses, a span on every node.

Two layers:
- HOCON values (`HValue` and friends), produced from the conf grammar's parse tree;
- run entries (`Entry`, `Description`, `Argument`), produced by the conf reader (compiler/syntax/conf/schema.py) and the
  run-entry grammar. Spans inside a description point into the conf file, escapes included.
"""

from __future__ import annotations

from typing import Union

from .frozen import record
from .source import SourceFile, Span

Scalar = Union[str, int, float, bool, None]


# ---------------------------------------------------------------- HOCON values


@record
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


@record
class HNumber:
    value: int | float
    text: str
    span: Span


@record
class HBool:
    value: bool
    span: Span


@record
class HNull:
    span: Span


@record
class HField:
    key: str
    key_span: Span
    value: "HValue"
    span: Span


@record
class HObject:
    # Resolved fields in first-definition order, duplicates already merged as HOCON does.
    fields: tuple[HField, ...]
    span: Span
    # An `include` was dropped here (HC0004): HOCON would take keys from the included file,
    # so a key missing here may not be missing for HELM.
    includes: bool = False

    def get(self, key: str) -> HField | None:
        for f in self.fields:
            if f.key == key:
                return f
        return None


@record
class HArray:
    items: tuple["HValue", ...]
    span: Span


@record
class HError:
    """A value that could not be read; its diagnostic is already reported."""

    span: Span


HValue = Union[HString, HNumber, HBool, HNull, HObject, HArray, HError]


# ---------------------------------------------------------------- run entries


@record
class Text:
    """A piece of a description as written: decoded characters [start, end) of the string
    `lit`. Its span in the file is made on use: most pieces are checked, few are reported."""

    value: str
    lit: "HString"
    start: int
    end: int

    @property
    def span(self) -> Span:
        return self.lit.span_of(self.start, self.end)


@record
class Argument:
    """One `key=value` of a description in a file: its shape in the string `lit`. Its pieces
    are made on use, like spans: resolution reads every argument's key and value, but reports
    on few (`shape.key` is the key's text without making a Text)."""

    shape: ArgShape
    lit: "HString"

    @property
    def key(self) -> Text:
        s = self.shape
        return Text(s.key, self.lit, s.start, s.eq)

    @property
    def raw(self) -> Text:
        """The value as written."""
        s = self.shape
        return Text(s.raw, self.lit, s.eq + 1, s.end)

    @property
    def value(self) -> int | float | str:
        """As parse_object_spec coerces it."""
        return self.shape.value

    @property
    def span(self) -> Span:
        """The whole `key=value`."""
        return self.lit.span_of(self.shape.start, self.shape.end)


@record
class ArgShape:
    """One `key=value` of a description, in its string's decoded characters: key [start, eq),
    value (eq, end). The same for every occurrence of one description text."""

    key: str
    raw: str  # the value as written
    value: int | float | str  # as parse_object_spec coerces it
    start: int
    eq: int
    end: int


@record
class DescriptionShape:
    """What a description's text says, without positions in a file: the name [0, name_end)
    and the arguments. Shared by every entry with the same text (conf files repeat them)."""

    name: str
    name_end: int
    args: tuple[ArgShape, ...]
    spaced: bool = False  # a name, key or value with spaces at an end (HC0205's check)


@record
class Description:
    """A run entry description, `name:key=value,...`, parsed as parse_object_spec reads it.

    Its shape is kept in decoded characters; `name` and `args` are made from it on each use,
    since most entries are only read, not resolved (`helmc parse` never looks at them), and
    their spans in the file likewise, since most pieces are checked but never reported."""

    lit: HString  # the string it was read from: its text, and the file positions of its characters
    shape: DescriptionShape
    ok: bool  # False when the run-entry syntax pass reported an error

    @property
    def text(self) -> str:
        return self.lit.value

    @property
    def span(self) -> Span:
        return self.lit.span

    @property
    def name(self) -> Text:
        return Text(self.shape.name, self.lit, 0, self.shape.name_end)

    @property
    def args(self) -> tuple[Argument, ...]:
        # Made on each use, not kept: resolution reads them once an entry, and kept they were
        # about 280 bytes an entry for as long as the entries live (a large file's peak).
        lit = self.lit
        return tuple([Argument(a, lit) for a in self.shape.args])

    def arg_dict(self) -> dict[str, int | float | str]:
        """The args as HELM's dict sees them: a later duplicate key wins."""
        return {a.key: a.value for a in self.shape.args}


@record
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


@record
class ConfFile:
    source: SourceFile
    entries: tuple[Entry, ...]
