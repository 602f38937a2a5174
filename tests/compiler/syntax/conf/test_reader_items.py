"""The conf reader's answers on the items of a conf file: each case against HELM's own reading
(tests/helm_reading.py: pyhocon + dacite, as read_run_entries does) where HELM reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helm_reading import errors, helm_entries, helmc_read

from helmc.compiler.syntax.conf.format import format_text

pytest.importorskip("pyhocon")


def _codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


@pytest.mark.parametrize("nl", ["\r", "\n", "\r\n"])
def test_every_line_ending_reads_as_helm_reads_it(nl):
    text = nl.join(["entries: [", '  {description: "a:x=1", priority: 1}', '  {description: "b:y=2"}', "]", ""])
    entries, diagnostics = helmc_read(text)
    assert entries == helm_entries(text) == [("a:x=1", 1, None), ("b:y=2", None, None)]
    assert errors(diagnostics) == []
    out = format_text(text)
    assert helmc_read(out)[0] == entries
    if nl == "\r\n":
        assert out.count("\r\n") == 4  # CRLF stays CRLF


def test_a_lone_cr_ends_a_comment():
    text = '# one\rentries: [{description: "a"}]\r'
    assert helmc_read(text)[0] == helm_entries(text) == [("a", None, None)]


@pytest.mark.parametrize("value,priority", [("true", 1), ("false", 0)])
def test_boolean_priority_is_what_helm_reads(value, priority):
    text = f'entries: [{{description: "a", priority: {value}}}]\n'
    assert helm_entries(text) == [("a", priority, None)]  # HELM: no error, True == 1
    entries, diagnostics = helmc_read(text)
    assert entries == [("a", priority, None)]
    assert _codes(diagnostics) == ["HC0110"] and errors(diagnostics) == []
    assert diagnostics[0].fixes[0].replacement == str(priority)


@settings(max_examples=200)
@given(st.text(st.sampled_from(list("0123456789+-\u00b2\u2460\u0661\u0663\u00bd\u00a0 ")), min_size=1, max_size=5),
       st.booleans())
def test_a_priority_of_digits_is_one_diagnostic_and_a_fix_only_for_a_number(digits, quoted):
    """A priority that is digits of any kind (superscripts, circled, other scripts), signs and
    spaces, quoted or not: never an internal error; HC0105's fix, where there is one, is the
    integer int() reads, and the entry is not planned."""
    value = f'"{digits}"' if quoted else digits
    _, diagnostics = helmc_read(f'entries: [{{description: "a", priority: {value}}}]\n')
    wrong = [d for d in diagnostics if d.code == "HC0105"]
    for d in wrong:
        for fix in d.fixes:
            assert fix.replacement == str(int(fix.replacement)) and fix.replacement.lstrip("-").isascii()


def test_unclosed_brace_is_blamed_on_its_own_line():
    text = 'entries: [\n  {description: "a", priority: 1\n  {description: "b"}\n]\n'
    entries, diagnostics = helmc_read(text)
    assert _codes(diagnostics) == ["HC0001"]  # one error, no cascade
    d = diagnostics[0]
    assert d.span.start_line_col == (2, 3) and "`{` is never closed" in d.message
    assert d.fixes[0].span.start == text.index("1\n") + 1 and d.fixes[0].replacement == "}"
    assert entries == [("a", 1, None), ("b", None, None)]  # the rest is read


def test_balanced_continuation_lines_are_not_blamed():
    text = 'entries: [\n{description: "a",\npriority: 1}\n]\n'
    entries, diagnostics = helmc_read(text)
    assert entries == helm_entries(text) and diagnostics == []


def test_missing_comma_says_what_was_lost():
    text = 'entries: [\n  {description: "a:model=openai/gpt2" priority: 1}\n]\n'
    entries, diagnostics = helmc_read(text)
    assert entries == helm_entries(text) == [("a:model=openai/gpt2 priority: 1", None, None)]
    d = next(d for d in diagnostics if d.code == "HC0009")
    assert d in errors(diagnostics)
    assert "priority" in d.message and any('"a:model=openai/gpt2 priority: 1"' in n for n in d.notes)


@pytest.mark.parametrize("value", ["'mmlu:subject=anatomy'", "'mmlu'", "'a b'"])
def test_single_quotes_get_one_error_with_double_quotes(value):
    text = f"entries: [\n  {{description: {value}, priority: 1}}\n]\n"
    _, diagnostics = helmc_read(text)
    assert _codes(errors(diagnostics)) == ["HC0111"]
    assert diagnostics[0].fixes[0].replacement == '"' + value[1:-1] + '"'


@pytest.mark.parametrize(
    "include",
    ['include "other.conf"', 'include url("http://example.com/x.conf")', 'include file("x.conf")',
     'include classpath("x.conf")', 'include required("x.conf")', 'include required(file("x.conf"))', "include foo"],
)
def test_an_include_is_one_diagnostic_and_the_rest_is_read(include):
    text = f'{include}\nentries: [\n  {{description: "a", priority: 1}}\n]\n'
    entries, diagnostics = helmc_read(text)
    assert _codes(diagnostics) == ["HC0004"]
    assert diagnostics[0].span.start_line_col == (1, 1)
    assert entries == [("a", 1, None)]


@pytest.mark.parametrize(
    "text, included, read",
    [
        ('include "other.conf"\n', 'entries: [{description: "a:x=1", priority: 1}]\n', []),
        # helmc keeps the entry, without a description, and plans nothing from it
        ('entries: [{include "other.conf", priority: 2}]\n', 'description: "a:x=1"\n', [(None, 2, None)]),
    ],
)
def test_what_an_include_may_hold_is_not_reported_missing(text, included, read, tmp_path, monkeypatch):
    """HELM reads the included file (relative to its working folder: parse_string), so the
    `entries` or `description` it holds are there for HELM; helmc, which does not follow
    includes, says so (HC0004) and does not claim they are missing (HC0101, HC0104)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.conf").write_text(included)
    assert len(helm_entries(text)) == 1
    entries, diagnostics = helmc_read(text)
    assert _codes(diagnostics) == ["HC0004"]
    assert entries == read


def test_an_include_does_not_hide_a_missing_entries_list_elsewhere():
    text = 'include "other.conf"\nentries: [{priority: 1}]\nx { include "y.conf" }\n'
    assert sorted(_codes(helmc_read(text)[1])) == ["HC0004", "HC0004", "HC0104", "HC0106"]


@pytest.mark.parametrize(
    "text, at",
    [
        ('entries: [{description: "a:x=1", priority: 1}]\n\ufeff', (2, 1)),  # files joined: a BOM after the last line
        ('entries: [{description: "a:x=1", priority: 1}]\n\ufeff\ufeff  \n', (2, 1)),
        ('entries: [{description: "a:x=1", priority: 1}]\r\n\ufeff', (2, 1)),
        ('entries: [{description: "a:x=1", priority: 1}]\n\ufeffgroups_note: 1\n', (2, 1)),
        ('x: 1\n\ufeffentries: [{description: "a:x=1", priority: 1}]\n', (2, 1)),
    ],
)
def test_a_byte_order_mark_where_a_key_should_be_is_named_at_the_character(text, at):
    with pytest.raises(Exception):
        helm_entries(text)  # pyhocon fails on it
    entries, diagnostics = helmc_read(text)
    assert _codes(errors(diagnostics)) == ["HC0003"]  # and HC0106 for an unknown key, as without the mark
    assert entries == [("a:x=1", 1, None)]  # read on, as after the fix
    d = errors(diagnostics)[0]
    assert d.span.start_line_col == at and set(d.span.text) == {"\ufeff"}
    assert "byte order mark" in d.message
    fix = d.fixes[0]
    fixed = text[: fix.span.start] + fix.replacement + text[fix.span.end :]
    assert helm_entries(fixed) == helmc_read(fixed)[0] == [("a:x=1", 1, None)]
    assert errors(helmc_read(fixed)[1]) == []


@pytest.mark.parametrize("char", ["\u00a0", "\u2028", "\u2029", "\ufeff"])
@pytest.mark.parametrize(
    "template",
    [
        'entries: [{description: "a:x=1",{c}priority: 1}]\n',  # pasted from a web page
        'entries:{c}[{description: "a:x=1", priority: 1}]\n',
        'entries: [{description: "a:x=1", priority: 1}]{c}\n',
        'entries: [{description: "a:x=1", priority: 1 {c}}]\n',
    ],
)
def test_a_space_that_pyhocon_does_not_take_for_one_is_an_error_at_it(template, char):
    text = template.replace("{c}", char)
    try:
        helm = helm_entries(text)
    except Exception:
        helm = None  # pyhocon fails, or keeps the character in a value:
    assert helm != [("a:x=1", 1, None)]
    entries, diagnostics = helmc_read(text)
    if char == "\ufeff" and template[template.index("{c}") - 1] not in " ,":
        # Touching a bracket, U+FEFF is a piece of the value for both readers: a string
        # concatenated with a list, which pyhocon refuses too.
        assert helm is None and _codes(diagnostics) == ["HC0006"]
        return
    assert _codes(diagnostics) == ["HC0003"]
    d = diagnostics[0]
    assert d.span.text == char and char in d.message or f"U+{ord(char):04X}" in d.message
    fix = d.fixes[0]
    fixed = text[: fix.span.start] + fix.replacement + text[fix.span.end :]
    assert helm_entries(fixed) == helmc_read(fixed)[0] == entries == [("a:x=1", 1, None)]
    assert helmc_read(fixed)[1] == []


@pytest.mark.parametrize("char", ["\u00a0", "\u2028", "\u2029", "\ufeff"])
def test_those_spaces_in_strings_and_comments_are_text(char):
    text = f'entries: [{{description: "a:x=1{char}", priority: 1}}]  # note{char}\n'
    assert helmc_read(text) == ([(f"a:x=1{char}", 1, None)], []) and helm_entries(text) == [(f"a:x=1{char}", 1, None)]


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list('a \n"{}:#\x00\ufeff\u00e9\u20ac\U0001f600\u00a0\u2028\u2029'))))
def test_odd_spaces_are_looked_into_in_every_text_that_holds_one(text):
    """check_bytes skips the search for the four spaces in an ASCII text, and looks for each
    with `in` otherwise: it looks into a text exactly when the regex would find one there."""
    from helmc.compiler.source import SourceFile
    from helmc.compiler.syntax.conf import reader

    looked: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader, "_check_odd_spaces", lambda source, text, diagnostics: looked.append(text))
        blanked = reader.check_bytes(SourceFile("t.conf", text), [])
    assert bool(looked) == (reader._ODD_SPACE.search(blanked) is not None)


@pytest.mark.parametrize("parts", [201, 500, 5000])
def test_a_long_dotted_key_is_refused_not_a_recursion_error(parts):
    text = "entries: []\n" + "a." * parts + "b: 1\n"
    _, diagnostics = helmc_read(text)
    assert _codes(diagnostics) == ["HC0008"]
    assert format_text(text) is None


def test_dotted_keys_and_brackets_count_together():
    text = "entries: []\n" + "a." * 150 + "b { " + "c." * 60 + "d: 1 }\n"
    assert _codes(helmc_read(text)[1]) == ["HC0008"]
    ok = "entries: []\n" + "a." * 150 + "b: 1\nc: " + "[" * 40 + "]" * 40 + "\n"
    assert "HC0008" not in _codes(helmc_read(ok)[1])


def test_a_lone_cr_inside_a_string_ends_it_as_for_helm():
    text = 'entries: [{description: "a\rb", priority: 1}]\n'
    with pytest.raises(Exception):
        helm_entries(text)  # universal newlines: pyhocon sees an unterminated string
    assert "HC0002" in _codes(errors(helmc_read(text)[1]))
