"""The lossless tree prints every file back byte for byte, and the IR read from it is the
IR of the fast reader / Lark reader that read-only commands use, diagnostics included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, needs_corpus
from strategies import conf_files, damaged_conf_files, mutated_texts

from helmc.compiler.syntax.conf import parse_conf
from helmc.compiler.syntax.conf.lossless import TRIVIA, leaves, print_tree, read_lossless
from helmc.compiler.source import SourceFile


def check(text: str) -> None:
    source = SourceFile("t.conf", text)
    read = read_lossless(source)
    if read.tree is not None:
        assert print_tree(read.tree) == text
        # Leaves tile the text: each starts where the one before ended.
        pos = 0
        for tok in leaves(read.tree):
            assert tok.start_pos == pos
            pos = tok.end_pos
        assert pos == len(text)
    diagnostics: list = []
    assert parse_conf(source, diagnostics) == read.value
    assert sorted(diagnostics, key=repr) == sorted(read.diagnostics, key=repr)


@needs_corpus
def test_corpus_round_trips_and_agrees():
    files = sorted(CORPUS.glob("*.conf"))
    assert files
    for f in files:
        check(f.read_text(encoding="utf-8"))


@settings(max_examples=40)
@given(conf_files())
def test_generated_files_round_trip(conf):
    check(conf.text)


@settings(max_examples=40)
@given(st.one_of(damaged_conf_files().map(lambda c: c.text), mutated_texts(), st.text(max_size=80)))
def test_damaged_and_random_texts_round_trip(text):
    check(text)


def test_trivia_and_skipped_tokens_are_in_the_tree():
    text = 'entries: [ # list\n  {description: "a", priority = 1} ^ \n]\r\n'
    read = read_lossless(SourceFile("t.conf", text))
    kinds = [t.type for t in leaves(read.tree)]
    assert {"COMMENT", "NL", "WS", "COMMA", "EQUAL"} <= set(kinds)
    assert read.tree.find_data("error")  # the stray `^`, skipped by recovery
    assert print_tree(read.tree) == text
    assert TRIVIA == {"WS", "NL", "COMMA", "COMMENT"}


def test_bom_and_nul_keep_their_bytes():
    for text in ('\ufeffentries: []\n', 'entries: [{description: "a\x00b"}]\n'):
        read = read_lossless(SourceFile("t.conf", text))
        assert print_tree(read.tree) == text
        assert read.has_errors
