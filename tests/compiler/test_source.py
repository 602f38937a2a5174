"""SourceFile's positions: the shortcuts are held to line_col, offset by offset."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.source import SourceFile

_TEXTS = st.lists(st.sampled_from(["a", "é", "𝔘", " ", "\n", "\r", "\r\n", "\t"]), max_size=30).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_TEXTS, st.integers(-3, 45), st.integers(-3, 45), st.integers(1, 4))
def test_a_spans_ends_are_each_ends_line_col(text, start, end, line_base):
    """Any text (CR, LF, CRLF, astral characters), any pair of offsets, in or out of range."""
    src = SourceFile("x.conf", text, line_base)
    assert src.span_line_cols(start, end) == (*src.line_col(start), *src.line_col(end))
