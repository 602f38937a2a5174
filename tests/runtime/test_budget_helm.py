"""helm-run's budget gate with the real crfm-helm, on every engine: over --max-requests or
--max-cost it starts nothing (exit 1, the output folder as it was), under both it runs."""

from __future__ import annotations

from pathlib import Path

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import HELM_INSTALLED

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]

OURS = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]
ENTRIES = ["simple1:model=simple/model1", "simple_mcqa:model=simple/model1"]
PRICES = "prices:\n  - {model: simple/model1, input_per_million: 2.5, output_per_million: 10.0}\n"
ENGINES = {
    "local": ["--engine", "local", "--parallel-runs", "2"],
    "ray": ["--engine", "ray", "--disable-cache"],
    "slurm-local": ["--engine", "slurm", "--slurm-cluster", "local"],
}
NEEDS = {"ray": "ray", "slurm-local": "submitit"}


def _engine(name: str) -> list[str]:
    module = NEEDS.get(name)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"needs {module}")
    return ENGINES[name]


def _run(cwd, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": str(cwd / "helmc-cache")}
    (cwd / "p.yaml").write_text(PRICES)
    return subprocess.run(OURS + ["--run-entries", *ENTRIES, "-m", "3", "--suite", "s", "-o", "out", *flags],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _tree(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("cap, code", [
    (["--max-requests", "20"], "HC0810"),
    (["--max-cost", "0.01", "--prices", "p.yaml"], "HC0810"),
    (["--max-cost", "100"], "HC0811"),  # simple/model1 has no price without the prices file
], ids=["requests", "cost", "unpriced"])
def test_over_the_cap_nothing_starts_and_nothing_is_written(tmp_path, engine, cap, code):
    earlier = tmp_path / "out" / "runs" / "other" / "kept.txt"  # another suite's output, untouched
    earlier.parent.mkdir(parents=True)
    earlier.write_text("x")
    before = _tree(tmp_path / "out")
    r = _run(tmp_path, *_engine(engine), *cap)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"error[{code}]" in r.stderr and "nothing was run" in r.stderr and "Traceback" not in r.stderr
    assert _tree(tmp_path / "out") == before
    if code == "HC0810":
        assert "simple1:model=simple_model1" in r.stderr  # the most expensive runs are named


@pytest.mark.parametrize("engine", list(ENGINES))
def test_under_the_caps_the_suite_runs(tmp_path, engine):
    r = _run(tmp_path, *_engine(engine), "--max-requests", "1000", "--max-cost", "1", "--prices", "p.yaml")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    runs = tmp_path / "out" / "runs" / "s"
    assert {p.name for p in runs.iterdir() if (p / "stats.json").is_file()} == {
        "simple1:model=simple_model1", "simple_mcqa:model=simple_model1"}


def test_an_output_folder_that_did_not_exist_is_not_left_behind(tmp_path):
    r = _run(tmp_path, "--max-requests", "0")
    assert r.returncode == 1 and "error[HC0810]" in r.stderr
    assert not (tmp_path / "out").exists()


CHECK = [sys.executable, "-c", "import sys; from helmc.cli import helm_check_main; sys.exit(helm_check_main())"]


@pytest.mark.parametrize("delta", [-1, 0, 1])
@pytest.mark.parametrize("flag", ["--max-requests", "--max-cost"])
def test_helm_check_with_the_same_flags_gives_helm_runs_verdict(tmp_path, flag, delta):
    """At the cap, one under and one over: helm-check passes if and only if helm-run starts."""
    env = {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": str(tmp_path / "helmc-cache")}
    (tmp_path / "p.yaml").write_text(PRICES)
    plan = subprocess.run([sys.executable, "-m", "helmc", "plan", "--run-entries", *ENTRIES, "-m", "3", "--estimate",
                           "--prices", "p.yaml", "--format", "json"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert plan.returncode == 0, plan.stderr[-2000:]
    import json

    total = json.loads(plan.stdout)["estimate"]
    cap = str(total["requests"] + delta) if flag == "--max-requests" else repr(total["cost_usd"] + delta * 1e-3)
    flags = ["--run-entries", *ENTRIES, "-m", "3", flag, cap, "--prices", "p.yaml"]
    check = subprocess.run(CHECK + flags, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    run = subprocess.run(OURS + flags + ["--suite", "s", "-o", "out"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=900)
    assert check.returncode in (0, 1) and run.returncode in (0, 1), check.stderr[-2000:] + run.stderr[-2000:]
    assert check.returncode == run.returncode == (1 if delta < 0 else 0)
    assert ("error[HC0810]" in check.stdout + check.stderr) == (delta < 0)


# ---------------------------------------------------------------------------- the stop while running
#
# The estimate passes and the actual spend still reaches the cap when requests the estimate
# found in HELM's cache (and so counted free) are sent after all because the cache changed
# between the estimate and the run: here HELM's SQLite cache of simple/model1 is removed while
# the suite's first run executes (a scratch folder purged, a colleague clearing the cache). The
# first run is the benchmark's slow client (priced free, 30 requests x 0.1 s), so the removal
# always comes before simple/model1's runs start.

SLOW = "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1"
CACHED = ["simple1:model=simple/model1", "simple_mcqa:model=simple/model1"]
SPEND_PRICES = PRICES + "  - {model: helmcbench/slow-model1, input_per_million: 0, output_per_million: 0}\n"
BENCH = os.path.join(str(Path(__file__).resolve().parents[2]), "benchmarks")
PLUGIN = ["--plugins", os.path.join(BENCH, "helmc_bench_plugin.py")]


@pytest.fixture(scope="module")
def warm_prod_env(tmp_path_factory):
    """A --local-path whose HELM cache holds every request of the simple/model1 runs."""
    import shutil

    tmp = tmp_path_factory.mktemp("warm")
    shutil.copytree(os.path.join(BENCH, "prod_env"), tmp / "pe")
    env = {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": str(tmp / "helmc-cache")}
    r = subprocess.run(OURS + ["--run-entries", *CACHED, "-m", "3", "--suite", "warm", "-o", "out",
                               "--local-path", "pe", *PLUGIN], cwd=tmp, env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp / "pe" / "cache" / "simple.sqlite").is_file()
    return tmp / "pe"


def _journal_records(out):
    from helmc.runtime.journal import read_journal

    try:
        return read_journal(str(out), "s").records
    except Exception:  # noqa: BLE001 - read while helm-run writes it
        return {}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("cap", [["--max-cost", "0.000001"], ["--max-requests", "31"]], ids=["cost", "requests"])
def test_once_the_actual_spend_reaches_the_cap_no_further_run_starts(tmp_path, warm_prod_env, engine, cap):
    import json
    import shutil
    import time

    # one run at a time, so that the cache is removed before simple/model1's runs start; with the
    # cache (what this test is about)
    flags = [f for f in _engine(engine) if f not in ("--disable-cache", "--parallel-runs", "2")]
    shutil.copytree(warm_prod_env, tmp_path / "pe")
    (tmp_path / "p.yaml").write_text(SPEND_PRICES)
    env = {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": str(tmp_path / "helmc-cache"), "HELMC_BENCH_DELAY": "0.1"}
    p = subprocess.Popen(OURS + ["--run-entries", SLOW, *CACHED, "-m", "3", "--suite", "s", "-o", "out",
                                 "--local-path", "pe", *PLUGIN, "--prices", "p.yaml", *cap, *flags],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slow = "simple1:model=helmcbench_slow-model1,model_deployment=helmcbench_slow-model1"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and p.poll() is None:
        rec = _journal_records(tmp_path / "out").get(slow)
        if rec is not None and rec.state.value == "running":
            break
        time.sleep(0.05)
    # The gate has passed (the first run started) with simple/model1's requests counted as cached.
    for f in (tmp_path / "pe" / "cache").glob("simple.sqlite*"):
        f.unlink()
    stdout, stderr = p.communicate(timeout=900)
    assert p.returncode == 1, stdout[-3000:] + stderr[-3000:]
    assert "Traceback" not in stdout + stderr
    assert "reached --max-" in stderr and "1 run(s) not started" in stderr, stdout[-3000:] + stderr[-3000:]

    records = _journal_records(tmp_path / "out")
    first, paid, held = records[slow], records["simple1:model=simple_model1"], records["simple_mcqa:model=simple_model1"]
    assert first.state.value == paid.state.value == "done"
    assert first.actual["cost_usd"] == 0.0  # priced free
    # counted free by the estimate (all cached), sent after all: the actual spend
    assert paid.estimate["cached_requests"] == paid.estimate["requests"] == 30 and paid.estimate["cost_usd"] == 0.0
    assert paid.actual["requests"] == 30 and paid.actual["cached_requests"] == 0
    assert paid.actual["prompt_tokens"] == paid.estimate["prompt_tokens"]  # HELM's tokenizer, both times
    assert paid.actual["cost_usd"] > 0.000001
    assert held.state.value == "pending" and held.reason.startswith("not started: ")
    assert not (tmp_path / "out" / "runs" / "s" / "simple_mcqa:model=simple_model1").exists()

    status = subprocess.run([sys.executable, "-m", "helmc", "status", "--suite", "s", "-o", "out"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert status.returncode == 0
    assert f"simple_mcqa:model=simple_model1\n    {held.reason}\n" in status.stdout
    assert "estimate against actual" in status.stdout and "estimate against actual" in stdout
    doc = json.loads(subprocess.run([sys.executable, "-m", "helmc", "status", "--suite", "s", "-o", "out",
                                     "--format", "json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                    timeout=120).stdout)
    models = {m["model"]: m for m in doc["spend"]["models"]}
    assert models["simple/model1"]["actual"]["cost_usd"] == paid.actual["cost_usd"]
    assert models["simple/model1"]["estimate"]["cost_usd"] == 0.0 and models["simple/model1"]["actual_runs"] == 1
