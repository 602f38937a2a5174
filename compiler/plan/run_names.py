"""HELM's run names (output folder names), predicted from the catalog without running HELM.

A RunSpec's name is built in four steps, each recorded in the catalog from HELM's source:
1. the run spec function's `RunSpec(name=...)`: `RunSpecFunction.run_name`, a small
   expression tree over its arguments (eval_name_expr; None when the function computes the
   name in ways catalog_build does not read);
2. each run expander of the entry, in the entry's order with `model=all` appended when absent,
   appends `,key=value` (or `:key=value` to a name without `:`), or leaves the name alone:
   `Expander.run_name`;
3. construct_run_specs' alter_run_spec applies expanders chosen by the model's tags
   (`stop=hash` for NO_NEWLINES_TAG models that generate, `global_prefix=nlg`, ...):
   `Catalog.alter_steps`;
4. run_entries_to_run_specs appends `,groups=a-b` (the entry's groups, sorted) when the entry
   has groups; RunSpec.__post_init__ turns every `/` into `_` each time a RunSpec is made.

Every function here answers None where one step is not statically exact (a name template that
is not known, an expander whose effect is not read, a condition on the adapter method or on
adapter settings that helmc does not compute): a wrong name is worse than none.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Sequence

from ..catalog.catalog import Catalog, Expander

__all__ = ["run_name", "spec_run_names", "base_name", "adapter_method", "adapter_field", "eval_name_expr", "function_facts"]


class _Unknown(Exception):
    """The expression cannot be evaluated exactly here (or HELM itself would fail on it)."""


def eval_name_expr(e: Any, values: Mapping[str, Any], kwargs: Mapping[str, Any], env: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a catalog name expression (catalog_build._NameExpr) with Python's semantics;
    raises _Unknown where Python would raise (HELM then fails: no name) or a form is unknown.
    `env` binds comprehension variables; `os.environ` is read as HELM reads it at run time,
    i.e. helmc assumes helm-run sees the environment helmc sees."""
    env = env or {}
    if not isinstance(e, dict) or len(e) != 1:
        raise _Unknown
    (op, x), = e.items()
    ev = lambda y: eval_name_expr(y, values, kwargs, env)  # noqa: E731
    try:
        if op == "const":
            return x
        if op == "arg":
            if x not in values:
                raise _Unknown
            return values[x]
        if op == "var":
            return env[x]
        if op == "fmt":
            return "".join(format(ev(p), "") for p in x)
        if op == "add":
            return ev(x[0]) + ev(x[1])
        if op == "if":
            return ev(x[1]) if ev(x[0]) else ev(x[2])
        if op == "eq":
            return ev(x[0]) == ev(x[1])
        if op == "ne":
            return ev(x[0]) != ev(x[1])
        if op == "in":
            return ev(x[0]) in x[1]
        if op == "not_in":
            return ev(x[0]) not in x[1]
        if op in ("and", "or"):
            out: Any = None
            for p in x:
                out = ev(p)
                if bool(out) == (op == "or"):
                    return out
            return out
        if op == "not":
            return not ev(x)
        if op in ("lower", "upper"):
            v = ev(x)
            if not isinstance(v, str):
                raise _Unknown
            return v.lower() if op == "lower" else v.upper()
        if op == "str":
            return str(ev(x))
        if op == "env":
            return os.environ.get(*x)
        if op == "join":
            sep, items = ev(x[0]), ev(x[1])
            if not isinstance(sep, str) or not all(isinstance(i, str) for i in items):
                raise _Unknown
            return sep.join(items)
        if op == "kwargs":
            out_items = []
            for k, v in kwargs.items():
                inner = {**env, "key": k, "value": v}
                if all(eval_name_expr(c, values, kwargs, inner) for c in x["if"]):
                    out_items.append(eval_name_expr(x["elt"], values, kwargs, inner))
            return out_items
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise _Unknown from exc
    raise _Unknown


def base_name(catalog: Catalog, function: str, args: Mapping[str, Any]) -> str | None:
    """Step 1: the name the run spec function gives its RunSpec for these function arguments
    (expanders already peeled off), or None."""
    return function_facts(catalog, function, args)[0]


def adapter_method(catalog: Catalog, function: str, args: Mapping[str, Any]) -> str | None:
    """The adapter method of the AdapterSpec the run spec function builds for these function
    arguments (`generation`, `multiple_choice_joint`, ...), or None where not known statically.
    Run expanders never change it."""
    return function_facts(catalog, function, args)[1]


def adapter_field(catalog: Catalog, function: str, args: Mapping[str, Any], field: str) -> str | None:
    """`model` or `model_deployment` of the AdapterSpec the function builds, before any
    expander ("" when the function leaves it at its default), or None where not known."""
    return function_facts(catalog, function, args)[2 if field == "model" else 3]


# The function's expressions that function_facts evaluates, in the order of its answer.
_FACTS = ("run_name", "adapter_method", "adapter_model", "adapter_model_deployment")
_Facts = tuple[str | None, str | None, str | None, str | None]


def function_facts(catalog: Catalog, function: str, args: Mapping[str, Any]) -> _Facts:
    """(run name, adapter method, adapter model, adapter deployment) of what the run spec
    function builds for these function arguments, each None where not known here: the
    _eval_fn_expr of each of its expressions, memoized per (function, arguments), since a
    conf file repeats a function with the same arguments over many entries and models, and
    the planner asks for all four. The key holds each value's type, since 1, 1.0 and True are
    equal keys but are written differently in a name. An expression that reads the
    environment (an `env` op reads os.environ at each call) is evaluated each time."""
    fn = catalog.functions.get(function)
    if fn is None:
        return (None, None, None, None)
    env_read: dict[str, tuple[bool, ...]] = catalog._cache.setdefault("fn_expr_reads_env", {})
    reads_env = env_read.get(function)
    if reads_env is None:
        reads_env = env_read[function] = tuple('"env"' in json.dumps(getattr(fn, f), default=str) for f in _FACTS)
    memo: dict[tuple, _Facts] = catalog._cache.setdefault("fn_expr", {})
    key = (function, tuple([(k, type(v), v) for k, v in args.items()]))
    try:
        facts = memo.get(key)
    except TypeError:  # a value that cannot be hashed: no memo
        facts, key = None, None
    if facts is None:
        facts = tuple(_eval_fn_expr(fn, getattr(fn, f), args) for f in _FACTS)  # type: ignore[assignment]
        if key is not None:
            memo[key] = facts  # type: ignore[assignment]
    if any(reads_env):
        facts = tuple(_eval_fn_expr(fn, getattr(fn, f), args) if env else v  # type: ignore[assignment]
                      for f, env, v in zip(_FACTS, reads_env, facts))
    return facts  # type: ignore[return-value]


def _eval_fn_expr(fn: Any, expr: Any, args: Mapping[str, Any]) -> str | None:
    if fn is None or expr is None:
        return None
    params = {p.name: p for p in fn.params}
    values: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}
    for k, v in args.items():
        if k in params:
            values[k] = v
        elif fn.var_keyword:
            kwargs[k] = v
        else:
            return None  # HELM raises a TypeError: no run, no name
    for p in fn.params:
        if p.name in values:
            continue
        if p.required:
            return None  # HELM raises a TypeError
        if not p.has_default_value:
            return None  # a default that is not a literal: its text is not known here
        values[p.name] = p.default_value
    try:
        out = eval_name_expr(expr, values, kwargs)
    except _Unknown:
        return None
    # RunSpec(name=<not a str>) fails in RunSpec.__post_init__
    return out if isinstance(out, str) else None


def model_table(catalog: Catalog, value: Any) -> list[tuple[str, str, bool]]:
    """The models `model=value` expands to, each as (its name, its last two parts, whether it
    has three or more parts: then it names the deployment too); memoized per value."""
    memo: dict[tuple[type, Any], list[tuple[str, str, bool]]] = catalog._cache.setdefault("model_values", {})
    key = (type(value), value)
    found = memo.get(key)
    if found is None:
        found = memo[key] = []
        for v in catalog.expand_model_value(value):
            text = str(v)
            parts = text.split("/")
            found.append((text, "/".join(parts[-2:]), len(parts) > 2))
    return found


def _append(name: str, effect: Mapping[str, Any], text: str) -> str:
    sep = "," if effect["sep"] == "comma" or ":" in name else ":"
    return f"{name}{sep}{effect['key']}={text}"


def _last_two(model: str) -> str:
    return "/".join(model.split("/")[-2:])


def _alter(catalog: Catalog, name: str, model: str, method: str | None) -> str | None:
    """Step 3 for the run's model (its metadata's tags; unknown metadata gets HELM's defaults)
    and adapter method (None: not known)."""
    effects = _alter_effects(catalog, model, method)
    if effects is None:
        return None
    for effect, value in effects:
        name = _append(name, effect, value)
    return name


def _alter_effects(catalog: Catalog, model: str, method: str | None) -> tuple[tuple[Mapping[str, Any], str], ...] | None:
    """What step 3 appends to the name of a run of `model` (the same for every run of the
    model: a plan asks once per run, a model wildcard has hundreds); None when not known."""
    memo: dict[tuple[str, str | None], Any] = catalog._cache.setdefault("alter_effects", {})
    key = (model, method)
    if key in memo:
        return memo[key]
    meta = catalog.models.get(model)
    tags = set(meta.tags) if meta is not None else set(catalog.unknown_model_tags)
    out: list[tuple[Mapping[str, Any], str]] | None = []
    for step in catalog.alter_steps:
        effect = step.get("run_name")
        if effect is not None and effect.get("keep"):
            continue
        if not all(t in tags for t in step.get("tags") or ()):
            continue
        if step.get("model") is not None and step["model"] != model:
            continue
        if step.get("method_in") is not None:
            if method is None:
                out = None  # it may change the name, on the method helmc does not know
                break
            if method not in step["method_in"]:
                continue
        if effect is None or step.get("other"):
            out = None  # it may change the name, on a condition helmc does not evaluate
            break
        out.append((effect, str(step.get("value"))))
    memo[key] = None if out is None else tuple(out)
    return memo[key]


def _finish(catalog: Catalog, name: str | None, model: str, groups: Sequence[str] | None, method: str | None) -> str | None:
    if name is None:
        return None
    name = _alter(catalog, name, model, method)
    if name is None:
        return None
    if groups:  # run_entries_to_run_specs; an empty list adds nothing
        name += f",groups={'-'.join(sorted(groups))}"
    return name.replace(os.path.sep, "_")


def _effect(exp: Expander | None) -> Mapping[str, Any] | None:
    if exp is None or exp.run_name is None:
        return None
    return exp.run_name


def run_name(
    catalog: Catalog,
    function: str,
    args: Mapping[str, Any],
    expanders: Mapping[str, Any],
    model: str,
    model_deployment: str | None = None,
    groups: Sequence[str] | None = None,
) -> str | None:
    """HELM's run name for one planned run: `args` are the function arguments, `expanders` the
    expander values of this run in HELM's order (as PlannedRun.expanders holds them: the value
    each run takes for value sets and model groups, the given value otherwise, `model` last
    when the entry had none), `groups` the entry's groups. None where it is not exact, and for a
    data augmentation that makes several runs (which run this is is not in these arguments:
    use spec_run_names)."""
    del model_deployment  # the name spells the model; the deployment never enters it
    name = base_name(catalog, function, args)
    if name is None:
        return None
    for key, value in expanders.items():
        exp = catalog.expanders.get(key)
        effect = _effect(exp)
        if effect is None or exp is None:
            return None
        if effect.get("keep"):
            continue
        kind = effect["value"]
        if kind in ("each", "given"):
            text = str(value)
        elif kind == "model":
            text = _last_two(str(value))
        elif kind == "choice_key":
            keys = exp.runs_per_choice.get(value) if isinstance(value, str) else None
            if not keys or len(keys) != 1 or keys[0] is None:
                return None
            text = str(keys[0])
        else:
            return None
        name = _append(name, effect, text)
    return _finish(catalog, name, model, groups, adapter_method(catalog, function, args))


def spec_run_names(
    catalog: Catalog,
    function: str,
    args: Iterable[tuple[str, Any]],
    groups: Sequence[str] | None = None,
    *,
    facts: _Facts | None = None,
) -> list[str | None] | None:
    """The names of every RunSpec construct_run_specs builds for one ObjectSpec (`args` in the
    description's order, expanders included, after --models-to-run rewriting), in HELM's order,
    before run_entries_to_run_specs' filters; None when even the number of runs is not known
    here (an expander whose values helmc does not know). A name is None where not exact.
    `facts`: function_facts of the function arguments, when the caller has them."""
    pairs = list(args)
    exps = [(k, v) for k, v in pairs if k in catalog.expanders]
    if facts is None:
        facts = function_facts(catalog, function, {k: v for k, v in pairs if k not in catalog.expanders})
    if not any(k == "model" for k, _ in exps):
        exps.append(("model", "all"))
    base, method = facts[0], facts[1]
    # (name so far or None, model, deployment)
    states: list[tuple[str | None, str, str]] = [(base, "", "")]
    for key, value in exps:
        exp = catalog.expanders[key]
        effect = _effect(exp)
        nxt: list[tuple[str | None, str, str]] = []
        if exp.kind == "model":
            # A model group gives hundreds of runs: the step below for it, each name's head
            # (`name,model=`) made once per state, the members' names split once per group.
            table = model_table(catalog, value)
            keep = effect is not None and bool(effect.get("keep"))
            for name, _, dep in states:
                if name is None or effect is None or keep:
                    nxt.extend([(name if keep else None, two, s if three else dep) for s, two, three in table])
                    continue
                head = f"{name}{',' if effect['sep'] == 'comma' or ':' in name else ':'}{effect['key']}="
                kind = effect["value"]
                if kind == "given":
                    given = head + str(value)
                    nxt.extend([(given, two, s if three else dep) for s, two, three in table])
                elif kind == "model":
                    nxt.extend([(head + two, two, s if three else dep) for s, two, three in table])
                else:
                    nxt.extend([(head + s, two, s if three else dep) for s, two, three in table])
            states = nxt
            continue
        for name, model, dep in states:
            if exp.kind == "model":
                values = catalog.expand_model_value(value)
            elif exp.kind == "choices" and exp.runs_per_choice:
                if value not in exp.runs_per_choice:
                    return None  # HELM raises
                values = list(exp.runs_per_choice[value])
            elif exp.kind == "choices" and value not in exp.choices:
                return None  # HELM raises
            else:
                values = exp.values_for(value, deployment=dep)
            for v in values:
                n_model, n_dep = model, dep
                if exp.kind == "model":
                    text_v = str(v)
                    parts = text_v.split("/")
                    n_model = "/".join(parts[-2:])  # _last_two
                    if len(parts) > 2:
                        n_dep = text_v
                elif key == "model_deployment":
                    n_dep = str(v)
                n_name = name
                if n_name is not None:
                    if effect is None:
                        n_name = None
                    elif not effect.get("keep"):
                        kind = effect["value"]
                        if kind == "given":
                            text: str | None = str(value)
                        elif kind == "model":
                            text = n_model if exp.kind == "model" else _last_two(str(v))
                        elif v is None:
                            text = None  # a choice key helmc could not read
                        else:
                            text = str(v)
                        n_name = None if text is None else _append(n_name, effect, text)
                nxt.append((n_name, n_model, n_dep))
        states = nxt
    # _finish for every run, its step 3 asked once per model: what _alter appends depends on the
    # name only through whether it holds a `:` (_append's separator), so the suffix is memoized
    # by (model, method, that). A model wildcard gives hundreds of runs an entry.
    memo: dict[tuple[str, str | None, bool], str | None] = catalog._cache.setdefault("alter_suffix", {})
    tail = f",groups={'-'.join(sorted(groups))}" if groups else ""
    out: list[str | None] = []
    for name, model, _ in states:
        if name is None:
            out.append(None)
            continue
        key = (model, method, ":" in name)
        if key in memo:
            suffix = memo[key]
        else:
            altered = _alter(catalog, name, model, method)
            suffix = memo[key] = None if altered is None else altered[len(name):]
        out.append(None if suffix is None else (name + suffix + tail).replace(os.path.sep, "_"))
    return out
