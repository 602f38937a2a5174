"""Building RunSpecs: HELM's own construct_run_specs over the plan's ObjectSpecs, each
checked against the plan, fingerprinted for the journal, and the classes the runs load
imported once before workers fork (HELM prepared first: runtime/helm_setup.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from helmc.compiler.plan.plan import EntryRef, ObjectSpecData, Plan, PlannedRun, PlannedSpec, PlanOptions

from .helm_setup import HelmSettings
from .governor import warm_sdks
from .interrupts import checkpoint

@dataclass(frozen=True, slots=True)
class BuiltRun:
    """A RunSpec that HELM built from the plan, with the planned run it realises."""

    name: str
    planned: PlannedRun | None  # None: HELM built a run the plan does not have (see Mismatch)
    model: str
    model_deployment: str | None
    fingerprint: str
    payload: bytes  # the pickled RunSpec, for the worker
    adapter: dict[str, Any] | None = None
    size: int | None = None  # max eval instances x train trials, for longest-first scheduling


@dataclass(frozen=True, slots=True)
class BuildError:
    """construct_run_specs raised for this ObjectSpec: HELM stops the whole run here."""

    spec: PlannedSpec
    message: str
    argument: str | None = None  # the argument HELM was working on (raising_argument), where known


@dataclass(frozen=True, slots=True)
class Mismatch:
    """HELM built other runs from an ObjectSpec than the plan says (a helmc bug)."""

    spec: PlannedSpec
    message: str


def fingerprint(run_spec_json: dict[str, Any], settings: HelmSettings) -> str:
    """What a completed run depends on: the RunSpec, and the flags that change what is written."""
    flags = [settings.dry_run, settings.skip_instances, settings.cache_instances_only]
    blob = json.dumps([run_spec_json, flags], sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


Key = tuple[str, int | None, str | None]  # (model, deployment, name) of one run


def _show(runs: Sequence[tuple[int, Key]]) -> str:
    return ", ".join(
        f"#{i} {m}" + (f" via {d}" if d and d != m else "") + (f" `{n}`" if n else "") for i, (m, d, n) in runs
    ) or "none"


def check_build(spec: PlannedSpec, planned: Sequence[PlannedRun], built: Sequence[tuple[int, Key]], total: int) -> str | None:
    """The build step's assertion: HELM built, from this ObjectSpec, what the plan says.

    `built` holds the (index, (model, deployment, name)) of each RunSpec that HELM's filters keep,
    `total` how many construct_run_specs returned. A planned deployment or name of None is not
    compared (the plan leaves it open). Returns what differs, or None."""
    want = sorted((r.index, (r.model, r.model_deployment, r.name)) for r in planned)
    got = sorted(built)
    same = total == spec.runs and len(want) == len(got) and all(
        wi == gi and wm == gm and (wd is None or wd == gd) and (wn is None or wn == gn)
        for (wi, (wm, wd, wn)), (gi, (gm, gd, gn)) in zip(want, got)
    )
    if same:
        return None
    return (
        f"HELM built {total} RunSpec(s) from `{spec.spec.function}` and kept {len(got)}: {_show(got)}; "
        f"helmc planned {spec.runs} and kept {len(want)}: {_show(want)}"
    )


def _select_and_adapt(run_spec: Any, entry: PlannedSpec, options: PlanOptions) -> Any | None:
    """What helm.benchmark.run.run_entries_to_run_specs does to each RunSpec that
    construct_run_specs returns, line for line: the model and group filters, then the adapter
    overrides, then the entry's groups appended to the name. None: filtered out."""
    from dataclasses import replace

    models_to_run = list(options.models_to_run) if options.models_to_run else None
    groups_to_run = list(options.groups_to_run) if options.groups_to_run else None
    if (
        models_to_run
        and run_spec.adapter_spec.model not in models_to_run
        and run_spec.adapter_spec.model_deployment not in models_to_run
    ):
        return None
    if groups_to_run and not any(group in groups_to_run for group in run_spec.groups):
        return None
    adapter_spec = run_spec.adapter_spec
    if options.max_eval_instances is not None and adapter_spec.max_eval_instances is None:
        adapter_spec = replace(adapter_spec, max_eval_instances=options.max_eval_instances)
    if adapter_spec.max_train_instances == 0:
        adapter_spec = replace(adapter_spec, num_train_trials=1)
    elif options.num_train_trials is not None:
        adapter_spec = replace(adapter_spec, num_train_trials=options.num_train_trials)
    run_spec = replace(run_spec, adapter_spec=adapter_spec)
    groups = entry.entry.groups
    if groups is not None:
        groups_name = "" if len(groups) == 0 else f",groups={'-'.join(sorted(groups))}"
        run_spec = replace(run_spec, name=run_spec.name + groups_name, groups=run_spec.groups + list(groups))
    return run_spec


@contextlib.contextmanager
def _run_spec_functions(names: set[str]) -> Iterator[None]:
    """HELM finds a run spec function by importing every module of helm.benchmark.run_specs
    (discover_run_spec_functions, on each lookup): `datasets`, `torch`-adjacent VLM scenarios
    and more, about a CPU second that the runs of most suites never use. Here only the modules
    whose source registers one of `names` are imported (a text search, as HELM's decorator
    is written: `@run_spec_function("name")`), and discovery is skipped while every name is
    registered; anything not found that way gets HELM's own discovery, as before."""
    import helm.benchmark.run_specs as package
    from helm.benchmark import run_spec

    registered = run_spec._REGISTERED_RUN_SPEC_FUNCTIONS
    missing = {n for n in names if n not in registered}
    if missing:
        import importlib
        import pkgutil

        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            try:
                with open(os.path.join(info.module_finder.path, info.name.rsplit(".", 1)[1] + ".py")) as f:
                    text = f.read()
            except (OSError, AttributeError):
                continue
            if any(f'run_spec_function("{n}")' in text or f"run_spec_function('{n}')" in text for n in missing):
                importlib.import_module(info.name)
    if any(n not in registered for n in names):
        yield  # HELM's discovery, every module
        return
    discover = run_spec.discover_run_spec_functions
    run_spec.discover_run_spec_functions = lambda: None
    try:
        yield
    finally:
        run_spec.discover_run_spec_functions = discover


def build_plan(plan: Plan, settings: HelmSettings) -> tuple[list[BuiltRun], list[BuildError], list[Mismatch]]:
    """Build every RunSpec of the plan with HELM's own construct_run_specs, from the plan's
    ObjectSpecs (no text is parsed again), in HELM's order; check each against the plan."""
    with _run_spec_functions({ps.spec.function for ps in plan.specs}):
        return _build_plan(plan, settings)


def _build_plan(plan: Plan, settings: HelmSettings) -> tuple[list[BuiltRun], list[BuildError], list[Mismatch]]:
    from helm.benchmark.run_spec_factory import construct_run_specs
    from helm.common.general import asdict_without_nones
    from helm.common.object_spec import ObjectSpec

    by_spec: dict[tuple[EntryRef, ObjectSpecData], list[PlannedRun]] = {}
    for r in plan.runs:
        by_spec.setdefault((r.entry, r.spec), []).append(r)
    built: list[BuiltRun] = []
    errors: list[BuildError] = []
    mismatches: list[Mismatch] = []
    for ps in plan.specs:
        checkpoint()
        try:
            specs = construct_run_specs(ObjectSpec(ps.spec.function, dict(ps.spec.args)))
        except (Exception, SystemExit) as ex:  # noqa: BLE001 - a run spec function may raise anything (even exit)
            errors.append(BuildError(ps, f"{type(ex).__name__}: {ex}", raising_argument(ex, ps.spec)))
            continue
        planned = {r.index: r for r in by_spec.get((ps.entry, ps.spec), [])}
        kept: list[tuple[int, Any]] = []
        for i, spec in enumerate(specs):
            try:
                spec = _select_and_adapt(spec, ps, plan.options)
            except (Exception, SystemExit) as ex:  # noqa: BLE001 - as above: HELM would raise here too
                errors.append(BuildError(ps, f"{type(ex).__name__}: {ex}"))
                break
            if spec is not None:
                kept.append((i, spec))
        else:
            problem = check_build(
                ps, list(planned.values()),
                [(i, (s.adapter_spec.model, s.adapter_spec.model_deployment, s.name)) for i, s in kept], len(specs),
            )
            if problem is not None:
                mismatches.append(Mismatch(ps, problem))
            for i, spec in kept:
                built.append(
                    BuiltRun(
                        name=spec.name,
                        planned=planned.get(i),
                        model=spec.adapter_spec.model,
                        model_deployment=spec.adapter_spec.model_deployment,
                        fingerprint=fingerprint(asdict_without_nones(spec), settings),
                        payload=pickle.dumps(spec),
                        adapter=asdict_without_nones(spec.adapter_spec),
                        size=run_size(spec),
                    )
                )
    checkpoint()
    return built, errors, mismatches


def raising_argument(ex: BaseException, spec: ObjectSpecData) -> str | None:
    """The argument of `spec` that construct_run_specs was working on when it raised `ex`,
    read from the traceback, innermost frame first: a run expander's own code (the expander is
    its argument's key), HELM's pairing of model and deployment (`model_deployment=`, else
    `model=`), or the body of the run spec function, whose failing statement reads one of its
    parameters. None where the traceback shows none of these; never raises (it reads the
    traceback of an exception being reported)."""
    try:
        return _raising_argument(ex, spec)
    except Exception:  # noqa: BLE001 - an odd frame or bytecode: the entry's description, then
        return None


def _raising_argument(ex: BaseException, spec: ObjectSpecData) -> str | None:
    import inspect

    from helm.benchmark.run_expander import RunExpander
    from helm.benchmark.run_spec import get_run_spec_function
    from helm.benchmark.run_spec_factory import construct_run_specs

    keys = [k for k, _ in spec.args]
    fn = get_run_spec_function(spec.function)
    code = getattr(inspect.unwrap(fn), "__code__", None) if fn is not None else None
    tbs = []
    tb = ex.__traceback__
    while tb is not None:
        tbs.append(tb)
        tb = tb.tb_next
    for tb in reversed(tbs):
        frame = tb.tb_frame
        me = frame.f_locals.get("self")
        if isinstance(me, RunExpander) and getattr(me, "name", None) in keys:
            return me.name
        if frame.f_code.co_name == "alter_run_spec" and frame.f_globals.get("__name__") == construct_run_specs.__module__:
            return next((k for k in ("model_deployment", "model") if k in keys), None)
        if code is not None and frame.f_code is code:
            return next((name for name in _parameters_read(code, tb.tb_lasti) if name in keys), None)
    return None


def _parameters_read(code: Any, lasti: int) -> list[str]:
    """The parameters of `code` that the statement around instruction `lasti` reads, in the
    order of its bytecode (an f-string's order, for a raise with a message)."""
    import dis

    params = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    instructions = list(dis.get_instructions(code))
    # lasti may point into the inline caches that follow an instruction (a CALL's, in 3.11)
    at = max((i for i in instructions if i.offset <= lasti), key=lambda i: i.offset, default=None)
    where = getattr(at, "positions", None)
    if at is None or where is None or where.lineno is None:
        return []
    low, high = where.lineno, where.end_lineno or where.lineno
    names: list[str] = []
    for i in instructions:
        p = i.positions
        if p is None or p.lineno is None or not (low <= p.lineno and (p.end_lineno or p.lineno) <= high):
            continue
        if i.opname.startswith("LOAD_FAST") or i.opname == "LOAD_DEREF":
            for name in i.argval if isinstance(i.argval, tuple) else (i.argval,):
                if name in params and name not in names:
                    names.append(name)
    return names


def run_size(spec: Any) -> int | None:
    """A run's expected amount of work: its eval instances times its train trials (None when
    HELM leaves the number of instances open)."""
    a = spec.adapter_spec
    if a.max_eval_instances is None:
        return None
    return a.max_eval_instances * max(1, a.num_train_trials or 1)


def prewarm(runs: Sequence[BuiltRun]) -> None:
    """Import, once in the parent, the classes the runs will load lazily (scenarios, metrics,
    annotators, clients, tokenizers): forked workers then inherit them instead of each paying
    the imports (scipy, sklearn, nltk... about 2 s for simple1) on its first run. Best effort:
    anything that fails to import here fails again, with its message, inside the run."""
    import_classes(prewarm_names(runs))
    warm_sdks()


def prewarm_names(runs: Sequence[BuiltRun], *, after_requests: bool = True) -> tuple[str, ...]:
    """The classes (and `module.*` modules) the runs load lazily, for `import_classes`;
    without `after_requests`, only those a run loads before its first request (not its metrics
    and annotators)."""
    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.benchmark.tokenizer_config_registry import get_tokenizer_config

    names: set[str] = set()
    deployments: set[str] = set()
    for b in runs:
        try:
            spec = pickle.loads(b.payload)
        except Exception:  # noqa: BLE001
            continue
        names.add(spec.scenario_spec.class_name)
        if after_requests:
            names.update(m.class_name for m in spec.metric_specs)
            names.update(a.class_name for a in (spec.annotators or ()))
        if spec.adapter_spec.model_deployment:
            deployments.add(spec.adapter_spec.model_deployment)
    for d in deployments:
        try:
            dep = get_model_deployment(d)
            names.add(dep.client_spec.class_name)
            tok = get_tokenizer_config(dep.tokenizer_name) if dep.tokenizer_name else None
            if tok is not None:
                names.add(tok.tokenizer_spec.class_name)
        except Exception:  # noqa: BLE001
            continue
    for module in ("helm.benchmark.window_services.window_service_factory",
                   "helm.benchmark.adaptation.adapters.adapter_factory"):
        names.add(module + ".*")
    return tuple(sorted(names))


def import_classes(names: Sequence[str]) -> None:
    """Import each class (or `module.*`) of `names`; best effort (see prewarm)."""
    import importlib

    from helm.common.object_spec import get_class_by_name

    for name in names:
        checkpoint()
        try:
            if name.endswith(".*"):
                importlib.import_module(name[:-2])
            else:
                get_class_by_name(name)
        except KeyboardInterrupt:
            raise
        except (Exception, SystemExit):  # noqa: BLE001 - SystemExit from a careless module included
            continue
    checkpoint()
