"""The LSP emitter: diagnostics as the Language Server Protocol's own JSON.

LSP positions are 0-based lines and, by default, UTF-16 code units; helmc's spans count code
points. A character outside the Basic Multilingual Plane (an emoji, say) is one code point but
two UTF-16 units, so every column after it shifts by one. The language server (helmc/lsp/)
shares these converters, so `helm-check --format lsp` and the editor agree to the unit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ..diagnostics import Diagnostic, Severity
from ..source import SourceFile, Span

# lsprotocol's DiagnosticSeverity values, without importing it (it is an optional extra).
SEVERITY = {Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}


UTF16 = "utf-16"  # the LSP's default; a client may negotiate "utf-8" or "utf-32" instead


def char_units(ch: str, encoding: str = UTF16) -> int:
    """How many code units of `encoding` one code point takes."""
    if encoding == "utf-32":
        return 1
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if ord(ch) > 0xFFFF else 1


def utf16_len(text: str, encoding: str = UTF16) -> int:
    """Length of `text` in UTF-16 code units (or those of `encoding`): char_units summed, by
    the codec (a position on a line of megabytes is asked for every diagnostic on it)."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_column(line_text: str, column: int, encoding: str = UTF16) -> int:
    """The 0-based UTF-16 column of a 1-based code-point column within `line_text`."""
    return utf16_len(line_text[: column - 1], encoding)


def codepoint_column(line_text: str, character: int, encoding: str = UTF16) -> int:
    """The 1-based code-point column of a 0-based UTF-16 column (the inverse of utf16_column).

    A position inside a surrogate pair, or past the end of the line, is clamped as the LSP
    asks: to the character it splits, or to the end of the line."""
    if encoding == "utf-32" or line_text.isascii():  # one unit a character
        return min(max(character, 0), len(line_text)) + 1
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i + 1
        units += char_units(ch, encoding)
    return len(line_text) + 1


def lsp_position(source: SourceFile, offset: int, encoding: str = UTF16) -> dict[str, int]:
    line, _ = source.line_col(offset)
    start = source.line_start(line)
    return {"line": line - source.line_base, "character": utf16_len(source.text[start:offset], encoding)}


def offset_of(source: SourceFile, line: int, character: int, encoding: str = UTF16) -> int:
    """The code-point offset of an LSP position (0-based line, UTF-16 character).

    A line is split at "\n" (a "\r\n" ending included); a character past the end of the line
    is the end of its text, before the line ending, as the LSP asks."""
    if line >= source.line_count:
        return len(source.text)
    line = max(0, line)
    text = source.line_text(line + source.line_base)
    col = codepoint_column(text, character, encoding)
    return source.line_start(line + source.line_base) + col - 1


def lsp_range(span: Span, encoding: str = UTF16) -> dict[str, dict[str, int]]:
    return {"start": lsp_position(span.source, span.start, encoding), "end": lsp_position(span.source, span.end, encoding)}


def path_uri(path: str) -> str:
    """A file URI for a real path; pseudo paths such as `<run-entries>` are kept as they are."""
    if path.startswith("<"):
        return path
    try:
        return Path(path).resolve().as_uri()
    except (OSError, ValueError):
        return path


def to_lsp(d: Diagnostic, uri: str | None = None, encoding: str = UTF16) -> dict[str, Any]:
    """One LSP Diagnostic. The fixes travel in `data` so that a client can apply them."""
    uri = uri or path_uri(d.path)
    message = d.message
    if d.help:
        message += f"\nhelp: {d.help}"
    for n in d.notes:
        message += f"\nnote: {n}"
    out: dict[str, Any] = {
        "range": lsp_range(d.span, encoding),
        "severity": SEVERITY[d.severity],
        "code": d.code,
        "source": "helmc",
        "message": message,
    }
    related = [
        {
            "location": {"uri": uri if s.span.source is d.span.source else path_uri(s.span.path), "range": lsp_range(s.span, encoding)},
            "message": s.message or "related",
        }
        for s in d.secondary
    ]
    if related:
        out["relatedInformation"] = related
    if d.fixes:
        out["data"] = {"fixes": [{"range": lsp_range(f.span, encoding), "newText": f.replacement} for f in d.fixes]}
    return out


def emit(diagnostics: list[Diagnostic], stream: TextIO, **_: Any) -> None:
    """One JSON array of PublishDiagnosticsParams-like objects, one per file, plus its path."""
    by_path: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_path.setdefault(d.path, []).append(d)
    out = []
    for path, ds in by_path.items():
        uri = path_uri(path)
        out.append({"uri": uri, "path": path, "diagnostics": [to_lsp(d, uri) for d in ds]})
    stream.write(json.dumps(out, indent=2, ensure_ascii=False))  # one write: json.dump writes each token
    stream.write("\n")
