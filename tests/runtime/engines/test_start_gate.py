"""Slurm-local jobs start up a core's worth at a time until the first is ready to send, then all
at once (engines/remote.py StartGate). Real processes (forked here, as submitit spawns them),
real lock files; the executor double records when each worker got past the gate and when it
said it was ready."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass

import pytest

from helmc.runtime.engine import Task, worker_ready
from helmc.runtime.engines.remote import RemoteExecutor, StartGate, run_remote


@dataclass(frozen=True)
class _Startup:
    """Stands for a spawned job: `startup` seconds of start-up, then ready (or a failure or a
    death before it), then `run` seconds of run. Writes one JSON line of times per worker."""

    log: str
    startup: float = 0.4
    run: float = 0.4

    def execute(self, task: Task) -> None:
        entered = time.time()
        kind = task.payload.decode()
        if kind == "dies":
            os._exit(9)
        time.sleep(self.startup)
        if kind == "fails":
            self._write(task, entered, None)
            raise ValueError("no client")
        ready = time.time()
        worker_ready()
        self._write(task, entered, ready)
        time.sleep(self.run)

    def _write(self, task: Task, entered: float, ready: float | None) -> None:
        with open(self.log, "a") as f:
            f.write(json.dumps({"name": task.name, "entered": entered, "ready": ready}) + "\n")


def _worker(remote: RemoteExecutor, task: Task) -> None:
    run_remote(remote, task)


def _run(tmp_path, kinds: list[str], slots: int, gate: bool = True, stagger: float = 0.0) -> dict[str, dict]:
    log = str(tmp_path / "times.jsonl")
    folder = tmp_path / "gate"
    folder.mkdir(exist_ok=True)
    remote = RemoteExecutor(_Startup(log), str(tmp_path), None, StartGate(str(folder), slots) if gate else None)
    ctx = multiprocessing.get_context("fork")
    procs = []
    for i, kind in enumerate(kinds):
        p = ctx.Process(target=_worker, args=(remote, Task(f"w{i}", kind.encode())))
        p.start()
        procs.append(p)
        time.sleep(stagger)
    for p in procs:
        p.join(30)
        assert p.exitcode is not None, "a worker hung at the gate"
    if not os.path.exists(log):
        return {}
    return {r["name"]: r for r in map(json.loads, open(log))}


@pytest.mark.parametrize("slots", [1, 2])
def test_the_first_workers_start_up_alone_then_the_gate_opens_for_all(tmp_path, slots):
    times = _run(tmp_path, ["ok"] * 6, slots, stagger=0.02)
    assert len(times) == 6
    by_entry = sorted(times.values(), key=lambda r: r["entered"])
    first, rest = by_entry[:slots], by_entry[slots:]
    first_ready = min(r["ready"] for r in first)
    # nobody else got past the gate before one of the first was ready to send
    assert all(r["entered"] >= first_ready - 0.05 for r in rest), (first_ready, [r["entered"] for r in rest])
    # then the rest started up together, not by turns: all in within a fraction of a start-up
    assert max(r["entered"] for r in rest) - min(r["entered"] for r in rest) < 0.3


def test_without_a_gate_every_worker_starts_at_once(tmp_path):
    times = _run(tmp_path, ["ok"] * 4, 1, gate=False)
    entered = [r["entered"] for r in times.values()]
    assert max(entered) - min(entered) < 0.3


@pytest.mark.parametrize("first", ["fails", "dies"])
def test_a_worker_that_fails_or_dies_in_its_start_up_frees_its_slot(tmp_path, first):
    t0 = time.time()
    times = _run(tmp_path, [first, "ok", "ok"], 1, stagger=0.1)
    assert {"w1", "w2"} <= set(times)
    assert all(times[n]["ready"] is not None for n in ("w1", "w2"))
    assert time.time() - t0 < 10  # not the gate's 60 s wait


def test_a_gate_folder_that_cannot_hold_its_files_is_no_gate(tmp_path):
    log = str(tmp_path / "times.jsonl")
    missing = str(tmp_path / "no" / "such" / "folder")
    remote = RemoteExecutor(_Startup(log, startup=0.0, run=0.0), str(tmp_path), None, StartGate(missing, 1))
    assert run_remote(remote, Task("w", b"ok"))[0]


def test_a_gate_an_earlier_helm_run_opened_is_shut_for_the_next(tmp_path):
    from helmc.runtime.engines.slurm_engine import SlurmEngine

    pytest.importorskip("submitit")
    _run(tmp_path, ["ok"], 1)
    assert os.path.exists(tmp_path / "gate" / "start-gate.open")
    engine = SlurmEngine(1, folder=str(tmp_path / "gate"), cluster="local")
    engine._open(_Startup(str(tmp_path / "x")), 1)
    assert not os.path.exists(tmp_path / "gate" / "start-gate.open")
    assert engine._remote.start_gate == StartGate(str(tmp_path / "gate"), engine._remote.start_gate.slots)
