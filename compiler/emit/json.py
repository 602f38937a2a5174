"""The JSON emitter: the diagnostic shape of design.md's contract."""

from __future__ import annotations

import itertools
import json.encoder
from typing import Any, TextIO

from ..diagnostics import Diagnostic, Fix


def position(span) -> dict[str, int]:
    line, column = span.start_line_col
    end_line, end_column = span.end_line_col
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column}


def to_dict(d: Diagnostic) -> dict[str, Any]:
    """The contract's shape of one diagnostic (helm-check's JSON is a list of these)."""
    span = d.primary.span
    line, column = span.start_line_col
    end_line, end_column = span.end_line_col
    return {  # one literal: helmc parse, plan and status make one for each diagnostic
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "path": span.source.path,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "help": d.help,
        "fixes": [
            {**position(f.span), "replacement": f.replacement, "applicability": f.applicability.value} for f in d.fixes
        ],
    }


# helm-check's output is json.dumps([to_dict(d), ...], indent=2, ensure_ascii=False), but with
# `indent` set CPython's json runs its pure-Python encoder, a generator per value, and the dicts
# cost as much again. So the text is written directly: strings through the very function json
# uses for them (encode_basestring, in C), integers as json writes them (int's repr), None as
# null, in to_dict's order and json's indentation. tests/compiler/emit/test_emitters.py checks the bytes against
# json.dumps(to_dict(...)) over generated diagnostics (escapes, non-ASCII, lone surrogates, fixes,
# --fix's "fixed").
_string = json.encoder.encode_basestring


def _fix_text(f: Fix) -> str:
    span = f.span
    line, column, end_line, end_column = span.source.span_line_cols(span.start, span.end)
    return (
        f'      {{\n        "line": {line},\n        "column": {column},\n        "end_line": {end_line},\n'
        f'        "end_column": {end_column},\n        "replacement": {_string(f.replacement)},\n'
        f'        "applicability": {_string(f.applicability.value)}\n      }}'
    )


def _item_text(d: Diagnostic, fixed: bool | None = None) -> str:
    """One diagnostic as an element of the top-level array; `fixed` adds --fix's last key."""
    span = d.primary.span
    source = span.source
    line, column, end_line, end_column = source.span_line_cols(span.start, span.end)
    help_ = "null" if d.help is None else _string(d.help)
    fixes = "[\n" + ",\n".join(map(_fix_text, d.fixes)) + "\n    ]" if d.fixes else "[]"
    flag = "" if fixed is None else (',\n    "fixed": true' if fixed else ',\n    "fixed": false')
    return (
        f'  {{\n    "code": {_string(d.code)},\n    "severity": {_string(d.severity.value)},\n'
        f'    "message": {_string(d.message)},\n    "path": {_string(source.path)},\n'
        f'    "line": {line},\n    "column": {column},\n    "end_line": {end_line},\n    "end_column": {end_column},\n'
        f'    "help": {help_},\n    "fixes": {fixes}{flag}\n  }}'
    )


def dumps(diagnostics: list[Diagnostic], fixed: list | None = None) -> str:
    """json.dumps(items, indent=2, ensure_ascii=False) of emit's items (see emit)."""
    if fixed is None:
        texts = list(map(_item_text, diagnostics))
    else:
        texts = [_item_text(a.diagnostic, True) for a in fixed] + [_item_text(d, False) for d in diagnostics]
    return "[\n" + ",\n".join(texts) + "\n]" if texts else "[]"


def emit(diagnostics: list[Diagnostic], stream: TextIO, fixed: list | None = None, **_: Any) -> None:
    """A list of to_dict items. With helm-check --fix (`fixed`, compiler.fixes.Applied items),
    the array holds the fixed diagnostics too, as found before their fix and marked
    `"fixed": true`; what is left is marked `"fixed": false`."""
    # dumps' text, written a thousand items at a time: json.dump wrote each token, and the
    # whole text at once held a second copy of a large output (37 MB for 100k entries).
    if fixed is None:
        texts = map(_item_text, diagnostics)
    else:
        texts = itertools.chain((_item_text(a.diagnostic, True) for a in fixed),
                                (_item_text(d, False) for d in diagnostics))
    sep = "[\n"
    while chunk := list(itertools.islice(texts, 1000)):
        stream.write(sep + ",\n".join(chunk))
        sep = ",\n"
    stream.write("[]\n" if sep == "[\n" else "\n]\n")


def dumps_indented(value: Any, indent: str = "") -> str:
    """json.dumps(value, indent=2, ensure_ascii=False), the same bytes, for the plain trees the
    commands print (dicts with str keys, lists, str, int, None, bool). `indent` is the
    indentation of the line `value` starts on. json's own indenting encoder is pure Python, a
    generator per value, and json.dump then writes every token through the guarded stdout;
    this builds the text in one piece. Anything else (floats, subclasses, other keys) goes
    through json.dumps itself, re-indented: its strings hold no raw newline."""
    t = type(value)
    if t is str:
        return _string(value)
    if t is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    inner = indent + "  "
    if t is dict:
        if not value:
            return "{}"
        if all(type(k) is str for k in value):
            # strings, integers and null written here, not by a call each: most values are
            parts = []
            for k, v in value.items():
                tv = type(v)
                if tv is str:
                    text = _string(v)
                elif tv is int:
                    text = int.__repr__(v)
                elif v is None:
                    text = "null"
                else:
                    text = dumps_indented(v, inner)
                parts.append(f"{inner}{_string(k)}: {text}")
            return "{\n" + ",\n".join(parts) + f"\n{indent}}}"
    elif t is list or t is tuple:
        if not value:
            return "[]"
        return "[\n" + ",\n".join([inner + dumps_indented(v, inner) for v in value]) + f"\n{indent}]"
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)


def write_compact(value: Any, stream: TextIO, piece: int = 1000) -> None:
    """json.dumps(value, ensure_ascii=False), the same bytes, written to `stream` in pieces:
    a top-level dict's long lists go a `piece` of items at a time through json's C encoder.
    json.dump would encode in pure Python and write every token; json.dumps holds the whole
    text at once (`helmc plan` of 100k runs: the text is the largest object of the run)."""
    if type(value) is not dict or not all(type(k) is str for k in value):
        stream.write(json.dumps(value, ensure_ascii=False))
        return
    stream.write("{")
    for i, (key, item) in enumerate(value.items()):
        stream.write(("" if i == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": ")
        if type(item) is not list or len(item) <= piece:
            stream.write(json.dumps(item, ensure_ascii=False))
            continue
        stream.write("[")
        for start in range(0, len(item), piece):
            stream.write(("" if start == 0 else ", ") + json.dumps(item[start : start + piece], ensure_ascii=False)[1:-1])
        stream.write("]")
    stream.write("}")
