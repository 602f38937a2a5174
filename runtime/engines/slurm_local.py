"""`--slurm-cluster local`: submitit's local executor, with a controller that says how a job ended.

submitit's LocalExecutor starts one controller process per job (`submitit.local._local`), which
starts the job's task and waits for it. Three things of it are wrong for helm-run, and this
module changes only those:

- The controller exits 0 whatever became of the task, so a job whose process was killed reads
  `FINISHED`, and `job.result()` then waits 15 s (`_results_timeout_s`, meant for slow network
  file systems) for a result that will never come. Here the controller exits with the task's
  end (128 + N for signal N, like a shell), and the engine reads it at once: a local job's
  result file is written before its task exits, so once the controller is gone it is there or
  never will be.
- The controller shares helm-run's terminal: a traceback of its own (the job folder missing
  because helm-run was killed between starting it and creating that folder; a Ctrl-C) reaches
  the user. Here it writes to `controllers.log` in the submit folder, in a session of its own
  (helm-run alone decides what Ctrl-C does, as for every engine), and it waits for the job's
  pickle before starting the task, or leaves quietly if helm-run is gone.
- Everything else (the task's command, environment, logs, timeout signals, requeue) is
  submitit's own Controller.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import submitit
from submitit.core import utils
from submitit.local import local

CONTROLLER_LOG = "controllers.log"
_PICKLE_WAIT = 60.0  # seconds a controller waits for helm-run to write its job's pickle


class LocalExecutor(submitit.LocalExecutor):
    """submitit's LocalExecutor whose jobs run under `Controller` below."""

    def _submit_command(self, command: str) -> local.LocalJob:
        # As LocalExecutor._submit_command, with this module's controller.
        ntasks = self.parameters.get("tasks_per_node", 1)
        n_gpus = self.parameters.get("gpus_per_node", 0)
        visible = self.parameters.get("visible_gpus", ())
        gpus = range(n_gpus) if visible == () else visible[:n_gpus]
        env = dict(os.environ)
        env.update(
            SUBMITIT_LOCAL_NTASKS=str(ntasks),
            SUBMITIT_LOCAL_COMMAND=command,
            SUBMITIT_LOCAL_TIMEOUT_S=str(int(60 * self.parameters.get("timeout_min", 2.0))),
            SUBMITIT_LOCAL_SIGNAL_DELAY_S=str(int(self.parameters.get("signal_delay_s", 30))),
            SUBMITIT_LOCAL_NODEID="0",
            SUBMITIT_LOCAL_JOB_NUM_NODES="1",
            SUBMITIT_STDERR_TO_STDOUT="1" if self.parameters.get("stderr_to_stdout", False) else "",
            SUBMITIT_EXECUTOR="local",
            CUDA_VISIBLE_DEVICES=",".join(str(k) for k in gpus),
            SUBMITIT_LOCAL_WITH_SHELL="",
            HELMC_SUBMITTER_PID=str(os.getpid()),
        )
        log_folder = utils.JobPaths.get_first_id_independent_folder(self.folder)
        with open(log_folder / CONTROLLER_LOG, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.folder)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            )
        return local.LocalJob(folder=self.folder, job_id=str(process.pid), process=process,
                              tasks=list(range(ntasks)))


class Controller(local.Controller):
    """submitit's controller, remembering how its tasks ended."""

    exit_codes: list[int | None]

    def wait(self, freq: int = 24) -> Any:
        self.exit_codes = list(super().wait(freq))
        return self.exit_codes


def how_it_ended(returncode: int | None) -> str:
    """A controller's exit status (this module's `main`) in words."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        return f"its controller was killed by {_signal_name(-returncode)}"
    if returncode > 128:
        return f"its process was killed by {_signal_name(returncode - 128)}"
    if returncode == 0:
        return "its process exited 0"
    return f"its process exited with code {returncode}"


def _signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def _exit_status(codes: list[int | None]) -> int:
    """The first task's end that is not a success, as a shell reports it (128 + N for signal N)."""
    for code in codes:
        if code is None:
            return 124  # still running after the time limit's signals
        if code < 0:
            return 128 + (-code)
        if code != 0:
            return min(code, 128)
    return 0


def _wait_for_pickle(folder: Path, job_id: str, submitter: int) -> bool:
    """helm-run writes the job's pickle just after starting this process: wait for it, unless
    helm-run is gone (killed in between), which no one will do."""
    pickle = utils.JobPaths(folder, job_id).submitted_pickle
    deadline = time.monotonic() + _PICKLE_WAIT
    while not pickle.exists():
        if os.getppid() != submitter or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def main() -> int:
    folder = Path(sys.argv[1])
    controller = Controller(folder)
    if not _wait_for_pickle(folder, controller.pid, int(os.environ.get("HELMC_SUBMITTER_PID") or os.getppid())):
        print(f"controller {controller.pid}: no job pickle (helm-run gone); nothing started", flush=True)
        return 0
    try:
        controller.run()
    except KeyboardInterrupt:  # job.cancel: submitit's run() has stopped the tasks on its way out
        return 128 + signal.SIGINT
    return _exit_status(getattr(controller, "exit_codes", []))


if __name__ == "__main__":
    sys.exit(main())
