"""The planner: HELM's run_entries_to_run_specs, replicated on the IR."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.syntax.frontend import load_entries, parse_file
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.plan.planner import Trace, no_runs_diagnostic, validate_models_to_run
from helmc.compiler.source import SourceFile

from helpers import plan_entries


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def plan(cat, *descriptions: str, **options):
    """As `helmc plan` compiles: the flags checked, the entries planned, an empty plan reported."""
    sink = DiagnosticSink()
    entries = load_entries([], list(descriptions), sink)
    selection = PlanOptions(**options)
    if selection.models_to_run:
        validate_models_to_run(selection.models_to_run, cat, sink)
    p = plan_entries(entries, cat, selection, sink)
    if entries and not p.runs:
        sink.add(no_runs_diagnostic(p, entries))
    return p, sink


def test_value_set_expansion(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=all")
    assert [r.expanders["max_train_instances"] for r in p.runs] == [0, 1, 2, 4, 8, 16]
    assert {r.model_deployment for r in p.runs} == {"huggingface/gpt2"}
    assert p.runs[0].args == {"subject": "anatomy"}


def test_wildcard_without_models_to_run_expands_all_models(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=text")
    assert [r.model for r in p.runs] == cat.model_group_to_model_names()["text"]


def test_no_model_means_model_all(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy")
    assert len(p.runs) == len(cat.model_group_to_model_names()["all"])


def test_models_to_run_rewrites_only_without_slash(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=text", models_to_run=["openai/gpt2", "meta/llama-3-8b"])
    assert [r.model for r in p.runs] == ["openai/gpt2", "meta/llama-3-8b"]
    p, _ = plan(cat, "mmlu:subject=anatomy,model=meta/llama-3-8b", models_to_run=["openai/gpt2"])
    assert p.runs == () and len(p.dropped) == 1 and "--models-to-run" in p.dropped[0].reason


def test_deployment_in_models_to_run_keeps_the_run(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=openai/gpt2", models_to_run=["huggingface/gpt2"])
    assert len(p.runs) == 1


def test_three_part_model_is_a_deployment(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=together/meta/llama-3-8b")
    assert [(r.model, r.model_deployment) for r in p.runs] == [("meta/llama-3-8b", "together/meta/llama-3-8b")]


def test_priority_filter(cat) -> None:
    src = SourceFile("x.conf", 'entries: [\n {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 3}\n]\n')
    sink = DiagnosticSink()
    entries = list(parse_file(src, sink).entries)
    p = plan_entries(entries, cat, PlanOptions(priority=2), sink)
    assert p.runs == () and "priority 3" in p.dropped[0].reason
    # the entry's position is the front end's (Entry.span), the same `helmc parse` reports
    assert (p.dropped[0].entry.line, p.dropped[0].entry.column) == entries[0].line_col


def test_groups_filter_uses_function_groups(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=openai/gpt2", groups_to_run=["mmlu"])
    assert len(p.runs) == 1
    p, _ = plan(cat, "mmlu:subject=anatomy,model=openai/gpt2", groups_to_run=["gsm"])
    assert p.runs == () and "groups" in p.dropped[0].reason


def test_empty_group_is_reported_as_dropped(cat) -> None:
    p, _ = plan(cat, "mmlu:subject=anatomy,model=openai/curie")
    assert p.runs == () and "no model" in p.dropped[0].reason


def test_error_entry_contributes_no_runs_but_others_plan(cat) -> None:
    p, sink = plan(cat, "mmlu_pr:model=openai/gpt2", "med_qa:model=openai/gpt2")
    assert [r.run_spec_function for r in p.runs] == ["med_qa"]
    assert any(d.code == "HC0301" for d in sink.items)


def test_two_part_deployment_in_models_to_run_fails_as_in_helm(cat) -> None:
    # HELM rewrites model=huggingface/gpt2 and pairs it with deployment huggingface/gpt2,
    # which serves openai/gpt2: `Invalid RunSpec`.
    p, sink = plan(cat, "mmlu:subject=anatomy,model=text", models_to_run=["huggingface/gpt2"])
    assert p.runs == ()
    d = [d for d in sink.items if d.code == "HC0312"]
    assert d and d[0].help and "openai/gpt2" in d[0].help


def test_unknown_models_to_run(cat) -> None:
    _, sink = plan(cat, "mmlu:subject=anatomy,model=text", models_to_run=["openai/gpt2", "nosuch/model"])
    assert [d.span.text for d in sink.items if d.code == "HC0404"] == ["nosuch/model"]


def test_generated_deployment_typo_in_models_to_run_is_a_warning(cat) -> None:
    # HELM's `openai/` generator accepts any name, so `openai/gtp2` passes HELM's own check.
    p, sink = plan(cat, "mmlu:subject=anatomy,model=text", models_to_run=["openai/gtp2"])
    (d,) = [d for d in sink.items if d.code == "HC0404"]
    assert d.severity.value == "warning" and d.span.text == "openai/gtp2"
    assert "openai/gpt2" in (d.help or "")
    assert [r.model for r in p.runs] == ["openai/gtp2"]  # still planned, as HELM would run it


def test_explain_traces(cat) -> None:
    sink = DiagnosticSink()
    entries = load_entries([], ["mmlu:subject=anatomy,model=text,max_train_instances=all"], sink)
    traces: list[Trace] = []
    plan_entries(entries, cat, PlanOptions(models_to_run=["openai/gpt2"]), sink, traces=traces)
    text = "\n".join(traces[0].steps)
    assert "replaces `model=text`" in text and "6 runs" in text


def test_plan_json_contract() -> None:
    argv = ["plan", "-r", "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=one", "--format", "json"]
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from helmc.cli import main; sys.exit(main())", *argv],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"runs", "dropped", "diagnostics"}
    run = data["runs"][0]
    assert set(run) == {"entry", "run_spec_function", "args", "expanders", "model", "model_deployment", "name"}
    assert set(run["entry"]) == {"path", "line", "column", "description", "priority", "groups"}
    assert run["entry"]["path"] == "<run-entries>" and run["entry"]["line"] == 1
    assert run["expanders"] == {"model": "openai/gpt2", "max_train_instances": 1}


def test_filtered_entry_and_empty_plan_are_reported(cat) -> None:
    _, sink = plan(cat, "mmlu:subject=anatomy,model=meta/llama-3-8b", models_to_run=["openai/gpt2"])
    codes = sorted(d.code for d in sink.items)
    assert codes == ["HC0402", "HC0403"]
