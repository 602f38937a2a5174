"""Duplicates are found on the plan, after every selection flag, not on the entries' text: two
entries that HELM turns into one run (a wildcard or a model without `/` that --models-to-run
rewrites or filters) get HC0401 from helm-check, helmc plan and helm-run alike."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_cli
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.session import Options, RunSet, compile_run_sets

# Every form of `model=` that HELM expands or rewrites (wildcards, a group, no `model=` at all).
SIMPLE_FORMS = ["model=all", "model=text", "model=text_code", "model=code", "model=instruction_following",
                "model=full_functionality_text", "model=limited_functionality_text"]


def _codes(diags) -> list[str]:
    return [d.code for d in diags]


def _compile(run_entries: list[str], models: tuple[str, ...], purpose: str) -> tuple[list[str], list]:
    sink = DiagnosticSink()
    options = Options(selection=PlanOptions(models_to_run=models))
    (compiled,) = compile_run_sets([RunSet((), tuple(run_entries))], options, sink, purpose)  # type: ignore[arg-type]
    return _codes(sink.items), list(compiled.plan.runs if compiled.plan else ())


CASES = [
    ("simple1:model=simple/model1", "simple1:model=text", "simple/model1"),
    ("mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=text", "openai/gpt2"),
    ("simple1:model=simple/model1", "simple1", "simple/model1"),  # HELM adds model=all
    *[("simple1:model=simple/model1", f"simple1:{form}", "simple/model1") for form in SIMPLE_FORMS],
    *[("mmlu:subject=anatomy,model=openai/gpt2", f"mmlu:subject=anatomy,{form}", "openai/gpt2")
      for form in SIMPLE_FORMS if form != "model=code"],  # openai/gpt2 is no code model
]


@pytest.mark.parametrize("purpose", ["check", "plan", "run"])
@pytest.mark.parametrize("order", ["explicit first", "wildcard first"])
@pytest.mark.parametrize(("explicit", "wildcard", "model"), CASES)
def test_a_wildcard_beside_its_model_is_a_duplicate(explicit, wildcard, model, order, purpose):
    pair = [explicit, wildcard] if order == "explicit first" else [wildcard, explicit]
    codes, runs = _compile(pair, (model,), purpose)
    assert len(runs) == 2 and len({_identity(r) for r in runs}) == 1  # one run, planned twice
    assert codes.count("HC0401") == 1, codes


@pytest.mark.parametrize("command", ["check", "plan"])
def test_the_command_line_reports_it_on_the_later_entry(tmp_path, command):
    (tmp_path / "d.conf").write_text(
        'entries: [\n  {description: "simple1:model=simple/model1", priority: 1}\n'
        '  {description: "simple1:model=text", priority: 1}\n]\n', encoding="utf-8")
    status, out, _ = run_cli([command, "d.conf", "--models-to-run", "simple/model1", "--format", "json"], tmp_path)
    diags = json.loads(out) if command == "check" else json.loads(out)["diagnostics"]
    assert status == 0
    assert [(d["code"], d["line"]) for d in diags] == [("HC0401", 3)]
    assert diags[0]["message"] == "this entry produces the same runs as the entry at line 2"


def test_part_of_a_wildcard_says_how_many_runs():
    sink = DiagnosticSink()
    compile_run_sets([RunSet((), ("mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=text"))],
                     Options(selection=PlanOptions(models_to_run=("openai/gpt2", "simple/model1"))), sink, "plan")
    (dup,) = [d for d in sink.items if d.code == "HC0401"]
    assert dup.message.startswith("1 of this entry's 2 runs are also runs of the entry at line 1")


def test_distinct_runs_are_no_duplicates():
    # a deployment is part of the run name: two folders, two runs, nothing overwritten
    codes, runs = _compile(["simple1:model=simple/model1", "simple1:model_deployment=simple/model1"],
                           ("simple/model1",), "check")
    assert "HC0401" not in codes and len({_identity(r) for r in runs}) == 2
    # the same text twice stays HC0401 from resolution, reported once
    codes, _ = _compile(["simple1:model=text", "simple1:model=text"], ("simple/model1",), "check")
    assert codes.count("HC0401") == 1


def _identity(run) -> str:
    """What a run is, as `helmc plan --format json` shows it, without the entry that planned it
    but with the groups that name its folder: the test's own oracle of "the same run"."""
    shown = run.to_json()
    return json.dumps([shown["run_spec_function"], shown["args"], shown["expanders"], shown["model"],
                       shown["model_deployment"], shown["entry"]["groups"]], sort_keys=True)


ENTRY_POOL = [
    "simple1:model=simple/model1", "simple1:model=text", "simple1:model=all", "simple1",
    "simple1:model=simple/model1,num_outputs=2", "simple1:model=text,num_outputs=2",
    "simple1:model_deployment=simple/model1", "simple1:model=openai/gpt2",
    "mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=text",
    "mmlu:subject=virology,model=text",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(st.sampled_from(ENTRY_POOL), min_size=2, max_size=5),
    models=st.lists(st.sampled_from(["simple/model1", "openai/gpt2"]), min_size=1, max_size=2, unique=True),
)
def test_no_run_is_planned_twice_without_a_word(entries, models):
    """HC0401 if and only if the plan holds one run twice from two entries, or two entries have one
    text (resolution reports those even when they plan nothing)."""
    sink = DiagnosticSink()
    (compiled,) = compile_run_sets([RunSet((), tuple(entries))],
                                   Options(selection=PlanOptions(models_to_run=tuple(models))), sink, "check")
    runs = compiled.plan.runs if compiled.plan else ()
    by_key = Counter((_identity(r), r.entry.line) for r in runs)
    entries_of: dict[str, set[int]] = {}
    for fp, line in by_key:
        entries_of.setdefault(fp, set()).add(line)
    twice = any(len(lines) > 1 for lines in entries_of.values())
    one_text = len(set(entries)) < len(entries)
    assert ("HC0401" in _codes(sink.items)) == (twice or one_text), (entries, models, _codes(sink.items))
