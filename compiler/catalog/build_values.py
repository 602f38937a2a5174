"""The values a run spec function's argument accepts, where HELM's own files state them.

Read statically, as the rest of `helmc catalog build`, from two places:

- **the scenario's own check.** The function passes its parameter into the ScenarioSpec's args
  (`ScenarioSpec(class_name="helm....GPQAScenario", args={"subset": subset})`), and the
  scenario's `__init__` checks it against a constant of its module: `assert subset in SUBSETS`,
  `if subset not in SUBSETS: raise ...` (a list, tuple, set, or the keys of a dict). HELM raises
  there when the run starts, after every run before it; helm-check can say so before.
- **HELM's schema files** (`helm/benchmark/static/schema_*.yaml`): the run groups named
  `FUNCTION_VALUE` (`mmlu_anatomy`, ...), for a function with a single required parameter, as
  HELM's leaderboards name one run group per value (MMLU's 57 subjects). Groups that belong to
  another function whose name extends this one's (`mmlu_pro`, `mmlu_clinical_afr_...`) are not
  values. The scenario itself checks nothing there: a value outside the set fails at run time,
  when HELM looks for its data, so this source is a warning's, not an error's.

Each set records where it was read (`values_source`, `values_how`), so a diagnostic can say so.
"""

from __future__ import annotations

import ast
from typing import Any

SCENARIO_CHECK = "scenario-check"
SCHEMA_GROUPS = "schema-run-groups"


def add_argument_values(functions: list[dict[str, Any]], mods: Any) -> None:
    """Annotate each function's params (in place) with `values`, `values_source`, `values_how`."""
    names = {f["name"] for f in functions}
    groups = _schema_run_groups(mods)
    for f in functions:
        by_param = _scenario_checks(f, mods)
        for p in f["params"]:
            found = by_param.get(p["name"])
            if found is None:
                found = _schema_values(f, p, groups, names)
            if found is not None:
                p["values"], p["values_source"], p["values_how"] = found


# ---------------------------------------------------------------- the scenario's own check


def _scenario_checks(f: dict[str, Any], mods: Any) -> dict[str, tuple[list[str], str, str]]:
    rel = f["module"].replace(".", "/") + ".py"
    if not mods.src.exists(rel):
        return {}
    _, tree = mods.get(rel)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f["function"]), None)
    if fn is None:
        return {}
    params = {p["name"] for p in f["params"]} - _assigned(fn)  # a value rewritten first (`"gpqa_" + subset`) is no longer the user's
    out: dict[str, tuple[list[str], str, str]] = {}
    for call in ast.walk(fn):
        if not (isinstance(call, ast.Call) and _callee(call) == "ScenarioSpec"):
            continue
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        cls_name, args = kw.get("class_name"), kw.get("args")
        if not (isinstance(cls_name, ast.Constant) and isinstance(cls_name.value, str) and isinstance(args, ast.Dict)):
            continue
        # scenario argument -> the function parameter passed to it unchanged
        passed = {k.value: v.id for k, v in zip(args.keys, args.values)
                  if isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Name) and v.id in params}
        for arg, (values, source) in _init_checks(cls_name.value, mods).items():
            if arg in passed:
                out[passed[arg]] = (values, source, SCENARIO_CHECK)
    return out


def _callee(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _init_checks(class_path: str, mods: Any) -> dict[str, tuple[list[str], str]]:
    """__init__ parameter -> (the values its membership check allows, "path:line")."""
    module, _, cls_name = class_path.rpartition(".")
    rel = module.replace(".", "/") + ".py"
    if not module.startswith("helm.") or not mods.src.exists(rel):
        return {}
    _, tree = mods.get(rel)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name), None)
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None) if cls else None
    if init is None:
        return {}
    # a parameter rewritten before its check (`language = language.lower()`) is checked as
    # rewritten, not as given; `self.x` is the given value only where `self.x = x`
    params = {a.arg for a in init.args.args + init.args.kwonlyargs} - {"self"} - _assigned(init)
    copied = {t.attr for s in ast.walk(init) if isinstance(s, ast.Assign) and isinstance(s.value, ast.Name)
              for t in s.targets if isinstance(t, ast.Attribute) and t.attr == s.value.id}
    out: dict[str, tuple[list[str], str]] = {}
    for node in ast.walk(init):
        test = node.test if isinstance(node, ast.Assert) else None
        if isinstance(node, ast.If) and _raises(node.body):
            test = node.test
        checked = _membership(test, isinstance(node, ast.If))
        if checked is None:
            continue
        name, container, on_self = checked
        if name not in params or name in out or (on_self and name not in copied):
            continue
        values = _values(container, rel, mods, cls)
        if values:
            out[name] = (values, f"{rel}:{node.lineno}")
    return out


def _raises(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Raise) for s in body)


def _assigned(fn: ast.FunctionDef) -> set[str]:
    """Names the function assigns to (plain, augmented or annotated assignments)."""
    out: set[str] = set()
    for s in ast.walk(fn):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            out |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out


def _membership(test: ast.expr | None, negated: bool) -> tuple[str, ast.expr, bool] | None:
    """`X in C` (an assert) or `X not in C` (an `if` that raises), X a name or `self.name`."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    op = test.ops[0]
    if not isinstance(op, ast.NotIn if negated else ast.In):
        return None
    left = test.left
    name = left.id if isinstance(left, ast.Name) else (
        left.attr if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.value.id == "self"
        else None)
    return (name, test.comparators[0], isinstance(left, ast.Attribute)) if name else None


def _values(e: ast.expr, rel: str, mods: Any, cls: ast.ClassDef | None) -> list[str] | None:
    """The strings a container constant holds: a literal, a module constant, a class attribute
    (`Cls.NAME`, `self.NAME`), or `.keys()` of one; a dict gives its keys."""
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "keys" and not e.args:
        e = e.func.value
    value: Any = None
    if isinstance(e, ast.Name):
        ok, value = mods.constant(rel, e.id)
        if not ok:
            return None
    elif isinstance(e, ast.Attribute) and cls is not None and isinstance(e.value, ast.Name) \
            and e.value.id in ("self", cls.name):
        node = next((s.value for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None
                     and any(isinstance(t, ast.Name) and t.id == e.attr
                             for t in (s.targets if isinstance(s, ast.Assign) else [s.target]))), None)
        value = _literal(node)
    else:
        value = _literal(e)
    if isinstance(value, dict):
        value = list(value)
    elif isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)  # a set has no order of its own (string hashing varies by run)
    if isinstance(value, (list, tuple, set, frozenset)) and value and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(value))
    return None


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


# ---------------------------------------------------------------- HELM's schema files


def _schema_run_groups(mods: Any) -> dict[str, str]:
    """Every run group name of helm/benchmark/static/schema_*.yaml -> the file that names it."""
    import yaml

    out: dict[str, str] = {}
    files = [r for r in _static_files(mods) if r.rsplit("/", 1)[-1].startswith("schema_") and r.endswith(".yaml")]
    for rel in sorted(files):
        try:
            doc = yaml.safe_load(mods.src.read(rel))
        except yaml.YAMLError:
            continue
        for g in (doc or {}).get("run_groups") or []:
            if isinstance(g, dict) and isinstance(g.get("name"), str):
                out.setdefault(g["name"], rel)
    return out


def _static_files(mods: Any) -> list[str]:
    src = mods.src
    prefix = "helm/benchmark/static/"
    if src.wheel is not None:
        return [n for n in src.wheel.namelist() if n.startswith(prefix) and "/" not in n[len(prefix):]]
    import os

    base = os.path.join(src.root, prefix)
    return [prefix + n for n in os.listdir(base)] if os.path.isdir(base) else []


def _schema_values(f: dict[str, Any], p: dict[str, Any], groups: dict[str, str],
                   functions: set[str]) -> tuple[list[str], str, str] | None:
    required = [q for q in f["params"] if q.get("required")]
    if f.get("var_keyword") or len(required) != 1 or required[0] is not p:
        return None
    name = f["name"]
    # Only where the function's own groups are known and name no other value than this
    # parameter's (`mmlu`, `natural_qa_{mode}`): `draw_bench_{group}` maps the value first.
    templates = f.get("groups")
    if templates is None or any("{" in t and t != f"{name}_{{{p['name']}}}" for t in templates):
        return None
    longer = [g for g in functions if g != name and g.startswith(name + "_")]
    values = [g[len(name) + 1:] for g in groups
              if g.startswith(name + "_") and not any(g == o or g.startswith(o + "_") for o in longer)]
    if len(values) < 2:
        return None
    files = sorted({groups[f"{name}_{v}"] for v in values})
    return values, ", ".join(files), SCHEMA_GROUPS
