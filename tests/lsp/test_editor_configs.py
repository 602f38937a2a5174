"""The editor configurations docs/editors.md gives (examples/editors/) start the language server.

What is tested here: each file is read as its editor reads it (the VS Code settings as JSON, the
Neovim Lua for its `cmd` and `filetypes`); the command it names, found on PATH as the editor
finds it, is started and driven by a real LSP client over stdio (initialize, didOpen with the
language id the editor sends for a `.conf` file, diagnostics back); docs/editors.md shows the
files exactly. Not tested here (neither editor is installed): that VS Code's Generic LSP Client
(v2) extension and Neovim themselves load these files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp-test extra (pytest-lsp) is not installed")
pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VSCODE = REPO / "examples" / "editors" / "vscode" / "settings.json"
NEOVIM = REPO / "examples" / "editors" / "nvim" / "helmc.lua"
# The settings that the Generic LSP Client (v2) extension (zsol.vscode-glspc) declares in its
# package.json, and the language id VS Code's built-in `ini` extension gives `*.conf` files.
GLSPC_SETTINGS = {"glspc.server.command", "glspc.server.commandArguments", "glspc.server.languageId",
                  "glspc.server.environmentVariables", "glspc.server.initializationOptions", "glspc.trace.server"}
VSCODE_CONF_LANGUAGE = "properties"
# The filetype Neovim's own filetype detection gives `*.conf` files.
NEOVIM_CONF_FILETYPE = "conf"

ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def vscode_command() -> list[str]:
    settings = json.loads(VSCODE.read_text(encoding="utf-8"))
    assert set(settings) <= GLSPC_SETTINGS, set(settings) - GLSPC_SETTINGS
    assert VSCODE_CONF_LANGUAGE in settings["glspc.server.languageId"]
    return [settings["glspc.server.command"], *settings["glspc.server.commandArguments"]]


def _lua_strings(field: str, text: str) -> list[str]:
    m = re.search(rf"\b{field}\s*=\s*\{{([^}}]*)\}}", text)
    assert m, f"no `{field} = {{...}}` in {NEOVIM.name}"
    return re.findall(r'"([^"]*)"', m.group(1))


def neovim_command() -> list[str]:
    text = NEOVIM.read_text(encoding="utf-8")
    assert NEOVIM_CONF_FILETYPE in _lua_strings("filetypes", text)
    assert 'vim.lsp.enable("helmc")' in text
    return _lua_strings("cmd", text)


def on_path(command: list[str]) -> list[str]:
    """The command as the editor spawns it: its program looked up on PATH."""
    found = shutil.which(command[0], path=ENV["PATH"])
    assert found, f"`{command[0]}` is not on PATH"
    return [found, *command[1:]]


def test_docs_show_the_tested_files_exactly():
    doc = (REPO / "docs" / "editors.md").read_text(encoding="utf-8")
    for path, lang in ((VSCODE, "json"), (NEOVIM, "lua")):
        assert f"```{lang}\n{path.read_text(encoding='utf-8')}```" in doc, path.name
        assert str(path.relative_to(REPO)) in doc


@pytest_lsp.fixture(config=ClientServerConfig(server_command=on_path(vscode_command()), server_env=ENV))
async def vscode(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=on_path(neovim_command()), server_env=ENV))
async def neovim(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("neovim")))
    yield
    await lsp_client.shutdown_session()


async def _diagnostics_of_a_typo(client: LanguageClient, tmp_path: Path, language: str) -> list[str]:
    uri = (tmp_path / "run_entries.conf").as_uri()
    text = 'entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gtp2", priority: 1}\n]\n'
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return [str(d.code) for d in client.diagnostics[uri]]


@pytest.mark.asyncio
async def test_the_vscode_settings_start_the_server(vscode: LanguageClient, tmp_path):
    assert "HC0308" in await _diagnostics_of_a_typo(vscode, tmp_path, VSCODE_CONF_LANGUAGE)


@pytest.mark.asyncio
async def test_the_neovim_config_starts_the_server(neovim: LanguageClient, tmp_path):
    assert "HC0308" in await _diagnostics_of_a_typo(neovim, tmp_path, NEOVIM_CONF_FILETYPE)
