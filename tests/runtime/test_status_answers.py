"""What helm-run and `helmc status` say about a suite must be what its run folders hold, with
the real crfm-helm (offline: simple1 on simple/model1). Marked `helm`."""

from __future__ import annotations

from pathlib import Path

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.helm
pytest.importorskip("helm.benchmark.run")

TESTS = str(Path(__file__).resolve().parents[1])
HELM_RUN = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]
STATUS = [sys.executable, "-m", "helmc", "status"]
RUN = "simple1:model=simple_model1"
FILES = ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json")


def _run(cmd: list[str], cwd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": TESTS + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _base(*more: str) -> list[str]:
    return HELM_RUN + ["-r", "simple1:model=simple/model1", "-m", "2", "--suite", "s", "-o", "out", *more]


def _folder_state(tmp: str) -> dict[str, tuple[int, bytes]]:
    folder = os.path.join(tmp, "out", "runs", "s", RUN)
    out = {}
    for f in FILES:
        path = os.path.join(folder, f)
        with open(path, "rb") as fh:
            out[f] = (os.stat(path).st_mtime_ns, fh.read())
    return out


def _status(tmp: str) -> dict:
    r = _run(STATUS + ["--suite", "s", "-o", "out", "--format", "json"], tmp)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("flags", [("--skip-instances",), ("--cache-instances", "--cache-instances-only")],
                         ids=["skip-instances", "cache-instances-only"])
def test_a_run_that_writes_no_files_changes_nothing_the_journal_says(tmp_path, flags):
    """HELM's Runner returns before writing a run's files under these flags (runner.py): the
    rerun must not report the suite redone, and the next normal run must not redo it."""
    tmp = str(tmp_path)
    first = _run(_base(), tmp)
    assert first.returncode == 0, first.stdout + first.stderr
    before_files, before_status = _folder_state(tmp), _status(tmp)
    assert before_status["runs"][0]["state"] == "done"

    r = _run(_base(*flags), tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "completed" not in r.stdout.splitlines()[-1], r.stdout
    assert f"1 ran without writing run files ({flags[-1]}" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    after = _status(tmp)
    # The same runs, states, attempts and times; the same session (its command re-runs them).
    assert after["runs"] == before_status["runs"]
    assert after["helm_run"]["command"] == before_status["helm_run"]["command"]
    assert _folder_state(tmp) == before_files

    again = _run(_base(), tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 done, 0 failed" in again.stdout and "1 of the done runs completed earlier (skipped)" in again.stdout
    assert _folder_state(tmp) == before_files
    assert _status(tmp)["runs"][0]["attempts"] == 1


def test_a_runner_that_writes_nothing_does_not_complete_the_run(tmp_path):
    """Whatever the Runner: a run whose files are missing after run_one is a failed run."""
    tmp = str(tmp_path)
    r = _run(_base("--runner-class-name", "runner_doubles.SilentRunner"), tmp)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "0 done, 1 failed" in r.stdout
    assert "Traceback" not in r.stderr
    run = _status(tmp)["runs"][0]
    assert run["state"] == "failed"
    assert "without writing" in run["error"] and "stats.json" in run["error"]
    # The next normal run does it.
    r = _run(_base(), tmp)
    assert r.returncode == 0 and "1 done, 0 failed" in r.stdout and "0 of the done runs completed earlier" in r.stdout, \
        r.stdout + r.stderr
