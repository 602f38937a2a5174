"""The Plan: plain, serializable data, and the program the runtime executes.

Each PlannedRun carries what HELM builds it from (the ObjectSpec: run spec function and args,
after --models-to-run rewriting), which of that ObjectSpec's RunSpecs it is, its expanders,
model and deployment, and HELM's run name where it is known, and its entry's EntryRef: where
the entry, its description and each argument are written (SpanRef offsets), so that the
runtime places its diagnostics from the Plan alone. The runtime never sees parse trees; its
journal keys each run by the fingerprint of the RunSpec HELM built (runtime/runspecs.py).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..frozen import record
from ..ir import ArgShape


@record
class SpanRef:
    """Where a piece of an entry is written, as plain data: code-point offsets [start, end) in
    the input `path`. `line_base` tells apart the --run-entries arguments, which share one
    path: it is the argument's 1-based index there (as SourceFile.line_base), 1 in a file."""

    path: str
    start: int
    end: int
    line_base: int = 1


@record
class ArgSpans:
    """One `key=value` of an entry's description: the key, the value as written, and where each is."""

    key: str
    raw: str
    key_span: SpanRef
    value_span: SpanRef


@record
class EntryRef:
    """The entry a run comes from: what `helmc plan` shows of it, and where each of its pieces
    is written, so that the runtime places a diagnostic at the entry (or at one argument)
    from the Plan alone. The spans do not take part in equality: the path, line and column
    already tell entries apart, and runs are grouped by entry often (hashing stays cheap)."""

    path: str
    line: int
    column: int
    description: str
    priority: int | None
    groups: tuple[str, ...] | None  # a tuple: plan data is hashable (sets, dedup)
    span: SpanRef = field(compare=False)  # the entry: its object's `{` ... `}`, or its --run-entries argument
    description_span: SpanRef = field(compare=False)  # the description's string, as written
    # Where its arguments are, as the reader left them (objects it already made, shared by every
    # entry of one text: every planned entry carries them, few are ever shown, so `args` makes
    # the spans on use, as the IR does): each argument's key [start, eq) and value (eq, end) in
    # the decoded string, and the input offset of decoded character i, `char_offsets[i]`, or
    # `text_start + i` where they follow one another (no escapes).
    arg_shapes: tuple[ArgShape, ...] = field(compare=False)
    char_offsets: tuple[int, ...] | None = field(compare=False)
    text_start: int = field(compare=False)

    @property
    def args(self) -> tuple[ArgSpans, ...]:
        """Each argument's key and value and where they are, in the description's order."""
        d = self.description_span
        offsets, first = self.char_offsets, self.text_start

        def at(i: int, j: int) -> SpanRef:
            if offsets is None:
                return SpanRef(d.path, first + i, first + j, d.line_base)
            return SpanRef(d.path, offsets[i], offsets[j], d.line_base)

        return tuple(ArgSpans(a.key, a.raw, at(a.start, a.eq), at(a.eq + 1, a.end)) for a in self.arg_shapes)

    def arg(self, key: str) -> ArgSpans | None:
        """The argument `key=`; the last one where the key is given twice (HELM's dict keeps it)."""
        for a in reversed(self.args):
            if a.key == key:
                return a
        return None

    @property
    def model_span(self) -> SpanRef | None:
        """The value of `model=`, None where the entry has none (HELM adds `model=all`)."""
        a = self.arg("model")
        return a.value_span if a is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "description": self.description,
            "priority": self.priority,
            "groups": list(self.groups) if self.groups is not None else None,
        }


@record
class ObjectSpecData:
    """HELM's ObjectSpec for construct_run_specs: the run spec function and its args dict
    (expanders included, in HELM's order), as parse_object_spec and --models-to-run leave it."""

    function: str
    args: tuple[tuple[str, Any], ...]


@record
class PlannedSpec:
    """One construct_run_specs call HELM makes: every ObjectSpec of an entry that the priority
    filter keeps, including those whose runs the model and group filters then remove."""

    entry: EntryRef
    spec: ObjectSpecData
    runs: int  # how many RunSpecs construct_run_specs returns (before HELM's filters)


@record
class PlannedRun:
    entry: EntryRef
    run_spec_function: str
    args: dict[str, Any]  # function arguments, coerced as HELM coerces them
    expanders: dict[str, Any]  # expander name -> the one value this run takes
    model: str
    model_deployment: str | None
    name: str | None  # HELM's run name (its output folder), None where not known statically
    spec: ObjectSpecData  # what HELM builds this run from
    index: int  # this run's position among construct_run_specs(spec)'s RunSpecs
    adapter: dict[str, Any] | None = None  # HELM's adapter settings, once HELM built the run

    def to_json(self) -> dict[str, Any]:
        out = {
            "entry": self.entry.to_json(),
            "run_spec_function": self.run_spec_function,
            "args": _jsonable(self.args),
            "expanders": _jsonable(self.expanders),
            "model": self.model,
            "model_deployment": self.model_deployment,
            "name": self.name,
        }
        if self.adapter is not None:
            out["adapter"] = _jsonable(self.adapter)
        return out


@record
class Dropped:
    entry: EntryRef
    reason: str


@record
class PlanOptions:
    """helm-run's selection flags: the one options object of check, plan and run."""

    models_to_run: tuple[str, ...] | None = None
    groups_to_run: tuple[str, ...] | None = None
    priority: int | None = None
    max_eval_instances: int | None = None
    num_train_trials: int | None = None

    def __post_init__(self) -> None:
        # Lists from argparse become tuples: options are hashable plain data.
        for f in ("models_to_run", "groups_to_run"):
            v = getattr(self, f)
            if v is not None and not isinstance(v, tuple):
                object.__setattr__(self, f, tuple(v))


@record
class Plan:
    runs: tuple[PlannedRun, ...]
    dropped: tuple[Dropped, ...]
    options: PlanOptions = field(default_factory=PlanOptions)
    specs: tuple[PlannedSpec, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [r.to_json() for r in self.runs],
            "dropped": [{"entry": d.entry.to_json(), "reason": d.reason} for d in self.dropped],
        }


def _jsonable(value: Any) -> Any:
    """Tuples as lists: what JSON and its readers see."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
