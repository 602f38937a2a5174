"""Writing a file so that a reader sees the old content or the new, never half of it: helm-check
--fix rewriting conf files, helm-check -o and `helmc catalog build` writing their output."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def write_atomically(path: str, text: str) -> None:
    """Write `text` as UTF-8 beside the file, then rename it over the file. A symlink keeps
    pointing at the file it names; an existing file keeps its permissions, a new one gets the
    umask's. What is not a regular file (a device, a pipe) is written to as it is. Refused with
    an OSError naming the path: a file this process may not write (a rename would replace it
    anyway, its owner changed), a FIFO nobody reads (opening it would wait for ever), a socket."""
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        if not stat.S_ISREG(st.st_mode):  # /dev/stdout, a pipe, /dev/null: written, never replaced
            _write_through(str(target), st.st_mode, text, path)
            return
        if not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied (the file is not writable; helmc does not "
                                  "replace it)", path)
        mode = st.st_mode & 0o7777
    import tempfile  # here: with shutil and random, 2-4 ms of every helm-check's start, which rarely writes

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".helmc-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_through(target: str, mode: int, text: str, path: str) -> None:
    """Write into a device or a pipe: O_NONBLOCK to open, so a FIFO with no reader is refused at
    once (ENXIO) instead of waiting; then blocking writes, as to any file."""
    if stat.S_ISSOCK(mode):
        raise OSError(errno.ENXIO, "a socket, not a file helmc can write", path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ENXIO and stat.S_ISFIFO(mode):
            raise OSError(errno.ENXIO, "a named pipe (FIFO) that nobody reads; helmc does not wait for a reader",
                          path) from None
        raise OSError(e.errno, e.strerror, path) from None
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8"))
