"""What the user sees while a suite runs, and at its end: the same for every engine.

On a terminal: a live panel (done, failed, retried, remaining, and one line per worker slot:
the run it executes and for how long, or idle), redrawn from the engine's loop at most every
half second (no refresh thread: the local engine forks workers at any time, and a thread
holding a lock across fork is how forked children deadlock). Elsewhere (CI logs, pipes): one
plain line per event. NO_COLOR is honoured by rich itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from rich.console import Console, Group
from rich.live import Live

from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.text import Text

from ..compiler.emit.table import Column, print_table
from ..compiler.emit.text import clean  # run names and errors quote the conf files
from .engine import Event, Finished, Started
from .governor import ScopeView

REFRESH_SECONDS = 0.5


WROTE_NOTHING = "wrote nothing"  # ran under --skip-instances or --cache-instances-only


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    status: str  # "completed" | "failed" | "skipped" | "interrupted" (started, cut short) | "pending" (never started) | WROTE_NOTHING
    duration: float | None = None
    error: str | None = None
    log: str | None = None
    attempts: int = 1  # starts of this run over every helm-run of the suite (the journal's count)


def _worker(slot: int) -> str:
    return f"worker {slot + 1}"


class ProgressDisplay:
    def __init__(
        self,
        console: Console,
        total: int,
        skipped: int,
        workers: int,
        *,
        label: Callable[[int], str] = _worker,
        providers: Callable[[], list[ScopeView]] | None = None,
    ) -> None:
        self.console = console
        self.providers = providers  # the request governor's view of each provider scope
        self.total = total  # runs to execute now (skipped ones excluded)
        self.skipped = skipped
        self.workers = workers
        self.label = label
        self.done = 0
        self.failed = 0
        self.retries = 0  # attempts that failed and are retried
        self.waiting_retry: set[str] = set()
        self.slots: dict[int, tuple[str, float, int]] = {}  # slot -> (run, start, attempt)
        self.t0 = time.monotonic()
        self._live: Live | None = None
        self._last = 0.0

    def __enter__(self) -> "ProgressDisplay":
        if self.console.is_terminal and not self.console.is_dumb_terminal:
            self._live = Live(self._render(), console=self.console, auto_refresh=False, transient=True)
            self._live.start()
        else:
            self._line(
                f"helm-run: {self.total} run(s) to do with {self.workers} worker(s)"
                + (f", {self.skipped} already completed" if self.skipped else "")
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def _line(self, text: str) -> None:
        # Plain lines for logs and pipes: written as they are (rich's print, with its
        # rendering pipeline, costs ten times more, which shows at 10^5 runs).
        f = self.console.file
        f.write(clean(text) + "\n")
        f.flush()

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, Started):
            self.slots[ev.worker] = (ev.name, time.monotonic(), ev.attempt)
            self.waiting_retry.discard(ev.name)
            if self._live is None:
                again = f" (attempt {ev.attempt})" if ev.attempt > 1 else ""
                self._line(f"[{self.done + self.failed}/{self.total}] start {ev.name}{again} on {self.label(ev.worker)}")
        elif isinstance(ev, Finished):
            self.slots.pop(ev.worker, None)
            tail = f": {ev.error}" if ev.error else ""
            if ev.retry_in is not None:
                self.retries += 1
                self.waiting_retry.add(ev.name)
                word = f"RETRY in {ev.retry_in:.0f}s"
            elif ev.ok:
                self.done += 1
                word = "done  "
            else:
                self.failed += 1
                word = "FAILED"
            if self._live is None:
                self._line(f"[{self.done + self.failed}/{self.total}] {word} {ev.name} ({ev.duration:.1f}s){tail}")
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if force or now - self._last >= REFRESH_SECONDS:
            self._last = now
            self._live.update(self._render(), refresh=True)

    def _render(self) -> Group:
        finished = self.done + self.failed
        head = Text.assemble(
            ("helm-run ", "bold"),
            (f"{finished}/{self.total} ", ""),
            ("done ", "green"), (str(self.done), "bold green"), "  ",
            ("failed ", "red"), (str(self.failed), "bold red"), "  ",
            ("running ", "cyan"), (str(len(self.slots)), "bold cyan"), "  ",
            ("remaining ", ""), (str(self.remaining), "bold"), "  ",
            (f"{time.monotonic() - self.t0:.0f}s", "dim"),
        )
        if self.retries:
            head.append(f"  retried {self.retries} time(s), {len(self.waiting_retry)} waiting", "yellow")
        if self.skipped:
            head.append(f"  ({self.skipped} already completed)", "dim")
        bar = ProgressBar(total=max(1, self.total), completed=finished, width=40)
        rows: list[Text | ProgressBar] = [head, bar]
        now = time.monotonic()
        shown = 0
        for slot in range(self.workers):
            if shown == 32:  # a panel taller than a terminal helps nobody
                rows.append(Text(f"  ... and {self.workers - shown} more worker(s)", "dim"))
                break
            shown += 1
            cur = self.slots.get(slot)
            if cur is None:
                rows.append(Text.assemble((f"  {self.label(slot)}: ", "dim"), ("idle", "dim")))
                continue
            name, t, attempt = cur
            again = f" (attempt {attempt})" if attempt > 1 else ""
            rows.append(Text.assemble((f"  {self.label(slot)}: ", "cyan"), clean(name), again, (f"  {now - t:.0f}s", "dim")))
        if self.providers is not None:
            for v in self.providers():
                pace = f"paced at {v.rate:.1f}/s" if v.rate else "unpaced"
                wait = f", backing off {v.backoff:.1f}s" if v.backoff > 0.05 else ""
                rows.append(Text.assemble(("  provider ", "dim"), clean(v.scope),
                                          f": {v.recent_rate:.1f} req/s, {v.sent} sent, ",
                                          (f"{v.throttled} answered 429", "yellow" if v.throttled else ""),
                                          f", {pace}{wait}"))
        return Group(*rows)


def print_summary(console: Console, outcomes: list[Outcome]) -> None:
    """helm-run's summary: one row per run, names whole (see print_table)."""
    style = {"completed": "green", "failed": "bold red", "skipped": "dim", "interrupted": "yellow", "pending": "yellow",
             WROTE_NOTHING: "dim"}
    rows = []
    for o in outcomes:
        detail = o.error or ""
        if o.status == "failed" and o.log:
            detail = f"{detail}\nlog: {o.log}" if detail else f"log: {o.log}"
        status = Text(o.status, style=style.get(o.status, ""))
        if o.attempts > 1:
            status.append(f" ({o.attempts} attempts)", "yellow")
        rows.append([o.name, status, f"{o.duration:.1f}s" if o.duration is not None else "", detail])
    columns = [Column("run"), Column("status"), Column("time", justify="right"), Column("error / log", wrap=True)]
    print_table(console, "helm-run summary", columns, rows)
