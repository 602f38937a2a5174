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
