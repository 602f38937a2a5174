"""The post-lexer of the conf grammar: HOCON's separators.

HOCON separates fields and array elements with a comma or a newline, lets newlines stand
almost anywhere else, and ends a value at the end of its line. Folding that into the token
stream keeps the grammar LALR(1): each run of commas and newlines becomes one `_SEP` token,
or nothing where a newline separates nothing (before a field's key is complete, after `:`,
after `{` or `[`, before `}` or `]`, at the start and end of the file).
"""

from __future__ import annotations

from typing import Iterator

from lark import Token
from lark.lark import PostLex

_VALUE_END = frozenset(
    {"STRING", "TRIPLE", "UNQUOTED", "COLON", "SUBSTITUTION", "RBRACE", "RSQB", "BAD_STRING", "STRAY"}
)
_CLOSERS = frozenset({"RBRACE", "RSQB"})
_KEY_SEPARATORS = frozenset({"COLON", "EQUAL", "PLUS_EQUALS"})


class LexState:
    """What the post-lexer knows of the text so far: one per parse.

    It outlives one `process` generator: after an error, Lark's recovery resumes with a new
    generator over the rest of the text, which must go on from where the old one stopped.
    The recovery also reads it, to name the bracket left open at the end of the file.
    """

    __slots__ = ("prev", "brackets", "in_key", "after_key_sep")

    def __init__(self) -> None:
        self.prev: Token | None = None
        # Open brackets, innermost last: (is_object, the bracket token). The implicit root
        # object has no token.
        self.brackets: list[tuple[bool, Token | None]] = [(True, None)]
        self.in_key = True  # between the start of a field and its separator
        self.after_key_sep = False


class SeparatorPostLex(PostLex):
    """One instance per parse (lark_reader.parse_tree makes it); Lark's own instance, given
    at construction for `always_accept`, only ever serves the grammar."""

    always_accept = ("NL", "COMMA")

    def __init__(self) -> None:
        self.state = LexState()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        st = self.state
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
                ):
                    sep = Token.new_borrow_pos("_SEP", comma.value if comma else "\n", comma or first)
                    st.in_key = st.brackets[-1][0]
                    st.after_key_sep = False
                    st.prev = sep
                    yield sep
            st.after_key_sep = False
            if st.in_key and kind in _KEY_SEPARATORS:
                st.in_key = False
                st.after_key_sep = True
            elif kind == "LBRACE":
                st.brackets.append((True, tok))
                st.in_key = True
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
