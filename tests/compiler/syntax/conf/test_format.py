"""`helmc fmt`: meaning kept (pyhocon and `helmc parse` read the same before and after), every
comment kept in order, idempotent; files with errors left byte for byte; --check, --diff,
--stdin and [tool.helmc.format]."""

from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, needs_corpus
from helpers import run_cli
from strategies import conf_files, damaged_conf_files, mutated_texts

from helmc.compiler.syntax.conf.format import format_text
from helmc.compiler.syntax.conf.lossless import tokens

pyhocon = pytest.importorskip("pyhocon")


def _pyhocon(text: str):
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # what HELM's open() gives pyhocon
    return json.dumps(pyhocon.ConfigFactory.parse_string(text).as_plain_ordered_dict())


def _entries(text: str):
    from helm_reading import helmc_read

    return helmc_read(text)[0]


def _comments(text: str) -> list[str]:
    return [t.value.rstrip() for t in tokens(text) if t.type == "COMMENT"]


def same_meaning(before: str, after: str) -> None:
    assert _pyhocon(after) == _pyhocon(before)
    assert _entries(after) == _entries(before)
    assert _comments(after) == _comments(before)
    assert format_text(after) == after  # idempotent


@needs_corpus
def test_corpus_keeps_meaning_and_comments_and_is_idempotent():
    files = sorted(CORPUS.glob("*.conf"))
    assert files
    changed = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        out = format_text(text)
        assert out is not None, f.name
        same_meaning(text, out)
        changed += out != text
    assert changed  # the corpus is not all in one layout: the test exercises real changes


@needs_corpus
def test_helm_canonical_file_is_unchanged():
    """The layout is HELM's own: a file HELM wrote that way comes back as it was."""
    text = (CORPUS / "run_entries_lite.conf").read_text(encoding="utf-8")
    assert format_text(text) == text


@settings(max_examples=40)
@given(conf_files())
def test_generated_files_keep_meaning(conf):
    out = format_text(conf.text)
    assert out is not None
    same_meaning(conf.text, out)


# ------------------------------------------------------------------ comments everywhere

_WORDS = st.sampled_from(["a", "b1", "model", "x_y", "k-z", "description", "priority", "groups"])
_COMMENT = st.tuples(st.sampled_from(["#", "//", "# ", "// "]), st.text("abc xyz:=,{}[]\"'#", max_size=12)).map("".join)
_SCALARS = st.one_of(
    st.text("abcdefgh xyz:=,/.-{}[]#", max_size=10).map(lambda s: json.dumps(s)),
    st.sampled_from(["word", "openai/gpt2", "x.y", "a-b", "true", "false", "null", "1", "-2", "3.5", "007", "10s", "5m", "-"]),
)


@st.composite
def _ws(draw) -> str:
    return draw(st.sampled_from(["", " ", "  ", "\t"]))


@st.composite
def _value(draw, depth: int, ind: str) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "object", "array"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return draw(_SCALARS)
    if kind == "object":
        items = [f"{k}{draw(st.sampled_from([': ', ':', ' = ', ' ']))}{v}" if v.startswith("{") else f"{k}{draw(st.sampled_from([': ', ':', ' = ']))}{v}"
                 for k, v in ((draw(_key_text(k)), draw(_value(depth + 1, ind + "  "))) for k in draw(st.lists(_WORDS, unique=True, max_size=4)))]
        return draw(_container("{", "}", items, ind))
    items = [draw(_value(depth + 1, ind + "  ")) for _ in range(draw(st.integers(0, 4)))]
    return draw(_container("[", "]", items, ind))


@st.composite
def _key_text(draw, k: str) -> str:
    return json.dumps(k) if draw(st.booleans()) else k


@st.composite
def _container(draw, open_: str, close: str, items: list[str], ind: str) -> str:
    """Items on one line, or on lines of their own with comments wherever HOCON allows."""
    if not draw(st.booleans()) and items:
        return open_ + ", ".join(items) + close
    inner = ind + "  "
    out = open_
    if draw(st.booleans()):
        out += draw(_ws()) + " " + draw(_COMMENT)  # after the opener, on its line
    out += "\n"
    for item in items:
        for _ in range(draw(st.integers(0, 2))):  # comments on lines of their own
            out += inner + draw(_COMMENT) + "\n" + ("\n" if draw(st.booleans()) else "")
        out += inner + item + draw(st.sampled_from(["", ",", " ,"]))
        if draw(st.booleans()):
            out += " " + draw(_COMMENT)  # after the item, on its line
        out += "\n" + ("\n" if draw(st.integers(0, 4)) == 0 else "")
    if draw(st.booleans()):
        out += inner + draw(_COMMENT) + "\n"  # before the closer
    return out + ind + close


@st.composite
def commented_files(draw) -> str:
    fields = draw(st.lists(_WORDS, unique=True, min_size=0, max_size=4))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(draw(_COMMENT))  # the file's first line
    for k in fields:
        if draw(st.booleans()):
            lines.append(draw(_COMMENT))
        if draw(st.integers(0, 3)) == 0:
            lines.append("")
        line = f"{draw(_key_text(k))}: {draw(_value(0, ''))}"
        if draw(st.booleans()):
            line += " " + draw(_COMMENT)
        lines.append(line)
    if draw(st.booleans()):
        lines.append(draw(_COMMENT))  # the last line
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
    return text.replace("\n", "\r\n") if draw(st.integers(0, 5)) == 0 else text


@settings(max_examples=80)
@given(commented_files())
def test_comments_everywhere_stay_and_meaning_holds(text):
    try:
        _pyhocon(text)
    except Exception:  # the generator stays inside what pyhocon reads; a slip is not a case
        return
    out = format_text(text)
    assert out is not None, text
    assert _pyhocon(out) == _pyhocon(text)
    assert _comments(out) == _comments(text)
    assert format_text(out) == out


def test_canonical_layout():
    before = (
        '# models\n\n\n"entries" = [\n    {description = "a:model=x",\n'
        '     priority=1},  # first\n\n\n\n    # second\n    {"description": b, groups: [ "g" ,"h" ] },\n\n]\n\n'
    )
    after = (
        '# models\n\nentries: [\n  {description: "a:model=x", priority: 1}  # first\n\n'
        '  # second\n  {description: "b", groups: ["g", "h"]}\n]\n'
    )
    assert format_text(before) == after
    assert format_text(after) == after


def test_values_that_must_stay_as_written():
    # Concatenation keeps its spaces; numbers, booleans and null stay unquoted; `a.b` stays a path.
    text = 'a: "x"  y\nb: 1\nc: true\nd: null\n"e.f": 2\ng.h: 3\ni: 10s\nj: 2:3\n'
    assert format_text(text) == text  # `10s` is a duration to pyhocon, not a string


def test_indent_width():
    assert format_text('entries: [\n{description: "a"}\n]\n', indent=4) == 'entries: [\n    {description: "a"}\n]\n'


# ------------------------------------------------------------------ the command


def test_a_file_with_errors_is_left_byte_for_byte(tmp_path):
    bad = tmp_path / "bad.conf"
    text = 'entries: [\n    {description: "a", priority: 1\n  {description: "b"}\n]\n'
    bad.write_bytes(text.encode())
    code, out, err = run_cli(["fmt", str(bad)], tmp_path)
    assert code == 1
    assert bad.read_bytes() == text.encode()
    assert "error[HC0001]" in err and "bad.conf:2" in err


@settings(max_examples=20)
@given(damaged_conf_files())
def test_damaged_files_are_refused(conf):
    out = format_text(conf.text)
    if out is not None:  # damage that is still valid HOCON (a wrong type is the schema's)
        same_meaning(conf.text, out)


def test_check_diff_and_write(tmp_path):
    f = tmp_path / "a.conf"
    f.write_text('entries: [ {description: "a", priority=1} ]\n')
    code, out, _ = run_cli(["fmt", "--check", str(f)], tmp_path)
    assert code == 1 and "would reformat" in out
    code, out, _ = run_cli(["fmt", "--diff", str(f)], tmp_path)
    assert code == 1 and '+  {description: "a", priority: 1}' in out
    assert f.read_text() == 'entries: [ {description: "a", priority=1} ]\n'  # untouched so far
    code, out, _ = run_cli(["fmt", str(tmp_path)], tmp_path)
    assert code == 0 and "1 file reformatted" in out
    assert f.read_text() == 'entries: [\n  {description: "a", priority: 1}\n]\n'
    code, out, _ = run_cli(["fmt", "--check", str(f)], tmp_path)
    assert code == 0


def test_crlf_is_kept(tmp_path):
    f = tmp_path / "a.conf"
    f.write_bytes(b'entries: [\r\n    {description: "a"}\r\n]\r\n')
    assert run_cli(["fmt", str(f)], tmp_path)[0] == 0
    assert f.read_bytes() == b'entries: [\r\n  {description: "a"}\r\n]\r\n'


def test_stdin(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a=1\n"))
    code, out, _ = run_cli(["fmt", "--stdin"], tmp_path)
    assert (code, out) == (0, "a: 1\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a: [\n"))
    code, out, err = run_cli(["fmt", "--stdin"], tmp_path)
    assert (code, out) == (1, "a: [\n") and "HC0001" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a=1\n"))
    assert run_cli(["fmt", "--stdin", "--check"], tmp_path)[:2] == (1, "")


def test_usage(tmp_path):
    assert run_cli(["fmt"], tmp_path)[0] == 2
    assert run_cli(["fmt", "--stdin", "x.conf"], tmp_path)[0] == 2


def test_settings_indent_width(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.helmc.format]\nindent-width = 4\n")
    f = tmp_path / "a.conf"
    f.write_text('entries: [\n  {description: "a"}\n]\n')
    assert run_cli(["fmt", str(f)], tmp_path)[0] == 0
    assert f.read_text() == 'entries: [\n    {description: "a"}\n]\n'
    (tmp_path / "pyproject.toml").write_text("[tool.helmc.format]\nindent-width = 0\n")
    code, _, err = run_cli(["fmt", str(f)], tmp_path)
    assert code == 2 and "indent-width" in err


# An unformatted file that --fix also edits (a key one typo from `priority`): both writers see it.
_MESSY = 'entries: [\n{description: "simple1:model=simple/model1",   prioirty: 1}\n]\n'


@pytest.mark.parametrize("argv", [["fmt", "x.conf"], ["check", "--fix", "--isolated", "x.conf"]],
                         ids=["fmt", "check --fix"])
@pytest.mark.parametrize("failing_at", [0, 1, 7])
def test_a_write_cut_short_leaves_the_users_file_whole(tmp_path, monkeypatch, argv, failing_at):
    """`helmc fmt` writes through the same atomic writer as `--fix`: a write cut short at any
    point (a full disk, a kill) leaves the file as it was, and no temporary file beside it."""
    import os as _os

    path = tmp_path / "x.conf"
    path.write_text(_MESSY, encoding="utf-8")
    real_fdopen = _os.fdopen

    class _Cut:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[:failing_at])
            raise OSError(28, "No space left on device", str(path))

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr("helmc.compiler.files.atomic_write.os.fdopen", lambda *a, **k: _Cut(real_fdopen(*a, **k)))
    status, out, err = run_cli(argv, tmp_path)
    assert path.read_text(encoding="utf-8") == _MESSY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.conf"]
    assert "Traceback" not in out + err
    assert any("x.conf" in line and "No space left on device" in line for line in err.splitlines())
    if argv[0] == "fmt":
        assert status == 2  # the outside world failed: one line, exit 2


def test_fmt_keeps_a_symlink_and_the_file_mode(tmp_path):
    real = tmp_path / "real.conf"
    real.write_text(_MESSY, encoding="utf-8")
    real.chmod(0o640)
    (tmp_path / "link.conf").symlink_to(real)
    status, _, _ = run_cli(["fmt", "link.conf"], tmp_path)
    assert status == 0 and (tmp_path / "link.conf").is_symlink()
    assert real.read_text(encoding="utf-8") != _MESSY and (real.stat().st_mode & 0o777) == 0o640


# ------------------------------------------------------------------ the fast path beside the lossless one


def _both(text: str, indent: int = 2) -> bool:
    """Whether the fast path took the text; asserts it prints what the lossless tree prints
    and reports the same diagnostics when it did."""
    from helmc.compiler.syntax.conf.format import _fast_format, _Printer
    from helmc.compiler.syntax.conf.lossless import read_lossless
    from helmc.compiler.source import SourceFile

    source = SourceFile("t.conf", text)
    fast = _fast_format(source, " " * indent)
    if fast is None:
        return False
    read = read_lossless(source)
    assert read.tree is not None and not read.has_errors
    assert fast[0] == _Printer(" " * indent).document(read.tree)
    assert sorted(fast[2], key=repr) == sorted(read.diagnostics, key=repr)
    assert fast[1] == read.value
    return True


@needs_corpus
def test_fast_path_prints_the_corpus_as_the_lossless_tree_does():
    files = sorted(CORPUS.glob("*.conf"))
    assert all(_both(f.read_text(encoding="utf-8")) for f in files)


@settings(max_examples=150)
@given(commented_files(), st.sampled_from([1, 2, 4]))
def test_fast_path_prints_commented_files_as_the_lossless_tree_does(text, indent):
    assert _both(text, indent), text  # comments between items never send a file to the lossless path


# Nested values on one line, empty ones among them: which containers break is decided here.
_NESTED = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(_WORDS, inner, max_size=3).map(lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=8,
)


@settings(max_examples=150)
@given(st.dictionaries(_WORDS, _NESTED, max_size=4), st.sampled_from(["\n", ", "]))
def test_fast_path_prints_nested_values_as_the_lossless_tree_does(fields, sep):
    assert _both(sep.join(f"{k}: {v}" for k, v in fields.items()))


@settings(max_examples=100)
@given(st.one_of(conf_files().map(lambda c: c.text), damaged_conf_files().map(lambda c: c.text), mutated_texts()))
def test_fast_path_agrees_or_falls_back(text):
    _both(text)


@pytest.mark.parametrize(
    "text",
    [
        "a\n: 1 # the key alone on its line\n",
        "{ # a root in braces\n  a: 1\n}\n",
        "a: {} # empty\nb: [ # only a comment\n]\nc: {\n}\n",
        "x: [[1, [2]], {a: {b: 1}}, {}]\ny: {a: [1, {b: 2}]}\n",
        '"a b": 1\n"include": 2\n"plain": 3\n',
        "# only a comment",
        "",
        "\n\n# a\n\n\n# b\n\na: 1\n\n\n",
    ],
)
def test_fast_path_edges(text):
    for indent in (1, 2, 4):
        assert _both(text, indent)
    out = format_text(text)
    assert out is not None and format_text(out) == out


@pytest.mark.parametrize("text", ["a: # between the key and its value\n  1\n", "a # before the brace\n{b: 1}\n"])
def test_a_comment_inside_a_field_goes_to_the_lossless_path(text):
    """_Printer writes such a field as it is written; the fast path leaves it to it."""
    assert not _both(text)
    assert format_text(text) == text
