"""`--engine slurm`: one submitit job per run attempt (extra `helmc[slurm]`).

`--slurm-cluster slurm` submits to Slurm with sbatch; `--slurm-cluster local` runs the very same
pickled jobs with submitit's local executor (processes on this machine), which is how the tests
run here. Every Slurm parameter (partition, account, time, gpus_per_node, mem, ...) comes from
`--slurm-arg KEY=VALUE` or `--slurm-config FILE`; nothing is hard-coded. Runs that start
together are submitted as one job array. A job that dies (SIGKILL, OOM, preemption, time limit)
comes back as a failed attempt, and `--retries` decide.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..engine import Done, Engine, Executor, Task
from .remote import RemoteExecutor, StartGate, close_gate, run_remote

# submitit's local executor kills a job after `timeout_min` (2 minutes by default): a HELM run
# may take hours, so locally there is no limit unless `--slurm-arg time=MINUTES` sets one.
LOCAL_TIMEOUT_MIN = 7 * 24 * 60
# What helm-run changes in submitit's sbatch defaults: no time limit of its own (None: no
# `--time` line), and a job name that says what the job is in squeue.
SLURM_DEFAULTS: dict[str, Any] = {"time": None, "job_name": "helm-run"}


def _job(remote: RemoteExecutor, task: Task) -> tuple[bool, float, str | None]:
    return run_remote(remote, task)


class SlurmEngine(Engine):
    kind = "slurm"

    def __init__(self, slots: int, *, folder: str, cluster: str = "slurm",
                 params: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(slots, **kw)
        self.folder = folder
        self.cluster = cluster
        self.params = dict(params or {})
        self._jobs: dict[int, Any] = {}

    def _open(self, executor: Executor, slots: int) -> None:
        import submitit

        folder = os.path.join(self.folder, "%j")
        if self.cluster == "local":
            from .slurm_local import LocalExecutor

            ex: Any = LocalExecutor(folder=folder)
            minutes = self.params.get("time")
            ex.update_parameters(timeout_min=int(minutes) if minutes is not None else LOCAL_TIMEOUT_MIN)
            if self.params.get("gpus_per_node"):
                ex.update_parameters(gpus_per_node=int(self.params["gpus_per_node"]))
        else:
            ex = submitit.SlurmExecutor(folder=folder)
            # submitit would write `--time=5` (minutes) unless told otherwise, and HELM runs take
            # hours: without --slurm-arg time=..., the partition's own default limit applies.
            ex.update_parameters(**{**SLURM_DEFAULTS, **self.params})
        self._ex = ex
        # Local jobs watch helm-run and stop if it dies (a kill -9 must leave no orphan writing
        # into a run folder that the next helm-run redoes); Slurm jobs run on other hosts.
        watch = os.getpid() if self.cluster == "local" else None
        # Local jobs share this machine's cores: they start up a core's worth at a time
        # (remote.StartGate); jobs on a cluster each have their own node's.
        gate = None
        if self.cluster == "local":
            os.makedirs(self.folder, exist_ok=True)
            gate = StartGate(os.path.abspath(self.folder), _cores())
            close_gate(gate)  # an earlier helm-run of the suite opened it
        self._remote = RemoteExecutor(executor, os.getcwd(), watch, gate)
        self._jobs = {}

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        if len(batch) > 1 and self.cluster != "local":
            with self._ex.batch():  # one sbatch: a job array
                jobs = [self._ex.submit(_job, self._remote, task) for _, task in batch]
        else:
            jobs = [self._ex.submit(_job, self._remote, task) for _, task in batch]
        for (slot, _), job in zip(batch, jobs):
            self._jobs[slot] = job

    def _wait(self, timeout: float) -> list[Done]:
        deadline = time.monotonic() + timeout
        while True:
            done: list[Done] = []
            for slot, job in list(self._jobs.items()):
                early = self._result_written(job)
                if early is not None:
                    del self._jobs[slot]
                    done.append(Done(slot, *early))
                    continue
                if not job.done():
                    continue
                del self._jobs[slot]
                if self.cluster == "local" and not job.paths.result_pickle.exists():
                    # A local job writes its result before its process exits, and the controller
                    # ends after it: no result now is none ever (job.result() would wait 15 s).
                    from .slurm_local import how_it_ended

                    why = how_it_ended(job._process.returncode if job._process is not None else None)
                    done.append(Done(slot, False, None, f"job {job.job_id} ended without a result: {why}"))
                    continue
                try:
                    ok, duration, error = job.result()
                except Exception as e:  # noqa: BLE001 - the job died: killed, OOM, preempted, timed out
                    done.append(Done(slot, False, None, _job_error(job, e)))
                else:
                    done.append(Done(slot, ok, duration, error))
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _result_written(self, job: Any) -> tuple[bool, float, str | None] | None:
        """A local job's result, once written, before its processes have exited: submitit
        writes the result aside and moves it into place, and a job process that loaded HELM
        then spends a second or more tearing its interpreter down, and its controller after
        it, while the run is over (the suite's end waited for the last one's). None: no
        result yet, or not one of a run (the job's own failure: read as before, at its end)."""
        if self.cluster != "local" or not job.paths.result_pickle.exists():
            return None
        try:
            outcome, value = job._get_outcome_and_result()
        except Exception:  # noqa: BLE001 - unreadable now: read again at the job's end
            return None
        if outcome != "success" or not isinstance(value, tuple) or len(value) != 3:
            return None
        return value

    def _close(self) -> None:
        for job in self._jobs.values():
            try:
                job.cancel(check=False)
            except Exception:  # noqa: BLE001
                pass
        self._jobs = {}

    def worker_label(self, slot: int) -> str:
        return f"job slot {slot + 1}"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _job_error(job: Any, e: BaseException) -> str:
    try:
        state = job.state
    except Exception:  # noqa: BLE001
        state = "unknown"
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    text = f"job {job.job_id} ended without a result (state {state}): {first}"
    return text if len(text) <= 200 else text[:197] + "..."
