"""Fault injection: the outside world misbehaves (signals at every phase of a run, killed
workers, full or read-only disks, hostile files, broken pipes) and helmc must lose nothing,
hang on nothing, and answer with a diagnostic, never a traceback or "this is a bug".

The short form runs in CI; `HELMC_FAULTS_LONG=1` repeats the timing-dependent cases at many
more moments (docs/fuzzing.md has the figures of a run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import HELM_INSTALLED, REPO

LONG = bool(os.environ.get("HELMC_FAULTS_LONG"))
BENCH = REPO / "benchmarks"
HELM_RUN = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]
HELM_CHECK = [sys.executable, "-c", "import sys; from helmc.cli import helm_check_main; sys.exit(helm_check_main())"]
HELM_OUTPUT_FILES = ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json")

needs_helm = pytest.mark.skipif(not HELM_INSTALLED, reason="crfm-helm is not installed")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", **extra}


def _no_internal_error(text: str) -> None:
    assert "Traceback" not in text, text[-3000:]
    assert "bug in helmc" not in text and "HC0902" not in text, text[-3000:]


# ------------------------------------------------------------------------------ data


def _complete_runs(out: Path, suite: str) -> dict[str, dict[str, str]]:
    """Run folder -> {file: text} for every run folder; asserts each one is complete."""
    folder = out / "runs" / suite
    found: dict[str, dict[str, str]] = {}
    for d in sorted(folder.iterdir()) if folder.is_dir() else []:
        if d.name == "eval_cache" or not d.is_dir():
            continue
        files = {}
        for f in HELM_OUTPUT_FILES:
            p = d / f
            assert p.is_file(), f"{d.name} lost {f}: a torn run folder"
            text = p.read_text()
            json.loads(text)  # complete, not half-written
            files[f] = text
        found[d.name] = files
    return found


SLOW_CONF = """entries: [
  {description: "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1", priority: 1}
  {description: "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1,stop=hash", priority: 1}
  {description: "simple1:model=helmcbench/slow-model1,model_deployment=helmcbench/slow-model1,max_train_instances=0", priority: 1}
]
"""


def _suite_cmd(tmp: Path, *extra: str) -> list[str]:
    return HELM_RUN + ["-c", str(tmp / "slow.conf"), "-m", "3", "--suite", "s", "-o", str(tmp / "out"),
                       "--local-path", str(tmp / "pe"), "--plugins", str(BENCH / "helmc_bench_plugin.py"),
                       "-n", "1", *extra]


def _journal(tmp: Path) -> dict:
    try:
        return json.loads((tmp / "out" / "helmc" / "s" / "journal.json").read_text())["runs"]
    except (OSError, ValueError, KeyError):
        return {}


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(p.name))
    return out


def _wait_for(pred, proc: subprocess.Popen, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


# When to strike, seen from outside: a moment after start (compiling, HELM's set-up, preloading
# classes), the first run of the new attempt in flight, a run finished and another in flight.
PHASES = {
    "start": lambda tmp, old: False,
    "first-running": lambda tmp, old: any(r["state"] == "running" for r in _journal(tmp).values()),
    "one-done": lambda tmp, old: (
        any(r["state"] == "completed" and r["fingerprint"] != old[n]["fingerprint"] for n, r in _journal(tmp).items())
        and any(r["state"] == "running" for r in _journal(tmp).values())
    ),
}
STRIKES = ["SIGINT", "SIGKILL-group", "SIGKILL-worker", "SIGTERM"]


@needs_helm
@pytest.mark.helm
def test_a_changed_rerun_interrupted_anywhere_keeps_every_complete_run(tmp_path):
    import shutil

    shutil.copytree(BENCH / "prod_env", tmp_path / "pe")
    (tmp_path / "slow.conf").write_text(SLOW_CONF)
    env = _env(HELMC_BENCH_DELAY="0.03")
    first = subprocess.run(_suite_cmd(tmp_path), env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    before = _complete_runs(tmp_path / "out", "s")
    assert len(before) == 3
    delays = [0.2, 0.8, 1.5, 2.0, 2.5, 3.0] if LONG else [0.8, 1.8]
    cases = [(phase, strike, d) for phase in PHASES for strike in STRIKES
             for d in (delays if phase == "start" else [0.0])]
    if not LONG:  # the short form: each strike once, each phase at least once
        cases = [("start", "SIGINT", 1.8), ("first-running", "SIGINT", 0.0), ("first-running", "SIGKILL-worker", 0.0),
                 ("one-done", "SIGKILL-group", 0.0), ("one-done", "SIGTERM", 0.0)]
    flag = 1
    for phase, strike, delay in cases:
        if strike == "SIGKILL-worker" and phase == "start":
            continue  # no worker exists before the first run
        old = _journal(tmp_path)
        flag = 3 - flag  # alternate -t 1 / -t 2: every attempt has other settings than the last
        p = subprocess.Popen(_suite_cmd(tmp_path, "-t", str(flag), "--parallel-runs", "2"), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            if phase == "start":
                time.sleep(delay)
                reached = p.poll() is None
            else:
                reached = _wait_for(lambda: PHASES[phase](tmp_path, old), p)
            if reached:
                if strike == "SIGINT":
                    os.killpg(p.pid, signal.SIGINT)
                elif strike == "SIGTERM":
                    os.kill(p.pid, signal.SIGTERM)
                elif strike == "SIGKILL-group":
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    for c in _children(p.pid):
                        os.kill(c, signal.SIGKILL)
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        where = f"{strike} at {phase} (+{delay}s)"
        if strike == "SIGINT" and reached:
            assert p.returncode in (130, 0), where  # 0 only if the suite had just finished
            _no_internal_error(out.decode() + err.decode())
        after = _complete_runs(tmp_path / "out", "s")  # every folder complete, none torn
        assert set(after) == set(before), where  # no completed run lost
    # And then the same command to the end: the outputs equal HELM's for these flags.
    last = subprocess.run(_suite_cmd(tmp_path, "-t", "2"), env=env, capture_output=True, text=True, timeout=600)
    assert last.returncode == 0, last.stdout[-2000:] + last.stderr[-2000:]
    shutil.copytree(BENCH / "prod_env", tmp_path / "pe_helm")
    helm = subprocess.run(
        [sys.executable, "-m", "helm.benchmark.run", "-c", str(tmp_path / "slow.conf"), "-m", "3", "--suite", "s",
         "-o", str(tmp_path / "helm_out"), "--local-path", str(tmp_path / "pe_helm"),
         "--plugins", str(BENCH / "helmc_bench_plugin.py"), "-n", "1", "-t", "2"],
        env=env, capture_output=True, text=True, timeout=600)
    assert helm.returncode == 0, helm.stderr[-2000:]
    ours, theirs = _complete_runs(tmp_path / "out", "s"), _complete_runs(tmp_path / "helm_out", "s")
    assert set(ours) == set(theirs)
    for name in ours:
        for f in ("run_spec.json", "scenario.json"):
            assert json.loads(ours[name][f]) == json.loads(theirs[name][f]), (name, f)
        stat_names = [sorted(json.dumps(s["name"], sort_keys=True) for s in json.loads(x[name]["stats.json"]))
                      for x in (ours, theirs)]
        assert stat_names[0] == stat_names[1], name


def _settings(tmp: Path):
    from helmc.runtime.bridge import HelmSettings

    return HelmSettings(output_path=str(tmp / "out"), suite="s")


def _folder(path: Path, **files: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "two-renames"])
def test_a_finished_attempt_replaces_the_run_folder_whole(tmp_path, monkeypatch, exchange):
    from helmc.runtime import bridge

    if not exchange:
        monkeypatch.setattr(bridge, "_exchange", lambda a, b: False)
    s = _settings(tmp_path)
    final = Path(bridge.run_folder(s, "r"))
    _folder(final, **{"stats.json": "old", "extra.txt": "kept"})
    _folder(Path(bridge.staging_folder(s, "r")), **{"stats.json": "new"})
    bridge.commit_run_folder(s, "r")
    assert (final / "stats.json").read_text() == "new"
    assert (final / "extra.txt").read_text() == "kept"  # HELM writes into the folder: other files stay
    assert not Path(bridge.staging_folder(s, "r")).exists()
    assert not Path(bridge._retired_folder(s, "r")).exists()


def test_an_attempt_that_wrote_nothing_leaves_the_run_folder_as_helm_does(tmp_path):
    from helmc.runtime import bridge

    s = _settings(tmp_path)
    final = Path(bridge.run_folder(s, "r"))
    _folder(final, **{"stats.json": "old"})
    _folder(Path(bridge.staging_folder(s, "r")))  # --skip-instances: HELM creates the folder, writes nothing
    bridge.commit_run_folder(s, "r")
    assert (final / "stats.json").read_text() == "old"


def test_a_swap_killed_half_way_is_undone_on_the_next_start(tmp_path):
    from helmc.runtime import bridge

    s = _settings(tmp_path)
    retired = Path(bridge._retired_folder(s, "r"))
    _folder(retired, **{"stats.json": "old"})  # killed between the two renames
    bridge.recover_run_folder(s, "r")
    assert (Path(bridge.run_folder(s, "r")) / "stats.json").read_text() == "old"
    assert not retired.exists()


@pytest.mark.parametrize("suite", ["../../x", "/tmp/abs", "", ".", "..", "a/b", "x\0y"])
def test_a_suite_name_that_is_a_path_is_refused(tmp_path, suite, capsys, monkeypatch):
    from helmc.cli import helm_run_main

    monkeypatch.chdir(tmp_path)
    code = helm_run_main(["-r", "simple1:model=simple/model1", "-m", "1", "--suite", suite, "-o", "out"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--suite" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()


def test_output_file_naming_an_input_is_refused(tmp_path, monkeypatch):
    conf = tmp_path / "a.conf"
    text = 'entries: [{description: "simple1:model=simple/model1,nope=1", priority: 1}]\n'
    conf.write_text(text)
    (tmp_path / "link.txt").symlink_to(conf)
    for out in ("a.conf", "./a.conf", "link.txt"):
        r = subprocess.run(HELM_CHECK + ["a.conf", "-o", out], cwd=tmp_path, capture_output=True, text=True,
                           env=_env())
        assert r.returncode == 2, r.stderr
        assert "refusing to write over an input" in r.stderr
        assert conf.read_text() == text
    r = subprocess.run(HELM_CHECK + [".", "-o", "report.txt"], cwd=tmp_path, capture_output=True, text=True,
                       env=_env())
    assert r.returncode == 1 and "nope" in (tmp_path / "report.txt").read_text()
