"""`helmc status`: the state of a suite from its journal, read-only, while helm-run writes it.

The fast tests write journals through the journal's own API (the helm-run side) and read them
with the command; the `helm` test watches a real helm-run (the benchmarks' slow client)."""

from __future__ import annotations

from pathlib import Path

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HELM_INSTALLED
from helmc.cli import main
from helmc.runtime.journal import LOG_NAME, Journal, RunState, journal_dir, lock_suite
from strategies import FUZZ_EXAMPLES, LOG_HEADER, line_like

ROOT = str(Path(__file__).resolve().parents[2])
BENCH = os.path.join(ROOT, "benchmarks")
COMMAND = ["helm-run", "--conf-paths", "k.conf", "--max-eval-instances", "5", "--suite", "s"]


def status(capsys, out: str, *extra: str) -> tuple[int, str, str]:
    code = main(["status", "--suite", "s", "-o", out, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _suite(out: str) -> Journal:
    """A suite of five runs, one in each state, by this (living) process."""
    j = Journal.open(out, "s")
    j.begin(["d", "f", "i", "r", "p"], COMMAND)
    for name in "dfirp":
        j.set(name, "fp", RunState.PENDING, save=False)
    j.save()
    for name in "dfir":
        j.set(name, "fp", RunState.RUNNING, log=f"/logs/{name}.log")
    j.set("d", "fp", RunState.DONE, duration=2.0)
    j.set("f", "fp", RunState.FAILED, error="ValueError: bad value\nmore lines")
    j.set("f", "fp", RunState.RUNNING)  # a retry...
    j.set("f", "fp", RunState.FAILED, error="ValueError: bad value")  # ...that failed again
    j.set("i", "fp", RunState.INTERRUPTED)
    return j


def test_json_shape_while_helm_run_is_alive(tmp_path, capsys):
    out = str(tmp_path)
    with _suite(out):
        code, stdout, stderr = status(capsys, out, "--format", "json")
    assert code == 0 and stderr == ""
    doc = json.loads(stdout)
    assert doc["suite"] == "s" and doc["output_path"] == out
    assert doc["journal"] == os.path.join(journal_dir(out, "s"), LOG_NAME)
    assert doc["helm_run"]["pid"] == os.getpid() and doc["helm_run"]["running"] is True
    assert doc["helm_run"]["command"] == COMMAND and doc["helm_run"]["cwd"] == os.getcwd()
    assert doc["counts"] == {"planned": 5, "done": 1, "failed": 1, "interrupted": 1, "running": 1,
                             "pending": 1, "retried": 1}
    runs = {r["name"]: r for r in doc["runs"]}
    assert [r["name"] for r in doc["runs"]] == ["d", "f", "i", "r", "p"]  # the planned order
    assert runs["f"] == {**runs["f"], "state": "failed", "attempts": 2, "retried": True,
                         "error": "ValueError: bad value", "log": "/logs/f.log"}
    assert runs["d"]["duration"] == 2.0 and runs["r"]["started"] is not None
    # helm-run is still at it: only the failed run is left to the user
    assert doc["rerun"] == shlex.join(COMMAND + ["--only-runs", "f"])
    assert doc["warnings"] == []


def test_text_lists_each_state_with_errors_logs_and_the_rerun_command(tmp_path, capsys):
    out = str(tmp_path)
    with _suite(out):
        code, stdout, _ = status(capsys, out)
    assert code == 0
    assert ("1 done, 1 failed, 1 interrupted, 1 running, 1 pending (5 planned); "
            "1 started more than once (retried or redone)") in stdout
    assert "still running" in stdout
    failed = stdout[stdout.index("failed:"):]
    assert "  f  (2 attempts)\n    error: ValueError: bad value\n    log: /logs/f.log" in failed
    assert "--only-runs f" in stdout


def test_when_helm_run_is_gone_running_is_interrupted_and_the_rest_is_left(tmp_path, capsys):
    out = str(tmp_path)
    code = ("import sys; from helmc.runtime.journal import Journal, RunState\n"
            "j = Journal.open(sys.argv[1], 's'); j.begin(['a', 'b', 'c'], ['helm-run', '-m', '1'])\n"
            "[j.set(n, 'fp', RunState.PENDING) for n in 'abc']\n"
            "j.set('a', 'fp', RunState.DONE); j.set('b', 'fp', RunState.RUNNING)\n"
            "print('ready', flush=True); sys.stdin.read()\n")
    p = subprocess.Popen([sys.executable, "-c", code, out], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, cwd=str(tmp_path))
    assert p.stdout.readline() == "ready\n"
    try:
        _, stdout, _ = status(capsys, out, "--format", "json")
        alive = json.loads(stdout)
    finally:
        p.kill()
        p.wait()
    assert alive["helm_run"]["running"] is True and alive["counts"]["running"] == 1 and alive["rerun"] is None
    _, stdout, _ = status(capsys, out, "--format", "json")
    gone = json.loads(stdout)
    assert gone["helm_run"]["running"] is False
    assert [r["state"] for r in gone["runs"]] == ["done", "interrupted", "pending"]
    # run where helm-run ran, since its paths may be relative; the same command resumes, as
    # helm-run itself says when it stops with runs unfinished
    assert gone["rerun"] == f"cd {shlex.quote(str(tmp_path))} && helm-run -m 1"


def test_status_writes_nothing_and_takes_no_lock(tmp_path, capsys):
    out = str(tmp_path)
    fd = lock_suite(out, "s")  # as a running helm-run holds it
    try:
        with _suite(out):
            folder = journal_dir(out, "s")
            before = {n: os.stat(os.path.join(folder, n)).st_mtime_ns for n in os.listdir(folder)}
            assert status(capsys, out)[0] == 0
            assert status(capsys, out, "--format", "json")[0] == 0
            after = {n: os.stat(os.path.join(folder, n)).st_mtime_ns for n in os.listdir(folder)}
    finally:
        os.close(fd)
    assert before == after


def test_no_journal_is_exit_1(tmp_path, capsys):
    code, stdout, stderr = status(capsys, str(tmp_path))
    assert code == 1 and stdout == "" and "error[HC0752]" in stderr and "--suite" in stderr


def test_a_folder_where_the_journal_goes_is_exit_2_naming_it(tmp_path, capsys):
    os.makedirs(os.path.join(journal_dir(str(tmp_path), "s"), LOG_NAME))
    code, _, stderr = status(capsys, str(tmp_path))
    assert code == 2 and "error[HC0750]" in stderr and LOG_NAME in stderr and "is a folder" in stderr


@pytest.mark.parametrize("suite", ["", ".", "..", "../x", "/abs", "a/b"])
def test_a_suite_name_that_is_a_path_is_bad_usage(tmp_path, capsys, suite):
    code = main(["status", "--suite", suite, "-o", str(tmp_path)])
    assert code == 2 and "--suite" in capsys.readouterr().err


def test_a_damaged_journal_is_shown_with_a_warning(tmp_path, capsys):
    path = os.path.join(journal_dir(str(tmp_path), "s"), LOG_NAME)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        f.write(LOG_HEADER + '{"run":{"name":"a","fingerprint":"f","state":"done","attempts":1e999}}\n'
                '{"run":{"name":"b","fingerprint":"f","state":"failed","error":"\\u001b[31mred"}}\n')
    code, stdout, stderr = status(capsys, str(tmp_path))
    assert code == 0 and "warning[HC0751]" in stderr and "line 2" in stderr
    assert "\x1b" not in stdout and "\\x1b[31mred" in stdout  # control characters never reach the terminal


def test_a_helmc_0_1_journal_is_shown_without_rerun_command(tmp_path, capsys):
    path = os.path.join(journal_dir(str(tmp_path), "s"), "journal.json")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        json.dump({"version": 1, "runs": {"b": {"fingerprint": "f", "state": "completed", "attempts": 1},
                                          "a": {"fingerprint": "f", "state": "failed", "error": "x"}}}, f)
    code, stdout, _ = status(capsys, str(tmp_path), "--format", "json")
    doc = json.loads(stdout)
    assert code == 0 and doc["helm_run"] is None and doc["rerun"] is None
    assert [(r["name"], r["state"]) for r in doc["runs"]] == [("a", "failed"), ("b", "done")]
    assert os.path.isfile(path)  # read where it is, not migrated: status writes nothing


@settings(max_examples=FUZZ_EXAMPLES or 80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_like, max_size=8), tail=st.binary(max_size=20))
def test_status_of_generated_journals_is_exit_0_with_valid_json(tmp_path_factory, capsys, lines, tail):
    out = str(tmp_path_factory.mktemp("j"))
    path = os.path.join(journal_dir(out, "s"), LOG_NAME)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write((LOG_HEADER + "".join(line.replace("\n", " ") + "\n" for line in lines)).encode(
            "utf-8", "surrogatepass") + tail)
    code, stdout, _ = status(capsys, out, "--format", "json")
    assert code == 0
    doc = json.loads(stdout)
    assert sum(doc["counts"][s] for s in ("done", "failed", "interrupted", "running", "pending")) == len(doc["runs"])
    assert status(capsys, out)[0] == 0


# ------------------------------------------------------------------------------ a real helm-run

SLOW = "helmcbench/slow-model1"
SLOW_CONF = "entries: [\n" + "".join(
    f'  {{description: "simple1:model={SLOW},model_deployment={SLOW},{arg}", priority: 1}}\n'
    for arg in ("max_train_instances=3", "stop=hash", "stop=none", "max_train_instances=1", "max_train_instances=2",
                "max_train_instances=0")
) + "]\n"


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_status_follows_a_running_helm_run_and_its_rerun_command_finishes_the_suite(tmp_path):
    tmp = str(tmp_path)
    with open(os.path.join(tmp, "k.conf"), "w") as f:
        f.write(SLOW_CONF)  # six runs
    shutil.copytree(os.path.join(BENCH, "prod_env"), os.path.join(tmp, "pe"))
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "NO_COLOR": "1", "HELMC_BENCH_DELAY": "0.05", "PATH": bindir + os.pathsep + os.environ["PATH"]}
    helm_run = [os.path.join(bindir, "helm-run"), "--conf-paths", "k.conf", "-m", "4", "--suite", "s", "-o", "out",
                "--local-path", "pe", "--plugins", os.path.join(BENCH, "helmc_bench_plugin.py"),
                "--parallel-runs", "2", "-n", "1"]
    helmc_status = [os.path.join(bindir, "helmc"), "status", "--suite", "s", "-o", os.path.join(tmp, "out"),
                    "--format", "json"]

    def read(cwd: str = tmp) -> dict:
        r = subprocess.run(helmc_status, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode in (0, 1), r.stderr  # 1: the journal does not exist yet
        assert "Traceback" not in r.stderr
        return json.loads(r.stdout) if r.returncode == 0 else {}

    p = subprocess.Popen(helm_run, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    seen: list[dict] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            doc = read()
            if doc:
                seen.append(doc)
                c = doc["counts"]
                assert c["planned"] == 6 and doc["helm_run"]["running"] is True
                assert sum(c[s] for s in ("done", "failed", "interrupted", "running", "pending")) == 6
                if c["done"] >= 2 and c["running"] >= 1:
                    break
            assert p.poll() is None, "helm-run ended before status saw it at work; make the suite slower"
            time.sleep(0.05)
        else:
            pytest.fail("the suite never got going")
        mid = seen[-1]
        assert mid["counts"]["failed"] == 0 and mid["rerun"] is None  # nothing for the user to redo yet
        assert all(r["log"] for r in mid["runs"] if r["state"] in ("running", "done"))
        # done counts never go back while helm-run works
        dones = [d["counts"]["done"] for d in seen]
        assert dones == sorted(dones)
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    after = read(cwd="/")  # elsewhere: the command says where to run it
    assert after["helm_run"]["running"] is False
    assert after["rerun"].startswith(f"cd {shlex.quote(tmp)} && helm-run --conf-paths k.conf")
    left = [r["name"] for r in after["runs"] if r["state"] != "done"]
    assert left and all(r["state"] in ("interrupted", "pending") for r in after["runs"] if r["name"] in left)
    assert after["counts"]["interrupted"] >= 1
    assert "--only-runs" not in after["rerun"]  # the same command resumes: completed runs are skipped

    # The printed command, as a user would paste it: it finishes the suite.
    r = subprocess.run(after["rerun"], shell=True, cwd="/", env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    final = read()
    # the last helm-run planned the whole suite again, skipped what was done and did the rest
    assert final["counts"]["done"] == final["counts"]["planned"] == 6
    assert f"{6 - len(left)} of the done runs completed earlier (skipped)" in r.stdout
    assert final["rerun"] is None and final["helm_run"]["running"] is False
