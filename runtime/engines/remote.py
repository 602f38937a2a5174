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

from ..engine import Executor, Task, execute_timed, freeze_before_fork


@dataclass(frozen=True, slots=True)
class RemoteExecutor:
    """What a Ray task or a submitit job receives: the executor, the submitting directory
    (relative --output-path and --local-path mean the same there), and, for workers on this
    machine, helm-run's pid, so that they stop if helm-run is killed."""

    executor: Executor
    cwd: str
    watch_pid: int | None = None


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
    if remote.watch_pid is not None:
        _watch(remote.watch_pid)
    if os.path.isdir(remote.cwd) and os.getcwd() != remote.cwd:
        os.chdir(remote.cwd)
    if remote.cwd not in sys.path:
        sys.path.insert(0, remote.cwd)  # as `python -m` in the submitting directory would have it


def run_remote(remote: RemoteExecutor, task: Task) -> tuple[bool, float, str | None]:
    enter(remote)
    return execute_timed(remote.executor, task)


def run_forked(remote: RemoteExecutor, task: Task) -> tuple[bool, float | None, str | None]:
    """Run a task in a child forked from this process (a warm host: HELM already imported and
    configured), as the local engine's workers are forked from helm-run. Returns what
    execute_timed returns, or (False, None, why) when the child died without a result
    (SIGKILL, OOM killer). The child stops when this process or helm-run is gone.

    This process may have threads (a Ray worker's): the child uses none of them; it gets fresh
    standard streams (a lock that another thread held at the fork stays held in the child)."""
    r, w = os.pipe()
    host = os.getpid()
    freeze_before_fork()
    pid = os.fork()
    if pid == 0:  # the child: run, send the result, leave without any cleanup of the host's
        code = 1
        try:
            os.close(r)
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
