"""The local engine and the journal, without HELM (the executor here is a test double for
scheduling only; HELM's own execution is covered by tests/runtime/test_suite_helm.py)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import pytest

from helmc.runtime.engine import Finished, LocalEngine, Started, Task
from helmc.runtime.journal import Journal, RunState, read_journal


@dataclass(frozen=True)
class ScriptedExecutor:
    """Behaviour per task name: ok, raise, or die (the worker process is killed)."""

    marker_dir: str

    def execute(self, task: Task) -> None:
        kind = task.payload.decode()
        open(os.path.join(self.marker_dir, f"{task.name}.{os.getpid()}"), "w").close()
        if kind == "raise":
            raise ValueError(f"boom in {task.name}")
        if kind == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "slow":
            time.sleep(0.3)


def _run(tmp_path, spec: dict[str, str], workers: int, **kw) -> list:
    events: list = []
    tasks = [Task(name, kind.encode()) for name, kind in spec.items()]
    LocalEngine(workers, tick_interval=0.05).run(tasks, ScriptedExecutor(str(tmp_path)), events.append, **kw)
    return events


def _finished(events) -> dict[str, Finished]:
    return {e.name: e for e in events if isinstance(e, Finished)}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_task_runs_once_and_failures_are_isolated(tmp_path, workers):
    spec = {"a": "ok", "b": "raise", "c": "ok", "d": "die", "e": "ok", "f": "slow"}
    events = _run(tmp_path, spec, workers)
    fin = _finished(events)
    assert set(fin) == set(spec)
    assert {n for n, e in fin.items() if e.ok} == {"a", "c", "e", "f"}
    assert "ValueError: boom in b" in fin["b"].error
    assert "worker process died" in fin["d"].error and "signal 9" in fin["d"].error
    starts = [e.name for e in events if isinstance(e, Started)]
    assert sorted(starts) == sorted(spec)  # each started exactly once


def test_work_is_spread_over_workers(tmp_path):
    _run(tmp_path, {f"t{i}": "slow" for i in range(4)}, 2)
    pids = {name.split(".")[1] for name in os.listdir(tmp_path)}
    assert len(pids) == 2


def test_stop_on_failure_dispatches_nothing_after_the_failure(tmp_path):
    spec = {"a": "raise", "b": "ok", "c": "ok", "d": "ok"}
    events = _run(tmp_path, spec, 1, stop_on_failure=True)
    fin = _finished(events)
    assert list(fin) == ["a"] and not fin["a"].ok
    assert [e.name for e in events if isinstance(e, Started)] == ["a"]


def test_no_tasks(tmp_path):
    assert _run(tmp_path, {}, 2) == []


def test_journal_roundtrip_and_atomic_file(tmp_path):
    j = Journal.open(str(tmp_path), "s")
    j.set("r1", "fp1", RunState.RUNNING)
    j.set("r1", "fp1", RunState.COMPLETED, duration=1.5)
    j.set("r2", "fp2", RunState.RUNNING)
    j2 = Journal.open(str(tmp_path), "s")
    assert j2.is_completed("r1", "fp1")
    assert not j2.is_completed("r1", "other-fingerprint")
    assert j2.was_interrupted("r2") and not j2.is_completed("r2", "fp2")
    assert j2.records["r1"].attempts == 1
    folder = os.path.dirname(j.path)
    assert os.listdir(folder) == ["journal.jsonl"]  # no temporary file left behind
    assert read_journal(str(tmp_path), "s").records["r1"].state is RunState.DONE


def test_a_damaged_journal_is_not_trusted(tmp_path):
    j = Journal.open(str(tmp_path), "s")
    j.set("r1", "fp1", RunState.COMPLETED)
    with open(j.path, "w") as f:
        f.write('{"version": 1, "runs": {"r1": {"fingerp')  # torn by hand: never by Journal.save
    assert not Journal.open(str(tmp_path), "s").is_completed("r1", "fp1")


def test_one_helm_run_per_suite_at_a_time(tmp_path):
    from helmc.runtime.journal import SuiteLocked, lock_suite

    fd = lock_suite(str(tmp_path), "s")
    with pytest.raises(SuiteLocked):
        lock_suite(str(tmp_path), "s")
    lock_suite(str(tmp_path), "other-suite")  # other suites are independent
    os.close(fd)
    os.close(lock_suite(str(tmp_path), "s"))  # released with its descriptor


@dataclass(frozen=True)
class HeapProbe:
    """Writes, from the worker, whether its collector still walks an object that the forking
    process made before the fork (it should not: a full collection would then touch, and so
    copy, every inherited page)."""

    marker_dir: str
    held: list  # made in the forking process

    def execute(self, task: Task) -> None:
        import gc

        walked = any(o is self.held for o in gc.get_objects())
        with open(os.path.join(self.marker_dir, f"{task.name}.walked"), "w") as f:
            f.write(str(walked))
        if task.payload == b"die":
            os.kill(os.getpid(), signal.SIGKILL)


def _fork_paths():
    def local(tmp_path, probe, names):  # helm-run's workers, including one that replaces a dead one
        tasks = [Task(n, b"die" if n == "first" else b"ok") for n in names]
        LocalEngine(1, tick_interval=0.05).run(tasks, probe, lambda e: None)

    def ray_host(tmp_path, probe, names):  # a Ray host forking each run (engines/remote.py)
        from helmc.runtime.engines.remote import RemoteExecutor, run_forked

        for n in names:
            run_forked(RemoteExecutor(probe, str(tmp_path)), Task(n, b"ok"))

    return [pytest.param(local, id="local"), pytest.param(ray_host, id="ray-host")]


@pytest.mark.parametrize("fork", _fork_paths())
def test_forked_workers_do_not_walk_the_forking_process_heap(tmp_path, fork):
    import gc

    probe = HeapProbe(str(tmp_path), [object()])
    assert any(o is probe.held for o in gc.get_objects())  # the probe itself can see it
    names = ["first", "second"]
    try:
        fork(tmp_path, probe, names)
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
    for n in names:
        assert (tmp_path / f"{n}.walked").read_text() == "False"
