"""The command line: `helmc <subcommand>`, plus the `helm-check` and `helm-run` aliases.

Each subcommand lives in helmc/commands/<name>.py with `add_arguments(parser)` and
`run(args) -> int`; this module only dispatches, and keeps every failure of helmc itself
away from the user as a one-line message with exit code 2 (ruff's convention).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Sequence

COMMANDS: dict[str, str] = {
    "parse": "Parse conf files and print their run entries",
    "check": "Check conf files and run entries (helm-check)",
    "plan": "Print the runs HELM would build, without running them",
    "run": "Compile, then run through HELM (helm-run)",
    "status": "Show the state of each run of a suite, from its journal",
    "catalog": "Build or list the catalog of what HELM knows",
    "lsp": "Start the language server on stdio",
    "fmt": "Format conf files",
}
# One-shot commands that may work long before they print: a line on the terminal says they
# live (helmc/heartbeat.py). helm-run and status have displays of their own; lsp is no terminal's.
QUIET_WORK = frozenset({"parse", "check", "plan", "catalog", "fmt"})


def _command(name: str):
    return importlib.import_module(f"helmc.commands.{name}")


def _available() -> dict[str, str]:
    out = {}
    for name, help in COMMANDS.items():
        if importlib.util.find_spec(f"helmc.commands.{name}") is not None:
            out[name] = help
    return out


def _build(prog: str, only: str | None, argv: Sequence[str]) -> argparse.ArgumentParser:
    if only is not None:
        parser = argparse.ArgumentParser(prog=prog, description=COMMANDS[only])
        _command(only).add_arguments(parser)
        parser.set_defaults(_command=only, _parser=parser)
        return parser
    from helmc import __version__

    parser = argparse.ArgumentParser(prog=prog, description="A grammar-driven front end for HELM.")
    parser.add_argument("--version", action="version", version=f"helmc {__version__}")
    sub = parser.add_subparsers(dest="_command", metavar="COMMAND")
    sub.required = True
    # Only the command being run imports its module and declares its flags: start-up time
    # is part of every helm-check run.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, help in _available().items():
        p = sub.add_parser(name, help=help, description=help)
        if chosen is None or chosen == name:
            _command(name).add_arguments(p)
            p.set_defaults(_parser=p)  # a mistake in a subcommand's flags shows its own usage
    return parser


def _main(argv: Sequence[str] | None, prog: str, only: str | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build(prog, only, argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    from helmc.stdio import OutputError, guarded_stdio

    try:
        with guarded_stdio() as (out, err):
            if args._command not in QUIET_WORK:
                return _run_command(args, prog)
            from helmc.heartbeat import heartbeat

            with heartbeat(f"{prog} {args._command}" if prog == "helmc" else prog, (out, err), sys.__stderr__):
                return _run_command(args, prog)
    except OutputError as e:
        _say(f"{prog}: error: {e}")
        return 2


def _say(text: str) -> None:
    """To standard error if it is still there; nothing else can be done otherwise."""
    try:
        print(text, file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 - a closed or full standard error
        pass


def _run_command(args: argparse.Namespace, prog: str) -> int:
    from helmc.stdio import OutputError

    try:
        return int(_command(args._command).run(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except OutputError:
        raise
    except OSError as e:
        # The outside world (a read-only or full disk, a path that is a file), not a bug.
        print(f"{prog}: error: {outside_world(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # helmc's own failure: say so in one line, never a traceback
        print(
            f"error[HC0902]: internal error in helmc: {type(e).__name__}: {e}\n"
            "  = help: please report this with the command and the file that caused it "
            "(set HELMC_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        if os.environ.get("HELMC_DEBUG"):
            import traceback

            traceback.print_exc()
        return 2


def outside_world(e: OSError) -> str:
    """An OSError as one line naming the path(s) and the OS error."""
    why = e.strerror or str(e)
    if e.filename is not None and e.filename2 is not None:
        return f"`{e.filename}` -> `{e.filename2}`: {why}"
    if e.filename is not None:
        return f"`{e.filename}`: {why}"
    return why


def main(argv: Sequence[str] | None = None) -> int:
    return _main(argv, "helmc", None)


def helm_check_main(argv: Sequence[str] | None = None) -> int:
    return _main(argv, "helm-check", "check")


def helm_run_main(argv: Sequence[str] | None = None) -> int:
    return _main(argv, "helm-run", "run")


def helmc_entry() -> None:
    """The `helmc` command (and `python -m helmc`): main, then exit_now."""
    exit_now(main())


def helm_check_entry() -> None:
    """The `helm-check` command: helm_check_main, then exit_now."""
    exit_now(helm_check_main())


def helm_run_entry() -> None:
    """The `helm-run` command: helm_run_main, then exit_now."""
    exit_now(helm_run_main())


def exit_now(code: int) -> None:
    """Exit without tearing the interpreter down. A command that loaded HELM spends 0.2-0.3 s
    (`helmc plan --estimate`) to a second (a helm-run that loaded scikit-learn, scipy, nltk...)
    freeing its modules after its output is printed, none of it the command's work: its files
    and logs are closed and its workers stopped by then. The standard streams are flushed and
    the atexit handlers run (logging, multiprocessing) as at a normal exit; a thread still
    working (not a daemon) gets the normal exit instead."""
    import atexit
    import threading

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    busy = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if run_exitfuncs is None or busy:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or gone stream: nothing left to say there
            pass
    run_exitfuncs()
    os._exit(code)
