"""Engines run tasks somewhere and report what happened; they know nothing of HELM.

A task is a name and an opaque payload (for HELM: a pickled RunSpec). An executor, created by
the caller, knows how to run a payload; the engine only decides where and when.

`Engine.run` is one loop for every engine: the scheduler (runtime/scheduler.py) picks the next
task when a slot is free (longest first, per-provider limits, retries with backoff), events go
back to the caller's thread (which journals them and draws the progress), and a backend starts
and watches attempts: worker processes here (`LocalEngine`), Ray tasks (engines/ray_engine.py)
or submitit jobs (engines/slurm_engine.py). A backend reports each attempt's end as a `Done`:
the executor's own failure, or the death of whatever ran it (SIGKILL, OOM, preemption, a lost
node), which the loop treats alike.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Protocol, Sequence

from .task import Task  # noqa: F401 - the scheduler's unit too: its own module, so neither imports the other
from .interrupts import forking


@dataclass(frozen=True, slots=True)
class Started:
    name: str
    worker: int
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Finished:
    name: str
    worker: int
    ok: bool
    duration: float
    error: str | None = None  # one line, for the summary; the full traceback is in the run's log
    attempt: int = 1
    retry_in: float | None = None  # failed, and will be retried after this many seconds


Event = Started | Finished


class Executor(Protocol):
    """Runs one task in a worker. Raises on failure. Must be picklable for non-fork engines.

    It may also have a `retryable(error)` method (is a failed attempt worth another, given its
    one-line error; see `retryable` below), a `warm_up()` method: engines whose workers are forked from a process
    other than the caller's (a Ray host) call it there once, before the first fork (and
    `warm_up_first()` before it, if there is one, after which they may fork a few workers); and a
    `before_fork()` method, which the local engine calls once before it forks its workers. In a
    worker that starts cold (a Slurm job), `execute` calls `worker_ready()` once its start-up is
    over; until then (or its end) a Slurm-local job holds its slot of the start gate."""

    def execute(self, task: Task) -> None: ...


def retryable(executor: Executor, error: str | None) -> bool:
    """Whether a retry could change a failed attempt: the executor's `retryable(error)` says,
    if it has one (a failure before the run started, the same on every attempt, is not)."""
    check = getattr(executor, "retryable", None)
    return True if check is None else bool(check(error))


@dataclass(frozen=True, slots=True)
class Done:
    """The end of one attempt, as a backend saw it."""

    slot: int
    ok: bool
    duration: float | None = None  # measured by the worker; None: the parent's clock is used
    error: str | None = None


_ready_callbacks: list[Callable[[], None]] = []


def when_worker_ready(callback: Callable[[], None]) -> None:
    """Call `callback` once this worker's executor says it is ready to send (`worker_ready`),
    or at once if it never says so before its task ends (the caller calls `worker_ready`)."""
    _ready_callbacks.append(callback)


def worker_ready() -> None:
    """An executor in a worker that was not forked from a warm process says its start-up (its
    imports and configuration) is over; engines use it to let the next worker start up
    (engines/remote.py's start gate). Idempotent."""
    while _ready_callbacks:
        _ready_callbacks.pop()()


def execute_timed(executor: Executor, task: Task) -> tuple[bool, float, str | None]:
    """Run a task in a worker: (ok, seconds, one-line error). Never raises."""
    t0 = time.monotonic()
    try:
        executor.execute(task)
        return True, time.monotonic() - t0, None
    except BaseException as e:  # noqa: BLE001 - a run's failure must never end the worker
        return False, time.monotonic() - t0, one_line(e)


def one_line(e: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    one = " ".join(ln.strip() for ln in text.splitlines() if ln.strip()) or type(e).__name__
    return one if len(one) <= 200 else one[:197] + "..."  # the whole story is in the run's log


class Engine(ABC):
    """The scheduling loop shared by every engine; subclasses are backends (`_open`,
    `_submit`, `_wait`, `_close`), with `slots` attempts in flight at most."""

    kind = "engine"
    warms_up = False  # whether workers fork from a process of the engine's that calls `warm_up`

    def __init__(
        self,
        slots: int,
        *,
        retries: int = 0,
        backoff: float = 1.0,
        max_per_provider: int | None = None,
        tick_interval: float = 0.25,
    ) -> None:
        self.slots = max(1, slots)
        self.retries = retries
        self.backoff = backoff
        self.max_per_provider = max_per_provider
        self.tick_interval = tick_interval

    # ---------------------------------------------------------------- backend hooks

    @abstractmethod
    def _open(self, executor: Executor, slots: int) -> None:
        """Prepare to run attempts (start workers, connect to a cluster...)."""

    @abstractmethod
    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        """Start each task in its slot (a slot is free when it is given)."""

    @abstractmethod
    def _wait(self, timeout: float) -> list[Done]:
        """Block at most `timeout` seconds; the attempts that ended."""

    @abstractmethod
    def _close(self) -> None:
        """Stop whatever still runs (interrupted) and release everything. Must not raise."""

    def worker_label(self, slot: int) -> str:
        return f"worker {slot + 1}"

    def slots_for(self, tasks: Sequence[Task]) -> int:
        """How many attempts can be in flight at once for these tasks: never more than there
        are tasks, nor more than --max-runs-per-provider lets each provider's runs take."""
        usable = len(tasks)
        if self.max_per_provider is not None:
            per: dict[str | None, int] = {}
            for t in tasks:
                key = t.provider if t.limited else None
                per[key] = per.get(key, 0) + 1
            usable = sum(n if key is None else min(n, self.max_per_provider) for key, n in per.items())
        return max(1, min(self.slots, usable)) if tasks else 0

    def start_early(self, preload: Callable[[], None] | None = None) -> None:
        """Begin what takes long and needs no task yet (starting Ray), in the background, while
        the caller still prepares the tasks; workers started then may call `preload` (picklable)
        before the executor is known. The caller then calls `release` in any case."""

    def release(self) -> None:
        """Stop what `start_early` began, if `run` did not (the caller stopped before running)."""

    # ---------------------------------------------------------------- the loop

    def run(
        self,
        tasks: Sequence[Task],
        executor: Executor,
        on_event: Callable[[Event], None],
        *,
        stop_on_failure: bool = False,
        on_tick: Callable[[], None] | None = None,
        may_start: Callable[[], bool] | None = None,
    ) -> None:
        """Run every task (unless stopped), calling on_event from the caller's thread.

        Tasks that were started but never finished (stop_on_failure, KeyboardInterrupt) get no
        final Finished event; the caller treats them as interrupted. Once `may_start` answers
        False (the budget is spent) no task or retry starts; those in flight finish.
        """
        from .scheduler import Scheduler

        sched = Scheduler(tasks, retries=self.retries, backoff=self.backoff, max_per_provider=self.max_per_provider)
        if sched.exhausted():
            return
        slots = self.slots_for(tasks)
        free = list(range(slots - 1, -1, -1))  # pop() gives slot 0 first
        running: dict[int, tuple[Task, int, float]] = {}
        stopping = held = False  # held: no more starts, but the runs in flight finish
        self._open(executor, slots)
        try:
            while True:
                now = time.monotonic()
                if not stopping and may_start is not None and not may_start():
                    stopping = held = True
                if not stopping and free:
                    batch: list[tuple[int, Task]] = []
                    while free:
                        nxt = sched.next(now)
                        if nxt is None:
                            break
                        task, attempt = nxt
                        slot = free.pop()
                        running[slot] = (task, attempt, now)
                        on_event(Started(task.name, slot, attempt))
                        batch.append((slot, task))
                    if batch:
                        self._submit(batch)
                if not running:
                    if stopping or sched.exhausted():
                        break
                    # Only retries waiting for their backoff (or runs held by a provider limit,
                    # which cannot happen with nothing running): sleep until the first is due.
                    due = sched.next_retry_at()
                    time.sleep(min(self.tick_interval, max(0.0, (due or now) - now)))
                    if on_tick is not None:
                        on_tick()
                    continue
                for d in self._wait(self.tick_interval):
                    task, attempt, t0 = running.pop(d.slot)
                    free.append(d.slot)
                    end = time.monotonic()
                    retry_in = sched.finished(task, attempt, d.ok, end,
                                              retryable=d.ok or retryable(executor, d.error))
                    duration = d.duration if d.duration is not None else end - t0
                    on_event(Finished(task.name, d.slot, d.ok, duration, d.error, attempt, retry_in))
                    if not d.ok and retry_in is None and stop_on_failure:
                        stopping, held = True, False
                if stopping and not held:
                    # --exit-on-error: stop now; runs still going are interrupted, not failed.
                    break
                if on_tick is not None:
                    on_tick()
        finally:
            self._close()


# ------------------------------------------------------------------------------ local


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies, so a kill -9 of helm-run leaves no
    orphan still writing into a run folder that the next helm-run will redo."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def freeze_before_fork() -> None:
    """Move every object alive now into the collector's permanent generation, right before a
    fork. A forked worker's collections then skip the hundreds of thousands of objects it
    inherits (HELM, scikit-learn, scipy, pandas: imported once in the forking process), instead
    of walking them at every full collection and writing their headers, which copies nearly
    every inherited page (copy-on-write). On issue 25's latency suite this was about 30% of the
    CPU of `--parallel-runs 8` (docs/performance.md). The forking process never
    collects what is frozen: it is helm-run (or a Ray host) for one suite, and what it held
    before forking it holds to the end anyway."""
    gc.freeze()


def _worker_main(conn: Connection, executor: Executor, parent_pid: int) -> None:
    # Ctrl-C goes to the whole process group; only the parent decides what happens then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        ok, duration, error = execute_timed(executor, task)
        try:
            conn.send((ok, duration, error))
        except (EOFError, OSError, BrokenPipeError):
            break


@dataclass(slots=True)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    busy: bool = False


class LocalEngine(Engine):
    """N worker processes on this machine, one run at a time each.

    Workers are forked, so they inherit HELM already imported and configured (registries,
    plugins) by the parent: no start-up cost per worker. The parent has a single thread (no
    rich refresh thread, pipes instead of queues) so forking is safe, including when a dead
    worker is replaced in the middle of a suite.
    """

    kind = "local"

    def __init__(self, workers: int, tick_interval: float = 0.25, **kw: object) -> None:
        super().__init__(workers, tick_interval=tick_interval, **kw)  # type: ignore[arg-type]
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._pool: dict[int, _Worker] = {}
        self._executor: Executor | None = None

    @property
    def workers(self) -> int:
        return self.slots

    def _spawn(self, slot: int) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self._executor, os.getpid()),
            name=f"helmc-worker-{slot}",
            daemon=True,
        )
        if self._ctx.get_start_method() == "fork":
            freeze_before_fork()
        with forking():
            p.start()
        child_conn.close()
        return _Worker(p, parent_conn)

    def _open(self, executor: Executor, slots: int) -> None:
        self._executor = executor
        self._pool = {}
        before_fork = getattr(executor, "before_fork", None)
        if before_fork is not None and self._ctx.get_start_method() == "fork":
            before_fork()  # what every worker would otherwise build alike

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        for slot, task in batch:
            w = self._pool.get(slot)
            if w is None or not w.process.is_alive():
                if w is not None:
                    w.conn.close()
                w = self._pool[slot] = self._spawn(slot)  # first use, or replacing a dead one
            w.busy = True
            try:
                w.conn.send(task)
            except (OSError, BrokenPipeError):
                pass  # its death is noticed by _wait, and the attempt reported failed

    def _wait(self, timeout: float) -> list[Done]:
        busy = {slot: w for slot, w in self._pool.items() if w.busy}
        if not busy:
            return []
        ready = set(wait([w.conn for w in busy.values()] + [w.process.sentinel for w in busy.values()], timeout))
        done: list[Done] = []
        for slot, w in busy.items():
            if w.conn in ready:
                try:
                    ok, duration, error = w.conn.recv()
                except (EOFError, OSError):
                    done.append(self._lost(slot, w))
                else:
                    w.busy = False
                    done.append(Done(slot, ok, duration, error))
            elif w.process.sentinel in ready:
                done.append(self._lost(slot, w))
        return done

    def _lost(self, slot: int, w: _Worker) -> Done:
        """A worker died in the middle of a run (SIGKILL, segfault, OOM killer)."""
        w.process.join(timeout=5)
        code = w.process.exitcode
        why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        w.busy = False
        return Done(slot, False, None, f"worker process died ({why})")

    def _close(self) -> None:
        pool, self._pool = self._pool, {}
        for w in pool.values():
            if w.process.is_alive() and not w.busy:
                try:
                    w.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            elif w.process.is_alive():
                w.process.terminate()  # interrupted in the middle of a run
        deadline = time.monotonic() + 10
        for w in pool.values():
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            w.conn.close()


class InlineEngine(Engine):
    """Runs each task in the calling process, one at a time: for simulations (benchmarks/
    bench_scale.py measures helmc's own overhead per run with it) and tests."""

    kind = "inline"

    def _open(self, executor: Executor, slots: int) -> None:
        self._executor = executor
        self._done: list[Done] = []

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        for slot, task in batch:
            ok, duration, error = execute_timed(self._executor, task)
            self._done.append(Done(slot, ok, duration, error))

    def _wait(self, timeout: float) -> list[Done]:
        done, self._done = self._done, []
        return done

    def _close(self) -> None:
        self._done = []
