"""Names, paths and commands never wrap: what helmc lists can be pasted back into a command
line (`--only-runs NAME`), from a pipe, a log or a terminal of any width."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from helpers import run_cli
from helmc.compiler.emit.table import Column, console_for, plain_lines, print_table
from helmc.runtime.progress import Outcome, print_summary

LONG = "mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2,max_train_instances=5,groups=x"
names = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=160)


def _tokens(text: str) -> set[str]:
    return set(text.split())


def _terminal(width: int) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=width, color_system=None), buf


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(names, names), min_size=1, max_size=6), width=st.integers(20, 200))
def test_every_cell_stays_whole_on_a_terminal_of_any_width(rows, width):
    console, buf = _terminal(width)
    print_table(console, "t", [Column("a"), Column("b")], [list(r) for r in rows])
    out = buf.getvalue()
    for a, b in rows:
        assert a in out and b in out


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(names, names, st.text(max_size=200)), min_size=1, max_size=6))
def test_plain_lines_keep_each_name_on_its_row(rows):
    lines = plain_lines("t", [Column("a"), Column("b"), Column("prose", wrap=True)], [list(r) for r in rows])
    assert len(lines) >= 2 + len(rows)
    body = [ln for ln in lines[2:] if ln.split()]
    for a, b, _ in rows:
        assert any(ln.split()[:2] == [a, b] for ln in body)


def test_a_pipe_gets_plain_lines_and_no_wrapping():
    buf = io.StringIO()
    console = console_for(buf)
    assert not console.is_terminal
    print_summary(console, [Outcome(LONG, "interrupted"), Outcome(LONG + "2", "failed", 1.0, "boom", "/x/log.txt")])
    out = buf.getvalue()
    assert LONG in _tokens(out) and LONG + "2" in _tokens(out)
    assert not re.search("[┃│┏━]", out)
    console.print("x" * 300)
    assert "x" * 300 in buf.getvalue()  # plain prints are not wrapped at 80 columns either


@pytest.mark.parametrize("width", [40, 80, 300])
def test_the_summary_on_a_terminal_keeps_names_whole(width):
    console, buf = _terminal(width)
    print_summary(console, [Outcome(LONG, "completed", 2.5)])
    assert LONG in buf.getvalue()


def _conf(tmp_path):
    (tmp_path / "w.conf").write_text(
        'entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=5", priority: 1}\n'
        '  {description: "simple1:model=simple/model1,max_train_instances=all", priority: 1}\n]\n',
        encoding="utf-8",
    )


@pytest.mark.parametrize("extra", [[], ["--explain"]])
def test_plan_piped_lists_every_run_name_whole(tmp_path, extra):
    _conf(tmp_path)
    code, out, _ = run_cli(["plan", "w.conf", *extra], tmp_path)
    code_j, out_j, _ = run_cli(["plan", "w.conf", "--format", "json"], tmp_path)
    assert code == code_j == 0
    wanted = {r["name"] for r in json.loads(out_j)["runs"]}
    assert len(wanted) == 7 and wanted <= _tokens(out)


@pytest.mark.parametrize(("what", "key"), [("models", "models"), ("deployments", "deployments"),
                                           ("functions", "run_spec_functions"), ("expanders", "expanders")])
def test_catalog_piped_lists_every_name_whole(tmp_path, what, key):
    code, out, _ = run_cli(["catalog", what], tmp_path)
    code_j, out_j, _ = run_cli(["catalog", what, "--format", "json"], tmp_path)
    assert code == code_j == 0
    doc = json.loads(out_j)
    listed = doc[key] if isinstance(doc[key], list) else list(doc[key].values())
    assert listed and {x["name"] for x in listed} <= _tokens(out)
