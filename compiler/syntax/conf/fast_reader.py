"""A fast reader for the plain shape of conf files, with Lark's own lexer regex.

Lark's LALR loop costs a few microseconds a token, most of helmc's time on a large file. Real
conf files are plain: fields `key: value` and `key { ... }`, lists, values of strings,
objects and lists (several on one line are concatenated, as the Builder does for Lark). This
module reads exactly that shape and gives up, returning None, on anything else: triple
quotes, `${}`, `+=`, `include`, dotted or spaced keys, a root list, any error; the Lark parse
then reads the file, so the grammar stays the definition. A repeated key is merged with the
Lark path's own Builder.set.

It scans with the compiled regex of Lark's own lexer (the grammar's terminals, in Lark's
priority order) and builds values with the same `Builder` methods as the Lark path, so a file
read here gives the very same values and diagnostics; tests/compiler/syntax/conf/test_fast_reader.py checks that on
the corpus and on generated files.

fast_entry_items is the way in for what only wants a file's run entries (reader.read_entries):
a file that is `entries: [...]` alone gives its plain entry objects as PlainEntry, without the
values, keys and spans of their tree, which schema.entries_of_items turns into the very Entry
that schema._entry makes from the tree (the same tests check that too).
"""

from __future__ import annotations

import importlib.util
import os
import re
import zlib
from array import array
from functools import lru_cache
from typing import Any, Callable, TypeVar

from ...diagnostics import Diagnostic
from ...ir import HArray, HField, HNumber, HObject, HString, HValue
from ...source import SourceFile, Span
from .builder import KEY_CHARS, MAX_DEPTH, Builder, MObject, Piece, Tok

T = TypeVar("T")
_VALUE_TOKENS = frozenset({"STRING", "UNQUOTED"})


class _GiveUp(Exception):
    """The file is not of the plain shape: let Lark read it."""


_BRACKETS = {"LBRACE": 1, "LSQB": 1, "RBRACE": -1, "RSQB": -1}


@lru_cache(maxsize=1)
def _scanner() -> tuple[Any, frozenset[str]] | None:
    """The regex the fast reader scans with (scan_regex of Lark's lexer regex) and the ignored
    kinds: from lexer_table.py, made at generation time, or else from Lark itself; None where
    its matches would not tile every text."""
    found = _generated_scanner()
    if found is not None:
        return found if _tiles(found[0].pattern) else None
    from .lark_reader import basic_lexer

    basic = basic_lexer()
    scanner = getattr(basic, "scanner", None)
    # The shortcut relies on Lark's lexer being one regex with no callbacks; otherwise, Lark.
    if scanner is None or getattr(basic, "callback", None) or len(scanner._mres) != 1:
        return None
    ignore = frozenset(basic.ignore_types)
    if not _tiles(scanner._mres[0].pattern):
        return None
    return re.compile(scan_pattern(scanner._mres[0], ignore), scanner._mres[0].flags), ignore


def _tiles(pattern: str) -> bool:
    """Whether the matches of a lexer regex tile any text, leaving no character unmatched
    (which fast_read then need not look for): conf.lark's last terminal, STRAY, takes any
    character but a newline, and NL takes that."""
    try:
        return _alternative(pattern, "STRAY") == "(?P<STRAY>.)" and re.fullmatch(_alternative(pattern, "NL"), "\n") is not None
    except ValueError:  # no such terminal
        return False


def scan_pattern(regex: re.Pattern, ignore: frozenset[str]) -> str:
    """Lark's lexer regex with a run of plain spaces and tabs folded into the token that follows
    it (a quarter of a conf file's matches are those runs, and WS, which takes them, is an
    ignored kind); the regex as it is where folding could change a token.
    tests/compiler/syntax/conf/test_lexer_table.py checks its tokens against Lark's on any text."""
    if "WS" not in ignore or not _starts_apart(regex):
        return regex.pattern
    # Only a run of spaces and tabs that WS would end there: before another of WS's characters
    # (U+FEFF, which UNQUOTED also takes alone), the run is left to WS, as Lark's lexer does.
    ws = _alternative(regex.pattern, "WS")[len("(?P<WS>"):-1]
    return f"(?:[ \t]+(?!{ws}))?(?:{_punctuation_first(regex)})"


# The one-character tokens, most of a conf file's: Python's re tries a regex's alternatives in
# order, each behind its group's mark, so these are tried first where no other terminal can
# start with their character (then the order cannot change a token): a fifth of the scan.
_PUNCTUATION = {"COLON": ":", "COMMA": ",", "LBRACE": "{", "RBRACE": "}", "LSQB": "[", "RSQB": "]", "NL": "\n"}


def _punctuation_first(regex: re.Pattern) -> str:
    """The alternatives of a Lark lexer regex with _PUNCTUATION's first, each of them only where
    no other alternative but STRAY (which takes any character, last) matches at its
    character, followed by anything; the rest in their order."""
    names = sorted(regex.groupindex, key=regex.groupindex.__getitem__)
    alternatives = {n: _alternative(regex.pattern, n) for n in names}
    if "|".join(alternatives[n] for n in names) != regex.pattern:
        return regex.pattern  # not a plain list of named alternatives
    tails = ("", "x", " ", "\n", "\r", '"', "/", "//", "#", "{", "}", "[", "]", ":", ",", "=", "$", "+", "\\")
    first = []
    for name, char in _PUNCTUATION.items():
        if name not in alternatives or not re.fullmatch(alternatives[name], char, regex.flags):
            continue
        others = [re.compile(alternatives[n], regex.flags) for n in names if n != name and n != "STRAY"]
        if not any(o.match(char + t) for o in others for t in tails):
            first.append(name)
    return "|".join(alternatives[n] for n in first + [n for n in names if n not in first])


def _starts_apart(regex: re.Pattern) -> bool:
    """Whether no token kind before WS (Lark's order) can begin with a space or a tab: then
    folding them into the next token leaves every token as Lark's lexer makes it."""
    names = sorted(regex.groupindex, key=regex.groupindex.__getitem__)
    if "WS" not in names:
        return False
    for name in names[: names.index("WS")]:
        alone = re.compile(_alternative(regex.pattern, name), regex.flags)
        if alone.match(" x") or alone.match("\tx"):
            return False
    return True


def _alternative(pattern: str, name: str) -> str:
    """The named alternative `(?P<name>...)` of a Lark lexer regex, as its own pattern."""
    start = pattern.index(f"(?P<{name}>")
    depth = 0
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":  # a class: its brackets and parentheses are characters
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return pattern[start : i + 1]
        i += 1
    raise ValueError(f"no alternative {name}")


def _generated_scanner() -> tuple[Any, frozenset[str]] | None:
    """The scanning regex from lexer_table.py (scripts/gen_lexer_table.py), without importing
    Lark: where the installed lark and grammar/conf.lark are the ones it was made from."""
    from .... import grammar
    from . import lexer_table as table

    try:
        spec = importlib.util.find_spec("lark")
        if spec is None or spec.origin is None:
            return None
        with open(spec.origin, encoding="utf-8") as f:
            version = _LARK_VERSION.search(f.read())
        with open(os.path.join(os.path.dirname(grammar.__file__), "conf.lark"), "rb") as f:
            crc = zlib.crc32(f.read())
    except (OSError, ValueError, ImportError):  # lark or the grammar not as plain files: ask Lark
        return None
    if version is None or version.group(1) != table.LARK_VERSION or crc != table.GRAMMAR_CRC32:
        return None
    return re.compile(table.SCAN_PATTERN, table.FLAGS), frozenset(table.IGNORE)


_LARK_VERSION = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.M)


def fast_parse(source: SourceFile, diagnostics: list[Diagnostic]) -> HValue | None:
    """The root value of a plain conf file, or None when Lark must read it."""
    read = fast_read(source, diagnostics)
    return None if read is None else read[0]


def fast_read(source: SourceFile, diagnostics: list[Diagnostic],
              comments: dict[int, str] | None = None) -> tuple[HValue, list[str], list[str]] | None:
    """fast_parse, also giving the token kinds and texts it read (NL and COMMA included, `$END`
    last); with `comments`, each comment's text is put there under the index of the token it
    precedes (a comment runs to its line's end, so at most one precedes a token). The
    formatter's fast path prints from these, without Lark's tree."""
    found = _scanner()
    if found is None:
        return None
    scanned = _scan(source.text, *found, comments)
    if scanned is None:
        return None  # nested deeper than MAX_DEPTH: the Lark path refuses it
    kinds, texts, starts = scanned
    local: list[Diagnostic] = []
    reader = _Reader(kinds, texts, starts, Builder(source, local))
    try:
        value = reader.root()
    except (_GiveUp, IndexError, RecursionError):  # nesting is bounded above; recursion is a backstop
        return None
    diagnostics.extend(local)
    return value, kinds, texts


class PlainEntry:
    """An entry object of a file that is `entries: [...]` alone, read by fast_entry_items
    without its HOCON tree: `{description: "...", priority: N, groups: ["..."]}`, a
    description always, the other two or not, once each, of the plain shape _simple_object
    takes (no escapes, ASCII-digit priority). schema.entries_of_items makes its Entry exactly
    as _entry makes it from the tree; the tree's keys, fields and their spans go unbuilt."""

    __slots__ = ("span", "description", "priority", "priority_span", "groups", "groups_span")

    def __init__(self, span: Span, description: HString, priority: int | None, priority_span: Span | None,
                 groups: tuple[str, ...] | None, groups_span: Span | None) -> None:
        self.span = span
        self.description = description
        self.priority = priority
        self.priority_span = priority_span
        self.groups = groups
        self.groups_span = groups_span


def fast_entry_items(source: SourceFile, diagnostics: list[Diagnostic],
                     ) -> tuple[list[HValue | PlainEntry] | None, HValue | None] | None:
    """load_entries' way in: for a file that is `entries: [...]` alone (braced or not), the
    list's items, each a PlainEntry or the HValue fast_parse gives (items, None); for any
    other plain file, its root value (None, root); None when Lark must read it."""
    found = _scanner()
    if found is None:
        return None
    scanned = _scan(source.text, *found)
    if scanned is None:
        return None
    kinds, texts, starts = scanned
    local: list[Diagnostic] = []
    reader = _Reader(kinds, texts, starts, Builder(source, local))
    try:
        items = reader.entry_items()
        if items is not None:
            diagnostics.extend(local)
            return items, None
        del local[:]  # what the attempt reported, the tree's reading reports again
        reader.i = 0
        value = reader.root()
    except (_GiveUp, IndexError, RecursionError):
        return None
    diagnostics.extend(local)
    return None, value


def _scan(text: str, regex: re.Pattern, ignore: frozenset[str],
          comments: dict[int, str] | None = None) -> tuple[list[str], list[str], array] | None:
    """The tokens of a text (see fast_read), or None where brackets nest deeper than MAX_DEPTH."""
    # The tokens as three parallel arrays (kind, text, start; the end is start + len(text)),
    # not a tuple each: a tuple with its two ints took about 130 bytes a token, the file's
    # tokens held at once were most of the peak memory of a large file (1.1 million tokens,
    # 190 MB, for 100k entries).
    kinds: list[str] = []
    texts: list[str] = []
    starts = array("q")
    add_kind, add_text, add_start = kinds.append, texts.append, starts.append
    depth = 0
    # By group number, not name: m.group(name) and m.start(name) look the name up each time.
    names, ignored, brackets = _groups(regex, ignore)
    # The matches tile the text (_tiles): no gap to look for between them.
    for m in regex.finditer(text):
        group = m.lastindex  # the token's kind: the named group closes last
        if group in ignored:
            if comments is not None and names[group] == "COMMENT":
                comments[len(kinds)] = m.group(group)
            continue
        add_kind(names[group])
        add_text(m.group(group))  # without the spaces the scanner folds into it
        add_start(m.start(group))
        if group in brackets:
            depth += brackets[group]
            if depth > MAX_DEPTH:
                return None  # before the token list grows: the Lark path refuses it
    return kinds, texts, starts


@lru_cache(maxsize=2)
def _groups(regex: re.Pattern, ignore: frozenset[str]) -> tuple[tuple[str | None, ...], frozenset[int], dict[int, int]]:
    """A scanning regex's kind of each group number (lastgroup's own table), the numbers of the
    ignored kinds, and the bracket kinds' numbers with their change of depth."""
    names: list[str | None] = [None] * (regex.groups + 1)
    for name, number in regex.groupindex.items():
        names[number] = name
    index = regex.groupindex
    return (tuple(names), frozenset(index[k] for k in ignore if k in index),
            {index[k]: d for k, d in _BRACKETS.items() if k in index})


# Token kinds that _skip passes over: between fields and items, and after a key or separator.
_SEPARATORS = ("NL", "COMMA")
# A token right after a value that makes it a concatenation.
_CONCATENATING = frozenset({"STRING", "UNQUOTED", "COLON", "LBRACE", "LSQB"})


class _Reader:
    """Recursive descent over the token list; every surprise is a _GiveUp.

    The separators are skipped inline, not by a method call: a run of them is rare and a call
    for every token boundary was a tenth of the reading time."""

    __slots__ = ("toks", "texts", "starts", "i", "builder", "source", "keys")

    def __init__(self, kinds: list[str], texts: list[str], starts: array, builder: Builder) -> None:
        self.toks = kinds  # the kinds: what most of the reading looks at
        self.texts = texts
        self.starts = starts
        kinds.append("$END")
        texts.append("")
        starts.append(-1)
        self.i = 0
        self.builder = builder
        self.source = builder.source
        # Every entry repeats the same few keys (description, priority): one string each
        # keeps 100k entries' IR about 10 MB smaller.
        self.keys: dict[str, str] = {}

    def _skip(self, kinds: tuple[str, ...]) -> bool:
        """Skip a run of these token kinds; whether any was skipped."""
        toks, i = self.toks, self.i
        while toks[i] in kinds:
            i += 1
        skipped = i != self.i
        self.i = i
        return skipped

    def root(self) -> HValue:
        self._skip(_SEPARATORS)
        kind = self.toks[self.i]
        if kind == "$END":
            return HObject((), self.source.span(0, len(self.source.text)))
        if kind == "LBRACE":
            value = self._object()
        elif kind == "LSQB":
            raise _GiveUp
        else:
            fields, first, last = self._fields("$END")
            value = HObject(fields, self.source.span(first, last))
        self._skip(_SEPARATORS)
        if self.toks[self.i] != "$END":
            raise _GiveUp
        return value

    def entry_items(self) -> list[HValue | PlainEntry] | None:
        """The items of `entries: [...]` when that is the whole file (braced or not), a plain
        entry object as a PlainEntry, any other item read as root() reads it; None when the
        file is anything else (root() then reads it from the start)."""
        toks, texts = self.toks, self.texts
        i = 0
        while toks[i] in _SEPARATORS:
            i += 1
        braced = toks[i] == "LBRACE"
        if braced:
            i += 1
            while toks[i] in _SEPARATORS:
                i += 1
        if toks[i] != "UNQUOTED" or texts[i] != "entries":
            return None
        i += 1
        while toks[i] == "NL":
            i += 1
        if toks[i] != "COLON" and toks[i] != "EQUAL":
            return None
        i += 1
        while toks[i] == "NL":
            i += 1
        if toks[i] != "LSQB":
            return None
        i += 1
        while toks[i] in _SEPARATORS:
            i += 1
        self.i = i
        items: list[HValue | PlainEntry] = self._items(self._entry_item)
        i = self.i + 1
        while toks[i] in _SEPARATORS:
            i += 1
        if braced:
            if toks[i] != "RBRACE":
                return None
            i += 1
            while toks[i] in _SEPARATORS:
                i += 1
        if toks[i] != "$END":
            return None  # another field, a list after the list, or what root() gives up on
        return items

    def _entry_item(self) -> HValue | PlainEntry:
        """One item of `entries`: a PlainEntry where it is one, else the value as _array reads it."""
        if self.toks[self.i] == "LBRACE":
            item = self._plain_entry(self.i)
            if item is not None:
                return item
        return self._value()

    def _plain_strings(self, i: int) -> tuple[list[int], int] | None:
        """The list whose `[` is token i when it holds only strings without escapes, one token
        each: their token indexes and the index of its `]`; else None. Nothing is consumed."""
        toks, texts = self.toks, self.texts
        strings: list[int] = []
        j = i + 1
        while toks[j] in _SEPARATORS:
            j += 1
        while toks[j] == "STRING":
            after = toks[j + 1]
            if "\\" in texts[j] or (after != "COMMA" and after != "NL" and after != "RSQB"):
                return None
            strings.append(j)
            j += 1
            while toks[j] in _SEPARATORS:
                j += 1
        if toks[j] != "RSQB":
            return None
        return strings, j

    def _plain_entry(self, i: int) -> PlainEntry | None:
        """The entry object whose `{` is token i, when it is a PlainEntry (see there); else
        None, nothing consumed."""
        toks, texts, starts, source = self.toks, self.texts, self.starts, self.source
        start = starts[i]
        j = i + 1
        while toks[j] in _SEPARATORS:
            j += 1
        description: HString | None = None
        priority: int | None = None
        priority_span = groups_span = None
        groups: tuple[str, ...] | None = None
        while True:
            if toks[j] != "UNQUOTED" or toks[j + 1] != "COLON":
                return None
            name = texts[j]
            k = j + 2
            kind, text, value_start = toks[k], texts[k], starts[k]
            if name == "description":
                if description is not None or kind != "STRING" or "\\" in text:
                    return None
                description = HString(text[1:-1], Span(source, value_start, value_start + len(text)), True, None)
            elif name == "priority":
                if priority_span is not None or kind != "UNQUOTED" or not (text.isdigit() and text.isascii()):
                    return None
                priority = int(text)
                priority_span = Span(source, value_start, value_start + len(text))
            elif name == "groups":
                if groups_span is not None or kind != "LSQB":
                    return None
                found = self._plain_strings(k)
                if found is None:
                    return None
                strings, k = found
                groups = tuple([texts[n][1:-1] for n in strings])
                groups_span = Span(source, value_start, starts[k] + 1)
            else:
                return None  # an unknown key: _entry reports it, from the tree
            k += 1
            after = toks[k]
            if after != "COMMA" and after != "NL" and after != "RBRACE":
                return None
            while toks[k] in _SEPARATORS:
                k += 1
            if toks[k] == "RBRACE":
                break
            j = k
        if description is None or toks[k + 1] in _CONCATENATING:
            return None  # no description (HC0104), or objects side by side (HC0108): the tree's
        self.i = k + 1
        return PlainEntry(Span(source, start, starts[k] + 1), description, priority, priority_span, groups, groups_span)

    def _fields(self, closer: str) -> tuple[tuple[HField, ...], int, int]:
        """Fields up to `closer` (not consumed); also the extent of their tokens."""
        toks = self.toks
        fields: list[HField] = []
        seen: set[str] = set()
        repeated = False
        first = last = -1
        while True:
            if toks[self.i] == closer:
                break
            field = self._field()
            if field.key in seen:
                repeated = True
            seen.add(field.key)
            fields.append(field)
            if first < 0:
                first = field.span.start
            last = field.span.end
            i = self.i
            kind = toks[i]
            if kind == closer:
                break
            if kind != "NL" and kind != "COMMA":
                raise _GiveUp  # two things on one line: concatenation or an error
            i += 1
            while toks[i] in _SEPARATORS:
                i += 1
            self.i = i
        if repeated:
            return self._merged(fields), first, last
        return tuple(fields), first, last

    def _merged(self, fields: list[HField]) -> tuple[HField, ...]:
        """The fields of an object with a repeated key, merged as the Lark path merges them
        (Builder.set: objects merge, a later value wins, HC0109), after its values were read,
        as the Lark path's transform reads them. Old conf files repeat keys (each entry a
        key of the root object), so they are read here, not by Lark."""
        builder = self.builder
        obj = MObject(fields[0].span)  # its span is not used: the caller has the object's own
        for f in fields:
            builder.set(obj, [f.key], f.key_span, _thaw(f.value), f.span)
        return builder.freeze(obj).fields

    def _field(self) -> HField:
        toks = self.toks
        i = self.i
        kind, value, start = toks[i], self.texts[i], self.starts[i]
        end = start + len(value)
        if kind == "UNQUOTED":
            key = self.keys.get(value)  # one string per key, not one per field
            if key is None:
                if "." in value or value == "include" or KEY_CHARS.match(value) is None:
                    raise _GiveUp
                key = self.keys[value] = value
        elif kind == "STRING":
            key = self.builder.decode_quoted(value, start, end)[0]
            key = self.keys.setdefault(key, key)
        else:
            raise _GiveUp
        source = self.source
        key_span = Span(source, start, end)
        i += 1
        while toks[i] == "NL":
            i += 1
        sep = toks[i]
        if sep == "LBRACE":
            self.i = i
            obj = self._object()
        elif sep == "COLON" or sep == "EQUAL":
            i += 1
            while toks[i] == "NL":
                i += 1
            if toks[i] == "STRING" and toks[i + 1] not in _CONCATENATING and "\\" not in self.texts[i]:
                # Most values: a quoted string without escapes, built here as Builder.leaf builds
                # it (a tenth of the reading time went to the calls); any other value: _value.
                text = self.texts[i]
                value_end = self.starts[i] + len(text)
                self.i = i + 1
                leaf = HString(text[1:-1], Span(source, self.starts[i], value_end), True, None)
                return HField(key, key_span, leaf, Span(source, start, value_end))
            self.i = i
            obj = self._value()
        else:
            raise _GiveUp
        return HField(key, key_span, obj, Span(source, start, obj.span.end))

    def _value(self) -> HValue:
        toks = self.toks
        i = self.i
        kind = toks[i]
        if kind in _VALUE_TOKENS:
            value, start = self.texts[i], self.starts[i]
            end = start + len(value)
            if value[0] == "'":
                raise _GiveUp  # single quotes: the builder's HC0111 on the Lark path
            self.i = i + 1
            if toks[i + 1] in _CONCATENATING:
                return self._concatenation(Tok(kind, value, start))
            return self.builder.leaf(kind, value, start, end)
        if kind == "LBRACE":
            v = self._object()
        elif kind == "LSQB":
            v = self._array()
        else:
            raise _GiveUp
        if toks[self.i] in _CONCATENATING:
            return self._concatenation(_thaw(v))
        return v

    def _concatenation(self, first: Piece) -> HValue:
        """A value of several pieces on one line (HOCON's concatenation: `a b: c` is one
        string, two objects side by side merge), built by the Builder's `value` from the same
        pieces as the Lark path gives it; the first is read. Old conf files hold these: a
        comment without its `#`, two entries without a comma between them."""
        toks, texts, starts = self.toks, self.texts, self.starts
        pieces: list[Piece] = [first]
        while True:
            i = self.i
            kind = toks[i]
            if kind == "STRING" or kind == "UNQUOTED" or kind == "COLON":
                pieces.append(Tok(kind, texts[i], starts[i]))
                self.i = i + 1
            elif kind == "LBRACE":
                pieces.append(_thaw(self._object()))
            elif kind == "LSQB":
                pieces.append(self._array())
            else:
                break  # a separator or a closer ends it; anything else is the caller's surprise
        last = pieces[-1]
        end = last.end_pos if isinstance(last, str) else last.span.end
        begin = first.start_pos if isinstance(first, str) else first.span.start
        return self.builder.freeze(self.builder.value(pieces, Span(self.source, begin, end)))

    def _object(self) -> HObject:
        toks = self.toks
        i = self.i
        start = self.starts[i]
        i += 1
        while toks[i] in _SEPARATORS:
            i += 1
        simple = self._simple_object(start, i)
        if simple is not None:
            return simple
        self.i = i
        fields, _, _ = self._fields("RBRACE")
        i = self.i
        while toks[i] in _SEPARATORS:
            i += 1
        if toks[i] != "RBRACE":
            raise _GiveUp
        end = self.starts[i] + len(self.texts[i])
        self.i = i + 1
        return HObject(fields, Span(self.source, start, end))

    def _simple_object(self, start: int, i: int) -> HObject | None:
        """The object whose `{` is at `start` and whose first field is token i when it holds only
        `key: value` fields whose value is a string without escapes, a number of ASCII digits or
        a list of such strings, keys not repeated (most entries: `{description: "...",
        priority: 1}`, some with `groups: ["..."]`); else None, nothing consumed, for _fields
        to read. Built as _field, _array and Builder.leaf build them, in one loop: about a
        microsecond an entry less than their calls."""
        toks, texts, starts, source, keys = self.toks, self.texts, self.starts, self.source, self.keys
        fields: list[HField] = []
        names: list[str] = []
        while True:
            if toks[i] != "UNQUOTED" or toks[i + 1] != "COLON":
                return None
            name = texts[i]
            key = keys.get(name)
            if key is None:
                if "." in name or name == "include" or KEY_CHARS.match(name) is None:
                    return None
                key = keys[name] = name
            if key in names:
                return None  # a repeated key: _fields merges
            j = i + 2
            kind = toks[j]
            text = texts[j]
            value_start = starts[j]
            if kind == "STRING":
                if "\\" in text:
                    return None
                value_end = value_start + len(text)
                value: HValue = HString(text[1:-1], Span(source, value_start, value_end), True, None)
            elif kind == "UNQUOTED":
                if not (text.isdigit() and text.isascii()):  # where NUMBER and int() read alike
                    return None
                value_end = value_start + len(text)
                value = HNumber(int(text), text, Span(source, value_start, value_end))
            elif kind == "LSQB":
                found = self._plain_strings(j)
                if found is None:
                    return None
                strings, j = found
                items: list[HValue] = [HString(texts[n][1:-1], Span(source, starts[n], starts[n] + len(texts[n])), True, None)
                                       for n in strings]
                value_end = starts[j] + 1
                value = HArray(tuple(items), Span(source, value_start, value_end))
            else:
                return None
            j += 1
            after = toks[j]
            if after != "COMMA" and after != "NL" and after != "RBRACE":
                return None  # a concatenation, or a surprise for the general path
            key_start = starts[i]
            fields.append(HField(key, Span(source, key_start, key_start + len(name)), value,
                                 Span(source, key_start, value_end)))
            names.append(key)
            while toks[j] in _SEPARATORS:
                j += 1
            if toks[j] == "RBRACE":
                break
            i = j
        self.i = j + 1
        return HObject(tuple(fields), Span(source, start, starts[j] + 1))

    def _array(self) -> HArray:
        start = self.starts[self.i]
        self.i += 1
        self._skip(_SEPARATORS)
        items = self._items(self._value)
        end = self.starts[self.i] + len(self.texts[self.i])
        self.i += 1
        return HArray(tuple(items), Span(self.source, start, end))

    def _items(self, read: Callable[[], T]) -> list[T]:
        """A list's items, each read by `read`, from the first (self.i) to its `]`, where self.i
        is left."""
        toks = self.toks
        items: list[T] = []
        while toks[self.i] != "RSQB":
            items.append(read())
            i = self.i
            kind = toks[i]
            if kind == "RSQB":
                break
            if kind != "NL" and kind != "COMMA":
                raise _GiveUp
            i += 1
            while toks[i] in _SEPARATORS:
                i += 1
            self.i = i
        return items


def _thaw(v: HValue) -> HValue | MObject:
    """An object read here as the Builder holds one under construction, for merging."""
    if not isinstance(v, HObject):
        return v
    m = MObject(v.span)
    m.fields = {f.key: [f.key_span, _thaw(f.value), f.span] for f in v.fields}
    m.includes = v.includes
    return m
