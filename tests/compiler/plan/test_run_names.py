"""Run names predicted statically (compiler/plan/run_names.py) against the names HELM 0.5.16 gave
the corpus entries (../shared oracle): every name helmc claims must be HELM's."""

from __future__ import annotations

import json
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.plan.run_names import adapter_method, base_name, run_name, spec_run_names
from helmc.compiler.session import Options, RunSet, compile_run_sets

from conftest import needs_oracle, oracle_plans


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@needs_oracle
def test_names_agree_with_helm_on_the_corpus(cat) -> None:
    known = unknown = methods = 0
    wrong = []
    for entry, row, plan in oracle_plans(cat):
        assert len(plan.runs) == len(row["runs"]), row["description"]
        for run, want in zip(plan.runs, row["runs"]):
            method = adapter_method(cat, run.run_spec_function, run.args)
            if method is not None:
                methods += 1
                if method != want["method"]:
                    wrong.append((row["description"], method, want["method"]))
            got = run_name(cat, run.run_spec_function, run.args, run.expanders, run.model, run.model_deployment, run.entry.groups)
            if got is None:
                unknown += 1
            elif got == want["name"]:
                known += 1
            else:
                wrong.append((row["description"], got, want["name"]))
    print(f"run names: {known} exact, {unknown} unknown; adapter methods known for {methods}; {len(wrong)} wrong")
    assert wrong == []
    assert known > unknown  # the static reading covers most of the corpus


def test_name_steps(cat) -> None:
    # the function's template, an expander that appends (`:` first, `,` after), model=all last
    assert base_name(cat, "mmlu", {"subject": "anatomy"}) == "mmlu:subject=anatomy,method=multiple_choice_joint"
    names = spec_run_names(cat, "narrative_qa", [("max_train_instances", "all"), ("model", "openai/gpt2")])
    assert names == [f"narrative_qa:max_train_instances={n},model=openai_gpt2" for n in (0, 1, 2, 4, 8, 16)]
    # groups: sorted, joined with `-`; an empty list adds nothing
    assert run_name(cat, "gsm", {}, {"model": "openai/gpt2"}, "openai/gpt2", None, ["b", "a"]) == "gsm:model=openai_gpt2,groups=a-b"
    assert run_name(cat, "gsm", {}, {"model": "openai/gpt2"}, "openai/gpt2", None, []) == "gsm:model=openai_gpt2"


def test_unknown_is_none_never_a_guess(cat) -> None:
    # a required argument missing: HELM raises, there is no name
    assert base_name(cat, "mmlu", {}) is None
    # an argument the function does not take
    assert base_name(cat, "gsm", {"nope": 1}) is None
    # a NO_NEWLINES_TAG model: alter_run_spec appends `stop=hash` to generation and joint
    # multiple-choice runs; where the function's adapter method is not read, there is no name
    m = "bigscience/t0pp"
    assert "NO_NEWLINES_TAG" in cat.models[m].tags
    assert adapter_method(cat, "gsm", {}) == "generation"
    assert run_name(cat, "gsm", {}, {"model": m}, m) == "gsm:model=bigscience_t0pp,stop=hash"  # HELM's name
    assert adapter_method(cat, "arabic_finance_mcq", {}) is None
    assert run_name(cat, "arabic_finance_mcq", {}, {"model": m}, m) is None


def test_tokenizer_default_looks_up_the_deployment(cat) -> None:
    """TokenizerRunExpander(`default`) maps the run's deployment at expand time: before
    alter_run_spec there is none unless `model_deployment=` (or a 3-part model) came first."""
    args = [("random", "None"), ("tokenizer", "default"), ("num_prompt_tokens", "default_sweep"), ("model", "openai/gpt2")]
    assert spec_run_names(cat, "synthetic_efficiency", args) == []
    exp = cat.expanders["tokenizer"]
    table = exp.per_deployment("default")
    assert table, "the mapping is read from run_expander.py"
    dep, toks = next(iter(table.items()))
    assert exp.values_for("default", dep) == toks
    assert exp.values_for("default", "") == []
    assert exp.values_for("huggingface/gpt2") == ["huggingface/gpt2"]  # any other value: itself


def test_name_expressions(cat, monkeypatch) -> None:
    """Names HELM computes with conditionals, helpers, **kwargs and the environment."""
    monkeypatch.delenv("HELM_UNITXT_SHORTEN_RUN_SPEC_NAMES", raising=False)
    args = {"card": "cards.wnli", "template_card_index": 1}
    assert base_name(cat, "unitxt", args) == "unitxt:card=cards.wnli,template_card_index=1"
    monkeypatch.setenv("HELM_UNITXT_SHORTEN_RUN_SPEC_NAMES", "True")
    assert base_name(cat, "unitxt", args) == "unitxt:card=cards.wnli"
    assert base_name(cat, "boolq", {}) == "boolq"
    assert base_name(cat, "boolq", {"only_contrast": "x"}) == "boolq:only_contrast=True"
    assert base_name(cat, "math", {"subject": "algebra", "level": 1}) == (
        "math:subject=algebra,level=1,use_official_examples=False,use_chain_of_thought=False"
    )
    # `.lower()` of an int argument: HELM raises, so no name
    assert base_name(cat, "math", {"subject": "algebra", "level": 1, "use_chain_of_thought": 1}) is None


_CATALOG = load_catalog()
_VALUES = st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.booleans(),
                    st.sampled_from(["1", "1.0", "True", "x", "all", ""]))


@st.composite
def _calls(draw):
    function = draw(st.sampled_from(sorted(_CATALOG.functions)))
    params = [p.name for p in _CATALOG.functions[function].params]
    keys = draw(st.lists(st.sampled_from(params + ["extra"]) if params else st.just("extra"), max_size=3, unique=True))
    return function, {k: draw(_VALUES) for k in keys}


@settings(max_examples=300, deadline=None)
@given(st.lists(_calls(), min_size=1, max_size=6))
def test_memoized_expressions_equal_a_fresh_evaluation(calls):
    """base_name, adapter_method and adapter_field are memoized per function and arguments in
    the catalog; 1, 1.0 and True are equal keys but different names, so across many calls
    (one catalog, the memo filling up) each answer must be what the expression gives afresh."""
    from helmc.compiler.plan.run_names import _eval_fn_expr, adapter_field

    for function, args in calls:
        fn = _CATALOG.functions[function]
        assert base_name(_CATALOG, function, args) == _eval_fn_expr(fn, fn.run_name, args)
        assert adapter_method(_CATALOG, function, args) == _eval_fn_expr(fn, fn.adapter_method, args)
        assert adapter_field(_CATALOG, function, args, "model") == _eval_fn_expr(fn, fn.adapter_model, args)


def test_memo_tells_equal_values_of_other_types_apart(cat):
    names = [base_name(cat, "math", {"subject": "algebra", "level": v}) for v in (1, 1.0, True, 1)]
    assert names[0] == names[3] and len(set(names)) == 3, names


def _named_functions() -> list[str]:
    """Run spec functions whose name helmc reads with their defaults alone (no argument needed)."""
    return sorted(f for f, fn in _CATALOG.functions.items() if base_name(_CATALOG, f, {}) is not None)[:40]


_PREFIXES = ["", "stop=hash,", "max_train_instances=one,", "num_outputs=2,", "global_prefix=nlg,",
             "max_train_instances=all,", "data_augmentation=canonical,", "model_deployment=openai/gpt2,"]
_MODELS = ["", "model=all", "model=text", "model=code", "model=instruction_following", "model=openai/gpt2",
           "model=simple/model1", "model=huggingface/gpt2", "model=vlm", "model=ablation_text"]


def _plan_of(entries, models_to_run):
    """`helmc plan`'s compile of a conf file of these (function, expander prefix, model, groups)."""
    conf = "entries: [\n" + "".join(
        f'  {{description: "{fn}:{(prefix + model).rstrip(",")}", priority: 1'
        + (f", groups: [{', '.join(json.dumps(g) for g in groups)}]" if groups else "") + "}\n"
        for fn, prefix, model, groups in entries) + "]\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "e.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(conf)
        (compiled,) = compile_run_sets([RunSet((path,))], Options(selection=PlanOptions(models_to_run=models_to_run)),
                                       DiagnosticSink(), "plan", catalog=_CATALOG)
        assert compiled.plan is not None
        return compiled.plan


def test_the_names_property_below_has_groups_to_name():
    plan = _plan_of([(_named_functions()[0], "stop=hash,", "model=text", ("b", "a"))], None)
    assert len(plan.runs) > 50 and sum(r.name is not None for r in plan.runs) > 50


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_named_functions()), st.sampled_from(_PREFIXES), st.sampled_from(_MODELS),
                          st.sampled_from([None, ("b", "a"), ("g/1",)])), min_size=1, max_size=4),
       st.sampled_from([None, ("openai/gpt2",), ("openai/gpt2", "simple/model1")]))
def test_a_plans_run_names_are_each_runs_own_name(entries, models_to_run):
    """The planner names an ObjectSpec's runs all at once (spec_run_names; a model group last is
    named without a state per run); each name is the one run_name gives that run alone."""
    for r in _plan_of(entries, models_to_run).runs:
        want = run_name(_CATALOG, r.run_spec_function, r.args, r.expanders, r.model, r.model_deployment, r.entry.groups)
        assert r.name == want, (r.entry.description, r.name, want)
