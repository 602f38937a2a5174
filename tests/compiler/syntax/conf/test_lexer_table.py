"""The fast reader's lexer regex comes from lexer_table.py without importing Lark: the table
must be Lark's own regex for conf.lark, and it is used only where it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helmc.compiler.syntax.conf import fast_reader, lexer_table
from helmc.compiler.syntax.conf.lark_reader import basic_lexer, tokens

REPO = Path(__file__).resolve().parents[4]


def _same_lark() -> bool:
    import lark

    return lark.__version__ == lexer_table.LARK_VERSION


def test_another_installed_lark_is_asked_itself():
    """A lark other than the table's (a newer release in the supported range): Lark's own regex."""
    if _same_lark():
        pytest.skip("the installed lark is the table's")
    assert fast_reader._generated_scanner() is None


def test_the_table_is_up_to_date():
    if not _same_lark():
        pytest.skip("the installed lark is not the table's: regenerate with scripts/gen_lexer_table.py")
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_lexer_table.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_table_is_larks_own_regex():
    if not _same_lark():
        pytest.skip("the installed lark is not the table's")
    (regex,) = basic_lexer().scanner._mres
    found = fast_reader._generated_scanner()
    assert found is not None, "the installed lark and grammar are the table's: it must be used"
    ignore = frozenset(basic_lexer().ignore_types)
    assert (lexer_table.PATTERN, lexer_table.FLAGS) == (regex.pattern, regex.flags)
    assert (found[0].pattern, found[0].flags, found[1]) == (fast_reader.scan_pattern(regex, ignore), regex.flags, ignore)
    assert found[0].pattern != regex.pattern, "this grammar's spaces are folded"


def test_without_the_table_the_same_scanner_comes_from_lark(monkeypatch):
    table = fast_reader._generated_scanner()
    monkeypatch.setattr(lexer_table, "LARK_VERSION", "0.0.1")
    fast_reader._scanner.cache_clear()
    try:
        from_lark = fast_reader._scanner()
    finally:
        fast_reader._scanner.cache_clear()
    if table is not None:
        assert (from_lark[0].pattern, from_lark[0].flags, from_lark[1]) == (table[0].pattern, table[0].flags, table[1])


def test_another_lark_or_grammar_asks_lark(monkeypatch):
    monkeypatch.setattr(lexer_table, "LARK_VERSION", "0.0.1")
    assert fast_reader._generated_scanner() is None
    monkeypatch.undo()
    monkeypatch.setattr(lexer_table, "GRAMMAR_CRC32", lexer_table.GRAMMAR_CRC32 ^ 1)
    assert fast_reader._generated_scanner() is None


def test_a_plain_file_is_read_without_lark(tmp_path):
    conf = tmp_path / "run_entries.conf"
    conf.write_text('entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}\n]\n')
    code = ("import sys\nfrom helmc.cli import helm_check_main\nrc = helm_check_main([sys.argv[1], '--format', 'json'])\n"
            "print(rc, 'lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(conf)], capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == "0 False", done.stdout + done.stderr


def _folded_tokens(text: str) -> list[tuple[str, str, int]]:
    """The tokens the fast reader's scanner gives (as fast_read reads its matches)."""
    regex, ignore = fast_reader._scanner()
    out = []
    for m in regex.finditer(text):
        kind = m.lastgroup
        if kind not in ignore:
            token = m.group(kind)
            out.append((kind, token, m.end() - len(token)))
    return out


def _lark_tokens(text: str) -> list[tuple[str, str, int]]:
    ignore = frozenset(basic_lexer().ignore_types)
    return [(t.type, t.value, t.start_pos) for t in tokens(text) if t.type not in ignore]


TRICKY = [
    'a: 1\n', '  a :  "x"  \n', '\ta\t:\t1\t', 'a: 1   ', '   ', '\t\n\t', 'a: b c  d\n',
    '  # comment\n  // another\n', 'include "x.conf"\n  include  required(file("y"))\n',
    'a: """ triple\n  """  \n', 'a: "bad\n', 'a: ${x}  \n', 'a += 1\n', ' \u00a0a: 1\n', '\ufeff a: 1\n',
    ' \x0c a: 1 \u2028 b: 2\n', 'a: "x"  ,  b: 2 ,\n', '{ a: [ 1 , 2 ] }  \r\n  b: 3\r', '  i: 1\n  id: x\n  "q": y\n',
]


@pytest.mark.parametrize("text", TRICKY)
def test_folding_spaces_keeps_larks_tokens(text):
    assert _folded_tokens(text) == _lark_tokens(text)


@given(st.text(alphabet=' \t\n\r\x0c\u00a0\ufeff"\\#/,:=[]{}$+iqa1.', max_size=60))
def test_folding_spaces_keeps_larks_tokens_on_any_text(text):
    assert _folded_tokens(text) == _lark_tokens(text)


def test_punctuation_goes_first_only_where_no_other_terminal_starts_with_it():
    """The scanner tries `:` `,` `{` `}` `[` `]` and newlines first; a terminal that could also
    start with one of those characters keeps it in its place (then its order decides)."""
    import re

    plain = re.compile(r"(?P<WORD>[a-z]+)|(?P<COLON>:)|(?P<COMMA>,)|(?P<STRAY>.)")
    assert fast_reader._punctuation_first(plain) == r"(?P<COLON>:)|(?P<COMMA>,)|(?P<WORD>[a-z]+)|(?P<STRAY>.)"
    shadowed = re.compile(r"(?P<WORD>[a-z:]+)|(?P<COLON>:)|(?P<COMMA>,)|(?P<STRAY>.)")
    assert fast_reader._punctuation_first(shadowed) == r"(?P<COMMA>,)|(?P<WORD>[a-z:]+)|(?P<COLON>:)|(?P<STRAY>.)"
