"""Slurm's commands, played on one machine, for tests only: `sbatch` runs a batch script's jobs
(each task of a job array too) as local processes with Slurm's environment variables, `sacct`
reports their states, `scancel` signals them, and `srun` runs its command with --output and
--error. submitit's SlurmExecutor drives them unchanged, so helm-run's `--engine slurm
--slurm-cluster slurm` path (the sbatch script, job arrays, states, cancelling) runs for real
here, with no Slurm cluster. The jobs' state lives in $FAKE_SLURM_DIR; every batch script
submitted is kept there (scripts/JOBID.sh) for the tests to read."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys

STATE = os.environ.get("FAKE_SLURM_DIR", "")


def _next_id() -> int:
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, "counter"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read() or "1000") + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
    return n


def _state_path(job: str) -> str:
    return os.path.join(STATE, "jobs", job)


def _set_state(job: str, state: str, pid: int | None = None) -> None:
    os.makedirs(os.path.join(STATE, "jobs"), exist_ok=True)
    tmp = _state_path(job) + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{state} {pid or 0}\n")
    os.replace(tmp, _state_path(job))


def _get_state(job: str) -> tuple[str, int]:
    with open(_state_path(job)) as f:
        state, pid = f.read().split()
    return state, int(pid)


def _jobs_of(job_id: str) -> list[str]:
    """`123` names a job or every task of an array; `123_4` one task."""
    folder = os.path.join(STATE, "jobs")
    names = sorted(n for n in os.listdir(folder) if not n.endswith(".tmp")) if os.path.isdir(folder) else []
    return [n for n in names if n == job_id or n.split("_")[0] == job_id]


def sbatch(argv: list[str]) -> int:
    script = argv[-1]
    with open(script) as f:
        text = f.read()
    options = dict(re.findall(r"^#SBATCH --([\w-]+)(?:=(.*))?$", text, re.M))
    jid = _next_id()
    os.makedirs(os.path.join(STATE, "scripts"), exist_ok=True)
    with open(os.path.join(STATE, "scripts", f"{jid}.sh"), "w") as f:
        f.write(text)
    tasks: list[tuple[str, dict[str, str]]] = []
    if options.get("array"):
        m = re.fullmatch(r"(\d+)-(\d+)(?:%\d+)?", options["array"])
        if not m:
            print(f"sbatch: error: invalid --array={options['array']}", file=sys.stderr)
            return 1
        for i in range(int(m.group(1)), int(m.group(2)) + 1):
            env = {"SLURM_JOB_ID": str(_next_id()), "SLURM_ARRAY_JOB_ID": str(jid), "SLURM_ARRAY_TASK_ID": str(i)}
            tasks.append((f"{jid}_{i}", env))
    else:
        tasks.append((str(jid), {"SLURM_JOB_ID": str(jid)}))
    for name, env in tasks:
        _set_state(name, "PENDING")
        full = {**os.environ, **env, "SLURM_NTASKS": "1", "SLURM_JOB_NUM_NODES": "1", "SLURM_NODEID": "0",
                "SLURM_JOB_NODELIST": "localhost", "SLURM_PROCID": "0", "SLURM_LOCALID": "0"}
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "_job", name, script], env=full,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # its own process group: scancel's target
    print(f"Submitted batch job {jid}")
    return 0


def job(name: str, script: str) -> int:
    """One job (or array task): run the batch script, then record how it ended.

    FAKE_SLURM_NOT_SHARED=FOLDER: the job runs as on a node that does not share FOLDER (a mount
    namespace of its own with an empty tmpfs there); FAKE_SLURM_READ_ONLY=FOLDER: as on a node
    that mounts FOLDER read-only."""
    _set_state(name, "RUNNING", os.getpid())
    setup = []
    if os.environ.get("FAKE_SLURM_NOT_SHARED"):
        setup.append('mount -t tmpfs none "$FAKE_SLURM_NOT_SHARED"')
    if os.environ.get("FAKE_SLURM_READ_ONLY"):
        setup.append('mount --bind "$FAKE_SLURM_READ_ONLY" "$FAKE_SLURM_READ_ONLY" && '
                     'mount -o remount,ro,bind "$FAKE_SLURM_READ_ONLY"')
    if setup:
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", " && ".join(setup) + ' && exec bash "$0"', script]
    else:
        cmd = ["bash", script]
    rc = subprocess.call(cmd)
    state, _ = _get_state(name)
    if state != "CANCELLED":
        _set_state(name, "COMPLETED" if rc == 0 else "FAILED")
    return 0


def srun(argv: list[str]) -> int:
    out = err = None
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        if argv[i] in ("--output", "--error"):
            value = argv[i + 1]
            for pattern, var in (("%A", "SLURM_ARRAY_JOB_ID"), ("%a", "SLURM_ARRAY_TASK_ID"),
                                 ("%j", "SLURM_JOB_ID"), ("%t", "SLURM_PROCID")):
                value = value.replace(pattern, os.environ.get(var, ""))
            if argv[i] == "--output":
                out = value
            else:
                err = value
            i += 2
        else:
            i += 1
    stdout = open(out, "a") if out else None
    stderr = open(err, "a") if err else stdout
    return subprocess.call(argv[i:], stdout=stdout, stderr=stderr)


def sacct(argv: list[str]) -> int:
    ids = [argv[k + 1] for k, a in enumerate(argv) if a == "-j"]
    print("JobID|State|NodeList")
    for jid in ids:
        for name in _jobs_of(jid):
            state, _ = _get_state(name)
            print(f"{name}|{state}|localhost")
    return 0


def scancel(argv: list[str]) -> int:
    sig = signal.SIGKILL
    if "--signal" in argv:
        sig = signal.Signals[argv[argv.index("--signal") + 1] if argv[argv.index("--signal") + 1].startswith("SIG")
                             else "SIG" + argv[argv.index("--signal") + 1]]
    for jid in (a for a in argv if a[:1].isdigit()):
        for name in _jobs_of(jid):
            state, pid = _get_state(name)
            if state not in ("PENDING", "RUNNING"):
                continue
            if sig is signal.SIGKILL:
                _set_state(name, "CANCELLED")
            if pid:
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    pass
    return 0


if __name__ == "__main__":  # bin/COMMAND runs `fakeslurm.py COMMAND ARGS...`
    command, args = sys.argv[1], sys.argv[2:]
    if command == "_job":
        sys.exit(job(args[0], args[1]))
    sys.exit({"sbatch": sbatch, "sacct": sacct, "scancel": scancel, "srun": srun}[command](args))
