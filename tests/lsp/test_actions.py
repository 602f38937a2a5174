"""The language server's fixes: quick fixes per diagnostic (preferred when safe) and "fix all
in file" (source.fixAll), driven by pytest-lsp's real client over stdio, as tests/lsp/test_features.py."""

from __future__ import annotations

import sys

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp-test extra (pytest-lsp) is not installed")
pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from lsp_client import apply, change_doc, open_doc, range_of  # noqa: E402

pytestmark = pytest.mark.asyncio

# Four safe fixes (one uncovered only after another), one unsafe, a comment and a non-BMP
# character before them so that UTF-16 positions differ from code points.
TEXT = """\
# \U0001F917 comments stay
entries: [
  {description: "mmlux:subjet=anatomy,model=openai/gpt2", prioirty: 1}  // here too
  {description: "mmlu:subject=virology,model=eleutherai/pythia-1b", priority: "2"}
]
"""
FIXED = """\
# \U0001F917 comments stay
entries: [
  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}  // here too
  {description: "mmlu:subject=virology,model=eleutherai/pythia-1b", priority: 2}
]
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "helmc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


async def actions_for(client: LanguageClient, uri: str, rng: types.Range, diags, only=None) -> list[types.CodeAction]:
    got = await client.text_document_code_action_async(
        types.CodeActionParams(types.TextDocumentIdentifier(uri), rng, types.CodeActionContext(diagnostics=diags, only=only))
    )
    return [a for a in got or [] if isinstance(a, types.CodeAction)]


async def test_quick_fixes_are_preferred_when_safe(client: LanguageClient, tmp_path):
    uri = (tmp_path / "q.conf").as_uri()
    diags = await open_doc(client, uri, TEXT)
    by_code = {d.code: d for d in diags}
    [fn] = await actions_for(client, uri, by_code["HC0301"].range, [by_code["HC0301"]])
    assert fn.kind == types.CodeActionKind.QuickFix and fn.is_preferred is True
    assert fn.title == "Replace `mmlux` with `mmlu`"
    assert fn.edit.changes[uri][0].range == range_of(TEXT, "mmlux")
    model = by_code["HC0308"]
    [guess] = await actions_for(client, uri, model.range, [model])
    assert guess.is_preferred is False  # three guesses: an unsafe fix, offered but not preferred
    assert apply(TEXT, guess.edit.changes[uri]) == TEXT.replace("pythia-1b", "pythia-1b-v0")
    # No source.fixAll among the lightbulb's quick fixes: each action is one edit.
    assert not [a for a in await actions_for(client, uri, fn.diagnostics[0].range, []) if a.kind != types.CodeActionKind.QuickFix]


@pytest.mark.parametrize("only", [[types.CodeActionKind.SourceFixAll], [types.CodeActionKind.Source]])
async def test_fix_all_in_file_applies_every_safe_fix(client: LanguageClient, tmp_path, only):
    uri = (tmp_path / "all.conf").as_uri()
    await open_doc(client, uri, TEXT)
    whole = types.Range(types.Position(0, 0), types.Position(0, 0))
    [action] = await actions_for(client, uri, whole, [], only=only)
    assert action.kind == types.CodeActionKind.SourceFixAll
    assert action.title == "Fix all auto-fixable problems (4)"
    new = apply(TEXT, action.edit.changes[uri])
    assert new == FIXED  # as `helm-check --fix` writes it: the unsafe guess is left
    left = await change_doc(client, uri, 2, new)
    assert [d.code for d in left] == ["HC0308"]
    assert await actions_for(client, uri, whole, [], only=only) == []  # nothing left to fix


async def test_quick_fix_only_filter(client: LanguageClient, tmp_path):
    uri = (tmp_path / "o.conf").as_uri()
    diags = await open_doc(client, uri, TEXT)
    whole = types.Range(types.Position(0, 0), types.Position(5, 0))
    quick = await actions_for(client, uri, whole, diags, only=[types.CodeActionKind.QuickFix])
    assert quick and {a.kind for a in quick} == {types.CodeActionKind.QuickFix}
    assert await actions_for(client, uri, whole, diags, only=[types.CodeActionKind.Refactor]) == []


async def test_fix_all_in_a_config_yaml_file(client: LanguageClient, tmp_path):
    """HELM's config YAML files get the same: a misspelled field of a deployment, fixed."""
    (tmp_path / "prod_env").mkdir()
    path = tmp_path / "prod_env" / "model_deployments.yaml"
    text = (
        "model_deployments:\n"
        "  - name: acme/acme-7b\n"
        "    model_name: acme/acme-7b\n"
        "    tokenizr_name: huggingface/gpt2\n"
        "    max_sequence_length: 2048\n"
        "    client_spec:\n"
        "      class_name: helm.clients.simple_client.SimpleClient\n"
    )
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    diags = await open_doc(client, uri, text)
    assert "HC0603" in {d.code for d in diags}
    whole = types.Range(types.Position(0, 0), types.Position(0, 0))
    [action] = await actions_for(client, uri, whole, [], only=[types.CodeActionKind.SourceFixAll])
    assert apply(text, action.edit.changes[uri]) == text.replace("tokenizr_name", "tokenizer_name")


UNFORMATTED = """\
# \U0001F917 the layout of helmc fmt, comments kept
entries=[
    {description:"mmlu:subject=anatomy,model=openai/gpt2",priority:1} , // first


    {description: "mmlu:subject=virology,model=openai/gpt2", priority: 2}]
"""


async def format_doc(client: LanguageClient, uri: str) -> list[types.TextEdit] | None:
    return await client.text_document_formatting_async(
        types.DocumentFormattingParams(types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True))
    )


async def test_formatting_gives_helmc_fmts_layout(client: LanguageClient, tmp_path):
    from helmc.compiler.syntax.conf.format import format_text

    uri = (tmp_path / "f.conf").as_uri()
    await open_doc(client, uri, UNFORMATTED)
    edits = await format_doc(client, uri)
    assert edits
    formatted = apply(UNFORMATTED, edits)
    assert formatted == format_text(UNFORMATTED, str(tmp_path / "f.conf"), 2) != UNFORMATTED
    assert "// first" in formatted and "\U0001F917" in formatted
    await change_doc(client, uri, 2, formatted)
    again = await format_doc(client, uri)
    assert again is not None and list(again) == []  # formatted already: no edit (None would mean "broken")


async def test_formatting_leaves_a_broken_file_alone(client: LanguageClient, tmp_path):
    uri = (tmp_path / "b.conf").as_uri()
    broken = 'entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority 1}\n]\n'
    await open_doc(client, uri, broken)
    assert not await format_doc(client, uri)


async def test_formatting_follows_the_projects_indent_width(client: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.helmc.format]\nindent-width = 4\n", encoding="utf-8")
    uri = (tmp_path / "w.conf").as_uri()
    await open_doc(client, uri, UNFORMATTED)
    formatted = apply(UNFORMATTED, await format_doc(client, uri) or [])
    assert '\n    {description: "mmlu:subject=anatomy' in formatted
