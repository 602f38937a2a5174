"""helm-check's flow, from flags and [tool.helmc] to an exit status: which paths are conf files
and which are HELM config YAML files, --fix, one compile per run set with helm-run's verdict,
the HC06xx checks, helm-run's budget gate, --select/--ignore, and the exit status.

helm-check (helmc/commands/check.py) and the language server (helmc/lsp/) both call
`helm_check`: the command line with the files on disk, the editor with its documents' text in
their place (`texts`). What it calls in compiler/ and runtime/ is the compiling, and helm-run's
own preflight (runtime/session.py) calls the same: the compile and verdict of each run set
(compiler/session.py) and the --local-path files' errors (compiler/prodenv/check.py), so that given
helm-run's flags, helm-check passes iff helm-run would start.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from helmc.app.options import SETTLED, options_from_args
from helmc.compiler.catalog.catalog import Catalog
from helmc.compiler.codes import CODES
from helmc.compiler.diagnostics import Diagnostic, DiagnosticSink, Severity
from helmc.compiler.emit import FORMATS
from helmc.compiler.fixes import Applied, CheckText
from helmc.compiler.syntax.frontend import conf_files_under
from helmc.compiler.ir import Entry
from helmc.compiler.session import Options, RunSet

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2  # bad usage or bad settings (ruff's convention; an internal failure too)


class UsageError(Exception):
    """Bad flags or settings: reported in one line, exit code 2."""


# ---------------------------------------------------------------- --select / --ignore


def parse_codes(values: Iterable[str] | None) -> list[str] | None:
    """`--select HC03,hc0106 --select HC01`: the prefixes HC03, HC0106 and HC01; None when not given."""
    if values is None:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def selectors_of(settings: Mapping[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    """(select, ignore) of [tool.helmc] alone: what the language server, which has no flags, keeps."""
    return parse_codes(settings.get("select")), parse_codes(settings.get("ignore"))


def check_selectors(codes: Iterable[str], flag: str) -> None:
    for c in codes:
        if not any(code.startswith(c) for code in CODES):
            raise UsageError(f"{flag} {c}: no diagnostic code starts with `{c}` (codes look like HC0308)")


def is_selected(code: str, select: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    """The most specific matching prefix decides; on a tie --ignore wins. No --select: all."""
    best_select = max((len(s) for s in select if code.startswith(s)), default=-1) if select else 0
    best_ignore = max((len(s) for s in (ignore or ()) if code.startswith(s)), default=-1)
    if best_select < 0:
        return False
    return best_ignore < best_select or best_ignore < 0


def filter_diagnostics(
    diagnostics: Iterable[Diagnostic], select: Sequence[str] | None, ignore: Sequence[str] | None
) -> list[Diagnostic]:
    if not select and not ignore:
        return list(diagnostics)  # is_selected keeps every code
    return [d for d in diagnostics if is_selected(d.code, select, ignore)]


# ---------------------------------------------------------------- the flow


@dataclass(frozen=True, slots=True)
class Report:
    """How the result is to be shown: the flow refuses what cannot be shown, and an output file
    that is one of the inputs."""

    format: str = "text"
    statistics: bool = False
    output_file: str | None = None


@dataclass(frozen=True, slots=True)
class HelmCheckRequest:
    """One helm-check invocation, its flags settled once."""

    paths: tuple[str, ...] = ()  # PATH...: each conf file on its own; folders; HELM config YAML files
    run_set: RunSet = field(default_factory=RunSet)  # -c/--conf-paths/--conf-file and -r, read together
    options: Options = field(default_factory=Options)  # the compile's: selection, catalog additions
    select: tuple[str, ...] | None = None  # None: every code
    ignore: tuple[str, ...] = ()
    fix: bool = False
    unsafe_fixes: bool = False
    report: Report = field(default_factory=Report)
    # helm-run's budget flags, given to helm-check: its gate is checked too (None: not given)
    max_cost: float | None = None
    max_requests: int | None = None
    prices: str | None = None

    @property
    def budget_given(self) -> bool:
        return self.max_cost is not None or self.max_requests is not None or self.prices is not None


@dataclass(slots=True)
class HelmCheckResult:
    diagnostics: list[Diagnostic]  # the selected ones, in the order found
    files: int = 0  # conf files and HELM config files checked
    fixed: list[Applied] | None = None  # --fix: the fixes applied; None without --fix
    notes: list[str] = field(default_factory=list)  # one line each, to say before the report
    refusal: str | None = None  # bad usage: why nothing was checked
    entries: list[Entry] = field(default_factory=list)  # every entry read, in HELM's order

    @property
    def exit_code(self) -> int:
        if self.refusal is not None:
            return EXIT_USAGE
        return EXIT_ERRORS if any(d.severity is Severity.ERROR for d in self.diagnostics) else EXIT_OK


def settle_flags(flags: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """helm-check's flags that settings can give, by their argparse names: a flag given wins,
    then the setting, then the table's default; `select` and `ignore` parsed into codes and
    checked. --ignore adds to the settings' list, so a one-off ignore keeps the project's own.
    Raises UsageError."""
    out: dict[str, Any] = {}
    for o in SETTLED:
        if o.name in ("select", "ignore"):
            continue
        given = flags.get(o.dest)
        out[o.dest] = given if given is not None else settings.get(o.name, o.default)
    if out["format"] not in FORMATS:
        raise UsageError(f"format `{out['format']}` in [tool.helmc] is none of {', '.join(FORMATS)}")
    select, ignore = parse_codes(flags.get("select")), parse_codes(flags.get("ignore"))
    settings_select, settings_ignore = selectors_of(settings)
    out["select"] = select if select is not None else settings_select
    out["ignore"] = (settings_ignore or []) + (ignore or [])
    check_selectors(out["select"] or [], "--select")
    check_selectors(out["ignore"], "--ignore")
    return out


def settled_request(flags: Mapping[str, Any], settings: Mapping[str, Any]) -> HelmCheckRequest:
    """helm-check's flags by their argparse names (None where not given; the language server
    gives none) with [tool.helmc]'s values for those left out, as one request. Raises UsageError."""

    settled = {**flags, **settle_flags(flags, settings)}
    get = settled.get
    return HelmCheckRequest(
        paths=tuple(get("paths") or ()),
        run_set=RunSet((*(get("conf_paths") or ()), *(get("conf_file") or ())), tuple(get("run_entries") or ())),
        options=options_from_args(argparse.Namespace(**settled)),
        select=tuple(settled["select"]) if settled["select"] is not None else None,
        ignore=tuple(settled["ignore"]),
        fix=bool(get("fix")),
        unsafe_fixes=bool(get("unsafe_fixes")),
        report=Report(settled["format"], bool(get("statistics")), settled["output_file"]),
        # helm-run's gate is checked when one of its flags is given on the command line
        max_cost=get("max_cost"),
        max_requests=get("max_requests"),
        prices=flags.get("prices"),
    )


def request_from_flags(flags: Mapping[str, Any], *, isolated: bool = False,
                       start: str = ".") -> tuple[HelmCheckRequest, list[str]]:
    """The request of helm-check's flags with what the nearest [tool.helmc] gives for those left
    out (unless `isolated`), and the settings' warnings (settings it does not know). Raises
    UsageError for bad flags or settings."""
    from helmc.app.settings import Settings, SettingsError, load_settings

    try:
        settings = Settings() if isolated else load_settings(start)
    except SettingsError as e:
        raise UsageError(str(e)) from None
    return settled_request(flags, settings.values), settings.warnings


def usage_problem(request: HelmCheckRequest) -> str | None:
    """What makes the request unusable before anything is read, if anything."""
    if not request.paths and not request.run_set.run_entries and not request.run_set.conf_paths:
        return "give at least one conf file, folder, -c/--conf-paths or --run-entries"
    report = request.report
    if report.statistics and report.format not in ("text", "json"):
        return (f"--statistics prints a table (text) or JSON, not {report.format}; "
                "use --format text or --format json with it")
    if request.unsafe_fixes and not request.fix:
        return "--unsafe-fixes applies fixes only with --fix"
    return None


class _Load:
    """helm_check's `catalog` when none is given: load the one of the request's additions."""


LOAD = _Load()


def helm_check(request: HelmCheckRequest, *, texts: Mapping[str, str] | None = None,
               catalog: Catalog | None | _Load = LOAD) -> HelmCheckResult:
    """Check every input of one helm-check invocation; with --fix, fix the files first.

    `texts` (absolute path -> text) stands in for those files on disk: the editor's documents.
    `catalog`: one the caller loaded already (the language server keeps it between checks)."""
    from helmc.compiler.prodenv.check import check_paths, split_paths
    from helmc.compiler.session import check_run_sets, compile_run_sets

    problem = usage_problem(request)
    if problem is not None:
        return HelmCheckResult([], refusal=problem)
    options = request.options
    sink = DiagnosticSink()
    notes: list[str] = []
    conf_paths, config_paths = split_paths(request.paths, sink)  # HELM's config YAML files: HC06xx
    found = conf_files_under(conf_paths, sink)
    run_sets = check_run_sets(found, request.run_set.conf_paths, request.run_set.run_entries)
    files = [f for rs in run_sets for f in conf_files_under(list(rs.conf_paths))]
    if request.paths and not found and not config_paths:
        notes.append(f"warning: no *.conf files under {', '.join(request.paths)}")
    output_file = request.report.output_file
    if output_file:
        plugin_files = [p for p in options.catalog.plugins if os.path.isfile(p)]
        clash = _input_named(output_file, files + config_paths + plugin_files)
        if clash is not None:
            return HelmCheckResult([], notes=notes, refusal=f"-o/--output-file `{output_file}` is the input `{clash}`; "
                                   "refusing to write over an input")
    fixed = None
    if request.fix:
        fixed, errors = _fix_files(request, files, config_paths)
        notes += errors
    given = None if isinstance(catalog, _Load) else catalog
    compiled = compile_run_sets(run_sets, options, sink, "check", catalog=given, texts=texts)
    checked = check_paths(config_paths, options.catalog.local_path, sink, options.catalog.plugins,
                          names=not options.no_catalog, texts=texts)
    kept = filter_diagnostics(sink.items, request.select, request.ignore)
    result = HelmCheckResult(kept, len(files) + checked, fixed, notes,
                             entries=[e for c in compiled for e in c.entries])
    if request.budget_given:
        _budget_preflight(request, result)
    return result


def _budget_preflight(request: HelmCheckRequest, result: HelmCheckResult) -> None:
    """helm-run's budget gate, checked as helm-run would check it: its diagnostics join the report."""
    from helmc.runtime.budget import Budget
    from helmc.runtime.helm_setup import HelmSettings
    from helmc.runtime.session import budget_preflight

    run_set = RunSet((*request.paths, *request.run_set.conf_paths), request.run_set.run_entries)
    diags, refusal = budget_preflight(request.options, run_set, HelmSettings(catalog=request.options.catalog),
                                      Budget(request.max_cost, request.max_requests), request.prices)
    if refusal is not None:
        result.refusal = refusal
        return
    result.diagnostics.extend(filter_diagnostics(diags, request.select, request.ignore))


def fix_check(config: bool, catalog: Catalog | None, plugins: Iterable[str], names: bool) -> CheckText:
    """The check that --fix (and the editor's "fix all") runs on a file's text: the HC06xx checks
    for a HELM config YAML file, else the conf file's check."""
    from helmc.compiler.fixes import check_config_source, check_source

    if config:
        return lambda s: check_config_source(s, plugins, names)
    return lambda s: check_source(s, catalog)


def _fix_files(request: HelmCheckRequest, files: list[str], config_paths: list[str]) -> tuple[list[Applied], list[str]]:
    """--fix: the fixes of the selected diagnostics, applied to each conf file and HELM config
    YAML file in place; and a line for each file that could not be written."""
    from helmc.compiler.fixes import fix_files
    from helmc.compiler.session import load_catalog_for

    options = request.options
    # The catalog's own problems are reported by the check that follows, not twice.
    catalog = None if options.no_catalog else load_catalog_for(options, DiagnosticSink())
    configs = set(config_paths)
    plugins, names = options.catalog.plugins, not options.no_catalog
    return fix_files(
        files + config_paths, lambda path: fix_check(path in configs, catalog, plugins, names),
        unsafe=request.unsafe_fixes, wanted=lambda d: is_selected(d.code, request.select, request.ignore),
    )


def _input_named(output: str, inputs: list[str]) -> str | None:
    """The input that `output` names (the same file, whatever the spelling or link), if any."""
    try:
        out = os.stat(output)
    except OSError:
        return None  # it does not exist yet, so it is no input
    for p in inputs:
        try:
            st = os.stat(p)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            return p
    return None
