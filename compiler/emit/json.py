"""The JSON emitter: the diagnostic shape of design.md's contract."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..diagnostics import Diagnostic


def position(span) -> dict[str, int]:
    line, column = span.start_line_col
    end_line, end_column = span.end_line_col
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column}


def to_dict(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "path": d.path,
    }
    out.update(position(d.span))
    out["help"] = d.help
    out["fixes"] = [
        {**position(f.span), "replacement": f.replacement, "applicability": f.applicability.value} for f in d.fixes
    ]
    return out


def emit(diagnostics: list[Diagnostic], stream: TextIO, fixed: list | None = None, **_: Any) -> None:
    """With helm-check --fix (`fixed`, compiler.fixes.Applied items), the array holds the fixed
    diagnostics too, as found before their fix and marked `"fixed": true`; what is left is
    marked `"fixed": false`."""
    if fixed is None:
        items = [to_dict(d) for d in diagnostics]
    else:
        items = [{**to_dict(a.diagnostic), "fixed": True} for a in fixed]
        items += [{**to_dict(d), "fixed": False} for d in diagnostics]
    stream.write(json.dumps(items, indent=2, ensure_ascii=False))  # one write: json.dump writes each token
    stream.write("\n")
