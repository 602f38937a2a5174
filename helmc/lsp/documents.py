"""The language server's documents: the text of each (the editor's, or the file on disk), the
settings and catalog that apply to it, and its analysis, which is helm-check's own check
(helmc/app/check.py's `helm_check`) with the editor's text in place of the file on disk.
Checks run in the background, one at a time, newest version only.

Positions are converted between helmc's code-point offsets and the encoding negotiated with
the client (UTF-16 by default) by compiler/emit/lsp.py, the converters `helm-check --format lsp`
uses too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

from helmc import __version__
from helmc.compiler.diagnostics import Diagnostic, DiagnosticSink
from helmc.compiler.emit import lsp as lspconv
from helmc.compiler.ir import ConfFile
from helmc.compiler.source import SourceFile

log = logging.getLogger("helmc.lsp")
converter = default_converter()


@dataclass
class Analysis:
    """What the last check of one document found; code actions and completion read it."""

    source: SourceFile
    conf: ConfFile
    diagnostics: list[Diagnostic]


SYNC_CHECK_LIMIT = 256 * 1024  # characters: above, requests never wait for a check
CHANGE_DEBOUNCE = 0.15  # seconds: typing is checked once it pauses


def is_prices_file(path: str, settings: dict[str, Any]) -> bool:
    """A prices file: the one [tool.helmc]'s `prices` names, or one named prices.yaml
    (prices.yml), as helm-check and helm-run read it with --prices."""
    if os.path.basename(path) in ("prices.yaml", "prices.yml"):
        return True
    named = settings.get("prices")
    return bool(named) and os.path.abspath(str(named)) == os.path.abspath(path)


class UnreadableDocument(Exception):
    """A document the editor did not open, and that cannot be read from disk."""


class HelmcServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("helmc", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.analyses: dict[str, Analysis] = {}
        self._catalogs: dict[tuple, Any] = {}
        # Checks run in the background, one at a time, newest version only (see schedule).
        self._pending: dict[str, asyncio.Task] = {}
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helmc-check")
        self._loop: asyncio.AbstractEventLoop | None = None

    def window_log_message(self, params: types.LogMessageParams) -> None:  # type: ignore[override]
        """Callable from the checking thread too: the message is sent from the event loop."""
        loop = self._loop
        if loop is None or threading.current_thread() is threading.main_thread():
            super().window_log_message(params)
        else:
            loop.call_soon_threadsafe(super().window_log_message, params)

    # ------------------------------------------------------------------ helpers

    @property
    def encoding(self) -> str:
        enc = self.server_capabilities.position_encoding or lspconv.UTF16
        return str(getattr(enc, "value", enc))

    def settings_for(self, path: str) -> dict[str, Any]:
        from helmc.app.settings import SettingsError, load_settings

        try:
            start = Path(path).parent if Path(path).parent.is_dir() else Path.cwd()
            return load_settings(start).values
        except (SettingsError, OSError) as e:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"helmc: {e}"))
            return {}

    def catalog_for(self, settings: dict[str, Any], sink: DiagnosticSink | None = None):
        """The catalog with the user's additions from [tool.helmc], loaded once per setting."""
        from helmc.compiler.prodenv.check import folder_stamp
        from helmc.app.options import catalog_additions

        additions = catalog_additions(settings)  # as helm-check reads the same settings
        key = (additions, folder_stamp(additions.local_path))  # prod_env edited: reload
        if key in self._catalogs:
            return self._catalogs[key]
        try:
            from helmc.compiler.catalog.catalog import load_catalog_with_additions

            side = DiagnosticSink()
            catalog = load_catalog_with_additions(additions, side)
            for d in side.items:  # the catalog's own problems are no file's: log them once
                self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"helmc: {d.message}"))
        except Exception as e:  # a broken catalog must not take the server down
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: cannot load the catalog: {e}"))
            catalog = None
        self._catalogs[key] = catalog
        return catalog

    def document_text(self, uri: str) -> str:
        """The editor's text of an open document. One the editor never opened is read from
        disk as helm-check reads files: a regular file, size-limited (never /dev/zero, never a
        FIFO, which would block the server for good). Raises UnreadableDocument."""
        doc = self.open_document(uri)
        if doc is not None:
            return doc.source
        path = uris.to_fs_path(uri)
        if not path:
            raise UnreadableDocument(f"{uri} is not a file")
        from helmc.compiler.files.reading import read_input_text

        try:
            return read_input_text(path)
        except (OSError, ValueError) as e:
            raise UnreadableDocument(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None

    def unreadable(self, e: UnreadableDocument) -> None:
        """A request on a document that cannot be read: the user's file, not helmc's failure,
        so one line in the editor's log and no traceback."""
        self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"helmc: {e}"))

    def open_document(self, uri: str) -> Any:
        """The document the editor opened (pygls keys them by unquoted URI), or None."""
        from urllib.parse import unquote

        return self.workspace.text_documents.get(unquote(uri))

    def version_of(self, uri: str) -> int | None:
        return getattr(self.open_document(uri), "version", None)

    def request_for(self, path: str, settings: dict[str, Any]) -> Any:
        """helm-check's request for this one document, [tool.helmc] its only flags (as
        `helm-check PATH` reads it in the document's folder). Settings that helm-check would
        refuse (exit 2) are said in the editor's log and left out."""
        from helmc.app.check import Report, UsageError, settled_request

        try:
            request = settled_request({"paths": [path]}, settings)
        except UsageError as e:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"helmc: {e}"))
            usable = {k: v for k, v in settings.items() if k not in ("format", "select", "ignore")}
            request = settled_request({"paths": [path]}, usable)
        return replace(request, report=Report())  # the editor shows it: no output file

    def analyze(self, uri: str, text: str | None = None) -> Analysis:
        """helm-check's check of this document, with its text in place of the file on disk: a
        conf file's compile and helm-run's verdict, or a HELM config YAML file's HC06xx checks
        with its siblings as they are on disk; the diagnostics in this document, selected by
        [tool.helmc]'s select and ignore."""
        from helmc.app.check import helm_check

        if text is None:
            text = self.document_text(uri)
        path = uris.to_fs_path(uri) or uri
        settings = self.settings_for(path)
        if is_prices_file(path, settings):
            return self.analyze_prices(uri, path, text, settings)
        request = self.request_for(path, settings)
        catalog = None
        if not request.options.no_catalog:
            catalog = self.catalog_for(settings)
            if catalog is None:  # it could not be loaded (said in the log): syntax and schema only
                request = replace(request, options=replace(request.options, no_catalog=True))
        checked = helm_check(request, texts={os.path.abspath(path): text}, catalog=catalog)
        mine = sorted((d for d in checked.diagnostics if d.span.source.path == path), key=Diagnostic.sort_key)
        entries = tuple(e for e in checked.entries if e.span.source.path == path)
        # the source the diagnostics and entries point into (a config file's, as its reader made it)
        source = entries[0].span.source if entries else mine[0].span.source if mine else SourceFile(path, text)
        result = Analysis(source, ConfFile(source, entries), mine)
        self.analyses[uri] = result
        return result

    def analyze_prices(self, uri: str, path: str, text: str, settings: dict[str, Any]) -> Analysis:
        """The prices file (--prices): HC0800-HC0802 with their positions, as helm-check reads
        --prices, selected by [tool.helmc]'s select and ignore."""
        from helmc.app.check import filter_diagnostics, selectors_of
        from helmc.compiler.catalog.prices import read_prices

        source = SourceFile(path, text)
        sink = DiagnosticSink()
        read_prices(source, sink)
        kept = filter_diagnostics((d for d in sink.sorted() if d.span.source is source), *selectors_of(settings))
        result = Analysis(source, ConfFile(source, ()), kept)
        self.analyses[uri] = result
        return result

    def lsp_diagnostics(self, uri: str, text: str | None = None) -> list[types.Diagnostic]:
        """The diagnostics to publish. helmc's own failure is published too, as an error at
        the top of the file: an empty list would tell the editor that the file is clean."""
        try:
            analysis = self.analyze(uri, text)
            return [converter.structure(lspconv.to_lsp(d, uri, self.encoding), types.Diagnostic)
                    for d in analysis.diagnostics]
        except UnreadableDocument as e:  # the file itself: helm-check's HC0901, not an internal error
            self.unreadable(e)
            return [types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                message=str(e), severity=types.DiagnosticSeverity.Error, code="HC0901", source="helmc",
            )]
        except Exception as e:  # noqa: BLE001 - helmc's own failure: tell the editor, keep serving
            log.exception("analysis failed")
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: internal error: {e}"))
            return [types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                message=f"helmc could not check this file (internal error: {type(e).__name__}: {e}); "
                        "its diagnostics are unknown",
                severity=types.DiagnosticSeverity.Error,
                code="HC0902",
                source="helmc",
            )]

    def publish(self, uri: str) -> None:
        """Check now and publish (synchronously)."""
        version = self.version_of(uri)
        diagnostics = self.lsp_diagnostics(uri)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def schedule(self, uri: str, delay: float) -> None:
        """Check in the background: after `delay` (edits in quick succession are checked
        once), in the checking thread (the server keeps answering meanwhile), and only the
        newest version: a version that a newer one replaced is neither checked nor published."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (called directly): check now
            self.publish(uri)
            return
        self._loop = loop
        old = self._pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self._pending[uri] = loop.create_task(self._check_later(uri, self.version_of(uri), delay))

    async def _check_later(self, uri: str, version: int | None, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.version_of(uri) != version or self.open_document(uri) is None:
            return
        text = self.document_text(uri)
        loop = asyncio.get_running_loop()

        def check() -> list[types.Diagnostic] | None:
            if self.version_of(uri) != version:  # replaced while it waited for the thread
                return None
            return self.lsp_diagnostics(uri, text)

        diagnostics = await loop.run_in_executor(self._checker, check)
        if diagnostics is None or self.version_of(uri) != version or self.open_document(uri) is None:
            return
        self._pending.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def current(self, uri: str) -> Analysis:
        """The analysis of the text as it is now, for hover, completion and code actions. A
        large document being checked in the background is not checked again here (that would
        block the server): its last analysis answers."""
        text = self.document_text(uri)
        last = self.analyses.get(uri)
        if last is not None and (last.source.text is text or last.source.text == text):
            return last
        if last is not None and len(text) > SYNC_CHECK_LIMIT:
            return last
        return self.analyze(uri, text)

    def to_offset(self, source: SourceFile, pos: types.Position) -> int:
        return lspconv.offset_of(source, pos.line, pos.character, self.encoding)

    def to_range(self, source: SourceFile, start: int, end: int) -> types.Range:
        a = lspconv.lsp_position(source, start, self.encoding)
        b = lspconv.lsp_position(source, end, self.encoding)
        return types.Range(types.Position(**a), types.Position(**b))


