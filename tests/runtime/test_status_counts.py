"""One suite, one set of counts: helm-run's summary (its outcomes and its count line), the
journal on disk and `helmc status` agree after every helm-run, interrupted or resumed, and both
tools offer the same command for what is left."""

from __future__ import annotations

import io
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from helmc.runtime import status as status_mod
from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.run_folders import HELM_OUTPUT_FILES, run_folder
from helmc.runtime.runspecs import BuiltRun
from helmc.runtime.engine import InlineEngine, Task
from helmc.runtime.status import STATES, suite_status
from helmc.runtime.suite import run_suite

COMMAND = ["helm-run", "--conf-paths", "x.conf", "--suite", "s"]
# helm-run's outcome -> the journal's state
AS_STATE = {"completed": "done", "skipped": "done", "failed": "failed", "interrupted": "interrupted",
            "pending": "pending"}


class Script:
    """Runs `fail` raise; the run at `interrupt_at` (an index into the order runs start in) is
    cut short by Ctrl-C while it runs."""

    def __init__(self, fail: set[str], interrupt_at: int | None, settings: HelmSettings) -> None:
        self.fail, self.interrupt_at, self.started = fail, interrupt_at, 0  # `started`: CtrlCEngine's count
        self.settings = settings

    def execute(self, task: Task) -> None:
        if task.name in self.fail:
            raise ValueError(f"boom in {task.name}")
        folder = run_folder(self.settings, task.name)  # what HELM's Runner leaves for a run it ran
        os.makedirs(folder, exist_ok=True)
        for name in HELM_OUTPUT_FILES:
            with open(os.path.join(folder, name), "w") as f:
                f.write("{}")


class CtrlCEngine(InlineEngine):
    """The inline engine, with Ctrl-C arriving while one run is in flight (after its start is
    journaled, before it finishes), as it does in helm-run's engine loop."""

    def __init__(self, script: Script) -> None:
        super().__init__(1)
        self.script = script

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        for _slot, _task in batch:
            if self.script.started == self.script.interrupt_at:
                raise KeyboardInterrupt
            self.script.started += 1
        super()._submit(batch)


def _runs(n: int) -> list[BuiltRun]:
    return [BuiltRun(f"r{i}", None, "simple/model1", "simple/model1", f"{i:016x}", b"") for i in range(n)]


def _helm_run(out: str, n: int, fail: set[str], interrupt_at: int | None):
    sets = HelmSettings(output_path=out, suite="s")
    script = Script(fail, interrupt_at, sets)
    console = Console(file=io.StringIO(), force_terminal=False)
    return run_suite(_runs(n), sets, CtrlCEngine(script), console, workers=1, command=COMMAND, executor=script)


def _check_views_agree(out: str, result, monkeypatch) -> None:
    # `helmc status` after helm-run has ended (its pid is this test's, so tell it the truth)
    monkeypatch.setattr(status_mod, "_alive", lambda session: False)
    on_disk = suite_status(out, "s")
    mine = result.status
    assert mine is not None
    assert on_disk.counts() == mine.counts()
    assert on_disk.counts_line() == mine.counts_line()
    assert (on_disk.rerun, on_disk.rerun_advice) == (mine.rerun, mine.rerun_advice)
    # the summary's rows say what the journal says, run by run
    by_state = Counter(AS_STATE[o.status] for o in result.outcomes)
    assert {st: by_state.get(st, 0) for st in STATES} == {st: on_disk.count(st) for st in STATES}
    assert sum(1 for o in result.outcomes if o.attempts > 1) == on_disk.counts()["retried"]
    attempts = {r.name: r.attempts for r in on_disk.runs}
    assert all(o.attempts == attempts[o.name] for o in result.outcomes if o.status != "skipped")
    # what is left: the same command helm-run ran resumes it; failures alone are named
    left = {r.name for r in on_disk.runs if r.state != "done"}
    if not left:
        assert on_disk.rerun is None
    elif left & {r.name for r in on_disk.runs if r.state in ("interrupted", "pending")}:
        assert on_disk.rerun.endswith(" ".join(COMMAND)) and "--only-runs" not in on_disk.rerun
    else:
        assert on_disk.rerun.endswith("--only-runs " + " ".join(sorted(left, key=lambda n: int(n[1:]))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 8), data=st.data())
def test_interrupted_then_resumed_every_view_agrees(tmp_path_factory, monkeypatch, n, data):
    out = str(tmp_path_factory.mktemp("suite"))
    names = [f"r{i}" for i in range(n)]
    fail = set(data.draw(st.lists(st.sampled_from(names), unique=True)))
    interrupt_at = data.draw(st.none() | st.integers(0, n - 1))
    first = _helm_run(out, n, fail, interrupt_at)
    assert first.interrupted == (interrupt_at is not None)
    if interrupt_at is not None:  # the run cut short is interrupted, those never started are pending
        states = [AS_STATE[o.status] for o in first.outcomes]
        assert states.count("interrupted") == 1 and states.count("pending") == n - interrupt_at - 1
    _check_views_agree(out, first, monkeypatch)
    monkeypatch.undo()
    second = _helm_run(out, n, set(), None)  # the resume: the same command again
    assert not second.interrupted and all(o.status in ("completed", "skipped") for o in second.outcomes)
    _check_views_agree(out, second, monkeypatch)
    monkeypatch.undo()


def test_the_count_line_is_the_one_status_prints(tmp_path, monkeypatch, capsys):
    from helmc.cli import main

    out = str(tmp_path)
    result = _helm_run(out, 5, {"r1"}, 3)
    monkeypatch.setattr(status_mod, "_alive", lambda session: False)
    assert main(["status", "--suite", "s", "-o", out]) == 0
    printed = capsys.readouterr().out
    assert result.status.counts_line() in printed
    assert "2 done, 1 failed, 1 interrupted, 0 running, 1 pending (5 planned)" in printed
    assert "To resume (the same command" in printed and " ".join(COMMAND) in printed


@pytest.mark.parametrize("only_runs", [False, True])
def test_rerun_command_replaces_an_only_runs_it_had(only_runs):
    from helmc.runtime.rerun import rerun_command

    words = [*COMMAND, "--only-runs", "a", "b", "--max-eval-instances", "5"] if only_runs else COMMAND
    cmd = rerun_command(words, ["b"])
    assert cmd.count("--only-runs") == 1 and cmd.endswith("--only-runs b")
    assert ("--max-eval-instances 5" in cmd) == only_runs and " a " not in f"{cmd} "
    assert os.path.basename(cmd.split()[0]) == "helm-run"
