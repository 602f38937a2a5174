"""Reading a conf file: bad bytes and nesting first, then the fast reader, else Lark's."""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedInput

from ..diagnostics import Applicability, Diagnostic, Fix, diag
from ..ir import HError, HValue
from ..source import SourceFile
from .builder import MAX_DEPTH
from .fast_reader import fast_parse
from .lark_reader import parse_tree, read_tree


def parse_conf(source: SourceFile, diagnostics: list[Diagnostic]) -> HValue:
    """Parse a conf file into its root HOCON value; problems go to `diagnostics`."""
    text = source.text
    lark_text = _check_bytes(source, diagnostics)
    if lark_text is text:
        value = fast_parse(source, diagnostics)  # plain files; None sends the rest to Lark
        if value is not None:
            return value
    depth_error = _check_depth(source)
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


