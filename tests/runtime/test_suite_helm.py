"""helm-run end to end with the real crfm-helm (offline: simple1 on simple/model1, and the
benchmark's slow simple client). Marked `helm`: skipped when crfm-helm is not installed."""

from __future__ import annotations

from pathlib import Path

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.helm

try:
    import helm.benchmark.run  # noqa: F401

    HAVE_HELM = True
except ImportError:  # pragma: no cover - CI installs it
    HAVE_HELM = False

if not HAVE_HELM:
    pytest.skip("crfm-helm is not installed", allow_module_level=True)

from helm_suite import BENCH, HELMS, OURS, SLOW_CONF, _env, _runs, _write  # noqa: E402,F401
from helpers import SPECIAL_KINDS, plant_special  # noqa: E402

ROOT = str(Path(__file__).resolve().parents[2])
QUICKSTART = os.path.join(ROOT, "examples", "quickstart.conf")


def _run(cmd: list[str], cwd: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=600)


WILDCARD_CONF = """entries: [
  {description: "simple1:model=text", priority: 1}
  {description: "simple1:model=text,num_outputs=1", priority: 2}
  {description: "simple1:model=simple/model1,max_train_instances=one", priority: 3, groups: ["g1", "a"]}
]
"""


@pytest.mark.parametrize(
    "case",
    [
        ("quickstart", ["--conf-paths", QUICKSTART, "-m", "3"]),
        ("wildcard", ["--conf-paths", "{tmp}/wild.conf", "--models-to-run", "simple/model1", "-m", "2",
                      "--priority", "2", "-t", "1"]),
        ("groups", ["--conf-paths", "{tmp}/wild.conf", "--models-to-run", "simple/model1", "-m", "2"]),
        ("run-entries", ["--run-entries", "simple1:model=simple/model1,stop=hash",
                         "simple1:model=simple/model1,max_train_instances=zero", "-m", "2"]),
    ],
    ids=lambda c: c[0],
)
def test_same_run_folders_and_run_specs_as_helm(tmp_path, case):
    name, flags = case
    _write(str(tmp_path / "wild.conf"), WILDCARD_CONF)
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    theirs = _run(HELMS + flags + ["--suite", "d", "-o", "helm_out", "--local-path", "pe_helm"], str(tmp_path))
    assert theirs.returncode == 0, theirs.stdout[-3000:] + theirs.stderr[-3000:]
    ours = _run(OURS + flags + ["--suite", "d", "-o", "our_out", "--local-path", "pe_ours", "--parallel-runs", "2"],
                str(tmp_path))
    assert ours.returncode == 0, ours.stdout[-3000:] + ours.stderr[-3000:]
    expected = _runs(str(tmp_path / "helm_out"), "d")
    assert expected, "HELM produced no runs: the case is useless"
    assert _runs(str(tmp_path / "our_out"), "d") == expected


def test_a_mistake_starts_no_run_and_shows_the_diagnostic(tmp_path):
    conf = _write(str(tmp_path / "bad.conf"), 'entries: [\n  {description: "simple1:model=simple/model1,,", priority: 1}\n'
                  '  {description: "simple1:model=simple/model1", priority: 1}\n]\n')
    r = _run(OURS + ["--conf-paths", conf, "-m", "2", "--suite", "s", "-o", "out", "--local-path", "pe"], str(tmp_path))
    assert r.returncode == 1
    assert "HC0202" in r.stderr and "bad.conf:2:" in r.stderr
    assert "nothing was run" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "pe").exists()


def test_wildcard_without_models_to_run_is_refused_as_helm_does(tmp_path):
    r = _run(OURS + ["--run-entries", "simple1:model=text", "-m", "2", "-o", "out"], str(tmp_path))
    assert r.returncode == 1
    assert "HC0405" in r.stderr and "--models-to-run" in r.stderr
    assert not (tmp_path / "out").exists()


def test_zero_runs_is_an_error_that_says_why(tmp_path):
    conf = _write(str(tmp_path / "p.conf"), 'entries: [{description: "simple1:model=simple/model1", priority: 4}]\n')
    r = _run(OURS + ["--conf-paths", conf, "-m", "2", "--priority", "1", "-o", "out"], str(tmp_path))
    assert r.returncode == 1
    assert "HC0402" in r.stderr and "priority" in r.stderr
    r = _run(OURS + ["--conf-paths", conf, "-m", "2", "--priority", "1", "-o", "out", "--allow-no-runs"],
             str(tmp_path))
    assert r.returncode == 0, r.stderr


def test_deprecated_run_specs_is_warned_before_anything_runs(tmp_path):
    r = _run(OURS + ["--run-specs", "simple1:model=simple/model1", "-m", "1", "-o", "out", "--local-path", "pe"],
             str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "--run-specs is deprecated" in r.stderr
    assert os.path.isdir(tmp_path / "out" / "runs" / "default" / "simple1:model=simple_model1")


def _slow_cmd(tmp: str, out: str, pe: str) -> list[str]:
    return OURS + ["--conf-paths", os.path.join(tmp, "slow.conf"), "-m", "4", "--suite", "k", "-o", out,
                   "--local-path", pe, "--plugins", os.path.join(BENCH, "helmc_bench_plugin.py"),
                   "--parallel-runs", "2", "-n", "1"]


def _journal(out: str) -> dict:
    """Run name -> record as a dict, read as `helmc status` reads: read-only, while helm-run writes."""
    from helmc.runtime.journal import read_journal

    return {n: {"state": r.state.value, "attempts": r.attempts}
            for n, r in read_journal(out, "k").records.items()}


def test_kill_9_then_the_same_command_resumes(tmp_path):
    tmp = str(tmp_path)
    _write(os.path.join(tmp, "slow.conf"), SLOW_CONF)
    shutil.copytree(os.path.join(BENCH, "prod_env"), os.path.join(tmp, "pe"))
    shutil.copytree(os.path.join(BENCH, "prod_env"), os.path.join(tmp, "pe_ref"))
    env = _env(HELMC_BENCH_DELAY="0.05")
    cmd = _slow_cmd(tmp, "out", "pe")

    # Start, wait until some runs are completed and others in flight, then kill -9 the lot.
    p = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [r["state"] for r in _journal(os.path.join(tmp, "out")).values()]
        if states.count("done") >= 2 and "running" in states:
            break
        if p.poll() is not None:
            pytest.fail("helm-run ended before it could be killed; make the suite slower")
        time.sleep(0.02)
    else:
        pytest.fail("the suite never got going")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    before = _journal(os.path.join(tmp, "out"))
    completed = {n for n, r in before.items() if r["state"] == "done"}
    interrupted = {n for n, r in before.items() if r["state"] == "running"}
    assert completed and interrupted
    stamps = {
        n: os.stat(os.path.join(tmp, "out", "runs", "k", n, "stats.json")).st_mtime_ns for n in completed
    }

    # The same command again: completed runs are skipped, interrupted ones redone.
    r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    after = _journal(os.path.join(tmp, "out"))
    assert all(rec["state"] == "done" for rec in after.values())
    for n in completed:
        assert os.stat(os.path.join(tmp, "out", "runs", "k", n, "stats.json")).st_mtime_ns == stamps[n], n
        assert after[n]["attempts"] == 1
    for n in interrupted:
        assert after[n]["attempts"] == 2

    # And the result equals an uninterrupted run of the same suite.
    ref = subprocess.run(_slow_cmd(tmp, "ref", "pe_ref"), cwd=tmp, env=env, capture_output=True, text=True,
                         timeout=600)
    assert ref.returncode == 0, ref.stderr[-3000:]
    assert _runs(os.path.join(tmp, "out"), "k") == _runs(os.path.join(tmp, "ref"), "k")


def test_failed_runs_exit_1_with_the_rerun_command(tmp_path):
    # A deployment whose client class does not exist: HELM fails that run; the other runs.
    pe = tmp_path / "pe"
    shutil.copytree(os.path.join(BENCH, "prod_env"), pe)
    text = (pe / "model_deployments.yaml").read_text().replace("helmc_bench_plugin.SlowSimpleClient",
                                                                "helmc_bench_plugin.NoSuchClient")
    (pe / "model_deployments.yaml").write_text(text)
    r = _run(OURS + ["--run-entries", "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1",
                     "simple1:model=simple/model1", "-m", "2", "--local-path", "pe", "-o", "out",
                     "--plugins", os.path.join(BENCH, "helmc_bench_plugin.py")], str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "1 failed" in r.stdout
    assert "--only-runs simple1:model=helmcbench_slow-model1,model_deployment=helmcbench_slow-model1" in r.stdout
    assert os.path.isfile(tmp_path / "out" / "runs" / "default" / "simple1:model=simple_model1" / "stats.json")


def test_a_completed_run_missing_a_file_is_redone_and_only_it(tmp_path):
    cmd = OURS + ["--run-entries", "simple1:model=simple/model1", "simple1:model=simple/model1,stop=hash",
                  "-m", "1", "-o", "out", "--local-path", "pe", "--suite", "s"]
    assert _run(cmd, str(tmp_path)).returncode == 0
    suite = tmp_path / "out" / "runs" / "s"
    (suite / "simple1:model=simple_model1" / "stats.json").unlink()
    kept = (suite / "simple1:model=simple_model1,stop=hash" / "stats.json").stat().st_mtime_ns
    r = _run(cmd, str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "2 done, 0 failed" in r.stdout and "1 of the done runs completed earlier (skipped)" in r.stdout
    assert (suite / "simple1:model=simple_model1" / "stats.json").is_file()
    assert (suite / "simple1:model=simple_model1,stop=hash" / "stats.json").stat().st_mtime_ns == kept
    # --fresh redoes everything
    r = _run(cmd + ["--fresh"], str(tmp_path))
    assert r.returncode == 0 and "0 of the done runs completed earlier (skipped)" in r.stdout


def test_exit_on_error_starts_nothing_after_the_first_failure(tmp_path):
    pe = tmp_path / "pe"
    shutil.copytree(os.path.join(BENCH, "prod_env"), pe)
    text = (pe / "model_deployments.yaml").read_text().replace("SlowSimpleClient", "NoSuchClient")
    (pe / "model_deployments.yaml").write_text(text)
    r = _run(OURS + ["--run-entries", "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1",
                     "simple1:model=simple/model1", "-m", "1", "--local-path", "pe", "-o", "out", "--exit-on-error",
                     "--plugins", os.path.join(BENCH, "helmc_bench_plugin.py")], str(tmp_path))
    assert r.returncode == 1
    assert "0 done, 1 failed, 0 interrupted, 0 running, 1 pending (2 planned)" in r.stdout  # as helmc status counts
    assert not (tmp_path / "out" / "runs" / "default" / "simple1:model=simple_model1").exists()


COUNTING_RUNNER = """import gc
import os
from helm.benchmark.runner import Runner

with open(os.environ["HELMC_TEST_RUNNERS"] + ".gc", "a") as f:
    f.write(f"{gc.isenabled()}\\n")  # imported while helm-run sets HELM up (--plugins)


class CountingRunner(Runner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(os.environ["HELMC_TEST_RUNNERS"], "a") as f:
            f.write(f"{os.getpid()}\\n")
"""


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_helm_is_set_up_without_collection_and_the_workers_share_one_runner(tmp_path, workers):
    # As HELM's helm-run builds one Runner for the suite, the local engine builds it once in
    # helm-run and every forked worker inherits it (each used to build its own); HELM's
    # imports in helm-run run with the cyclic collector paused (compiler/collector.py).
    plugin = _write(str(tmp_path / "countingrunner.py"), COUNTING_RUNNER)
    log = tmp_path / "runners.txt"
    entries = [f"simple1:model=simple/model1,max_train_instances={n}" for n in ("zero", "one", "all")]
    ours = _run(OURS + ["--run-entries", *entries, "-m", "2", "--suite", "r", "-o", "out", "--local-path", "pe",
                        "--plugins", plugin, "--runner-class-name", "countingrunner.CountingRunner",
                        "--parallel-runs", str(workers)], str(tmp_path), HELMC_TEST_RUNNERS=str(log))
    assert ours.returncode == 0, ours.stdout[-3000:] + ours.stderr[-3000:]
    assert len(_runs(str(tmp_path / "out"), "r")) > workers  # more runs than workers: some worker ran two
    assert len(log.read_text().split()) == 1
    assert (tmp_path / "runners.txt.gc").read_text().split() == ["False"]


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_log_that_cannot_be_opened_is_never_shown_as_the_runs_log(tmp_path, kind):
    """Something not helmc's where a run's log goes (a FIFO, a folder, a link to a device...):
    the run fails before HELM starts (HC0503, naming the path), what stands there is left as it
    was, and neither helm-run's summary nor `helmc status` offers it as the run's log (opening
    a FIFO would wait for ever)."""
    logs = tmp_path / "out" / "helmc" / "f" / "logs"
    logs.mkdir(parents=True)
    planted = logs / "simple1:model=simple_model1.log"
    plant_special(planted, kind)
    before = os.lstat(planted)
    ours = _run(OURS + ["--run-entries", "simple1:model=simple/model1", "-m", "1", "--suite", "f", "-o", "out",
                        "--local-path", "pe"], str(tmp_path))
    text = ours.stdout + ours.stderr
    if kind == "dangling":  # a link to nothing: the log is made where it points, and the run goes on
        assert ours.returncode == 0, text[-3000:]
        return
    assert ours.returncode == 1, text[-3000:]
    assert "HC0503" in text and str(planted.relative_to(tmp_path)) in text
    assert "log: " not in text  # the summary's line for a failed run's log
    after = os.lstat(planted)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    status = _run([sys.executable, "-m", "helmc", "status", "--suite", "f", "-o", "out", "--format", "json"],
                  str(tmp_path))
    (run,) = json.loads(status.stdout)["runs"]
    assert run["state"] == "failed" and run["log"] is None, run
    status_text = _run([sys.executable, "-m", "helmc", "status", "--suite", "f", "-o", "out"], str(tmp_path))
    assert "failed:" in status_text.stdout and "log: " not in status_text.stdout, status_text.stdout
