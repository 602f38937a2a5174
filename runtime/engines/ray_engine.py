"""`--engine ray`: one Ray task per run attempt (extra `helmc[ray]`).

Without `--ray-address`, helm-run starts a Ray instance on this machine and stops it at the end;
with one, it connects to that cluster and leaves it running. Each task asks for
`--ray-num-cpus` CPUs and `--ray-num-gpus` GPUs. Ray's own retries are off (`max_retries=0`):
a task whose worker process or node dies comes back as a failed attempt, and helm-run's
`--retries` decide, as for every engine.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..engine import Done, Engine, Executor, Task
from . import RemoteExecutor, run_remote


def _ray_run(remote: RemoteExecutor, task: Task) -> tuple[bool, float, str | None]:
    return run_remote(remote, task)


class RayEngine(Engine):
    kind = "ray"

    def __init__(
        self,
        slots: int,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(slots, **kw)
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self._started_ray = False
        self._refs: dict[Any, int] = {}

    def _open(self, executor: Executor, slots: int) -> None:
        import ray

        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                # A private instance for this helm-run. Runs mostly wait on model APIs, so it
                # offers at least enough logical CPUs for --parallel-runs tasks at once.
                ray.init(
                    address="local",  # a new instance, never one that another process left running
                    num_cpus=max(os.cpu_count() or 1, int(slots * self.num_cpus + 0.999)),
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                    object_store_memory=80 * 1024 * 1024,
                    configure_logging=True,
                )
                self._started_ray = True
        self._fn = ray.remote(max_retries=0, num_cpus=self.num_cpus, num_gpus=self.num_gpus)(_ray_run)
        self._remote = ray.put(RemoteExecutor(executor, os.getcwd(), os.getpid() if self._started_ray else None))
        self._refs = {}

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        for slot, task in batch:
            self._refs[self._fn.remote(self._remote, task)] = slot

    def _wait(self, timeout: float) -> list[Done]:
        import ray

        if not self._refs:
            return []
        refs = list(self._refs)
        ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        done: list[Done] = []
        for ref in ready:
            slot = self._refs.pop(ref)
            try:
                ok, duration, error = ray.get(ref)
            except ray.exceptions.RayError as e:  # the worker process or its node died
                done.append(Done(slot, False, None, f"Ray task failed: {_ray_error(e)}"))
            else:
                done.append(Done(slot, ok, duration, error))
        return done

    def _close(self) -> None:
        try:
            import ray

            for ref in list(self._refs):
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - already finished, or the cluster is gone
                    pass
            self._refs = {}
            if self._started_ray:
                ray.shutdown()
                self._started_ray = False
        except Exception:  # noqa: BLE001 - shutting down must not hide the suite's result
            pass

    def worker_label(self, slot: int) -> str:
        return f"ray task {slot + 1}"


def _ray_error(e: BaseException) -> str:
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    text = f"{type(e).__name__}: {first}" if first else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."
