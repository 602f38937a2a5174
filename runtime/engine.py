"""Engines run tasks somewhere and report what happened; they know nothing of HELM.

A task is a name and an opaque payload (for HELM: a pickled RunSpec). An executor, created by
the caller, knows how to run a payload; the engine only decides where and when. The local
engine below uses worker processes on this machine; a distributed engine would implement the
same `Engine.run` and ship payloads (and the executor) to other hosts.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Protocol, Sequence


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Started:
    name: str
    worker: int


@dataclass(frozen=True, slots=True)
class Finished:
    name: str
    worker: int
    ok: bool
    duration: float
    error: str | None = None  # one line, for the summary; the full traceback is in the run's log


Event = Started | Finished


class Executor(Protocol):
    """Runs one task in a worker. Raises on failure. Must be picklable for non-fork engines."""

    def execute(self, task: Task) -> None: ...


class Engine(ABC):
    @abstractmethod
    def run(
        self,
        tasks: Sequence[Task],
        executor: Executor,
        on_event: Callable[[Event], None],
        *,
        stop_on_failure: bool = False,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        """Run every task (unless stopped), calling on_event from the caller's thread.

        Tasks that were started but never finished (stop_on_failure, KeyboardInterrupt) get no
        Finished event; the caller treats them as interrupted.
        """


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the parent dies, so a kill -9 of helm-run leaves no
    orphan still writing into a run folder that the next helm-run will redo."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _worker_main(conn: Connection, executor: Executor, parent_pid: int) -> None:
    # Ctrl-C goes to the whole process group; only the parent decides what happens then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        t0 = time.monotonic()
        try:
            executor.execute(task)
            ok, error = True, None
        except BaseException as e:  # noqa: BLE001 - a run's failure must never end the worker
            ok, error = False, _one_line(e)
        try:
            conn.send((task.name, ok, time.monotonic() - t0, error))
        except (EOFError, OSError, BrokenPipeError):
            break


def _one_line(e: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    one = " ".join(ln.strip() for ln in text.splitlines() if ln.strip()) or type(e).__name__
    return one if len(one) <= 200 else one[:197] + "..."  # the whole story is in the run's log


@dataclass(slots=True)
class _Worker:
    index: int
    process: multiprocessing.process.BaseProcess
    conn: Connection
    task: Task | None = None
    started: float = 0.0
    alive: bool = True


class LocalEngine(Engine):
    """N worker processes on this machine, one run at a time each.

    Workers are forked, so they inherit HELM already imported and configured (registries,
    plugins) by the parent: no start-up cost per worker. The parent has a single thread (no
    rich refresh thread, pipes instead of queues) so forking is safe, including when a crashed
    worker is replaced in the middle of a suite.
    """

    def __init__(self, workers: int, tick_interval: float = 0.25) -> None:
        self.workers = max(1, workers)
        self.tick_interval = tick_interval
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")

    def _spawn(self, index: int, executor: Executor) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(
            target=_worker_main, args=(child_conn, executor, os.getpid()), name=f"helmc-worker-{index}", daemon=True
        )
        p.start()
        child_conn.close()
        return _Worker(index, p, parent_conn)

    def run(
        self,
        tasks: Sequence[Task],
        executor: Executor,
        on_event: Callable[[Event], None],
        *,
        stop_on_failure: bool = False,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        pending: deque[Task] = deque(tasks)
        pool: list[_Worker] = []
        stopping = False
        try:
            for i in range(min(self.workers, len(pending))):
                pool.append(self._spawn(i, executor))
            while True:
                if not stopping:
                    for w in pool:
                        if w.alive and w.task is None and pending:
                            task = pending.popleft()
                            w.task, w.started = task, time.monotonic()
                            on_event(Started(task.name, w.index))
                            try:
                                w.conn.send(task)
                            except (OSError, BrokenPipeError):
                                pass  # its death is noticed below, and the run reported failed
                busy = [w for w in pool if w.alive and w.task is not None]
                if not busy:
                    break
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], self.tick_interval)
                for w in busy:
                    if w.task is None:
                        continue
                    if w.conn in ready:
                        try:
                            name, ok, duration, error = w.conn.recv()
                        except (EOFError, OSError):
                            self._lost(w, on_event)
                        else:
                            w.task = None
                            on_event(Finished(name, w.index, ok, duration, error))
                            if not ok and stop_on_failure:
                                stopping = True
                    elif w.process.sentinel in ready:
                        self._lost(w, on_event)
                    if not w.alive and not stopping and pending:
                        pool[pool.index(w)] = self._spawn(w.index, executor)
                    elif not w.alive and stopping:
                        pass
                if stopping:
                    # --exit-on-error: stop now; runs still going are interrupted, not failed.
                    break
                if on_tick is not None:
                    on_tick()
        finally:
            self._shutdown(pool)

    def _lost(self, w: _Worker, on_event: Callable[[Event], None]) -> None:
        """A worker died in the middle of a run (segfault, OOM killer): that run failed."""
        w.process.join(timeout=5)
        code = w.process.exitcode
        why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        task, w.task, w.alive = w.task, None, False
        if task is not None:
            on_event(Finished(task.name, w.index, False, time.monotonic() - w.started, f"worker process died ({why})"))

    @staticmethod
    def _shutdown(pool: list[_Worker]) -> None:
        for w in pool:
            if w.alive and w.task is None:
                try:
                    w.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            elif w.alive:
                w.process.terminate()  # interrupted in the middle of a run
        deadline = time.monotonic() + 10
        for w in pool:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            w.conn.close()
