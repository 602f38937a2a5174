"""Running helmc in-process the way a user runs it, for tests and the docs generator."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from helmc.cli import main

EXAMPLE_FILE = "run_entries.conf"


def plan_entries(entries, catalog, options, sink, *, traces=None):
    """The planner as the compile calls it (compiler/session.py): resolution first, its
    diagnostics into `sink`, then expand_entries over what it resolved, and its Plan."""
    from helmc.compiler.resolve.resolve import resolve_entries
    from helmc.compiler.plan.planner import expand_entries

    resolved = resolve_entries(entries, catalog, sink, options.models_to_run)
    return expand_entries(entries, catalog, options, sink, resolved=resolved, traces=traces).plan()


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run `helmc ARGV` in `cwd`; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse
                code = int(e.code or 0)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def example_argv(example, fmt: str, fixed: bool = False) -> list[str]:
    """The command line of a diagnostic example (see tests/diagnostic_examples.py)."""
    args = list(example.fixed_args if fixed and example.fixed_args is not None else example.args)
    if example.command == "check" and example.path != EXAMPLE_FILE:
        return ["check", example.path, *args, "--format", fmt]
    if example.command == "status":  # `path` is the journal; args name the suite and output folder
        return ["status", *args, "--format", fmt]
    if example.command == "check":
        paths = [a for a in args if a.endswith(".conf")] or [EXAMPLE_FILE]
        rest = [a for a in args if not a.endswith(".conf")]
        return ["check", *paths, *rest, "--format", fmt]
    return [example.command, "-c", EXAMPLE_FILE, *args, "--format", fmt]


def run_example(example, fmt: str, cwd: Path, fixed: bool = False) -> tuple[int, str, str]:
    text = example.fixed if fixed else example.bad
    target = cwd / getattr(example, "path", EXAMPLE_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    for name, content in example.extra_files.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(content, encoding="utf-8")
    return run_cli(example_argv(example, fmt, fixed), cwd)


def shown_output(example, stdout: str, stderr: str) -> str:
    """What an example prints that is worth showing: helm-run's diagnostics go to stderr, and
    its stdout is HELM's own log (with timestamps) once HELM is set up."""
    return stderr if example.command == "run" else stdout + stderr


def bind_socket(path: Path) -> None:
    """A Unix socket file at `path`, bound by its name in its folder (a socket's path is limited
    to 108 bytes); the file stays after the socket is closed."""
    import socket

    here = os.getcwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path.name)
    finally:
        os.chdir(here)


# What the tests put where a regular file (or a folder) is expected: plant_special's kinds.
SPECIAL_KINDS = ("fifo", "socket", "chardev", "loop", "dangling", "folder")


def plant_special(path: Path, kind: str) -> None:
    """One of SPECIAL_KINDS at `path`: a FIFO, a Unix socket, a symbolic link to a character
    device (/dev/zero: endless when read), one to itself (ELOOP), one to nothing, a folder."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        bind_socket(path)
    elif kind == "chardev":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to("nowhere")
    elif kind == "folder":
        path.mkdir()
    else:
        raise ValueError(f"no special kind {kind!r}")
