"""One of N lock files: how workers on one machine or a shared folder take one of N places
(the Slurm-local start gate, the governor's concurrency slots on files)."""

from __future__ import annotations

import errno
import fcntl
import os
from typing import Iterable

_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


def lock_one_of(paths: Iterable[str]) -> int | None:
    """An exclusive lock on the first of `paths` that no one holds (created if missing): its
    file descriptor, which holds the lock until closed (or the process ends); None when all are
    held. Any other error (the folder gone or not writable) is raised."""
    for path in paths:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as e:
            os.close(fd)
            if e.errno not in _BUSY:
                raise
    return None
