"""What the language server's tests share: expected UTF-16 ranges, edits applied as an editor
applies them, documents opened and changed through a real client."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient


def utf16(text: str) -> int:
    """An independent UTF-16 length: encode and count 2-byte units."""
    return len(text.encode("utf-16-le")) // 2


def range_of(text: str, token: str, occurrence: int = 0) -> types.Range:
    """The expected 0-based UTF-16 range of a token in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(token, start + 1)
    line = text.count("\n", 0, start)
    col = start - (text.rfind("\n", 0, start) + 1)
    line_text = text.splitlines()[line]
    c0 = utf16(line_text[:col])
    return types.Range(types.Position(line, c0), types.Position(line, c0 + utf16(token)))


def position_after(text: str, marker: str) -> types.Position:
    end = text.index(marker) + len(marker)
    line = text.count("\n", 0, end)
    col = end - (text.rfind("\n", 0, end) + 1)
    return types.Position(line, utf16(text.splitlines()[line][:col]))


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to `text`, last first."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        line = lines[p.line]
        units = 0
        i = 0
        while i < len(line) and units < p.character:
            units += utf16(line[i])
            i += 1
        return sum(len(x) + 1 for x in lines[: p.line]) + i

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


async def open_doc(client: LanguageClient, uri: str, text: str) -> list[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "hocon", 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


async def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> list[types.Diagnostic]:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]
