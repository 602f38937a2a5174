"""Which bracket is left open, told from indentation, as rustc does for unclosed delimiters.

In

    entries: [
      {description: "a", priority: 1
      {description: "b"}
    ]

the parser only notices at `]` on line 4 that something is open, and would blame the `[` of
line 1. Indentation tells better: line 3 starts at the indentation of the `{` of line 2 and is
not its closer, so that `{` most likely ends with its line. When the brackets of a file do not
balance, and closing such openers at the end of their last line makes them balance, each is
reported once, and the parse goes on with the closer put there (the post-lexer inserts it).
"""

from __future__ import annotations

from lark import Token

from ...diagnostics import Applicability, Diagnostic, Fix, Label, diag
from ...source import SourceFile

_OPEN = {"LBRACE": "RBRACE", "LSQB": "RSQB"}
_CLOSE = frozenset(_OPEN.values())
_TEXT = {"RBRACE": "}", "RSQB": "]"}


def might_not_balance(text: str) -> bool:
    """A cheap filter: counts that differ (strings and comments aside) mean work to do."""
    return text.count("{") != text.count("}") or text.count("[") != text.count("]")


def _scan(toks: list[Token], by_indent: bool) -> tuple[bool, list[tuple[Token, int]]]:
    """Match brackets; with `by_indent`, close an opener when a later line starts at its
    indentation or left of it with something else than its closer. Whether everything
    matched, and the openers closed by indentation with where their closer goes."""
    stack: list[tuple[Token, int, int]] = []  # (opener, indentation of its line, its line)
    closed: list[tuple[Token, int]] = []
    line = indent = 0
    line_start = True
    last_end = 0
    ok = True
    for tok in toks:
        kind = tok.type
        if kind == "NL":
            line += 1
            line_start, indent = True, 0
            continue
        if kind == "WS":
            if line_start:
                indent = len(tok.value.expandtabs(8))
            continue
        if kind == "COMMENT":
            continue
        if line_start and by_indent:
            while stack and stack[-1][2] < line and stack[-1][1] >= indent and kind != _OPEN[stack[-1][0].type]:
                closed.append((stack.pop()[0], last_end))
        line_start = False
        if kind in _OPEN:
            stack.append((tok, indent, line))
        elif kind in _CLOSE:
            if stack and _OPEN[stack[-1][0].type] == kind:
                stack.pop()
            else:
                ok = False
        last_end = tok.end_pos
    return ok and not stack, closed


def missing_closers(source: SourceFile, toks: list[Token], diagnostics: list[Diagnostic]) -> list[Token]:
    """The closers to insert (zero-width tokens), each reported; [] when indentation does not
    explain why the brackets do not balance (then the parser's recovery reports it)."""
    balanced, _ = _scan(toks, by_indent=False)
    if balanced:
        return []
    balanced, closed = _scan(toks, by_indent=True)
    if not balanced or not closed:
        return []
    inserts: list[Token] = []
    for opener, at in closed:
        closer = _OPEN[opener.type]
        want = _TEXT[closer]
        line = source.span(at, at).start_line_col[0]
        diagnostics.append(
            diag(
                "HC0001",
                f"this `{opener.value}` is never closed",
                source.span(opener.start_pos, opener.end_pos),
                f"unclosed `{opener.value}`",
                secondary=[Label(source.span(at, at), f"`{want}` is likely missing here: the next line is not indented past the line of the `{opener.value}`")],
                help=f"add `{want}` at the end of line {line}",
                fixes=[Fix(source.span(at, at), want, Applicability.UNSAFE)],  # indentation is a guess
            )
        )
        inserts.append(Token(closer, want, start_pos=at, end_pos=at))
    return inserts
