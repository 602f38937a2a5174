"""What the tests that run the real crfm-helm share: the commands (helmc's helm-run and HELM's),
the benchmark's slow suite and its prod_env, a run folder's comparable content, the journal
read as `helmc status` reads it, and waiting on a running helm-run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

# a module that imports this one is skipped with it when crfm-helm is missing
if importlib.util.find_spec("helm") is None:
    pytest.skip("crfm-helm is not installed", allow_module_level=True)

from helmc.runtime.journal import RunState, read_journal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BENCH = os.path.join(ROOT, "benchmarks")


OURS = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]


HELMS = [sys.executable, "-m", "helm.benchmark.run"]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", **extra}


def _runs(out: str, suite: str) -> dict[str, dict]:
    """Run folder name -> {file: parsed JSON} for the files whose content must match."""
    folder = os.path.join(out, "runs", suite)
    result = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name == "eval_cache" or not os.path.isdir(path):
            continue
        files = sorted(os.listdir(path))
        content = {"files": files}
        for f in ("run_spec.json", "scenario.json"):
            with open(os.path.join(path, f)) as fh:
                content[f] = json.load(fh)
        with open(os.path.join(path, "stats.json")) as fh:
            content["stat names"] = sorted(json.dumps(s["name"], sort_keys=True) for s in json.load(fh))
        result[name] = content
    return result


def _write(path: str, text: str) -> str:
    with open(path, "w") as f:
        f.write(text)
    return path


SLOW_CONF = """entries: [
  {description: "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1,max_train_instances=all", priority: 1}
  {description: "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1,stop=hash", priority: 1}
]
"""


SUITE = "e"


DELAY = "0.05"


def _flags(tmp: str, out: str, pe: str) -> list[str]:
    return ["--conf-paths", os.path.join(tmp, "slow.conf"), "-m", "4", "--suite", SUITE, "-o", out,
            "--local-path", pe, "--plugins", os.path.join(BENCH, "helmc_bench_plugin.py"), "-n", "1"]


def _setup(tmp: str, *prod_envs: str) -> None:
    _write(os.path.join(tmp, "slow.conf"), SLOW_CONF)
    for pe in prod_envs:
        shutil.copytree(os.path.join(BENCH, "prod_env"), os.path.join(tmp, pe))


@pytest.fixture(scope="module")

def helm_reference(tmp_path_factory) -> dict:
    """The slow suite run by HELM's own helm-run, once for this module."""
    tmp = str(tmp_path_factory.mktemp("helm_ref"))
    _setup(tmp, "pe")
    r = subprocess.run(HELMS + _flags(tmp, "out", "pe"), cwd=tmp, env=_env(HELMC_BENCH_DELAY=DELAY),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    runs = _runs(os.path.join(tmp, "out"), SUITE)
    assert len(runs) == 7
    return runs


def _records(out: str) -> dict:
    try:
        return dict(read_journal(out, SUITE).records)  # read-only, as `helmc status`
    except Exception:  # noqa: BLE001 - read while helm-run writes it
        return {}


def _holders(path: str) -> list[int]:
    """The processes that have `path` open (a run's HELM log is open while the run executes)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    pids.append(int(pid))
                    break
        except OSError:
            continue
    return pids


def _log(out: str, run: str) -> str:
    return os.path.realpath(os.path.join(out, "helmc", SUITE, "logs", run.replace(os.sep, "_") + ".log"))


def _executing(out: str, helm_run: int) -> tuple[str, list[int]] | None:
    """A run that is executing, and the processes that execute it (they hold its HELM log)."""
    for name, rec in _records(out).items():
        if rec.state is RunState.RUNNING:
            pids = [q for q in _holders(_log(out, name)) if q != helm_run]
            if pids:
                return name, pids
    return None


def _wait_for(p: subprocess.Popen, cond, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        if p.poll() is not None:
            pytest.fail(f"helm-run ended before {what}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")
