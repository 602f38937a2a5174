"""The run journal without HELM: appends, compaction, migration from helmc 0.1, durability
under kill -9, and every shape of damaged journal (hand-made and generated)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import FUZZ_EXAMPLES, LOG_HEADER, json_values, line_like
from helmc.runtime.journal import (
    LOG_NAME,
    OLD_NAME,
    Journal,
    JournalError,
    RunState,
    journal_dir,
    lock_suite,
    read_journal,
)


def _log(tmp_path, suite: str = "s") -> str:
    return os.path.join(journal_dir(str(tmp_path), suite), LOG_NAME)


def _lines(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _write(path: str, data: bytes | str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def test_a_change_is_one_appended_line_of_constant_size(tmp_path):
    """O(1) per change: the bytes a change adds do not grow with the number of runs."""
    with Journal.open(str(tmp_path), "s") as j:
        path = j.path
        growth = []
        for i in range(2000):
            before = os.path.getsize(path)
            j.set(f"run{i:05d}", "fp", RunState.RUNNING)
            growth.append(os.path.getsize(path) - before)
    # Same name length, same record: the same bytes at 1 run or 2000 (up to the timestamps' digits).
    assert max(growth) - min(growth) <= 12 and max(growth) < 300


def test_open_compacts_to_one_line_per_run_and_keeps_the_last_state(tmp_path):
    with Journal.open(str(tmp_path), "s") as j:
        j.begin(["a", "b", "c"], ["helm-run", "-m", "1"])
        for name in "abc":
            j.set(name, "fp", RunState.PENDING, save=False)
        j.save()
        j.set("a", "fp", RunState.RUNNING)
        j.set("a", "fp", RunState.DONE, duration=1.5)
        j.set("b", "fp", RunState.RUNNING)
        j.set("c", "fp", RunState.RUNNING)
        j.set("c", "fp", RunState.FAILED, error="ValueError: no\nsecond line")
    assert len(_lines(_log(tmp_path))) == 1 + 1 + 3 + 5
    j2 = Journal.open(str(tmp_path), "s")
    j2.close()
    lines = _lines(_log(tmp_path))
    assert len(lines) == 1 + 1 + 3  # header, session, one line per run
    assert j2.is_completed("a", "fp") and not j2.is_completed("a", "other")
    assert j2.records["b"].state is RunState.INTERRUPTED and j2.was_interrupted("b")  # its helm-run died
    assert j2.records["c"].error == "ValueError: no"
    assert j2.records["a"].attempts == 1 and j2.records["a"].duration == 1.5
    assert j2.session is not None and j2.session.planned == ("a", "b", "c")
    assert j2.session.command == ("helm-run", "-m", "1")
    assert os.listdir(os.path.dirname(j2.path)) == [LOG_NAME]


def test_attempts_count_starts_and_restart_with_a_new_fingerprint(tmp_path):
    with Journal.open(str(tmp_path), "s") as j:
        for _ in range(3):
            j.set("a", "fp", RunState.PENDING)
            j.set("a", "fp", RunState.RUNNING)
        assert j.records["a"].attempts == 3
        j.set("a", "fp2", RunState.RUNNING)
        assert j.records["a"].attempts == 1
        j.set("a", "fp2", RunState.RUNNING, attempts=7)  # an engine may count itself
        assert j.records["a"].attempts == 7


def test_the_reader_takes_no_lock_and_skips_a_line_being_written(tmp_path):
    fd = lock_suite(str(tmp_path), "s")
    try:
        with Journal.open(str(tmp_path), "s") as j:
            j.set("a", "fp", RunState.DONE)
            with open(j.path, "ab") as f:
                f.write(b'{"run":{"name":"b","finger')  # an append caught half-way
            view = read_journal(str(tmp_path), "s")
    finally:
        os.close(fd)
    assert set(view.records) == {"a"} and view.warnings == []


def test_helmc_0_1_journal_is_migrated(tmp_path):
    old = os.path.join(journal_dir(str(tmp_path), "s"), OLD_NAME)
    _write(old, json.dumps({"version": 1, "runs": {
        "a": {"fingerprint": "fa", "state": "completed", "attempts": 1, "error": None, "duration": 2.0,
              "updated": 5.0},
        "b": {"fingerprint": "fb", "state": "running", "attempts": 2, "error": None, "duration": None,
              "updated": 6.0},
        "c": {"fingerprint": "fc", "state": "failed", "attempts": 1, "error": "boom", "duration": 1.0,
              "updated": 7.0},
    }}))
    view = read_journal(str(tmp_path), "s")  # status reads it where it is, and writes nothing
    assert view.found and view.records["a"].state is RunState.DONE and os.path.isfile(old)
    with Journal.open(str(tmp_path), "s") as j:
        assert j.is_completed("a", "fa") and j.was_interrupted("b") and j.records["c"].error == "boom"
        assert j.records["b"].attempts == 2 and j.warnings == []
    assert not os.path.exists(old)  # replaced by the log
    assert Journal.open(str(tmp_path), "s").is_completed("a", "fa")


VALID = {"name": "ok", "fingerprint": "f", "state": "done", "attempts": 1}
OK_LINE = json.dumps({"run": VALID}) + "\n"

# Every shape seen or imagined: each is ignored (with a warning) where it does not fit.
OLD_SHAPES = {
    "runs-list": '{"version":1,"runs":[1]}',
    "runs-string": '{"version":1,"runs":"abc"}',
    "runs-null": '{"version":1,"runs":null}',
    "deep-nesting": '{"version":1,"runs":' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep-in-record": '{"version":1,"runs":{"a":' + '{"x":' * 50_000 + "1" + "}" * 50_000 + "}}",
    "attempts-1e999": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"completed","attempts":1e999}}}',
    "attempts-huge-int": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"completed","attempts":'
    + "9" * 5000 + "}}}",
    "attempts-bool": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"completed","attempts":true}}}',
    "nan-duration": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"completed","duration":NaN}}}',
    "state-unknown": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"exploded"}}}',
    "state-list": '{"version":1,"runs":{"a":{"fingerprint":"f","state":["completed"]}}}',
    "fingerprint-int": '{"version":1,"runs":{"a":{"fingerprint":1,"state":"completed"}}}',
    "record-string": '{"version":1,"runs":{"a":"completed"}}',
    "error-object": '{"version":1,"runs":{"a":{"fingerprint":"f","state":"failed","error":{"x":1}}}}',
    "version-2": '{"version":2,"runs":{}}',
    "top-list": "[1, 2]",
    "truncated": '{"version": 1, "runs": {"r1": {"fingerp',
    "garbage": "\x00\x01garbage\xff",
    "empty": "",
}

LOG_SHAPES = {
    "no-header": OK_LINE,
    "wrong-header": '{"helmc_journal": 99}\n' + OK_LINE,
    "truncated-middle-line": LOG_HEADER + '{"run":{"name":"x","finger\n' + OK_LINE,
    "garbage-line": LOG_HEADER + "\x00\xff\xfe garbage\n" + OK_LINE,
    "deep-line": LOG_HEADER + "[" * 100_000 + "]" * 100_000 + "\n" + OK_LINE,
    "attempts-1e999": LOG_HEADER + '{"run":{"name":"x","fingerprint":"f","state":"done","attempts":1e999}}\n'
    + OK_LINE,
    "two-keys": LOG_HEADER + '{"run":{},"session":{}}\n' + OK_LINE,
    "unknown-kind": LOG_HEADER + '{"future":{}}\n' + OK_LINE,
    "bad-session": LOG_HEADER + '{"session":{"planned":"abc","command":[],"pid":1,"host":"h","started":1}}\n'
    + OK_LINE,
    "session-pid-bool": LOG_HEADER + '{"session":{"planned":[],"command":[],"pid":true,"host":"h","started":1}}\n'
    + OK_LINE,
    "negative-duration": LOG_HEADER + '{"run":{"name":"x","fingerprint":"f","state":"done","duration":-1}}\n'
    + OK_LINE,
    "empty-name": LOG_HEADER + '{"run":{"name":"","fingerprint":"f","state":"done"}}\n' + OK_LINE,
    "sqlite-file": "SQLite format 3\x00" + "\x00" * 200,
    "binary-newlines": "\n\x00\n\xff\n",
}


def _check_ignored(tmp_path, expect_ok: bool) -> None:
    """Reading and opening for writing never raise; a valid record survives; what does not fit
    is warned about and never counted as done."""
    view = read_journal(str(tmp_path), "s")
    assert view.found and view.warnings, view.records
    assert set(view.records) <= {"ok"}
    with Journal.open(str(tmp_path), "s") as j:
        assert j.warnings == view.warnings
        assert j.is_completed("ok", "f") == expect_ok
        assert not j.is_completed("x", "f") and not j.is_completed("a", "f")
        j.set("new", "f", RunState.DONE)  # and the journal works again
    again = Journal.open(str(tmp_path), "s")
    again.close()
    assert again.warnings == [] and again.is_completed("new", "f")


@pytest.mark.parametrize("text", list(OLD_SHAPES.values()), ids=list(OLD_SHAPES))
def test_a_damaged_helmc_0_1_journal_is_ignored_with_a_warning(tmp_path, text):
    _write(os.path.join(journal_dir(str(tmp_path), "s"), OLD_NAME), text.encode("utf-8", "surrogatepass"))
    _check_ignored(tmp_path, expect_ok=False)


@pytest.mark.parametrize("text", list(LOG_SHAPES.values()), ids=list(LOG_SHAPES))
def test_a_damaged_log_is_ignored_where_it_does_not_fit(tmp_path, text):
    _write(_log(tmp_path), text.encode("utf-8"))
    _check_ignored(tmp_path, expect_ok=text.startswith(LOG_HEADER))


@settings(max_examples=FUZZ_EXAMPLES or 150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_like, max_size=8), old_runs=json_values, tail=st.binary(max_size=20))
def test_generated_journals_never_break_helm_run(tmp_path_factory, lines, old_runs, tail):
    out = str(tmp_path_factory.mktemp("j"))
    folder = journal_dir(out, "s")
    _write(os.path.join(folder, OLD_NAME), json.dumps({"version": 1, "runs": old_runs}))
    if lines or tail:
        text = LOG_HEADER + "".join(line.replace("\n", " ") + "\n" for line in lines)
        _write(os.path.join(folder, LOG_NAME), text.encode("utf-8", "surrogatepass") + tail)
    view = read_journal(out, "s")
    with Journal.open(out, "s") as j:
        for rec in j.records.values():  # whatever was kept is well-typed
            assert isinstance(rec.name, str) and rec.name and isinstance(rec.fingerprint, str)
            assert isinstance(rec.attempts, int) and not isinstance(rec.attempts, bool) and rec.attempts >= 0
            assert rec.state in RunState and rec.state is not RunState.RUNNING
            assert rec.error is None or ("\n" not in rec.error and isinstance(rec.error, str))
        assert set(j.records) == set(view.records)
        j.set("fresh", "f", RunState.DONE)
    assert Journal.open(out, "s").is_completed("fresh", "f")


# ------------------------------------------------------------------------------ the outside world


def test_a_folder_where_the_journal_goes_is_an_error_naming_it(tmp_path):
    os.makedirs(_log(tmp_path))
    with pytest.raises(JournalError) as e:
        Journal.open(str(tmp_path), "s")
    assert e.value.path == _log(tmp_path) and "is a folder" in str(e.value)  # the one reader's words
    with pytest.raises(JournalError):
        read_journal(str(tmp_path), "s")


def test_a_file_where_the_output_folder_goes_is_an_error_naming_it(tmp_path):
    (tmp_path / "out").write_text("a file")
    for call in (lambda: Journal.open(str(tmp_path / "out"), "s"), lambda: lock_suite(str(tmp_path / "out"), "s")):
        with pytest.raises(JournalError) as e:
            call()
        assert str(tmp_path / "out") in e.value.path and e.value.error.strerror


def test_an_unwritable_place_is_an_error_naming_it():
    # /sys refuses new folders even to root (chmod would not stop root).
    with pytest.raises(JournalError) as e:
        Journal.open("/sys/helmc-journal-test", "s")
    assert e.value.path.startswith("/sys/helmc-journal-test") and e.value.error.errno


def test_a_full_disk_while_appending_is_an_error_naming_the_journal(tmp_path):
    j = Journal.open(str(tmp_path), "s")
    os.close(j._fd)
    j._fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC
    with pytest.raises(JournalError) as e:
        j.set("a", "f", RunState.DONE)
    assert e.value.path == j.path and "space" in str(e.value).lower()
    with pytest.raises(JournalError):  # and closing cannot sync it either: said, not raised raw
        j.close()
    assert j._fd is None


# ------------------------------------------------------------------------------ kill -9

_WRITER = r"""
import sys
from helmc.runtime.journal import Journal, RunState
j = Journal.open(sys.argv[1], "s")
i = 0
while True:
    name = f"run{i}"
    j.set(name, "fp", RunState.RUNNING)
    j.set(name, "fp", RunState.DONE, duration=0.0)
    print(name, flush=True)  # reported done only after set() returned
    i += 1
"""


@pytest.mark.parametrize("after_lines", [1, 37, 400])
def test_kill_9_never_loses_a_run_reported_done(tmp_path, after_lines):
    p = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    reported = [p.stdout.readline().strip() for _ in range(after_lines)]
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p.stdout.close()
    with Journal.open(str(tmp_path), "s") as j:
        assert all(j.is_completed(n, "fp") for n in reported)
        for rec in j.records.values():  # a run caught between its two lines: interrupted, redone
            assert rec.state in (RunState.DONE, RunState.INTERRUPTED)
        assert j.warnings == []


def test_group_commit_bounds_fdatasyncs_and_close_makes_everything_durable(tmp_path, monkeypatch):
    import time

    from helmc.runtime import journal as journal_module

    calls = []
    real = os.fdatasync
    monkeypatch.setattr(journal_module.os, "fdatasync", lambda fd: (calls.append(fd), real(fd)))
    j = Journal.open(str(tmp_path), "s")
    j.begin(["a"], ["helm-run"])
    j.save()
    assert len(calls) == 1  # the session and the planned runs: at once
    for i in range(200):
        j.set(f"r{i}", "fp", RunState.RUNNING)
    assert len(calls) == 1  # `running` alone never waits for the disk
    t0 = time.monotonic()
    for i in range(200):
        j.set(f"r{i}", "fp", RunState.DONE)
    elapsed = time.monotonic() - t0
    assert len(calls) - 1 <= 1 + elapsed / journal_module.SYNC_INTERVAL  # not one per change
    j.close()
    assert len(calls) >= 2 and not j._dirty  # closing makes the last ones durable


# ---------------------------------------------------------------- only what helmc wrote is replaced

USERS_FILES = {
    "notes": b"my notes about this suite\n",
    "one-line": b"no line end",
    "json": b'{"version": 2, "runs": []}\n',
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("name", sorted(USERS_FILES))
@pytest.mark.parametrize("place", [LOG_NAME, "journal.json"])
def test_a_file_helmc_did_not_write_is_kept_aside(tmp_path, name, place):
    folder = journal_dir(str(tmp_path), "s")
    os.makedirs(folder)
    content = USERS_FILES[name]
    with open(os.path.join(folder, place), "wb") as f:
        f.write(content)
    for first in (True, False):  # and again: the one kept stays where it was put
        with Journal.open(str(tmp_path), "s") as j:
            if first:
                assert [w for w in j.warnings if f"`{place}.not-helmc.1`" in w.message], j.warnings
            else:
                assert not j.warnings
            j.set("r", "f", RunState.DONE)
    kept = os.path.join(folder, f"{place}.not-helmc.1")
    with open(kept, "rb") as f:
        assert f.read() == content
    assert not os.path.exists(os.path.join(folder, f"{place}.not-helmc.2"))
    assert read_journal(str(tmp_path), "s").records["r"].state is RunState.DONE


def test_journal_json_beside_a_journal_is_left_alone(tmp_path):
    folder = journal_dir(str(tmp_path), "s")
    with Journal.open(str(tmp_path), "s") as j:
        j.set("r", "f", RunState.DONE)
    users = os.path.join(folder, "journal.json")
    with open(users, "w") as f:
        f.write("kept")
    with Journal.open(str(tmp_path), "s"):
        pass
    with open(users) as f:
        assert f.read() == "kept"


def test_a_helmc_0_1_journal_is_migrated_and_removed(tmp_path):
    folder = journal_dir(str(tmp_path), "s")
    os.makedirs(folder)
    old = os.path.join(folder, "journal.json")
    with open(old, "w") as f:
        json.dump({"version": 1, "runs": {"r": {"fingerprint": "f", "state": "completed"}}}, f)
    with Journal.open(str(tmp_path), "s") as j:
        assert j.is_completed("r", "f") and not j.warnings
    assert not os.path.exists(old)
