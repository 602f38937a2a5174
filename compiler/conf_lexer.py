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


class SeparatorPostLex(PostLex):
    always_accept = ("NL", "COMMA")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        prev: Token | None = None
        run: list[Token] = []
        in_object = [True]  # bracket stack; the implicit root is an object
        in_key = True  # between the start of a field and its separator
        after_key_sep = False
        for tok in stream:
            kind = tok.type
            if kind == "NL" or kind == "COMMA":
                run.append(tok)
                continue
            if run:
                comma = next((t for t in run if t.type == "COMMA"), None)
                first = run[0]
                run = []
                if prev is not None and (
                    comma is not None
                    or (
                        not in_key
                        and not after_key_sep
                        and prev.type in _VALUE_END
                        and kind not in _CLOSERS
                    )
                ):
                    yield Token.new_borrow_pos("_SEP", comma.value if comma else "\n", comma or first)
                    in_key = in_object[-1]
            after_key_sep = False
            if in_key and kind in _KEY_SEPARATORS:
                in_key = False
                after_key_sep = True
            elif kind == "LBRACE":
                in_object.append(True)
                in_key = True
            elif kind == "LSQB":
                if prev is None:
                    in_object[0] = False  # the root is an array
                else:
                    in_object.append(False)
                in_key = False
            elif kind in _CLOSERS:
                if len(in_object) > 1:
                    in_object.pop()
                in_key = False
            yield tok
            prev = tok
        # Separators after the last token separate nothing.
