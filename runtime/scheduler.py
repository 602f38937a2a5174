"""Which run starts next: longest first, providers spread out and capped, failures retried.

Engine-independent: every engine asks the same scheduler for its next task when a slot frees.
Every operation is O(number of providers), so a suite of 10^5 runs costs the same per run as one
of 10^3 (benchmarks/bench_scale.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Iterable

from .task import Task

MAX_BACKOFF = 60.0


@dataclass(slots=True)
class _Group:
    """The pending runs of one provider, longest first."""

    provider: str | None  # None: not limited (local models)
    queue: deque[tuple[Task, int]]
    running: int = 0


class Scheduler:
    def __init__(
        self,
        tasks: Iterable[Task],
        *,
        retries: int = 0,
        backoff: float = 1.0,
        max_per_provider: int | None = None,
    ) -> None:
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.max_per_provider = max_per_provider
        # Longest first where sizes are known; the sort is stable, so ties keep the input order
        # and unknown sizes (None) come after known ones in input order.
        ordered = sorted(tasks, key=lambda t: -(t.size if t.size is not None else -1))
        self._groups: dict[str | None, _Group] = {}
        for t in ordered:
            key = t.provider if t.limited else None
            g = self._groups.get(key)
            if g is None:
                g = self._groups[key] = _Group(key, deque())
            g.queue.append((t, 1))
        self._retry_heap: list[tuple[float, int, Task, int]] = []
        self._seq = itertools.count()
        self.queued = sum(len(g.queue) for g in self._groups.values())

    # ------------------------------------------------------------------ queries

    @property
    def waiting_retry(self) -> int:
        return len(self._retry_heap)

    def next_retry_at(self) -> float | None:
        return self._retry_heap[0][0] if self._retry_heap else None

    def exhausted(self) -> bool:
        """Nothing is queued and nothing waits for a retry."""
        return self.queued == 0 and not self._retry_heap

    def _group(self, task: Task) -> _Group:
        key = task.provider if task.limited else None
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(key, deque())
        return g

    # ------------------------------------------------------------------ decisions

    def next(self, now: float) -> tuple[Task, int] | None:
        """The next (task, attempt) to start now, or None (nothing ready, or every provider
        with queued runs is at its limit). The caller must report it with `finished`."""
        while self._retry_heap and self._retry_heap[0][0] <= now:
            _, _, task, attempt = heapq.heappop(self._retry_heap)
            self._group(task).queue.appendleft((task, attempt))  # a retry goes before new runs
            self.queued += 1
        best: _Group | None = None
        for g in self._groups.values():
            if not g.queue:
                continue
            if g.provider is not None and self.max_per_provider is not None and g.running >= self.max_per_provider:
                continue
            # Spread providers: the group with the fewest runs in flight; then the longest run.
            if best is None or (g.running, -_size(g.queue[0][0])) < (best.running, -_size(best.queue[0][0])):
                best = g
        if best is None:
            return None
        task, attempt = best.queue.popleft()
        best.running += 1
        self.queued -= 1
        return task, attempt

    def finished(self, task: Task, attempt: int, ok: bool, now: float, *, retryable: bool = True) -> float | None:
        """Record the end of an attempt. Returns the delay before a retry, or None when the
        run is over (it succeeded, or it failed and has no retry left, or failed in a way no
        retry can change: not `retryable`)."""
        self._group(task).running -= 1
        if ok or not retryable or attempt > self.retries:
            return None
        delay = min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))
        heapq.heappush(self._retry_heap, (now + delay, next(self._seq), task, attempt + 1))
        return delay

    def drop_retries(self) -> list[Task]:
        """Stop: the runs that were waiting for a retry (they stay failed)."""
        dropped = [t for _, _, t, _ in self._retry_heap]
        self._retry_heap.clear()
        return dropped


def _size(task: Task) -> int:
    return task.size if task.size is not None else -1
