"""The language server publishes the prices file's diagnostics (HC0800-HC0802) as helm-check
and helm-run give them for --prices: a real pytest-lsp client over stdio, for a file named
prices.yaml and for the file [tool.helmc]'s `prices` names, each documented example of those
codes, and its fix clearing them."""

from __future__ import annotations

import sys

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp-test extra (pytest-lsp) is not installed")
pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from diagnostic_examples import EXAMPLES  # noqa: E402
from helmc.compiler.diagnostics import DiagnosticSink  # noqa: E402
from helmc.runtime.estimate import load_prices  # noqa: E402

pytestmark = pytest.mark.asyncio

PRICES_EXAMPLES = [e for e in EXAMPLES if e.code in ("HC0800", "HC0801", "HC0802")]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "helmc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def _helm_check(path) -> list[tuple[str, int, int, int, int]]:
    """helm-check's (and helm-run's) reading of --prices: code and 0-based range of each."""
    sink = DiagnosticSink()
    load_prices(str(path), sink)
    out = []
    for d in sink.sorted():
        (l0, c0), (l1, c1) = d.span.source.line_col(d.span.start), d.span.source.line_col(d.span.end)
        out.append((d.code, l0 - 1, c0 - 1, l1 - 1, c1 - 1))
    return out


async def _published(client: LanguageClient, uri: str, text: str, version: int) -> list[types.Diagnostic]:
    if version == 1:
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, text)))
    else:
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


@pytest.mark.parametrize("how", ["named prices.yaml", "[tool.helmc] prices"])
@pytest.mark.parametrize("example", PRICES_EXAMPLES, ids=lambda e: e.code + (f"-{e.variant}" if e.variant else ""))
async def test_a_prices_file_gets_helm_checks_diagnostics(client: LanguageClient, tmp_path, example, how) -> None:
    if how == "named prices.yaml":
        path = tmp_path / "prices.yaml"
    else:
        (tmp_path / "pyproject.toml").write_text('[tool.helmc]\nprices = "costs/usd.yaml"\n', encoding="utf-8")
        (tmp_path / "costs").mkdir()
        path = tmp_path / "costs" / "usd.yaml"
    path.write_text(example.bad, encoding="utf-8")
    want = _helm_check(path)
    assert want and want[0][0] == example.code  # the example fails in helm-check
    got = await _published(client, path.as_uri(), example.bad, 1)
    assert sorted((str(d.code), d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
                  for d in got) == sorted(want)
    assert not list(await _published(client, path.as_uri(), example.fixed, 2))  # fixed in the editor


async def test_other_yaml_files_are_not_read_as_prices(client: LanguageClient, tmp_path) -> None:
    path = tmp_path / "notes.yaml"
    text = "prices: 3\n"  # no prices file: neither its name nor [tool.helmc] says so
    path.write_text(text, encoding="utf-8")
    got = await _published(client, path.as_uri(), text, 1)
    assert not any(str(d.code).startswith("HC08") for d in got)
