"""The language server publishes HC06xx diagnostics for HELM's config YAML files (a real
pytest-lsp client over stdio), from the editor's text, with the siblings on disk."""

from __future__ import annotations

import sys

import pytest

# The lsp and lsp-test extras are installed apart from crfm-helm: without them, skip (see tests/lsp/test_features.py).
pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp-test extra (pytest-lsp) is not installed")
pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from lsp_client import range_of  # noqa: E402

pytestmark = pytest.mark.asyncio

DEPLOYMENTS = """\
model_deployments:
  - name: vllm/acme-\u00e9t\u00e9-7b
    model_name: acme/acme-7b
    tokenizr_name: huggingface/gpt2
    client_spec:
      class_name: "helm.clients.vllm_client.VLLMChatClient"
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "helmc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


async def test_config_yaml_diagnostics_at_their_place(client: LanguageClient, tmp_path) -> None:
    folder = tmp_path / "prod_env"
    folder.mkdir()
    (folder / "model_metadata.yaml").write_text("models: []\n", encoding="utf-8")
    path = folder / "model_deployments.yaml"
    path.write_text("model_deployments: []\n", encoding="utf-8")  # the editor's text differs: it wins
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, DEPLOYMENTS)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    by_code = {d.code: d for d in client.diagnostics[uri]}
    assert "HC0603" in by_code, client.diagnostics[uri]
    assert by_code["HC0603"].range == range_of(DEPLOYMENTS, "tokenizr_name")
    assert "HC0614" in by_code and by_code["HC0614"].range == range_of(DEPLOYMENTS, "acme/acme-7b")
    # fixed in the editor: the diagnostics go
    fixed = DEPLOYMENTS.replace("tokenizr_name", "tokenizer_name")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert "HC0603" not in {d.code for d in client.diagnostics[uri]}


async def test_yaml_syntax_error_is_positioned(client: LanguageClient, tmp_path) -> None:
    path = tmp_path / "tokenizer_configs.yaml"
    text = "tokenizer_configs:\n  - name: acme/tok\n    tokenizer_spec: {class_name: x\n"
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    diags = client.diagnostics[uri]
    assert [d.code for d in diags] == ["HC0601"]
    assert diags[0].range.start.line >= 2
