"""Argument values checked where HELM states them (HC0314), read by the catalog generator.

The generator is tested on a small HELM-shaped source (each form of the scenario's check, and
the forms it must leave alone because the value is rewritten first); the shipped catalog is
tested on every parameter it holds values for: each stated value passes, and a typo of it is
reported at the value with the value itself as the fix.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import CORPUS, needs_corpus
from helpers import run_cli
from helmc.compiler.catalog.catalog import UserAdditions, load_catalog
from helmc.compiler.catalog.build import HelmSource, _Modules, build_run_spec_functions
from helmc.compiler.catalog.build_values import SCENARIO_CHECK, SCHEMA_GROUPS, add_argument_values

RUN_SPECS = '''
from helm.benchmark.run_spec import RunSpec, run_spec_function
from helm.benchmark.scenarios.scenario import ScenarioSpec


@run_spec_function("asserted")
def get_asserted(subset: str, other: str = "x") -> RunSpec:
    return RunSpec(name=f"asserted:subset={subset}", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Asserted", args={"subset": subset}), groups=["asserted"])


@run_spec_function("raised")
def get_raised(language: str) -> RunSpec:
    return RunSpec(name="raised", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Raised", args={"language": language}), groups=["raised"])


@run_spec_function("prefixed")
def get_prefixed(subset: str) -> RunSpec:
    subset = "p_" + subset
    return RunSpec(name="prefixed", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Asserted", args={"subset": subset}), groups=["prefixed"])


@run_spec_function("lowered")
def get_lowered(language: str) -> RunSpec:
    return RunSpec(name="lowered", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Lowered", args={"language": language}), groups=["lowered"])


@run_spec_function("board")
def get_board(subject: str, method: str = "m") -> RunSpec:
    return RunSpec(name="board", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Nothing", args={"subject": subject}), groups=["board"])


@run_spec_function("board_pro")
def get_board_pro() -> RunSpec:
    return RunSpec(name="board_pro", scenario_spec=ScenarioSpec(
        class_name="helm.benchmark.scenarios.fake.Nothing", args={}), groups=["board_pro"])
'''

SCENARIOS = '''
SUBSETS = ["a", "b"]
LANGS = {"en": 1, "vi": 2}


class Asserted:
    def __init__(self, subset: str):
        assert subset in SUBSETS, subset


class Raised:
    LIST = ("en", "fr")

    def __init__(self, language: str):
        self.language = language
        if self.language not in Raised.LIST:
            raise ValueError(language)


class Lowered:
    def __init__(self, language: str):
        language = language.lower()
        if language not in LANGS.keys():
            raise ValueError(language)


class Nothing:
    def __init__(self, subject: str = ""):
        pass
'''

SCHEMA = """
run_groups:
  - name: board
    subgroups: [board_algebra, board_anatomy]
  - name: board_algebra
  - name: board_anatomy
  - name: board_pro
"""


def _source(tmp_path: Path) -> HelmSource:
    for rel, text in (("helm/benchmark/run_specs/fake_run_specs.py", RUN_SPECS),
                      ("helm/benchmark/scenarios/fake.py", SCENARIOS),
                      ("helm/benchmark/static/schema_fake.yaml", SCHEMA)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    return HelmSource(str(tmp_path), "0")


def test_the_generator_reads_each_form_and_leaves_rewritten_values_alone(tmp_path):
    mods = _Modules(_source(tmp_path))
    fns = build_run_spec_functions(mods)
    add_argument_values(fns, mods)
    found = {(f["name"], p["name"]): (p.get("values"), p.get("values_how")) for f in fns for p in f["params"]}
    assert found[("asserted", "subset")] == (["a", "b"], SCENARIO_CHECK)
    assert found[("asserted", "other")] == (None, None)  # not passed to the scenario
    assert found[("raised", "language")] == (["en", "fr"], SCENARIO_CHECK)  # self.x = x, a class constant
    assert found[("prefixed", "subset")] == (None, None)  # rewritten by the function first
    assert found[("lowered", "language")] == (None, None)  # rewritten by the scenario first
    # the schema's run groups, without the longer-named function's
    assert found[("board", "subject")] == (["algebra", "anatomy"], SCHEMA_GROUPS)
    assert found[("board", "method")] == (None, None)  # not the one required parameter


CATALOG = load_catalog(UserAdditions(local_path=None, entry_points=False))
STATED = [(f.name, p.name, p.values, p.values_how) for f in CATALOG.functions.values() for p in f.params if p.values]


def test_the_shipped_catalog_states_values_from_both_sources():
    hows = {how for *_, how in STATED}
    assert hows == {SCENARIO_CHECK, SCHEMA_GROUPS}
    assert ("mmlu", "subject") in {(f, p) for f, p, *_ in STATED}
    mmlu = CATALOG.functions["mmlu"].param("subject")
    assert mmlu is not None and "anatomy" in mmlu.values and not any(v.startswith("clinical_afr") for v in mmlu.values)


def _typo(value: str, values: tuple[str, ...]) -> str | None:
    """A one-letter deletion of `value` that no other stated value is one typo from."""
    for i in range(len(value)):
        word = value[:i] + value[i + 1:]
        if word and word not in values:
            return word
    return None


@pytest.mark.parametrize(("function", "param", "values", "how"), STATED, ids=[f"{f}.{p}" for f, p, *_ in STATED])
def test_every_stated_value_passes_and_a_typo_is_caught(tmp_path, function, param, values, how):
    required = [p for p in CATALOG.functions[function].params if p.required and p.name != param]
    extra = "".join(f",{r.name}={r.values[0] if r.values else 'x'}" for r in required)
    ok = [f"{function}:{param}={v},model=openai/gpt2{extra}" for v in values if "," not in v and "=" not in v]
    _, out, _ = run_cli(["check", "-r", *ok, "--format", "json"], tmp_path)
    assert "HC0314" not in {d["code"] for d in json.loads(out)}
    value = next(v for v in values if "," not in v and "=" not in v)
    word = _typo(value, values)
    if word is None:
        pytest.skip("no one-letter typo of this value is free")
    code, out, _ = run_cli(["check", "-r", f"{function}:{param}={word},model=openai/gpt2{extra}", "--format", "json"],
                           tmp_path)
    (d,) = [d for d in json.loads(out) if d["code"] == "HC0314"]
    assert d["severity"] == ("error" if how == SCENARIO_CHECK else "warning")
    assert (code == 1) == (how == SCENARIO_CHECK)
    assert d["fixes"] and d["fixes"][0]["replacement"] in values


@needs_corpus
def test_no_real_helm_conf_file_is_reported(tmp_path):
    """HELM's own conf files run: not one of their arguments may be called unknown (measured:
    521 arguments of the 46 files meet a stated set)."""
    code, out, _ = run_cli(["check", str(CORPUS), "--models-to-run", "openai/gpt2", "--select", "HC0314",
                            "--format", "json"], tmp_path)
    assert json.loads(out) == []
