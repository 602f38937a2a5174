"""The run journal: each run's state, recorded atomically in the output folder.

One writer (the parent process) rewrites the whole file on every change: write a temporary
file, fsync it, os.replace it over the journal, fsync the folder. A reader therefore sees
either the old or the new journal, never a torn one, whatever moment a kill -9 lands.

A run counts as completed only when the journal says so *and* the fingerprint of the RunSpec
matches: a run folder that HELM was still writing when the process died is never in state
"completed" (the state is only written after the worker has written and fsynced all files).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any

JOURNAL_VERSION = 1


class RunState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"  # dispatched; if found on start-up, the run was interrupted
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RunRecord:
    name: str
    fingerprint: str
    state: RunState
    attempts: int = 0
    error: str | None = None
    duration: float | None = None
    updated: float = 0.0


def journal_dir(output_path: str, suite: str) -> str:
    """helmc's own files for a suite; outside runs/SUITE so HELM's layout stays untouched."""
    return os.path.join(output_path, "helmc", suite)


class Journal:
    """The journal of one suite in one output folder."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: dict[str, RunRecord] = {}

    @classmethod
    def open(cls, output_path: str, suite: str) -> "Journal":
        j = cls(os.path.join(journal_dir(output_path, suite), "journal.json"))
        j._load()
        return j

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            # Unreadable journal: start afresh rather than trust it (runs are simply redone).
            return
        if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION:
            return
        for name, rec in (data.get("runs") or {}).items():
            try:
                self.records[name] = RunRecord(
                    name=name,
                    fingerprint=str(rec["fingerprint"]),
                    state=RunState(rec["state"]),
                    attempts=int(rec.get("attempts", 0)),
                    error=rec.get("error"),
                    duration=rec.get("duration"),
                    updated=float(rec.get("updated", 0.0)),
                )
            except (KeyError, ValueError, TypeError):
                continue

    def is_completed(self, name: str, fingerprint: str) -> bool:
        rec = self.records.get(name)
        return rec is not None and rec.state is RunState.COMPLETED and rec.fingerprint == fingerprint

    def was_interrupted(self, name: str) -> bool:
        rec = self.records.get(name)
        return rec is not None and rec.state is RunState.RUNNING

    def set(self, name: str, fingerprint: str, state: RunState, *, error: str | None = None,
            duration: float | None = None, save: bool = True) -> RunRecord:
        old = self.records.get(name)
        attempts = (old.attempts if old else 0) + (1 if state is RunState.RUNNING else 0)
        rec = RunRecord(name, fingerprint, state, attempts, error, duration, time.time())
        if old is not None and old.fingerprint == fingerprint and state is RunState.PENDING:
            rec = replace(rec, attempts=old.attempts)
        self.records[name] = rec
        if save:
            self.save()
        return rec

    def to_json(self) -> dict[str, Any]:
        runs = {}
        for name, rec in self.records.items():
            d = asdict(rec)
            d.pop("name")
            d["state"] = rec.state.value
            runs[name] = d
        return {"version": JOURNAL_VERSION, "runs": runs}

    def save(self) -> None:
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        tmp = f"{self.path}.tmp.{os.getpid()}"
        data = json.dumps(self.to_json(), indent=1, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_dir(folder)


class SuiteLocked(Exception):
    """Another helm-run is executing the same suite in the same output folder."""


def lock_suite(output_path: str, suite: str) -> int:
    """An exclusive advisory lock on the suite, held until this process (and its forked
    workers, which inherit the descriptor) exit: two helm-runs of one suite would otherwise
    run the same RunSpecs into the same folders and overwrite each other's journal."""
    import fcntl

    folder = journal_dir(output_path, suite)
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
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
