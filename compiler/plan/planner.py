"""The Plan: exactly the RunSpecs HELM 0.5.16 would build, without building them.

Mirrors helm.benchmark.run.run_entries_to_run_specs and run_spec_factory.construct_run_specs:
priority filter; --models-to-run rewriting of `model=` (only when the value has no `/`);
expanders peeled off by name in the args' order, `model=all` appended when absent; each
expander multiplying the runs by its values (value sets, data augmentations, model groups);
alter_run_spec's model/deployment inference; then the --models-to-run and --groups-to-run
filters. What a filter removes is recorded in Plan.dropped with a reason, where HELM only says
"There were no RunSpecs or they got filtered out".

Not statically knowable: run_spec.groups of the few run spec functions that compute their
groups (see RunSpecFunction.groups); with --groups-to-run their runs are kept and the plan's
explanation says so. `tokenizer=default` depends on a per-deployment table helmc does not read;
it counts as one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..catalog.catalog import Catalog
from ..diagnostics import Diagnostic, DiagnosticSink, Severity, diag
from ..ir import Entry
from .plan import Dropped, EntryRef, ObjectSpecData, Plan, PlannedRun, PlannedSpec, PlanOptions, SpanRef
from ..resolve.resolve import ResolvedEntry
from ..resolve.suggest import closest, quote_list
from .run_names import function_facts, model_table, spec_run_names
from ..source import SourceFile


@dataclass(slots=True)
class Trace:
    """How one entry became runs, for `helmc plan --explain`."""

    entry: EntryRef
    steps: list[str] = field(default_factory=list)


class _Failure(tuple):
    """An _EntryFailed as the memos keep it, (message, help): a kept exception would hold the
    frames of its last raise, and their entries and sources, alive."""


class _EntryFailed(Exception):
    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help


def entry_ref(e: Entry) -> EntryRef:
    line, col = e.span.start_line_col
    src = e.span.source
    d = e.description
    if d is None:
        desc_span, shapes, offsets, first = SpanRef(src.path, e.span.start, e.span.start, src.line_base), (), None, 0
    else:
        lit = d.lit  # HString.span_of's mapping from decoded characters to input offsets
        desc_span = SpanRef(lit.span.source.path, lit.span.start, lit.span.end, lit.span.source.line_base)
        shapes, offsets, first = d.shape.args, lit.offsets, lit.span.start + (1 if lit.quoted else 0)
    return EntryRef(
        path=e.path,
        line=line,
        column=col,
        description=d.text if d is not None else "",
        priority=e.priority,
        groups=tuple(e.groups) if e.groups is not None else None,
        span=SpanRef(src.path, e.span.start, e.span.end, src.line_base),
        description_span=desc_span,
        arg_shapes=shapes,
        char_offsets=offsets,
        text_start=first,
    )


def _fmt_args(args: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in args.items())


def validate_models_to_run(models: tuple[str, ...], catalog: Catalog, sink: DiagnosticSink) -> None:
    """helm-run's check: each --models-to-run value must be a model or a deployment."""
    text = " ".join(models)
    src = SourceFile("<models-to-run>", text)
    pos = 0
    for m in models:
        start = text.index(m, pos) if m else pos
        pos = start + len(m)
        if m in catalog.models or m in catalog.deployments:
            continue
        sugg = closest(m, catalog.all_names())
        if catalog.get_deployment(m) is not None:
            # A deployment generator (e.g. `openai/`) makes one for any name: HELM accepts a
            # typo here and fails only when the run calls the model.
            message, label, severity = (
                f"`{m}` in --models-to-run is no model HELM knows",
                "HELM would make up a deployment for this name",
                Severity.WARNING,
            )
            note = (
                "HELM generates a deployment for any name under this prefix, so the typo surfaces "
                "only when the run calls the model's API"
            )
        else:
            message, label, severity = (
                f"unknown model `{m}` in --models-to-run",
                "no model or model deployment has this name",
                Severity.ERROR,
            )
            note = "helm-run raises `Unknown model ... passed to --models-to-run` before running anything"
        sink.add(
            diag(
                "HC0404",
                message,
                src.span(start, start + len(m)),
                label,
                help=f"did you mean `{sugg[0]}`?" if sugg else None,
                notes=[note],
                severity=severity,
            )
        )


def _pair(catalog: Catalog, model: str, deployment: str, models_to_run: tuple[str, ...] | None) -> str:
    """alter_run_spec: infer the missing half of (model, deployment), then check the pair; the
    deployment HELM settles on, or _EntryFailed as HELM raises."""
    if not model and not deployment:
        raise _EntryFailed("HELM finds neither a model nor a model deployment for this entry")
    if model and not deployment:
        dep = catalog.default_deployment(model)
        if dep is None:
            raise _EntryFailed(f"HELM finds no model deployment for model `{model}`")
        deployment = dep
    d = catalog.get_deployment(deployment)
    if d is None:
        raise _EntryFailed(f"HELM finds no model deployment `{deployment}`")
    if d.model_name != model:
        better = None
        if model in (models_to_run or ()) and d.model_name in catalog.models:
            better = f"pass the model name `{d.model_name}` to --models-to-run, not the deployment `{model}`"
        raise _EntryFailed(
            f"HELM pairs model `{model}` with deployment `{deployment}`, which serves `{d.model_name}`",
            better,
        )
    return deployment


_MODEL_PAIRS: dict[str, tuple[str, str]] = {}


def _rewritten(pairs: tuple[tuple[str, Any], ...], model: str) -> tuple[tuple[str, Any], ...]:
    """tuple({**dict(pairs), "model": model}.items()), made of resolution's own pairs and one
    shared ("model", m) pair per model: --models-to-run rewrites every entry, and a pair each
    per entry was about 250 bytes an entry held by the plan."""
    pair = _MODEL_PAIRS.get(model)
    if pair is None:
        pair = _MODEL_PAIRS[model] = ("model", model)
    if any(k == "model" for k, _ in pairs):
        return tuple([pair if p[0] == "model" else p for p in pairs])
    return (*pairs, pair)


# One run of an expansion, without its entry: PlannedRun's fields after `entry` and
# `run_spec_function` (args, expanders, model, model_deployment, name, spec, index).
Row = tuple[dict[str, Any], dict[str, Any], str, str | None, str | None, ObjectSpecData, int]


@dataclass(slots=True)
class Expansion:
    """What one entry plans, apart from where the entry is: it depends on the description's
    text, the groups, the catalog and the selection flags only, so the entries of one text
    share one (real files repeat entries: HELM's conf files read together hold 4,021 texts in
    6,814 entries)."""

    function: str
    rows: list[Row]  # the runs, in HELM's order
    dropped: list[str]  # why the filters removed runs, one reason each
    specs: list[tuple[ObjectSpecData, int]]  # each construct_run_specs call, with its number of runs


def _expand_entry(
    resolved: ResolvedEntry,
    entry_groups: tuple[str, ...] | None,
    catalog: Catalog,
    options: PlanOptions,
    trace: Trace | None,
) -> Expansion:
    rows: list[Row] = []
    dropped: list[str] = []
    specs: list[tuple[ObjectSpecData, int]] = []
    say = trace.steps.append if trace is not None else (lambda s: None)

    parsed = resolved.arg_dict
    models_to_run = options.models_to_run
    model_arg = parsed.get("model", "")
    if models_to_run and "/" not in str(model_arg):
        variants = [{**parsed, "model": m} for m in models_to_run]
        if trace is None:
            pass  # what follows only explains (--explain); a model group's members are many
        elif "model" in parsed:
            say(f"--models-to-run replaces `model={model_arg}` (no `/`) with each of {quote_list(models_to_run)}")
            if catalog.is_wildcard(model_arg):
                members = set(catalog.expand_model_value(model_arg))
                outside = [m for m in models_to_run if m not in members]
                if outside:
                    say(f"note: {quote_list(outside)} not in model group `{model_arg}`; HELM runs this entry on it anyway")
        else:
            say(f"no `model=`: --models-to-run adds `model=` for each of {quote_list(models_to_run)}")
    else:
        variants = [parsed]
    fn = resolved.function
    assert fn is not None
    # (model, deployment) -> the deployment HELM settles on, or how it fails: a model group's
    # members are paired once per process, not once per entry of the group.
    paired: dict[tuple[str, str], str | _Failure] = catalog._cache.setdefault("pairs", {}).setdefault(models_to_run, {})
    for args in variants:
        # Without a rewrite the args are resolution's own tuple: shared, not a copy per entry.
        spec = ObjectSpecData(fn.name, resolved.args if args is parsed else _rewritten(resolved.args, args["model"]))
        expanders = [(k, v) for k, v in args.items() if k in catalog.expanders]
        fargs = {k: v for k, v in args.items() if k not in catalog.expanders}
        if not any(k == "model" for k, _ in expanders):
            expanders.append(("model", "all"))
            say("no `model=`: HELM adds `model=all`")
        if trace is not None:
            say(f"{fn.name}({_fmt_args(fargs)}) in {fn.module}; expanders: {_fmt_args(dict(expanders)) or 'none'}")
        # the function's own AdapterSpec may name a model and deployment (simple1 does)
        facts = function_facts(catalog, fn.name, fargs)
        # Each run so far as (model, deployment, expanders): tuples, as a model group makes
        # hundreds of them per entry.
        states: list[tuple[str, str, dict[str, Any]]] = [(facts[2] or "", facts[3] or "", {})]
        emptied_by = None
        for name, value in expanders:
            exp = catalog.expanders[name]
            nxt: list[tuple[str, str, dict[str, Any]]] = []
            if exp.kind == "model":
                values = catalog.expand_model_value(value)
                if trace is not None and catalog.is_wildcard(value):
                    say(f"model={value} expands to {len(values)} model(s) (deprecated and unsupported left out)")
            else:
                values = exp.values_for(value)
                if trace is not None and len(values) != 1:
                    say(f"{name}={value} expands to {len(values)} runs: {quote_list([str(v) for v in values])}")
            per_deployment = exp.per_deployment(value) is not None
            if exp.kind == "model" and not per_deployment:
                # A model group: each model's name split once, not once for every state.
                table = model_table(catalog, value)
                for _, dep, before in states:
                    if before:
                        nxt.extend([(model, s if three_parts else dep, {**before, name: s}) for s, model, three_parts in table])
                    else:
                        nxt.extend([(model, s if three_parts else dep, {name: s}) for s, model, three_parts in table])
                states = nxt
                continue
            for model, dep, before in states:
                # TokenizerRunExpander's `default` looks up the deployment the run has so far
                for v in exp.values_for(value, dep) if per_deployment else values:
                    n_model, n_dep = model, dep
                    if exp.kind == "model":
                        s = str(v)
                        parts = s.split("/")
                        n_model = "/".join(parts[-2:])
                        if len(parts) > 2:
                            n_dep = s
                        v = s
                    elif name == "model_deployment":
                        n_dep = str(v)
                    elif exp.kind != "value_set":
                        v = value  # the value HELM is given (choices, free)
                    nxt.append((n_model, n_dep, {**before, name: v}))
            if states and not nxt and per_deployment:
                deps = sorted({dep for _, dep, _ in states if dep})
                emptied_by = f"`{name}={value}` gives no run: {exp.cls} looks up the run's model deployment, " + (
                    f"and its table has none of {quote_list(deps)}"
                    if deps
                    else "which HELM has not set yet at that point (only `model_deployment=` or a three-part `model=` before it would)"
                )
            states = nxt
        specs.append((spec, len(states)))
        # HELM's names of this ObjectSpec's RunSpecs, where the catalog makes them exact
        names = spec_run_names(catalog, fn.name, args.items(), groups=entry_groups, facts=facts)
        if names is None or len(names) != len(states):
            names = [None] * len(states)
        if not states and emptied_by:
            dropped.append(emptied_by)
            say("no runs: " + emptied_by)
            continue
        if not states:
            dropped.append(f"`model={args.get('model', 'all')}` expands to no model: every model of the group is deprecated or unsupported")
            say("no runs: the model group is empty")
            continue
        # alter_run_spec's deployment of each run, or how HELM fails there (at the first)
        found = [paired.get((model, dep)) for model, dep, _ in states]
        if None in found or _Failure in set(map(type, found)):
            for index, (model, dep, _) in enumerate(states):
                f = found[index]
                if f is None:
                    try:
                        f = found[index] = _pair(catalog, model, dep, models_to_run)
                    except _EntryFailed as failure:
                        f = _Failure((failure.message, failure.help))
                    paired[(model, dep)] = f
                if type(f) is _Failure:
                    raise _EntryFailed(*f)
        if not models_to_run and not options.groups_to_run:
            # fargs: read only, one dict for every run of this ObjectSpec; expanders: each
            # state's own dict, made for it above
            rows.extend([(fargs, ex, model, f or None, names[i], spec, i)
                         for i, ((model, _, ex), f) in enumerate(zip(states, found))])
            continue
        groups = fn.groups_for(fargs) if options.groups_to_run else None  # only that filter reads them
        for index, (model, _, ex) in enumerate(states):
            deployment = found[index]
            if models_to_run and model not in models_to_run and deployment not in models_to_run:
                dropped.append(f"model `{model}` (deployment `{deployment}`) is not in --models-to-run")
                continue
            if options.groups_to_run:
                if groups is None:
                    say(f"run spec groups of `{fn.name}` are computed at run time; helmc keeps the run under --groups-to-run")
                elif not any(g in options.groups_to_run for g in groups):
                    reason = f"its groups {quote_list(groups) if groups else '(none)'} are not in --groups-to-run"
                    if reason not in dropped:
                        dropped.append(reason)
                    continue
            rows.append((fargs, ex, model, deployment or None, names[index], spec, index))
    say(f"{len(rows)} run(s)" + (f", {len(dropped)} filtered out" if dropped else ""))
    return Expansion(fn.name, rows, dropped, specs)


# Distinct (description, groups) remembered per catalog and selection flags: a language
# server's session makes a new text per keystroke, so the memo is emptied when it gets this large.
_MEMO_MAX = 1 << 16


def _expansion_memo(catalog: Catalog, options: PlanOptions) -> dict[tuple, Expansion | _Failure]:
    memos: dict[PlanOptions, dict] = catalog._cache.setdefault("expansions", {})
    memo = memos.get(options)
    if memo is None or len(memo) >= _MEMO_MAX:
        memo = memos[options] = {}
    return memo


def _expand_remembered(resolved: ResolvedEntry, key: tuple[str, tuple[str, ...] | None], catalog: Catalog,
                       options: PlanOptions, memo: dict) -> Expansion:
    """_expand_entry, once per description text and groups (`key`; see Expansion)."""
    done = memo.get(key)
    if done is None:
        try:
            done = memo[key] = _expand_entry(resolved, key[1], catalog, options, None)
        except _EntryFailed as failure:
            memo[key] = _Failure((failure.message, failure.help))
            raise
        return done
    if type(done) is _Failure:
        raise _EntryFailed(*done)
    return done


@dataclass(slots=True)
class Expanded:
    """One run set's entries expanded: each planned entry beside its Expansion, in HELM's order.
    The checks (duplicates, name clashes, an empty suite) read the runs here; the Plan, one
    PlannedRun per run and an EntryRef per entry, is made only when asked for (helm-check
    never asks: HELM's conf files plan 58k runs)."""

    options: PlanOptions
    blocks: list[tuple[Entry, Expansion]]
    dropped: list[tuple[Entry, str]]  # what the filters removed and why, entry by entry
    _refs: dict[int, tuple[Entry, EntryRef]] = field(default_factory=dict)  # by id(entry), made on use
    _plan: Plan | None = None

    @property
    def has_runs(self) -> bool:
        return any(exp.rows for _, exp in self.blocks)

    def ref(self, e: Entry) -> EntryRef:
        found = self._refs.get(id(e))  # the entry is kept beside its ref: its id is not reused
        if found is None:
            found = self._refs[id(e)] = (e, entry_ref(e))
        return found[1]

    def plan(self) -> Plan:
        if self._plan is None:
            ref = self.ref
            runs = tuple([PlannedRun(r, exp.function, *row) for e, exp in self.blocks for r in (ref(e),) for row in exp.rows])
            self._plan = Plan(
                runs=runs,
                dropped=tuple([Dropped(ref(e), reason) for e, reason in self.dropped]),
                options=self.options,
                specs=tuple([PlannedSpec(r, spec, n) for e, exp in self.blocks for r in (ref(e),) for spec, n in exp.specs]),
            )
        return self._plan


def expand_entries(
    entries: list[Entry],
    catalog: Catalog,
    options: PlanOptions,
    sink: DiagnosticSink,
    *,
    resolved: list[ResolvedEntry],
    traces: list[Trace] | None = None,
) -> Expanded:
    """Plan every entry of one run set from its resolution (`resolved`, resolve_entries over
    `entries`); an entry with an error contributes no runs, the others are planned. An entry
    that filters leave without runs gets HC0403 (info). The flags'
    own checks (validate_models_to_run) and an empty plan (no_runs_diagnostic) are the
    compile's (compiler/session.py), which knows the command it serves."""
    out = Expanded(options, [], [])
    blocks, dropped = out.blocks, out.dropped
    memo = _expansion_memo(catalog, options)
    for r in resolved:
        e = r.entry
        desc = e.description
        trace = None
        if traces is not None and desc is not None:
            trace = Trace(out.ref(e))
            traces.append(trace)
        if options.priority is not None and e.priority is not None and e.priority > options.priority:
            if desc is not None:
                dropped.append((e, f"priority {e.priority} is above --priority {options.priority}"))
            if trace is not None:
                trace.steps.append(f"dropped: priority {e.priority} > --priority {options.priority}")
            continue
        # An entry with errors contributes no runs (its diagnostics say why).
        if not r.ok:
            if trace is not None:
                trace.steps.append("no runs: the entry has errors")
            continue
        assert desc is not None  # an entry without one is not ok
        groups = tuple(e.groups) if e.groups is not None else None
        try:
            if trace is None:
                exp = _expand_remembered(r, (desc.text, groups), catalog, options, memo)
            else:
                exp = _expand_entry(r, groups, catalog, options, trace)
        except _EntryFailed as failure:
            # A failure only visible after --models-to-run rewriting (a two-part deployment name
            # given as a model, or a rewritten model that an explicit model_deployment= does not
            # serve); HELM raises `Invalid RunSpec` or `Unknown model` here too.
            sink.add(
                diag(
                    "HC0312",
                    failure.message,
                    desc.span,
                    "HELM raises while building the runs of this entry",
                    help=failure.help,
                    notes=["HELM stops the whole run at this entry"],
                    severity=Severity.ERROR,
                )
            )
            if trace is not None:
                trace.steps.append("no runs: model and deployment cannot be paired")
            continue
        blocks.append((e, exp))
        if exp.dropped:
            dropped.extend([(e, reason) for reason in exp.dropped])
            if not exp.rows:
                sink.add(
                    diag(
                        "HC0403",
                        "this entry produces no runs",
                        desc.span,
                        "filtered out",
                        notes=list(dict.fromkeys(exp.dropped))[:3],
                    )
                )
    return out


def _reasons(reasons: list[str], shown: int = 3) -> str:
    """An entry's distinct reasons, the first few, and how many runs each covers when not all."""
    distinct = list(dict.fromkeys(reasons))
    text = "; ".join(distinct[:shown]) + (f"; and {len(distinct) - shown} more" if len(distinct) > shown else "")
    return text + (f" ({len(reasons)} runs)" if len(reasons) > 1 else "")


def no_runs_diagnostic(plan: Plan, entries: list[Entry], *, run_flag: bool = False, given: Sequence[str] = ()) -> Diagnostic:
    """HC0402: HELM only logs "There were no RunSpecs or they got filtered out."; say why.
    `given`: the conf paths named (files, or folders of them), which may hold no entry."""
    # one note per entry (an entry of many runs drops each of them), its distinct reasons in order
    why: dict[EntryRef, list[str]] = {}
    for d in plan.dropped:
        why.setdefault(d.entry, []).append(d.reason)
    reasons = [f"{r.path}:{r.line}:{r.column} `{r.description}`: {_reasons(rs)}" for r, rs in why.items()]
    if not entries and given:
        reasons.append(f"{quote_list(list(given))} {'holds' if len(given) == 1 else 'hold'} no run entry")
    elif not entries:
        reasons.append("no run entries were given (use --run-entries, --conf-paths or --conf-file)")
    first = next((e for e in entries if e.description is not None), entries[0] if entries else None)
    span = first.span if first is not None else SourceFile("<helm-run>", "").span(0, 0)
    notes = reasons[:20] + ([f"... and {len(reasons) - 20} more"] if len(reasons) > 20 else [])
    notes.append("HELM only logs `There were no RunSpecs or they got filtered out` and exits 0")
    o = plan.options
    filters = [f for f, v in (("--priority", o.priority), ("--models-to-run", o.models_to_run),
                              ("--groups-to-run", o.groups_to_run)) if v is not None]
    return diag(
        "HC0402",
        "nothing to run: every run was filtered out" if plan.dropped else "nothing to run",
        span,
        "no runs from here on",
        help=(f"check {', '.join(filters)}; " if filters else "")
        + ("pass --allow-no-runs to make an empty suite succeed" if run_flag else "see `dropped` (or --explain) for what each filter removed"),
        notes=notes,
    )
