"""What the user sees while a suite runs, and at its end.

On a terminal: a live panel (done, failed, remaining, the runs in flight with their time),
redrawn from the engine's loop (no refresh thread: the engine forks workers at any time, and a
thread holding a lock across fork is how forked children deadlock). Elsewhere (CI logs, pipes):
one plain line per event. NO_COLOR is honoured by rich itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ..compiler.emit.text import clean  # run names and errors quote the conf files
from .engine import Event, Finished, Started


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    status: str  # "completed" | "failed" | "skipped" | "interrupted"
    duration: float | None = None
    error: str | None = None
    log: str | None = None


class ProgressDisplay:
    def __init__(self, console: Console, total: int, skipped: int, workers: int) -> None:
        self.console = console
        self.total = total  # runs to execute now (skipped ones excluded)
        self.skipped = skipped
        self.workers = workers
        self.done = 0
        self.failed = 0
        self.current: dict[str, float] = {}
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
        self.console.print(clean(text), markup=False, highlight=False, soft_wrap=True)

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, Started):
            self.current[ev.name] = time.monotonic()
            if self._live is None:
                self._line(f"[{self.done + self.failed}/{self.total}] start {ev.name}")
        elif isinstance(ev, Finished):
            self.current.pop(ev.name, None)
            if ev.ok:
                self.done += 1
            else:
                self.failed += 1
            if self._live is None:
                word = "done  " if ev.ok else "FAILED"
                tail = f": {ev.error}" if ev.error else ""
                self._line(f"[{self.done + self.failed}/{self.total}] {word} {ev.name} ({ev.duration:.1f}s){tail}")
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if force or now - self._last >= 0.5:
            self._last = now
            self._live.update(self._render(), refresh=True)

    def _render(self) -> Group:
        finished = self.done + self.failed
        head = Text.assemble(
            ("helm-run ", "bold"),
            (f"{finished}/{self.total} ", ""),
            ("done ", "green"), (str(self.done), "bold green"), "  ",
            ("failed ", "red"), (str(self.failed), "bold red"), "  ",
            ("remaining ", ""), (str(self.remaining), "bold"), "  ",
            (f"{time.monotonic() - self.t0:.0f}s", "dim"),
        )
        if self.skipped:
            head.append(f"  ({self.skipped} already completed)", "dim")
        bar = ProgressBar(total=max(1, self.total), completed=finished, width=40)
        rows = [head, bar]
        now = time.monotonic()
        for name, t in sorted(self.current.items(), key=lambda kv: kv[1]):
            rows.append(Text.assemble(("  ▸ ", "cyan"), clean(name), (f"  {now - t:.0f}s", "dim")))
        return Group(*rows)


def summary_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="helm-run summary", title_justify="left", show_lines=False)
    table.add_column("run", overflow="fold", ratio=3)
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("error / log", overflow="fold", ratio=2)
    style = {"completed": "green", "failed": "bold red", "skipped": "dim", "interrupted": "yellow"}
    for o in outcomes:
        detail = o.error or ""
        if o.status == "failed" and o.log:
            detail = f"{detail}\nlog: {o.log}" if detail else f"log: {o.log}"
        table.add_row(
            escape(clean(o.name)),
            Text(o.status, style=style.get(o.status, "")),
            f"{o.duration:.1f}s" if o.duration is not None else "",
            escape(clean(detail, keep_newlines=True)),
        )
    return table
