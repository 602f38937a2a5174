"""Code actions and formatting: one quick fix per fix of a diagnostic (titled by the rule
registry, compiler/codes.py), "fix all" (helm-check --fix on the editor's text) and `helmc fmt`'s
layout for the editor's text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types
from pygls import uris

from helmc.compiler.codes import CODES
from helmc.compiler.emit import lsp as lspconv
from helmc.compiler.resolve.suggest import common_ends
from helmc.compiler.source import SourceFile
from helmc.lsp.documents import Analysis, converter

if TYPE_CHECKING:
    from helmc.lsp.documents import HelmcServer


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
        lsp_diag = converter.structure(lspconv.to_lsp(d, uri, ls.encoding), types.Diagnostic)
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
    from helmc.compiler.syntax.conf.format import format_text

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
    from helmc.app.check import fix_check, is_selected, selectors_of
    from helmc.app.options import setting
    from helmc.compiler.fixes import fix_source
    from helmc.compiler.prodenv.check import is_config_file

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
                converter.structure(lspconv.to_lsp(a.diagnostic, uri, ls.encoding), types.Diagnostic)
                for a in result.applied
                if a.diagnostic.span.source is src
            ],
            edit=types.WorkspaceEdit(changes={uri: [edit]}),
        )
    ]
