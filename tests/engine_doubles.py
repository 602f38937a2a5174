"""A test double executor, importable by worker processes of every engine (Ray workers and
submitit jobs import it by name: the tests put this folder on PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from helmc.runtime.engine import Task
from helmc.runtime.executor import error_type


class DeterministicFailure(ValueError):
    """A failure no retry can change (as helm-run's own before HELM starts)."""


@dataclass(frozen=True)
class ScriptedExecutor:
    """Behaviour per task payload: ok, raise, die (the process running it is SIGKILLed), slow,
    flaky (dies on its first attempt only), fails-once (raises on its first attempt only),
    kills-host (first attempt: SIGKILLs the process that forked it, a Ray host, then itself;
    for the Ray engine only: under the local engine that would be helm-run), signal-N (the
    process running it gets signal N), exit-N (it exits with code N, without a result),
    lingers-N (its process lives N seconds more after the run, as an interpreter tearing down),
    niceness (writes NAME.niceness: the priority of the process running it),
    deterministic (raises DeterministicFailure, which `retryable` says no retry changes).
    Each attempt leaves a marker file NAME.PID.N in marker_dir."""

    marker_dir: str

    def execute(self, task: Task) -> None:
        kind = task.payload.decode()
        prior = [f for f in os.listdir(self.marker_dir) if f.startswith(task.name + ".")]
        open(os.path.join(self.marker_dir, f"{task.name}.{os.getpid()}.{len(prior) + 1}"), "w").close()
        if kind == "deterministic":
            raise DeterministicFailure(f"the same again in {task.name}")
        if kind == "raise" or (kind == "fails-once" and not prior):
            raise ValueError(f"boom in {task.name}")
        if kind == "die" or (kind == "flaky" and not prior):
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "kills-host" and not prior:
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        if kind.startswith("signal-"):  # the process running it gets this signal
            os.kill(os.getpid(), int(kind.removeprefix("signal-")))
            time.sleep(5)
        if kind.startswith("exit-"):  # the process running it exits with this code, no result
            os._exit(int(kind.removeprefix("exit-")))
        if kind.startswith("lingers-"):
            import atexit

            atexit.register(time.sleep, float(kind.removeprefix("lingers-")))
        if kind in ("slow", "kills-host"):
            time.sleep(0.3)
        if kind == "niceness":  # the scheduling priority of the process running it
            with open(os.path.join(self.marker_dir, f"{task.name}.niceness"), "w") as f:
                f.write(str(os.getpriority(os.PRIO_PROCESS, 0)))

    def retryable(self, error: str | None) -> bool:
        return error_type(error) != f"{DeterministicFailure.__module__}.{DeterministicFailure.__qualname__}"


def attempts(marker_dir: str, name: str) -> int:
    return sum(1 for f in os.listdir(marker_dir) if f.startswith(name + "."))


@dataclass(frozen=True)
class PacedExecutor:
    """Each task reserves `payload` request starts from the suite's governor (shared as `limits`
    say) and writes the start times it got to marker_dir/NAME.starts. On Ray, `warm_up` (run
    in the host) serves the host's forked children, as HelmExecutor's does."""

    marker_dir: str
    limits: object  # a RequestLimits

    def warm_up(self) -> None:
        from helmc.runtime.governor import serve_forked_children

        serve_forked_children(self.limits)

    def execute(self, task: Task) -> None:
        from helmc.runtime.governor import Governor

        g = Governor(self.limits)
        starts = []
        for _ in range(int(task.payload.decode())):
            starts.append(time.time() + g.reserve("rigapi/rig-model", 1))
        with open(os.path.join(self.marker_dir, task.name + ".starts"), "w") as f:
            f.write(" ".join(map(repr, starts)))


@dataclass(frozen=True)
class ConcurrentExecutor:
    """Each task sends `payload` requests to the rig at `url` from 4 threads, each through the
    suite's governor (`limits`: its concurrency slots and pace); a task `die` takes its slots and
    then its process dies, holding them. On Ray, `warm_up` (run in the host) serves the host's
    forked children, as HelmExecutor's does."""

    url: str
    limits: object  # a RequestLimits

    def warm_up(self) -> None:
        from helmc.runtime.governor import serve_forked_children

        serve_forked_children(self.limits)

    def execute(self, task: Task) -> None:
        import json
        import threading
        import urllib.request

        from helmc.runtime.governor import Governor

        g = Governor(self.limits)
        kind = task.payload.decode()
        if kind == "die":
            with g.slot("rigapi/rig-model"):
                os.kill(os.getpid(), signal.SIGKILL)
        n = int(kind)

        def post() -> dict:
            body = json.dumps({"model": "rig-model", "messages": [{"role": "user", "content": "x"}]}).encode()
            req = urllib.request.Request(self.url + "/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.load(r)

        todo = list(range(n))
        lock = threading.Lock()

        def sender() -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    todo.pop()
                g.send("rigapi/rig-model", {"prompt": "x"}, post)

        threads = [threading.Thread(target=sender) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def mark_process(marker_dir: str, what: str) -> None:
    """Leave WHAT.PID in marker_dir: this process did WHAT (a Ray host's `preload`)."""
    open(os.path.join(marker_dir, f"{what}.{os.getpid()}"), "w").close()


@dataclass
class WarmingExecutor:
    """Warms up in two stages as HelmExecutor does (`warm_up_first`, then `warm_up`), each given
    by `first` / `rest`, actions separated by commas: "ok", "raise" (it raises `warm-up broke in
    STAGE`), "import:MODULE" (tests/signal_setter.py sets a SIGALRM handler as it is imported),
    "wait:PATH" (it blocks until the file PATH exists: a test opens the gate). Each attempt writes
    NAME.json: the stages that finished in the process it was forked from, its parent's pid,
    whether signal_setter was imported before the run and the SIGALRM handler's name. A run
    fails, with one line, when HELM would not be configured (`first` did not finish)."""

    marker_dir: str
    first: str = "ok"
    rest: str = "ok"
    warmed: list = None  # type: ignore[assignment]  # filled in the host, inherited by its children

    def __post_init__(self) -> None:
        if self.warmed is None:
            self.warmed = []

    def warm_up_first(self) -> None:
        self._stage("first", self.first)

    def warm_up(self) -> None:
        self._stage("rest", self.rest)

    def _stage(self, name: str, what: str) -> None:
        import importlib

        for action in what.split(","):
            if action == "raise":
                raise ValueError(f"warm-up broke in {name}")
            if action.startswith("import:"):
                importlib.import_module(action.removeprefix("import:"))
            if action.startswith("wait:"):
                while not os.path.exists(action.removeprefix("wait:")):
                    time.sleep(0.01)
        self.warmed.append(name)

    def execute(self, task: Task) -> None:
        import json
        import sys

        handler = signal.getsignal(signal.SIGALRM)
        record = {"warmed": list(self.warmed), "parent": os.getppid(),
                  "imported": "signal_setter" in sys.modules,
                  "alarm": getattr(handler, "__qualname__", str(handler))}
        with open(os.path.join(self.marker_dir, task.name + ".json"), "w") as f:
            json.dump(record, f)
        if "first" not in self.warmed:
            raise RuntimeError("HELM is not configured in this worker (its warm-up failed)")
