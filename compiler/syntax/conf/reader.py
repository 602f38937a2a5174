"""Reading a conf file: bad bytes and nesting first, then the fast reader, else Lark's.

Lark is imported only for a file the fast reader gives up on (or one with odd spaces or deep
nesting to look into): importing it is about 40 ms of a start that reads plain files.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from ...diagnostics import Applicability, Diagnostic, Fix, diag
from ...ir import Entry, HError, HValue
from ...source import SourceFile
from .builder import MAX_DEPTH, ODD_SPACES
from .fast_reader import fast_entry_items, fast_parse
from .schema import entries_of, entries_of_items

if TYPE_CHECKING:
    from lark import Token


def parse_conf(source: SourceFile, diagnostics: list[Diagnostic]) -> HValue:
    """Parse a conf file into its root HOCON value; problems go to `diagnostics`."""
    text = source.text
    lark_text = check_bytes(source, diagnostics)
    if lark_text is text:
        value = fast_parse(source, diagnostics)  # plain files; None sends the rest to Lark
        if value is not None:
            return value
    return _lark_parse(source, lark_text, diagnostics)


def read_entries(source: SourceFile, diagnostics: list[Diagnostic]) -> list[Entry]:
    """A conf file's run entries: entries_of(parse_conf(...)), the same entries and
    diagnostics in the same order, but a file that is `entries: [...]` alone has its plain
    entries made without their HOCON tree (fast_entry_items; most of HELM's files)."""
    text = source.text
    lark_text = check_bytes(source, diagnostics)
    if lark_text is text:
        read = fast_entry_items(source, diagnostics)
        if read is not None:
            items, root = read
            if items is not None:
                return entries_of_items(items, diagnostics)
            return entries_of(root, source, diagnostics)
    return entries_of(_lark_parse(source, lark_text, diagnostics), source, diagnostics)


def _lark_parse(source: SourceFile, lark_text: str, diagnostics: list[Diagnostic]) -> HValue:
    """The root value of a file the fast reader does not take, read by Lark (a file that
    nests too deep, or that recovery gives up on, is an HError)."""
    text = source.text
    from lark.exceptions import UnexpectedInput

    from .lark_reader import parse_tree, read_tree

    depth_error = check_depth(source)
    if depth_error is not None:
        diagnostics.append(depth_error)
        return HError(source.span(0, len(text)))
    try:
        tree = parse_tree(source, lark_text, diagnostics)
    except UnexpectedInput as e:  # recovery gave up: the file is garbage from here on
        pos = getattr(e, "pos_in_stream", None) or 0
        if not any(d.severity.value == "error" for d in diagnostics):
            diagnostics.append(diag("HC0001", "this file cannot be read as HOCON", source.span(pos, pos + 1), "here"))
        return HError(source.span(0, len(text)))
    return read_tree(tree, source, diagnostics)


def check_bytes(source: SourceFile, diagnostics: list[Diagnostic]) -> str:
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
    # A str knows whether it is ASCII without a pass over it; else one fast search for each of
    # the four characters costs a tenth of the regex's pass (10 ms over the held-out set).
    if not text.isascii() and any(c in text for c in ODD_SPACES):
        _check_odd_spaces(source, text, diagnostics)
    return text


_ODD_SPACE = re.compile("[" + "".join(ODD_SPACES) + "]+")


def _check_odd_spaces(source: SourceFile, text: str, diagnostics: list[Diagnostic]) -> None:
    """One HC0003 per run of them between tokens (inside strings and comments they are text),
    with a safe fix: a plain space, or nothing for a byte order mark."""
    from .lark_reader import iter_tokens

    for tok in iter_tokens(text):
        if tok.type != "WS":
            continue
        for m in _ODD_SPACE.finditer(tok.value):
            name = ODD_SPACES[m.group()[0]]
            code_point = f"U+{ord(m.group()[0]):04X}"
            span = source.span(tok.start_pos + m.start(), tok.start_pos + m.end())
            bom = m.group()[0] == "\ufeff"
            diagnostics.append(
                diag(
                    "HC0003",
                    f"{name} ({code_point}) outside a quoted string, which HELM does not read as a space",
                    span,
                    "invisible " + name.removeprefix("a "),
                    help="remove it" if bom else "replace it with a plain space",
                    notes=["pyhocon takes only spaces and tabs between values: it fails here, or keeps the character in the value"],
                    fixes=[Fix(span, "" if bom else " " * len(m.group()), Applicability.SAFE)],
                )
            )


def check_depth(source: SourceFile) -> Diagnostic | None:
    """Refuse absurd nesting up front: Lark's parser is iterative, but values, merges and
    what reads them recurse. A dotted key nests too (`a.b.c: 1` is three objects deep), so
    brackets and key parts count together."""
    text = source.text
    if text.count("{") + text.count("[") + text.count(".") <= MAX_DEPTH:
        return None
    from .lark_reader import iter_tokens

    return _deepest(source, iter_tokens(text))


def _too_deep(source: SourceFile, start: int, end: int, what: str) -> Diagnostic:
    return diag(
        "HC0008",
        f"{what} nested more than {MAX_DEPTH} deep",
        source.span(start, end),
        "nested too deep",
        notes=[f"helmc reads at most {MAX_DEPTH} levels; a run entries conf file needs three"],
    )


def _deepest(source: SourceFile, toks: Iterator[Token]) -> Diagnostic | None:
    """The first place where objects and arrays, with the objects that dotted keys make,
    go deeper than MAX_DEPTH."""
    levels = [0]  # the depth of values inside each open bracket
    extra = 0  # objects the current field's dotted key adds around its value
    key_dots = 0  # dots in the unquoted words read since the last separator
    key_start = 0
    for tok in toks:
        kind = tok.type
        if kind in ("WS", "COMMENT", "NL"):
            continue
        if kind == "UNQUOTED":
            if not key_dots:
                key_start = tok.start_pos
            key_dots += tok.value.count(".")
            continue
        if kind in ("COLON", "EQUAL", "PLUS_EQUALS") or (kind == "LBRACE" and key_dots):
            extra, key_dots = key_dots, 0
            if levels[-1] + extra + 1 > MAX_DEPTH:
                return _too_deep(source, key_start, tok.start_pos, "a dotted key makes objects")
        key_dots = 0
        if kind == "LBRACE" or kind == "LSQB":
            depth = levels[-1] + extra + 1
            if depth > MAX_DEPTH:
                return _too_deep(source, tok.start_pos, tok.end_pos, "objects and arrays are")
            levels.append(depth)
            extra = 0
        elif kind == "RBRACE" or kind == "RSQB":
            if len(levels) > 1:
                levels.pop()
            extra = 0
        elif kind == "COMMA":
            extra = 0
    return None


