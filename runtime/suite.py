"""Run a suite: decide what to skip from the journal, execute the rest, journal every change."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Sequence

from rich.console import Console

from .executor import HelmExecutor, error_type, storage_failure
from .helm_setup import LOG_UNUSABLE, HelmSettings, run_log_path
from .run_folders import Occupant, run_folder, discard_staging, foreign_occupant, outputs_present, recover_run_folder, unwritten_flag, writes_outputs
from .runspecs import BuiltRun, prewarm_names
from .engine import Engine, Event, Executor, Finished, Started
from .engines import task_of
from .interrupts import checkpoint
from .journal import Damage, Journal, RunState, lock_suite
from .governor import scope_views, shared_state_failure, with_witness
from .progress import WROTE_NOTHING, Outcome, ProgressDisplay
from .status import SuiteStatus, status_of

if TYPE_CHECKING:
    from .budget import Spend


class _DiskFailed(Exception):
    pass


@dataclass(slots=True)
class SuiteResult:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C, or --exit-on-error stopped the suite
    storage_error: str | None = None  # the disk failed (full, read-only): the suite stopped
    shared_error: str | None = None  # a job cannot share the limits' folder (governor.SharedStateError): stopped
    occupied: dict[str, Occupant] = field(default_factory=dict)  # run -> what of the user's stands at its folder
    unjournaled: str | None = None  # the flag under which HELM wrote no run files (nothing journaled)
    status: SuiteStatus | None = None  # the journal as this helm-run leaves it: the counts every view shows
    budget_stop: str | None = None  # why the runs left were not started: the actual spend reached a cap

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def retried(self) -> list[Outcome]:
        """Runs that needed more than one attempt (completed or not)."""
        return [o for o in self.outcomes if o.attempts > 1]

    @property
    def unfinished(self) -> list[Outcome]:
        """Started and not finished (interrupted), or never started (pending)."""
        return [o for o in self.outcomes if o.status in ("interrupted", "pending")]

    def summary(self, where: str) -> str:
        """The closing line: the counts as the journal has them (the very line `helmc status`
        prints), or, where HELM wrote no run files and nothing was journaled, what ran."""
        def count(status: str) -> int:
            return sum(1 for o in self.outcomes if o.status == status)

        if self.unjournaled is not None:
            failed, unfinished = self.failed, self.unfinished
            return (
                f"{count(WROTE_NOTHING)} ran without writing run files ({self.unjournaled}: HELM writes "
                f"none; the journal is left as it was), {len(failed)} failed"
                + (f", {len(unfinished)} not finished" if unfinished else "")
                + f"; output in {where}"
            )
        counts = self.status.counts_line() if self.status is not None else f"{len(self.outcomes)} planned"
        return f"{counts}; {count('skipped')} of the done runs completed earlier (skipped); output in {where}"


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
    spend: "Spend | None" = None,
) -> SuiteResult:
    """`command` is this helm-run's command line (journaled for `helmc status`'s re-run
    command); `on_warning` receives what the journal ignored; `executor` defaults to HELM's
    (HelmExecutor), simulations pass their own; `spend` (--max-cost, --max-requests) journals
    each run's estimate and actual spend and holds the runs left once a cap is reached.
    Raises SuiteLocked, JournalError."""
    lock_fd = lock_suite(settings.output_path, settings.suite)
    try:
        with Journal.open(settings.output_path, settings.suite) as journal:
            for w in journal.warnings:
                if on_warning is not None:
                    on_warning(w)
            return _run_suite(runs, settings, engine, console, journal, workers=workers, resume=resume,
                              command=command, executor=executor or _helm_executor(runs, settings, engine),
                              spend=spend)
    finally:
        os.close(lock_fd)


def _helm_executor(runs: Sequence[BuiltRun], settings: HelmSettings, engine: Engine) -> HelmExecutor:
    """HELM's executor; it names the classes to import beforehand where workers are not forked
    from helm-run (helm-run itself imports them before forking: prewarm)."""
    # Ray hosts import them before forking; Slurm jobs (not forked) those a run sends with
    # before it starts, the rest (metrics) once it sends
    if engine.kind == "slurm":  # jobs check that they see the governor's folder helm-run writes
        settings = replace(settings, limits=with_witness(settings.limits))
    if engine.kind not in ("ray", "slurm") or not runs:
        return HelmExecutor(settings)
    return HelmExecutor(settings, warm=prewarm_names(runs), warm_first=prewarm_names(runs, after_requests=False))


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
    spend: "Spend | None" = None,
) -> SuiteResult:
    # Attempts are written aside and swapped in whole (run_folders.commit_run_folder): a run folder
    # is never deleted up front, so an interrupted rerun loses no completed run.
    for name in {b.name for b in runs}:
        recover_run_folder(settings, name)
    discard_staging(settings)
    # The journal says what the run folders hold. With --skip-instances or
    # --cache-instances-only HELM's Runner writes no run files, so such a helm-run changes
    # nothing the journal records: it runs every run (as HELM's helm-run does) and journals
    # none of it, so a completed run stays completed and is not redone by the next normal run.
    writes = writes_outputs(settings)
    if not writes:
        spend = None  # no run files to read the spend from (nothing is journaled either)
    todo: list[BuiltRun] = []
    result = SuiteResult()
    skipped: dict[str, Outcome] = {}
    for b in runs:
        rec = journal.records.get(b.name)
        if resume and writes and journal.is_completed(b.name, b.fingerprint) and outputs_present(settings, b.name):
            skipped[b.name] = Outcome(b.name, "skipped", rec.duration if rec else None, "completed earlier")
            continue
        todo.append(b)

    # Only what helm-run wrote may be replaced: a run whose folder path holds something else
    # fails here, before it costs anything, and what is there stays (HELM's Runner creates the
    # run folder first whatever its flags, so HELM fails such a run too).
    for b in todo:
        occupant = foreign_occupant(settings, b.name)
        if occupant is not None:
            result.occupied[b.name] = occupant

    if writes:
        journal.begin([b.name for b in runs], command)
        for b in todo:
            journal.set(b.name, b.fingerprint, RunState.PENDING, save=False,
                        estimate=spend.estimates.get(b.name) if spend is not None else None)
        journal.save()
    else:
        result.unjournaled = unwritten_flag(settings)

    by_name = {b.name: b for b in todo}
    finished: dict[str, Outcome] = {}

    tasks = [task_of(b.name, b.payload, b.model, b.model_deployment, b.size) for b in todo
             if b.name not in result.occupied]
    # The workers used, not those asked for: --parallel-runs 10000 with 30 runs uses 30.
    used = min(workers, engine.slots_for(tasks))
    folder = settings.limits.folder
    shared_by = settings.limits.shared_by
    providers = (lambda: scope_views(folder, shared_by)) if folder is not None else None
    with ProgressDisplay(console, len(todo), len(skipped), used, label=engine.worker_label,
                         providers=providers) as display:

        def on_event(ev: Event) -> None:
            b = by_name[ev.name]
            if isinstance(ev, Started):
                if writes:
                    journal.set(b.name, b.fingerprint, RunState.RUNNING, log=run_log_path(settings, b.name))
            elif isinstance(ev, Finished):
                # A run whose log could not be opened has none: what stands at its path (a FIFO,
                # a folder) is never shown as its log, to be opened by the user.
                no_log = not ev.ok and error_type(ev.error) == LOG_UNUSABLE
                if writes:
                    state = RunState.COMPLETED if ev.ok else RunState.FAILED
                    actual = spend.add(b.name, run_folder(settings, b.name)) if spend is not None and ev.ok else None
                    journal.set(b.name, b.fingerprint, state, error=ev.error, duration=ev.duration,
                                actual=actual.to_json() if actual is not None else None, no_log=no_log)
                if ev.retry_in is None:
                    finished[b.name] = Outcome(
                        b.name,
                        ("completed" if writes else WROTE_NOTHING) if ev.ok else "failed",
                        ev.duration,
                        ev.error,
                        None if ev.ok or no_log else run_log_path(settings, b.name),
                        # over every helm-run, as `helmc status` counts (nothing journaled: this one)
                        journal.records[b.name].attempts if writes else ev.attempt,
                    )
            display.on_event(ev)
            if isinstance(ev, Finished) and not ev.ok and storage_failure(ev.error):
                result.storage_error = storage_failure(ev.error)
                raise _DiskFailed  # every later run would fail the same way
            if isinstance(ev, Finished) and not ev.ok and shared_state_failure(ev.error):
                result.shared_error = shared_state_failure(ev.error)
                raise _DiskFailed  # likewise: no job would keep to the limits

        def on_tick() -> None:
            checkpoint()
            journal.tick()  # group commit: the last runs that finished reach the disk
            display.refresh()

        for name, occupant in result.occupied.items():
            if writes:
                journal.set(name, by_name[name].fingerprint, RunState.FAILED, error=str(occupant), duration=0.0)
            finished[name] = Outcome(name, "failed", 0.0, str(occupant), None, 0)
            display.on_event(Finished(name, -1, False, 0.0, str(occupant)))
        try:
            engine.run(
                tasks,
                executor,
                on_event,
                stop_on_failure=settings.exit_on_error,
                on_tick=on_tick,
                may_start=spend.may_start if spend is not None else None,
            )
            checkpoint()  # a Ctrl-C that something swallowed still stops the suite
        except KeyboardInterrupt:
            result.interrupted = True
        except _DiskFailed:
            pass
        for name, rec in list(journal.records.items()):
            if name in by_name and rec.state is RunState.RUNNING:  # started, never finished
                journal.set(name, rec.fingerprint, RunState.INTERRUPTED, save=False)
        if spend is not None and spend.stopped is not None:
            held = [name for name, rec in journal.records.items()
                    if name in by_name and name not in finished and rec.state is RunState.PENDING]
            for name in held:
                journal.set(name, journal.records[name].fingerprint, RunState.PENDING,
                            reason=f"not started: {spend.stopped}", save=False)
            result.budget_stop = spend.stopped if held else None  # reached by the last run: nothing held
        journal.save()

    for b in runs:
        if b.name in skipped:
            result.outcomes.append(skipped[b.name])
        elif b.name in finished:
            result.outcomes.append(finished[b.name])
        else:  # as the journal has it: started and cut short, or never started
            rec = journal.records.get(b.name)
            started = rec is not None and rec.state is RunState.INTERRUPTED
            reason = rec.reason if rec is not None and not started else None
            result.outcomes.append(Outcome(b.name, "interrupted" if started else "pending", error=reason,
                                           attempts=rec.attempts if rec is not None else 0))
            if reason is None:  # held by the budget is not interrupted
                result.interrupted = True
    result.status = status_of(settings.suite, settings.output_path, journal.path, journal.records, journal.session,
                              alive=False)
    return result
