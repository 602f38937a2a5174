"""The state of a suite, read from its journal without writing or locking anything.

`helmc status` shows it; it works while a helm-run writes the journal. A run the journal says
is `running` is reported `interrupted` when the helm-run that started it is gone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from helmc.compiler.diagnostics import Diagnostic, diag
from helmc.compiler.source import SourceFile

from .bridge import suite_name_problem
from .journal import (
    Damage,
    JournalError,
    JournalView,
    RunRecord,
    RunState,
    Session,
    damage_diagnostic,
    read_journal,
    unusable_diagnostic,
)
from .rerun import rerun_command

# The order runs are shown in, and the keys of `counts`.
STATES = ("done", "failed", "interrupted", "running", "pending")


@dataclass(frozen=True, slots=True)
class RunStatus:
    name: str
    state: str  # one of STATES
    attempts: int = 0
    error: str | None = None
    log: str | None = None
    started: float | None = None
    updated: float | None = None
    duration: float | None = None
    # the request governor's counts of the run's last attempt (sent, throttled, errors, failed)
    requests: Mapping[str, int] | None = None

    @property
    def retried(self) -> bool:
        """Started more than once: retried, or redone after an interruption."""
        return self.attempts > 1


@dataclass(slots=True)
class SuiteStatus:
    suite: str
    output_path: str
    journal: str
    found: bool
    session: Session | None = None
    alive: bool | None = None  # the session's helm-run still runs (None: cannot tell from here)
    runs: list[RunStatus] = field(default_factory=list)
    rerun: str | None = None  # the command for what is left
    warnings: list[Damage] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for r in self.runs if r.state == state)

    def to_json(self) -> dict[str, Any]:
        s = self.session
        return {
            "suite": self.suite,
            "output_path": self.output_path,
            "journal": self.journal,
            "helm_run": None if s is None else {
                "pid": s.pid, "host": s.host, "started": s.started, "cwd": s.cwd or None,
                "command": list(s.command), "running": self.alive,
            },
            "counts": {"planned": len(self.runs), **{st: self.count(st) for st in STATES},
                       "retried": sum(1 for r in self.runs if r.retried)},
            "runs": [{"name": r.name, "state": r.state, "attempts": r.attempts, "retried": r.retried,
                      "error": r.error, "log": r.log, "started": r.started, "updated": r.updated,
                      "duration": r.duration, "requests": None if r.requests is None else dict(r.requests)}
                     for r in self.runs],
            "rerun": self.rerun,
            "warnings": [str(w) for w in self.warnings],
        }


EXIT_OK, EXIT_NO_JOURNAL, EXIT_USAGE = 0, 1, 2


@dataclass(slots=True)
class StatusReport:
    """What `helmc status` shows: the suite's state (None when there is none to show), the
    diagnostics (HC0750, HC0751, HC0752), and the exit code that follows."""

    exit_code: int
    status: SuiteStatus | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    usage: str | None = None  # bad usage, in one line


def status_report(output_path: str, suite: str) -> StatusReport:
    """Exit 0: the state is shown; 1: no journal for this suite here (HC0752); 2: bad usage,
    or a journal that cannot be read (HC0750)."""
    problem = suite_name_problem(suite)
    if problem:
        return StatusReport(EXIT_USAGE, usage=f"--suite: {problem}")
    try:
        status = suite_status(output_path, suite)
    except JournalError as e:
        return StatusReport(EXIT_USAGE, diagnostics=[unusable_diagnostic(e, "read")])
    diagnostics = [damage_diagnostic(w) for w in status.warnings]
    if not status.found:
        diagnostics.append(diag(
            "HC0752",
            f"no journal of suite `{suite}` in {output_path} (looked for {status.journal})",
            SourceFile(status.journal, "").span(0, 0),
            "not found",
            help="pass the --suite and -o (--output-path) that helm-run was given",
        ))
        return StatusReport(EXIT_NO_JOURNAL, diagnostics=diagnostics)
    return StatusReport(EXIT_OK, status, diagnostics)


def suite_status(output_path: str, suite: str) -> SuiteStatus:
    """Raises JournalError when the journal exists but cannot be read."""
    view = read_journal(output_path, suite)
    status = SuiteStatus(suite, output_path, view.path, view.found, view.session, warnings=view.warnings)
    if view.session is not None:
        status.alive = _alive(view.session)
    status.runs = [_with_requests(_run_status(name, view, status.alive), output_path, suite) for name in _shown(view)]
    status.rerun = _rerun(status)
    return status


def _shown(view: JournalView) -> list[str]:
    """The runs the last helm-run planned, in its order; without a session, every record."""
    if view.session is not None:
        return list(dict.fromkeys(view.session.planned))
    return sorted(view.records)


def _with_requests(run: RunStatus, output_path: str, suite: str) -> RunStatus:
    from .governor import read_run_report
    from .journal import journal_dir

    report = read_run_report(journal_dir(output_path, suite), run.name)
    return run if report is None else replace(run, requests=dict(report.counts))


def _run_status(name: str, view: JournalView, alive: bool | None) -> RunStatus:
    rec: RunRecord | None = view.records.get(name)
    if rec is None:  # planned, its pending line not read yet
        return RunStatus(name, "pending")
    state = rec.state.value
    if rec.state is RunState.RUNNING and alive is False:
        state = "interrupted"
    return RunStatus(name, state, rec.attempts, rec.error, rec.log, rec.started, rec.updated, rec.duration)


def _rerun(status: SuiteStatus) -> str | None:
    """Failed runs, plus (once helm-run is gone) the interrupted and pending ones."""
    s = status.session
    if s is None or not s.command:
        return None
    left = {"failed"} if status.alive else {"failed", "interrupted", "pending", "running"}
    names = [r.name for r in status.runs if r.state in left]
    if not names:
        return None
    cmd = rerun_command(s.command, names)
    if s.cwd and s.cwd != _cwd():
        cmd = f"cd {_quote(s.cwd)} && {cmd}"
    return cmd


def _alive(session: Session) -> bool | None:
    """Whether the session's helm-run still runs: only knowable on its own host. A process
    with its pid that started after the session began is another process."""
    if session.host != socket.gethostname():
        return None
    try:
        os.kill(session.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    except OSError:
        return None
    began = _process_start(session.pid)
    return began is None or began <= session.started + 1.0


def _process_start(pid: int) -> float | None:
    """Linux: when the process started (seconds since the epoch), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith(b"btime"))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)
