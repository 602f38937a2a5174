"""Source files and spans: offsets in, 1-based lines and code-point columns out."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .frozen import record


_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(eq=False, slots=True)
class SourceFile:
    """The text of one input (a conf file, or one --run-entries argument) with a line index."""

    path: str
    text: str
    # For --run-entries arguments the "line" is the argument index; see `line_base`.
    line_base: int = 1
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        text = self.text
        if "\r" in text:
            # A lone CR ends a line too, as in Python's universal newlines (what HELM's open()
            # gives pyhocon, and what the reader follows) and in the LSP; CRLF is one ending.
            starts.extend(m.end() for m in _LINE_END.finditer(text))
        else:
            i = text.find("\n")
            while i != -1:
                starts.append(i + 1)
                i = text.find("\n", i + 1)
        self._line_starts = starts

    def span(self, start: int, end: int) -> "Span":
        return Span(self, start, end)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and 1-based column (in code points) of an offset."""
        # comparisons, not max(min()): helm-check asks this for every diagnostic's ends
        if offset < 0:
            offset = 0
        elif offset > len(self.text):
            offset = len(self.text)
        starts = self._line_starts
        idx = bisect.bisect_right(starts, offset) - 1
        return idx + self.line_base, offset - starts[idx] + 1

    def span_line_cols(self, start: int, end: int) -> tuple[int, int, int, int]:
        """line_col of both ends of [start, end): (line, column, end line, end column). An end
        on the start's line (most spans) is counted from the start, without a second search:
        every diagnostic of a JSON report asks for both."""
        line, column = self.line_col(start)
        if start <= end <= len(self.text) and start >= 0:
            text = self.text
            if text.find("\n", start, end) < 0 and text.find("\r", start, end) < 0:
                return line, column, line, column + end - start
        return (line, column, *self.line_col(end))

    def line_text(self, line: int) -> str:
        """The text of a line as written, without its line ending."""
        start, end = self.line_bounds(line)
        return self.text[start:end]

    def line_bounds(self, line: int) -> tuple[int, int]:
        """The offsets of a line's text, without its line ending ((0, 0) for no such line):
        for a part of a line that may be the whole 12 MB file, without copying it."""
        idx = line - self.line_base
        starts = self._line_starts
        if idx < 0 or idx >= len(starts):
            return 0, 0
        start = starts[idx]
        end = starts[idx + 1] if idx + 1 < len(starts) else len(self.text)
        text = self.text
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        return start, end

    def line_start(self, line: int) -> int:
        return self._line_starts[line - self.line_base]

    @property
    def line_count(self) -> int:
        return len(self._line_starts)


@record
class Span:
    """A half-open range of code-point offsets [start, end) in one source."""

    source: SourceFile
    start: int
    end: int

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def start_line_col(self) -> tuple[int, int]:
        return self.source.line_col(self.start)

    @property
    def end_line_col(self) -> tuple[int, int]:
        return self.source.line_col(self.end)

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def cover(self, other: "Span") -> "Span":
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))
