"""compiler/files/atomic_write.py: the old content or the new, never half; permissions and links kept;
devices and pipes written to, never replaced."""

from __future__ import annotations

import os
import stat

import pytest

from helmc.compiler.files.atomic_write import write_atomically


def _leftovers(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".helmc-tmp")]


def test_an_existing_file_keeps_its_mode_and_a_link_its_target(tmp_path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomically(str(link), "new ✓")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new ✓"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_a_new_file_gets_the_umask_mode(tmp_path) -> None:
    old = os.umask(0o027)
    try:
        write_atomically(str(tmp_path / "report.json"), "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_content_and_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "conf.conf"
    target.write_text("entries: []\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(str(target), "half \ud800 written")  # a lone surrogate cannot be UTF-8
    assert target.read_text() == "entries: []\n"
    assert _leftovers(tmp_path) == []


def test_a_pipe_is_written_to_not_replaced(tmp_path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomically(str(fifo), "through the pipe")
        assert os.read(r, 100) == b"through the pipe"
    finally:
        os.close(r)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# ------------------------------------------------------------------------------ what is refused

import shutil
import subprocess
import sys
import threading

from helpers import plant_special

HELMC = [sys.executable, "-m", "helmc"]
CONF = 'entries: [\n  {description: "simple1:model=simple/model1",   priority: 1}\n]\n'  # fmt changes it
BOM_CONF = "\ufeff" + CONF  # --fix removes the byte order mark


@pytest.mark.parametrize("kind,says", [("fifo", "nobody reads"), ("socket", "a socket")])
def test_a_fifo_nobody_reads_or_a_socket_is_refused_at_once(tmp_path, kind, says) -> None:
    target = tmp_path / "out"
    plant_special(target, kind)
    got: list[BaseException] = []

    def write() -> None:
        try:
            write_atomically(str(target), "text")
        except BaseException as e:  # noqa: BLE001 - what the caller sees
            got.append(e)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "blocked opening the FIFO for a reader"
    assert len(got) == 1 and isinstance(got[0], OSError) and says in got[0].strerror, got
    assert got[0].filename == str(target)


# Every command that writes a file through write_atomically: (argv with {f}, the file's content
# before, the exit code when the write is refused).
WRITERS = {
    "helm-check -o": ([*HELMC, "check", "ok.conf", "-o", "{f}"], None, 2),
    "helm-check --fix": ([*HELMC, "check", "--fix", "{f}"], BOM_CONF, 1),
    "helmc fmt": ([*HELMC, "fmt", "{f}"], CONF, 1),
}


def _run(argv, cwd, timeout=60, user=None):
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: {argv}")


@pytest.mark.parametrize("name", ["helm-check -o"])
@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_commands_refuse_a_fifo_or_socket_as_output_with_the_path(tmp_path, name, kind) -> None:
    argv, _, _ = WRITERS[name]
    (tmp_path / "ok.conf").write_text(CONF)
    plant_special(tmp_path / "report", kind)
    r = _run([a.replace("{f}", "report") for a in argv], tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 2 and "cannot write `report`" in out and "Traceback" not in out, out


NOBODY = 65534


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run the command as another user (root may write anything)")
@pytest.mark.parametrize("name", list(WRITERS))
def test_a_file_the_user_may_not_write_is_left_as_it_was(tmp_path, name) -> None:
    """Replacing by rename needs only the folder's permission: a read-only file (here root's,
    written by another user) would be replaced, its owner changed. Each writer refuses it, says
    so with the path, and the others' work goes on."""
    import tempfile
    from pathlib import Path

    argv, before, code = WRITERS[name]
    tmp_path = Path(tempfile.mkdtemp(prefix="helmc-ro-"))  # pytest's own folders are root's alone (0700)
    try:
        _left_as_it_was(tmp_path, argv, before, code)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _left_as_it_was(tmp_path, argv, before, code) -> None:
    os.chmod(tmp_path, 0o777)
    (tmp_path / "ok.conf").write_text(CONF)
    target = tmp_path / "ro.conf"
    target.write_text(before if before is not None else "an earlier report\n", encoding="utf-8")
    os.chmod(target, 0o444)
    old = target.read_bytes()
    r = _run([a.replace("{f}", "ro.conf") for a in argv], tmp_path, user=NOBODY)
    out = r.stdout + r.stderr
    assert r.returncode == code and "cannot write `ro.conf`" in out and "Permission denied" in out, out
    assert "Traceback" not in out, out
    assert target.read_bytes() == old and target.stat().st_uid == 0
    assert _leftovers(tmp_path) == []


def test_fmt_formats_the_other_files_when_one_cannot_be_written(tmp_path, monkeypatch) -> None:
    """The code path itself, as root: one file's write fails (any OSError), the next is formatted."""
    from helmc.commands import fmt as fmt_command

    for name in ("a.conf", "b.conf"):
        (tmp_path / name).write_text(CONF)
    real = fmt_command.write_atomically

    def refuse_a(path: str, text: str) -> None:
        if path.endswith("a.conf"):
            raise PermissionError(13, "Permission denied", path)
        real(path, text)

    monkeypatch.setattr(fmt_command, "write_atomically", refuse_a)
    monkeypatch.chdir(tmp_path)
    import argparse

    code = fmt_command._files(argparse.Namespace(paths=["a.conf", "b.conf"], diff=False, check=False))
    assert code == 1
    assert (tmp_path / "a.conf").read_text() == CONF and (tmp_path / "b.conf").read_text() != CONF
