"""The SARIF 2.1.0 emitter, shaped for GitHub code scanning.

- `tool.driver.rules` lists every code of the registry (compiler/codes.py), so rule indices
  stay stable from run to run.
- Regions use 1-based lines and code-point columns, end exclusive, and the run says so with
  `columnKind: unicodeCodePoints`.
- `partialFingerprints.primaryLocationLineHash` hashes the code, the path and the line's
  text (not its number), so an alert survives lines inserted above it.
- A relative path becomes a URI relative to `%SRCROOT%`, the working directory, which is the
  repository root when helm-check runs in CI.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePath
from typing import Any, TextIO
from urllib.parse import quote

from ..codes import CODES
from ..diagnostics import Diagnostic, Severity
from ..source import Span

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/stanford-crfm/helm"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_BASE = "%SRCROOT%"


def rules() -> list[dict[str, Any]]:
    out = []
    for rule in CODES.values():
        out.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "defaultConfiguration": {"level": _LEVEL[Severity(rule.severity)]},
            }
        )
    return out


def artifact_location(path: str) -> dict[str, str]:
    p = PurePath(path)
    if p.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(p.as_posix()), "uriBaseId": _BASE}


def region(span: Span) -> dict[str, int]:
    line, col = span.start_line_col
    end_line, end_col = span.end_line_col
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def physical_location(span: Span) -> dict[str, Any]:
    return {"artifactLocation": artifact_location(span.path), "region": region(span)}


def _is_file(span: Span) -> bool:
    # `<run-entries>` and `<catalog>` are no artifacts: such results carry no location.
    return not span.path.startswith("<")


# A longer line is fingerprinted by the text from the result's start, not all of it: a
# one-line file of 12 MB with thousands of results would hash 12 MB for each.
_MAX_LINE_KEY = 4096


def _line_key(span: Span) -> str:
    """The text a result's fingerprint is made from: its line, stripped."""
    start, end = span.source.line_bounds(span.start_line_col[0])
    if end - start > _MAX_LINE_KEY:
        start = span.start
        end = min(end, start + _MAX_LINE_KEY)
    return span.source.text[start:end].strip()


def emit(diagnostics: list[Diagnostic], stream: TextIO, **_: Any) -> None:
    index = {code: i for i, code in enumerate(CODES)}
    seen: dict[str, int] = {}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _LEVEL[d.severity],
            "message": {"text": d.full_message()},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if _is_file(d.span):
            result["locations"] = [{"physicalLocation": physical_location(d.span)}]
            digest = hashlib.sha256(f"{d.code}\0{d.path}\0{_line_key(d.span)}".encode()).hexdigest()[:16]
            seen[digest] = seen.get(digest, 0) + 1
            result["partialFingerprints"] = {"primaryLocationLineHash": f"{digest}:{seen[digest]}"}
        related = [
            {"id": i, "physicalLocation": physical_location(s.span), "message": {"text": s.message or "related"}}
            for i, s in enumerate(d.secondary)
            if _is_file(s.span)
        ]
        if related:
            result["relatedLocations"] = related
        fixes = [
            {
                "description": {"text": f"replace with `{f.replacement}`"},
                "artifactChanges": [
                    {
                        "artifactLocation": artifact_location(f.span.path),
                        "replacements": [{"deletedRegion": region(f.span), "insertedContent": {"text": f.replacement}}],
                    }
                ],
            }
            for f in d.fixes
            if _is_file(f.span)
        ]
        if fixes:
            result["fixes"] = fixes
        results.append(result)
    from helmc import __version__

    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "helm-check",
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules(),
                    }
                },
                "originalUriBaseIds": {_BASE: {"uri": Path(os.getcwd()).as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    stream.write(json.dumps(log, indent=2, ensure_ascii=False))  # one write: json.dump writes each token
    stream.write("\n")
