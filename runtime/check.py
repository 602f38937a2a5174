"""Does what HELM built match what helmc planned? Per entry: count, models, deployments."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from helmc.compiler.plan import Plan

from .bridge import BuiltRun

Key = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Mismatch:
    entry_key: Key
    description: str
    planned: tuple[tuple[str, str | None], ...]  # (model, deployment) of each planned run
    built: tuple[tuple[str, str | None], ...]  # (model, deployment) of each RunSpec HELM built

    def message(self) -> str:
        def show(pairs: tuple[tuple[str, str | None], ...]) -> str:
            if not pairs:
                return "none"
            counts = Counter(pairs)
            return ", ".join(
                f"{m}" + (f" via {d}" if d and d != m else "") + (f" x{n}" if n > 1 else "")
                for (m, d), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
            )

        return (
            f"HELM built {len(self.built)} run(s) for this entry, helmc planned {len(self.planned)}: "
            f"HELM: {show(self.built)}; plan: {show(self.planned)}"
        )


def compare(plan: Plan, built: Sequence[BuiltRun], descriptions: dict[Key, str]) -> list[Mismatch]:
    planned: dict[Key, list[tuple[str, str | None]]] = {}
    for r in plan.runs:
        planned.setdefault((r.entry.path, r.entry.line, r.entry.column), []).append((r.model, r.model_deployment))
    got: dict[Key, list[tuple[str, str | None]]] = {}
    for b in built:
        got.setdefault(b.entry_key, []).append((b.model, b.model_deployment))
    out: list[Mismatch] = []
    for key in sorted(set(planned) | set(got), key=lambda k: (k[0], k[1], k[2])):
        p = sorted(planned.get(key, []), key=lambda x: (x[0], x[1] or ""))
        g = sorted(got.get(key, []), key=lambda x: (x[0], x[1] or ""))
        # A plan that leaves the deployment open (None) is compared on models only.
        loose = any(d is None for _, d in p)
        if (sorted(m for m, _ in p) != sorted(m for m, _ in g)) if loose else (p != g):
            out.append(Mismatch(key, descriptions.get(key, ""), tuple(p), tuple(g)))
    return out
