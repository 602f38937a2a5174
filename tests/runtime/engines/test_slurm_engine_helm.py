"""`--engine slurm` with the Slurm cluster path (`--slurm-cluster slurm`, the default): submitit's
SlurmExecutor writes sbatch scripts and submits them, with Slurm's commands played on this
machine by tests/fake_slurm (no Slurm cluster here). What this covers that the local cluster
cannot: the sbatch script helm-run's flags produce, job arrays, job states read through sacct,
and a job killed on its node coming back as a failed attempt that is retried. Marked `helm`."""

from __future__ import annotations

from pathlib import Path

import glob
import os
import re
import signal
import subprocess

import pytest

from helm_suite import OURS, SUITE, _env, _executing, _flags, _records, _runs, _setup, _wait_for, helm_reference  # noqa: F401

from helmc.runtime.journal import RunState

pytestmark = pytest.mark.helm

FAKE = os.path.join(str(Path(__file__).resolve().parents[2]), "fake_slurm")


def _slurm_env(state: str) -> dict[str, str]:
    import sys

    return _env(HELMC_BENCH_DELAY="0.05", FAKE_SLURM_DIR=state, FAKE_SLURM_PYTHON=sys.executable,
                PATH=os.path.join(FAKE, "bin") + os.pathsep + os.environ.get("PATH", ""))


def _scripts(state: str) -> list[str]:
    out = []
    for path in sorted(glob.glob(os.path.join(state, "scripts", "*.sh"))):
        with open(path) as f:
            out.append(f.read())
    return out


def test_sbatch_jobs_from_the_flags_and_helms_run_folders(tmp_path, helm_reference) -> None:
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    state = os.path.join(tmp, "slurm")
    cmd = OURS + _flags(tmp, "out", "pe") + [
        "--engine", "slurm", "--parallel-runs", "2", "--disable-cache",
        "--slurm-arg", "partition=debug", "--slurm-arg", "mem=4G", "--slurm-arg", "cpus_per_task=2",
    ]
    r = subprocess.run(cmd, cwd=tmp, env=_slurm_env(state), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert _runs(os.path.join(tmp, "out"), SUITE) == helm_reference  # HELM's folders and files

    scripts = _scripts(state)
    assert scripts, "nothing was submitted with sbatch"
    for text in scripts:
        assert "#SBATCH --partition=debug" in text
        assert "#SBATCH --mem=4G" in text
        assert "#SBATCH --cpus-per-task=2" in text
        assert "#SBATCH --job-name=helm-run" in text
        # submitit's default is 5 minutes; a HELM run takes hours: the partition's limit applies
        assert not re.search(r"^#SBATCH --time", text, re.M), text
    # runs that start together go in one sbatch, as a job array
    assert any(re.search(r"^#SBATCH --array=0-1%2$", text, re.M) for text in scripts), scripts


def test_a_job_killed_on_its_node_is_retried(tmp_path, helm_reference) -> None:
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    state = os.path.join(tmp, "slurm")
    out = os.path.join(tmp, "out")
    cmd = OURS + _flags(tmp, "out", "pe") + ["--engine", "slurm", "--parallel-runs", "2", "--disable-cache",
                                             "--retry-backoff", "0"]  # --retries: 1 by default here
    p = subprocess.Popen(cmd, cwd=tmp, env=_slurm_env(state), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        victim, pids = _wait_for(p, lambda: _executing(out, p.pid), "a run was executing in a job")
        for q in pids:
            os.kill(q, signal.SIGKILL)  # the node's OOM killer, say
        stdout, _ = p.communicate(timeout=900)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 0, stdout[-4000:]
    recs = _records(out)
    assert all(r.state is RunState.DONE for r in recs.values()), recs
    assert recs[victim].attempts == 2
    assert "1 started more than once (retried or redone)" in stdout  # the journal's count, as helmc status shows it
    assert _runs(out, SUITE) == helm_reference


def _private_mounts() -> bool:
    """Whether this machine lets a process mount in a namespace of its own (root, unshare)."""
    import shutil

    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /mnt"],
                       capture_output=True)
    return r.returncode == 0


@pytest.mark.parametrize("node", ["FAKE_SLURM_NOT_SHARED", "FAKE_SLURM_READ_ONLY"])
def test_a_job_on_a_node_that_does_not_share_the_limits_folder_is_said_clearly(tmp_path, node, snapshot) -> None:
    """--engine slurm shares the request limits through files in the suite's output folder. A
    job on a node that does not see helm-run's files there (another filesystem) or cannot write
    them: HC0710 at that folder, the suite stopped at once (no run keeps to the limits), exit 2,
    no traceback and no hang."""
    if not _private_mounts():
        pytest.skip("needs mount namespaces (unshare -m as root) to play a node")
    tmp = str(tmp_path)
    _setup(tmp, "pe")
    state = os.path.join(tmp, "slurm")
    governor = os.path.join(tmp, "out", "helmc", SUITE, "governor")
    os.makedirs(governor)
    cmd = OURS + _flags(tmp, "out", "pe") + ["--engine", "slurm", "--parallel-runs", "2", "--disable-cache",
                                             "--retries", "0", "--requests-per-minute", "helmcbench=600"]
    r = subprocess.run(cmd, cwd=tmp, env={**_slurm_env(state), node: governor}, capture_output=True, text=True,
                       timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 2, out[-4000:]
    assert "Traceback" not in out
    assert "error[HC0710]" in r.stderr, out[-4000:]
    text = r.stderr[r.stderr.index("error[HC0710]"):].replace(tmp, "TMP")
    text = re.sub(r"host `[^`]*`", "host `NODE`", text)
    assert text.count("error[HC0710]") == 1
    assert text == snapshot
    recs = _records(os.path.join(tmp, "out"))
    assert not any(r.state is RunState.DONE for r in recs.values()), recs
