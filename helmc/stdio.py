"""Standard output and error as the outside world leaves them: closed, full, or a pipe whose
reader went away (`helm-check bad.conf | head -1`).

A reader that goes away is no error: the rest of the output is dropped and the command keeps
its exit code, as grep and ruff do. Any other failure to write (a full disk, /dev/full, a
closed descriptor) is an OutputError: the command line reports it with the OS error and exits 2.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any, Callable, Iterator


class OutputError(Exception):
    """Writing to standard output or error failed for a reason other than a gone reader."""

    def __init__(self, name: str, error: OSError) -> None:
        super().__init__(f"cannot write to {name}: {error.strerror or error}")
        self.name = name
        self.error = error


def _describe(fd: int, label: str) -> str:
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return label
    return f"{label} ({target})" if target.startswith("/") else label


def _silence(stream: Any) -> None:
    """Point the stream's descriptor at /dev/null, so that nothing (Python's own flush at exit
    included) fails on it again."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


class GuardedStream:
    def __init__(self, inner: Any, label: str, fd: int) -> None:
        self._inner = inner
        self._label = label
        self._fd = fd
        self.reader_gone = False
        self.before_write: Callable[[], None] | None = None  # helmc/heartbeat.py clears its line

    def _fail(self, e: OSError) -> OutputError:
        name = _describe(self._fd, self._label)
        _silence(self._inner)
        return OutputError(name, e)

    def _guard(self, op: str, *a: Any) -> Any:
        if self.reader_gone:
            return len(a[0]) if a else None
        if self._inner is None:
            raise OutputError(self._label, OSError(errno.EBADF, os.strerror(errno.EBADF)))
        try:
            return getattr(self._inner, op)(*a)
        except BrokenPipeError:
            self.reader_gone = True
            _silence(self._inner)
            return len(a[0]) if a else None
        except OSError as e:
            raise self._fail(e) from None

    def write(self, s: str) -> int:
        if self.before_write is not None:
            self.before_write()
        return self._guard("write", s)

    def flush(self) -> None:
        self._guard("flush")

    def isatty(self) -> bool:
        return bool(self._inner is not None and self._inner.isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _reserve_closed_fds() -> set[int]:
    """A descriptor 0-2 closed at start would be handed to the next file opened (a run's log
    would become standard output): park /dev/null there and remember it was closed."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
    for fd in sorted(closed):
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    return closed


@contextlib.contextmanager
def guarded_stdio() -> Iterator[tuple[GuardedStream, GuardedStream]]:
    closed = _reserve_closed_fds()
    saved = sys.stdout, sys.stderr
    out = GuardedStream(None if 1 in closed else sys.stdout, "standard output", 1)
    err = GuardedStream(None if 2 in closed else sys.stderr, "standard error", 2)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield out, err
        out.flush()
        err.flush()
    finally:
        sys.stdout, sys.stderr = saved
