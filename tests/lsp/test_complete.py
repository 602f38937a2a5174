"""The language server's cursor logic in-process: on every real conf file, at every offset
inside every description, completion and hover answer without raising."""

from __future__ import annotations

import pytest

pytest.importorskip("pygls")

from helmc.compiler.catalog.catalog import load_catalog  # noqa: E402
from helmc.compiler.diagnostics import DiagnosticSink  # noqa: E402
from helmc.compiler.syntax.frontend import parse_file  # noqa: E402
from helmc.compiler.source import SourceFile  # noqa: E402
from helmc.lsp.complete import completions, cursor_at, hover_text  # noqa: E402

from conftest import CORPUS, needs_corpus  # noqa: E402


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def conf(text: str):
    return parse_file(SourceFile("x.conf", text), DiagnosticSink())


@pytest.mark.parametrize(
    "text, marker, kind, token",
    [
        ('entries: [{description: "mm"}]', '"mm', "function", "mm"),
        ('entries: [{description: ""}]', 'description: "', "function", ""),
        ('entries: [{description: "mmlu:"}]', "mmlu:", "key", ""),
        ('entries: [{description: "mmlu:subject=x,mo"}]', ",mo", "key", "mo"),
        ('entries: [{description: "mmlu:subject=x,model="}]', "model=", "value", ""),
        ('entries: [{description: "mmlu:subject=x,model=openai/g"}]', "model=open", "value", "openai/g"),
        ('entries: [{description: "mmlu:sub=x"}]', "mmlu:su", "key", "sub"),
    ],
)
def test_cursor_kinds(text, marker, kind, token):
    offset = text.index(marker) + len(marker)
    cur = cursor_at(conf(text), offset)
    assert cur is not None and cur.kind == kind
    assert text[cur.start : cur.end] == token


def test_no_cursor_outside_descriptions():
    text = 'entries: [{description: "mmlu:subject=x", priority: 1}]'
    c = conf(text)
    assert cursor_at(c, text.index("priority")) is None
    assert cursor_at(c, text.index('"mmlu')) is None  # before the opening quote
    assert cursor_at(c, text.index('", priority') + 1) is None  # after the closing quote


def test_value_completion_of_a_key_in_a_gap_uses_the_key(catalog):
    # `mmlu:subject=x,,model=` has an empty argument, so the parse has no arguments at all
    text = 'entries: [{description: "mmlu:subject=x,,model="}]'
    cur = cursor_at(conf(text), text.index("model=") + len("model="))
    assert cur is not None and cur.kind == "value" and cur.key == "model"
    assert "openai/gpt2" in {label for label, *_ in completions(catalog, cur)}


@needs_corpus
def test_every_offset_of_every_corpus_description(catalog):
    seen = 0
    answered: set[tuple] = set()
    for path in sorted(CORPUS.glob("*.conf")):
        c = conf(path.read_text(encoding="utf-8"))
        for e in c.entries:
            if e.description is None:
                continue
            for offset in range(e.description.span.start, e.description.span.end + 1):
                cur = cursor_at(c, offset)
                if cur is None:
                    continue
                seen += 1
                assert cur.start <= offset <= max(cur.end, offset)
                key = (cur.kind, cur.key, cur.desc.name.value, cur.desc.span.source.text[cur.start : cur.end])
                if key not in answered:  # one answer per distinct token keeps this fast
                    answered.add(key)
                    completions(catalog, cur)
                    hover_text(catalog, cur)
    assert seen > 1000
