"""The post-lexer of the conf grammar: HOCON's separators.

HOCON separates fields and array elements with a comma or a newline, lets newlines stand
almost anywhere else, and ends a value at the end of its line. Folding that into the token
stream keeps the grammar LALR(1): each run of commas and newlines becomes one `_SEP` token,
or nothing where a newline separates nothing (before a field's key is complete, after `:`,
after `{` or `[`, before `}` or `]`, at the start and end of the file).
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator

from lark import Token
from lark.lark import PostLex

_VALUE_END = frozenset(
    {"STRING", "TRIPLE", "UNQUOTED", "COLON", "SUBSTITUTION", "RBRACE", "RSQB", "BAD_STRING", "STRAY", "INCLUDE"}
)
_CLOSERS = frozenset({"RBRACE", "RSQB"})
_KEY_SEPARATORS = frozenset({"COLON", "EQUAL", "PLUS_EQUALS"})


class LexState:
    """What the post-lexer knows of the text so far: one per parse.

    It outlives one `process` generator: after an error, Lark's recovery resumes with a new
    generator over the rest of the text, which must go on from where the old one stopped.
    The recovery also reads it, to name the bracket left open at the end of the file.
    """

    __slots__ = ("prev", "brackets", "in_key", "after_key_sep", "inserts", "key_first", "pending")

    def __init__(self, inserts: list[Token] | None = None) -> None:
        self.prev: Token | None = None
        # Open brackets, innermost last: (is_object, the bracket token). The implicit root
        # object has no token.
        self.brackets: list[tuple[bool, Token | None]] = [(True, None)]
        self.in_key = True  # between the start of a field and its separator
        self.after_key_sep = False
        self.key_first: Token | None = None  # the first token of the key being read
        # The token read past a separator while the separator was yielded: when the parser
        # fails on that separator, recovery resumes with a new generator, which starts here.
        self.pending: Token | None = None
        # Closers to put into the stream before the first token at or after their position
        # (brackets.missing_closers: a `}` that indentation says is missing), in order.
        self.inserts: list[Token] = list(reversed(inserts or ()))


def _with_inserts(stream: Iterator[Token], inserts: list[Token]) -> Iterator[Token]:
    for tok in stream:
        while inserts and tok.start_pos >= inserts[-1].start_pos:
            yield inserts.pop()
        yield tok
    while inserts:
        yield inserts.pop()


class SeparatorPostLex(PostLex):
    """One instance per parse (lark_reader.parse_tree makes it); Lark's own instance, given
    at construction for `always_accept`, only ever serves the grammar."""

    always_accept = ("NL", "COMMA")

    def __init__(self, inserts: list[Token] | None = None) -> None:
        self.state = LexState(inserts)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        st = self.state
        if st.inserts:
            stream = _with_inserts(stream, st.inserts)
        if st.pending is not None:
            stream = chain((st.pending,), stream)
            st.pending = None
        run: list[Token] = []
        for tok in stream:
            kind = tok.type
            if kind == "NL" or kind == "COMMA":
                run.append(tok)
                continue
            prev = st.prev
            if run:
                comma = next((t for t in run if t.type == "COMMA"), None)
                first = run[0]
                run = []
                if prev is not None and (
                    comma is not None
                    or (
                        not st.in_key
                        and not st.after_key_sep
                        and prev.type in _VALUE_END
                        and kind not in _CLOSERS
                    )
                    # `include foo` (no quoted name): its line is a field of its own, reported.
                    or (st.in_key and st.key_first is not None and st.key_first.value == "include" and kind != "LBRACE")
                ):
                    sep = Token.new_borrow_pos("_SEP", comma.value if comma else "\n", comma or first)
                    st.in_key = st.brackets[-1][0]
                    st.after_key_sep = False
                    st.key_first = None
                    st.prev = sep
                    st.pending = tok
                    yield sep
                    st.pending = None
            st.after_key_sep = False
            if st.in_key and st.key_first is None and kind == "UNQUOTED":
                st.key_first = tok
            if kind == "INCLUDE":
                st.in_key = False  # a whole field: what follows on a new line is the next one
            elif st.in_key and kind in _KEY_SEPARATORS:
                st.in_key = False
                st.after_key_sep = True
            elif kind == "LBRACE":
                st.brackets.append((True, tok))
                st.in_key = True
                st.key_first = None
            elif kind == "LSQB":
                if prev is None:
                    st.brackets[0] = (False, tok)  # the root is an array
                else:
                    st.brackets.append((False, tok))
                st.in_key = False
            elif kind in _CLOSERS:
                if len(st.brackets) > 1:
                    st.brackets.pop()
                st.in_key = False
            st.prev = tok
            yield tok
        # Separators after the last token separate nothing.
