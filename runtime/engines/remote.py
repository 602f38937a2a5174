"""Workers elsewhere: what a Ray task or a submitit job runs. Its own module, which the Ray and
Slurm engines import, so that they and the package that builds them (engines/__init__.py) do
not import each other."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..engine import Executor, Task, execute_timed, freeze_before_fork, when_worker_ready, worker_ready
from ..interrupts import forking
from ..locks import lock_one_of


@dataclass(frozen=True, slots=True)
class StartGate:
    """Workers spawned on one machine (Slurm-local jobs) start up `slots` at a time until the
    first of them is ready to send (HELM configured, the run's scenario, client and SDK
    imported): each holds one of `slots` lock files in `folder` meanwhile. Eight jobs importing
    HELM at once on 2 cores all finish together, late; the first `slots` alone send after a
    fraction of that time. Then the gate opens for every job (a marker file): once the pace is
    kept by a job that sends, the others start up at once, so that they all send long before
    the suite's end (taking turns to the end, the last ones started too late to keep the pace).
    A worker that dies frees its slot with its process."""

    folder: str
    slots: int


GATE_MAX_WAIT_S = 60.0  # a start-up that hangs holds its slot; the others go on after this


def _enter_gate(gate: StartGate) -> int | None:
    """Take a slot of the gate (its file descriptor), waiting for one; None after
    GATE_MAX_WAIT_S or when the folder cannot hold the lock files (start without the gate)."""
    deadline = time.monotonic() + GATE_MAX_WAIT_S
    delay = 0.01
    while True:
        if os.path.exists(_gate_open(gate)):
            return None
        try:
            fd = lock_one_of(os.path.join(gate.folder, f"start-gate.{i}") for i in range(max(1, gate.slots)))
        except OSError:
            return None
        if fd is not None:
            return fd
        if time.monotonic() > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _gate_open(gate: StartGate) -> str:
    return os.path.join(gate.folder, "start-gate.open")


def _open_gate(gate: StartGate) -> None:
    try:
        os.close(os.open(_gate_open(gate), os.O_WRONLY | os.O_CREAT, 0o644))
    except OSError:  # the others then wait for a slot, as before
        pass


def close_gate(gate: StartGate) -> None:
    """Before a suite's first job: shut what an earlier helm-run's jobs opened."""
    try:
        os.unlink(_gate_open(gate))
    except OSError:
        pass


@dataclass(frozen=True, slots=True)
class RemoteExecutor:
    """What a Ray task or a submitit job receives: the executor, the submitting directory
    (relative --output-path and --local-path mean the same there), and, for workers on this
    machine, helm-run's pid, so that they stop if helm-run is killed."""

    executor: Executor
    cwd: str
    watch_pid: int | None = None
    start_gate: StartGate | None = None


_watching: set[int] = set()


def _watch(pid: int, interval: float = 0.5) -> None:
    """End this process when `pid` is gone (polled: a Ray worker or a submitit job is no child
    of helm-run, so PR_SET_PDEATHSIG cannot do it)."""
    if pid in _watching:
        return
    _watching.add(pid)

    def loop() -> None:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
            time.sleep(interval)

    threading.Thread(target=loop, name="helmc-watch-parent", daemon=True).start()


def enter(remote: RemoteExecutor) -> None:
    """Make this worker process stand where helm-run stands (its directory, its `python -m`
    path) and stop with it."""
    enter_at(remote.cwd, remote.watch_pid)


def enter_at(cwd: str, watch_pid: int | None) -> None:
    """`enter`, before the executor is known (a Ray host created as soon as Ray is up)."""
    if watch_pid is not None:
        _watch(watch_pid)
    if os.path.isdir(cwd) and os.getcwd() != cwd:
        os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` in the submitting directory would have it


def run_remote(remote: RemoteExecutor, task: Task) -> tuple[bool, float, str | None]:
    enter(remote)
    gate = remote.start_gate
    fd = _enter_gate(gate) if gate is not None else None
    if gate is None or fd is None:
        return execute_timed(remote.executor, task)
    released = threading.Lock()

    def leave() -> None:
        if released.acquire(blocking=False):
            _open_gate(gate)
            os.close(fd)

    when_worker_ready(leave)
    try:
        return execute_timed(remote.executor, task)
    finally:
        worker_ready()  # an executor that never said it was ready (failed before) frees it here


def run_forked(remote: RemoteExecutor, task: Task, forked: Callable[[], None] | None = None,
               in_child: Callable[[], None] | None = None) -> tuple[bool, float | None, str | None]:
    """Run a task in a child forked from this process (a warm host: HELM already imported and
    configured), as the local engine's workers are forked from helm-run. Returns what
    execute_timed returns, or (False, None, why) when the child died without a result
    (SIGKILL, OOM killer). The child stops when this process or helm-run is gone. `forked` is
    called in this process once the fork is over (done or failed), before the child ends;
    `in_child` first thing in the child.

    This process may have threads (a Ray worker's): the child uses none of them; it gets fresh
    standard streams (a lock that another thread held at the fork stays held in the child)."""
    r, w = os.pipe()
    host = os.getpid()
    freeze_before_fork()
    try:
        with forking():
            pid = os.fork()
    finally:
        if forked is not None and os.getpid() == host:
            forked()
    if pid == 0:  # the child: run, send the result, leave without any cleanup of the host's
        code = 1
        try:
            os.close(r)
            if in_child is not None:
                in_child()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # helm-run alone decides what Ctrl-C does
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sys.stdout = open(1, "w", buffering=1, closefd=False, errors="backslashreplace")
            sys.stderr = open(2, "w", buffering=1, closefd=False, errors="backslashreplace")
            _watching.clear()  # the host's watching threads did not come along
            _watch(host, 0.2)
            if remote.watch_pid is not None:
                _watch(remote.watch_pid)
            data = pickle.dumps(execute_timed(remote.executor, task))
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if data:
        try:
            return pickle.loads(data)
        except Exception:  # noqa: BLE001 - cut short: treated as a death
            pass
    code = os.waitstatus_to_exitcode(status)
    why = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return False, None, f"the process running it died ({why})"
