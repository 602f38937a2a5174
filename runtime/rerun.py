"""The command that runs again only some runs of a suite: helm-run's summary and `helmc status`.

helm-run journals the words of its own invocation (helmc/app/run.py's `invocation_words`, rebuilt
from the parsed flags and the table of options); run again as they are, they resume the suite. `rerun_command` limits them to the runs
named (the failed ones), in place of an `--only-runs` or `--only-runs-file` they had. A command longer than MAX_COMMAND (133,333 run names make 7 MB, and Linux refuses an argument
list over 2 MB, a single argument over 128 KiB) lists the runs in a file instead, in helmc's
folder of the suite, and reads them back with `--only-runs-file`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
from typing import Sequence

# Bytes of a command line that can be pasted and executed anywhere: far below Linux's 2 MB
# for arguments and environment together, and below its 128 KiB for one argument.
MAX_COMMAND = 32 * 1024
_LIMITS = ("--only-runs", "--only-runs-file")  # the flags rerun_command replaces


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")


def hide_password(uri: str) -> str:
    """A URI with its password replaced by `****` (`mongodb://user:****@host/db`): the re-run
    command is printed and journaled, and a password must appear in neither."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:****@", uri, count=1)


class RunListError(Exception):
    """The list of runs could not be written (or read): `path` and the OS error say why."""

    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"{path}: {why}")


def rerun_command(words: Sequence[str], run_names: Sequence[str], folder: str | None = None) -> str:
    """`words` limited to the runs named, as one shell-quoted line. Past MAX_COMMAND bytes, and
    given `folder` (helmc's folder of the suite), the names go to a file there and the command
    reads it with `--only-runs-file`. Raises RunListError when that file cannot be written."""
    kept: list[str] = []
    skipping = False
    for w in words:
        if w in _LIMITS:
            skipping = True
        elif skipping and w.startswith("-"):
            skipping = False
        if not skipping:
            kept.append(w)
    cmd = shlex.join([*kept, "--only-runs", *run_names])
    # argparse reads a word that starts with "-" as a flag, not as a name: such names go in the file
    dashed = any(n.startswith("-") for n in run_names)
    if folder is None or (len(cmd.encode("utf-8", "surrogateescape")) <= MAX_COMMAND and not dashed):
        return cmd
    path = write_run_list(folder, run_names)
    return shlex.join([*kept, "--only-runs-file", path])


def run_list_file(folder: str, run_names: Sequence[str]) -> tuple[str, bytes]:
    """Where `write_run_list` puts these names (absolute), and what it writes: one name a line,
    or a JSON array where lines would not read back the same (a name with a line break, or a
    first name that starts with `[`). Named by its content, so two lists never overwrite each
    other and the same list is one file."""
    text = "".join(f"{n}\n" for n in run_names)
    if _lines(text) != list(run_names):
        text = json.dumps(list(run_names), ensure_ascii=False) + "\n"
    data = text.encode("utf-8", "surrogateescape")
    return os.path.abspath(os.path.join(folder, f"rerun-{hashlib.sha256(data).hexdigest()[:16]}.txt")), data


def write_run_list(folder: str, run_names: Sequence[str]) -> str:
    """The names in a file of `folder` (`run_list_file`), written aside and renamed, so a reader
    never sees half a list; its absolute path. Raises RunListError."""
    path, data = run_list_file(folder, run_names)
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise RunListError(path, e.strerror or str(e)) from None
    return path


def read_run_list(path: str) -> list[str]:
    """The run names of an `--only-runs-file`: one a line (blank lines ignored), or a JSON array
    of strings. Raises RunListError naming the path and what is wrong."""
    from helmc.compiler.files.reading import read_input_bytes

    try:
        data = read_input_bytes(path)  # a FIFO or /dev/zero given by mistake: refused, never read
    except OSError as e:
        raise RunListError(path, e.strerror or str(e)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RunListError(path, f"not UTF-8 text (byte {e.start})") from None
    if text.lstrip().startswith("["):
        try:
            names = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise RunListError(path, f"not a JSON array of run names ({type(e).__name__})") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RunListError(path, "not a JSON array of run names")
        return names
    return _lines(text)


def _lines(text: str) -> list[str]:
    if text.lstrip().startswith("["):
        return []  # read as JSON
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]
