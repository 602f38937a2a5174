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
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..catalog.catalog import Catalog, Expander

__all__ = ["run_name", "spec_run_names", "base_name", "adapter_method", "adapter_field", "eval_name_expr", "function_facts"]


class _Unknown(Exception):
    """The expression cannot be evaluated exactly here (or HELM itself would fail on it)."""


def eval_name_expr(e: Any, values: Mapping[str, Any], kwargs: Mapping[str, Any], env: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a catalog name expression (catalog_build._NameExpr) with Python's semantics;
    raises _Unknown where Python would raise (HELM then fails: no name) or a form is unknown.
    `env` binds comprehension variables; `os.environ` is read as HELM reads it at run time,
    i.e. helmc assumes helm-run sees the environment helmc sees."""
    try:
        return _compiled(e)(values, kwargs, env or {})
    except _RAISED as exc:
        raise _Unknown from exc


# What Python raises where an expression meets a value it cannot take (a missing argument,
# `+` of a str and an int, ...): _Unknown, as HELM would fail there too. Anything else is a bug.
_RAISED = (TypeError, ValueError, KeyError, IndexError, AttributeError)

_Code = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], Any]
# Each expression object's code, made once (and the expression, so that its id is not reused):
# a conf file asks for the same few functions' names and adapter methods thousands of times.
_CODE: dict[int, tuple[Any, _Code]] = {}


def _compiled(e: Any) -> _Code:
    found = _CODE.get(id(e))
    if found is not None and found[0] is e:
        return found[1]
    if len(_CODE) >= 1 << 14:
        _CODE.clear()  # bounded: a language server may load many catalogs
    code = _compile(e)
    _CODE[id(e)] = (e, code)
    return code


def _unknown(values: Mapping[str, Any], kwargs: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
    raise _Unknown


def _part(x: Any, i: Any) -> _Code:
    """The code of x[i], or code that raises when run where x has no such part: a malformed
    branch fails only when it is taken, as it would when walked."""
    try:
        return _compile(x[i])
    except _RAISED:
        return _unknown


def _compile(e: Any) -> _Code:
    """A name expression as nested closures: each call runs the expression once without
    looking its operators up again. Python's semantics as eval_name_expr states them."""
    if not isinstance(e, dict) or len(e) != 1:
        return _unknown
    (op, x), = e.items()
    if op == "const":
        return lambda v, k, env: x
    if op == "arg":
        def arg(v: Mapping[str, Any], k: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
            if x not in v:
                raise _Unknown
            return v[x]
        return arg
    if op == "var":
        return lambda v, k, env: env[x]
    if op == "fmt":
        try:
            parts = [_compile(p) for p in x]
        except TypeError:
            return _unknown
        return lambda v, k, env: "".join([format(p(v, k, env), "") for p in parts])
    if op in ("add", "eq", "ne"):
        a, b = _part(x, 0), _part(x, 1)
        if op == "add":
            return lambda v, k, env: a(v, k, env) + b(v, k, env)
        if op == "eq":
            return lambda v, k, env: a(v, k, env) == b(v, k, env)
        return lambda v, k, env: a(v, k, env) != b(v, k, env)
    if op == "if":
        cond, yes, no = _part(x, 0), _part(x, 1), _part(x, 2)
        return lambda v, k, env: yes(v, k, env) if cond(v, k, env) else no(v, k, env)
    if op in ("in", "not_in"):
        a = _part(x, 0)
        try:
            container = x[1]
        except _RAISED:
            return _unknown
        if op == "in":
            return lambda v, k, env: a(v, k, env) in container
        return lambda v, k, env: a(v, k, env) not in container
    if op in ("and", "or"):
        try:
            parts = [_compile(p) for p in x]
        except TypeError:
            return _unknown
        stop = op == "or"

        def either(v: Mapping[str, Any], k: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
            out: Any = None
            for p in parts:
                out = p(v, k, env)
                if bool(out) == stop:
                    return out
            return out
        return either
    if op == "not":
        a = _compile(x)
        return lambda v, k, env: not a(v, k, env)
    if op in ("lower", "upper"):
        a = _compile(x)
        lower = op == "lower"

        def case(v: Mapping[str, Any], k: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
            s = a(v, k, env)
            if not isinstance(s, str):
                raise _Unknown
            return s.lower() if lower else s.upper()
        return case
    if op == "str":
        a = _compile(x)
        return lambda v, k, env: str(a(v, k, env))
    if op == "env":
        return lambda v, k, env: os.environ.get(*x)  # read at each call, as HELM reads it
    if op == "join":
        sep, items = _part(x, 0), _part(x, 1)

        def join(v: Mapping[str, Any], k: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
            s, got = sep(v, k, env), items(v, k, env)
            if not isinstance(s, str) or not all(isinstance(i, str) for i in got):
                raise _Unknown
            return s.join(got)
        return join
    if op == "kwargs":
        # Its parts are looked at only for a keyword argument that is there (and the element
        # only where the conditions hold): without one, even a malformed comprehension is [].
        try:
            conds: list[_Code] | None = [_compile(c) for c in x["if"]]
        except _RAISED:
            conds = None
        elt = _part(x, "elt")

        def comprehension(v: Mapping[str, Any], k: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
            out = []
            for key, value in k.items():
                if conds is None:
                    raise _Unknown
                inner = {**env, "key": key, "value": value}
                if all(c(v, k, inner) for c in conds):
                    out.append(elt(v, k, inner))
            return out
        return comprehension
    return _unknown


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
        bound = _bind(fn, args)
        facts = tuple(_eval_bound(getattr(fn, f), bound) for f in _FACTS)  # type: ignore[assignment]
        if key is not None:
            memo[key] = facts  # type: ignore[assignment]
    if any(reads_env):
        bound = _bind(fn, args)
        facts = tuple(_eval_bound(getattr(fn, f), bound) if env else v  # type: ignore[assignment]
                      for f, env, v in zip(_FACTS, reads_env, facts))
    return facts  # type: ignore[return-value]


def _eval_fn_expr(fn: Any, expr: Any, args: Mapping[str, Any]) -> str | None:
    """One expression of the run spec function `fn` over these function arguments: a str, or
    None where it is not known or HELM would fail."""
    if fn is None:
        return None
    return _eval_bound(expr, _bind(fn, args))


def _bind(fn: Any, args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The function's parameters and **kwargs as a call with these arguments binds them, the
    defaults filled in; None where HELM raises (a TypeError) or a default is not a literal."""
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
    return values, kwargs


def _eval_bound(expr: Any, bound: tuple[dict[str, Any], dict[str, Any]] | None) -> str | None:
    if expr is None or bound is None:
        return None
    try:
        out = eval_name_expr(expr, *bound)
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
    tail = f",groups={'-'.join(sorted(groups))}" if groups else ""
    for step, (key, value) in enumerate(exps):
        exp = catalog.expanders[key]
        effect = _effect(exp)
        nxt: list[tuple[str | None, str, str]] = []
        if exp.kind == "model":
            # A model group gives hundreds of runs: the step below for it, each name's head
            # (`name,model=`) made once per state, the members' names split once per group.
            table = model_table(catalog, value)
            if step == len(exps) - 1:  # the last step, as most entries have it: the names at once
                return _group_names(catalog, states, table, value, effect, method, tail)
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
    out: list[str | None] = []
    for name, model, _ in states:
        if name is None:
            out.append(None)
            continue
        suffix = _alter_suffix(catalog, name, model, method)
        out.append(None if suffix is None else (name + suffix + tail).replace(os.path.sep, "_"))
    return out


def _alter_suffix(catalog: Catalog, name: str, model: str, method: str | None) -> str | None:
    """What step 3 appends to `name`: it depends on the name only through whether it holds a
    `:` (_append's separator), so it is memoized by (model, method, that)."""
    memo: dict[tuple[str, str | None, bool], str | None] = catalog._cache.setdefault("alter_suffix", {})
    key = (model, method, ":" in name)
    if key in memo:
        return memo[key]
    altered = _alter(catalog, name, model, method)
    suffix = memo[key] = None if altered is None else altered[len(name):]
    return suffix


def _group_names(catalog: Catalog, states: list[tuple[str | None, str, str]], table: list[tuple[str, str, bool]],
                 value: Any, effect: Mapping[str, Any] | None, method: str | None, tail: str) -> list[str | None]:
    """spec_run_names' last two steps where the last expander is a model group: each state's
    runs, one per member, named without a state per run. What a member adds after the head
    (`name,model=`) is the same for every head with or without a `:` (step 3's separator),
    so it is made once per group, kind and method, `/` already turned into `_` (the turn is
    per character: a head's and a member's parts turn as their joined name would)."""
    sep = os.path.sep
    memo: dict[tuple, list[str | None]] = catalog._cache.setdefault("group_name_tails", {})
    keep = effect is not None and bool(effect.get("keep"))
    tail = tail.replace(sep, "_")
    out: list[str | None] = []
    for name, _, _ in states:
        if name is None or effect is None:
            out.extend([None] * len(table))
            continue
        if keep:
            head, kind = name, "keep"
        else:
            head = f"{name}{',' if effect['sep'] == 'comma' or ':' in name else ':'}{effect['key']}="
            kind = effect["value"] if effect["value"] in ("given", "model") else "each"
        key = ((type(value), value), kind, method, ":" in head)
        tails = memo.get(key)
        if tails is None:
            tails = memo[key] = []
            for s, two, _ in table:
                text = "" if kind == "keep" else str(value) if kind == "given" else two if kind == "model" else s
                suffix = _alter_suffix(catalog, head + text, two, method)
                tails.append(None if suffix is None else (text + suffix).replace(sep, "_"))
        start = head.replace(sep, "_")
        out.extend([None if t is None else start + t + tail for t in tails])
    return out
