"""Property tests: generated conf files and run entries, valid and damaged.

- nothing raises, ever (parse, schema, and helm-check's and helmc parse's CLI in-process);
- a damaged input gets an error whose span (and every other span) lies inside the file;
- on a valid generated file, helmc's entries are HELM's (pyhocon + dacite), in order.

The default profile keeps this quick; `HYPOTHESIS_PROFILE=fuzz pytest -m slow
tests/compiler/syntax/test_frontend_properties.py` is the long run (docs/fuzzing.md).
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helm_reading import errors, helm_entries, helm_read_errors, helmc_read
from strategies import conf_files, damaged_conf_files, damaged_descriptions, descriptions, mutated_texts

from helmc.compiler.diagnostics import Diagnostic
from helmc.compiler.ir import HString
from helmc.compiler.syntax.run_entry import parse_description
from helmc.compiler.source import SourceFile

pyhocon = pytest.importorskip("pyhocon")


def _spans_inside(text: str, diagnostics: list[Diagnostic]) -> None:
    n = len(text)
    for d in diagnostics:
        spans = [d.primary.span, *(lab.span for lab in d.secondary), *(f.span for f in d.fixes)]
        for s in spans:
            if s.source.text is text or s.source.text == text:
                assert 0 <= s.start <= s.end <= n, (d.code, d.message, s.start, s.end, n)
        line, col = d.span.start_line_col
        end_line, end_col = d.span.end_line_col
        assert (line, col) <= (end_line, end_col)


def _cli(main, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ run entries


@given(descriptions())
def test_valid_description_has_no_error(text: str) -> None:
    src = SourceFile("<run-entries>", text)
    diags: list[Diagnostic] = []
    desc = parse_description(HString(text, src.span(0, len(text)), False), diags)
    assert not errors(diags), [d.message for d in diags]
    # HELM's parse_object_spec: split at the first ":", then "," and the first "=".
    if ":" in text:
        name, rest = text.split(":", 1)
        pairs = [a.split("=", 1) for a in rest.split(",")]
    else:
        name, pairs = text, []
    assert desc.name.value == name
    assert [(a.key.value, a.raw.value) for a in desc.args] == [(k, v) for k, v in pairs]


@given(damaged_descriptions())
def test_damaged_description_has_error_inside(case: tuple[str, str]) -> None:
    text, kind = case
    src = SourceFile("<run-entries>", text)
    diags: list[Diagnostic] = []
    parse_description(HString(text, src.span(0, len(text)), False), diags)
    assert errors(diags), kind
    _spans_inside(text, diags)


@given(st.text(max_size=80))
def test_any_description_never_raises(text: str) -> None:
    src = SourceFile("<run-entries>", text)
    diags: list[Diagnostic] = []
    parse_description(HString(text, src.span(0, len(text)), False), diags)
    _spans_inside(text, diags)


# ------------------------------------------------------------------ conf files


@given(conf_files())
def test_valid_conf_agrees_with_pyhocon(conf) -> None:
    helm = helm_entries(conf.text)
    assert helm == conf.expected(), "the generator itself is wrong"
    mine, diags = helmc_read(conf.text)
    assert not errors(diags), [(d.code, d.message) for d in diags]
    assert mine == helm
    _spans_inside(conf.text, diags)


@given(damaged_conf_files())
def test_damaged_conf_gets_error_inside_file(conf) -> None:
    _, diags = helmc_read(conf.text)
    assert errors(diags), (conf.damage, conf.notes, conf.text)
    _spans_inside(conf.text, diags)
    # HELM fails on these too (or, for run entry damage, later in parse_object_spec).
    if conf.damage != "description_damage":
        with pytest.raises(helm_read_errors()):
            helm_entries(conf.text)


@given(mutated_texts())
def test_mutated_conf_never_raises(text: str) -> None:
    mine, diags = helmc_read(text)
    _spans_inside(text, diags)
    # Where HELM cannot read the file, helmc must say so with an error.
    try:
        helm = helm_entries(text)
    except helm_read_errors():
        helm = None
    if helm is None:
        return
    if not errors(diags):
        assert mine == helm or _documented_difference(text), (text, mine, helm)


def _documented_difference(text: str) -> bool:
    """Random edits can land on the differences docs/fuzzing.md lists; those are not bugs."""
    return any(s in text for s in ('"""', "\t", "true", "false", "null", "+=", "${", "include", "\ufeff"))


@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    _, diags = helmc_read(text)
    _spans_inside(text, diags)


# ------------------------------------------------------------------ the command line, in-process


@settings(max_examples=25)
@given(st.one_of(conf_files(), damaged_conf_files(), mutated_texts()))
def test_cli_never_fails_internally(tmp_path_factory, conf) -> None:
    from helmc.cli import helm_check_main, main

    text = conf if isinstance(conf, str) else conf.text
    path = Path(tmp_path_factory.mktemp("gen")) / "gen.conf"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    for fmt in ("json", "text"):
        code, out, err = _cli(helm_check_main, [str(path), "--no-catalog", "--format", fmt])
        assert code in (0, 1), err
        assert "internal error" not in err and "Traceback" not in err
    code, out, err = _cli(main, ["parse", str(path), "--format", "json"])
    assert code in (0, 1), err
    doc = json.loads(out)
    assert [f["path"] for f in doc["files"]] == [str(path)]


@pytest.mark.slow
@given(st.one_of(conf_files(max_entries=20), damaged_conf_files(), mutated_texts()))
def test_long_fuzz_no_exception(conf) -> None:
    text = conf if isinstance(conf, str) else conf.text
    _, diags = helmc_read(text)
    _spans_inside(text, diags)


# ------------------------------------------------------------------ the run-entry fast path


def _desc_facts(desc, diags) -> tuple:
    return (
        desc.ok,
        (desc.name.value, desc.name.span.start, desc.name.span.end),
        [(a.key.value, a.raw.value, a.value, a.span.start, a.span.end, a.raw.span.start, a.raw.span.end) for a in desc.args],
        [(d.code, d.message, d.span.start, d.span.end) for d in diags],
    )


@given(st.one_of(st.text(":,= ab\n", max_size=30), descriptions(), damaged_descriptions().map(lambda c: c[0])))
def test_simple_description_path_is_the_grammar(text: str) -> None:
    """parse_description's regex fast path reads exactly what run_entry.lark reads."""
    from helmc.compiler.syntax.run_entry import parse_description_lark

    src = SourceFile("<run-entries>", text)
    lit = HString(text, src.span(0, len(text)), False)
    d1: list[Diagnostic] = []
    d2: list[Diagnostic] = []
    assert _desc_facts(parse_description(lit, d1), d1) == _desc_facts(parse_description_lark(lit, d2), d2)


# Every kind of whitespace str.isspace knows (ASCII's, U+001C-U+001F, U+0085, U+00A0, U+2028,
# U+3000), beside the separators: the fast path's whitespace-free shortcut and its reuse of
# argument shapes across descriptions (a memo that lives across these examples) must agree with
# the grammar, HC0205 included.
@settings(max_examples=400)
@given(st.text(":,=ab1 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000", max_size=30))
def test_simple_description_path_is_the_grammar_with_any_whitespace(text: str) -> None:
    from helmc.compiler.syntax.run_entry import parse_description_lark

    src = SourceFile("<run-entries>", text)
    lit = HString(text, src.span(0, len(text)), False)
    d1: list[Diagnostic] = []
    d2: list[Diagnostic] = []
    assert _desc_facts(parse_description(lit, d1), d1) == _desc_facts(parse_description_lark(lit, d2), d2)


# ------------------------------------------------------------------ pyhocon's quirks, pinned


@pytest.mark.parametrize(
    "value",
    [
        '"""q""" z',  # pyhocon drops the whitespace after a triple-quoted string ...
        'x """q""" y """r"""  s',
        '"x"  """q"""   "y"',  # ... and keeps it before one
        '"""mmlu:"""  "subject=a"',
        '"a" "b"',
        "a  b",
    ],
)
def test_concatenation_as_pyhocon_reads_it(value: str) -> None:
    text = f"entries: [{{description: {value}}}]\n"
    mine, diags = helmc_read(text)
    assert not errors(diags)
    assert mine == helm_entries(text)
