"""Reading input files safely: every file helmc reads, and every file it appends to, goes
through here.

Only regular files are read (a FIFO would block for ever, /dev/zero never ends, a folder is
no file), and only up to a size limit: HELM's largest conf file is 60 KB, so 64 MB is far
beyond any real input and still small enough to check. Files helmc writes into (logs, the
journal, the suite's lock) are opened the same way: never a FIFO (opening one for writing
waits for a reader) nor a device. Errors are OSErrors carrying the path and a sentence, so
every caller's `except OSError` reports them as it reports a missing file.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, TextIO

MAX_INPUT_BYTES = 64 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _kind_at(path: str, default: str) -> str:
    """What stands at `path` (a socket, a FIFO...), for an open() that failed with ENXIO."""
    try:
        return _kind(os.stat(path).st_mode)
    except OSError:
        return default


def too_large(path: str, size: int | None = None, limit: int = MAX_INPUT_BYTES) -> OSError:
    got = f" ({size:,} bytes)" if size is not None else ""
    return OSError(errno.EFBIG, f"file too large{got}: helmc reads inputs up to {limit // (1024 * 1024)} MB", path)


def read_input_bytes(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file, at most `limit` of them; never blocks on a FIFO."""
    path = os.fspath(path)
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(errno.ENOENT, f"a broken symbolic link (to `{os.readlink(path)}`)", path) from None
        raise
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket (or a device with nothing behind it): not "No such device"
            raise OSError(errno.ENXIO, f"{_kind_at(path, 'not a regular file')}, not a regular file; helmc reads only files",
                          path) from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{_kind(st.st_mode)}, not a regular file; helmc reads only files", path)
        if st.st_size > limit:
            raise too_large(path, st.st_size, limit)
        chunks: list[bytes] = []
        total = 0
        while True:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise too_large(path, None, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO | TextIO, name: str, limit: int = MAX_INPUT_BYTES) -> bytes | str:
    """At most `limit` bytes (characters, from a text stream) of an open stream: standard input,
    where a pipe is fine but `< /dev/zero` never ends."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(name, None, limit)
    return data


def open_regular(path: str | os.PathLike[str], flags: int, mode: int = 0o644) -> int:
    """A descriptor on a regular file for helmc to write (`flags`: os.O_WRONLY | os.O_APPEND,
    os.O_RDWR, with os.O_CREAT...). A FIFO, a device or a folder in its place is refused without
    blocking, with the same OSErrors as read_input_bytes. With os.O_RDONLY: a file to hand to
    a reader that takes a path (SQLite), which would wait for ever on a FIFO."""
    path = os.fspath(path)
    verb = "writes" if flags & (os.O_WRONLY | os.O_RDWR) else "reads"
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as e:
        if e.errno == errno.ENXIO:  # O_NONBLOCK | O_WRONLY on a FIFO nobody reads, or a socket
            kind = _kind_at(path, _kind(stat.S_IFIFO))
            raise OSError(errno.ENXIO, f"{kind}, not a regular file; helmc {verb} only files", path) from None
        if e.errno == errno.EISDIR:
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", path) from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{_kind(st.st_mode)}, not a regular file; helmc {verb} only files", path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: blocking as any other write
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_for_append(path: str | os.PathLike[str], mode: int = 0o644) -> int:
    """open_regular for appending, creating the file if needed (logs, the journal)."""
    return open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)


def read_input_text(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> str:
    """As read_input_bytes, decoded as UTF-8 (UnicodeDecodeError, a ValueError, if it is not)."""
    return read_input_bytes(path, limit).decode("utf-8")
