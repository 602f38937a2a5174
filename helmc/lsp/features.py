"""The server's features: what each LSP request and notification does, on the documents
(documents.py), completion and hover (complete.py) and code actions (actions.py)."""

from __future__ import annotations

from typing import Callable, TypeVar

from lsprotocol import types

from helmc.lsp.actions import _wants, fix_all, format_edits, quick_fixes
from helmc.lsp.complete import completions, cursor_at, hover_text
from helmc.lsp.documents import CHANGE_DEBOUNCE, HelmcServer, UnreadableDocument, log


# ---------------------------------------------------------------------- the server

T = TypeVar("T")


def _answered(ls: HelmcServer, what: str, empty: T, answer: Callable[[], T]) -> T:
    """A request's answer, or `empty`: when its document cannot be read (said to the user once),
    or when helmc fails (logged, and said in the editor's log). An editor never gets an error
    reply or a traceback for a request helmc could not answer."""
    try:
        return answer()
    except UnreadableDocument as e:
        ls.unreadable(e)
        return empty
    except Exception as e:  # noqa: BLE001 - see above
        log.exception(f"{what} failed")
        ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"helmc: {what} failed: {e}"))
        return empty


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

        def answer() -> types.CompletionList:
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

        return _answered(ls, "completion", empty, answer)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: HelmcServer, params: types.HoverParams) -> types.Hover | None:
        def answer() -> types.Hover | None:
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

        return _answered(ls, "hover", None, answer)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]),
    )
    def code_action(ls: HelmcServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri

        def answer() -> list[types.CodeAction]:
            analysis = ls.current(uri)
            only = [str(getattr(k, "value", k)) for k in params.context.only or []]
            actions = quick_fixes(ls, uri, analysis, params.range) if _wants(only, types.CodeActionKind.QuickFix) else []
            # Fix all in the file: only when asked for (on save, or the Source Action menu), so
            # that the lightbulb's list holds one edit per action.
            if only and _wants(only, types.CodeActionKind.SourceFixAll):
                actions.extend(fix_all(ls, uri, analysis))
            return actions

        return _answered(ls, "code action", [], answer)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING, types.DocumentFormattingOptions())
    def formatting(ls: HelmcServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        # the formatter's own failure (FormatError) leaves the text alone
        return _answered(ls, "formatting", None, lambda: format_edits(ls, params.text_document.uri))

    return server
