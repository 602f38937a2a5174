"""The Lark reader: conf.lark's LALR parse, error recovery, and the tree -> IR transformer.

Syntax errors are recovered from (a skipped token, a closed bracket), so every mistake in a
file is reported in one run and the rest of the file is still read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import LexerThread
from lark.parser_frontends import PostLexConnector
from lark.visitors import Transformer_NonRecursive

from ....grammar import grammar_text
from ...diagnostics import Diagnostic, Label, diag
from ...ir import HArray, HObject, HValue
from ...source import SourceFile, Span
from .brackets import might_not_balance, missing_closers
from .builder import BOM, MAX_DEPTH, SYNTHETIC, Builder, MObject, single_quoted
from .lexer import LexState, SeparatorPostLex

_TOKEN_NAMES = {
    "RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "LSQB": "`[`", "COLON": "`:`", "EQUAL": "`=`",
    "_SEP": "a comma or a new line", "STRING": "a value", "UNQUOTED": "an unquoted string",
    "TRIPLE": 'a """triple-quoted""" string', "$END": "the end of the file", "PLUS_EQUALS": "`+=`",
    "SUBSTITUTION": "a `${...}` substitution", "STRAY": "a character", "BAD_STRING": "a string",
}


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """conf.lark's parser. Its post-lexer instance only declares the grammar's needs: each
    parse runs with its own (parse_tree), so no state is shared between parses."""
    return Lark(
        grammar_text("conf.lark"),
        parser="lalr",
        lexer="basic",
        postlex=SeparatorPostLex(),
        maybe_placeholders=False,
        cache=True,
    )


def basic_lexer():
    """Lark's own lexer under the post-lexer (the fast reader scans with its regex)."""
    lexer = lark_parser().parser.lexer
    return getattr(lexer, "lexer", lexer)


def iter_tokens(text: str) -> Iterator[Token]:
    """Every token of the text, trivia included, with Lark's own lexer: they tile the text."""
    regexes = basic_lexer().scanner._mres  # Lark's terminals, in its priority order
    pos, n = 0, len(text)
    while pos < n:
        # STRAY takes any character but a newline, and NL takes that: a match always exists.
        for regex in regexes:
            m = regex.match(text, pos)
            if m:
                break
        end = m.end()
        yield Token(m.lastgroup, m.group(), start_pos=pos, end_pos=end)
        pos = end


def tokens(text: str) -> list[Token]:
    return list(iter_tokens(text))


def parse_tree(source: SourceFile, text: str, diagnostics: list[Diagnostic]) -> Tree:
    """The parse tree of `text` (the source's text, or it with bad bytes blanked out), with
    recovery from syntax errors; raises UnexpectedInput when recovery gives up."""
    frontend = lark_parser().parser
    inserts = missing_closers(source, tokens(text), diagnostics) if might_not_balance(text) else []
    postlex = SeparatorPostLex(inserts)
    thread = LexerThread.from_text(PostLexConnector(basic_lexer(), postlex), text)
    return frontend.parser.parse(thread, "start", on_error=Recovery(source, diagnostics, postlex.state))


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "_SEP":
        return "a new line" if token.value == "\n" else "`,`"
    return f"`{token.value}`"


def _expected(accepts: set[str]) -> str:
    accepts = set(accepts)
    if "COLON" in accepts:
        accepts -= {"EQUAL", "PLUS_EQUALS", "LBRACE", "STRING", "UNQUOTED"}
    if "STRING" in accepts and "UNQUOTED" in accepts:
        accepts -= {"UNQUOTED", "TRIPLE", "SUBSTITUTION", "BAD_STRING", "STRAY"}
    names = sorted({_TOKEN_NAMES.get(a, a) for a in accepts if a in _TOKEN_NAMES})
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


# Insertions tried, in order, to get past an unexpected token.
_REPAIRS: tuple[tuple[str, ...], ...] = (
    ("COLON", "UNQUOTED"),
    ("UNQUOTED",),
    ("_SEP",),
    ("RBRACE",),
    ("RSQB",),
    ("RBRACE", "_SEP"),
    ("RSQB", "_SEP"),
)
# A value in single quotes after `:` or `=` (HOCON has only double quotes), on a line with
# no double quote before it.
_SINGLE_QUOTED = re.compile(r"""^[^"'#]*?[:=][ \t]*('[^'\r\n]*')""")


def _synthetic(kind: str, at: Token) -> Token:
    text = {"COLON": ":", "RBRACE": "}", "RSQB": "]", "_SEP": "\n"}.get(kind, SYNTHETIC)
    return Token(kind, text, start_pos=at.start_pos, end_pos=at.start_pos, line=at.line, column=at.column)


class Recovery:
    """Lark's on_error hook: report, then repair or skip, and go on."""

    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic], state: LexState) -> None:
        self.source = source
        self.state = state
        self.diagnostics = diagnostics
        self.reported_lines: set[int] = set()
        self.budget = 1000  # a file of pure garbage still ends

    def _report(self, d: Diagnostic) -> None:
        line = d.span.start_line_col[0]
        if line not in self.reported_lines:
            self.reported_lines.add(line)
            self.diagnostics.append(d)

    def __call__(self, e: UnexpectedInput) -> bool:
        self.budget -= 1
        if self.budget < 0 or not isinstance(e, UnexpectedToken):
            return False
        tok = e.token
        ip = e.interactive_parser
        accepts = ip.accepts()
        if tok.type == "$END":
            key = self.state.key_first
            if self.state.in_key and key is not None and key is self.state.prev and not key.value.strip(BOM):
                # The file ends in byte order marks where a key would start (files joined):
                # give that key an empty value, so that the builder reports the marks.
                for kind in ("COLON", "UNQUOTED"):
                    ip.feed_token(Token(kind, SYNTHETIC, start_pos=key.end_pos, end_pos=key.end_pos))
                accepts = ip.accepts()
            if "$END" not in accepts:
                self._report_unclosed(accepts)
            # Close whatever is open, so the entries read so far survive.
            for _ in range(MAX_DEPTH + 2):
                acc = ip.accepts()
                if "$END" in acc:
                    return True
                closer = "RBRACE" if "RBRACE" in acc else "RSQB" if "RSQB" in acc else None
                if closer is None:
                    return False
                ip.feed_token(Token(closer, "}" if closer == "RBRACE" else "]"))
            return False
        start = tok.start_pos if tok.start_pos is not None else len(self.source.text)
        end = tok.end_pos if tok.end_pos is not None else start
        span = self.source.span(start, max(end, start + (1 if tok.type != "$END" else 0)))
        if tok.type == "_SEP" and tok.value == "\n":
            span = self.source.span(start, start)
        expected = _expected(accepts)
        line = span.start_line_col[0]
        full_line = self.source.line_text(line)
        line_text = full_line.lstrip()
        quoted = _SINGLE_QUOTED.search(full_line)
        if line_text.startswith("include"):
            at = self.source.line_start(line) + len(full_line) - len(line_text)
            self._report(
                diag(
                    "HC0004",
                    "`include` is not supported in run entries conf files",
                    self.source.span(at, at + len(line_text.rstrip())),
                    "helmc does not follow includes",
                    help="copy the included entries into this file, or pass both files to --conf-paths",
                )
            )
        elif quoted is not None:
            self._report(single_quoted(self.source, self.source.line_start(line) + quoted.start(1), quoted.group(1)))
        else:
            self._report(
                diag(
                    "HC0001",
                    f"unexpected {_describe(tok)}" + (f", expected {expected}" if expected else ""),
                    span,
                    f"expected {expected}" if expected else "not expected here",
                )
            )
        # A closer of the wrong kind (`[ ... }`) most likely means the right one.
        if tok.type in ("RBRACE", "RSQB"):
            other = "RSQB" if tok.type == "RBRACE" else "RBRACE"
            if other in accepts:
                ip.feed_token(Token(other, tok.value, start_pos=tok.start_pos, end_pos=tok.end_pos))
                return True
        # Repair by insertion where one small insertion lets the token through (a missing
        # `:` and value, a missing `}` or `]`, a missing separator); else skip the token.
        for fix in _REPAIRS:
            trial = ip.copy()
            try:
                for kind in fix:
                    trial.feed_token(_synthetic(kind, tok))
                trial.feed_token(tok)
            except UnexpectedInput:
                continue
            for kind in fix:
                ip.feed_token(_synthetic(kind, tok))
            ip.feed_token(tok)
            return True
        return True  # skip the token

    def _report_unclosed(self, accepts: set[str]) -> None:
        end = len(self.source.text)
        opener = None
        closer = "`]`" if "RSQB" in accepts else "`}`" if "RBRACE" in accepts else None
        if closer is None:
            self._report(diag("HC0001", "unexpected end of the file", self.source.span(end, end), "the file ends here"))
            return
        want = "[" if closer == "`]`" else "{"
        opener = self._last_unclosed(want)
        if opener is None:
            span = self.source.span(end, end)
            self._report(diag("HC0001", f"missing {closer} at the end of the file", span, f"expected {closer}"))
            return
        self.diagnostics.append(
            diag(
                "HC0001",
                f"this `{want}` is never closed",
                self.source.span(opener, opener + 1),
                f"unclosed `{want}`",
                secondary=[Label(self.source.span(end, end), f"the file ends here, expected {closer}")],
                help=f"add {closer} where the list or object ends",
            )
        )

    def _last_unclosed(self, want: str) -> int | None:
        # The post-lexer tracks open brackets; the innermost of the wanted kind is the culprit.
        for is_object, tok in reversed(self.state.brackets):
            if tok is not None and (tok.value == want):
                return tok.start_pos
        return None


class _Key:
    __slots__ = ("keys", "start", "end")

    def __init__(self, keys: list[str] | None, start: int, end: int) -> None:
        self.keys = keys  # None: already reported, the field is dropped
        self.start = start
        self.end = end


class _Field:
    __slots__ = ("key", "value", "start", "end")

    def __init__(self, key: _Key | None, value, start: int, end: int) -> None:
        self.key = key  # None: an include, reported and dropped
        self.value = value
        self.start = start
        self.end = end


class _Seq:
    """The fields of an object or the elements of an array, with their extent."""

    __slots__ = ("items", "start", "end")

    def __init__(self, items: list, start: int, end: int) -> None:
        self.items = items
        self.start = start
        self.end = end


def _extent(children: list) -> tuple[int, int]:
    """The extent of a rule's children. Trees carry no positions (propagate_positions costs
    time): every child gives its own, and tokens that recovery inserts borrow the position of
    the token they precede, except closers fed at the end of the file, which have none."""
    start = end = None
    for c in children:
        if isinstance(c, Token):
            if c.start_pos is None:
                continue
            s, e = c.start_pos, c.end_pos
        elif isinstance(c, (_Key, _Field, _Seq)):
            s, e = c.start, c.end
        else:
            s, e = c.span.start, c.span.end
        if start is None:
            start = s
        end = e
    return (start, end) if start is not None else (0, 0)


class TreeToIR(Transformer_NonRecursive):
    """conf.lark's tree -> HOCON values, one method per rule; values are built by the shared
    Builder. Non-recursive: nesting up to MAX_DEPTH costs no Python stack."""

    def __init__(self, builder: Builder) -> None:
        super().__init__(visit_tokens=False)
        self.b = builder

    def _span(self, children: list) -> Span:
        start, end = _extent(children)
        return self.b.span(start, end)

    # ------------------------------------------------------------ keys and fields

    def unquoted_key(self, toks: list[Token]) -> _Key:
        return _Key(self.b.key_path(toks, quoted=False), toks[0].start_pos, toks[-1].end_pos)

    def quoted_key(self, toks: list[Token]) -> _Key:
        return _Key(self.b.key_path(toks, quoted=True), toks[0].start_pos, toks[-1].end_pos)

    def _field(self, children: list, value) -> _Field:
        key = children[0]
        return _Field(key, value, key.start, _extent(children)[1])

    def field_colon(self, children: list) -> _Field:
        return self._field(children, children[-1])

    field_equals = field_colon
    field_object = field_colon

    def field_append(self, children: list) -> _Field:
        op = children[1]
        self.b.diagnostics.append(
            diag(
                "HC0005",
                "`+=` is not supported in run entries conf files",
                self.b.span(op.start_pos, op.end_pos),
                "HOCON's `+=` is a substitution in disguise",
                help="write the whole list once with `:`",
            )
        )
        return self._field(children, children[-1])

    def include(self, children: list) -> _Field:
        start, end = _extent(children)
        self.b.diagnostics.append(
            diag(
                "HC0004",
                "`include` is not supported in run entries conf files",
                self.b.span(start, end),
                "helmc does not follow includes",
                help="copy the included entries into this file, or pass both files to --conf-paths",
            )
        )
        return _Field(None, None, start, end)

    def fields(self, children: list) -> _Seq:
        return _Seq(children, *_extent(children))

    # ------------------------------------------------------------ brackets and values

    def _object(self, span: Span, fields: _Seq | None) -> MObject:
        obj = MObject(span)
        if fields is not None:
            b = self.b
            for f in fields.items:
                key = f.key
                if key is None:  # an include, reported
                    obj.includes = True
                    continue
                if key.keys is None:
                    continue
                b.set(obj, key.keys, b.span(key.start, key.end), f.value, b.span(key.start, f.end))
        return obj

    def object(self, children: list) -> MObject:
        fields = next((c for c in children if isinstance(c, _Seq)), None)
        return self._object(self._span(children), fields)

    def root_fields(self, children: list) -> MObject:
        return self._object(self._span(children), children[0])

    def elements(self, children: list) -> _Seq:
        freeze = self.b.freeze
        return _Seq([freeze(v) for v in children], *_extent(children))

    def array(self, children: list) -> HArray:
        items = next((c.items for c in children if isinstance(c, _Seq)), [])
        return HArray(tuple(items), self._span(children))

    def value(self, pieces: list):
        return self.b.value(pieces, self._span(pieces))

    def start(self, children: list):
        return children[0] if children else None


def read_tree(tree: Tree, source: SourceFile, diagnostics: list[Diagnostic]) -> HValue:
    """The root value of a parse tree."""
    builder = Builder(source, diagnostics)
    root = TreeToIR(builder).transform(tree)
    if root is None:
        return HObject((), source.span(0, len(source.text)))
    return builder.freeze(root)
