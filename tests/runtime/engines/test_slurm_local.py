"""`--engine slurm --slurm-cluster local`: submitit's local executor, real processes. A job that
dies is noticed at once and named by how it ended; nothing of submitit's controller ever
reaches helm-run's terminal, also when helm-run is killed. Marked `helm` with the other slow
real-process tests."""

from __future__ import annotations

from pathlib import Path

import os
import signal
import subprocess
import sys
import time

import pytest

from engine_doubles import ScriptedExecutor
from helmc.runtime.engine import Finished, Task

pytestmark = pytest.mark.helm
pytest.importorskip("submitit")

TESTS = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def importable_doubles(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.mark.parametrize("payload,said", [
    ("die", "its process was killed by signal 9 (SIGKILL)"),
    (f"signal-{int(signal.SIGABRT)}", "its process was killed by signal 6 (SIGABRT)"),
    (f"signal-{int(signal.SIGSEGV)}", "its process was killed by signal 11 (SIGSEGV)"),
    ("exit-3", "its process exited with code 3"),
])
def test_a_job_that_ends_without_a_result_is_noticed_at_once_and_named(tmp_path, importable_doubles, payload, said):
    from helmc.runtime.engines.slurm_engine import SlurmEngine

    (tmp_path / "m").mkdir()
    engine = SlurmEngine(2, folder=str(tmp_path / "jobs"), cluster="local", params={"time": 10}, tick_interval=0.05)
    events: list = []
    t0 = time.monotonic()
    engine.run([Task("x", payload.encode()), Task("ok", b"ok")], ScriptedExecutor(str(tmp_path / "m")),
               lambda ev: events.append((time.monotonic() - t0, ev)))
    ends = {ev.name: (t, ev) for t, ev in events if isinstance(ev, Finished)}
    t, ev = ends["x"]
    assert not ev.ok
    assert ev.error.startswith("job ") and ev.error.endswith(f"ended without a result: {said}"), ev.error
    assert "FINISHED" not in ev.error
    assert t < 8.0, f"noticed after {t:.1f} s"  # submitit's own result wait alone is 15 s
    assert ends["ok"][1].ok


def test_a_run_is_over_when_its_result_is_written_not_when_its_process_has_exited(tmp_path, importable_doubles):
    # A job process that loaded HELM spends a second or more tearing down after its result is
    # written; the suite's end used to wait for the last one's.
    from helmc.runtime.engines.slurm_engine import SlurmEngine

    marks = tmp_path / "m"
    marks.mkdir()
    engine = SlurmEngine(1, folder=str(tmp_path / "jobs"), cluster="local", params={"time": 10}, tick_interval=0.05)
    finished: list = []
    engine.run([Task("x", b"lingers-6")], ScriptedExecutor(str(marks)),
               lambda ev: finished.append((time.time(), ev)) if isinstance(ev, Finished) else None)
    (t, ev), = finished
    ran = min(p.stat().st_mtime for p in marks.iterdir())
    assert ev.ok, ev.error
    assert t - ran < 4.0, f"reported {t - ran:.1f} s after the run, its process lingering 6 s"


RACE = """
import os, sys
from helmc.runtime.engines.slurm_local import LocalExecutor
ex = LocalExecutor(folder=os.path.join(sys.argv[1], "%j"))
ex.update_parameters(timeout_min=1)
job = ex._submit_command(ex._submitit_command_str)  # helm-run starts the job's controller...
print(job.job_id, flush=True)
os._exit(0)  # ...and is killed before it writes the job's pickle
"""


def test_helm_run_killed_before_the_job_pickle_leaves_a_quiet_controller(tmp_path):
    """submitit's own controller prints `FileNotFoundError: ... _log.out` to the terminal here."""
    p = subprocess.run([sys.executable, "-c", RACE, str(tmp_path)], capture_output=True, text=True, timeout=60)
    controller = int(p.stdout.strip())
    assert p.stderr == ""
    deadline = time.monotonic() + 15
    while os.path.exists(f"/proc/{controller}") and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = os.path.exists(f"/proc/{controller}") and "Z" not in open(f"/proc/{controller}/stat").read().split()[2]
    assert not alive, "the controller outlived helm-run"
    log = (tmp_path / "controllers.log").read_text()
    assert "Traceback" not in log and "nothing started" in log


@pytest.mark.parametrize("delay", [0.0, 1.5], ids=["as the job starts", "while it runs"])
def test_kill_9_of_helm_run_on_slurm_local_prints_no_traceback(tmp_path, delay):
    """helm-run's stdout and stderr are read to their end (every process that holds them gone):
    only helm-run's own output, never a traceback from a job or its controller."""
    from helmc.runtime.journal import read_journal

    cmd = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())",
           "-r", "simple1:model=simple/model1", "-m", "2", "--suite", "s", "-o", "out",
           "--engine", "slurm", "--slurm-cluster", "local", "--retries", "0"]
    env = {**os.environ, "NO_COLOR": "1"}
    p = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        records = read_journal(str(tmp_path / "out"), "s").records
        if any(r.state.value == "running" for r in records.values()):
            break
        assert p.poll() is None, "helm-run ended before it could be killed"
        time.sleep(0.01)
    time.sleep(delay)
    os.kill(p.pid, signal.SIGKILL)
    output, _ = p.communicate(timeout=60)  # EOF: every holder of the pipe is gone
    text = output.decode("utf-8", "replace")
    assert "Traceback" not in text and "Error" not in text, text[-3000:]
