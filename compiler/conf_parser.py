"""Conf files: Lark parse tree -> HOCON values (ir.H*) with spans, as pyhocon reads them.

Syntax errors are recovered from (a skipped token, a closed bracket), so every mistake in a
file is reported in one run and the rest of the file is still read.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

from ..grammar import grammar_text
from .conf_lexer import SeparatorPostLex
from .diagnostics import Applicability, Diagnostic, Fix, Label, diag
from .ir import HArray, HBool, HError, HField, HNull, HNumber, HObject, HString, HValue
from .source import SourceFile, Span

# pyhocon's number (with its lookahead replaced by "the whole value"), its escapes, its keys.
_NUMBER = re.compile(r"[+-]?(\d*\.\d+|\d+(\.\d+)?)([eE][+\-]?\d+)?\Z")
_ESCAPES = {"\\\\": "\\", "\\\n": "\n", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\=": "=", "\\#": "#", "\\!": "!", '\\"': '"'}
_KEY_CHARS = re.compile(r"[A-Za-z0-9\u00c0-\u00ff._\- /]+\Z")
_TOKEN_NAMES = {
    "RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "LSQB": "`[`", "COLON": "`:`", "EQUAL": "`=`",
    "_SEP": "a comma or a new line", "STRING": "a value", "UNQUOTED": "an unquoted string",
    "TRIPLE": 'a """triple-quoted""" string', "$END": "the end of the file", "PLUS_EQUALS": "`+=`",
    "SUBSTITUTION": "a `${...}` substitution", "STRAY": "a character", "BAD_STRING": "a string",
}
MAX_DEPTH = 200  # deeper nesting is refused before it costs a recursion error


_POSTLEX = SeparatorPostLex()


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        grammar_text("conf.lark"),
        parser="lalr",
        lexer="basic",
        postlex=_POSTLEX,
        maybe_placeholders=False,
        cache=True,
    )


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
_SYNTHETIC = "\x00"  # the value of an inserted token: no real token can hold a NUL


def _synthetic(kind: str, at: Token) -> Token:
    text = {"COLON": ":", "RBRACE": "}", "RSQB": "]", "_SEP": "\n"}.get(kind, _SYNTHETIC)
    return Token(kind, text, start_pos=at.start_pos, end_pos=at.start_pos, line=at.line, column=at.column)


class _Recovery:
    """Lark's on_error hook: report, then repair or skip, and go on."""

    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic]) -> None:
        self.source = source
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
        line_text = self.source.line_text(span.start_line_col[0]).lstrip()
        if line_text.startswith("include"):
            self._report(
                diag(
                    "HC0004",
                    "`include` is not supported in run entries conf files",
                    span,
                    "helmc does not follow includes",
                    help="copy the included entries into this file, or pass both files to --conf-paths",
                )
            )
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
        for is_object, tok in reversed(_POSTLEX.state.brackets):
            if tok is not None and (tok.value == want):
                return tok.start_pos
        return None


def parse_conf(source: SourceFile, diagnostics: list[Diagnostic]) -> HValue:
    """Parse a conf file into its root HOCON value; problems go to `diagnostics`."""
    text = source.text
    lark_text = _check_bytes(source, diagnostics)
    if lark_text is text:
        from .conf_fastpath import fast_parse

        value = fast_parse(source, diagnostics)  # plain files; None sends the rest to Lark
        if value is not None:
            return value
    depth_error = _check_depth(source)
    if depth_error is not None:
        diagnostics.append(depth_error)
        return HError(source.span(0, len(text)))
    parser = _parser()
    _POSTLEX.reset()
    try:
        tree = parser.parse(lark_text, on_error=_Recovery(source, diagnostics))
    except UnexpectedInput as e:  # recovery gave up: the file is garbage from here on
        pos = getattr(e, "pos_in_stream", None) or 0
        if not any(d.severity.value == "error" for d in diagnostics):
            diagnostics.append(diag("HC0001", "this file cannot be read as HOCON", source.span(pos, pos + 1), "here"))
        return HError(source.span(0, len(text)))
    builder = _Builder(source, diagnostics)
    children = tree.children
    if not children:
        return HObject((), source.span(0, len(text)))
    return builder.value_of_root(children[0])


def _check_bytes(source: SourceFile, diagnostics: list[Diagnostic]) -> str:
    """A BOM or NUL bytes: one clear error each (pyhocon fails on both with "Expected end of
    text"), then parse the text with them blanked out, offsets unchanged, to report the rest."""
    text = source.text
    if text.startswith("\ufeff"):
        diagnostics.append(
            diag(
                "HC0003",
                "the file starts with a byte order mark (U+FEFF), which HELM cannot read",
                source.span(0, 1),
                "byte order mark",
                help="save the file as UTF-8 without a BOM",
                notes=["HELM opens conf files as plain UTF-8, and pyhocon fails on the invisible U+FEFF"],
                fixes=[Fix(source.span(0, 1), "", Applicability.SAFE)],
            )
        )
        text = " " + text[1:]
    nul = text.find("\x00")
    if nul != -1:
        count = text.count("\x00")
        diagnostics.append(
            diag(
                "HC0003",
                f"the file contains {count} NUL byte{'s' if count > 1 else ''} (U+0000); is it a binary file?",
                source.span(nul, nul + 1),
                "NUL byte",
                help="remove the NUL bytes: a conf file is UTF-8 text",
            )
        )
        text = text.replace("\x00", " ")
    return text


# What matters for nesting: brackets, and the strings and comments that hide brackets.
_NESTING = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|//[^\n]*|[{}\[\]]')


def _check_depth(source: SourceFile) -> Diagnostic | None:
    """Refuse absurd nesting up front: Lark's parser is iterative, our tree walk is not."""
    text = source.text
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return None
    depth = 0
    for m in _NESTING.finditer(text):
        c = m.group()
        if c == "{" or c == "[":
            depth += 1
            if depth > MAX_DEPTH:
                i = m.start()
                return diag(
                    "HC0008",
                    f"objects and arrays are nested more than {MAX_DEPTH} deep",
                    source.span(i, i + 1),
                    "nested too deep",
                    notes=[f"helmc reads at most {MAX_DEPTH} levels; a run entries conf file needs three"],
                )
        elif c == "}" or c == "]":
            depth = max(0, depth - 1)
    return None


def _edge_token(node, leftmost: bool) -> Token | None:
    """The leftmost (or rightmost) token of a tree that has a position."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Token):
            if n.start_pos is not None:
                return n
            continue
        stack.extend(reversed(n.children) if leftmost else n.children)
    return None


class _MObject:
    """An object under construction: HOCON merges duplicate keys before anything reads it."""

    __slots__ = ("fields", "span")

    def __init__(self, span: Span) -> None:
        self.fields: dict[str, list] = {}  # key -> [key_span, value, field_span]
        self.span = span


class _Builder:
    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic]) -> None:
        self.source = source
        self.text = source.text
        self.diagnostics = diagnostics

    def _span(self, node) -> Span:
        if isinstance(node, Token):
            return self.source.span(node.start_pos, node.end_pos)
        return self.source.span(node.meta.start_pos, node.meta.end_pos)

    # -------------------------------------------------------------- structure

    def value_of_root(self, node) -> HValue:
        if isinstance(node, Tree) and node.data == "root_fields":
            obj = _MObject(self._tree_span(node))
            self._fill(obj, node.children[0])
            return self._freeze(obj)
        return self._freeze(self._node(node))

    def _tree_span(self, node: Tree) -> Span:
        start, end = self._extent(node)
        return self.source.span(start, end)

    def _extent(self, node) -> tuple[int, int]:
        # Trees carry no positions (propagate_positions costs time); derive them from tokens.
        # Token positions grow in document order (tokens that recovery inserts borrow the
        # position of the token they precede), so the first and last positioned leaves give
        # the extent: O(depth), where walking the whole subtree at every level was
        # O(size x depth).
        first = _edge_token(node, True)
        if first is None:
            return (0, 0)
        return first.start_pos, _edge_token(node, False).end_pos

    def _node(self, node):
        """A structural node (object or array) as a mutable object or a frozen array."""
        if node.data == "object":
            obj = _MObject(self._tree_span(node))
            for child in node.children:
                if isinstance(child, Tree) and child.data == "fields":
                    self._fill(obj, child)
            return obj
        items: list = []
        for child in node.children:
            if isinstance(child, Tree) and child.data == "elements":
                for v in child.children:
                    items.append(self._freeze(self.value(v)))
        return HArray(tuple(items), self._tree_span(node))

    def _fill(self, obj: _MObject, fields: Tree) -> None:
        for f in fields.children:
            if not isinstance(f, Tree):
                continue
            kind = f.data
            key_node = f.children[0]
            if kind == "include":
                self.diagnostics.append(
                    diag(
                        "HC0004",
                        "`include` is not supported in run entries conf files",
                        self._tree_span(f),
                        "helmc does not follow includes",
                        help="copy the included entries into this file, or pass both files to --conf-paths",
                    )
                )
                continue
            path = self._key_path(key_node)
            if path is None:
                continue
            keys, key_span = path
            if kind == "field_object":
                value = self._node(f.children[1])
            else:
                if kind == "field_append":
                    op = f.children[1]
                    self.diagnostics.append(
                        diag(
                            "HC0005",
                            "`+=` is not supported in run entries conf files",
                            self._span(op),
                            "HOCON's `+=` is a substitution in disguise",
                            help="write the whole list once with `:`",
                        )
                    )
                value = self.value(f.children[-1])
            self._set(obj, keys, key_span, value, self.source.span(key_span.start, self._extent(f)[1]))

    def _key_path(self, node: Tree) -> tuple[list[str], Span] | None:
        toks = [t for t in node.children if isinstance(t, Token)]
        if any(t.value == _SYNTHETIC for t in toks):
            return None  # inserted by error recovery, already reported
        span = self.source.span(toks[0].start_pos, toks[-1].end_pos)
        if node.data == "quoted_key":
            return [self._decode_string(toks[0])[0]], span
        text = self.text[span.start : span.end]
        if not _KEY_CHARS.match(text):
            bad = next((i for i, c in enumerate(text) if not _KEY_CHARS.match(c)), 0)
            self.diagnostics.append(
                diag(
                    "HC0003",
                    f"`{text[bad]}` cannot appear in an unquoted key",
                    self.source.span(span.start + bad, span.start + bad + 1),
                    "not allowed in a key",
                    help=f'quote the key: "{text}"',
                    fixes=[],
                )
            )
            return None
        parts = text.split(".")
        if any(p.strip() == "" for p in parts):
            self.diagnostics.append(
                diag("HC0001", f"`{text}` is not a valid key path", span, "empty part between dots")
            )
            return None
        return [p.strip() for p in parts], span

    def _set(
        self, obj: _MObject, keys: list[str], key_span: Span, value, field_span: Span, lost: list[str] | None = None
    ) -> None:
        for k in keys[:-1]:
            slot = obj.fields.get(k)
            if slot is None or not isinstance(slot[1], _MObject):
                inner = _MObject(field_span)
                obj.fields[k] = [key_span, inner, field_span]
                obj = inner
            else:
                obj = slot[1]
        k = keys[-1]
        slot = obj.fields.get(k)
        if slot is None:
            obj.fields[k] = [key_span, value, field_span]
            return
        old = slot[1]
        if isinstance(old, _MObject) and isinstance(value, _MObject):
            self._merge(old, value, lost)
            return
        if lost is not None:
            lost.append(k)  # reported once, by the merge that loses it
        elif not isinstance(value, HError) and not isinstance(old, HError):
            self.diagnostics.append(
                diag(
                    "HC0109",
                    f"`{k}` is set twice; the first value is lost",
                    key_span,
                    "this value wins",
                    secondary=[Label(slot[0], "first set here")],
                    help=f"remove one of the two `{k}`",
                    notes=["HOCON keeps the last value of a key (objects would be merged)"],
                )
            )
        # A later field moves to the end in pyhocon only when it is new; keep the old place.
        obj.fields[k] = [key_span, value, field_span]

    def _merge(self, into: _MObject, other: _MObject, lost: list[str] | None = None) -> None:
        for k, (ks, v, fs) in other.fields.items():
            self._set(into, [k], ks, v, fs, lost)

    def _freeze(self, v) -> HValue:
        if isinstance(v, _MObject):
            return HObject(
                tuple(HField(k, ks, self._freeze(val), fs) for k, (ks, val, fs) in v.fields.items()),
                v.span,
            )
        return v

    # -------------------------------------------------------------- values

    def value(self, node: Tree):
        pieces = node.children
        if any(isinstance(p, Token) and p.value == _SYNTHETIC for p in pieces):
            return HError(self._tree_span(node))  # inserted by error recovery, already reported
        if len(pieces) == 1:
            return self._single(pieces[0])
        return self._concat(node, pieces)

    def _single(self, p):
        if isinstance(p, Tree):
            return self._node(p)
        if p.type in ("STRING", "UNQUOTED"):
            return self.leaf(p.type, p.value, p.start_pos, p.end_pos)
        if p.type == "TRIPLE":
            return self._triple(p)
        if p.type == "COLON":
            return HString(":", self._span(p), False)
        return self._bad_piece(p)

    def leaf(self, kind: str, text: str, start: int, end: int) -> HValue:
        """A value of one STRING or UNQUOTED token, as pyhocon reads it."""
        span = Span(self.source, start, end)
        if kind == "STRING":
            value, offsets = self._decode_quoted(text, start, end)
            return HString(value, span, True, offsets)
        if _NUMBER.match(text):
            try:
                return HNumber(int(text, 10), text, span)
            except ValueError:
                return HNumber(float(text), text, span)
        low = text.lower()
        if low == "true" or low == "false":
            return HBool(low == "true", span)
        if low == "null":
            return HNull(span)
        if "\\" not in text:
            return HString(text, span, False)
        value, offsets = self._unescape(text, start, end, warn=False)
        return HString(value, span, False, None if len(value) == len(text) else offsets)

    def _bad_piece(self, p: Token) -> HError:
        span = self._span(p)
        if p.type == "SUBSTITUTION":
            self.diagnostics.append(
                diag(
                    "HC0005",
                    f"substitution `{p.value}` is not supported in run entries conf files",
                    span,
                    "helmc does not resolve substitutions",
                    help="write the value itself here",
                )
            )
        elif p.type == "BAD_STRING":
            line = span.start_line_col[0]
            line_end = self.source.line_start(line) + len(self.source.line_text(line))
            self.diagnostics.append(
                diag(
                    "HC0002",
                    "unterminated string",
                    self.source.span(span.start, max(line_end, span.start + 1)),
                    "this string is not closed on its line",
                    help='add the closing `"`',
                    notes=["a quoted string cannot span lines; use triple quotes for that"],
                )
            )
        else:
            self.diagnostics.append(
                diag(
                    "HC0003",
                    f"`{p.value}` is reserved in HOCON and cannot appear outside a quoted string",
                    span,
                    "reserved character",
                    help="put the whole value in double quotes",
                )
            )
        return HError(span)

    def _concat(self, node: Tree, pieces: list):
        kinds = set()
        values = []
        bad = False
        strays = 0
        for p in pieces:
            if isinstance(p, Token) and p.type in ("SUBSTITUTION", "BAD_STRING", "STRAY"):
                # One report per value for reserved characters: a line of 10^5 `^` is one
                # mistake, not 10^5 diagnostics.
                if p.type != "STRAY" or strays == 0:
                    self._bad_piece(p)
                strays += p.type == "STRAY"
                bad = True
                continue
            if isinstance(p, Tree):
                kinds.add(p.data)
            else:
                kinds.add("string")
            values.append(p)
        span = self._tree_span(node)
        if bad or not values:
            return HError(span)
        self._check_missing_comma(values)
        if kinds == {"string"}:
            return self._concat_strings(values, span)
        if kinds == {"object"}:
            objs = [self._node(p) for p in values]
            first = objs[0]
            lost: list[str] = []
            for o in objs[1:]:
                self._merge(first, o, lost)
            notes = ["HOCON concatenates objects on one line; keys of the later object win"]
            if lost:
                notes.insert(0, "lost from the first object: " + ", ".join(f"`{k}`" for k in dict.fromkeys(lost)))
            self.diagnostics.append(
                diag(
                    "HC0108",
                    f"{len(objs)} objects side by side are merged into one",
                    objs[1].span,
                    "merged into the object before it",
                    secondary=[Label(first.span, "this object takes the keys of the next")],
                    help="separate them with a comma or a new line to keep them apart",
                    notes=notes,
                    # Unsafe: HELM reads the merged object today; two entries run something else.
                    fixes=[Fix(self.source.span(objs[1].span.start, objs[1].span.start), ", ", Applicability.UNSAFE)],
                )
            )
            first.span = span
            return first
        if kinds == {"array"}:
            items: list = []
            for p in values:
                items.extend(self._node(p).items)
            return HArray(tuple(items), span)
        self.diagnostics.append(
            diag(
                "HC0006",
                "a value mixes " + " and ".join(sorted("strings" if k == "string" else k + "s" for k in kinds)),
                span,
                "these cannot be concatenated",
                help="put a comma or a new line between separate values, or quote the whole string",
            )
        )
        return HError(span)

    def _check_missing_comma(self, pieces: list) -> None:
        # `"..." priority: 1` is legal HOCON (one string, "... priority: 1"), but almost
        # always a forgotten comma between two fields.
        for a, b, c in zip(pieces, pieces[1:], pieces[2:]):
            if (
                isinstance(a, Token) and a.type == "STRING"
                and isinstance(b, Token) and b.type == "UNQUOTED"
                and isinstance(c, Token) and c.type == "COLON" and c.start_pos == b.end_pos
            ):
                at = self.source.span(a.end_pos, a.end_pos)
                self.diagnostics.append(
                    diag(
                        "HC0009",
                        f"`{b.value}:` is read as part of the string before it",
                        self.source.span(b.start_pos, c.end_pos),
                        "this looks like the next key",
                        help="add a comma after the closing quote",
                        notes=["HOCON concatenates values on one line, so the key and its value become text"],
                        fixes=[Fix(at, ",", Applicability.SAFE)],
                    )
                )
                return

    def _concat_strings(self, toks: list[Token], span: Span) -> HString:
        out: list[str] = []
        offsets: list[int] = []
        prev_end = None
        prev_type = None
        for t in toks:
            # pyhocon drops the whitespace after a triple-quoted string (`"""a""" "b"` is "ab")
            # and keeps it everywhere else (`"a" """b"""` is "a b"); HELM sees pyhocon's value.
            if prev_end is not None and prev_type != "TRIPLE":
                gap = self.text[prev_end : t.start_pos]
                out.append(gap)
                offsets.extend(range(prev_end, t.start_pos))
            prev_type = t.type
            if t.type == "STRING":
                v, offs = self._decode_string(t)
                out.append(v)
                offsets.extend(offs[:-1] if offs else range(t.start_pos + 1, t.start_pos + 1 + len(v)))
            elif t.type == "TRIPLE":
                v = t.value[3:-3]
                out.append(v)
                offsets.extend(range(t.start_pos + 3, t.start_pos + 3 + len(v)))
            else:
                v, offs = self._unescape_unquoted(t)
                out.append(v)
                offsets.extend(offs[:-1])
            prev_end = t.end_pos
        offsets.append(prev_end)
        return HString("".join(out), span, False, tuple(offsets))

    def _triple(self, t: Token) -> HString:
        return HString(t.value[3:-3], self._span(t), False, tuple(range(t.start_pos + 3, t.end_pos - 2)))

    def _unescape_unquoted(self, t: Token) -> tuple[str, tuple[int, ...]]:
        raw = t.value
        if "\\" not in raw:
            return raw, tuple(range(t.start_pos, t.end_pos + 1))
        return self._unescape(raw, t.start_pos, t.end_pos, warn=False)

    def _decode_string(self, t: Token) -> tuple[str, tuple[int, ...] | None]:
        return self._decode_quoted(t.value, t.start_pos, t.end_pos)

    def _decode_quoted(self, text: str, start: int, end: int) -> tuple[str, tuple[int, ...] | None]:
        """A quoted string token's value, and its characters' file offsets if escapes moved them."""
        raw = text[1:-1]
        if "\\" not in raw:
            return raw, None
        return self._unescape(raw, start + 1, end - 1, warn=True)

    def _unescape(self, raw: str, base: int, end: int, warn: bool) -> tuple[str, tuple[int, ...]]:
        out: list[str] = []
        offsets: list[int] = []
        i = 0
        n = len(raw)
        while i < n:
            c = raw[i]
            if c == "\\" and i + 1 < n:
                pair = raw[i : i + 2]
                rep = _ESCAPES.get(pair)
                if rep is None:
                    rep = pair
                    if warn:
                        self.diagnostics.append(
                            diag(
                                "HC0007",
                                f"`{pair}` is kept as written, backslash and all",
                                self.source.span(base + i, base + i + 2),
                                "pyhocon does not decode this escape",
                                help="write the character itself, or `\\\\` for a backslash",
                                notes=["HELM reads conf files with pyhocon, which decodes only \\n \\r \\t \\\" \\\\ \\= \\# \\!"],
                            )
                        )
                for ch in rep:
                    out.append(ch)
                    offsets.append(base + i)
                i += 2
                continue
            out.append(c)
            offsets.append(base + i)
            i += 1
        offsets.append(end)
        return "".join(out), tuple(offsets)
