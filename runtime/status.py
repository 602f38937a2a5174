"""The state of a suite, read from its journal without locking anything.

`helmc status` shows it; it works while a helm-run writes the journal. It writes nothing but,
when the runs left are too many for one command line, their list beside the journal (rerun.py). A run the journal says
is `running` is reported `interrupted` when the helm-run that started it is gone.
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from helmc.compiler.diagnostics import Diagnostic, diag
from helmc.compiler.source import SourceFile

from .run_folders import suite_name_problem
from .journal import (
    Damage,
    JournalError,
    RunRecord,
    RunState,
    Session,
    damage_diagnostic,
    read_journal,
    unusable_diagnostic,
)
from .rerun import RunListError, rerun_command

# The order runs are shown in, and the keys of `counts`.
STATES = ("done", "failed", "interrupted", "running", "pending")
_UNFINISHED = frozenset({"interrupted", "running", "pending"})


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
    # where helm-run estimated the suite (--max-cost, --max-requests): the journal's figures
    estimate: Mapping[str, Any] | None = None
    actual: Mapping[str, Any] | None = None
    reason: str | None = None  # why a pending run was not started (the budget)

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
    rerun_error: str | None = None  # why there is none although runs are left (its list of runs could not be written)
    warnings: list[Damage] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for r in self.runs if r.state == state)

    def counts(self) -> dict[str, int]:
        """The suite's counts: `helmc status` (text and JSON) and helm-run's summary show these."""
        return {"planned": len(self.runs), **{st: self.count(st) for st in STATES},
                "retried": sum(1 for r in self.runs if r.retried)}

    def counts_line(self) -> str:
        c = self.counts()
        states = ", ".join(f"{c[st]} {st}" for st in STATES)
        return f"{states} ({c['planned']} planned); {c['retried']} started more than once (retried or redone)"

    @property
    def rerun_advice(self) -> str | None:
        """What `rerun` does, in words."""
        if self.rerun is None:
            return None
        if self.resumes:
            return "To resume (the same command: completed runs are skipped, the others are redone):"
        return "To run only the failed runs again:"

    @property
    def resumes(self) -> bool:
        """Runs are left unfinished and their helm-run is gone: the same command resumes them."""
        return self.alive is False and any(r.state in _UNFINISHED for r in self.runs)

    @property
    def estimated(self) -> bool:
        """helm-run estimated the suite: estimate against actual is shown (else nothing of it,
        so the output of a suite without one stays as it was)."""
        return any(r.estimate is not None for r in self.runs)

    def spend_by_model(self) -> list[dict[str, Any]]:
        """Estimate against actual summed per model (the deployment where there is one)."""
        models: dict[str, list[RunStatus]] = {}
        for r in self.runs:
            if r.estimate is not None:
                models.setdefault(str(r.estimate.get("model")), []).append(r)
        return [{"model": m, "runs": len(rs), **_sums(rs)} for m, rs in models.items()]

    def to_json(self) -> dict[str, Any]:
        doc = self._to_json()
        if self.estimated:
            for run, r in zip(doc["runs"], self.runs):
                run.update(estimate=None if r.estimate is None else dict(r.estimate),
                           actual=None if r.actual is None else dict(r.actual), reason=r.reason)
            doc["spend"] = {"models": self.spend_by_model(), "total": _sums(self.runs)}
        return doc

    def _to_json(self) -> dict[str, Any]:
        s = self.session
        return {
            "suite": self.suite,
            "output_path": self.output_path,
            "journal": self.journal,
            "helm_run": None if s is None else {
                "pid": s.pid, "host": s.host, "started": s.started, "cwd": s.cwd or None,
                "command": list(s.command), "running": self.alive,
            },
            "counts": self.counts(),
            "runs": [{"name": r.name, "state": r.state, "attempts": r.attempts, "retried": r.retried,
                      "error": r.error, "log": r.log, "started": r.started, "updated": r.updated,
                      "duration": r.duration, "requests": None if r.requests is None else dict(r.requests)}
                     for r in self.runs],
            "rerun": self.rerun,
            "rerun_error": self.rerun_error,
            "warnings": [str(w) for w in self.warnings],
        }


def _sum(values: Sequence[Any]) -> Any:
    """The sum, or None (unknown, unpriced) where a value is."""
    if not values or any(v is None for v in values):
        return None
    return round(sum(values), 6) if any(isinstance(v, float) for v in values) else sum(values)


def _sums(runs: Sequence[RunStatus]) -> dict[str, Any]:
    """The estimate of these runs, and the actual spend of those done (`actual_runs` of them)."""
    est = [r.estimate for r in runs if r.estimate is not None]
    act = [r.actual for r in runs if r.actual is not None]
    return {
        "estimate": {k: _sum([e.get(k) for e in est])
                     for k in ("requests", "cached_requests", "prompt_tokens", "max_completion_tokens", "cost_usd")},
        "actual": {k: _sum([a.get(k) for a in act])
                   for k in ("requests", "cached_requests", "prompt_tokens", "completion_tokens", "cost_usd")},
        "actual_runs": len(act),
    }


def _money(v: Any) -> str:
    return "unpriced" if v is None else f"${v:,.6f}"


def _count(v: Any) -> str:
    return "unknown" if v is None else f"{v:,}"


def spend_lines(status: SuiteStatus) -> list[str]:
    """Estimate against actual, per model then per run, as plain text lines (`helmc status`
    and helm-run's summary print the same); empty where the suite was not estimated."""
    if not status.estimated:
        return []
    header = ("", "requests est/actual", "cached est/actual", "prompt tok est/actual", "completion tok max/actual",
              "cost est/actual")

    def row(name: str, e: Mapping[str, Any] | None, a: Mapping[str, Any] | None) -> tuple[str, ...]:
        e, a = e or {}, a or {}
        done = bool(a)
        pair = lambda x, y: f"{x} / {y if done else '-'}"  # noqa: E731
        return (name, pair(_count(e.get("requests")), _count(a.get("requests"))),
                pair(_count(e.get("cached_requests")), _count(a.get("cached_requests"))),
                pair(_count(e.get("prompt_tokens")), _count(a.get("prompt_tokens"))),
                pair(_count(e.get("max_completion_tokens")), _count(a.get("completion_tokens"))),
                pair(_money(e.get("cost_usd")), _money(a.get("cost_usd"))))

    def table(title: str, rows: list[tuple[str, ...]]) -> list[str]:
        rows = [(title, *header[1:]), *rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                for r in rows]

    models = status.spend_by_model()
    total = _sums(status.runs)
    lines = ["estimate against actual (actual: the runs done; `-`: not run yet)"]
    estimated = sum(1 for r in status.runs if r.estimate is not None)
    lines += table("model (runs done)", [row(f"{m['model']} ({m['actual_runs']}/{m['runs']})", m["estimate"],
                                             m["actual"] if m["actual_runs"] else None) for m in models]
                   + [row(f"total ({total['actual_runs']}/{estimated})", total["estimate"],
                          total["actual"] if total["actual_runs"] else None)])
    lines.append("")
    lines += table("run", [row(r.name, r.estimate, r.actual) for r in status.runs if r.estimate is not None])
    return lines


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
    alive = _alive(view.session) if view.session is not None else None
    return status_of(suite, output_path, view.path, view.records, view.session, alive,
                     found=view.found, warnings=view.warnings)


def status_of(suite: str, output_path: str, journal: str, records: Mapping[str, RunRecord], session: Session | None,
              alive: bool | None, *, found: bool = True, warnings: Sequence[Damage] = ()) -> SuiteStatus:
    """The suite's state from a journal's records and session: `helmc status` reads them from
    the file, helm-run's summary from the journal it has just written (alive False: it ends)."""
    status = SuiteStatus(suite, output_path, journal, found, session, alive=alive, warnings=list(warnings))
    names = list(dict.fromkeys(session.planned)) if session is not None else sorted(records)
    status.runs = [_with_requests(_run_status(name, records, alive), output_path, suite) for name in names]
    try:
        status.rerun = _rerun(status)
    except RunListError as e:
        status.rerun_error = f"the runs left are too many for one command line, and their list could not be written: {e}"
    return status


def _with_requests(run: RunStatus, output_path: str, suite: str) -> RunStatus:
    """The run's request counts from the governor's report, where it wrote one."""
    from .governor import read_run_report
    from .journal import journal_dir

    report = read_run_report(journal_dir(output_path, suite), run.name)
    return run if report is None else replace(run, requests=dict(report.counts))


def _run_status(name: str, records: Mapping[str, RunRecord], alive: bool | None) -> RunStatus:
    rec: RunRecord | None = records.get(name)
    if rec is None:  # planned, its pending line not read yet
        return RunStatus(name, "pending")
    state = rec.state.value
    if rec.state is RunState.RUNNING and alive is False:
        state = "interrupted"
    return RunStatus(name, state, rec.attempts, rec.error, rec.log, rec.started, rec.updated, rec.duration,
                     estimate=rec.estimate, actual=rec.actual, reason=rec.reason)


def _rerun(status: SuiteStatus) -> str | None:
    """Once helm-run is gone with runs unfinished: its own command, which resumes the suite
    (failed runs included), as helm-run says. Otherwise the failed runs by name; too many for a
    command line, their list goes to a file beside the journal (raises RunListError)."""
    s = status.session
    if s is None or not s.command:
        return None
    if status.resumes:
        cmd = shlex.join(s.command)
    else:
        failed = [r.name for r in status.runs if r.state == "failed"]
        if not failed:
            return None
        cmd = rerun_command(s.command, failed, os.path.dirname(status.journal))
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
    return shlex.quote(path)
