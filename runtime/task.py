"""A task: what the scheduler orders and an engine runs. Its own module, so that the engine
(which asks the scheduler) and the scheduler (which orders tasks) import it, not each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    payload: bytes
    provider: str | None = None  # the model's host organisation, for --max-runs-per-provider
    limited: bool = False  # whether --max-runs-per-provider applies (not for local models)
    size: int | None = None  # expected work (max eval instances x train trials), if known
