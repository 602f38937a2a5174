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
    """Run name -> {state, fingerprint}, read as `helmc status` reads (read-only, while helm-run writes)."""
    from helmc.runtime.journal import read_journal

    return {n: {"state": r.state.value, "fingerprint": r.fingerprint}
            for n, r in read_journal(str(tmp / "out"), "s").records.items()}


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
        any(r["state"] == "done" and r["fingerprint"] != old[n]["fingerprint"] for n, r in _journal(tmp).items())
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
    # Model calls long enough that "one run done, another running" lasts longer than the
    # journal's group commit (0.25 s) and this observer's polling: a faster helm-run start and
    # end left that window too short to see, and the phase unstruck.
    env = _env(HELMC_BENCH_DELAY="0.15")
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
    struck: list[tuple[str, bool]] = []

    def strike_once(phase: str, strike: str, delay: float) -> None:
        nonlocal flag
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
        struck.append((where, reached))
        if strike == "SIGINT" and reached:
            assert p.returncode in (130, 0), where  # 0 only if the suite had just finished
            _no_internal_error(out.decode() + err.decode())
        after = _complete_runs(tmp_path / "out", "s")  # every folder complete, none torn
        assert set(after) == set(before), where  # no completed run lost

    def missed() -> list[str]:
        return [ph for ph in PHASES if not any(reached for w, reached in struck if f" at {ph} " in w)]

    cases = [c for c in cases if not (c[1] == "SIGKILL-worker" and c[0] == "start")]  # no worker yet then
    for phase, strike, delay in cases:
        strike_once(phase, strike, delay)
    # A phase can be missed (the suite outran the observer, or earlier strikes left only one run
    # to redo, so "one done, another running" never happens): an attempt that was not struck ran
    # to its end and left every run to be redone by the next, so strike a missed phase again.
    for _ in range(2):
        again = missed()
        for phase, strike, delay in [c for c in cases if c[0] in again]:
            strike_once(phase, strike, delay)
    assert not missed(), f"these phases were never reached, so nothing was tested there: {missed()}"
    print(f"fault strikes: {len(struck)} tried, {sum(r for _, r in struck)} landed, 0 completed runs lost")
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
    from helmc.runtime.helm_setup import HelmSettings

    return HelmSettings(output_path=str(tmp / "out"), suite="s")


def _folder(path: Path, **files: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "two-renames"])
def test_a_finished_attempt_replaces_the_run_folder_whole(tmp_path, monkeypatch, exchange):
    from helmc.runtime import run_folders

    if not exchange:
        monkeypatch.setattr(run_folders, "_exchange", lambda a, b: False)
    s = _settings(tmp_path)
    final = Path(run_folders.run_folder(s, "r"))
    _folder(final, **{"stats.json": "old", "extra.txt": "kept"})
    _folder(Path(run_folders.staging_folder(s, "r")), **{"stats.json": "new"})
    run_folders.commit_run_folder(s, "r")
    assert (final / "stats.json").read_text() == "new"
    assert (final / "extra.txt").read_text() == "kept"  # HELM writes into the folder: other files stay
    assert not Path(run_folders.staging_folder(s, "r")).exists()
    assert not Path(run_folders._retired_folder(s, "r")).exists()


def test_an_attempt_that_wrote_nothing_leaves_the_run_folder_as_helm_does(tmp_path):
    from helmc.runtime import run_folders

    s = _settings(tmp_path)
    final = Path(run_folders.run_folder(s, "r"))
    _folder(final, **{"stats.json": "old"})
    _folder(Path(run_folders.staging_folder(s, "r")))  # --skip-instances: HELM creates the folder, writes nothing
    run_folders.commit_run_folder(s, "r")
    assert (final / "stats.json").read_text() == "old"


def test_a_swap_killed_half_way_is_undone_on_the_next_start(tmp_path):
    from helmc.runtime import run_folders

    s = _settings(tmp_path)
    retired = Path(run_folders._retired_folder(s, "r"))
    _folder(retired, **{"stats.json": "old"})  # killed between the two renames
    run_folders.recover_run_folder(s, "r")
    assert (Path(run_folders.run_folder(s, "r")) / "stats.json").read_text() == "old"
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


# ------------------------------------------------------------------------------ the outside world

BAD = 'entries: [{description: "simple1:model=simple/model1,nope=1", priority: 1}]\n'


def _shell(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True, env=_env(), timeout=120)


def _check_cmd() -> str:
    import shlex

    return shlex.join(HELM_CHECK)


@pytest.mark.parametrize(
    "redirect, reason",
    [(">&-", "Bad file descriptor"), ("> /dev/full", "No space left on device")],
    ids=["stdout-closed", "stdout-full"],
)
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_a_closed_or_full_stdout_is_an_error_naming_it(tmp_path, redirect, reason, fmt):
    (tmp_path / "bad.conf").write_text(BAD)
    r = _shell(f"{_check_cmd()} bad.conf --format {fmt} {redirect}", tmp_path)
    assert r.returncode == 2, r.stderr
    assert "standard output" in r.stderr and reason in r.stderr
    _no_internal_error(r.stderr)
    assert "Exception ignored" not in r.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_reader_that_goes_away_keeps_the_exit_code(tmp_path, fmt):
    (tmp_path / "bad.conf").write_text(BAD * 400)
    r = _shell(f"{_check_cmd()} bad.conf --format {fmt} | head -c 20 >/dev/null; echo ${{PIPESTATUS[0]}}", tmp_path)
    assert r.stdout.strip() == "1", r.stderr
    _no_internal_error(r.stderr)
    assert "Exception ignored" not in r.stderr and "BrokenPipe" not in r.stderr


def _read_only_folder(tmp: Path) -> Path:
    """A folder nobody can write: a read-only tmpfs as root (root ignores modes), else chmod."""
    ro = tmp / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True)
        if r.returncode != 0:
            pytest.skip("root without mount: cannot make a read-only folder")
    else:
        ro.chmod(0o555)
    return ro


def _unmount(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["umount", str(path)], capture_output=True)


@pytest.mark.parametrize("target", ["ro/report.txt", "folder", "/dev/full"], ids=["read-only", "a-folder", "full"])
def test_output_file_faults_name_the_path_and_exit_2(tmp_path, target):
    (tmp_path / "bad.conf").write_text(BAD)
    (tmp_path / "folder").mkdir()
    ro = _read_only_folder(tmp_path)
    try:
        r = subprocess.run(HELM_CHECK + ["bad.conf", "-o", target], cwd=tmp_path, capture_output=True, text=True,
                           env=_env())
    finally:
        _unmount(ro)
    assert r.returncode == 2, r.stderr
    assert target in r.stderr
    _no_internal_error(r.stderr)


@needs_helm
@pytest.mark.parametrize("where", ["a-file", "under-a-file", "read-only"])
def test_helm_run_output_folder_faults_name_the_path_and_exit_2(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    ro = _read_only_folder(tmp_path)
    out = {"a-file": "afile", "under-a-file": "afile/out", "read-only": "ro/out"}[where]
    try:
        r = subprocess.run(HELM_RUN + ["-r", "simple1:model=simple/model1", "-m", "1", "-o", out, "--local-path", "pe"],
                           cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300)
    finally:
        _unmount(ro)
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert out.split("/")[0] in r.stderr
    _no_internal_error(r.stdout + r.stderr)


@needs_helm
@pytest.mark.helm
def test_a_disk_that_fills_up_mid_suite_stops_it_with_exit_2(tmp_path):
    """A small tmpfs as root; otherwise RLIMIT_FSIZE (writes past it fail with EFBIG)."""
    import resource

    out = tmp_path / "small"
    out.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(out)], capture_output=True).returncode == 0

    def limit() -> None:
        if not mounted:
            resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    try:
        r = subprocess.run(HELM_RUN + ["-r", "simple1:model=simple/model1", "simple1:model=simple/model1,stop=hash",
                                       "-m", "3", "-o", str(out / "o"), "--local-path", str(tmp_path / "pe")],
                           cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300, preexec_fn=limit)
    finally:
        if mounted:
            _unmount(out)
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert "No space left on device" in r.stderr or "File too large" in r.stderr
    _no_internal_error(r.stdout + r.stderr)


# ------------------------------------------------------------------------------ hostile inputs


def _special_files(tmp: Path) -> dict[str, str]:
    fifo = tmp / "pipe.conf"
    os.mkfifo(fifo)
    (tmp / "folder.conf").mkdir()
    (tmp / "broken.conf").symlink_to(tmp / "nowhere.conf")
    return {"/dev/zero": "character device", str(fifo): "FIFO", str(tmp / "folder.conf"): "folder",
            str(tmp / "broken.conf"): "broken symbolic link", str(tmp / "missing.conf"): "No such file"}


def test_every_conf_reading_path_refuses_what_is_not_a_regular_file(tmp_path):
    """helm-check, helmc parse and helm-run's compile step; each within seconds, none blocks."""
    for path, why in _special_files(tmp_path).items():
        cmds = [HELM_CHECK + ["--run-entries", "x:y=1", "--plugins", path]]
        if why != "folder":  # a folder as a conf path means the *.conf files in it
            cmds += [HELM_CHECK + [path], [sys.executable, "-m", "helmc", "parse", path, "--format", "json"],
                     HELM_RUN + ["-c", path, "-m", "1", "-o", str(tmp_path / "o")]]
        for cmd in cmds:
            r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=60, cwd=tmp_path)
            assert r.returncode == 1, (cmd, r.stdout[-1000:], r.stderr[-1000:])
            assert why in r.stdout + r.stderr, (cmd, r.stdout[-1000:], r.stderr[-1000:])
            _no_internal_error(r.stdout + r.stderr)


def test_a_file_above_the_size_limit_is_refused(tmp_path, monkeypatch):
    from helmc.compiler.files import reading

    big = tmp_path / "big.conf"
    big.write_text("# " + "x" * 5000 + "\n")
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 4096)
    monkeypatch.setattr(reading.read_input_bytes, "__defaults__", (4096,))
    with pytest.raises(OSError, match="too large"):
        reading.read_input_bytes(big)
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.compiler.syntax.frontend import read_source

    sink = DiagnosticSink()
    assert read_source(str(big), sink) is None
    assert sink.items[0].code == "HC0901" and "too large" in sink.items[0].message


def test_a_folder_walk_reports_what_it_cannot_read(tmp_path, monkeypatch, capsys):
    """A folder that cannot be listed (chmod 000; as root, simulated), a broken link, a FIFO."""
    from helmc.cli import helm_check_main

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.conf").write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.conf").write_text("entries: [}\n")
    (tmp_path / "broken.conf").symlink_to(tmp_path / "gone.conf")
    os.mkfifo(tmp_path / "pipe.conf")
    if os.geteuid() == 0:
        real = os.scandir

        def scandir(path="."):
            if os.fspath(path).rstrip("/").endswith("locked"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        code = helm_check_main([str(tmp_path), "--format", "json"])
    finally:
        locked.chmod(0o755)
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    messages = " | ".join(d["message"] for d in out)
    assert "locked" in messages and "Permission denied" in messages
    assert "broken symbolic link" in messages and "FIFO" in messages


def test_pyproject_and_plugin_faults_are_diagnostics(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    (tmp_path / "latin.py").write_bytes(b'x = "\xff"\n')
    r = subprocess.run(HELM_CHECK + ["a.conf", "--plugins", "latin.py"], cwd=tmp_path, capture_output=True,
                       text=True, env=_env(), timeout=60)
    assert r.returncode == 1 and "latin.py" in r.stdout and "UTF-8" in r.stdout, r.stdout + r.stderr
    _no_internal_error(r.stdout + r.stderr)
    for text in (b"tool = 5\n", b"[tool]\nhelmc = 3\n", b'[tool.helmc]\nformat = "\xff"\n', b"[tool.helmc\n"):
        (tmp_path / "pyproject.toml").write_bytes(text)
        r = subprocess.run(HELM_CHECK + ["a.conf"], cwd=tmp_path, capture_output=True, text=True, env=_env(),
                           timeout=60)
        assert r.returncode == 2 and "pyproject.toml" in r.stderr, (text, r.stderr)
        _no_internal_error(r.stdout + r.stderr)


@needs_helm
def test_a_plugin_calling_sys_exit_does_not_end_helm_run_successfully(tmp_path):
    (tmp_path / "quit.py").write_text("import sys\nsys.exit(0)\n")
    r = subprocess.run(HELM_RUN + ["-r", "simple1:model=simple/model1", "-m", "1", "-o", "o", "--local-path", "pe",
                                   "--plugins", "quit.py"], cwd=tmp_path, capture_output=True, text=True, env=_env(),
                       timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "sys.exit(0)" in r.stderr
    assert not (tmp_path / "o" / "runs" / "default" / "simple1:model=simple_model1").exists()


def test_statistics_follows_format_or_refuses_it(tmp_path):
    (tmp_path / "bad.conf").write_text(BAD)
    r = subprocess.run(HELM_CHECK + ["bad.conf", "--statistics", "--format", "json"], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 1 and json.loads(r.stdout)[0]["code"] == "HC0302"
    r = subprocess.run(HELM_CHECK + ["bad.conf", "--statistics", "--format", "sarif"], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and "--statistics" in r.stderr


CONTROL = "\x1b[31m\x07\x08\r\x00\x9b\u202e\x7f"


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_no_control_character_from_a_file_reaches_the_terminal(tmp_path, fmt):
    # A lone CR ends a line for HELM (open() reads universal newlines), so inside a quoted
    # string it is an unterminated string (HC0002, tests/compiler/syntax/conf/test_reader_items.py), not text.
    control = CONTROL.replace("\r", "")
    name = f"model=simple/mo{control}del1,k{control}=v"
    (tmp_path / "c.conf").write_text('entries: [{description: "simple1:' + name + '", priority: 1}]\n')
    r = subprocess.run(HELM_CHECK + ["c.conf", "--format", fmt], cwd=tmp_path, capture_output=True, env=_env())
    assert r.returncode == 1
    out = r.stdout.decode("utf-8")
    assert "HC0308" in out or "HC0302" in out
    bad = [c for c in out if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]
    assert not bad, bad
    # JSON keeps the text exact
    r = subprocess.run(HELM_CHECK + ["c.conf", "--format", "json"], cwd=tmp_path, capture_output=True, env=_env())
    assert any("\x1b[31m" in d["message"] for d in json.loads(r.stdout))


def test_a_200_mb_line_prints_a_frame_not_a_page(tmp_path):
    value = "v" * 2_000_000  # 2 MB stands for 200 MB: the cut does not depend on the length
    (tmp_path / "big.conf").write_text(
        'entries: [{description: "simple1:model=simple/' + value + '", priority: 1}]\n')
    r = subprocess.run(HELM_CHECK + ["big.conf"], cwd=tmp_path, capture_output=True, text=True, env=_env(),
                       timeout=300)
    assert r.returncode == 1
    assert len(r.stdout) < 10_000, len(r.stdout)
    lines = r.stdout.splitlines()
    caret = next(ln for ln in lines if "^" in ln)
    frame = lines[lines.index(caret) - 1]
    assert caret.index("^") < len(frame) and frame[caret.index("^")] == "s"  # still under `simple/...`


# ------------------------------------------------------------------------------ language server

pygls = pytest.importorskip  # the LSP extras are installed in CI (README's test command)

from lsp_raw import RawLsp  # noqa: E402


@pytest.fixture
def raw_lsp(tmp_path):
    pytest.importorskip("pygls")
    s = RawLsp(tmp_path)
    yield s
    s.close()


def _hover(uri: str) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 30}}


def test_lsp_answers_bad_params_and_bad_json_and_keeps_serving(raw_lsp, tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    answer = raw_lsp.request(2, "textDocument/hover", {"foo": 1})
    assert answer["error"]["code"] == -32602  # Invalid params
    raw_lsp.raw(b"Content-Length: 5\r\n\r\n{{{{{")
    parse_error = raw_lsp.until(lambda m: "error" in m and m.get("id") is None)
    assert parse_error["error"]["code"] == -32700
    answer = raw_lsp.request(3, "textDocument/hover", _hover(conf.as_uri()))
    assert "simple1" in answer["result"]["contents"]["value"]


@pytest.mark.parametrize("frame", [b"Content-Type: x\r\n\r\n{}", b"Content-Length: -5\r\n\r\n",
                                   b"Content-Length: abc\r\n\r\n", b"garbage without a colon\r\n\r\n"])
def test_lsp_exits_on_a_broken_stream_so_that_the_editor_restarts_it(raw_lsp, frame):
    raw_lsp.raw(frame)
    try:
        code = raw_lsp.p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("alive but deaf after a framing error")
    assert code == 1
    assert b"stream is broken" in raw_lsp.p.stderr.read()


def test_lsp_hover_on_unopened_special_files_answers_at_once(raw_lsp, tmp_path):
    specials = _special_files(tmp_path)
    for i, path in enumerate(specials):
        answer = raw_lsp.request(10 + i, "textDocument/hover", _hover(Path(path).as_uri()))
        assert answer.get("result") is None, (path, answer)
    assert raw_lsp.p.poll() is None


def test_lsp_checks_big_documents_in_the_background_and_publishes_only_the_newest(raw_lsp, tmp_path):
    uri = (tmp_path / "big.conf").as_uri()
    line = '  {description: "simple1:model=simple/modl1", priority: 1}\n'
    big = "entries: [\n" + line * 20000 + "]\n"  # ~1.2 MB, 20000 errors: seconds to check
    raw_lsp.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                  "params": {"textDocument": {"uri": uri, "languageId": "hocon", "version": 1, "text": big}}})
    small = 'entries: [{description: "simple1:model=simple/model1,nope=1", priority: 1}]\n'
    for v in range(2, 6):  # quick edits while the first version is being checked
        raw_lsp.send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                      "params": {"textDocument": {"uri": uri, "version": v},
                                 "contentChanges": [{"text": small if v == 5 else big}]}})
    # The server answers meanwhile.
    t0 = time.monotonic()
    answer = raw_lsp.request(50, "textDocument/hover", _hover((tmp_path / "none.conf").as_uri()))
    assert "result" in answer
    waited = time.monotonic() - t0
    published = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m = raw_lsp.until(lambda m: m.get("method") == "textDocument/publishDiagnostics", timeout=120)
        published.append(m["params"])
        if m["params"].get("version") == 5:
            break
    versions = [p.get("version") for p in published]
    assert versions[-1] == 5 and set(versions) <= {1, 5}, versions  # 2, 3 and 4 were replaced: never checked
    codes = [d["code"] for d in published[-1]["diagnostics"]]
    assert codes == ["HC0302"], codes
    assert waited < 60


def test_an_internal_error_in_the_server_is_never_a_clean_file(monkeypatch):
    pytest.importorskip("pygls")
    from helmc.lsp.features import build_server

    s = build_server()
    monkeypatch.setattr(s, "analyze", lambda uri, text=None: 1 / 0)
    monkeypatch.setattr(s, "window_log_message", lambda params: None)
    diags = s.lsp_diagnostics("file:///x.conf", "entries: []")
    assert len(diags) == 1 and diags[0].code == "HC0902" and "internal error" in diags[0].message


# What JSON-RPC forbids in a message's shape and pygls does not check: each got a traceback in the
# server's log (an unhashable id also left the request unanswered).
BAD_SHAPES = {
    "object id": '{"jsonrpc":"2.0","id":{"a":1},"method":"textDocument/hover","params":{}}',
    "list id": '{"jsonrpc":"2.0","id":[1],"method":"shutdown"}',
    "bool id": '{"jsonrpc":"2.0","id":true,"method":"textDocument/hover","params":{}}',
    "response with neither result nor error": '{"jsonrpc":"2.0","id":5}',
    "response with both": '{"jsonrpc":"2.0","id":5,"result":1,"error":{"code":1,"message":"x"}}',
    "method not a string": '{"jsonrpc":"2.0","id":3,"method":7}',
    "params null": '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":null}',
    "params missing a field": '{"jsonrpc":"2.0","id":8,"method":"textDocument/hover","params":{"textDocument":{}}}',
    "position negative": '{"jsonrpc":"2.0","id":9,"method":"textDocument/hover","params":{"textDocument":'
                         '{"uri":"file:///a.conf"},"position":{"line":-1,"character":-5}}}',
}


def _send_json(lsp: RawLsp, text: str) -> None:
    body = text.encode()
    lsp.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def _stderr_after_exit(lsp: RawLsp) -> tuple[int, str]:
    lsp.send({"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
    lsp.until(lambda m: m.get("id") == 999)
    lsp.send({"jsonrpc": "2.0", "method": "exit"})
    code = lsp.p.wait(timeout=30)
    return code, lsp.p.stderr.read().decode("utf-8", "replace")


@pytest.mark.parametrize("name", list(BAD_SHAPES))
def test_lsp_a_malformed_message_gets_an_error_and_one_log_line(raw_lsp, tmp_path, name):
    conf = tmp_path / "a.conf"
    conf.write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    _send_json(raw_lsp, BAD_SHAPES[name])
    raw = json.loads(BAD_SHAPES[name])
    if "method" in raw and isinstance(raw.get("id"), (int, str)) and not isinstance(raw["id"], bool):
        answer = raw_lsp.until(lambda m: m.get("id") == raw["id"] and "method" not in m)
        assert answer["error"]["code"] in (-32600, -32602), answer
    elif "method" not in raw or not isinstance(raw.get("id"), (int, str, type(None))) or isinstance(raw.get("id"), bool):
        answer = raw_lsp.until(lambda m: "error" in m and m.get("id") is None)
        assert answer["error"]["code"] == -32600, answer
    assert "simple1" in raw_lsp.request(3, "textDocument/hover", _hover(conf.as_uri()))["result"]["contents"]["value"]
    code, log = _stderr_after_exit(raw_lsp)
    assert code == 0 and "Traceback" not in log and "File \"" not in log, log[-3000:]
    assert log.strip(), "the log says nothing about the message"


def test_lsp_before_initialize_only_initialize_is_served(tmp_path):
    pytest.importorskip("pygls")
    conf = tmp_path / "a.conf"
    conf.write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    lsp = RawLsp.__new__(RawLsp)  # no initialize: the raw process only
    lsp.p = subprocess.Popen([sys.executable, "-m", "helmc", "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=tmp_path)
    lsp.buf = b""
    try:
        answer = lsp.request(1, "textDocument/hover", _hover(conf.as_uri()))
        assert answer["error"]["code"] == -32002, answer  # ServerNotInitialized
        lsp.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",  # dropped, said in the log
                  "params": {"textDocument": {"uri": conf.as_uri(), "languageId": "hocon", "version": 1, "text": "{"}}})
        assert "capabilities" in lsp.request(2, "initialize", {"capabilities": {}, "processId": None,
                                                               "rootUri": None})["result"]
        lsp.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        assert "simple1" in lsp.request(3, "textDocument/hover", _hover(conf.as_uri()))["result"]["contents"]["value"]
        code, log = _stderr_after_exit(lsp)
    finally:
        lsp.close()
    assert code == 0 and "Traceback" not in log and "before initialize" in log, log


def test_lsp_after_shutdown_requests_get_invalid_request_and_exit_ends_it(raw_lsp, tmp_path):
    raw_lsp.request(2, "shutdown", None)
    for i, method in enumerate(["textDocument/hover", "textDocument/completion", "shutdown", "no/such/method"]):
        answer = raw_lsp.request(10 + i, method, _hover((tmp_path / "a.conf").as_uri()))
        assert answer["error"]["code"] == -32600, (method, answer)
    raw_lsp.send({"jsonrpc": "2.0", "method": "exit"})
    assert raw_lsp.p.wait(timeout=30) == 0


def test_lsp_input_ending_inside_a_body_is_a_broken_stream(raw_lsp):
    raw_lsp.raw(b'Content-Length: 100\r\n\r\n{"jsonrpc"')
    raw_lsp.p.stdin.close()
    assert raw_lsp.p.wait(timeout=30) == 1
    assert b"ended inside a message body" in raw_lsp.p.stderr.read()


def test_lsp_ends_at_once_when_the_editor_goes_during_a_long_check(raw_lsp, tmp_path):
    """A big document's check runs in a thread for seconds or minutes: when stdin closes the
    server ends at once, never after the check that nobody waits for."""
    line = '  {description: "simple1:model=simple/modl1", priority: 1}\n'
    raw_lsp.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                  "params": {"textDocument": {"uri": (tmp_path / "big.conf").as_uri(), "languageId": "hocon",
                                              "version": 1, "text": "entries: [\n" + line * 100000 + "]\n"}}})
    raw_lsp.request(5, "textDocument/hover", _hover((tmp_path / "none.conf").as_uri()))  # the check has begun
    t0 = time.monotonic()
    raw_lsp.p.stdin.close()
    assert raw_lsp.p.wait(timeout=60) == 0
    assert time.monotonic() - t0 < 10
