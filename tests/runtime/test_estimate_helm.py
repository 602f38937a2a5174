"""`helmc plan --estimate` against HELM's own `helm-run --dry-run` (crfm-helm's entry point, not
helmc's), run by run, over every simple scenario HELM has and the expanders that change requests
(data augmentation included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import HELM_INSTALLED

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]

HELMC = [sys.executable, "-m", "helmc"]
HELM_RUN = [sys.executable, "-m", "helm.benchmark.run"]  # HELM's own helm-run
SIMPLE = ("simple1", "simple_mcqa", "simple_short_answer_qa", "simple_classification")  # simple_run_specs.py
ENTRIES = [f"{f}:model=simple/model1" for f in SIMPLE] + [
    "simple1:model=simple/model1,max_train_instances=0",
    "simple1:model=simple/model1,max_train_instances=2",
    "simple_classification:model=simple/model1,max_train_instances=1",
    "simple1:model=simple/model1,num_train_trials=2",
    "simple1:model=simple/model1,eval_split=valid",
    "simple1:model=simple/model1,num_outputs=3",
    "simple_mcqa:model=simple/model1,max_train_instances=1,num_outputs=2",
    "simple_short_answer_qa:model=simple/model1,eval_split=valid,num_outputs=2",
    # HELM's data augmentation (DataPreprocessor): perturbed copies of the eval instances
    "simple_mcqa:model=simple/model1,data_augmentation=lower",
    "simple_short_answer_qa:model=simple/model1,data_augmentation=extra_space",
]
STATS = {"num_requests": "requests", "num_prompt_tokens": "prompt_tokens",
         "max_num_completion_tokens": "max_completion_tokens"}


def _env(tmp_path) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": str(tmp_path / "helmc-cache")}


def _helm_dry_run(cwd, flags) -> dict[str, dict[str, int]]:
    r = subprocess.run(HELM_RUN + ["--run-entries", *ENTRIES, *flags, "--dry-run", "-o", "out", "--suite", "s"],
                       cwd=cwd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out: dict[str, dict[str, int]] = {}
    runs = cwd / "out" / "runs" / "s"
    for name in os.listdir(runs):
        stats = runs / name / "stats.json"
        if not stats.is_file():
            continue
        got = dict.fromkeys(STATS.values(), 0)
        for s in json.loads(stats.read_text()):
            if s["name"]["name"] in STATS and "perturbation" not in s["name"]:
                got[STATS[s["name"]["name"]]] += s["sum"]
        out[name] = got
    return out


def _estimate(cwd, flags, *more) -> dict:
    r = subprocess.run(HELMC + ["plan", "--run-entries", *ENTRIES, *flags, "--estimate", "--format", "json", *more],
                       cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("flags", [["-m", "4"], ["-m", "2", "-t", "2"]], ids=["m4", "m2-t2"])
def test_the_estimate_equals_helms_dry_run_run_by_run(tmp_path, flags):
    helm = _helm_dry_run(tmp_path, flags)
    assert len(helm) == len(ENTRIES)
    plan = _estimate(tmp_path, flags, "--parallel-runs", "2")
    ours = {r["name"]: {k: r["estimate"][k] for k in STATS.values()} for r in plan["runs"]}
    assert ours == helm
    for r in plan["runs"]:
        e = r["estimate"]
        assert e["exact"] and e["source"] == "dry run" and e["cached_requests"] == 0
        assert e["cost_usd"] is None and e["price_source"] is None  # unpriced, never $0
    total = plan["estimate"]
    for k in STATS.values():
        assert total[k] == sum(h[k] for h in helm.values())
    assert total["unpriced_runs"] == len(ENTRIES) and total["cost_usd"] is None

    again = _estimate(tmp_path, flags)  # an unchanged plan: remembered, the same numbers
    assert [r["estimate"]["source"] for r in again["runs"]] == ["remembered"] * len(ENTRIES)
    assert {r["name"]: {k: r["estimate"][k] for k in STATS.values()} for r in again["runs"]} == helm


def test_cached_requests_are_those_helms_cache_holds(tmp_path):
    """After a real run of one entry, its requests are all in HELM's SQLite cache; the other
    entry's are not. helmc computes HELM's key: a wrong key would count 0."""
    entries = ["simple1:model=simple/model1,num_outputs=2", "simple_mcqa:model=simple/model1"]
    r = subprocess.run(HELM_RUN + ["--run-entries", entries[0], "-m", "3", "-o", "out", "--suite", "real"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(HELMC + ["plan", "--run-entries", *entries, "-m", "3", "--estimate", "--format", "json"],
                       cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    runs = json.loads(r.stdout)["runs"]
    first, second = (x["estimate"] for x in runs)
    assert first["requests"] > 0 and first["cached_requests"] == first["requests"]
    assert second["requests"] > 0 and second["cached_requests"] == 0
    assert json.loads(r.stdout)["estimate"]["cached_requests"] == first["requests"]


def test_prices_from_tool_helmc_and_what_the_build_says_is_said_again_when_remembered(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.helmc]\nprices = "conf/p.yaml"\n')
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "p.yaml").write_text(
        "prices:\n  - {model: simple/model1, input_per_million: 1.0, output_per_million: 2.0}\n")
    # two entries HELM gives one run name (`groups: []` appends nothing): the build says HC0406
    (tmp_path / "twice.conf").write_text(
        'entries: [\n  {description: "simple1:model=simple/model1", priority: 1}\n'
        '  {description: "simple1:model=simple/model1", priority: 1, groups: []}\n]\n')
    cmd = HELMC + ["plan", "twice.conf", "-m", "2", "--estimate", "--format", "json"]
    first, second = (subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                                    timeout=900) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr[-2000:]
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert "HC0406" in [d["code"] for d in a["diagnostics"]]
    assert [d["code"] for d in a["diagnostics"]] == [d["code"] for d in b["diagnostics"]]
    for plan in (a, b):
        for r in plan["runs"]:
            e = r["estimate"]
            assert e["price_source"].startswith("prices file ") and "p.yaml:2:" in e["price_source"]
            assert e["cost_usd"] == pytest.approx((e["prompt_tokens"] * 1.0 + e["max_completion_tokens"] * 2.0) / 1e6,
                                                  abs=1e-6)
    assert {k: v for k, v in a["estimate"].items()} == {k: v for k, v in b["estimate"].items()}


NO_DATA_PLUGIN = '''\
from dataclasses import replace

from helm.benchmark.run_spec import RunSpec, run_spec_function
from helm.benchmark.run_specs.simple_run_specs import get_simple1_spec
from helm.benchmark.scenarios.scenario import Scenario, ScenarioSpec


class NoDataScenario(Scenario):
    name = "no_data"
    description = "a scenario whose data is not on this machine"
    tags = []

    def get_instances(self, output_path):
        raise ConnectionError("data.example: name or service not known")


@run_spec_function("no_data")
def get_no_data_spec() -> RunSpec:
    spec = get_simple1_spec()
    return replace(spec, name="no_data:model=simple_model1",
                   scenario_spec=ScenarioSpec(class_name="lab_no_data.NoDataScenario", args={}))
'''


def test_a_run_whose_data_is_missing_is_a_marked_bound_never_a_silent_zero(tmp_path):
    (tmp_path / "lab_no_data.py").write_text(NO_DATA_PLUGIN)
    env = {**_env(tmp_path), "PYTHONPATH": str(tmp_path)}
    r = subprocess.run(HELMC + ["plan", "--run-entries", "no_data:model=simple/model1", "simple1:model=simple/model1",
                                "-m", "4", "--plugins", "lab_no_data", "--estimate", "--format", "json"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    plan = json.loads(r.stdout)
    bounded, exact = (x["estimate"] for x in plan["runs"])
    assert bounded["source"] == "bound" and not bounded["exact"] and "name or service not known" in bounded["note"]
    assert bounded["requests"] >= exact["requests"] > 0  # simple1's adapter, 4 instances at most per trial
    assert bounded["max_completion_tokens"] >= exact["max_completion_tokens"]
    assert exact["source"] == "dry run" and exact["exact"]
    assert plan["estimate"]["exact"] is False


HIT = """import contextlib, io, json, sys
from helmc.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('helm', 'genai_prices', 'pydantic'))
print(json.dumps({"code": code, "plan": json.loads(out.getvalue()), "loaded": loaded}))
"""


def test_a_remembered_estimate_imports_no_helm_nor_genai_prices(tmp_path):
    """The second estimate of an unchanged plan is the memo alone: neither HELM nor genai-prices
    (nor pydantic, which it brings) is imported, and the numbers are the first's."""
    args = ["plan", "--run-entries", *ENTRIES[:3], "-m", "2", "--estimate", "--format", "json"]
    first = subprocess.run(HELMC + args, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                           timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    r = subprocess.run([sys.executable, "-c", HIT, *args], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout)
    assert got["code"] == 0 and got["loaded"] == []
    assert [x["estimate"]["source"] for x in got["plan"]["runs"]] == ["remembered"] * 3
    assert got["plan"]["estimate"] == json.loads(first.stdout)["estimate"]
