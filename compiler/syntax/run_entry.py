"""Run entry descriptions: Lark parse tree -> ir.Description, as parse_object_spec reads them.

A description may come from a conf string literal; `HString.span_of` maps each piece back to
the file, escapes included.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ...grammar import grammar_text
from ..diagnostics import Applicability, Diagnostic, Fix, diag
from ..ir import ArgShape, Description, DescriptionShape, HString, Text
from ..source import Span

if TYPE_CHECKING:  # Lark is imported only for a description that is not plain (see _SIMPLE)
    from lark import Lark


@lru_cache(maxsize=1)
def _parser() -> Lark:
    from lark import Lark

    return Lark(
        grammar_text("run_entry.lark"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=False,
        cache=True,
    )


# int() and float() need a decimal digit (Unicode category Nd, which is what \d matches),
# except float's nan/inf words: without either, skip the two raised exceptions.
_DIGIT = re.compile(r"\d")
_FLOAT_WORDS = frozenset({"nan", "inf", "infinity"})


def coerce(value: str) -> int | float | str:
    """parse_object_spec's coercion: int, else float, else the string itself."""
    # Values repeat across a file (models, subjects, `1`): remember each one's reading.
    try:
        return _COERCED[value]
    except KeyError:
        pass
    if len(_COERCED) > 65536:
        _COERCED.clear()
    result = _COERCED[value] = _coerce(value)
    return result


_COERCED: dict[str, int | float | str] = {}


# Every character int() or float() takes in an ASCII string: digits, signs, `.`, `_`, an
# exponent, the letters of nan/inf/infinity, the whitespace they strip (not U+001C-U+001F,
# which str.isspace counts). A value with any other (`openai/gpt2`, `o3-mini`) is neither,
# and costs no raised exception.
_NUMBER_CHARS = frozenset("0123456789+-._eEnNaAiIfFtTyY \t\n\r\x0b\x0c")


def _coerce(value: str) -> int | float | str:
    if value.isascii() and not _NUMBER_CHARS.issuperset(value):
        return value
    if _DIGIT.search(value) is None and value.strip().lower().lstrip("+-") not in _FLOAT_WORDS:
        return value
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


# The error-free sentences of run_entry.lark, as one regex over its own terminals:
#   NAME (COLON KEY EQUALS VALUE? (COMMA KEY EQUALS VALUE?)*)?
# with NAME = [^:]+, KEY = [^,=]+, VALUE = [^,]+. Such a description (almost every real one)
# is read by `_split_simple` with str.split, which gives the same tree-shaped result as Lark
# at a tenth of the cost; anything else (every error alternative) goes through Lark.
# tests/compiler/syntax/test_frontend_properties.py checks that both readings agree on arbitrary text.
_SIMPLE = re.compile(r"[^:]+(?::[^,=]+=[^,]*(?:,[^,=]+=[^,]*)*)?\Z")


def parse_description(lit: HString, diagnostics: list[Diagnostic]) -> Description:
    shape = _simple_shape(lit.value)
    if shape is None:
        return parse_description_lark(lit, diagnostics)
    desc = Description(lit, shape, True)
    if shape.spaced:
        _check_spaces(lit, shape, diagnostics)
    return desc


def _simple_shape(text: str) -> DescriptionShape | None:
    """The shape of a description without errors (see _SIMPLE), else None. Conf files repeat
    descriptions (one per model, per file): each text is split once."""
    try:
        return _SHAPES[text]
    except KeyError:
        pass
    shape = _split_simple(text) if _SIMPLE.match(text) else None
    # Bounded for the long-running language server: at most 65536 texts of at most 1024
    # characters (HELM's longest is 233).
    if len(text) <= 1024:
        if len(_SHAPES) > 65536:
            _SHAPES.clear()
        _SHAPES[text] = shape
    return shape


_SHAPES: dict[str, DescriptionShape | None] = {}
_ARGS: dict[tuple[str, int], ArgShape] = {}


def _split_simple(text: str) -> DescriptionShape:
    """NAME, then `key=value` pairs: str.split, with the offsets of each piece."""
    name, colon, rest = text.partition(":")
    args: list[ArgShape] = []
    # Most descriptions hold no whitespace at all (str.split and str.isspace agree on what
    # it is): then no piece has spaces at an end, and none is looked at.
    plain = text.split(None, 1) == [text]
    spaced = not plain and name != name.strip()
    if colon:
        if len(_ARGS) > 65536:  # bounded, as _SHAPES is
            _ARGS.clear()
        pos = len(name) + 1
        for piece in rest.split(","):
            # The same `key=value` at the same place recurs across descriptions (two in three
            # of the held-out set's): one ArgShape for them all.
            arg = _ARGS.get((piece, pos))
            if arg is None:
                key, _, raw = piece.partition("=")
                eq = pos + len(key)
                arg = _ARGS[(piece, pos)] = ArgShape(key, raw, coerce(raw), pos, eq, eq + 1 + len(raw))
            args.append(arg)
            if not plain and not spaced:
                spaced = _has_spaces(arg)
            pos = arg.end + 1
    return DescriptionShape(name, len(name), tuple(args), spaced)


def parse_description_lark(lit: HString, diagnostics: list[Diagnostic]) -> Description:
    """Any description, through the run-entry grammar with its error alternatives."""
    from lark import Token, Tree

    text = lit.value
    tree = _parser().parse(text)  # the grammar accepts every string; see run_entry.lark
    ok = True

    def span(start: int, end: int) -> Span:
        return lit.span_of(start, end)

    children = tree.children
    name_tok = children[0] if children and isinstance(children[0], Token) and children[0].type == "NAME" else None
    colon = next((c for c in children if isinstance(c, Token) and c.type == "COLON"), None)
    if name_tok is None:
        ok = False
        diagnostics.append(
            diag(
                "HC0203",
                "this run entry has no run spec function name",
                span(0, 1 if colon is not None else 0),
                "a name goes before `:`" if colon is not None else "empty description",
                help="start the run entry with a run spec function name, as in `mmlu:subject=anatomy`",
            )
        )
    args: list[ArgShape] = []
    arguments = next((c for c in children if isinstance(c, Tree)), None)
    if arguments is not None:
        # Positions of empty arguments come from the commas around them.
        prev_end = colon.end_pos if colon is not None else 0
        items = arguments.children
        for i, item in enumerate(items):
            if isinstance(item, Token):  # a comma
                prev_end = item.end_pos
                continue
            kind = item.data
            toks = item.children
            if kind == "pair":
                key_tok, _eq = toks[0], toks[1]
                value_tok = toks[2] if len(toks) > 2 else None
                raw = value_tok.value if value_tok is not None else ""
                vend = value_tok.end_pos if value_tok is not None else _eq.end_pos
                arg = ArgShape(key_tok.value, raw, coerce(raw), key_tok.start_pos, _eq.start_pos, vend)
                args.append(arg)
                _check_arg_spaces(lit, arg, diagnostics)
            elif kind == "missing_equals":
                ok = False
                key_tok = toks[0]
                diagnostics.append(
                    diag(
                        "HC0201",
                        f"argument `{key_tok.value}` has no value",
                        span(key_tok.start_pos, key_tok.end_pos),
                        "expected `key=value`",
                        help=f"write `{key_tok.value.strip()}=<value>`; HELM raises \"Expected <key>=<value>\" here",
                    )
                )
            elif kind == "empty_key":
                ok = False
                eq = toks[0]
                end = toks[1].end_pos if len(toks) > 1 else eq.end_pos
                diagnostics.append(
                    diag(
                        "HC0204",
                        "argument has no name before `=`",
                        span(eq.start_pos, end),
                        "the name is missing",
                        help="write `name=value`",
                    )
                )
            else:  # empty_argument
                ok = False
                trailing = i == len(items) - 1
                comma_at = prev_end - 1
                if trailing and comma_at >= 0 and text[comma_at : prev_end] == ",":
                    diagnostics.append(
                        diag(
                            "HC0202",
                            "trailing `,` leaves an empty argument",
                            span(comma_at, prev_end),
                            "nothing follows this comma",
                            help="remove the trailing comma",
                            fixes=[Fix(span(comma_at, prev_end), "", Applicability.SAFE)],
                        )
                    )
                elif text[prev_end : prev_end + 1] == ",":
                    diagnostics.append(
                        diag(
                            "HC0202",
                            "`,,` leaves an empty argument",
                            span(prev_end, prev_end + 1),
                            "empty argument before this comma",
                            help="remove the extra comma",
                            fixes=[Fix(span(prev_end, prev_end + 1), "", Applicability.SAFE)],
                        )
                    )
                else:
                    at = max(prev_end - 1, 0)
                    diagnostics.append(
                        diag(
                            "HC0202",
                            "`:` is followed by no arguments",
                            span(at, prev_end),
                            "nothing follows",
                            help="remove the `:` or add `key=value` arguments after it",
                            fixes=[Fix(span(at, prev_end), "", Applicability.SAFE)] if text[at:prev_end] == ":" else [],
                        )
                    )
    name = name_tok.value if name_tok is not None else ""
    shape = DescriptionShape(name, len(name), tuple(args))
    _check_name_spaces(lit, shape, diagnostics)
    return Description(lit, shape, ok)


def _whitespace_diag(t: Text, what: str) -> Diagnostic:
    stripped = t.value.strip()
    return diag(
        "HC0205",
        f"the {what} `{t.value}` has spaces that HELM keeps",
        t.span,
        f"HELM reads this as `{t.value}`, not `{stripped}`",
        help=f"remove the spaces: `{stripped}`",
        # A key with spaces fails in HELM; a value with spaces may be meant (HELM passes it on).
        fixes=[Fix(t.span, stripped, Applicability.UNSAFE if what == "value" else Applicability.SAFE)],
    )


def _has_spaces(arg: ArgShape) -> bool:
    key, raw = arg.key, arg.raw
    return key[:1].isspace() or key[-1:].isspace() or raw[:1].isspace() or raw[-1:].isspace()


def _check_spaces(lit: HString, shape: DescriptionShape, diagnostics: list[Diagnostic]) -> None:
    for arg in shape.args:
        _check_arg_spaces(lit, arg, diagnostics)
    _check_name_spaces(lit, shape, diagnostics)


def _check_name_spaces(lit: HString, shape: DescriptionShape, diagnostics: list[Diagnostic]) -> None:
    if shape.name != shape.name.strip():
        diagnostics.append(_whitespace_diag(Text(shape.name, lit, 0, shape.name_end), "run spec function name"))


def _check_arg_spaces(lit: HString, arg: ArgShape, diagnostics: list[Diagnostic]) -> None:
    if not _has_spaces(arg):
        return  # the common case, without building stripped copies
    if arg.key != arg.key.strip():
        diagnostics.append(_whitespace_diag(Text(arg.key, lit, arg.start, arg.eq), "argument name"))
    # int(" 5") is 5 in HELM too, so only string values keep their spaces.
    if isinstance(arg.value, str) and arg.raw != arg.raw.strip():
        diagnostics.append(_whitespace_diag(Text(arg.raw, lit, arg.eq + 1, arg.end), "value"))
