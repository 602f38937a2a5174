"""Damaged conf files: each mistake gets a diagnostic whose primary span starts at the damage,
and the rest of the file is still read."""

from __future__ import annotations

import pytest

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import parse_file
from helmc.compiler.source import SourceFile

GOOD = '  {description: "simple1:model=simple/model1", priority: 1}\n'


def check(text: str):
    sink = DiagnosticSink()
    conf = parse_file(SourceFile("t.conf", text), sink)
    return conf, sink.sorted()


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the nth occurrence of needle."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1


CASES = [
    # (name, text, code, the token the primary span starts at, its occurrence)
    ("unterminated string", "entries: [\n" + GOOD + '  {description: "simple1:model=simple/model1, priority: 1}\n' + GOOD + "]\n",
     "HC0002", '"simple1:model=simple/model1, priority', 0),
    ("comment without #", "entries: [\n" + GOOD + "  These run first\n" + GOOD + "]\n", "HC0103", "These", 0),
    ("non-integer priority", "entries: [\n" + GOOD.replace("priority: 1", "priority: high") + GOOD + "]\n",
     "HC0105", "high", 0),
    ("misspelled key", "entries: [\n" + GOOD.replace("priority", "prioirty") + GOOD + "]\n", "HC0106", "prioirty", 0),
    ("double comma", "entries: [\n" + GOOD.replace("model1", "model1,,num_outputs=2") + GOOD + "]\n", "HC0202", ",num_outputs", 0),
    ("missing =", "entries: [\n" + GOOD.replace("model=simple/model1", "model") + GOOD + "]\n", "HC0201", "model", 0),
    ("missing ]", "entries: [\n" + GOOD + GOOD, "HC0001", "[", 0),
    ("missing :", "entries: [\n" + GOOD.replace("priority:", "priority") + GOOD + "]\n", "HC0001", "}", 0),
    ("wrong closer", "entries: [\n" + GOOD.replace("1}", "1]") + GOOD + "]\n", "HC0001", "]", 0),
]


@pytest.mark.parametrize("name,text,code,token,nth", CASES, ids=[c[0] for c in CASES])
def test_primary_span_starts_at_the_damage(name, text, code, token, nth):
    conf, diags = check(text)
    found = [d for d in diags if d.code == code]
    assert found, [(d.code, d.message) for d in diags]
    assert found[0].span.start_line_col == where(text, token, nth)


@pytest.mark.parametrize("name,text,code,token,nth", CASES, ids=[c[0] for c in CASES])
def test_the_rest_of_the_file_is_still_read(name, text, code, token, nth):
    conf, _ = check(text)
    # The last entry is intact in every case, and is read with its position.
    last = conf.entries[-1]
    assert last.description is not None and last.description.text == "simple1:model=simple/model1"
    assert last.priority == 1


def test_five_mistakes_five_diagnostics():
    text = (
        "entries: [\n"
        '  {description: "simple1:model", prioirty: 1}\n'
        '  {description: "simple1:model=simple/model1,,x=1", priority: "1"}\n'
        "  forgotten comment\n"
        '  {description: "simple1:model=simple/model1, priority: 1}\n'
    )
    _, diags = check(text)
    codes = [d.code for d in diags]
    for code in ("HC0201", "HC0106", "HC0202", "HC0105", "HC0103", "HC0002", "HC0001"):
        assert code in codes, codes
    assert all(d.severity in Severity for d in diags)


def test_unterminated_string_is_reported_on_its_line():
    text = 'entries: [\n  {description: "a:b=1\n]\n'
    _, diags = check(text)
    d = next(d for d in diags if d.code == "HC0002")
    assert d.span.start_line_col[0] == 2 and d.span.end_line_col[0] == 2
