"""Resolution against the catalog: functions, arguments, expanders and models (HC03xx), plus
duplicate entries (HC0401).

Every check mirrors where HELM 0.5.16 itself would fail or silently do something else:
construct_run_specs (unknown function, expanders peeled off by name, `model=all` added),
the run spec function call (unknown or missing arguments), the expanders' constructors (values
they raise on), ModelRunExpander and alter_run_spec (models, deployments, wildcards).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Sequence

from ..catalog.catalog import Catalog, Expander, Parameter, RunSpecFunction
from ..codes import CODES
from ..diagnostics import Applicability, Diagnostic, DiagnosticSink, Fix, Label, Severity, diag
from ..frozen import record
from ..ir import Argument, Description, Entry
from ..source import SourceFile, Span
from .suggest import Names, closest, common_ends, quote_list, unique_close

_FALSY_WORDS = {"false", "no", "off", "n", "f", "none", "null", "disable", "disabled"}
NOTE_MODELS_TO_RUN = "with --models-to-run, HELM would replace this value without a word, since it has no `/`"


def _fix_help(
    word: str, sugg: list[str], span, what: str = "", candidates: Iterable[str] | None = None
) -> tuple[str | None, tuple[Fix, ...]]:
    """The did-you-mean help and its fix. The fix is safe when one candidate is closer than
    every other (suggest.unique_close), and then the help names only it; otherwise it
    replaces with the best of several guesses, and only --unsafe-fixes applies it."""
    best = unique_close(word, candidates) if candidates is not None else None
    if best is not None:
        return f"did you mean `{best}`{what}?", (Fix(span, best, Applicability.SAFE),)
    if not sugg:
        return None, ()
    fixes = (Fix(span, sugg[0], Applicability.UNSAFE),)
    if len(sugg) == 1:
        return f"did you mean `{sugg[0]}`{what}?", fixes
    return f"did you mean `{sugg[0]}`{what}? (or {quote_list(sugg[1:])})", fixes


def _names(catalog: Catalog, kind: str) -> Names:
    """The catalog's names of one kind (groups, all, groups+all, models, deployments,
    functions), the candidates of its did-you-means, made once."""
    key = ("suggest", kind)
    found = catalog._cache.get(key)
    if found is None:
        groups = list(catalog.model_group_to_model_names())
        if kind == "groups":
            items = groups
        elif kind == "all":
            items = catalog.all_names()
        elif kind == "groups+all":
            items = [*groups, *catalog.all_names()]
        elif kind == "models":
            items = list(catalog.models)
        elif kind == "deployments":
            items = list(catalog.deployments)
        else:
            items = list(catalog.functions)
        found = catalog._cache[key] = Names(items)
    return found


def _digits_apart(a: str, b: str) -> bool:
    """Whether two names differ only in digits (a version or a date), once their common
    beginning and end are set aside."""
    i, j = common_ends(a, b)
    return (a[i : len(a) - j] + b[i : len(b) - j]).isdigit()


def _base_type(ann: str | None, p: Parameter | None = None) -> str | None:
    """`int`, `float`, `bool` or `str` for simple annotations (Optional[...] unwrapped); from a
    literal default when there is no annotation; None when helmc does not judge the type."""
    if ann is None:
        if p is not None and p.has_default_value and p.default_value is not None:
            return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(p.default_value))
        return None
    return _ann_type(ann)


@lru_cache(maxsize=None)
def _ann_type(ann: str) -> str | None:
    a = ann.replace(" ", "")
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", a)
    if m:
        a = m.group(1)
    parts = [x for x in re.split(r"\|", a) if x != "None"]
    m = re.fullmatch(r"(?:typing\.)?Union\[(.+)\]", a)
    if m:
        parts = [x for x in m.group(1).split(",") if x != "None"]
    if len(parts) != 1:
        return None
    return parts[0] if parts[0] in ("int", "float", "bool", "str") else None


def _optional(ann: str | None) -> bool:
    return ann is not None and ("Optional[" in ann or "None" in ann)


def _kind_of(value: Any) -> str:
    return "an integer" if isinstance(value, int) else "a number" if isinstance(value, float) else "a string"


# ---------------------------------------------------------------- one argument against a parameter


def _check_param_value(fn: RunSpecFunction, p: Parameter, a: Argument, sink: DiagnosticSink) -> None:
    t = _base_type(p.annotation, p)
    v = a.value
    raw = a.shape.raw
    shown = f"`{raw}`" if raw else "an empty value"
    ann = p.annotation or (type(p.default_value).__name__ if p.has_default_value else "?")
    if t == "int" and not isinstance(v, int):
        notes = [f"`{fn.name}` declares `{p.name}: {ann}`; HELM passes {_kind_of(v)} through unchanged"]
        help_ = "write a whole number"
        if isinstance(v, str) and v in ("None", "none", "null") and _optional(p.annotation):
            help_ = f"leave out `{p.name}=` to get None"
        sink.add(diag("HC0305", f"`{p.name}` expects an integer, got {shown}", a.raw.span, "not an integer", help=help_, notes=notes))
    elif t == "float" and isinstance(v, str):
        sink.add(
            diag(
                "HC0305",
                f"`{p.name}` expects a number, got {shown}",
                a.raw.span,
                "not a number",
                help="write a number such as `0.5`",
                notes=[f"`{fn.name}` declares `{p.name}: {ann}`; HELM passes the string through unchanged"],
            )
        )
    elif t == "bool" and isinstance(v, str) and v.strip().lower() in _FALSY_WORDS:
        sink.add(
            diag(
                "HC0306",
                f"`{p.name}={a.raw.value}` turns `{p.name}` on: HELM passes the non-empty string {a.raw.value!r}, which is true",
                a.raw.span,
                "a non-empty string is true in Python",
                help=f"write `{p.name}=0` to turn it off (HELM reads `0` as the integer 0, which is false)",
                # Unsafe: HELM runs this file today (with the parameter on); the fix changes what it runs.
                fixes=[Fix(a.raw.span, "0", Applicability.UNSAFE)],
                notes=[f"`{fn.name}` declares `{p.name}: {ann}` but HELM does not convert strings to bool"],
            )
        )


def _check_stated_values(fn: RunSpecFunction, p: Parameter, a: Argument, sink: DiagnosticSink) -> bool:
    """HC0314: a value outside the set HELM's files state for this parameter (catalog_build_values).
    An error where the scenario checks it (HELM raises when the run starts, after the runs
    before it), a warning where only HELM's schema run groups name the values. False on an error."""
    if not p.values or a.value in p.values:  # HELM passes `2` on as the int 2, which no stated string equals
        return True
    checked = p.values_how == "scenario-check"
    raw = a.shape.raw
    help_, fixes = _fix_help(raw, closest(raw, p.values), a.raw.span, candidates=p.values)
    where = p.values_source or "HELM's files"
    notes = [f"`{fn.name}` passes `{p.name}` to its scenario, which accepts {quote_list(list(p.values))} ({where})"
             if checked else
             f"HELM's schema files name one run group per value of `{fn.name}`'s `{p.name}`: {quote_list(list(p.values))} "
             f"({where})"]
    notes.append("HELM raises an AssertionError or ValueError when the run starts, after the runs before it"
                 if checked else "HELM builds the run and fails only when it looks for this value's data")
    sink.add(diag(
        "HC0314",
        f"`{raw}` is not a `{p.name}` that `{fn.name}` accepts",
        a.raw.span,
        "not one of the stated values",
        help=help_,
        fixes=fixes,
        notes=notes,
        severity=None if checked else Severity.WARNING,
    ))
    return not checked


# ---------------------------------------------------------------- expander values


def _check_expander_value(
    exp: Expander, a: Argument, catalog: Catalog, sink: DiagnosticSink, fn: RunSpecFunction | None = None, given: dict[str, Argument] | None = None
) -> bool:
    """False when HELM would raise on this value (`fn` and the entry's arguments, when known,
    decide the cases that turn on the run's adapter method or on the model being set)."""
    v = a.value
    if fn is not None and given is not None and not _check_expander_run(exp, a, catalog, sink, fn, given):
        return False
    if exp.kind == "none":
        sink.add(
            diag(
                "HC0307",
                f"run expander `{exp.name}` takes no value",
                a.span,
                "HELM calls the expander with this value and fails",
                notes=[f"{exp.cls}.__init__ takes no argument, so HELM raises a TypeError for `{exp.name}=...`"],
            )
        )
        return False
    if exp.kind == "choices":
        if v in exp.choices:
            return True
        sugg = closest(str(v), exp.choices)
        help_, fixes = _fix_help(str(v), sugg, a.raw.span, candidates=exp.choices)
        sink.add(
            diag(
                "HC0307",
                f"`{a.raw.value}` is not a value of run expander `{exp.name}`",
                a.raw.span,
                f"{exp.name} accepts {quote_list(list(exp.choices), 6)}",
                help=help_,
                fixes=fixes,
                notes=[f"HELM raises when {exp.cls} meets this value"],
            )
        )
        return False
    if exp.kind in ("value_set", "free") and exp.value_type:
        t = _base_type(exp.value_type)
        bad = (t == "int" and not isinstance(v, int)) or (t == "float" and isinstance(v, str))
        if bad and not (isinstance(v, str) and v in exp.value_sets):
            sets = list(exp.value_sets)
            sugg = closest(str(v), sets)
            help_, fixes = _fix_help(str(v), sugg, a.raw.span, candidates=sets)
            what = "an integer" if t == "int" else "a number"
            label = f"neither {what} nor one of {quote_list(sets, 6)}" if sets else f"not {what}"
            sink.add(
                diag(
                    "HC0307",
                    f"`{a.raw.value}` is not a value of run expander `{exp.name}`",
                    a.raw.span,
                    label,
                    help=help_ or f"write {what}",
                    fixes=fixes,
                    notes=[f"HELM would put {a.raw.value!r} into a field declared `{exp.value_type}`"],
                )
            )
            return False
    if exp.kind == "free" and exp.known_values and isinstance(v, str) and exp.base_value(v) not in exp.known_values:
        method = None
        if fn is not None and given is not None:
            from ..plan.run_names import adapter_method

            method = adapter_method(catalog, fn.name, {k: x.value for k, x in given.items() if k not in catalog.expanders})
        _unknown_free_value(exp, a, sink, method)
    return True


def _check_expander_run(exp: Expander, a: Argument, catalog: Catalog, sink: DiagnosticSink, fn: RunSpecFunction, given: dict[str, Argument]) -> bool:
    """What expand() raises on for the run it meets: a method it refuses, a value no arm of the
    run's method names, a model looked up before `model=` has set it."""
    from ..plan.run_names import adapter_method

    fargs = {k: x.value for k, x in given.items() if k not in catalog.expanders}
    method = adapter_method(catalog, fn.name, fargs)
    why = None
    if method is not None and exp.requires_method and method not in exp.requires_method:
        why = f"run expander `{exp.name}` only works on {quote_list(list(exp.requires_method))} runs; `{fn.name}` builds `{method}` runs"
    arms = (exp.value_arms or {}).get("by_method") or {}
    if method is not None and arms and isinstance(a.value, str):
        arm = arms.get(method)
        base = exp.base_value(a.value)
        if arm is None and (exp.value_arms or {}).get("other_methods") == "raise":
            why = f"run expander `{exp.name}` has no branch for `{method}` runs, which `{fn.name}` builds"
        elif arm is not None and arm.get("other") == "raise" and base not in arm.get("values", ()):
            why = f"`{a.raw.value}` is not a value of run expander `{exp.name}` for `{method}` runs, which `{fn.name}` builds"
            sugg = closest(base, arm.get("values", ()))
            help_, fixes = _fix_help(str(a.value), [x + a.value[len(base):] for x in sugg], a.raw.span)
            sink.add(diag("HC0307", why, a.raw.span, f"`{method}` accepts {quote_list(list(arm.get('values', ())), 6)}",
                      help=help_, fixes=fixes, notes=[f"HELM raises when {exp.cls} expands the run"]))
            return False
    if why is None and exp.reads_model_for and ("*" in exp.reads_model_for or a.value in exp.reads_model_for):
        keys = list(given)
        if "model" not in keys or keys.index("model") > keys.index(a.key.value):
            why = f"run expander `{exp.name}={a.raw.value}` looks up the run's model, which `model=` has not set yet at that point"
            sink.add(diag("HC0307", why, a.raw.span, "HELM expands it before the model", help=f"give `model=` before `{exp.name}=`",
                      notes=["HELM applies run expanders in the entry's order, `model=` last when it is not given",
                             "HELM raises `No model metadata for model name: `"]))
            return False
    if why is not None:
        sink.add(diag("HC0307", why, a.raw.span, "HELM raises on this run", notes=[f"HELM raises when {exp.cls} expands the run"]))
        return False
    return True


def _unknown_free_value(exp: Expander, a: Argument, sink: DiagnosticSink, method: str | None = None) -> None:
    """A value the expander's code never names (HC0313): what HELM does with it depends on
    the run's adapter method, which helmc does not compute, so a warning that says each case."""
    base = exp.base_value(str(a.value))
    tail = str(a.value)[len(base) :]  # the suffixes the constructor strips stay as written
    sugg = [x + tail for x in closest(base, exp.known_values)]
    help_, fixes = _fix_help(str(a.value), sugg, a.raw.span)
    notes = []
    arms = (exp.value_arms or {}).get("by_method") or {}
    for m, arm in arms.items():
        if method is not None and m != method:
            continue  # the run's method is known: only its arm matters
        notes.append(
            f"for `{m}` runs{' (these)' if m == method else ''} HELM "
            + ("raises" if arm.get("other") == "raise" else "falls back to its generic text")
        )
    if arms and method is None and (exp.value_arms or {}).get("other_methods") == "raise":
        notes.append("for runs of any other adapter method HELM raises")
    sink.add(
        diag(
            "HC0313",
            f"`{a.raw.value}` is not a value run expander `{exp.name}` knows",
            a.raw.span,
            f"{exp.cls} names {quote_list(list(exp.known_values), 6)}",
            help=help_,
            fixes=fixes,
            notes=notes or [f"{exp.cls} has no branch for this value"],
        )
    )


# ---------------------------------------------------------------- models


def _check_model(
    a: Argument, args: dict[str, Any], catalog: Catalog, sink: DiagnosticSink, models_to_run: Sequence[str] | None
) -> bool:
    v = a.value if isinstance(a.value, str) else str(a.value)
    groups = catalog.model_group_to_model_names()
    if models_to_run and "/" not in v:
        # run_entries_to_run_specs replaces a `model=` without `/` by each --models-to-run value
        # before anything reads it: HELM builds the runs, whatever the value was.
        if v not in groups:
            sugg = closest(v, _names(catalog, "groups"), cutoff=0.5) if v else []
            help_, fixes = _fix_help(v, sugg, a.raw.span)
            sink.add(
                diag(
                    "HC0309" if v else "HC0308",
                    f"unknown model group `{v}`" if v else "empty model name",
                    a.raw.span,
                    "--models-to-run replaces this value",
                    help=help_,
                    fixes=fixes,
                    notes=[
                        f"HELM runs this entry on {quote_list(list(models_to_run), 4)} instead, without a word",
                        "without --models-to-run, HELM raises: no model has this name",
                    ],
                    severity=Severity.WARNING,
                )
            )
        return True
    if v in groups:
        if not groups[v]:
            sink.add(
                diag(
                    "HC0311",
                    f"model group `{v}` is empty: all its models are deprecated or unsupported",
                    a.raw.span,
                    "expands to no model",
                    notes=["HELM expands this entry to no runs without a word"],
                    severity=Severity.WARNING,
                )
            )
        return True
    if v == "":
        sink.add(diag("HC0308", "empty model name", a.raw.span, "no model here", help="name a model such as `openai/gpt2`, or a model group such as `text`", notes=[NOTE_MODELS_TO_RUN]))
        return False
    parts = v.split("/")
    model = "/".join(parts[-2:])
    if "/" not in v:
        # No model is named without an organization: this is a wildcard or a typo of one.
        sugg = closest(v, _names(catalog, "groups"), cutoff=0.5) or closest(v, _names(catalog, "all"))
        help_, fixes = _fix_help(v, sugg, a.raw.span, candidates=_names(catalog, "groups+all"))
        sink.add(
            diag(
                "HC0309",
                f"unknown model group `{v}`",
                a.raw.span,
                "no model group has this name",
                help=help_ or f"model groups are {quote_list(sorted(groups), 10)}",
                fixes=fixes,
                notes=[NOTE_MODELS_TO_RUN, "without --models-to-run, HELM raises: no model has this name"],
            )
        )
        return False
    if len(parts) > 2:
        # replace_model_in_run_spec: a name of more than two parts is a deployment
        d = catalog.get_deployment(v)
        if d is None:
            _unknown_deployment(v, a, catalog, sink, "HELM reads a `model=` value with more than two parts as a model deployment")
            return False
        if d.model_name != model and "model_deployment" not in args:
            sink.add(
                diag(
                    "HC0312",
                    f"model deployment `{v}` serves `{d.model_name}`, not `{model}`",
                    a.raw.span,
                    f"HELM takes the model name from the last two parts: `{model}`",
                    notes=["HELM raises `Invalid RunSpec` for this model and deployment pair"],
                )
            )
            return False
        _deprecated(model, a, catalog, sink)
        return True
    known = catalog.models.get(v)
    if known is None and catalog.default_deployment(v) is None:
        sugg = closest(v, _names(catalog, "all"))
        help_, fixes = _fix_help(v, sugg, a.raw.span, candidates=_names(catalog, "all"))
        notes = ["with --models-to-run, HELM would drop this entry's runs without a word"]
        if "model_deployment" not in args:
            notes.append("without it, HELM raises `Unknown model or no default model deployment found`")
        sink.add(diag("HC0308", f"unknown model `{v}`", a.raw.span, "no model or model deployment has this name", help=help_, fixes=fixes, notes=notes))
        return False
    if known is None and "model_deployment" not in args and not catalog.deployments_of(v):
        d = catalog.get_deployment(v)
        if d is None or d.origin.startswith("generator:"):
            # HELM accepts it: a deployment generator makes a deployment from the name alone and
            # the name goes to the provider's API as is. New models work this way, typos too.
            sugg = closest(v, _names(catalog, "models"))
            help_, fixes = _fix_help(v, sugg, a.raw.span, candidates=_names(catalog, "models"))
            if fixes and fixes[0].safe and _digits_apart(v, fixes[0].replacement):
                # `openai/o5` for `openai/o3`: maybe a model newer than the catalog, not a typo.
                fixes = (Fix(fixes[0].span, fixes[0].replacement, Applicability.UNSAFE),)
            sink.add(
                diag(
                    "HC0308",
                    f"unknown model `{v}`",
                    a.raw.span,
                    "HELM has no metadata or deployment for this model",
                    help=help_,
                    fixes=fixes,
                    notes=[
                        f"HELM's `{d.origin.split(':', 1)[1] if d else ''}` deployment generator makes a deployment for any such name, "
                        "so HELM sends it to the provider as is and fails only at run time if it is a typo"
                    ],
                    severity=Severity.WARNING,
                )
            )
        return True
    _deprecated(v, a, catalog, sink)
    return True


def _unknown_deployment(v: str, a: Argument, catalog: Catalog, sink: DiagnosticSink, note: str) -> None:
    sugg = closest(v, _names(catalog, "deployments"))
    help_, fixes = _fix_help(v, sugg, a.raw.span, candidates=_names(catalog, "deployments"))
    sink.add(
        diag(
            "HC0308",
            f"unknown model deployment `{v}`",
            a.raw.span,
            "no model deployment has this name",
            help=help_,
            fixes=fixes,
            notes=[note],
        )
    )


def _deprecated(model: str, a: Argument, catalog: Catalog, sink: DiagnosticSink) -> None:
    m = catalog.models.get(model)
    if m is None or not (m.deprecated or m.unsupported):
        return
    what = "deprecated" if m.deprecated else "unsupported"
    sink.add(
        diag(
            "HC0311",
            f"model `{model}` is {what} in HELM",
            a.raw.span,
            f"{what} model",
            notes=[f"HELM's model groups (`text`, `all`, ...) leave {what} models out; naming it runs it anyway"],
        )
    )


def _check_deployment(a: Argument, args: dict[str, Any], catalog: Catalog, sink: DiagnosticSink) -> bool:
    v = a.value if isinstance(a.value, str) else str(a.value)
    d = catalog.get_deployment(v)
    if d is None:
        sugg = closest(v, _names(catalog, "deployments"))
        help_, fixes = _fix_help(v, sugg, a.raw.span, candidates=_names(catalog, "deployments"))
        sink.add(diag("HC0308", f"unknown model deployment `{v}`", a.raw.span, "no model deployment has this name", help=help_, fixes=fixes, notes=["HELM raises `Model deployment ... not found`"]))
        return False
    model = args.get("model")
    if isinstance(model, str) and "/" in model and not catalog.is_wildcard(model):
        parts = model.split("/")
        mname = "/".join(parts[-2:])
        if d.model_name != mname and d.origin.startswith("generator:"):
            _unknown_deployment(
                v,
                a,
                catalog,
                sink,
                f"HELM's `{d.origin.split(':', 1)[1]}` generator would make a deployment for model `{d.model_name}`, "
                f"not `{mname}`, and HELM raises `Invalid RunSpec`",
            )
            return False
        if d.model_name != mname:
            sugg = [x.name for x in catalog.deployments_of(mname)]
            help_, fixes = _fix_help(v, sugg[-1:], a.raw.span, f" (a deployment of `{mname}`)")
            sink.add(
                diag(
                    "HC0312",
                    f"model deployment `{v}` serves `{d.model_name}`, not `{mname}`",
                    a.raw.span,
                    f"serves `{d.model_name}`",
                    help=help_,
                    fixes=fixes,
                    notes=["HELM raises `Invalid RunSpec: selected model deployment ... for a different model`"],
                )
            )
            return False
    return True


# ---------------------------------------------------------------- one entry


def check_description(
    desc: Description, catalog: Catalog, sink: DiagnosticSink, models_to_run: Sequence[str] | None = None
) -> bool:
    """Check one parsed description; True when HELM would build its run specs without raising."""
    return _check_description(desc, catalog.functions.get(desc.shape.name), desc.arg_dict(), catalog, sink, models_to_run)


def _check_description(
    desc: Description,
    fn: RunSpecFunction | None,
    args: dict[str, Any],
    catalog: Catalog,
    sink: DiagnosticSink,
    models_to_run: Sequence[str] | None,
) -> bool:
    """check_description with the function and HELM's args dict already looked up."""
    ok = True
    if fn is None:
        sugg = closest(desc.name.value, _names(catalog, "functions"))
        help_, fixes = _fix_help(desc.name.value, sugg, desc.name.span, candidates=_names(catalog, "functions"))
        sink.add(
            diag(
                "HC0301",
                f"unknown run spec function `{desc.name.value}`",
                desc.name.span,
                "no run spec function has this name",
                help=help_,
                fixes=fixes,
                notes=["HELM raises `Unknown run spec name` and stops the whole run"],
            )
        )
        ok = False
    first: dict[str, Argument] = {}
    # the value HELM keeps for each key is the last one, at the place of the first; check that argument
    last: dict[str, Argument] = {}
    for a in desc.args:
        key = a.shape.key
        last[key] = a
        if key in first:
            sink.add(
                diag(
                    "HC0304",
                    f"argument `{key}` is given twice",
                    a.key.span,
                    "given again here",
                    secondary=[Label(first[key].span, "first given here")],
                    help=f"remove one of the two `{key}=`",
                    notes=[f"HELM keeps the last value ({a.raw.value!r}) at the place of the first"],
                )
            )
        else:
            first[key] = a
    suggested: set[str] = set()
    for key, a in last.items():
        exp = catalog.expanders.get(key)
        if exp is not None:
            if fn is not None and fn.param(key) is not None:
                sink.add(
                    diag(
                        "HC0310",
                        f"`{key}` goes to the run expander `{key}`, not to `{fn.name}`'s parameter `{key}`",
                        a.key.span,
                        "taken by the run expander",
                        notes=["HELM peels run expander arguments off before calling the run spec function"],
                    )
                )
            if exp.kind == "model":
                ok = _check_model(a, args, catalog, sink, models_to_run) and ok
            elif exp.name == "model_deployment":
                ok = _check_deployment(a, args, catalog, sink) and ok
            else:
                ok = _check_expander_value(exp, a, catalog, sink, fn, last) and ok
            continue
        if fn is None:
            continue
        p = fn.param(key)
        if p is None:
            if fn.var_keyword:
                continue
            names = [q.name for q in fn.params] + list(catalog.expanders)
            sugg = closest(key, names)
            # A name the entry already gives is no fix: it would give it twice.
            help_, fixes = _fix_help(key, sugg, a.key.span, candidates=[n for n in names if n not in args])
            guess = fixes[0].replacement if fixes else None
            if guess and fn.param(guess) is not None and guess not in args:
                suggested.add(guess)  # the fix supplies it: no second diagnostic
            params = [q.name for q in fn.params]
            sink.add(
                diag(
                    "HC0302",
                    f"`{fn.name}` has no parameter `{key}`",
                    a.key.span,
                    "unknown argument",
                    help=help_,
                    fixes=fixes,
                    notes=[
                        (f"`{fn.name}` takes {quote_list(params)}" if params else f"`{fn.name}` takes no arguments")
                        + "; run expanders are "
                        + quote_list(list(catalog.expanders), 6),
                        "HELM raises a TypeError (unexpected keyword argument)",
                    ],
                )
            )
            ok = False
            continue
        _check_param_value(fn, p, a, sink)
        if not _check_stated_values(fn, p, a, sink):
            ok = False
        if _base_type(p.annotation, p) in ("int", "float") and isinstance(a.value, str):
            ok = False
    if fn is not None:
        given = {k for k in args if k not in catalog.expanders}
        missing = [p for p in fn.params if p.required and p.name not in given and p.name not in suggested]
        for p in missing:
            notes = [f"`{fn.name}` declares `{p.name}`" + (f": {p.annotation}" if p.annotation else "") + " without a default"]
            if p.name in catalog.expanders and p.name in args:
                notes.append(f"`{p.name}=` goes to the run expander of that name, not to the function")
            notes.append("HELM raises a TypeError (missing required argument)")
            sink.add(
                diag(
                    "HC0303",
                    f"`{fn.name}` needs the argument `{p.name}`",
                    desc.name.span,
                    f"`{p.name}` missing",
                    help=f"add `{p.name}=...` to the arguments",
                    notes=notes,
                )
            )
            ok = False
    return ok


@record
class ResolvedEntry:
    """An entry after resolution: what the planner consumes, so nothing is resolved twice."""

    entry: Entry
    function: RunSpecFunction | None
    args: tuple[tuple[str, Any], ...]  # HELM's args dict, in its order (a later duplicate wins in place)
    diagnostics: tuple[Diagnostic, ...]  # this entry's resolution diagnostics
    ok: bool  # HELM builds this entry's runs without raising (syntax, schema and resolution)

    @property
    def arg_dict(self) -> dict[str, Any]:
        return dict(self.args)


def resolve_entry(entry: Entry, catalog: Catalog, models_to_run: Sequence[str] | None = None,
                  *, memo: dict[tuple, tuple] | None = None) -> ResolvedEntry:
    """`memo`: _resolution_memo(catalog, models_to_run), when the caller has it."""
    desc = entry.description
    if desc is None:
        return ResolvedEntry(entry, None, (), (), False)
    lit = desc.lit
    if lit.offsets is not None:  # escapes: what it says does not move with it
        memo = None
    else:  # its characters one to one in the file: what it says moves with it
        if memo is None:
            memo = _resolution_memo(catalog, models_to_run)
        key = (desc.text, desc.ok, lit.quoted)
        hit = memo.get(key)
        if hit is not None:
            fn, args_t, found, ok = hit
            if found:
                found = _moved(found, lit.span.source, lit.span.start)
            return ResolvedEntry(entry, fn, args_t, found, ok and entry.plannable and fn is not None)
    fn = catalog.functions.get(desc.shape.name)
    args = desc.arg_dict()
    local = DiagnosticSink()
    ok = desc.ok and _check_description(desc, fn, args, catalog, local, models_to_run) and not (local.items and local.has_errors)
    args_t, found = tuple(args.items()), tuple(local.items)
    if memo is not None and all(_inside(d, lit.span) for d in found):
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        # kept placed at offset 0 of no file: a language server's memo must not keep every
        # version of a document alive through its diagnostics' spans
        memo[key] = (fn, args_t, _moved(found, _NOWHERE, -lit.span.start) if found else (), bool(ok))
    return ResolvedEntry(entry, fn, args_t, found, ok and entry.plannable and fn is not None)


# Distinct description texts remembered per catalog and --models-to-run: a language server's
# session makes a new text per keystroke, so the memo is emptied when it gets this large.
_MEMO_MAX = 1 << 17


def _resolution_memo(catalog: Catalog, models_to_run: Sequence[str] | None) -> dict[tuple, tuple]:
    """A description's resolution depends on its text, the catalog and --models-to-run only:
    one text is resolved once per process (real files repeat entries: HELM's conf files read
    together hold 4,021 texts in 6,814 entries)."""
    memos: dict[Any, dict[tuple, tuple]] = catalog._cache.setdefault("resolution", {})
    key = tuple(models_to_run) if models_to_run is not None else None
    memo = memos.get(key)
    if memo is None:
        memo = memos[key] = {}
    return memo


_NOWHERE = SourceFile("<remembered>", "")


def _spans(d: Diagnostic) -> list[Span]:
    return [d.primary.span, *(lb.span for lb in d.secondary), *(f.span for f in d.fixes)]


def _inside(d: Diagnostic, span: Span) -> bool:
    return all(s.source is span.source and span.start <= s.start <= s.end <= span.end for s in _spans(d))


def _moved(found: tuple[Diagnostic, ...], source: SourceFile, delta: int) -> tuple[Diagnostic, ...]:
    """Diagnostics of one description text, placed at another copy of it (`delta` further on,
    in `source`)."""

    def mv(s: Span) -> Span:
        return Span(source, s.start + delta, s.end + delta)

    return tuple(
        [
            Diagnostic(
                d.code, d.severity, d.message, Label(mv(d.primary.span), d.primary.message),
                tuple([Label(mv(lb.span), lb.message) for lb in d.secondary]), d.help, d.notes,
                tuple([Fix(mv(f.span), f.replacement, f.applicability) for f in d.fixes]),
            )
            for d in found
        ]
    )


def resolve_entries(
    entries: Sequence[Entry], catalog: Catalog, sink: DiagnosticSink, models_to_run: Sequence[str] | None = None
) -> list[ResolvedEntry]:
    """The resolution pass over one run set: each entry once, plus duplicate entries (HC0401)."""
    out: list[ResolvedEntry] = []
    seen: dict[tuple, Entry] = {}
    said: dict[tuple[int, str], tuple[str, tuple[Label, ...]]] = {}
    memo = _resolution_memo(catalog, models_to_run)
    for e in entries:
        r = resolve_entry(e, catalog, models_to_run, memo=memo)
        sink.extend(r.diagnostics)
        out.append(r)
        ident = _identity(e, r.args)
        if ident is None:
            continue
        if ident in seen:
            sink.add(_duplicate(seen[ident], e, said))
        else:
            seen[ident] = e
    return out


def _duplicate(prev: Entry, e: Entry, said: dict[tuple[int, str], tuple[str, tuple[Label, ...]]]) -> Diagnostic:
    """HC0401 at `e`; what it says of `prev` is made once per (first entry, file): a generated
    file repeats an entry many times."""
    key = (id(prev), e.path)  # `prev` is kept alive by the caller's `seen`
    found = said.get(key)
    if found is None:
        pl, pc = prev.span.start_line_col
        where = f"{prev.path}:{pl}:{pc}" if prev.path != e.path else f"line {pl}"
        found = said[key] = (
            f"this entry produces the same runs as the entry at {where}",
            (Label(prev.description.span if prev.description else prev.span, "first here"),),
        )
    desc = e.description
    assert desc is not None
    return Diagnostic("HC0401", _HC0401_SEVERITY, found[0], Label(desc.span, "same function, arguments and groups"),
                      found[1], "remove one of the two entries", _HC0401_NOTES)


_HC0401_SEVERITY = CODES["HC0401"].severity
_HC0401_NOTES = ("HELM runs both; the second run overwrites the first's output",)


def entry_identity(entry: Entry) -> tuple | None:
    """What makes two entries produce the same runs: the function, the args as HELM's dict holds
    them (order matters only for expanders, whose order is kept) and the groups."""
    desc = entry.description
    return None if desc is None else _identity(entry, tuple(desc.arg_dict().items()))


def _identity(entry: Entry, args: tuple[tuple[str, Any], ...]) -> tuple | None:
    """entry_identity from HELM's args, as ResolvedEntry holds them (their keys are unique)."""
    desc = entry.description
    if desc is None or not desc.ok:
        return None
    groups = entry.groups
    key = (desc.text, groups)
    found = _IDENTITIES.get(key)
    if found is None:  # `args` are the text's (resolve_entry's): one per text and groups
        found = (desc.shape.name, tuple([(k, repr(v)) for k, v in sorted(args)]),
                 tuple(sorted(groups)) if groups is not None else None)
        if len(_IDENTITIES) >= 1 << 16:
            _IDENTITIES.clear()  # bounded for the language server, as the other memos
        _IDENTITIES[key] = found
    return found


_IDENTITIES: dict[tuple[str, tuple[str, ...] | None], tuple[str, tuple[tuple[str, str], ...], tuple[str, ...] | None]] = {}


def check_entries(entries: Sequence[Entry], catalog: Catalog, sink: DiagnosticSink) -> None:
    """resolve_entries for callers that only want the diagnostics."""
    resolve_entries(entries, catalog, sink)
