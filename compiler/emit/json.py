"""The JSON emitter: the diagnostic shape of design.md's contract."""

from __future__ import annotations

import json
import json.encoder
from typing import Any, Callable, TextIO

from ..diagnostics import Diagnostic


def position(span) -> dict[str, int]:
    line, column = span.start_line_col
    end_line, end_column = span.end_line_col
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column}


def to_dict(d: Diagnostic) -> dict[str, Any]:
    span = d.primary.span
    line, column = span.start_line_col
    end_line, end_column = span.end_line_col
    return {  # one literal: the emitter makes one for each of thousands of diagnostics
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


# The bytes of json.dumps(items, indent=2, ensure_ascii=False), made faster. With `indent` set,
# CPython's json runs its pure-Python encoder, a generator per value. A flat object (no list or
# object among its values) indented at depth k is exactly its compact C encoding with
# ",\n" + 2k spaces between members, opened by "{\n" + 2k spaces and closed by "\n" + 2(k-1)
# spaces + "}" (an empty one is "{}" both ways). A diagnostic is flat but for `fixes`, a list of
# flat objects; tests/test_formats.py checks the equality against json.dumps over generated
# diagnostics.


def _compact(item_separator: str) -> Callable[[Any], str]:
    """json's C encoder with these separators, made once: JSONEncoder.encode makes one per call
    (a third of its time on a diagnostic). No circular check: the objects are to_dict's."""
    enc = json.JSONEncoder(ensure_ascii=False, separators=(item_separator, ": "), check_circular=False)
    make = json.encoder.c_make_encoder
    if make is None:  # no C accelerator: JSONEncoder's compact path is the same text
        return enc.encode
    # the arguments JSONEncoder.iterencode passes when indent is None
    c = make(None, enc.default, json.encoder.encode_basestring, None, ": ", item_separator, False, False, True)
    return lambda o: "".join(c(o, 0))


_ITEM = _compact(",\n    ")  # a diagnostic, depth 2
_FIX = _compact(",\n        ")  # a fix, depth 4
# The stand-in for `fixes` while the diagnostic is encoded. `"fixes": 0` can occur in the
# encoding only as that member: inside an encoded string every quote is escaped, so the quote
# after `fixes` closes a string followed by ": ", a key, and no other key ends in `"fixes`.
_FIXES_STUB = '"fixes": 0'


def _flat(encoded: str, indent: str) -> str:
    """A flat object's compact encoding, made with ",\\n" + indent + "  " between members, as
    indent=2 writes it when its closing brace is at `indent`."""
    if encoded == "{}":
        return encoded
    return "{\n  " + indent + encoded[1:-1] + "\n" + indent + "}"


def _encode_item(item: dict[str, Any]) -> str:
    """One `to_dict` item as json.dumps(indent=2) writes it inside the top-level array."""
    fixes = item["fixes"]
    if not fixes:  # an empty list is "[]" in both encoders
        return _flat(_ITEM(item), "  ")
    head = _flat(_ITEM({**item, "fixes": 0}), "  ")
    listed = "[\n      " + ",\n      ".join(_flat(_FIX(f), "      ") for f in fixes) + "\n    ]"
    return head.replace(_FIXES_STUB, '"fixes": ' + listed, 1)


def dumps(items: list[dict[str, Any]]) -> str:
    """json.dumps(items, indent=2, ensure_ascii=False) for a list of `to_dict` items (with or
    without "fixed")."""
    if not items:
        return "[]"
    return "[\n  " + ",\n  ".join(map(_encode_item, items)) + "\n]"


def emit(diagnostics: list[Diagnostic], stream: TextIO, fixed: list | None = None, **_: Any) -> None:
    """With helm-check --fix (`fixed`, compiler.fixes.Applied items), the array holds the fixed
    diagnostics too, as found before their fix and marked `"fixed": true`; what is left is
    marked `"fixed": false`."""
    if fixed is None:
        items = [to_dict(d) for d in diagnostics]
    else:
        items = [{**to_dict(a.diagnostic), "fixed": True} for a in fixed]
        items += [{**to_dict(d), "fixed": False} for d in diagnostics]
    stream.write(dumps(items))  # one write: json.dump writes each token
    stream.write("\n")
