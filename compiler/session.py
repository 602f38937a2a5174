"""One compile for every command: run sets -> entries -> resolution -> plan -> verdict.

helm-check, `helmc plan`, helm-run and the language server all come through here, so that
given the same flags helm-check passes if and only if helm-run would start. The verdict adds
what helm-run itself decides before building anything: HELM's --models-to-run checks
(`models_to_run_refusal`, HC0405; a run set they refuse is not planned, as HELM plans
nothing) and an empty suite (`helm_run_verdict`, HC0402).
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any, Literal, Mapping, Sequence

from .frozen import record
from .catalog.catalog import Catalog, UserAdditions, load_catalog_with_additions
from .diagnostics import Diagnostic, DiagnosticSink, Label, diag
from .syntax.frontend import conf_files_under, load_entries
from .ir import Entry
from .resolve.resolve import entry_identity, resolve_entries
from .plan.plan import Plan, PlannedRun, PlanOptions
from .plan.planner import Expanded, Expansion, Row, Trace, expand_entries, no_runs_diagnostic, validate_models_to_run
from .source import SourceFile, Span

Purpose = Literal["check", "plan", "run"]


@record
class RunSet:
    """Entries that run together: one helm-run invocation's conf files and run entries."""

    conf_paths: tuple[str, ...] = ()
    run_entries: tuple[str, ...] = ()


@record
class Options:
    """Everything the compile reads from a command line, parsed once by the CLI."""

    selection: PlanOptions = field(default_factory=PlanOptions)
    catalog: UserAdditions = field(default_factory=UserAdditions)  # HelmSettings holds the same object
    allow_no_runs: bool = False  # helm-run's --allow-no-runs: an empty suite is no error
    no_catalog: bool = False  # helm-check --no-catalog: syntax and schema only


@record
class Compiled:
    run_set: RunSet
    entries: tuple[Entry, ...]
    expanded: Expanded | None  # None with --no-catalog, or when no catalog could be loaded

    @property
    def plan(self) -> Plan | None:
        """The Plan, made on first use: helm-check's checks read `expanded` and never ask."""
        return self.expanded.plan() if self.expanded is not None else None

    def sources(self) -> dict[tuple[str, int], SourceFile]:
        """The inputs that the plan's SpanRefs point into, by (path, line_base): the text a
        diagnostic placed from the plan shows."""
        return {(s.path, s.line_base): s for s in {id(e.span.source): e.span.source for e in self.entries}.values()}


def load_catalog_for(options: Options, sink: DiagnosticSink) -> Catalog | None:
    return load_catalog_with_additions(options.catalog, sink)


def compile_run_sets(
    run_sets: Sequence[RunSet],
    options: Options,
    sink: DiagnosticSink,
    purpose: Purpose,
    *,
    traces: list[Trace] | None = None,
    catalog: Catalog | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[Compiled]:
    """Compile each run set on its own (duplicates and an empty suite are per run set); the
    --models-to-run values are checked once. `texts`: load_entries'."""
    if catalog is None and not options.no_catalog:
        catalog = load_catalog_for(options, sink)
    if catalog is not None and options.selection.models_to_run:
        validate_models_to_run(options.selection.models_to_run, catalog, sink)
    out: list[Compiled] = []
    for rs in run_sets:
        local = DiagnosticSink()
        entries = load_entries(list(rs.conf_paths), list(rs.run_entries), local, texts)
        expanded = None
        if catalog is not None:
            expanded = compile_entries(entries, catalog, options, local, purpose, traces=traces, given=rs.conf_paths)
        sink.extend(local.items)
        out.append(Compiled(rs, tuple(entries), expanded))
    return out


def compile_entries(
    entries: list[Entry],
    catalog: Catalog,
    options: Options,
    sink: DiagnosticSink,
    purpose: Purpose,
    *,
    traces: list[Trace] | None = None,
    given: Sequence[str] = (),
) -> Expanded:
    """Resolution, planning and (for check and run) helm-run's verdict over one run set;
    `given`: its conf paths as the user named them, for an empty suite's note."""
    sel = options.selection
    resolved = resolve_entries(entries, catalog, sink, sel.models_to_run)
    if purpose != "plan":
        refusal = models_to_run_refusal(entries, options)
        if refusal:
            # HELM raises these before it constructs any RunSpec: helm-run plans nothing, and the
            # runs a wildcard would give are not the runs --models-to-run will give (planning
            # every model of every wildcard cost helm-check ~7 µs per run, 937k runs on HELM's
            # own conf files).
            sink.extend(refusal)
            return Expanded(sel, [], [])
    expanded = expand_entries(entries, catalog, sel, sink, traces=traces, resolved=resolved)
    del resolved  # 300 bytes an entry, not needed past the plan: off the peak that the checks below reach
    report_duplicate_runs(expanded, sink)
    if purpose != "run":  # helm-run reports them from the names HELM builds
        report_name_clashes(expanded, sink)
    if purpose == "plan":
        if entries and not expanded.has_runs:
            sink.add(no_runs_diagnostic(expanded.plan(), entries, given=given))
    else:
        helm_run_verdict(entries, expanded, options, sink, given)
    return expanded


def name_clash(name: str, later: Span, earlier: Span | None, more: Sequence[str] = ()) -> Diagnostic:
    """HC0406: two runs with one name; HELM runs both into one folder, the later one stays.
    `more`: the other names that the same two entries share (one diagnostic per pair of
    entries: a model wildcard would otherwise repeat it for every model)."""
    if more:
        message = (f"{1 + len(more)} runs of this entry are named as runs of an earlier entry, e.g. `{name}`: "
                   "the later ones overwrite the earlier ones' folders")
        label = "these runs' outputs replace the earlier ones"
    else:
        message = f"two runs are named `{name}`: the later one overwrites the earlier one's folder"
        label = "this run's output replaces the earlier one"
    notes = ["HELM runs both into one folder; helm-run runs only this later one, which is what HELM leaves"
             if not more else
             "HELM runs each two runs of one name into one folder; helm-run runs only the later one, which is "
             "what HELM leaves"]
    if more:
        shown = ", ".join(f"`{n}`" for n in more[:3])
        notes.append(f"also {shown}" + (f" and {len(more) - 3} more" if len(more) > 3 else ""))
    return diag(
        "HC0406",
        message,
        later,
        label,
        secondary=[Label(earlier, "the earlier run with this name" if not more else "the earlier entry")]
        if earlier is not None else [],
        help="make the entries differ in an argument that is part of the run name, or remove one",
        notes=notes,
    )


def report_name_clashes(expanded: Expanded, sink: DiagnosticSink) -> None:
    """HC0406 for each pair of entries whose planned runs share known run names (once per pair,
    naming the first shared name)."""
    first: dict[str, tuple[Entry, Row]] = {}
    last: dict[str, tuple[Entry, Row]] = {}
    for e, exp in expanded.blocks:
        for row in exp.rows:
            name = row[4]
            if name is None:
                continue
            earlier = first.get(name)
            if earlier is None:
                first[name] = (e, row)
            elif not _same_row(e, row, *earlier):
                last[name] = (e, row)
    pairs: dict[tuple[int, int], tuple[Entry, Entry, list[str]]] = {}
    for name, (later, _) in last.items():
        earlier = first[name][0]
        pairs.setdefault((id(later), id(earlier)), (later, earlier, []))[2].append(name)
    for later, earlier, names in pairs.values():
        assert later.description is not None and earlier.description is not None  # planned entries have one
        sink.add(name_clash(names[0], later.description.span, earlier.description.span, names[1:]))


def _same_row(e: Entry, row: Row, other_entry: Entry, other: Row) -> bool:
    """same_run of two runs as Expansion rows: the entries of one text share their rows."""
    return row is other or (row[5], row[1], row[2], row[3], e.groups) == (
        other[5], other[1], other[2], other[3], other_entry.groups)


def report_duplicate_runs(expanded: Expanded, sink: DiagnosticSink) -> None:
    """HC0401 on the plan, after every selection flag: an entry whose runs an earlier entry of
    another text already plans (`model=text` beside `model=openai/gpt2` once --models-to-run
    rewrites or filters the wildcard). Entries of one text got HC0401 from resolution already;
    once per pair of entries."""
    # One run twice needs one ObjectSpec in two entries: the specs (one per ObjectSpec, not
    # per run) find them, and only runs of those specs get a full key (937,785 runs of HELM's
    # 46 conf files read together without --models-to-run: 8-10 s of keys for every run).
    # Entries of one text are resolution's HC0401 already: a spec they share is left out here.
    # An identity is the description's parse and the groups: one per distinct text and groups,
    # not one per entry (100k entries of a few hundred texts held 100k identities).
    identity: dict[tuple[str, Any], Any] = {}

    def ident(e: Entry) -> Any:
        assert e.description is not None
        key = (e.description.text, tuple(e.groups) if e.groups is not None else None)
        if key not in identity:
            identity[key] = entry_identity(e)
        return identity[key]

    # Per spec, the distinct identities of the entries that plan it. The entries of one text
    # and groups share one Expansion, and so one identity: each Expansion is read once (a
    # generated file of 10k entries holds a few hundred), not once per entry.
    idents: dict[Any, set[Any]] = {}
    distinct: dict[int, Expansion] = {}  # by id: the blocks hold every Expansion alive
    for e, exp in expanded.blocks:
        if id(exp) in distinct:
            continue
        distinct[id(exp)] = exp
        found = ident(e)
        for spec, _ in exp.specs:
            idents.setdefault(spec, set()).add(found)
    twice = {spec for spec, found in idents.items() if len(found) > 1}
    if not twice:
        return
    involved = {key for key, exp in distinct.items() if any(spec in twice for spec, _ in exp.specs)}
    first: dict[tuple, tuple[tuple[str, int, int], Entry]] = {}
    shared: dict[tuple[tuple[str, int, int], tuple[str, int, int]], tuple[Entry, Entry, list[PlannedRun]]] = {}
    total: dict[tuple[str, int, int], int] = {}
    for e, exp in expanded.blocks:
        if id(exp) not in involved:
            continue
        where = _where(e)
        total[where] = total.get(where, 0) + len(exp.rows)
        for row in exp.rows:
            if row[5] not in twice:
                continue
            earlier = first.setdefault(_row_key(row, e), (where, e))
            if earlier[0] == where:  # this entry's own run, or a model group that lists a model twice
                continue
            found = shared.setdefault((where, earlier[0]), (e, earlier[1], []))
            found[2].append(PlannedRun(expanded.ref(e), exp.function, *row))
    for (later_where, _), (later, earlier, runs) in shared.items():
        if entry_identity(later) == entry_identity(earlier):
            continue
        sink.add(duplicate_runs(later, earlier, runs, total[later_where]))


def _where(e: Entry) -> tuple[str, int, int]:
    """An entry's place (its input's path and line_base, its offset there): one entry per
    place, so a key for it without an EntryRef (a line and column to compute, and spans)."""
    span = e.span
    return (span.source.path, span.source.line_base, span.start)


def _row_key(row: Row, e: Entry) -> tuple:
    """same_run as a dict key."""
    groups = tuple(e.groups) if e.groups is not None else None
    return (row[5], row[6], tuple(sorted((k, repr(v)) for k, v in row[1].items())), row[2], row[3], groups)


def duplicate_runs(later: Entry, earlier: Entry, runs: Sequence[PlannedRun], of: int) -> Diagnostic:
    assert later.description is not None and earlier.description is not None
    pl, _ = earlier.span.start_line_col
    where = f"{earlier.path}:{pl}" if earlier.path != later.path else f"line {pl}"
    run = runs[0]
    shown = f"`{run.name}`" if run.name else f"the `{run.model}` run"
    if len(runs) == of:
        message = f"this entry produces the same runs as the entry at {where}"
    else:
        message = f"{len(runs)} of this entry's {of} runs are also runs of the entry at {where}"
    return diag(
        "HC0401",
        message,
        later.description.span,
        "the same run after the selection flags",
        secondary=[Label(earlier.description.span, "first here")],
        help="remove one of the two entries, or narrow this one's model",
        notes=[f"the texts differ, but with the selection flags (a model without `/` rewritten by --models-to-run, "
               f"a wildcard expanded and filtered) both plan {shown}",
               "HELM runs both; the second run overwrites the first's output"],
    )


def same_run(a: PlannedRun, b: PlannedRun) -> bool:
    """The very same run planned twice (duplicate entries, which HC0401 reports, or a model
    that HELM's model group lists twice): nothing of one is lost to the other."""
    return (a.spec, a.expanders, a.model, a.model_deployment, a.entry.groups) == (
        b.spec, b.expanders, b.model, b.model_deployment, b.entry.groups
    )


_WILDCARD = re.compile(
    r"\bmodel=(?:all|text_code|text|code|instruction_following|full_functionality_text|limited_functionality_text)\b"
)
_HAS_MODEL = re.compile(r"\bmodel=\b")
_WILDCARDS: dict[str, str | None] = {}


def _wildcard(text: str) -> str | None:
    """_WILDCARD's match in a description's text, once per text (files repeat entries)."""
    try:
        return _WILDCARDS[text]
    except KeyError:
        if len(_WILDCARDS) >= 1 << 16:
            _WILDCARDS.clear()  # bounded for the language server, as the other memos
        m = _WILDCARD.search(text)
        found = _WILDCARDS[text] = m.group(0) if m else None
        return found


_NOT_PLANNED = ("HELM raises this before it builds any run, so no run of these entries is planned or checked "
                "(duplicate names, filters) until --models-to-run is given")


def models_to_run_refusal(entries: Sequence[Entry], options: Options) -> list[Diagnostic]:
    """HC0405: helm-run's checks without --models-to-run (HELM's regexes over every entry's
    text, before any filter and before any RunSpec is built); empty when helm-run goes on."""
    if options.selection.models_to_run:
        return []
    out: list[Diagnostic] = []
    described = [e for e in entries if e.description is not None]
    for e in described:
        assert e.description is not None
        m = _wildcard(e.description.text)
        if m:
            out.append(
                diag(
                    "HC0405",
                    f"`{m}` expands to many models, so helm-run needs --models-to-run",
                    _model_arg_span(e) or e.description.span,
                    "a model wildcard",
                    help="pass the models to evaluate, e.g. `--models-to-run openai/gpt2`",
                    notes=["HELM 0.5.16 refuses this too: --models-to-run must be set "
                           "(because the `model=` run expander expands to multiple models)", _NOT_PLANNED],
                )
            )
    # An entry whose syntax is broken already stops the run; its missing `model=` is a cascade.
    syntax_ok = all(e.description.ok for e in described if e.description is not None)
    if syntax_ok and described and not any(_HAS_MODEL.search(e.description.text) for e in described if e.description):
        e = described[0]
        assert e.description is not None
        out.append(
            diag(
                "HC0405",
                "no entry says `model=`, so helm-run needs --models-to-run",
                e.description.span,
                "no `model=` here",
                help="add `model=ORG/NAME` to the entries, or pass `--models-to-run ORG/NAME`",
                notes=["HELM 0.5.16 refuses this too: --models-to-run must be set "
                       "(because the `model=` run expander is omitted)", _NOT_PLANNED],
            )
        )
    return out


def helm_run_verdict(entries: Sequence[Entry], expanded: Expanded, options: Options, sink: DiagnosticSink,
                     given: Sequence[str] = ()) -> None:
    """What helm-run decides after its --models-to-run checks (models_to_run_refusal) and
    before it builds anything: an empty suite. HELM logs "There were no RunSpecs or they got
    filtered out" and exits 0; helm-run calls it an error unless --allow-no-runs."""
    if not sink.has_errors and not expanded.has_runs and not options.allow_no_runs:
        sink.add(no_runs_diagnostic(expanded.plan(), list(entries), run_flag=True, given=given))


def _model_arg_span(entry: Entry) -> Span | None:
    desc = entry.description
    assert desc is not None
    for a in reversed(desc.shape.args):
        if a.key == "model":
            return desc.lit.span_of(a.start, a.end)  # Argument.span, without an Argument for each
    return None


def check_run_sets(paths: Sequence[str], conf_paths: Sequence[str], run_entries: Sequence[str]) -> list[RunSet]:
    """helm-check's run sets: each file given as PATH (or found under a folder) on its own, as
    `helm-run --conf-paths FILE` reads it; -c/--conf-file files and -r entries together."""
    sets = [RunSet((f,)) for f in conf_files_under(list(paths))]
    if conf_paths or run_entries:
        sets.append(RunSet(tuple(conf_paths), tuple(run_entries)))
    return sets
