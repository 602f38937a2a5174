"""The fast path for plain conf files gives exactly what the Lark path gives, or gives up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, needs_corpus
from strategies import conf_files, damaged_conf_files, mutated_texts

from helmc.compiler.syntax.conf.fast_reader import fast_parse
from helmc.compiler.syntax.conf.lark_reader import parse_tree, read_tree
from helmc.compiler.source import SourceFile


def lark_read(source: SourceFile):
    """The Lark path alone, as parse_conf runs it when the fast path gives up."""
    diagnostics: list = []
    tree = parse_tree(source, source.text, diagnostics)
    return read_tree(tree, source, diagnostics), diagnostics


def agree(text: str) -> bool:
    """Whether the fast path took the text; asserts it agrees with Lark when it did."""
    source = SourceFile("t.conf", text)
    fast_diags: list = []
    fast = fast_parse(source, fast_diags)
    if fast is None:
        return False
    slow, slow_diags = lark_read(source)
    assert fast == slow
    assert fast_diags == slow_diags
    return True


@needs_corpus
def test_corpus_takes_the_fast_path_and_agrees():
    files = sorted(CORPUS.glob("*.conf"))
    assert files
    for f in files:
        assert agree(f.read_text(encoding="utf-8")), f.name


@settings(max_examples=200)
@given(conf_files())
def test_generated_files_agree(conf):
    # Files of the plain shape must take the fast path; the others may, and must then agree.
    assert agree(conf.text) or conf.shapes, conf.text


@settings(max_examples=100)
@given(st.one_of(damaged_conf_files().map(lambda c: c.text), mutated_texts()))
def test_damaged_and_mutated_files_agree_or_fall_back(text):
    agree(text)


@pytest.mark.parametrize(
    "text",
    [
        'a.b: 1',  # a path
        'a: """x"""',
        "a: ${b}",
        "a += 1",
        'include "x.conf"',
        "[1, 2]",
        'entries: [\n  {description: "a", priority 1}\n]',  # an error
        'entries: [{description: "a"}',  # unclosed
    ],
)
def test_anything_else_goes_to_lark(text):
    assert fast_parse(SourceFile("t.conf", text), []) is None


def test_plain_shapes_take_the_fast_path():
    for text in (
        "",
        "# only a comment\n",
        'entries: [\n  {description: "a:b=1", priority: 1, groups: ["x", "y"]}\n  {description: "c"}\n]\n',
        '{\n  "entries" = [\n    {description = "a", priority = 2},\n  ],\n}\n',
        "entries: [{description: a, priority: -1}, {description: b, priority: null}]",
        'entries {\n}\nx: [true, FALSE, 1.5, "q\\"d"]',
    ):
        assert agree(text), text


@settings(max_examples=500)
@given(st.text(max_size=12) | st.sampled_from(["nan", "-Inf", " infinity ", "1e5", "\u0661\u0662", "1_000", "+nan", "--inf"])
       # the characters int() and float() take, and a few they do not, in any order
       | st.text("0123456789+-._eEnNaAiIfFtTyY \t\n\r\x0b\x0c\x1c\x1f\u0661\u00a0xo/", max_size=12))
def test_coerce_is_int_then_float_then_str(value):
    from helmc.compiler.syntax.run_entry import coerce

    try:
        expected = int(value)
    except ValueError:
        try:
            expected = float(value)
        except ValueError:
            expected = value
    got = coerce(value)
    assert type(got) is type(expected) and repr(got) == repr(expected)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2",  # a later value wins, HC0109
        "a {x: 1}\na {y: 2}",  # objects merge
        "a: {x: 1, z: {p: 1}}\na: {z: {q: 2}, x: 3}",  # deep merge, a scalar replaced
        "a: 1\na: {b: 2}",
        "a: {b: 2}\na: 1",
        "x {a: 1, a: {c: 1}, a: {d: 2}}\nx {a: {c: 3}}",  # repeats inside, then merged again
        '"k": {status: "READY"}\n"k": {priority: 2}\nk: {groups: []}',  # quoted and unquoted: one key
        'entries: [{description: "a", priority: 1, priority: 2}]',
    ],
)
def test_repeated_keys_merge_on_the_fast_path(text):
    assert agree(text)


_KEYS = st.sampled_from(["a", "b", '"a"', "c"])
_LEAVES = st.sampled_from(["1", '"s"', "true", "[1, 2]", "{}", "null"])
_OBJECTS = st.recursive(
    _LEAVES,
    lambda inner: st.lists(st.tuples(_KEYS, st.sampled_from([": ", " = ", " "]), inner), max_size=4).map(
        lambda fs: "{" + ", ".join(k + (": " if sep == " " and not v.startswith("{") else sep) + v for k, sep, v in fs) + "}"
    ),
    max_leaves=10,
)


@settings(max_examples=200)
@given(st.lists(st.tuples(_KEYS, _OBJECTS), max_size=5))
def test_objects_with_repeated_keys_agree(fields):
    text = "\n".join(f"{k}: {v}" for k, v in fields)
    assert agree(text), text


@pytest.mark.parametrize(
    "text",
    [
        'entries: [{description: "a"} {description: "b"}]',  # objects side by side merge, HC0108
        'entries: [{description: "a", priority: 1} {priority: 2}]',  # a key of the first lost
        'a: "x" "y"',
        "a: x y:z",  # pyhocon's colon inside an unquoted string
        'entries: [\n  LiveQA: consumer health questions. QA long answer\n  {description: "a"}\n]',
        'entries: [{description: "a" priority: 1}]',  # a missing comma, HC0009
        "a: [1] [2, 3]",  # lists side by side join
        'a: {b: 1} "s"',  # a mix, HC0006
        "a: b \\n c",  # an escape in an unquoted piece
        "a: x\ufeff y",  # a space pyhocon keeps
    ],
)
def test_concatenations_take_the_fast_path_and_agree(text):
    assert agree(text), text


# Pieces of a value on one line, as conf.lark's `_piece` has them (those the fast reader reads).
_PIECES = st.sampled_from(['"s"', '"t\\"q"', "u", "1", "true", ":", "x:y", "{}", "{a: 1}", "{a: 2, b: [1]}",
                           "[]", "[1, 2]", "[{a: 1}]"])


@settings(max_examples=300)
@given(st.lists(st.tuples(_KEYS, st.lists(st.tuples(_PIECES, st.sampled_from([" ", "", "\t", "  "])), min_size=1, max_size=5)),
                min_size=1, max_size=4),
       st.booleans())
def test_generated_concatenations_agree(fields, in_a_list):
    """Any run of pieces on one line, as a field's value or as a list's item, reads as the Lark
    path reads it (values and diagnostics), or goes to Lark (a run that is not a value, e.g.
    a lone `:` first)."""
    values = ["".join(p + sep for p, sep in pieces).rstrip() for _, pieces in fields]
    if in_a_list:
        text = "entries: [\n" + "\n".join("  " + v for v in values) + "\n]"
    else:
        text = "\n".join(f"{k}: {v}" for (k, _), v in zip(fields, values))
    took = agree(text)
    assert took or any(v.startswith(":") for v in values), text


def test_the_scanner_tiles_or_the_fast_reader_is_off():
    """fast_read looks for no gap between matches: it scans only with a regex whose STRAY and NL
    terminals take every character, and reads nothing with any other."""
    from helmc.compiler.syntax.conf import fast_reader
    from helmc.compiler.syntax.conf.lark_reader import basic_lexer
    from helmc.compiler.syntax.conf.lexer_table import PATTERN

    lark_pattern = basic_lexer().scanner._mres[0].pattern
    assert fast_reader._tiles(PATTERN) and fast_reader._tiles(lark_pattern)
    assert not fast_reader._tiles(PATTERN.replace("(?P<STRAY>.)", "(?P<STRAY>[a-z])"))
    assert not fast_reader._tiles(PATTERN.replace("|(?P<STRAY>.)", ""))


# Fields at the edge of the reader's one-loop path for objects of one-token fields (strings
# without escapes, ASCII-digit numbers, lists of such strings): values just inside and just
# outside it, keys it takes or leaves to _fields, and the separators around them.
_PLAIN_KEYS = ["description", "priority", "groups", "x"]
_ODD_KEYS = ['"description"', "a.b", "include", "k-1"]
_PLAIN_VALUES = ['"s"', '"mmlu:subject=anatomy"', '""', "1", "01", "0", "[]", '["a"]', '["a", "b"]', '["a",]',
                 '[\n"a"\n"b"\n]']
_ODD_VALUES = ['"t\\"q"', '"\\u00e9"', "+1", "-1", "1.5", "1e3", "\u0661", "\u00b2", "true", "null", "x",
               '["a" "b"]', '["a\\n"]', '["a" x]', '["a":]', "[1]", '[["a"]]', "{}", "{p: 1}", '"a" "b"', '"a" x',
               '"a" x: 1', "1 2", "1:", "[] []", '["a"] {}', '"s":']
_PLAIN_FIELD_SEPARATORS = [", ", "\n", ",\n"]
_ODD_FIELD_SEPARATORS = [",", " ,\n\n", ",,", " "]
_PLAIN_KEY_SEPARATORS = [": ", ":"]
_ODD_KEY_SEPARATORS = [" = ", "=", " : ", "\n: ", ":\n"]


def _mostly(plain: list[str], odd: list[str]):
    """Plain three times in four: an odd part then sits among fields the fast path takes."""
    return st.one_of(st.sampled_from(plain), st.sampled_from(plain), st.sampled_from(plain), st.sampled_from(odd))


def _object_text(fields, inside: str, in_a_list: bool) -> str:
    body = "".join(k + sep + v + (after if n < len(fields) - 1 else "") for n, (k, sep, v, after) in enumerate(fields))
    obj = "{" + inside + body + inside.rstrip(", ") + "}"
    return f"entries: [\n  {obj}\n  {obj}\n]" if in_a_list else f"x: {obj}\ny: {obj}"


@settings(max_examples=500)
@given(st.lists(st.tuples(_mostly(_PLAIN_KEYS, _ODD_KEYS), _mostly(_PLAIN_KEY_SEPARATORS, _ODD_KEY_SEPARATORS),
                          _mostly(_PLAIN_VALUES, _ODD_VALUES), _mostly(_PLAIN_FIELD_SEPARATORS, _ODD_FIELD_SEPARATORS)),
                max_size=4),
       st.sampled_from(["", " ", "\n", ", "]), st.booleans())
def test_objects_of_one_token_fields_agree(fields, inside, in_a_list):
    """An object of any such fields reads as the Lark path reads it (values, spans and
    diagnostics), whether the one-loop path takes it or leaves it to _fields."""
    text = _object_text(fields, inside, in_a_list)
    took = agree(text)
    # Plain fields must take the fast path (whether the one-loop path or _fields reads them).
    plain = all(k in _PLAIN_KEYS and sep in _PLAIN_KEY_SEPARATORS and v in _PLAIN_VALUES and after in _PLAIN_FIELD_SEPARATORS
                for k, sep, v, after in fields)
    assert took or not plain, text


@pytest.mark.parametrize("at", [0, 1, 2])
@pytest.mark.parametrize(
    "part, odd",
    [(0, k) for k in _ODD_KEYS] + [(1, s) for s in _ODD_KEY_SEPARATORS] + [(2, v) for v in _ODD_VALUES]
    + [(3, s) for s in _ODD_FIELD_SEPARATORS],
)
def test_each_odd_part_among_plain_fields_agrees(part, odd, at):
    """Every odd key, separator and value, first, in the middle or last of an entry whose
    other fields the one-loop path takes."""
    fields = [["description", ": ", '"s"', ", "], ["priority", ": ", "1", ", "], ["groups", ": ", '["g"]', ", "]]
    fields[at][part] = odd
    for in_a_list in (True, False):
        agree(_object_text(fields, "", in_a_list))


def test_objects_of_one_token_fields_take_the_fast_path():
    for text in (
        'entries: [{description: "a:b=1", priority: 1, groups: ["g", "h"]}, {description: "c", priority: 02}]',
        'entries: [\n  {\n    description: "a"\n    groups: [\n      "g",\n    ],\n  }\n]',
        'entries: [{description: "a", priority: 1, description: "b"}]',  # repeated: merged by _fields
        'entries: [{description: "a", priority: \u0661}, {groups: ["g" "h"]}]',  # left to the general path
    ):
        assert agree(text), text


def same_entries(text: str) -> None:
    """read_entries (load_entries' way: plain entries without their HOCON tree) gives exactly
    what entries_of(parse_conf(...)) gives: the entries, and the diagnostics in order."""
    from helmc.compiler.syntax.conf import entries_of, parse_conf, read_entries

    source = SourceFile("t.conf", text)
    fused: list = []
    tree: list = []
    got = read_entries(source, fused)
    assert got == entries_of(parse_conf(source, tree), source, tree)
    assert fused == tree


@needs_corpus
def test_corpus_entries_are_the_trees():
    for f in sorted(CORPUS.glob("*.conf")):
        same_entries(f.read_text(encoding="utf-8"))


@settings(max_examples=300)
@given(st.one_of(conf_files().map(lambda c: c.text), damaged_conf_files().map(lambda c: c.text), mutated_texts()))
def test_generated_entries_are_the_trees(text):
    same_entries(text)


@settings(max_examples=300)
@given(st.lists(st.tuples(_mostly(_PLAIN_KEYS, _ODD_KEYS), _mostly(_PLAIN_KEY_SEPARATORS, _ODD_KEY_SEPARATORS),
                          _mostly(_PLAIN_VALUES, _ODD_VALUES), _mostly(_PLAIN_FIELD_SEPARATORS, _ODD_FIELD_SEPARATORS)),
                max_size=4),
       st.sampled_from(["", " ", "\n", ", "]))
def test_entries_of_one_token_fields_are_the_trees(fields, inside):
    same_entries(_object_text(fields, inside, True))


@pytest.mark.parametrize("at", [0, 1, 2])
@pytest.mark.parametrize(
    "part, odd",
    [(0, k) for k in _ODD_KEYS + ["priority", "description"]] + [(1, s) for s in _ODD_KEY_SEPARATORS]
    + [(2, v) for v in _ODD_VALUES] + [(3, s) for s in _ODD_FIELD_SEPARATORS],
)
def test_each_odd_part_of_an_entry_gives_the_trees_entries(part, odd, at):
    """Every odd key (a repeated one too), separator and value, at each place of an entry
    that would otherwise be plain, beside a plain entry."""
    fields = [["description", ": ", '"a:b=1"', ", "], ["priority", ": ", "1", ", "], ["groups", ": ", '["g"]', ", "]]
    fields[at][part] = odd
    same_entries(_object_text(fields, "", True))


@pytest.mark.parametrize(
    "text",
    [
        'entries: [{description: "a", priority: 1}]',
        '{\n  entries: [{description: "a", priority: 1}]\n}\n',
        'entries = [{description: "a"}]',
        'entries\n: [{description: "a"}]',
        '"entries": [{description: "a"}]',
        'entries: [{description: "a"}]\nentries: [{description: "b"}]',  # repeated: the later wins
        'entries: [{description: "a"}] [{description: "b"}]',  # two lists, one value
        'entries: [{description: "a", description: "b"}, {description: "c", priority: 1, priority: 2}]',  # HC0109
        'entries: [{description: "a", groups: ["x"], groups: ["y"]}]',
        'entries: [{description: "a"} {priority: 2}]\nx: 1',  # read twice: reported once
        'entries: [{description: "a"}]\nx: 1',  # an unknown key at the top
        'x: 1\nentries: [{description: "a"}]',
        '{entries: [{description: "a"}]} {entries: []}',
        '{entries: [{description: "a"}]}\nx: 1',
        'entries: [{description: "a"} {priority: 2}]',  # side by side: HC0108
        'entries: [{priority: 1}, {description: "a"}]',  # no description: HC0104
        'entries: [{description: "a", prioirty: 1}, {description: "b"}]',  # unknown key: HC0106
        'entries: [{description: "a", priority: "1"}]',  # HC0105
        'entries: [{description: " a:b=1"}, {description: "a:b= 1"}, {description: "a:"}]',  # HC0205, HC0202
        'entries: [{description: "a", groups: []}, {description: "b", groups: ["x",]}, {description: "c", groups: [1]}]',
        'entries: [{description: "a", priority: 1}, "x", [1], {}, {description: "b"}]',
        'entries: []',
        'entries: [\n]\n',
        "entries: {}",
        "",
    ],
)
def test_entries_files_of_every_shape_give_the_trees_entries(text):
    same_entries(text)
