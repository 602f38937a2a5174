"""Every engine through HELM itself, with real processes: the differential against
HELM's helm-run, a worker SIGKILLed in the middle of a run (retried, the suite ends complete),
and helm-run itself killed with SIGKILL (the next helm-run resumes without redoing finished
runs). Ray runs on a local Ray instance, Slurm on submitit's local executor. Marked `helm`."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from helm_suite import (DELAY, OURS, SUITE, _env, _executing, _flags, _holders, _log, _records, _runs, _setup,
                        _wait_for, helm_reference)  # noqa: F401 (a fixture)

from helmc.runtime.journal import RunState

pytestmark = pytest.mark.helm

ENGINES = {
    "local": ["--engine", "local"],
    "ray": ["--engine", "ray"],
    "slurm": ["--engine", "slurm", "--slurm-cluster", "local"],
}


@pytest.fixture
def session_reaper():
    """Kill whatever a test's helm-run left behind (its process group), Ray included."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize("engine", list(ENGINES))
def test_sigkill_a_worker_the_run_is_retried_and_the_suite_completes(tmp_path, engine, helm_reference,
                                                                      session_reaper):
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    out = os.path.join(tmp, "out")
    cmd = OURS + _flags(tmp, "out", "pe") + ENGINES[engine] + ["--parallel-runs", "2", "--retries", "1",
                                                               "--retry-backoff", "0"]
    p = subprocess.Popen(cmd, cwd=tmp, env=_env(HELMC_BENCH_DELAY=DELAY), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    session_reaper.append(p.pid)

    victim, pids = _wait_for(p, lambda: _executing(out, p.pid), "a run was executing")
    for q in pids:
        os.kill(q, signal.SIGKILL)
    stdout, _ = p.communicate(timeout=900)
    assert p.returncode == 0, stdout[-4000:]
    assert "Traceback" not in stdout
    recs = _records(out)
    assert all(r.state is RunState.DONE for r in recs.values()), recs
    assert recs[victim].attempts == 2
    assert "1 started more than once (retried or redone)" in stdout  # the journal's count, as helmc status shows it
    assert _runs(out, SUITE) == helm_reference  # the differential: HELM's folders and files


@pytest.mark.parametrize("engine", list(ENGINES))
def test_kill_9_helm_run_then_the_same_command_resumes(tmp_path, engine, helm_reference, session_reaper):
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    out = os.path.join(tmp, "out")
    cmd = OURS + _flags(tmp, "out", "pe") + ENGINES[engine] + ["--parallel-runs", "2"]
    env = _env(HELMC_BENCH_DELAY=DELAY)
    p = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    session_reaper.append(p.pid)

    def some_done_some_running():
        states = [r.state for r in _records(out).values()]
        return states.count(RunState.DONE) >= 1 and RunState.RUNNING in states

    _wait_for(p, some_done_some_running, "a run completed and another was running")
    os.kill(p.pid, signal.SIGKILL)  # helm-run alone: its workers must not outlive it
    p.wait()
    before = _records(out)
    completed = {n for n, r in before.items() if r.state is RunState.DONE}
    interrupted = {n for n, r in before.items() if r.state is RunState.RUNNING}
    assert completed and interrupted
    logs = [_log(out, n) for n in before]
    deadline = time.monotonic() + 30
    while any(_holders(path) for path in logs) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_holders(path) for path in logs), "a worker outlived helm-run and still writes a run"
    stamps = {n: os.stat(os.path.join(out, "runs", SUITE, n, "stats.json")).st_mtime_ns for n in completed}

    r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=900, start_new_session=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    after = _records(out)
    assert all(rec.state is RunState.DONE for rec in after.values())
    for n in completed:
        assert os.stat(os.path.join(out, "runs", SUITE, n, "stats.json")).st_mtime_ns == stamps[n], n
        assert after[n].attempts == 1, (before[n], after[n])
    for n in interrupted:  # a failed attempt before the kill would show here: its error is kept
        assert after[n].attempts == 2, (before[n], after[n])
    assert _runs(out, SUITE) == helm_reference


def _group(pgid: int) -> list[str]:
    """The live processes of a process group (zombies left out: they are gone, not yet reaped)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(pid)
    return found


def test_ray_started_early_is_stopped_when_helm_run_stops_before_running(tmp_path, session_reaper):
    """helm-run starts Ray while HELM builds the runs; when it then stops without running any
    (here --only-runs names no run), it stops Ray too: nothing of its process group is left."""
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    cmd = OURS + _flags(tmp, "out", "pe") + ENGINES["ray"] + ["--only-runs", "no-such-run"]
    p = subprocess.Popen(cmd, cwd=tmp, env=_env(HELMC_BENCH_DELAY=DELAY), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    session_reaper.append(p.pid)
    stdout, _ = p.communicate(timeout=300)
    assert p.returncode == 1, stdout[-3000:]
    assert "nothing to run" in stdout and "Traceback" not in stdout
    deadline = time.monotonic() + 10
    while _group(p.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group(p.pid) == []
