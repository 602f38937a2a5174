"""HOCON values (ir.H*) with spans, built as pyhocon reads them; shared by both readers.

The Lark reader (lark_reader.TreeToIR) and the fast reader (fast_reader) build every value,
key and merge through one `Builder`, so a file gives the same values and diagnostics
whichever reader takes it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Union

from ...diagnostics import Applicability, Diagnostic, Fix, Label, diag
from ...ir import HArray, HBool, HError, HField, HNull, HNumber, HObject, HString, HValue
from ...source import SourceFile, Span

# Characters that conf.lark skips as spaces between tokens, but pyhocon does not: it takes only
# spaces and tabs there, fails on these (or, for U+FEFF, keeps it in the value it follows).
ODD_SPACES = {
    "\u00a0": "a no-break space",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
    "\ufeff": "a byte order mark",
}

# pyhocon's number (with its lookahead replaced by "the whole value"), its escapes, its keys.
NUMBER = re.compile(r"[+-]?(\d*\.\d+|\d+(\.\d+)?)([eE][+\-]?\d+)?\Z")
ESCAPES = {"\\\\": "\\", "\\\n": "\n", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\=": "=", "\\#": "#", "\\!": "!", '\\"': '"'}
KEY_CHARS = re.compile(r"[A-Za-z0-9\u00c0-\u00ff._\- /]+\Z")
MAX_DEPTH = 200  # deeper nesting is refused before it costs a recursion error
SYNTHETIC = "\x00"  # the value of a token inserted by error recovery: no real token holds a NUL


class MObject:
    """An object under construction: HOCON merges duplicate keys before anything reads it."""

    __slots__ = ("fields", "span", "includes")

    def __init__(self, span: Span) -> None:
        self.fields: dict[str, list] = {}  # key -> [key_span, value, field_span]
        self.span = span
        self.includes = False  # see HObject.includes


# A piece of a value as the readers hand it over: a token, or a bracket already built. A
# token is a `str` (its text) with `type`, `start_pos` and `end_pos`: Lark's Token, or the
# fast reader's Tok, which spares it importing Lark. Only tokens are strings among pieces.
if TYPE_CHECKING:
    from lark import Token

Piece = Union["Token", "Tok", MObject, HArray]


class Tok(str):
    """A token as the fast reader hands it to `value`: what of Lark's Token the builder reads."""

    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __new__(cls, kind: str, text: str, start: int) -> "Tok":
        t = str.__new__(cls, text)
        t.type, t.value, t.start_pos, t.end_pos = kind, text, start, start + len(text)
        return t


class Builder:
    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic]) -> None:
        self.source = source
        self.text = source.text
        self.diagnostics = diagnostics

    def span(self, start: int, end: int) -> Span:
        return Span(self.source, start, end)

    # -------------------------------------------------------------- keys and objects

    def key_path(self, toks: list[Token], quoted: bool) -> list[str] | None:
        """A key's path (`a.b` is two keys), or None when it is already reported."""
        if any(t.value == SYNTHETIC for t in toks):
            return None  # inserted by error recovery, already reported
        span = self.source.span(toks[0].start_pos, toks[-1].end_pos)
        if quoted:
            return [self.decode_quoted(toks[0].value, toks[0].start_pos, toks[0].end_pos)[0]]
        text = self.text[span.start : span.end]
        if not KEY_CHARS.match(text):
            if BOM in text:  # the key reads on without it, as the fix will have it
                first = text.index(BOM)
                last = first + len(text[first:]) - len(text[first:].lstrip(BOM))
                self.diagnostics.append(stray_bom(self.source, span.start + first, span.start + last))
            bad = next((i for i, c in enumerate(text) if c != BOM and not KEY_CHARS.match(c)), None)
            if bad is not None:
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
            text = text.replace(BOM, "")
            if not text.strip():
                return None
        parts = text.split(".")
        if any(p.strip() == "" for p in parts):
            self.diagnostics.append(
                diag("HC0001", f"`{text}` is not a valid key path", span, "empty part between dots")
            )
            return None
        return [p.strip() for p in parts]

    def set(
        self, obj: MObject, keys: list[str], key_span: Span, value, field_span: Span, lost: list[str] | None = None
    ) -> None:
        for k in keys[:-1]:
            slot = obj.fields.get(k)
            if slot is None or not isinstance(slot[1], MObject):
                inner = MObject(field_span)
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
        if isinstance(old, MObject) and isinstance(value, MObject):
            self.merge(old, value, lost)
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

    def merge(self, into: MObject, other: MObject, lost: list[str] | None = None) -> None:
        for k, (ks, v, fs) in other.fields.items():
            self.set(into, [k], ks, v, fs, lost)
        into.includes = into.includes or other.includes

    def freeze(self, v) -> HValue:
        if isinstance(v, MObject):
            return HObject(
                tuple(HField(k, ks, self.freeze(val), fs) for k, (ks, val, fs) in v.fields.items()),
                v.span,
                v.includes,
            )
        return v


    # -------------------------------------------------------------- values

    def value(self, pieces: list[Piece], span: Span) -> HValue | MObject:
        """A value of one or more pieces on one line (HOCON's concatenation)."""
        if any(isinstance(p, str) and p.value == SYNTHETIC for p in pieces):
            return HError(span)  # inserted by error recovery, already reported
        first = pieces[0]
        if isinstance(first, str) and first.type == "UNQUOTED" and first.value.startswith("'"):
            return self._single_quoted(pieces, span)
        if len(pieces) == 1:
            return self._single(pieces[0])
        return self._concat(pieces, span)

    def _single_quoted(self, pieces: list[Piece], span: Span) -> HValue:
        """`'...'`: one HC0111 (the parse may have made it already), and no value, so that
        nothing reads a description with a quote in its name."""
        start = pieces[0].start_pos
        if not any(d.code == "HC0111" and d.span.start == start for d in self.diagnostics):
            self.diagnostics.append(single_quoted(self.source, start, self.text[start : span.end]))
        return HError(span)

    def _single(self, p: Piece):
        if not isinstance(p, str):
            return p
        if p.type in ("STRING", "UNQUOTED"):
            return self.leaf(p.type, p.value, p.start_pos, p.end_pos)
        if p.type == "TRIPLE":
            return self._triple(p)
        if p.type == "COLON":
            return HString(":", self._tok_span(p), False)
        return self.bad_piece(p)

    def _tok_span(self, t: Token) -> Span:
        return self.source.span(t.start_pos, t.end_pos)

    def leaf(self, kind: str, text: str, start: int, end: int) -> HValue:
        """A value of one STRING or UNQUOTED token, as pyhocon reads it."""
        span = Span(self.source, start, end)
        if kind == "STRING":
            value, offsets = self.decode_quoted(text, start, end)
            return HString(value, span, True, offsets)
        if NUMBER.match(text):
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

    def bad_piece(self, p: Token) -> HError:
        span = self._tok_span(p)
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

    def _concat(self, pieces: list[Piece], span: Span):
        kinds = set()
        values = []
        bad = False
        strays = 0
        for p in pieces:
            if isinstance(p, str) and p.type in ("SUBSTITUTION", "BAD_STRING", "STRAY"):
                # One report per value for reserved characters: a line of 10^5 `^` is one
                # mistake, not 10^5 diagnostics.
                if p.type != "STRAY" or strays == 0:
                    self.bad_piece(p)
                strays += p.type == "STRAY"
                bad = True
                continue
            if isinstance(p, MObject):
                kinds.add("object")
            elif isinstance(p, HArray):
                kinds.add("array")
            else:
                kinds.add("string")
            values.append(p)
        if bad or not values:
            return HError(span)
        if kinds == {"string"}:
            value = self._concat_strings(values, span)
            self._check_missing_comma(values, value)
            return value
        if kinds == {"object"}:
            objs = values
            first = objs[0]
            lost: list[str] = []
            for o in objs[1:]:
                self.merge(first, o, lost)
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
                items.extend(p.items)
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

    def _check_missing_comma(self, pieces: list, value: HString) -> None:
        # `"..." priority: 1` is legal HOCON (one string, "... priority: 1"), but almost
        # always a forgotten comma between two fields: the key and its value are lost as such.
        for k, (a, b, c) in enumerate(zip(pieces, pieces[1:], pieces[2:])):
            if (
                isinstance(a, str) and a.type == "STRING"
                and isinstance(b, str) and b.type == "UNQUOTED"
                and isinstance(c, str) and c.type == "COLON" and c.start_pos == b.end_pos
            ):
                at = self.source.span(a.end_pos, a.end_pos)
                swallowed = self.text[b.start_pos : pieces[-1].end_pos]
                self.diagnostics.append(
                    diag(
                        "HC0009",
                        f"a comma is missing before `{b.value}:`, so `{swallowed}` is read as part of the string before it",
                        self.source.span(b.start_pos, c.end_pos),
                        f"not a key: `{b.value}` is never set",
                        help="add a comma after the closing quote",
                        notes=[
                            f"HOCON concatenates values on one line: the value is {_quoted(value.value)}",
                            f"HELM gets this whole string, and no `{b.value}`",
                        ],
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
                v, offs = self.decode_string(t)
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
        return HString(t.value[3:-3], self._tok_span(t), False, tuple(range(t.start_pos + 3, t.end_pos - 2)))

    def _unescape_unquoted(self, t: Token) -> tuple[str, tuple[int, ...]]:
        raw = t.value
        if "\\" not in raw:
            return raw, tuple(range(t.start_pos, t.end_pos + 1))
        return self._unescape(raw, t.start_pos, t.end_pos, warn=False)

    def decode_string(self, t: Token) -> tuple[str, tuple[int, ...] | None]:
        return self.decode_quoted(t.value, t.start_pos, t.end_pos)

    def decode_quoted(self, text: str, start: int, end: int) -> tuple[str, tuple[int, ...] | None]:
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
                rep = ESCAPES.get(pair)
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


def _quoted(text: str, limit: int = 120) -> str:
    """A value for a message, cut in the middle when long."""
    if len(text) > limit:
        text = text[: limit // 2] + "..." + text[-limit // 2 :]
    return '"' + text.replace('"', '\\"') + '"'


BOM = "\ufeff"


def stray_bom(source: SourceFile, start: int, end: int) -> Diagnostic:
    """HC0003 for U+FEFF where a key is read (often what joining files that start with a byte
    order mark leaves): pyhocon fails there, and the character is invisible in an editor."""
    return diag(
        "HC0003",
        "a byte order mark (U+FEFF) where a key should be, which HELM cannot read",
        source.span(start, end),
        "invisible byte order mark",
        help="remove the byte order mark",
        notes=["a byte order mark is only ever meant as a file's first character; pyhocon fails on it here"],
        fixes=[Fix(source.span(start, end), "", Applicability.SAFE)],
    )


def single_quoted(source: SourceFile, start: int, text: str) -> Diagnostic:
    """HC0111 for `'...'` at `start`: HOCON reads the quotes as text, and often fails."""
    inner = text[1:-1] if len(text) > 1 and text.endswith("'") else text[1:]
    fixed = '"' + inner.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return diag(
        "HC0111",
        "strings are written in double quotes in HOCON, not single quotes",
        source.span(start, start + len(text)),
        "single quotes are not string quotes",
        help=f"write {fixed}",
        notes=["pyhocon reads `'` as an ordinary character: the quotes become part of the value, and `=` or `,` inside end it"],
        fixes=[Fix(source.span(start, start + len(text)), fixed, Applicability.SAFE)],
    )
