"""`helmc lsp` driven as a real subprocess by pytest-lsp's real LSP client over stdio."""

from __future__ import annotations

import sys

import pytest

# The language server and its test client are the `lsp,lsp-test` extras, installed apart from
# crfm-helm (their cattrs pins conflict): without them the fast loop skips this module.
pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp-test extra (pytest-lsp) is not installed")
pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from lsp_client import apply, change_doc, open_doc, position_after, range_of  # noqa: E402

pytestmark = pytest.mark.asyncio

CONF = """\
# a run entries conf file with a misspelled model
entries: [
  {groups: ["\U0001F917 hf"], description: "mmlu:subject=anatomy,model=openai/gtp2", priority: 1}
]
"""
TYPO = "openai/gtp2"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "helmc", "lsp"]))
async def client(lsp_client: LanguageClient):
    # VS Code's capabilities offer only UTF-16, the LSP's default position encoding.
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def model_diagnostics(diags: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diags if d.code == "HC0308"]


async def test_misspelled_model_diagnostic_on_open_and_each_change(client: LanguageClient, tmp_path):
    uri = (tmp_path / "run_entries.conf").as_uri()
    diags = model_diagnostics(await open_doc(client, uri, CONF))
    assert len(diags) == 1
    assert diags[0].range == range_of(CONF, TYPO)
    # the emoji before the token is one code point but two UTF-16 units
    assert diags[0].range.start.character == CONF.splitlines()[2].index(TYPO) + 1
    assert "did you mean `openai/gpt2`" in diags[0].message

    # Change 1: a line inserted above moves the diagnostic down with the token.
    moved = "# one more line\n" + CONF
    diags = model_diagnostics(await change_doc(client, uri, 2, moved))
    assert [d.range for d in diags] == [range_of(moved, TYPO)]

    # Change 2: a second entry with another typo: both are reported where they are.
    two = moved.replace("]\n", '  {description: "mmlu:subject=virology,model=meta/llama-2-7bb"}\n]\n')
    diags = model_diagnostics(await change_doc(client, uri, 3, two))
    assert sorted((d.range.start.line, d.range.start.character, d.range.end.character) for d in diags) == sorted(
        (r.start.line, r.start.character, r.end.character) for r in (range_of(two, TYPO), range_of(two, "meta/llama-2-7bb"))
    )

    # Change 3: fixed; the diagnostics go away.
    fixed = two.replace(TYPO, "openai/gpt2").replace("llama-2-7bb", "llama-2-7b")
    assert model_diagnostics(await change_doc(client, uri, 4, fixed)) == []


async def test_quick_fix_rewrites_the_token(client: LanguageClient, tmp_path):
    uri = (tmp_path / "fix.conf").as_uri()
    [diag] = model_diagnostics(await open_doc(client, uri, CONF))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag]),
        )
    )
    fixes = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix]
    [action] = [a for a in fixes if a.diagnostics and a.diagnostics[0].code == "HC0308"]
    assert action.is_preferred is not False
    assert action.edit is not None and action.edit.changes is not None
    edits = action.edit.changes[uri]
    assert [e.range for e in edits] == [range_of(CONF, TYPO)]
    new_text = apply(CONF, edits)
    assert new_text == CONF.replace(TYPO, "openai/gpt2")
    assert model_diagnostics(await change_doc(client, uri, 2, new_text)) == []


async def test_unknown_key_quick_fix(client: LanguageClient, tmp_path):
    uri = (tmp_path / "key.conf").as_uri()
    text = 'entries: [{description: "mmlu:subject=anatomy,model=openai/gpt2", prioirty: 1}]\n'
    diags = [d for d in await open_doc(client, uri, text) if d.code == "HC0106"]
    assert [d.range for d in diags] == [range_of(text, "prioirty")]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(types.TextDocumentIdentifier(uri), diags[0].range, types.CodeActionContext(diagnostics=diags))
    )
    edits = [e for a in actions or [] for e in (a.edit.changes[uri] if a.edit and a.edit.changes else [])]
    assert apply(text, edits) == text.replace("prioirty", "priority")


async def complete(client: LanguageClient, uri: str, text: str, marker: str) -> list[types.CompletionItem]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "hocon", 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), position_after(text, marker))
    )
    assert result is not None
    return result.items if isinstance(result, types.CompletionList) else result


async def test_completion_after_model_offers_models_and_wildcards(client: LanguageClient, tmp_path):
    text = 'entries: [\n  {groups: ["\U0001F917"], description: "mmlu:subject=anatomy,model="}\n]\n'
    items = await complete(client, (tmp_path / "c.conf").as_uri(), text, "model=")
    labels = {i.label for i in items}
    assert {"openai/gpt2", "meta/llama-2-7b"} <= labels  # models
    assert {"all", "text", "instruction_following"} <= labels  # wildcards
    assert "mmlu" not in labels and "subject" not in labels
    gpt2 = next(i for i in items if i.label == "openai/gpt2")
    assert isinstance(gpt2.text_edit, types.TextEdit)
    at = position_after(text, "model=")
    assert gpt2.text_edit.range == types.Range(at, at)
    assert gpt2.text_edit.new_text == "openai/gpt2"


async def test_completion_of_partial_model_replaces_the_token(client: LanguageClient, tmp_path):
    text = 'entries: [{description: "mmlu:subject=anatomy,model=openai/gp"}]\n'
    items = await complete(client, (tmp_path / "p.conf").as_uri(), text, "model=openai/gp")
    gpt2 = next(i for i in items if i.label == "openai/gpt2")
    assert apply(text, [gpt2.text_edit]) == text.replace("openai/gp\"", "openai/gpt2\"")


async def test_completion_of_functions_parameters_expanders_and_values(client: LanguageClient, tmp_path):
    functions = await complete(client, (tmp_path / "f.conf").as_uri(), 'entries: [{description: "mml"}]\n', '"mml')
    assert "mmlu" in {i.label for i in functions}
    assert all(i.kind == types.CompletionItemKind.Function for i in functions)

    keys = await complete(client, (tmp_path / "k.conf").as_uri(), 'entries: [{description: "mmlu:subject=anatomy,"}]\n', "anatomy,")
    labels = {i.label for i in keys}
    assert "method" in labels  # a parameter of mmlu
    assert "max_train_instances" in labels and "model" in labels  # run expanders
    assert "subject" not in labels  # already given

    values = await complete(
        client, (tmp_path / "v.conf").as_uri(), 'entries: [{description: "mmlu:subject=x,max_train_instances="}]\n', "instances="
    )
    assert {"all", "zero", "one"} <= {i.label for i in values}


async def test_hover_shows_parameters_and_defaults(client: LanguageClient, tmp_path):
    uri = (tmp_path / "h.conf").as_uri()
    text = 'entries: [{description: "mmlu:subject=anatomy,model=openai/gpt2"}]\n'
    await open_doc(client, uri, text)
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), position_after(text, '"mm'))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "mmlu(" in hover.contents.value and "subject: str" in hover.contents.value
    assert "method: str = " in hover.contents.value  # a default
    assert hover.range == range_of(text, "mmlu")
