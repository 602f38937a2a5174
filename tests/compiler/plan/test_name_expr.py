"""Name expressions (the catalog's run names, adapter methods and models of run spec functions)
are compiled to closures once and run many times. They must mean what a plain walk of the
expression tree means, the specification written out below: every catalog expression over
any arguments, and any tree at all, malformed ones included."""

from __future__ import annotations

import os
from typing import Any, Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.plan.run_names import _FACTS, _Unknown, eval_name_expr

_CATALOG = load_catalog()


def walk(e: Any, values: Mapping[str, Any], kwargs: Mapping[str, Any], env: Mapping[str, Any] | None = None) -> Any:
    """The specification: Python's semantics, evaluated node by node."""
    env = env or {}
    if not isinstance(e, dict) or len(e) != 1:
        raise _Unknown
    (op, x), = e.items()
    ev = lambda y: walk(y, values, kwargs, env)  # noqa: E731
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
                if all(walk(c, values, kwargs, inner) for c in x["if"]):
                    out_items.append(walk(x["elt"], values, kwargs, inner))
            return out_items
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise _Unknown from exc
    raise _Unknown


def outcome(f, *args) -> tuple:
    try:
        return ("value", f(*args))
    except _Unknown:
        return ("unknown",)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                     st.sampled_from(["", "x", "Yes", "a/b", "all", "1", "generation", "multiple_choice_joint"]))
_VALUES = st.one_of(_SCALARS, st.lists(st.sampled_from(["a", "b", ""]), max_size=3), st.lists(_SCALARS, max_size=2))
_NAMES = st.sampled_from(["subject", "method", "model", "n", "key", "value", "missing"])
_OPS = ["const", "arg", "var", "fmt", "add", "if", "eq", "ne", "in", "not_in", "and", "or", "not", "lower", "upper",
        "str", "env", "join", "kwargs", "nonsense"]

_LEAVES = st.one_of(
    st.builds(lambda v: {"const": v}, _VALUES),
    st.builds(lambda n: {"arg": n}, _NAMES),
    st.builds(lambda n: {"var": n}, st.sampled_from(["key", "value", "other"])),
    st.builds(lambda a: {"env": a}, st.sampled_from([["HELMC_TEST_UNSET"], ["HELMC_TEST_UNSET", "dflt"], ["PATH"], [], 3])),
    _VALUES,  # not an expression at all
    st.just({}), st.just({"const": 1, "arg": "n"}),  # not one operator
)


def _node(children):
    arg = st.one_of(children, _VALUES, st.lists(children, max_size=4), st.dictionaries(st.sampled_from(["if", "elt", 0]), children, max_size=2))
    pair = st.lists(children, min_size=0, max_size=4)  # right-sized or not
    return st.one_of(
        st.builds(lambda op, x: {op: x}, st.sampled_from(["fmt", "and", "or"]), st.lists(children, max_size=4)),
        st.builds(lambda op, x: {op: x}, st.sampled_from(["add", "if", "eq", "ne", "join"]), pair),
        st.builds(lambda op, a, c: {op: [a, c]}, st.sampled_from(["in", "not_in"]), children,
                  st.one_of(st.lists(_SCALARS, max_size=3), st.just("abc"), st.just(3))),
        st.builds(lambda op, x: {op: x}, st.sampled_from(["not", "lower", "upper", "str"]), children),
        st.builds(lambda conds, elt: {"kwargs": {"if": conds, "elt": elt}}, st.lists(children, max_size=2), children),
        st.builds(lambda op, x: {op: x}, st.sampled_from(_OPS), arg),  # any operator, any operand
    )


_EXPRS = st.recursive(_LEAVES, _node, max_leaves=12)
_BOUND = st.tuples(st.dictionaries(_NAMES, _VALUES, max_size=4), st.dictionaries(st.sampled_from(["k1", "k2", "max"]), _VALUES, max_size=3))


@settings(max_examples=1500, deadline=None)
@given(_EXPRS, _BOUND, st.dictionaries(st.sampled_from(["key", "value"]), _VALUES, max_size=2))
def test_any_expression_means_what_its_walk_means(e, bound, env):
    values, kwargs = bound
    assert outcome(eval_name_expr, e, values, kwargs, env) == outcome(walk, e, values, kwargs, env)


def _catalog_expressions() -> list[tuple[str, str, Any]]:
    out = []
    for name, fn in sorted(_CATALOG.functions.items()):
        for f in _FACTS:
            expr = getattr(fn, f)
            if expr is not None:
                out.append((name, f, expr))
    return out


_CATALOG_EXPRS = _catalog_expressions()


def test_the_catalog_has_expressions_to_check():
    assert len(_CATALOG_EXPRS) > 100  # every run spec function's name, at least


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_CATALOG_EXPRS), st.data())
def test_every_catalog_expression_means_what_its_walk_means(item, data):
    """Over its function's own parameters, defaults and values like the conf files' (and
    **kwargs where the function takes them)."""
    function, _, expr = item
    fn = _CATALOG.functions[function]
    values = {}
    for p in fn.params:
        if data.draw(st.booleans()):
            values[p.name] = data.draw(_VALUES)
        elif p.has_default_value:
            values[p.name] = p.default_value
    kwargs = data.draw(st.dictionaries(st.sampled_from(["k1", "k2", "max"]), _VALUES, max_size=3)) if fn.var_keyword else {}
    assert outcome(eval_name_expr, expr, values, kwargs) == outcome(walk, expr, values, kwargs)
