"""Writing a file so that a reader sees the old content or the new, never half of it: helm-check
--fix rewriting conf files, helm-check -o and `helmc catalog build` writing their output."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path: str, text: str) -> None:
    """Write `text` as UTF-8 beside the file, then rename it over the file. A symlink keeps
    pointing at the file it names; an existing file keeps its permissions, a new one gets the
    umask's. What is not a regular file (a device, a pipe) is written to as it is."""
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        if not stat.S_ISREG(st.st_mode):  # /dev/stdout, a pipe, /dev/null: written, never replaced
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
            return
        mode = st.st_mode & 0o7777
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
