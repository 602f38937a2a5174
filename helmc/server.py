"""`helmc lsp`: a language server for HELM run entries conf files (pygls 2, lsprotocol).

It runs the same front end and passes as helm-check on the editor's text, and answers from
the same parse: the token under the cursor is found through the spans that
Entry.description.name and .args carry, mapped into the file. Positions are converted
between helmc's code-point offsets and the encoding negotiated with the client (UTF-16 by
default) by compiler/emit/lsp.py, the converters `helm-check --format lsp` uses too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

from helmc import __version__
from helmc.compiler.codes import CODES
from helmc.compiler.diagnostics import Diagnostic, DiagnosticSink
from helmc.compiler.emit import lsp as lspconv
from helmc.compiler.frontend import parse_file
from helmc.compiler.ir import ConfFile, Description, Entry
from helmc.compiler.passes.suggest import common_ends
from helmc.compiler.source import SourceFile
from helmc.options import setting

log = logging.getLogger("helmc.server")
_converter = default_converter()


@dataclass
class Analysis:
    """What the last check of one document found; code actions and completion read it."""

    source: SourceFile
    conf: ConfFile
    diagnostics: list[Diagnostic]


SYNC_CHECK_LIMIT = 256 * 1024  # characters: above, requests never wait for a check
CHANGE_DEBOUNCE = 0.15  # seconds: typing is checked once it pauses


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
        from helmc.settings import SettingsError, load_settings

        try:
            start = Path(path).parent if Path(path).parent.is_dir() else Path.cwd()
            return load_settings(start).values
        except (SettingsError, OSError) as e:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"helmc: {e}"))
            return {}

    def catalog_for(self, settings: dict[str, Any], sink: DiagnosticSink | None = None):
        """The catalog with the user's additions from [tool.helmc], loaded once per setting."""
        from helmc.compiler.prodenv import folder_stamp
        from helmc.options import catalog_additions

        additions = catalog_additions(settings)  # as helm-check reads the same settings
        key = (additions, folder_stamp(additions.local_path))  # prod_env edited: reload
        if key in self._catalogs:
            return self._catalogs[key]
        try:
            from helmc.compiler.catalog import load_catalog_with_additions

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
        from helmc.compiler.reading import read_input_text

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

    def analyze(self, uri: str, text: str | None = None) -> Analysis:
        if text is None:
            text = self.document_text(uri)
        path = uris.to_fs_path(uri) or uri
        from helmc.compiler.prodenv import is_config_file

        if is_config_file(path):
            return self.analyze_config(uri, path, text)
        if self.is_prices_file(path):
            return self.analyze_prices(uri, path, text)
        source = SourceFile(path, text)
        sink = DiagnosticSink()
        conf = parse_file(source, sink)
        settings = self.settings_for(path)
        if not setting(settings, "no-catalog"):
            catalog = self.catalog_for(settings)
            if catalog is not None:
                from helmc.compiler.plan import PlanOptions
                from helmc.compiler.session import Options, compile_entries

                # helm-check's compile and verdict, for this one file
                models = setting(settings, "models-to-run")
                options = Options(selection=PlanOptions(models_to_run=tuple(models) if models else None))
                compile_entries(list(conf.entries), catalog, options, sink, "check")
        from helmc.compiler.helm_check import filter_diagnostics, selectors_of

        kept = filter_diagnostics((d for d in sink.sorted() if d.span.source is source), *selectors_of(settings))
        result = Analysis(source, conf, kept)
        self.analyses[uri] = result
        return result

    def analyze_config(self, uri: str, path: str, text: str) -> Analysis:
        """A HELM config YAML file (model_deployments.yaml, ...): the HC06xx checks, with the
        editor's text for this file and its siblings as they are on disk."""
        from helmc.compiler.helm_check import filter_diagnostics, selectors_of
        from helmc.compiler.prodenv import check_document

        settings = self.settings_for(path)
        sink = DiagnosticSink()
        source = check_document(path, text, sink, setting(settings, "plugins"), names=not setting(settings, "no-catalog"))
        source = source or SourceFile(path, text)
        kept = filter_diagnostics((d for d in sink.sorted() if d.span.source is source), *selectors_of(settings))
        result = Analysis(source, ConfFile(source, ()), kept)
        self.analyses[uri] = result
        return result

    def is_prices_file(self, path: str) -> bool:
        """A prices file: the one [tool.helmc]'s `prices` names, or one named prices.yaml
        (prices.yml), as helm-check and helm-run read it with --prices."""
        if os.path.basename(path) in ("prices.yaml", "prices.yml"):
            return True
        named = self.settings_for(path).get("prices")
        return bool(named) and os.path.abspath(str(named)) == os.path.abspath(path)

    def analyze_prices(self, uri: str, path: str, text: str) -> Analysis:
        """The prices file (--prices): HC0800-HC0802 with their positions, as helm-check gives them."""
        from helmc.compiler.helm_check import filter_diagnostics, selectors_of
        from helmc.compiler.prices import read_prices

        source = SourceFile(path, text)
        sink = DiagnosticSink()
        read_prices(source, sink)
        kept = filter_diagnostics((d for d in sink.sorted() if d.span.source is source),
                                  *selectors_of(self.settings_for(path)))
        result = Analysis(source, ConfFile(source, ()), kept)
        self.analyses[uri] = result
        return result

    def lsp_diagnostics(self, uri: str, text: str | None = None) -> list[types.Diagnostic]:
        """The diagnostics to publish. helmc's own failure is published too, as an error at
        the top of the file: an empty list would tell the editor that the file is clean."""
        try:
            analysis = self.analyze(uri, text)
            return [_converter.structure(lspconv.to_lsp(d, uri, self.encoding), types.Diagnostic)
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


# ---------------------------------------------------------------------- the cursor


@dataclass
class Cursor:
    """What the cursor is on inside a description: a function name, a key or a value."""

    kind: str  # "function" | "key" | "value"
    start: int  # file offsets of the token to replace
    end: int
    desc: Description
    key: str | None = None  # for "value": the argument's key


def _content_end(desc: Description) -> int:
    text = desc.span.source.text
    end = desc.span.end
    return end - 1 if end > desc.span.start and text[end - 1] == '"' else end


def cursor_at(conf: ConfFile, offset: int) -> Cursor | None:
    entry: Entry | None = next(
        (e for e in conf.entries if e.description and e.description.span.start < offset <= _content_end(e.description)),
        None,
    )
    if entry is None or entry.description is None:
        return None
    desc = entry.description
    name = desc.name.span
    if name.start <= offset <= name.end:
        return Cursor("function", name.start, name.end, desc)
    for a in desc.args:
        if a.key.span.start <= offset <= a.key.span.end:
            return Cursor("key", a.key.span.start, a.key.span.end, desc)
        if a.raw.span.start <= offset <= a.raw.span.end:
            return Cursor("value", a.raw.span.start, a.raw.span.end, desc, a.key.value)
    # In a gap the parse left out (`mmlu:subject=x,mo` has no `=` yet, so no argument):
    # the token runs back to the previous `,` or `:` (keys and values hold neither).
    text = desc.span.source.text
    start = offset
    while start > name.end and text[start - 1] not in ",:":
        start -= 1
    token = text[start:offset]
    if "=" in token:
        eq = start + token.index("=")
        return Cursor("value", eq + 1, offset, desc, text[start:eq])
    return Cursor("key", start, offset, desc)


# ---------------------------------------------------------------- completion, hover


def _function_doc(fn) -> str:
    sig = f"{fn.name}({fn.signature()})"
    out = f"```python\n{sig}\n```\n\n`{fn.module}.{fn.function}`"
    if fn.doc:
        out += f"\n\n{fn.doc}"
    return out


def _param_doc(fn, p) -> str:
    ann = f": {p.annotation}" if p.annotation else ""
    default = "required" if p.required else f"default `{p.default}`"
    return f"```python\n{p.name}{ann}\n```\nparameter of `{fn.name}`, {default}"


def _expander_values(exp) -> list[str]:
    values = list(exp.choices) + list(exp.value_sets) + list(exp.known_values)
    return list(dict.fromkeys(str(v) for v in values))


def _expander_doc(exp) -> str:
    values = _expander_values(exp)
    out = f"run expander `{exp.name}` ({exp.cls})"
    if values:
        out += "\n\nvalues: " + ", ".join(f"`{v}`" for v in values[:30])
    return out


def completions(catalog, cur: Cursor) -> list[tuple[str, types.CompletionItemKind, str | None, str]]:
    """(label, kind, detail, text to insert) for the token under the cursor."""
    K = types.CompletionItemKind
    out: list[tuple[str, types.CompletionItemKind, str | None, str]] = []
    if cur.kind == "function":
        for name, fn in sorted(catalog.functions.items()):
            out.append((name, K.Function, fn.module, name))
        return out
    fn = catalog.functions.get(cur.desc.name.value)
    if cur.kind == "key":
        text = cur.desc.span.source.text
        given = {a.key.value for a in cur.desc.args if a.key.span.start != cur.start}
        eq = "" if text[cur.end : cur.end + 1] == "=" else "="
        if fn is not None:
            for p in fn.params:
                if p.name not in given:
                    detail = (p.annotation or "") + ("" if p.required else f" = {p.default}")
                    out.append((p.name, K.Field, detail or None, p.name + eq))
        for name in catalog.expanders:
            if name not in given:
                out.append((name, K.Property, "run expander", name + eq))
        return out
    key = cur.key or ""
    if key == "model":
        for group in catalog.model_group_to_model_names():
            out.append((group, K.Module, "model group (wildcard)", group))
        for name, m in catalog.models.items():
            out.append((name, K.Value, "deprecated model" if m.deprecated else "model", name))
        return out
    if key == "model_deployment":
        return [(name, K.Value, f"deployment of {d.model_name}", name) for name, d in catalog.deployments.items()]
    exp = catalog.expanders.get(key)
    if exp is not None:
        return [(v, K.EnumMember, f"{key} value", v) for v in _expander_values(exp)]
    p = fn.param(key) if fn is not None else None
    if p is not None and not p.required and p.has_default_value and p.default_value is not None:
        return [(str(p.default_value), K.Value, "default", str(p.default_value))]
    return out


def hover_text(catalog, cur: Cursor) -> str | None:
    fn = catalog.functions.get(cur.desc.name.value)
    if cur.kind == "function":
        return _function_doc(fn) if fn is not None else None
    text = cur.desc.span.source.text[cur.start : cur.end]
    key = text if cur.kind == "key" else cur.key
    if cur.kind == "value" and key == "model":
        groups = catalog.model_group_to_model_names()
        if text in groups:
            names = groups[text]
            return f"model group `{text}`: {len(names)} models" + (f" ({', '.join(names[:10])}, …)" if names else "")
        m = catalog.models.get(text)
        if m is not None:
            return f"model `{m.name}`\n\ntags: {', '.join(m.tags) or 'none'}"
        return None
    exp = catalog.expanders.get(key or "")
    if exp is not None:
        return _expander_doc(exp)
    if fn is not None and key:
        p = fn.param(key)
        if p is not None:
            return _param_doc(fn, p)
    return None


# ---------------------------------------------------------------------- code actions


def _wants(only: list[str], kind: types.CodeActionKind) -> bool:
    """LSP's `only` filter: a kind is wanted when no filter is given or a given kind is it or
    one of its parents (`source` covers `source.fixAll`)."""
    k = kind.value
    return not only or any(k == o or k.startswith(o + ".") for o in only)


def quick_fixes(ls: "HelmcServer", uri: str, analysis: Analysis, rng: types.Range) -> list[types.CodeAction]:
    """One quick fix per fix of each diagnostic under the range; the safe ones are preferred
    (what `helm-check --fix` would apply)."""
    src = analysis.source
    lo, hi = ls.to_offset(src, rng.start), ls.to_offset(src, rng.end)
    actions: list[types.CodeAction] = []
    for d in analysis.diagnostics:
        if not d.fixes or d.span.end < lo or d.span.start > hi:
            continue
        lsp_diag = _converter.structure(lspconv.to_lsp(d, uri, ls.encoding), types.Diagnostic)
        for fix in d.fixes:
            actions.append(
                types.CodeAction(
                    title=CODES[d.code].title_of(fix.span.text, fix.replacement),  # the rule's own
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diag],
                    is_preferred=fix.safe,
                    edit=types.WorkspaceEdit(
                        changes={uri: [types.TextEdit(ls.to_range(src, fix.span.start, fix.span.end), fix.replacement)]}
                    ),
                )
            )
    return actions


def changed_part(ls: "HelmcServer", src: SourceFile, new: str) -> types.TextEdit:
    """One edit that turns `src`'s text into `new`: the part between what they share at the
    start and at the end (so the editor keeps its cursor and folds elsewhere)."""
    old = src.text
    start, end = common_ends(old, new)
    return types.TextEdit(ls.to_range(src, start, len(old) - end), new[start : len(new) - end])


def format_edits(ls: "HelmcServer", uri: str) -> list[types.TextEdit] | None:
    """textDocument/formatting: `helmc fmt`'s layout for the editor's text, with the indent
    width of [tool.helmc.format], so that the editor and `helmc fmt --check` agree. A text with
    a syntax error is left as it is (None); an already formatted one gets no edit."""
    from helmc.compiler.conf.format import format_text

    text = ls.document_text(uri)  # never pygls's own reading: it would wait on a FIFO for good
    path = uris.to_fs_path(uri) or uri
    indent = (ls.settings_for(path).get("fmt") or {}).get("indent-width", 2)
    new = format_text(text, path, indent)
    if new is None:
        return None
    if new == text:
        return []
    return [changed_part(ls, SourceFile(path, text), new)]


def fix_all(ls: "HelmcServer", uri: str, analysis: Analysis) -> list[types.CodeAction]:
    """`helm-check --fix` on the editor's text: every safe fix, to a fixed point, as one edit
    over the part of the text that changes. None when nothing would change."""
    from helmc.compiler.fixes import fix_source
    from helmc.compiler.helm_check import fix_check, is_selected, selectors_of
    from helmc.compiler.prodenv import is_config_file

    src = analysis.source
    settings = ls.settings_for(src.path)
    config, names = is_config_file(src.path), not setting(settings, "no-catalog")
    catalog = ls.catalog_for(settings) if names and not config else None
    check = fix_check(config, catalog, setting(settings, "plugins"), names)
    select, ignore = selectors_of(settings)
    result = fix_source(src, check, wanted=lambda d: is_selected(d.code, select, ignore or []))
    if not result.changed:
        return []
    edit = changed_part(ls, src, result.text)
    n = len(result.applied)
    return [
        types.CodeAction(
            title=f"Fix all auto-fixable problems ({n})",
            kind=types.CodeActionKind.SourceFixAll,
            diagnostics=[
                _converter.structure(lspconv.to_lsp(a.diagnostic, uri, ls.encoding), types.Diagnostic)
                for a in result.applied
                if a.diagnostic.span.source is src
            ],
            edit=types.WorkspaceEdit(changes={uri: [edit]}),
        )
    ]


# ---------------------------------------------------------------------- the server


def build_server() -> HelmcServer:
    server = HelmcServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HelmcServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HelmcServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, CHANGE_DEBOUNCE)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HelmcServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HelmcServer, params: types.DidCloseTextDocumentParams) -> None:
        pending = ls._pending.pop(params.text_document.uri, None)
        if pending is not None:
            pending.cancel()
        ls.analyses.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=['"', ":", ",", "=", "/"]),
    )
    def completion(ls: HelmcServer, params: types.CompletionParams) -> types.CompletionList:
        empty = types.CompletionList(is_incomplete=False, items=[])
        try:
            analysis = ls.current(params.text_document.uri)  # the text as it is now
            offset = ls.to_offset(analysis.source, params.position)
            cur = cursor_at(analysis.conf, offset)
            catalog = ls.catalog_for(ls.settings_for(analysis.source.path))
            if cur is None or catalog is None:
                return empty
            rng = ls.to_range(analysis.source, cur.start, max(cur.end, offset))
            items = [
                types.CompletionItem(
                    label=label,
                    kind=kind,
                    detail=detail,
                    sort_text=f"{i:05d}",
                    text_edit=types.TextEdit(range=rng, new_text=insert),
                )
                for i, (label, kind, detail, insert) in enumerate(completions(catalog, cur))
            ]
            return types.CompletionList(is_incomplete=False, items=items)
        except UnreadableDocument as e:
            ls.unreadable(e)
            return empty
        except Exception as e:
            log.exception("completion failed")
            ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: completion failed: {e}"))
            return empty

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: HelmcServer, params: types.HoverParams) -> types.Hover | None:
        try:
            analysis = ls.current(params.text_document.uri)
            offset = ls.to_offset(analysis.source, params.position)
            cur = cursor_at(analysis.conf, offset)
            catalog = ls.catalog_for(ls.settings_for(analysis.source.path))
            if cur is None or catalog is None:
                return None
            text = hover_text(catalog, cur)
            if text is None:
                return None
            return types.Hover(
                contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                range=ls.to_range(analysis.source, cur.start, cur.end),
            )
        except UnreadableDocument as e:
            ls.unreadable(e)
            return None
        except Exception as e:
            log.exception("hover failed")
            ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: hover failed: {e}"))
            return None

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]),
    )
    def code_action(ls: HelmcServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        try:
            analysis = ls.current(uri)
            only = [str(getattr(k, "value", k)) for k in params.context.only or []]
            actions = quick_fixes(ls, uri, analysis, params.range) if _wants(only, types.CodeActionKind.QuickFix) else []
            # Fix all in the file: only when asked for (on save, or the Source Action menu), so
            # that the lightbulb's list holds one edit per action.
            if only and _wants(only, types.CodeActionKind.SourceFixAll):
                actions.extend(fix_all(ls, uri, analysis))
            return actions
        except UnreadableDocument as e:
            ls.unreadable(e)
            return []
        except Exception as e:
            log.exception("code action failed")
            ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: code action failed: {e}"))
            return []

    @server.feature(types.TEXT_DOCUMENT_FORMATTING, types.DocumentFormattingOptions())
    def formatting(ls: HelmcServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        try:
            return format_edits(ls, params.text_document.uri)
        except UnreadableDocument as e:
            ls.unreadable(e)
            return None
        except Exception as e:  # the formatter's own failure (FormatError) leaves the text alone
            log.exception("formatting failed")
            ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: formatting failed: {e}"))
            return None

    return server


# ---------------------------------------------------------------------- the wire
#
# pygls's own reading loop trusts the framing: a header without Content-Length (or a negative
# one) makes it read the next messages' bytes as headers, so it stays alive but never answers
# again; a request whose params do not fit gets a window message instead of a response. helmc
# reads the frames itself: a broken frame ends the server (exit 1, so the editor restarts it:
# the stream cannot be trusted any more), a body that is no JSON gets a Parse error, and a
# request with bad params gets an Invalid params error, both as JSON-RPC says.

MAX_MESSAGE_BYTES = 512 * 1024 * 1024  # a 64 MB document in JSON, with room to spare


class FramingError(Exception):
    """The byte stream no longer follows the LSP base protocol."""


async def read_frame(reader: Any) -> bytes | None:
    """One message body, None at the end of input. Raises FramingError."""
    headers: dict[bytes, bytes] = {}
    while True:
        line = await reader.readline()
        if not line:
            if headers:
                raise FramingError("the input ended in the middle of a message's headers")
            return None
        if line in (b"\r\n", b"\n"):
            if not headers:
                continue  # a stray empty line between messages
            break
        name, sep, value = line.partition(b":")
        if not sep or len(headers) > 16:
            raise FramingError(f"a header line is malformed: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    raw = headers.get(b"content-length")
    if raw is None:
        raise FramingError("a message has no Content-Length header")
    if not raw.isdigit():
        raise FramingError(f"Content-Length is not a number of bytes: {raw[:40]!r}")
    length = int(raw)
    if length > MAX_MESSAGE_BYTES:
        raise FramingError(f"Content-Length {length} is above the limit of {MAX_MESSAGE_BYTES} bytes")
    try:
        return await reader.readexactly(length)
    except Exception as e:  # asyncio.IncompleteReadError: the input ended inside the body
        raise FramingError(f"the input ended inside a message body ({e})") from None


def dispatch(protocol: Any, body: bytes) -> None:
    """Hand one message to pygls; answer requests that pygls would leave unanswered."""
    from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidRequest, JsonRpcParseError

    try:
        raw = json.loads(body)
    except ValueError:
        protocol._send_response(None, error=JsonRpcParseError().to_response_error())
        return
    if not isinstance(raw, dict):
        protocol._send_response(None, error=JsonRpcInvalidRequest().to_response_error())
        return
    msg_id = raw.get("id")
    is_request = "method" in raw and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
    try:
        message = protocol.structure_message(raw)
        if not hasattr(message, "jsonrpc"):
            raise JsonRpcInvalidRequest()
    except JsonRpcException as e:
        log.warning("unusable message %s: %s", raw.get("method"), e)
        if is_request:
            protocol._send_response(msg_id, error=e.to_response_error())
        return
    try:
        protocol.handle_message(message)
    except Exception:  # noqa: BLE001 - pygls answers handler errors itself; this is its own failure
        log.exception("cannot handle %s", raw.get("method"))
        if is_request:
            protocol._send_response(msg_id, error=JsonRpcInternalError().to_response_error())


async def serve(server: "HelmcServer", reader: Any) -> int:
    """The message loop; returns the exit code (1 on a broken stream)."""
    server._loop = asyncio.get_running_loop()
    while not server._stop_event.is_set():
        try:
            body = await read_frame(reader)
        except FramingError as e:
            print(f"helmc lsp: the message stream is broken ({e}); exiting so that the editor restarts the server",
                  file=sys.stderr, flush=True)
            return 1
        if body is None:
            return 0
        dispatch(server.protocol, body)
    return 0


def main() -> int:
    from pygls.io_ import StdinAsyncReader, StdoutWriter

    server = build_server()
    server._stop_event = threading.Event()
    # The protocol closes its writer on `exit`: give it a descriptor of its own, so that closing
    # it leaves the process's standard output (flushed once more at the end) open.
    sys.stdout.flush()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    server.protocol.set_writer(StdoutWriter(out))
    code = 0
    try:
        code = asyncio.run(serve(server, StdinAsyncReader(sys.stdin.buffer, server.thread_pool)))
    except BrokenPipeError:
        code = 1  # the editor went away
    except SystemExit as e:
        # `exit`: 0 after `shutdown`, 1 without it (the protocol's own rule)
        code = e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        try:
            out.close()
        except OSError:
            pass  # the editor closed the pipe; nothing is left to say
    return code
