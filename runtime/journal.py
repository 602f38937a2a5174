"""The run journal: each run's state, one appended line per change, in the output folder.

`OUTPUT/helmc/SUITE/journal.jsonl` is a log of JSON lines: a header, the last helm-run's
session (its command and the runs it planned), then one line per state change holding the
run's whole record, so that the last line of a run wins. A change costs one append (O(1)),
not a rewrite of every record as helmc 0.1's journal.json did (O(n) per change).

- One writer, the helm-run that holds the suite lock. On open it reads the log and compacts
  it: one line per run, written aside, fsynced and renamed over the log, so a kill -9 at any
  moment leaves the old or the new log, never a torn one.
- Durability: an append survives a kill -9 as soon as write() returns (the kernel has it).
  Against power loss, terminal states (done, failed, interrupted) are fdatasync'ed as a group
  commit: at once when none was for SYNC_INTERVAL, else at the next change or `tick` after it,
  and on close; the session and the planned runs at once. A record lost that way costs a redo,
  never a wrong skip: the worker fsyncs a run's files before the parent journals it done, so
  no run is ever recorded done whose outputs are not durable.
- Readers (`helmc status`) open the file read-only and take no lock: a line being appended has
  no newline yet and is left for the next read.
- Whatever does not fit (garbage, a torn line, wrong types, deep nesting, huge numbers, another
  format) is ignored with a warning and those runs are simply redone; a journal that cannot
  be written at all (a folder in its place, no permission, disk full) raises JournalError,
  which names the path and the OS error.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import socket
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from helmc.compiler.files.reading import open_regular, read_input_bytes

if TYPE_CHECKING:
    from helmc.compiler.diagnostics import Diagnostic

JOURNAL_VERSION = 2
LOG_NAME = "journal.jsonl"
OLD_NAME = "journal.json"  # helmc 0.1: the whole journal rewritten on every change
_HEADER = {"helmc_journal": JOURNAL_VERSION}
_MAX_LINE = 1 << 30  # a session line lists every planned run name (about 8 MB at 10^5 runs)
_MAX_ATTEMPTS = 1 << 31
_MAX_JOURNAL = 1 << 31  # bytes read at most: two of the longest session lines
# what compiler/files/reading.py refuses: a folder, a FIFO or device, a link loop, a file too large
_NOT_A_JOURNAL = (errno.EISDIR, errno.EINVAL, errno.ELOOP, errno.ENXIO, errno.EFBIG)
_MAX_ERROR = 500
SYNC_INTERVAL = 0.2  # seconds: at most one fdatasync per interval (group commit)


class RunState(str, Enum):
    PENDING = "pending"  # planned by the last helm-run, not started yet
    RUNNING = "running"  # started; found so by the next writer, it was interrupted
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # started, never finished (Ctrl-C, --exit-on-error, kill -9)
    COMPLETED = "done"  # alias of DONE (helmc 0.1's name, kept for callers)


_TERMINAL = frozenset({RunState.DONE, RunState.FAILED, RunState.INTERRUPTED})
_OLD_STATES = {"completed": RunState.DONE}  # helmc 0.1's journal.json


@dataclass(frozen=True, slots=True)
class RunRecord:
    name: str
    fingerprint: str
    state: RunState
    attempts: int = 0  # starts of this run (retries included), over every helm-run of the suite
    error: str | None = None  # one line; the whole story is in the log
    duration: float | None = None
    updated: float = 0.0  # time of the last change (seconds since the epoch)
    started: float | None = None  # time of the last start
    log: str | None = None  # the run's HELM log
    # Only where helm-run estimated the suite (--max-cost, --max-requests): the run's estimate
    # (budget.estimate_json), its actual spend once done (budget.Actual.to_json), and why a
    # pending run was not started (the budget's stop). Absent keys keep other journals as they were.
    estimate: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    reason: str | None = None


_OPTIONAL = ("estimate", "actual", "reason")  # written only when set


@dataclass(frozen=True, slots=True)
class Session:
    """One helm-run of the suite: who, when, with what command, planning which runs."""

    started: float
    pid: int
    host: str
    command: tuple[str, ...]
    planned: tuple[str, ...]
    cwd: str = ""  # where the command ran (its paths may be relative)


@dataclass(frozen=True, slots=True)
class Damage:
    """What of a journal does not fit its format and was ignored (those runs are redone): the
    file, what was ignored, and the damaged lines (number, text, why) where there are lines."""

    path: str
    message: str
    lines: tuple[tuple[int, str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_SHOWN = 10_000  # characters of a damaged line kept to show it (a line may be a gigabyte)
_MORE_LINES = 3  # damaged lines shown beside the first one


def _shown(raw: bytes) -> str:
    """A damaged line as text: undecodable bytes replaced, and a CR (which would start a line
    in a source position) as its control picture, which the text emitter shows anyway."""
    return raw[:_SHOWN].decode("utf-8", "replace").replace("\r", "\u240d")


class JournalError(Exception):
    """The journal cannot be read or written: `path` and the OS error say why."""

    def __init__(self, path: str, error: OSError, doing: str | None = None) -> None:
        self.path = path
        self.error = error
        self.doing = doing  # "read" when reading failed (the caller's word otherwise)
        reason = error.strerror or str(error) or type(error).__name__
        super().__init__(f"{path}: {reason}")


class SuiteLocked(Exception):
    """Another helm-run is executing the same suite in the same output folder."""


def journal_dir(output_path: str, suite: str) -> str:
    """helmc's own files for a suite; outside runs/SUITE so HELM's layout stays untouched."""
    return os.path.join(output_path, "helmc", suite)


# ------------------------------------------------------------------------------ reading


@dataclass(slots=True)
class JournalView:
    """What a journal holds, read without writing anything."""

    path: str
    records: dict[str, RunRecord] = field(default_factory=dict)
    session: Session | None = None
    warnings: list[Damage] = field(default_factory=list)
    found: bool = False  # a journal (new or old) exists for the suite
    foreign: tuple[str, ...] = ()  # files in the journal's places that helmc did not write (no header)
    migrated: str | None = None  # helmc 0.1's journal.json, read: the log replaces it


def read_journal(output_path: str, suite: str) -> JournalView:
    """Read a suite's journal without writing or locking anything (for `helmc status`).

    Raises JournalError only when the journal exists but cannot be read (a folder in its
    place, no permission); a missing journal gives an empty view with `found` False."""
    folder = journal_dir(output_path, suite)
    view = JournalView(os.path.join(folder, LOG_NAME))
    _load_into(view, folder)
    return view


def _load_into(view: JournalView, folder: str) -> None:
    log = os.path.join(folder, LOG_NAME)
    data = _read_bytes(log)
    if data is not None:
        view.found = True
        _parse_log(data, log, view)
        return
    old = os.path.join(folder, OLD_NAME)
    data = _read_bytes(old)
    if data is not None:
        view.found = True
        _parse_old(data, old, view)
        if old not in view.foreign:
            view.migrated = old


def _read_bytes(path: str) -> bytes | None:
    # helmc's one reader: a FIFO or a device in the journal's place is refused, never waited on
    try:
        return read_input_bytes(path, _MAX_JOURNAL)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise JournalError(path, e, "read") from None


class _Unfit(Exception):
    """A value of the journal that does not fit its schema."""


def _aside(path: str) -> str:
    """Where a file that helmc did not write goes when helm-run needs its place."""
    n = 1
    while os.path.lexists(f"{path}.not-helmc.{n}"):
        n += 1
    return f"{path}.not-helmc.{n}"


def _foreign(view: JournalView, path: str) -> str:
    """Mark `path` as not helmc's; the words that say where helm-run keeps it."""
    view.foreign += (path,)
    return f"; helm-run keeps it as `{os.path.basename(_aside(path))}`"


def _parse_log(data: bytes, path: str, view: JournalView) -> None:
    lines = data.split(b"\n")
    # The last element is what follows the last newline: a line still being written (or torn
    # by a crash). It was never acknowledged to anyone, so it is dropped without a word.
    lines.pop()
    if not lines:
        if data:
            kept = _foreign(view, path)
            view.warnings.append(Damage(path, f"not a helmc journal (no complete line); ignored{kept}",
                                        ((1, _shown(data), "no line end"),)))
        return
    try:
        header = _json_line(lines[0])
    except _Unfit:
        header = None
    if not isinstance(header, dict) or header.get("helmc_journal") != JOURNAL_VERSION:
        kept = _foreign(view, path)
        view.warnings.append(Damage(path, f"not a helmc journal of version {JOURNAL_VERSION}; ignored (its runs are redone){kept}",
                                    ((1, _shown(lines[0]), f"not the header of a version {JOURNAL_VERSION} journal"),)))
        return
    bad: list[tuple[int, str]] = []  # (line number, why)
    last: dict[str, tuple[int, dict]] = {}  # a run's last line: only it is validated
    for number, obj in enumerate(_json_lines(lines[1:]), start=2):
        try:
            if isinstance(obj, _Unfit):
                raise obj
            if not isinstance(obj, dict) or len(obj) != 1:
                raise _Unfit("not a one-key object")
            (kind, value), = obj.items()
            if kind == "run":
                name = value.get("name") if isinstance(value, dict) else None
                if not isinstance(name, str):
                    raise _Unfit("a run without a name")
                last[name] = (number, value)
            elif kind == "session":
                view.session = _session(value)
            else:
                raise _Unfit(f"unknown kind {kind[:40]!r}")
        except _Unfit as e:
            bad.append((number, str(e)))
    for name, (number, value) in last.items():
        try:
            view.records[name] = _record(value)
        except _Unfit as e:  # its last state is unknown: the run is redone
            bad.append((number, str(e)))
    if bad:
        bad.sort()
        first, why = bad[0]
        view.warnings.append(Damage(
            path,
            f"{len(bad)} line(s) of the journal ignored (line {first}: {why}{', ...' if len(bad) > 1 else ''}); "
            "those runs are redone",
            tuple((n, _shown(lines[n - 1]), w) for n, w in bad[: 1 + _MORE_LINES]),
        ))


def _json_lines(lines: list[bytes]) -> list[Any]:
    """Each line's JSON value, or an _Unfit saying why it has none."""
    out: list[Any] = []
    for raw in lines:
        try:
            out.append(_json_line(raw))
        except _Unfit as e:
            out.append(e)
    return out


def _parse_old(data: bytes, path: str, view: JournalView) -> None:
    """helmc 0.1's journal.json: {"version": 1, "runs": {name: record}}."""
    try:
        doc = _json_line(data)
        if not isinstance(doc, dict) or doc.get("version") != 1:
            raise _Unfit("not a helmc 0.1 journal")
        runs = doc.get("runs")
        if not isinstance(runs, dict):
            raise _Unfit("`runs` is not an object")
    except _Unfit as e:
        kept = _foreign(view, path)
        view.warnings.append(Damage(path, f"{e}; ignored (its runs are redone){kept}"))
        return
    bad = 0
    for name, value in runs.items():
        try:
            if not isinstance(value, dict):
                raise _Unfit("not an object")
            rec = _record({**value, "name": name})
            view.records[rec.name] = rec
        except _Unfit:
            bad += 1
    if bad:
        view.warnings.append(Damage(path, f"{bad} run record(s) ignored (wrong types); those runs are redone"))


def _json_line(raw: bytes) -> Any:
    if len(raw) > _MAX_LINE:
        raise _Unfit("too long")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError; so are huge ints
        raise _Unfit(f"not JSON ({type(e).__name__})") from None
    except RecursionError:  # deep nesting
        raise _Unfit("nested too deeply") from None


def _str(d: dict, key: str, *, optional: bool = False, limit: int | None = None) -> str | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or (not optional and not v):
        raise _Unfit(f"`{key}` is not a string")
    if limit is not None:
        v = (v.splitlines() or [""])[0][:limit]
    return v


def _num(d: dict, key: str, *, optional: bool = True) -> float | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise _Unfit(f"`{key}` is not a finite number")
    return float(v)


def _record(d: Any) -> RunRecord:
    if not isinstance(d, dict):
        raise _Unfit("a run is not an object")
    state = d.get("state")
    if not isinstance(state, str):
        raise _Unfit("`state` is not a string")
    try:
        st = _OLD_STATES.get(state) or RunState(state)
    except ValueError:
        raise _Unfit(f"unknown state {state[:40]!r}") from None
    attempts = d.get("attempts", 0)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts < _MAX_ATTEMPTS:
        raise _Unfit("`attempts` is not a count")
    return RunRecord(
        name=_str(d, "name"),  # type: ignore[arg-type]
        fingerprint=_str(d, "fingerprint"),  # type: ignore[arg-type]
        state=st,
        attempts=attempts,
        error=_str(d, "error", optional=True, limit=_MAX_ERROR),
        duration=_num(d, "duration"),
        updated=_num(d, "updated") or 0.0,
        started=_num(d, "started"),
        log=_str(d, "log", optional=True),
        estimate=_figures(d, "estimate"),
        actual=_figures(d, "actual"),
        reason=_str(d, "reason", optional=True, limit=_MAX_ERROR),
    )


def _figures(d: dict, key: str) -> dict[str, Any] | None:
    """An estimate or an actual spend: names to counts, dollars, or a short text (the model)."""
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, dict) or len(v) > 32:
        raise _Unfit(f"`{key}` is not an object of figures")
    for name, x in v.items():
        if x is None or isinstance(x, bool):
            continue
        if isinstance(x, (int, float)):
            if not math.isfinite(x) or x < 0:
                raise _Unfit(f"`{key}` holds a number that is no count")
        elif not isinstance(x, str) or len(x) > _MAX_ERROR:
            raise _Unfit(f"`{key}` holds a value that is no figure")
    return v


def _session(d: Any) -> Session:
    if not isinstance(d, dict):
        raise _Unfit("a session is not an object")
    command, planned = d.get("command"), d.get("planned")
    for key, v in (("command", command), ("planned", planned)):
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise _Unfit(f"`{key}` is not a list of strings")
    pid = d.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < _MAX_ATTEMPTS:
        raise _Unfit("`pid` is not a process id")
    return Session(
        started=_num(d, "started", optional=False),  # type: ignore[arg-type]
        pid=pid,
        host=_str(d, "host"),  # type: ignore[arg-type]
        command=tuple(command),  # type: ignore[arg-type]
        planned=tuple(planned),  # type: ignore[arg-type]
        cwd=_str(d, "cwd", optional=True) or "",
    )


# ------------------------------------------------------------------------------ writing


def _record_json(rec: RunRecord) -> dict[str, Any]:
    d = {k: getattr(rec, k) for k in RunRecord.__slots__ if k not in _OPTIONAL or getattr(rec, k) is not None}
    d["state"] = rec.state.value
    return d


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _line(kind: str, value: dict[str, Any]) -> bytes:
    return (_encode({kind: value}) + "\n").encode("utf-8")


def _session_json(s: Session) -> dict[str, Any]:
    return {"started": s.started, "pid": s.pid, "host": s.host, "command": list(s.command),
            "planned": list(s.planned), "cwd": s.cwd}


class Journal:
    """The journal of one suite, open for writing by the helm-run that holds the suite lock.

    The API the runtime uses: `open`, `records`, `is_completed`, `was_interrupted`, `begin`,
    `set` (with `save=False` to batch, then `save`), `tick` (from the engine's tick), `close`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: dict[str, RunRecord] = {}
        self.session: Session | None = None
        self.warnings: list[Damage] = []  # what was ignored on open; the caller shows them
        self._fd: int | None = None
        self._buffer: list[bytes] = []
        self._dirty = False  # written lines that should reach the disk (not only `running`)
        self._force_sync = False
        self._last_sync = time.monotonic()
        self._migrated: str | None = None

    @classmethod
    def open(cls, output_path: str, suite: str) -> "Journal":
        """Read (migrating helmc 0.1's journal.json), compact, and open for appending.
        Raises JournalError when the journal cannot be read or written."""
        folder = journal_dir(output_path, suite)
        j = cls(os.path.join(folder, LOG_NAME))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise JournalError(folder, e) from None
        view = JournalView(j.path)
        _load_into(view, folder)
        j.records, j.session, j.warnings = view.records, view.session, view.warnings
        j._keep_foreign(view.foreign)
        j._migrated = view.migrated
        for name, rec in j.records.items():
            if rec.state is RunState.RUNNING:  # we hold the lock: whoever ran it is gone
                j.records[name] = replace(rec, state=RunState.INTERRUPTED)
        j._compact()
        return j

    def _keep_foreign(self, paths: Sequence[str]) -> None:
        """A file in the journal's place that helmc did not write (no helmc header) is moved
        aside, never overwritten or deleted: only what helmc wrote may be replaced."""
        for path in paths:
            try:
                os.rename(path, _aside(path))
            except OSError as e:
                raise JournalError(path, e) from None

    def _compact(self) -> None:
        """Rewrite the log with one line per run: aside, fsync, rename, fsync the folder."""
        folder = os.path.dirname(self.path)
        tmp = f"{self.path}.tmp.{os.getpid()}"
        lines = [(json.dumps(_HEADER) + "\n").encode()]
        if self.session is not None:
            lines.append(_line("session", _session_json(self.session)))
        lines.extend(_line("run", _record_json(r)) for r in self.records.values())
        try:
            fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                _write_all(fd, b"".join(lines))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            fsync_dir(folder)
            self._fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            _remove_quietly(tmp)
            raise JournalError(self.path, e) from None
        if self._migrated is not None:  # helmc 0.1's journal, read: the log replaces it
            _remove_quietly(self._migrated)
            self._migrated = None

    def is_completed(self, name: str, fingerprint: str) -> bool:
        rec = self.records.get(name)
        return rec is not None and rec.state is RunState.DONE and rec.fingerprint == fingerprint

    def was_interrupted(self, name: str) -> bool:
        rec = self.records.get(name)
        return rec is not None and rec.state in (RunState.RUNNING, RunState.INTERRUPTED)

    def begin(self, planned: Iterable[str], command: Sequence[str] = ()) -> Session:
        """Record this helm-run: its command (for the re-run command) and every run it plans
        (so `helmc status` can tell pending runs). Written with the next `save`."""
        self.session = Session(time.time(), os.getpid(), socket.gethostname(), tuple(command), tuple(planned),
                               _cwd())
        self._buffer.append(_line("session", _session_json(self.session)))
        self._dirty = self._force_sync = True
        return self.session

    def set(self, name: str, fingerprint: str, state: RunState, *, error: str | None = None,
            duration: float | None = None, log: str | None = None, attempts: int | None = None,
            save: bool = True, estimate: dict[str, Any] | None = None, actual: dict[str, Any] | None = None,
            reason: str | None = None, no_log: bool = False) -> RunRecord:
        """Record a run's new state. `attempts` defaults to the previous count, plus one when
        the run starts (so retries count themselves). The estimate stays with the run while its
        fingerprint does; `actual` and `reason` hold for this state only. The log stays with the
        run until another is given, or `no_log` says this attempt had none (what stands at its
        path is not helmc's log). With save=False the line waits for the next `save` (one write
        and one fsync for a batch)."""
        old = self.records.get(name)
        now = time.time()
        if attempts is None:
            attempts = (old.attempts if old and old.fingerprint == fingerprint else 0)
            attempts += 1 if state is RunState.RUNNING else 0
        started = now if state is RunState.RUNNING else (old.started if old else None)
        if error is not None:
            error = (error.splitlines() or [""])[0][:_MAX_ERROR]
        if estimate is None and old is not None and old.fingerprint == fingerprint:
            estimate = old.estimate
        rec = RunRecord(name, fingerprint, state, attempts, error, duration, now, started,
                        None if no_log else log if log is not None else (old.log if old else None), estimate, actual,
                        reason)
        self.records[name] = rec
        self._buffer.append(_line("run", _record_json(rec)))
        self._dirty |= state is not RunState.RUNNING
        if save:
            self.save()
        return rec

    def save(self) -> None:
        """Append what is buffered (one write); fdatasync as the group commit says."""
        if self._buffer:
            if self._fd is None:
                raise JournalError(self.path, OSError(9, "the journal is closed"))
            data = b"".join(self._buffer)
            self._buffer.clear()
            try:
                _write_all(self._fd, data)
            except OSError as e:
                raise JournalError(self.path, e) from None
        self.tick()

    def tick(self) -> None:
        """fdatasync what was written, if it matters and none was done for SYNC_INTERVAL."""
        if self._force_sync or (self._dirty and time.monotonic() - self._last_sync >= SYNC_INTERVAL):
            self.sync()

    def sync(self) -> None:
        if not self._dirty or self._fd is None:
            return
        try:
            os.fdatasync(self._fd)
        except OSError as e:
            raise JournalError(self.path, e) from None
        self._dirty = self._force_sync = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd is not None:
            try:
                self.save()
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            self.close()
        except JournalError:
            if exc_type is None:  # never hide what is already propagating (Ctrl-C, the first error)
                raise


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the folder was removed under us
        return ""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# ------------------------------------------------------------------------------ lock and fsync


def lock_suite(output_path: str, suite: str) -> int:
    """An exclusive advisory lock on the suite, held until this process (and its forked
    workers, which inherit the descriptor) exit: two helm-runs of one suite would otherwise
    run the same RunSpecs into the same folders and overwrite each other's journal.
    `helmc status` never takes it. Raises SuiteLocked, or JournalError when the folder or
    the lock file cannot be created."""
    import fcntl

    folder = journal_dir(output_path, suite)
    path = os.path.join(folder, "lock")
    try:
        os.makedirs(folder, exist_ok=True)
        fd = open_regular(path, os.O_RDWR | os.O_CREAT)
    except OSError as e:
        raise JournalError(path if os.path.isdir(folder) else folder, e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SuiteLocked(folder) from None
    return fd


def fsync_dir(folder: str) -> None:
    """Make a rename or a new file in `folder` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(folder: str) -> None:
    """fsync every file of a run folder and the folder itself, before calling it completed."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(root)


# ------------------------------------------------------------------------------ diagnostics


def damage_diagnostic(damage: Damage) -> "Diagnostic":
    """HC0751 at the journal's first damaged line (the next few as secondary labels), or at
    the file where no line can be named (helmc 0.1's one-document journal)."""
    from helmc.compiler.diagnostics import Label, diag
    from helmc.compiler.source import SourceFile

    notes = ["helm-run rewrites the journal without what was ignored when it next runs this suite"]
    if not damage.lines:
        return diag("HC0751", damage.message, SourceFile(damage.path, "").span(0, 0), "", notes=notes)
    texts = {n: text for n, text, _ in damage.lines}
    # only the damaged lines' text, each on its own line number: positions as in the file
    src = SourceFile(damage.path, "\n".join(texts.get(n, "") for n in range(1, max(texts) + 1)))

    def span(n: int, why: str):
        """The key that `why` names (`attempts` is not a count), else the whole line."""
        start, text = src.line_start(n), texts[n]
        named = re.match(r"`(\w+)`", why)
        keys = list(re.finditer(rf'(?<!\\)"{named.group(1)}"\s*:', text)) if named else []
        if keys:
            return src.span(start + keys[-1].start(), start + keys[-1].start() + len(named.group(1)) + 2)
        return src.span(start, start + len(text))

    (first, _, why), *more = damage.lines
    return diag("HC0751", damage.message, span(first, why), why, notes=notes,
                secondary=[Label(span(n, w), w) for n, _, w in more])


def unusable_diagnostic(error: JournalError, doing: str) -> "Diagnostic":
    """HC0750: the journal (or its folder) cannot be read or written; `doing` is "read" or "write"."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.source import SourceFile

    doing = error.doing or doing
    return diag(
        "HC0750",
        f"cannot {doing} the journal {error.path}: {error.error.strerror or error.error}",
        SourceFile(error.path, "").span(0, 0),
        "unreadable" if doing == "read" else "unwritable",
        help="-o must name a folder helm-run can write; remove what is in the way" if doing == "write"
        else "the journal is a regular file that helm-run writes; remove or rename what is in its place"
        if error.error.errno in _NOT_A_JOURNAL else None,
    )
