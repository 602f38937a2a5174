"""The commands' quick exit (helmc.cli.exit_now, for helmc, helm-check and helm-run): the exit code,
everything written to the standard streams and the atexit handlers' work survive it; a thread still
working gets a normal exit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PRELUDE = "import atexit, sys, threading, time\nfrom helmc.cli import exit_now\n"


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE + code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


def test_code_streams_and_atexit_handlers_survive(tmp_path) -> None:
    r = _python(
        "atexit.register(lambda: open('atexit-ran', 'w').write('yes'))\n"
        "sys.stdout.write('x' * 100000)  # buffered, never flushed by the program\n"
        "sys.stderr.write('last words')\n"
        "exit_now(3)\n"
        "print('not reached')\n",
        tmp_path,
    )
    assert r.returncode == 3
    assert r.stdout == "x" * 100000
    assert r.stderr == "last words"
    assert (tmp_path / "atexit-ran").read_text() == "yes"


def test_a_working_thread_is_waited_for(tmp_path) -> None:
    r = _python(
        "def work():\n"
        "    time.sleep(0.5)\n"
        "    open('thread-done', 'w').write('yes')\n"
        "threading.Thread(target=work).start()\n"
        "exit_now(0)\n",
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "thread-done").read_text() == "yes"


HELM_RUN = os.path.join(os.path.dirname(sys.executable), "helm-run")


@pytest.mark.skipif(not os.path.exists(HELM_RUN), reason="helmc's helm-run command is not installed beside python")
@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--max-eval-instances"], 2, "usage: helm-run"),  # bad usage
        (["-r", "simple1:model=simple/modell", "-m", "1"], 1, "HC0"),  # an error in the run entry: nothing runs
    ],
    ids=["usage", "input-error"],
)
def test_the_helm_run_command_keeps_its_exit_codes(tmp_path, argv, code, says) -> None:
    r = subprocess.run([HELM_RUN, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "NO_COLOR": "1"})
    assert r.returncode == code, r.stdout + r.stderr
    assert says in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


BIN = os.path.dirname(sys.executable)
# each command as installed (its exit through exit_now) and the same main returning to sys.exit
ENTRIES = {
    "helmc": ([os.path.join(BIN, "helmc")], "from helmc.cli import main as m"),
    "python -m helmc": ([sys.executable, "-m", "helmc"], "from helmc.cli import main as m"),
    "helm-check": ([os.path.join(BIN, "helm-check")], "from helmc.cli import helm_check_main as m"),
}
BAD = 'entries: [\n  {description: "simple1:model=simple/modell", priority: 1}\n]\n'  # HC0308: exit 1
GOOD = 'entries: [\n  {description: "simple1:model=simple/model1", priority: 1}\n]\n'


ARGVS = [["check", "bad.conf"], ["check", "good.conf", "--format", "json"], ["check", "bad.conf", "--format", "sarif"],
         ["plan", "good.conf", "--format", "json"], ["plan", "bad.conf"], ["check", "--no-such-flag"],
         ["fmt", "--check", "good.conf"]]
CASES = [(entry, argv[1:] if entry == "helm-check" else argv) for entry in sorted(ENTRIES) for argv in ARGVS
         if entry != "helm-check" or argv[0] == "check"]  # helm-check is `helmc check`


@pytest.mark.parametrize(("entry", "argv"), CASES, ids=[f"{e}-{'-'.join(a)}" for e, a in CASES])
def test_every_command_says_and_exits_as_its_main_returns(tmp_path, entry, argv) -> None:
    command, main = ENTRIES[entry]
    if not os.path.exists(command[0]):
        pytest.skip(f"{command[0]} is not installed beside python")
    (tmp_path / "bad.conf").write_text(BAD)
    (tmp_path / "good.conf").write_text(GOOD)
    env = {**os.environ, "NO_COLOR": "1"}
    quick = subprocess.run([*command, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    plain = subprocess.run([sys.executable, "-c", f"import sys\n{main}\nsys.exit(m())", *argv], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120, env=env)
    assert (quick.returncode, quick.stdout, quick.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert "Traceback" not in quick.stderr
