"""The language server's analysis is helm-check's check: for every diagnostic example that
helm-check reports from a file alone (no flags), the editor's diagnostics of that document are
exactly helm-check's for the same file, and they come from the editor's text, not the disk's."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pygls")

from diagnostic_examples import EXAMPLES  # noqa: E402
from helmc.app.check import helm_check, request_from_flags  # noqa: E402
from helmc.compiler.diagnostics import Diagnostic  # noqa: E402

FROM_A_FILE = [e for e in EXAMPLES if e.command == "check" and not e.args and not e.needs_helm and not e.requires]


def _shape(diagnostics: list[Diagnostic], path: str) -> list[tuple]:
    return sorted((d.code, d.severity.value, d.span.start, d.span.end, d.message)
                  for d in diagnostics if d.span.source.path == path)


@pytest.mark.parametrize("example", FROM_A_FILE, ids=lambda e: e.key)
def test_the_editor_sees_what_helm_check_sees(example, tmp_path, monkeypatch):
    from helmc.lsp.features import build_server

    monkeypatch.chdir(tmp_path)
    for name, text in example.extra_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    doc = tmp_path / example.path
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(example.bad, encoding="utf-8")
    request, _ = request_from_flags({"paths": [str(doc)]})
    expected = _shape(helm_check(request).diagnostics, str(doc))
    assert any(code == example.code for code, *_ in expected), expected  # the example does fail

    doc.write_text(example.fixed, encoding="utf-8")  # the disk moves on; the editor still has `bad`
    server = build_server()
    monkeypatch.setattr(server, "window_log_message", lambda params: None)
    analysis = server.analyze(doc.as_uri(), example.bad)
    assert _shape(analysis.diagnostics, str(doc)) == expected
    assert analysis.source.text == example.bad and Path(analysis.source.path) == doc
