"""Expander values whose fate turns on the run (its adapter method, whether `model=` has set
the model yet): each case here was checked against HELM 0.5.16 (tests/compiler/plan/test_planner_differential_helm.py
compares every expander value with HELM itself)."""

from __future__ import annotations

import pytest

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import load_entries
from helmc.compiler.plan.plan import PlanOptions

from helpers import plan_entries


def _codes(desc: str) -> list[tuple[str, str]]:
    sink = DiagnosticSink()
    entries = load_entries([], [desc], sink)
    plan_entries(entries, load_catalog(), PlanOptions(models_to_run=["openai/gpt2"]), sink)
    return [(d.code, d.severity.value if hasattr(d.severity, "value") else str(d.severity)) for d in sink.items if d.severity is not Severity.INFO]


@pytest.mark.parametrize(
    "desc, want",
    [
        # HELM: "follow_format_instructions run expander only supports the generation adaptation method"
        ("mmlu:subject=anatomy,follow_format_instructions=all,model=openai/gpt2", "HC0307"),
        # HELM: get_model_metadata("") raises, model= comes after
        ("narrative_qa:follow_format_instructions=instruct", "HC0307"),
        ("narrative_qa:model=openai/gpt2,follow_format_instructions=instruct", None),
        # HELM: ValueError("Unknown scenario mmlu") for a generation run
        ("narrative_qa:output_format_instructions=mmlu", "HC0307"),
        ("narrative_qa:output_format_instructions=narrative_qa_no_prefix_suffix", None),
        # a multiple_choice_joint run: HELM falls back to its generic instruction
        ("mmlu:subject=anatomy,output_format_instructions=foo", "HC0313"),
        ("mmlu:subject=anatomy,output_format_instructions=mmlu", None),
        # multiple_choice_separate_original: no arm, `instructions` unbound, HELM raises
        ("mmlu:subject=anatomy,method=multiple_choice_separate_original,output_format_instructions=mmlu", "HC0307"),
    ],
)
def test_expander_against_the_run(desc: str, want: str | None) -> None:
    codes = [c for c, _ in _codes(desc)]
    assert codes == ([want] if want else []), codes
