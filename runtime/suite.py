"""Run a suite: decide what to skip from the journal, execute the rest, journal every change."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

from rich.console import Console

from .bridge import (
    BuiltRun,
    HelmExecutor,
    HelmSettings,
    discard_staging,
    prewarm_names,
    outputs_present,
    recover_run_folder,
    run_log_path,
    storage_failure,
    writes_outputs,
)
from .engine import Engine, Event, Executor, Finished, Started
from .engines import task_of
from .interrupts import checkpoint
from .journal import Damage, Journal, RunState, lock_suite
from .governor import scope_views
from .progress import Outcome, ProgressDisplay


class _DiskFailed(Exception):
    pass


@dataclass(slots=True)
class SuiteResult:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C, or --exit-on-error stopped the suite
    storage_error: str | None = None  # the disk failed (full, read-only): the suite stopped

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def retried(self) -> list[Outcome]:
        """Runs that needed more than one attempt (completed or not)."""
        return [o for o in self.outcomes if o.attempts > 1]

    @property
    def unfinished(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "interrupted"]


def run_suite(
    runs: Sequence[BuiltRun],
    settings: HelmSettings,
    engine: Engine,
    console: Console,
    *,
    workers: int,
    resume: bool = True,
    command: Sequence[str] = (),
    on_warning: Callable[[Damage], None] | None = None,
    executor: Executor | None = None,
) -> SuiteResult:
    """`command` is this helm-run's command line (journaled for `helmc status`'s re-run
    command); `on_warning` receives what the journal ignored; `executor` defaults to HELM's
    (HelmExecutor), simulations pass their own. Raises SuiteLocked, JournalError."""
    lock_fd = lock_suite(settings.output_path, settings.suite)
    try:
        with Journal.open(settings.output_path, settings.suite) as journal:
            for w in journal.warnings:
                if on_warning is not None:
                    on_warning(w)
            return _run_suite(runs, settings, engine, console, journal, workers=workers, resume=resume,
                              command=command, executor=executor or _helm_executor(runs, settings, engine))
    finally:
        os.close(lock_fd)


def _helm_executor(runs: Sequence[BuiltRun], settings: HelmSettings, engine: Engine) -> HelmExecutor:
    """HELM's executor; it names the classes to import beforehand where workers fork from a
    process that is not helm-run (helm-run itself imports them before forking: prewarm)."""
    return HelmExecutor(settings, warm=prewarm_names(runs) if engine.warms_up and runs else ())


def _run_suite(
    runs: Sequence[BuiltRun],
    settings: HelmSettings,
    engine: Engine,
    console: Console,
    journal: Journal,
    *,
    workers: int,
    resume: bool,
    command: Sequence[str],
    executor: Executor,
) -> SuiteResult:
    # Attempts are written aside and swapped in whole (bridge.commit_run_folder): a run folder
    # is never deleted up front, so an interrupted rerun loses no completed run.
    for name in {b.name for b in runs}:
        recover_run_folder(settings, name)
    discard_staging(settings)
    check_files = writes_outputs(settings)
    todo: list[BuiltRun] = []
    result = SuiteResult()
    skipped: dict[str, Outcome] = {}
    for b in runs:
        rec = journal.records.get(b.name)
        if (
            resume
            and journal.is_completed(b.name, b.fingerprint)
            and (not check_files or outputs_present(settings, b.name))
        ):
            skipped[b.name] = Outcome(b.name, "skipped", rec.duration if rec else None, "completed earlier")
            continue
        todo.append(b)

    journal.begin([b.name for b in runs], command)
    for b in todo:
        journal.set(b.name, b.fingerprint, RunState.PENDING, save=False)
    journal.save()

    by_name = {b.name: b for b in todo}
    finished: dict[str, Outcome] = {}

    folder = settings.limits.folder
    providers = (lambda: scope_views(folder)) if folder is not None else None
    with ProgressDisplay(console, len(todo), len(skipped), workers, label=engine.worker_label,
                         providers=providers) as display:

        def on_event(ev: Event) -> None:
            b = by_name[ev.name]
            if isinstance(ev, Started):
                journal.set(b.name, b.fingerprint, RunState.RUNNING, log=run_log_path(settings, b.name))
            elif isinstance(ev, Finished):
                state = RunState.COMPLETED if ev.ok else RunState.FAILED
                journal.set(b.name, b.fingerprint, state, error=ev.error, duration=ev.duration)
                if ev.retry_in is None:
                    finished[b.name] = Outcome(
                        b.name,
                        "completed" if ev.ok else "failed",
                        ev.duration,
                        ev.error,
                        None if ev.ok else run_log_path(settings, b.name),
                        ev.attempt,
                    )
            display.on_event(ev)
            if isinstance(ev, Finished) and not ev.ok and storage_failure(ev.error):
                result.storage_error = storage_failure(ev.error)
                raise _DiskFailed  # every later run would fail the same way

        def on_tick() -> None:
            checkpoint()
            journal.tick()  # group commit: the last runs that finished reach the disk
            display.refresh()

        tasks = [task_of(b.name, b.payload, b.model, b.model_deployment, b.size) for b in todo]
        try:
            engine.run(
                tasks,
                executor,
                on_event,
                stop_on_failure=settings.exit_on_error,
                on_tick=on_tick,
            )
            checkpoint()  # a Ctrl-C that something swallowed still stops the suite
        except KeyboardInterrupt:
            result.interrupted = True
        except _DiskFailed:
            pass
        for name, rec in list(journal.records.items()):
            if name in by_name and rec.state is RunState.RUNNING:  # started, never finished
                journal.set(name, rec.fingerprint, RunState.INTERRUPTED, save=False)
        journal.save()

    for b in runs:
        if b.name in skipped:
            result.outcomes.append(skipped[b.name])
        elif b.name in finished:
            result.outcomes.append(finished[b.name])
        else:
            result.outcomes.append(Outcome(b.name, "interrupted"))
            result.interrupted = True
    return result
