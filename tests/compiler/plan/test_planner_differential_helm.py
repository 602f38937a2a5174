"""Breadth beyond the corpus: helmc's plan and run names against HELM's own
run_entries_to_run_specs (imported in-process from the installed crfm-helm), for every run spec
function of the catalog and every value of every run expander, with --models-to-run as HELM
applies it.

Arguments: a required parameter takes the value the corpus gives it when the corpus uses the
function, else a placeholder of its annotation; defaults stay. Where HELM raises while building,
the failure is classified: a missing optional module or a download is HELM failing at run time
(helmc must still plan the entry); any other exception is HELM rejecting the placeholder, which
is reported, not compared. Run `pytest -m helm tests/compiler/plan/test_planner_differential_helm.py -s` for the table.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pytest

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import load_entries
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.plan.run_names import adapter_method, run_name

from helpers import plan_entries

from conftest import CORPUS

pytestmark = pytest.mark.helm
helm_run = pytest.importorskip("helm.benchmark.run")

MODELS = ["openai/gpt2"]


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Some run spec functions write lock files under HELM's output path: keep them out of
    the checkout."""
    monkeypatch.chdir(tmp_path)
RUNTIME = (ModuleNotFoundError, ImportError, OSError, ConnectionError)


@lru_cache(maxsize=None)
def _helm():
    from helm.benchmark.config_registry import register_builtin_configs_from_helm_package

    register_builtin_configs_from_helm_package()
    from helm.benchmark.presentation.run_entry import RunEntry

    return RunEntry


def helm_runs(desc: str, groups=None) -> list[tuple[str, str, str, str]] | BaseException:
    RunEntry = _helm()
    try:
        specs = helm_run.run_entries_to_run_specs([RunEntry(desc, 1, groups)], models_to_run=MODELS)
    except BaseException as e:  # noqa: BLE001 - every failure is a finding
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return e
    return [(s.name, s.adapter_spec.model, s.adapter_spec.model_deployment, s.adapter_spec.method) for s in specs]


def helmc_runs(desc: str) -> tuple[list[tuple[str | None, str, str | None, str | None]], list[str]]:
    cat = load_catalog()
    sink = DiagnosticSink()
    entries = load_entries([], [desc], sink)
    plan = plan_entries(entries, cat, PlanOptions(models_to_run=MODELS), sink)
    errors = [f"{d.code} {d.message}" for d in sink.items if d.severity is Severity.ERROR]
    runs = [
        (
            run_name(cat, r.run_spec_function, r.args, r.expanders, r.model, r.model_deployment, r.entry.groups),
            r.model,
            r.model_deployment,
            adapter_method(cat, r.run_spec_function, r.args),
        )
        for r in plan.runs
    ]
    return runs, errors


@lru_cache(maxsize=None)
def _corpus_args() -> dict[str, dict[str, str]]:
    """function -> {param: the first value the corpus gives it}."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(CORPUS.glob("*.conf")) if CORPUS.is_dir() else []:
        for m in re.finditer(r'description:\s*"([a-z0-9_]+):([^"]*)"', path.read_text(encoding="utf-8")):
            d = out.setdefault(m.group(1), {})
            for kv in m.group(2).split(","):
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    d.setdefault(k, v)
    return out


def _placeholder(ann: str | None) -> str:
    a = (ann or "").replace("Optional[", "")
    if a.startswith("int"):
        return "1"
    if a.startswith("float"):
        return "0.5"
    if a.startswith("bool"):
        return "True"
    return "x"


def description(fn) -> tuple[str, bool]:
    """The entry for a function, and whether it holds a placeholder (not a corpus value)."""
    cat = load_catalog()
    known = _corpus_args().get(fn.name, {})
    parts = []
    placeholder = False
    for p in fn.params:
        if p.name in cat.expanders:
            continue  # the expander takes it: the function can only use its default
        if p.required:
            placeholder = placeholder or p.name not in known
            # Where HELM's own files state the values a parameter takes (the catalog's `values`,
            # HC0314), a placeholder is one of them: `x` would be refused by the scenario at run
            # time, which building the RunSpec never reaches.
            stand_in = p.values[0] if p.values else _placeholder(p.annotation)
            parts.append(f"{p.name}={known.get(p.name, stand_in)}")
    return fn.name + (":" + ",".join(parts) if parts else ""), placeholder


# Disagreements found and not fixed yet, each with why (the test fails when the set changes,
# so a fix must remove its line). Fixed since the first run: follow_format_instructions on
# non-generation runs and before `model=`, output_format_instructions values of another
# method's arm (9 entries; now HC0307 errors, as HELM raises); simple1 under --models-to-run
# (its AdapterSpec names simple/model1 as deployment; now HC0312, as HELM raises).
KNOWN = {
    # unitxt takes **kwargs and raises when neither `card` nor `recipe` is among them
    "unitxt",
}


def compare(desc: str, placeholder: bool = False) -> tuple[str, str]:
    """(outcome, detail): agree | agree-failure | helm-rejects (a placeholder argument HELM's
    function refuses) | disagree."""
    want = helm_runs(desc)
    got, errors = helmc_runs(desc)
    if isinstance(want, BaseException):
        kind = type(want).__name__
        if isinstance(want, RUNTIME):
            # HELM fails at run time (optional module, download): helmc plans the entry
            return ("agree-failure", kind) if got and not errors else ("disagree", f"HELM {kind}; helmc {errors or 'no runs'}")
        if errors:
            return "agree-failure", f"HELM {kind}; helmc {errors[0]}"
        if placeholder:
            return "helm-rejects", f"{kind}: {str(want)[:120]}"
        return "disagree", f"HELM raises {kind}: {str(want)[:100]}; helmc plans {len(got)} run(s)"
    if errors:
        return "disagree", f"HELM builds {len(want)}; helmc errors {errors}"
    if [(m, d) for _, m, d, _ in got] != [(m, d) for _, m, d, _ in want]:
        return "disagree", f"HELM {[(m, d) for _, m, d, _ in want][:3]} (n={len(want)}); helmc {[(m, d) for _, m, d, _ in got][:3]} (n={len(got)})"
    wrong = [(g, w) for (g, _, _, _), (w, _, _, _) in zip(got, want) if g is not None and g != w]
    wrong += [(g, w) for (_, _, _, g), (_, _, _, w) in zip(got, want) if g is not None and g != w]
    if wrong:
        return "disagree", f"names or methods {wrong[:2]}"
    unknown = sum(1 for g, _, _, _ in got if g is None)
    NAMES[0] += len(want) - unknown
    NAMES[1] += unknown
    return "agree", f"{len(want)} runs, {len(want) - unknown} names known"


NAMES = [0, 0]  # run names predicted exactly / not predicted, over the agreeing entries


def _report(rows: list[tuple[str, str, str]], what: str) -> list[tuple[str, str, str]]:
    from collections import Counter

    counts = Counter(o for _, o, _ in rows)
    print(f"\n{what}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"run names so far: {NAMES[0]} exact, {NAMES[1]} not predicted (none wrong)")
    for desc, o, d in rows:
        if o in ("disagree", "helm-rejects"):
            print(f"  {o}{' (known)' if desc in KNOWN else ''}: {desc}: {d}")
    return sorted(desc for desc, o, _ in rows if o == "disagree")


def test_every_run_spec_function() -> None:
    cat = load_catalog()
    rows = []
    for fn in cat.functions.values():
        desc, placeholder = description(fn)
        rows.append((desc, *compare(desc, placeholder)))
    assert len(rows) == len(cat.functions) == 308
    found = _report(rows, "run spec functions")
    assert found == sorted(d for d, _, _ in rows if d in KNOWN)


def _expander_values(exp) -> list[Any]:
    if exp.kind == "choices":
        return list(exp.choices)
    if exp.kind == "value_set":
        return [k for k in exp.value_sets] or []
    if exp.kind == "free":
        return list(exp.known_values) or {"int": [1], "float": [0.5]}.get(exp.value_type or "", ["x"])
    return []


BASES = ("mmlu:subject=anatomy", "narrative_qa")  # a multiple_choice_joint and a generation run


def test_every_expander_value() -> None:
    cat = load_catalog()
    rows = []
    for exp in cat.expanders.values():
        if exp.kind in ("model", "none"):
            continue  # models: every wildcard below; `none`: takes no value (HC0307)
        for v in _expander_values(exp):
            for base in BASES:
                desc = f"{base}{',' if ':' in base else ':'}{exp.name}={v}"
                rows.append((desc, *compare(desc)))
    for w in cat.model_group_to_model_names():
        desc = f"narrative_qa:model={w}"
        rows.append((desc, *compare(desc)))
    found = _report(rows, "expander values")
    assert found == sorted(d for d, _, _ in rows if d in KNOWN)
