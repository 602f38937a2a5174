"""The language server's whole life as an editor drives it, with pygls's own client over stdio:
how it ends is what the editor sees (the LSP: exit code 0 after `shutdown`, 1 without it)."""

from __future__ import annotations

import asyncio
import sys

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

pytestmark = pytest.mark.asyncio


async def _session(*, shutdown: bool, open_doc: str | None = None) -> tuple[int, str]:
    client = LanguageClient("lifecycle-test", "v1")
    await client.start_io(sys.executable, "-m", "helmc", "lsp")
    server = client._server
    result = await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    assert result.capabilities is not None
    client.initialized(types.InitializedParams())
    if open_doc is not None:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri="file:///tmp/lifecycle.conf", language_id="hocon", version=1, text=open_doc)))
        await asyncio.sleep(0.2)
    if shutdown:
        await client.shutdown_async(None)
    client.exit(None)
    code = await asyncio.wait_for(server.wait(), timeout=30)
    err = (await server.stderr.read()).decode("utf-8", "replace")
    await client.stop()
    return code, err


@pytest.mark.parametrize("open_doc", [None, 'entries: [{description: "simple1:model=simple/model1", priority: 1}]\n'])
async def test_exit_after_shutdown_is_a_clean_end(open_doc) -> None:
    code, err = await _session(shutdown=True, open_doc=open_doc)
    assert code == 0, err
    assert "Traceback" not in err and "Error" not in err, err


async def test_exit_without_shutdown_exits_1_without_a_traceback() -> None:
    code, err = await _session(shutdown=False)
    assert code == 1, err
    assert "Traceback" not in err, err
