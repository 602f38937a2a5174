"""The Plan: plain, serializable data. The runtime never sees text or parse trees."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EntryRef:
    path: str
    line: int
    column: int
    description: str
    priority: int | None
    groups: list[str] | None


@dataclass(frozen=True, slots=True)
class PlannedRun:
    entry: EntryRef
    run_spec_function: str
    args: dict[str, Any]  # function arguments, coerced as HELM coerces them
    expanders: dict[str, Any]  # expander name -> the one value this run takes
    model: str
    model_deployment: str | None


@dataclass(frozen=True, slots=True)
class Dropped:
    entry: EntryRef
    reason: str


@dataclass(frozen=True, slots=True)
class PlanOptions:
    models_to_run: list[str] | None = None
    groups_to_run: list[str] | None = None
    priority: int | None = None
    max_eval_instances: int | None = None
    num_train_trials: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    runs: tuple[PlannedRun, ...]
    dropped: tuple[Dropped, ...]
    options: PlanOptions = field(default_factory=PlanOptions)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [asdict(r) for r in self.runs],
            "dropped": [asdict(d) for d in self.dropped],
        }
