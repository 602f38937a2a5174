"""`helmc catalog build`: read crfm-helm's source statically (ast + YAML) and write the catalog.

HELM is never imported: importing it pulls in torch-sized dependencies and runs registration
side effects. Everything here is read from the files HELM itself reads at start-up:
`helm/benchmark/run_specs/*.py` (the @run_spec_function registry), `run_expander.py`
(RUN_EXPANDER_SUBCLASSES and ModelRunExpander.get_model_group_to_model_names),
`model_deployments/*.py` (deployment generators by name prefix) and `helm/config/*.yaml`.
Order is kept everywhere because HELM's semantics depend on it (the default deployment is the
last non-deprecated one; wildcards expand in registration order).
"""

from __future__ import annotations

import ast
import io
import json
import os
import zipfile
from typing import Any, Callable, Iterator

from ..frozen import record
from ..files.reading import read_input_text

CATALOG_FORMAT = 1


class CatalogBuildError(Exception):
    """A user-facing failure: no HELM source found, or a file HELM needs is missing."""


# ---------------------------------------------------------------- where HELM's files come from


@record
class HelmSource:
    """The files of the `helm` package: a directory on disk or a wheel read in place."""

    root: str  # the directory that *contains* `helm/`, or the wheel path
    version: str | None
    wheel: zipfile.ZipFile | None = None

    def read(self, rel: str) -> str:
        if self.wheel is not None:
            try:
                return self.wheel.read(rel).decode("utf-8")
            except KeyError as e:
                raise CatalogBuildError(f"{rel} is not in {self.root}") from e
        path = os.path.join(self.root, rel)
        try:
            return read_input_text(path)
        except (OSError, ValueError) as e:
            raise CatalogBuildError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e

    def exists(self, rel: str) -> bool:
        if self.wheel is not None:
            return rel in self.wheel.namelist()
        return os.path.isfile(os.path.join(self.root, rel))

    def modules_in(self, pkg_rel: str) -> list[str]:
        """What pkgutil.iter_modules yields for a package: its .py files and sub-packages, sorted
        by name (pkgutil sorts directory entries), as paths of the file to read."""
        out: dict[str, str] = {}
        if self.wheel is not None:
            prefix = pkg_rel.rstrip("/") + "/"
            for n in self.wheel.namelist():
                if not n.startswith(prefix):
                    continue
                rest = n[len(prefix) :]
                if "/" not in rest and rest.endswith(".py") and rest != "__init__.py":
                    out[rest[:-3]] = n
                elif rest.count("/") == 1 and rest.endswith("/__init__.py"):
                    out[rest.split("/")[0]] = n
        else:
            base = os.path.join(self.root, pkg_rel)
            for fn in os.listdir(base):
                full = os.path.join(base, fn)
                if fn.endswith(".py") and fn != "__init__.py" and os.path.isfile(full):
                    out[fn[:-3]] = f"{pkg_rel}/{fn}"
                elif os.path.isfile(os.path.join(full, "__init__.py")):
                    out[fn] = f"{pkg_rel}/{fn}/__init__.py"
        return [out[k] for k in sorted(out)]


def _version_from_wheel(zf: zipfile.ZipFile) -> str | None:
    for n in zf.namelist():
        if n.endswith(".dist-info/METADATA"):
            for line in zf.read(n).decode("utf-8", "replace").splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    return None


def _version_near(root: str) -> str | None:
    """Version from a dist-info directory next to `helm/` (an unpacked wheel or site-packages)."""
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for n in sorted(names):
        if n.startswith("crfm_helm-") and n.endswith(".dist-info"):
            meta = os.path.join(root, n, "METADATA")
            try:
                for line in read_input_text(meta).splitlines():
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
            except (OSError, ValueError):
                pass
            return n[len("crfm_helm-") : -len(".dist-info")]
    return None


def installed_helm_root() -> tuple[str, str | None] | None:
    """Where an installed crfm-helm lives, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("helm")  # top-level: finds, does not import
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg_dir = list(spec.submodule_search_locations)[0]
    root = os.path.dirname(pkg_dir)
    if not os.path.isfile(os.path.join(pkg_dir, "benchmark", "run_expander.py")):
        return None
    version: str | None
    try:
        from importlib.metadata import PackageNotFoundError, version as _v

        version = _v("crfm-helm")
    except PackageNotFoundError:
        version = _version_near(root)
    return root, version


def open_source(path: str | None) -> HelmSource:
    """A HelmSource for a wheel file, a directory holding `helm/` (or `helm/` itself, or
    `src/helm/`), or, with no path, the installed crfm-helm."""
    if path is None:
        found = installed_helm_root()
        if found is None:
            raise CatalogBuildError(
                "no installed crfm-helm found; pass --from with a crfm-helm wheel or unpacked source"
            )
        return HelmSource(found[0], found[1])
    if os.path.isfile(path) and path.endswith(".whl"):
        try:
            zf = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as e:
            raise CatalogBuildError(f"cannot read wheel {path}: {e}") from e
        return HelmSource(path, _version_from_wheel(zf), zf)
    for cand in (path, os.path.dirname(path.rstrip("/")), os.path.join(path, "src")):
        if os.path.isfile(os.path.join(cand, "helm", "benchmark", "run_expander.py")):
            return HelmSource(cand, _version_near(cand) or _version_near(path))
    raise CatalogBuildError(f"{path} holds no HELM source (expected helm/benchmark/run_expander.py)")


# ---------------------------------------------------------------- small static evaluation helpers


def _src(node: ast.AST | None, text: str) -> str | None:
    if node is None:
        return None
    return ast.get_source_segment(text, node)


def _const_in(mods: "_Modules", module: str, e: ast.expr) -> Any:
    """A literal's value, or the value of a name defined at the top of `module`; None when it
    is neither."""
    if isinstance(e, ast.Name):
        ok, v = mods.constant(module, e.id)
        return v if ok else None
    ok, v = _literal(e)
    return v if ok else None


def _registered_by(tree: ast.Module, decorator: str) -> Iterator[tuple[ast.FunctionDef, Any]]:
    """The module's functions registered with `@decorator("literal", ...)`, with that literal
    (HELM's registries: model deployment and tokenizer config generators)."""
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and dec.func.id == decorator and dec.args:
                ok, value = _literal(dec.args[0])
                if ok:
                    yield node, value


def _literal(node: ast.AST | None) -> tuple[bool, Any]:
    """(True, value) when the node is a JSON-representable literal."""
    if node is None:
        return False, None
    try:
        v = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False, None
    if isinstance(v, tuple):
        v = list(v)
    return True, v


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level NAME = <literal> and NAME: T = <literal> assignments."""
    out: dict[str, Any] = {}
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            ok, v = _literal(st.value)
            if ok:
                out[st.targets[0].id] = v
        elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.value is not None:
            ok, v = _literal(st.value)
            if ok:
                out[st.target.id] = v
    return out


def _imported_names(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """local name -> (module, name) for `from m import n [as a]`."""
    out: dict[str, tuple[str, str]] = {}
    for st in tree.body:
        if isinstance(st, ast.ImportFrom) and st.module and st.level == 0:
            for a in st.names:
                out[a.asname or a.name] = (st.module, a.name)
    return out


class _Modules:
    """Parsed modules of the source, with constant lookup across `from x import NAME`."""

    def __init__(self, src: HelmSource) -> None:
        self.src = src
        self._trees: dict[str, tuple[str, ast.Module]] = {}

    def get(self, rel: str) -> tuple[str, ast.Module]:
        if rel not in self._trees:
            text = self.src.read(rel)
            self._trees[rel] = (text, ast.parse(text, filename=rel))
        return self._trees[rel]

    def constant(self, rel: str, name: str, depth: int = 0) -> tuple[bool, Any]:
        text, tree = self.get(rel)
        consts = _module_constants(tree)
        if name in consts:
            return True, consts[name]
        imp = _imported_names(tree).get(name)
        if imp and imp[0].startswith("helm.") and depth < 4:
            target = imp[0].replace(".", "/") + ".py"
            if self.src.exists(target):
                return self.constant(target, imp[1], depth + 1)
        return False, None


# ---------------------------------------------------------------- run spec functions


def _decorator_name(dec: ast.expr) -> str | None:
    """The registered name of `@run_spec_function("name")`, else None."""
    if not isinstance(dec, ast.Call) or not dec.args:
        return None
    f = dec.func
    fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    if fname != "run_spec_function":
        return None
    a = dec.args[0]
    if isinstance(a, ast.Constant) and isinstance(a.value, str):
        return a.value
    return None


def _params(
    fn: ast.FunctionDef, text: str, constant: Callable[[str], tuple[bool, Any]] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """The parameters; `constant` resolves a default that names a module constant
    (`method: str = ADAPT_MULTIPLE_CHOICE_JOINT`) to its value."""
    a = fn.args
    out: list[dict[str, Any]] = []
    positional = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    rows = [(p, d, "positional") for p, d in zip(positional, defaults)]
    rows += [(p, d, "keyword_only") for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    for p, d, kind in rows:
        ok, lit = _literal(d)
        if not ok and isinstance(d, ast.Name) and constant is not None:
            ok, lit = constant(d.id)
        row: dict[str, Any] = {
            "name": p.arg,
            "annotation": _src(p.annotation, text),
            "default": _src(d, text),
            "required": d is None,
            "kind": kind,
        }
        if ok:
            row["default_value"] = lit
        out.append(row)
    return out, a.kwarg is not None


class _Templates:
    """Static values of string expressions in one run spec function, as `str.format` templates
    over its parameters (`code_{dataset}`); None where helmc cannot be sure of the text.

    A local name counts only when the function binds it exactly once, by a plain `NAME = expr`;
    any other binding (augmented, tuple, loop, with, walrus, except, import, nested def) makes
    it unknowable, and a parameter that is rebound at all is no longer the argument."""

    def __init__(self, fn: ast.FunctionDef, params: set[str]) -> None:
        self.fn = fn
        self.params = params
        self.kwargs = fn.args.kwarg.arg if fn.args.kwarg is not None else None
        self.assigned: dict[str, list[ast.expr | None]] = {}
        plain: set[int] = set()
        for node in ast.walk(fn):
            tgt = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                tgt = node.targets[0]
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                tgt = node.target
            if isinstance(tgt, ast.Name):
                plain.add(id(tgt))
                self.assigned.setdefault(tgt.id, []).append(node.value)  # type: ignore[union-attr]
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in plain:
                self._other(node.id)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self._other(node.name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
                self._other(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    self._other((a.asname or a.name).split(".")[0])
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                for n in node.names:
                    self._other(n)

    def _other(self, name: str) -> None:
        self.assigned.setdefault(name, []).append(None)

    def branches(self, name: str) -> tuple[ast.expr, ast.expr, ast.expr] | None:
        """(test, value if true, value if false) for a name bound exactly twice by plain
        assignments: `if T: x = A` / `else: x = B`, or `x = B` then, later in the same block,
        `if T: x = A` without an else that binds it."""
        vals = self.assigned.get(name, [])
        if len(vals) != 2 or None in vals:
            return None

        def direct(stmts: list[ast.stmt]) -> ast.expr | None:
            found = []
            for st in stmts:
                tgt = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else (
                    st.target if isinstance(st, ast.AnnAssign) else None
                )
                if isinstance(tgt, ast.Name) and tgt.id == name and st.value is not None:  # type: ignore[union-attr]
                    found.append(st.value)  # type: ignore[union-attr]
            return found[0] if len(found) == 1 else None

        for block in [self.fn.body] + [n.body for n in ast.walk(self.fn) if isinstance(n, (ast.If, ast.For, ast.With))]:
            before: ast.expr | None = None
            for st in block:
                if isinstance(st, (ast.Assign, ast.AnnAssign)) and direct([st]) is not None:
                    before = direct([st])
                if isinstance(st, ast.If):
                    a, b = direct(st.body), direct(st.orelse)
                    if a is not None and b is not None:
                        return st.test, a, b
                    if a is not None and before is not None and not st.orelse:
                        return st.test, a, before
        return None

    def single(self, name: str) -> ast.expr | None:
        vals = self.assigned.get(name, [])
        return vals[0] if len(vals) == 1 else None

    def of(self, e: ast.expr, depth: int = 0) -> str | None:
        if depth > 4:
            return None
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            return e.value.replace("{", "{{").replace("}", "}}")
        if isinstance(e, ast.JoinedStr):
            parts = []
            for v in e.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value).replace("{", "{{").replace("}", "}}"))
                elif isinstance(v, ast.FormattedValue) and v.format_spec is None and v.conversion == -1:
                    if isinstance(v.value, ast.Name) and v.value.id in self.params and v.value.id not in self.assigned:
                        parts.append("{" + v.value.id + "}")  # f"{x}" is format(x, ""), i.e. str(x)
                        continue
                    inner = self.of(v.value, depth + 1)
                    if inner is None:
                        return None
                    parts.append(inner)
                else:
                    return None
            return "".join(parts)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            left, right = self.of(e.left, depth + 1), self.of(e.right, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(e, ast.Name):
            if e.id in self.params and e.id not in self.assigned:
                return "{" + e.id + "}"  # a bare parameter: the argument itself
            v = self.single(e.id)
            if v is not None:
                return self.of(v, depth + 1)
        return None

    def run_spec_calls(self, fn: ast.FunctionDef) -> list[ast.Call]:
        return [
            n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "RunSpec"
        ]


class _NameExpr:
    """A run spec function's `RunSpec(name=...)` as a small expression tree (JSON) over its
    arguments, evaluated by run_names.eval_name_expr; None when any part is not one of the
    forms below (helmc then gives no name). Forms: const, arg (a parameter not rebound), var
    (a comprehension variable), fmt (f-string: str() of each part), add, if, eq/ne, and/or/not,
    lower/upper/str, env (os.environ.get), join over a comprehension of `kwargs.items()`, and
    calls of module functions whose body is one `return`, inlined."""

    def __init__(self, t: _Templates, tree: ast.Module, constant: Callable[[str], tuple[bool, Any]] | None = None) -> None:
        self.t = t
        self.constant = constant  # module constants (ADAPT_GENERATION), looked up last
        self.helpers = {
            n.name: n
            for n in tree.body
            if isinstance(n, ast.FunctionDef)
            and len(n.body) == 1
            and isinstance(n.body[0], ast.Return)
            and n.body[0].value is not None
            and not n.args.kwonlyargs
            and not n.args.vararg
            and not n.args.kwarg
        }

    def of(self, e: ast.expr, env: dict[str, Any], depth: int = 0) -> Any:
        if depth > 12:
            return None
        d = depth + 1
        if isinstance(e, ast.Constant) and (e.value is None or isinstance(e.value, (str, int, float, bool))):
            return {"const": e.value}
        if isinstance(e, ast.Name):
            if e.id in env:
                return env[e.id]
            if e.id in self.t.params and e.id not in self.t.assigned:
                return {"arg": e.id}
            v = self.t.single(e.id)
            if v is not None:
                return self.of(v, env, d)
            br = self.t.branches(e.id)
            if br is not None:
                parts = [self.of(x, env, d) for x in br]
                return None if None in parts else {"if": parts}
            if e.id not in self.t.assigned and e.id not in self.t.params and self.constant is not None:
                ok, c = self.constant(e.id)
                if ok and (c is None or isinstance(c, (str, int, float, bool))):
                    return {"const": c}
            return None
        if isinstance(e, ast.JoinedStr):
            parts = []
            for v in e.values:
                if isinstance(v, ast.Constant):
                    parts.append({"const": str(v.value)})
                elif isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None:
                    p = self.of(v.value, env, d)
                    if p is None:
                        return None
                    parts.append(p)
                else:
                    return None
            return {"fmt": parts}
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            a, b = self.of(e.left, env, d), self.of(e.right, env, d)
            return None if a is None or b is None else {"add": [a, b]}
        if isinstance(e, ast.IfExp):
            parts = [self.of(x, env, d) for x in (e.test, e.body, e.orelse)]
            return None if None in parts else {"if": parts}
        if isinstance(e, ast.Compare) and len(e.ops) == 1 and isinstance(e.ops[0], (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
            a = self.of(e.left, env, d)
            right = e.comparators[0]
            if isinstance(e.ops[0], (ast.In, ast.NotIn)):
                ok, lit = _literal(right)
                if a is None or not ok or not isinstance(lit, list):
                    return None
                return {"in" if isinstance(e.ops[0], ast.In) else "not_in": [a, lit]}
            b = self.of(right, env, d)
            if a is None or b is None:
                return None
            return {"eq" if isinstance(e.ops[0], ast.Eq) else "ne": [a, b]}
        if isinstance(e, ast.BoolOp):
            parts = [self.of(x, env, d) for x in e.values]
            return None if None in parts else {"and" if isinstance(e.op, ast.And) else "or": parts}
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            x = self.of(e.operand, env, d)
            return None if x is None else {"not": x}
        if isinstance(e, ast.Call) and not e.keywords:
            f = e.func
            if isinstance(f, ast.Attribute) and f.attr in ("lower", "upper") and not e.args:
                x = self.of(f.value, env, d)
                return None if x is None else {f.attr: x}
            if isinstance(f, ast.Name) and f.id == "str" and len(e.args) == 1:
                x = self.of(e.args[0], env, d)
                return None if x is None else {"str": x}
            if (
                ast.unparse(f) == "os.environ.get"
                and len(e.args) in (1, 2)
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in e.args)
            ):
                return {"env": [a.value for a in e.args]}  # type: ignore[union-attr]
            if isinstance(f, ast.Attribute) and f.attr == "join" and len(e.args) == 1:
                sep = self.of(f.value, env, d)
                comp = self._comp(e.args[0], env, d)
                return None if sep is None or comp is None else {"join": [sep, comp]}
            if isinstance(f, ast.Name) and f.id in self.helpers and f.id not in self.t.assigned:
                h = self.helpers[f.id]
                names = [a.arg for a in h.args.posonlyargs + h.args.args]
                if len(names) != len(e.args) or h.args.defaults:
                    return None
                inner = dict(env)
                for n, a in zip(names, e.args):
                    v = self.of(a, env, d)
                    if v is None:
                        return None
                    inner[n] = v
                # the helper sees only its own parameters (and module names, not read here)
                saved = self.t
                self.t = _Templates(h, set())
                try:
                    return self.of(h.body[0].value, inner, d)  # type: ignore[union-attr, arg-type]
                finally:
                    self.t = saved
        return None

    def _comp(self, e: ast.expr, env: dict[str, Any], depth: int) -> Any:
        """[elt for k, v in kwargs.items() if ...] over the function's **kwargs."""
        if not isinstance(e, (ast.ListComp, ast.GeneratorExp)) or len(e.generators) != 1:
            return None
        g = e.generators[0]
        if not (
            isinstance(g.iter, ast.Call)
            and isinstance(g.iter.func, ast.Attribute)
            and g.iter.func.attr == "items"
            and isinstance(g.iter.func.value, ast.Name)
            and g.iter.func.value.id == self.t.kwargs
            and self.t.kwargs not in self.t.assigned
            and isinstance(g.target, ast.Tuple)
            and len(g.target.elts) == 2
            and all(isinstance(x, ast.Name) for x in g.target.elts)
        ):
            return None
        k, v = (x.id for x in g.target.elts)  # type: ignore[attr-defined]
        inner = {**env, k: {"var": "key"}, v: {"var": "value"}}
        elt = self.of(e.elt, inner, depth)
        ifs = [self.of(c, inner, depth) for c in g.ifs]
        if elt is None or None in ifs:
            return None
        return {"kwargs": {"elt": elt, "if": ifs}}


class _AdapterMethod:
    """The adapter method of the AdapterSpec a run spec function builds, as a name expression
    over the function's arguments (`{"const": "generation"}`, `{"arg": "method"}`), following
    calls into helper functions (common_adapter_specs and the module's own): every `return`
    of a helper must give the same expression, where a constant returned under
    `if P == CONSTANT:` counts as P (the joint/separate toggles). None when not exact."""

    def __init__(self, mods: _Modules, field: str = "method", default: str | None = None) -> None:
        self.mods = mods
        self.field = field  # the AdapterSpec field followed (method, model, model_deployment)
        self.default = default  # its default, used when a call that sets fields leaves it out

    def _defs(self, rel: str) -> dict[str, tuple[str, ast.FunctionDef]]:
        _, tree = self.mods.get(rel)
        out = {n.name: (rel, n) for n in tree.body if isinstance(n, ast.FunctionDef)}
        for local, (module, name) in _imported_names(tree).items():
            target = module.replace(".", "/") + ".py"
            if module.startswith("helm.") and self.mods.src.exists(target):
                _, t2 = self.mods.get(target)
                for n in t2.body:
                    if isinstance(n, ast.FunctionDef) and n.name == name:
                        out[local] = (target, n)
        return out

    def of_function(self, rel: str, fn: ast.FunctionDef, params: set[str]) -> Any:
        _, tree = self.mods.get(rel)
        found = _run_spec_keyword(fn, params, "adapter_spec")
        if found is None:
            return None
        t, value = found
        return self._spec(value, rel, t, tree, {}, 0)

    def _spec(self, e: ast.expr, rel: str, t: _Templates, tree: ast.Module, env: dict[str, Any], depth: int) -> Any:
        if depth > 6:
            return None
        conv = _NameExpr(t, tree, lambda n: self.mods.constant(rel, n))
        if isinstance(e, ast.Name):
            if e.id in env:
                return None  # an AdapterSpec passed in: not followed
            v = t.single(e.id)
            return self._spec(v, rel, t, tree, env, depth + 1) if v is not None else None
        if not isinstance(e, ast.Call):
            return None
        f = e.func
        fname = f.id if isinstance(f, ast.Name) else None
        if fname == "AdapterSpec":
            kw = next((k for k in e.keywords if k.arg == self.field), None)
            if kw is not None:
                return conv.of(kw.value, env)
            if self.default is not None and not e.args and all(k.arg is not None for k in e.keywords):
                return {"const": self.default}  # the field's default: nothing else can set it
            return None
        if fname == "replace" and e.args:
            if any(k.arg == self.field for k in e.keywords):
                kw = next(k for k in e.keywords if k.arg == self.field)
                return conv.of(kw.value, env)
            if any(k.arg is None for k in e.keywords):
                return None
            return self._spec(e.args[0], rel, t, tree, env, depth + 1)
        if fname is None:
            return None
        found = self._defs(rel).get(fname)
        if found is None:
            return None
        hrel, h = found
        if h.args.vararg is not None:
            return None
        names = [a.arg for a in h.args.posonlyargs + h.args.args]
        defaults = dict(zip(names[len(names) - len(h.args.defaults) :], h.args.defaults))
        defaults.update({a.arg: d for a, d in zip(h.args.kwonlyargs, h.args.kw_defaults) if d is not None})
        if len(e.args) > len(names) or any(isinstance(a, ast.Starred) for a in e.args):
            return None
        bound: dict[str, Any] = {}
        for n, a in zip(names, e.args):
            bound[n] = conv.of(a, env)
        for k in e.keywords:
            if k.arg is None:
                if self.field != "method":
                    return None  # a ** spread may carry the field
                continue  # **kwargs spread: the method is never among them in HELM's helpers
            bound[k.arg] = conv.of(k.value, env)
        _, htree = self.mods.get(hrel)
        for n in names + [a.arg for a in h.args.kwonlyargs]:
            if n not in bound and n in defaults:
                d = defaults[n]
                ok, lit = _literal(d)
                if not ok and isinstance(d, ast.Name):
                    ok, lit = self.mods.constant(hrel, d.id)
                bound[n] = {"const": lit} if ok else None
        ht = _Templates(h, set())
        henv = {k: v for k, v in bound.items() if v is not None}
        results = []
        for ret, guards in self._returns(h.body, []):
            r = self._spec(ret, hrel, ht, htree, henv, depth + 1)
            if r is None:
                return None
            for p, c in guards:
                if r == {"const": c} and p in henv:
                    r = henv[p]
            results.append(r)
        if not results or any(r != results[0] for r in results):
            return None
        return results[0]

    def _returns(self, stmts: list[ast.stmt], guards: list[tuple[str, Any]]):
        """(returned expression, [(param, constant)] of the `if param == C` / `in {C...}` around it)."""
        for st in stmts:
            if isinstance(st, ast.Return) and st.value is not None:
                yield st.value, guards
            elif isinstance(st, ast.If):
                g = []
                test = st.test
                if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name):
                    if isinstance(test.ops[0], ast.Eq):
                        c = test.comparators[0]
                        ok, v = self._const(c)
                        if ok:
                            g = [(test.left.id, v)]
                yield from self._returns(st.body, guards + g)
                yield from self._returns(st.orelse, guards)

    def _const(self, e: ast.expr) -> tuple[bool, Any]:
        ok, v = _literal(e)
        if ok:
            return ok, v
        if isinstance(e, ast.Name):
            return self.mods.constant("helm/benchmark/adaptation/common_adapter_specs.py", e.id)
        return False, None


def _groups_templates(fn: ast.FunctionDef, params: set[str]) -> list[str] | None:
    """Scenario group names of the RunSpec(...) the function returns, as templates; None when
    not statically knowable (no RunSpec built here, several, or computed values)."""
    t = _Templates(fn, params)
    found: list[list[str] | None] = []
    for node in t.run_spec_calls(fn):
        kw = next((k for k in node.keywords if k.arg == "groups"), None)
        if kw is None:
            found.append([])  # RunSpec's default: groups=[]
            continue
        val = kw.value
        if isinstance(val, ast.Name) and t.single(val.id) is not None:
            val = t.single(val.id)  # type: ignore[assignment]
        if isinstance(val, (ast.List, ast.Tuple)):
            items = [t.of(x) for x in val.elts]
            found.append(None if any(i is None for i in items) else [i for i in items if i is not None])
        else:
            found.append(None)
    if len(found) != 1:
        return None
    return found[0]


def _name_expr(fn: ast.FunctionDef, params: set[str], tree: ast.Module, constant: Callable[[str], tuple[bool, Any]] | None = None) -> Any:
    """The `name=` of the one RunSpec(...) the function builds, as a _NameExpr tree over its
    arguments (before RunSpec.__post_init__ turns `/` into `_`); None when not exact."""
    found = _run_spec_keyword(fn, params, "name")
    if found is None:
        return None
    t, value = found
    return _NameExpr(t, tree, constant).of(value, {})


def _run_spec_keyword(fn: ast.FunctionDef, params: set[str], keyword: str) -> tuple[_Templates, ast.expr] | None:
    """The value of `keyword=` in the one RunSpec(...) the function builds, with the function's
    templates; None when it builds several or none, or leaves the keyword out."""
    t = _Templates(fn, params)
    calls = t.run_spec_calls(fn)
    if len(calls) != 1:
        return None
    kw = next((k for k in calls[0].keywords if k.arg == keyword), None)
    return None if kw is None else (t, kw.value)


def _scan_run_spec_functions(mods: _Modules, rel: str, module: str) -> list[dict[str, Any]]:
    text, tree = mods.get(rel)
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            name = _decorator_name(dec)
            if name is None:
                continue
            params, var_kw = _params(node, text, lambda n: mods.constant(rel, n))  # type: ignore[arg-type]
            out.append(
                {
                    "name": name,
                    "module": module,
                    "function": node.name,
                    "line": node.lineno,
                    "params": params,
                    "var_keyword": var_kw,
                    "groups": _groups_templates(node, {p["name"] for p in params}),  # type: ignore[arg-type]
                    "run_name": _name_expr(node, {p["name"] for p in params}, tree, lambda n: mods.constant(rel, n)),  # type: ignore[arg-type]
                    "adapter_method": _AdapterMethod(mods).of_function(rel, node, {p["name"] for p in params}),  # type: ignore[arg-type]
                    # what the AdapterSpec says before the expanders: model=/--models-to-run
                    # replace `model` (and `model_deployment` only for a three-part name)
                    "adapter_model": _AdapterMethod(mods, "model", "").of_function(rel, node, {p["name"] for p in params}),  # type: ignore[arg-type]
                    "adapter_model_deployment": _AdapterMethod(mods, "model_deployment", "").of_function(rel, node, {p["name"] for p in params}),  # type: ignore[arg-type]
                    "doc": (ast.get_docstring(node) or "").strip().split("\n\n")[0] or None,
                }
            )
    return out


def scan_run_spec_file(text: str, path: str, module: str) -> list[dict[str, Any]]:
    """Run spec functions of one file (used for --plugins as well)."""
    tree = ast.parse(text, filename=path)

    class _One(_Modules):
        def get(self, rel: str) -> tuple[str, ast.Module]:
            return text, tree

    return _scan_run_spec_functions(_One(HelmSource(path, None)), path, module)


def build_run_spec_functions(mods: _Modules) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rel in mods.src.modules_in("helm/benchmark/run_specs"):
        mod = rel[:-3].replace("/", ".")
        if mod.endswith(".__init__"):
            mod = mod[: -len(".__init__")]
        out.extend(_scan_run_spec_functions(mods, rel, mod))
    return out


# ---------------------------------------------------------------- run expanders

_RE = "helm/benchmark/run_expander.py"
_ADAPTER_SPEC = "helm/benchmark/adaptation/adapter_spec.py"


def _classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def _class_attr(cls: ast.ClassDef, name: str) -> ast.expr | None:
    for st in cls.body:
        if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets):
            return st.value
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.target.id == name:
            return st.value
    return None


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for st in cls.body:
        if isinstance(st, ast.FunctionDef) and st.name == name:
            return st
    return None


def _mro(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[ast.ClassDef]:
    out = [cls]
    for b in cls.bases:
        if isinstance(b, ast.Name) and b.id in classes:
            out.extend(_mro(classes[b.id], classes))
    return out


def _compared_strings(fn: ast.FunctionDef, mods: _Modules) -> tuple[list[str], bool]:
    """String constants that `value`/`self.value`/`scenario` is compared with, and whether the
    function raises when none matches (an else branch or a `!=`/`not in` guard that raises)."""
    values: list[str] = []
    raises = False
    fallback = False

    def const(e: ast.expr) -> str | None:
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            return e.value
        if isinstance(e, ast.Name):
            ok, v = mods.constant(_RE, e.id)
            if ok and isinstance(v, str):
                return v
        return None

    def subject(e: ast.expr) -> bool:
        if isinstance(e, ast.Name):
            return e.id in ("value", "scenario")
        return isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self" and e.attr in (
            "value",
            "scenario",
        )

    for node in ast.walk(fn):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and subject(node.left):
            if isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                c = const(node.comparators[0])
                if c is not None and c not in values:
                    values.append(c)
        if isinstance(node, ast.If) and any(
            isinstance(n, ast.Compare) and subject(n.left) for n in ast.walk(node.test)
        ):
            # `if value == A: ... elif value == B: ... else: raise` -> closed choices; a chain
            # whose explicit else does something else (a fallback) leaves the value free.
            tail = node
            while tail.orelse and len(tail.orelse) == 1 and isinstance(tail.orelse[0], ast.If):
                tail = tail.orelse[0]
            if tail.orelse:
                if any(isinstance(s, ast.Raise) for s in tail.orelse):
                    raises = True
                else:
                    fallback = True
            # `if value != A and value != B: raise`
            if any(isinstance(s, ast.Raise) for s in node.body) and any(
                isinstance(n, ast.Compare) and subject(n.left) and isinstance(n.ops[0], ast.NotEq)
                for n in ast.walk(node.test)
            ):
                raises = True
    return values, raises and not fallback


def _eval_dict_keys_and_items(node: ast.expr, mods: _Modules) -> dict[str, list[Any]] | None:
    """For PERTURBATION_SPECS_DICT-like dicts: key -> list of names of the inner dict (each inner
    key is one RunSpec). Inner dict comprehensions over a literal list are evaluated."""
    if not isinstance(node, ast.Dict):
        return None
    out: dict[str, list[Any]] = {}
    for k, v in zip(node.keys, node.values):
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
            return None
        if isinstance(v, ast.Dict):
            names = []
            for ik in v.keys:
                ok, lit = _literal(ik)
                names.append(lit if ok else None)
            out[k.value] = names
        elif isinstance(v, ast.DictComp) and len(v.generators) == 1:
            gen = v.generators[0]
            ok, seq = _literal(gen.iter)
            if not ok or not isinstance(gen.target, ast.Name):
                return None
            names = []
            for item in seq:
                key = v.key
                if isinstance(key, ast.JoinedStr):
                    s = ""
                    for part in key.values:
                        if isinstance(part, ast.Constant):
                            s += str(part.value)
                        elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) and part.value.id == gen.target.id:
                            s += str(item)
                        else:
                            s = None  # type: ignore[assignment]
                            break
                    names.append(s)
                else:
                    names.append(None)
            out[k.value] = names
        else:
            return None
    return out


def _adapter_spec_types(mods: _Modules) -> dict[str, str]:
    text, tree = mods.get(_ADAPTER_SPEC)
    cls = _classes(tree).get("AdapterSpec")
    out: dict[str, str] = {}
    if cls is None:
        return out
    for st in cls.body:
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            out[st.target.id] = _src(st.annotation, text) or ""
    return out


def _self_attr(e: ast.expr) -> str | None:
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self":
        return e.attr
    return None


def _expander_name_effect(cls: ast.ClassDef, mro: list[ast.ClassDef]) -> dict[str, Any] | None:
    """How the expander's expand() changes run_spec.name, read from its `replace(run_spec,
    name=...)` calls: {"sep": "comma"|"colon_or_comma", "key": str, "value": "each"|"given"|
    "choice_key"|"model"}, {"keep": True} when the name is left as it is, None when every
    form the method writes is not the one recognised here."""
    expand = next((m for c in mro if (m := _method(c, "expand")) is not None), None)
    init = next((m for c in mro if (m := _method(c, "__init__")) is not None), None)
    name_attr = next((v for c in mro if (v := _class_attr(c, "name")) is not None), None)
    ok_name, exp_name = _literal(name_attr)
    if expand is None or not ok_name:
        return None
    # self.X = <the constructor's value parameter>
    given_attrs: set[str] = set()
    if init is not None:
        pos = init.args.posonlyargs + init.args.args
        if len(pos) >= 2:
            vname = pos[1].arg
            for n in ast.walk(init):
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id == vname:
                    given_attrs.update(a for t in n.targets if (a := _self_attr(t)) is not None)
    # expand() and the methods it hands the run spec to (self.m(...), super().expand(...))
    fns: list[ast.FunctionDef] = []

    def follow(fn: ast.FunctionDef, depth: int) -> None:
        if fn in fns or depth > 3:
            return
        fns.append(fn)
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                owner = n.func.value
                if isinstance(owner, ast.Name) and owner.id == "self":
                    m = next((m for c in mro if (m := _method(c, n.func.attr)) is not None), None)
                elif isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                    home = next((i for i, c in enumerate(mro) if fn in c.body), 0)
                    m = next((m for c in mro[home + 1 :] if (m := _method(c, n.func.attr)) is not None), None)
                else:
                    m = None
                if m is not None:
                    follow(m, depth + 1)

    follow(expand, 0)
    body = ast.Module(body=list(fns), type_ignores=[])
    local: dict[str, ast.expr] = {}
    for n in ast.walk(body):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            local[n.targets[0].id] = n.value
    each_vars = set()  # comprehension targets over self.values
    key_vars = set()  # `for k, v in X.items()` targets (keys of a choice's inner dict)
    for n in ast.walk(body):
        if isinstance(n, ast.comprehension):
            if _self_attr(n.iter) == "values" and isinstance(n.target, ast.Name):
                each_vars.add(n.target.id)
            if (
                isinstance(n.iter, ast.Call)
                and isinstance(n.iter.func, ast.Attribute)
                and n.iter.func.attr == "items"
                and isinstance(n.target, ast.Tuple)
                and isinstance(n.target.elts[0], ast.Name)
            ):
                key_vars.add(n.target.elts[0].id)
    # the parameters of a nested function called with those keys (create_run_spec(aug_name, ...))
    for n in ast.walk(body):
        if isinstance(n, ast.FunctionDef) and n not in fns and n.args.args and key_vars:
            key_vars.add(n.args.args[0].arg)

    def is_run_spec_name(e: ast.expr) -> bool:
        return isinstance(e, ast.Attribute) and e.attr == "name" and isinstance(e.value, ast.Name) and e.value.id == "run_spec"

    def value_kind(e: ast.expr) -> str | None:
        if isinstance(e, ast.Call) and len(e.args) == 1 and (
            (isinstance(e.func, ast.Name) and e.func.id == "sanitize") or _self_attr(e.func) == "sanitize"
        ):
            e = e.args[0]  # `/` -> `_`, which RunSpec.__post_init__ does anyway
        if _self_attr(e) in given_attrs:
            return "given"
        if isinstance(e, ast.Name):
            if e.id in each_vars:
                return "each"
            if e.id in key_vars:
                return "choice_key"
            v = local.get(e.id)
            if v is not None and "parts[-2:]" in ast.unparse(v):
                return "model"
        return None

    def form(e: ast.expr | None) -> dict[str, Any] | None:
        if e is None or is_run_spec_name(e):
            return {"keep": True}
        if isinstance(e, ast.Name) and e.id in local:
            return form(local[e.id])
        if not isinstance(e, ast.JoinedStr) or len(e.values) < 3:
            return None
        vals = list(e.values)
        if not (isinstance(vals[0], ast.FormattedValue) and is_run_spec_name(vals[0].value)):
            return None
        rest = vals[1:]
        sep_node = rest.pop(0)
        text = ""
        if isinstance(sep_node, ast.Constant) and str(sep_node.value).startswith(","):
            sep, text = "comma", str(sep_node.value)[1:]
        elif (
            isinstance(sep_node, ast.FormattedValue)
            and isinstance(sep_node.value, ast.IfExp)
            and ast.unparse(sep_node.value) in ("',' if ':' in run_spec.name else ':'",)
        ):
            sep = "colon_or_comma"
        else:
            return None
        value = None
        for part in rest:
            if isinstance(part, ast.Constant):
                if value is not None:
                    return None  # text after the value: not a form known here
                text += str(part.value)
            elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                if (
                    isinstance(part.value, ast.Attribute)
                    and part.value.attr == "name"
                    and (_self_attr(part.value) == "name" or isinstance(part.value.value, ast.Name))
                    and value is None
                    and not text.endswith("=")
                ):
                    text += exp_name  # self.name / ThisClass.name
                    continue
                if value is not None:
                    return None
                value = value_kind(part.value)
                if value is None:
                    return None
            else:
                return None
        if value is None or not text.endswith("="):
            return None
        return {"sep": sep, "key": text[:-1], "value": value}

    forms = []
    for n in ast.walk(body):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "replace" and n.args:
            if not (isinstance(n.args[0], ast.Name) and n.args[0].id == "run_spec"):
                continue
            kw = next((k for k in n.keywords if k.arg == "name"), None)
            forms.append(form(kw.value if kw else None))
    if not forms or any(f is None for f in forms) or any(f != forms[0] for f in forms):
        return None
    return forms[0]


def _value_arms(fn: ast.FunctionDef, cls: ast.ClassDef, mods: _Modules) -> dict[str, Any] | None:
    """For an expander whose expand() first branches on the run's adapter method and then on
    its own value (OutputFormatInstructions): per method, the values its chain names and what
    other values get ("raise", or "fallback" when a final else does something else); a method
    no arm names leaves the chain's variable unbound, so HELM raises too. Read from the
    if/elif chains; None when expand() has no such shape."""
    top = next((st for st in fn.body if isinstance(st, ast.If)), None)
    if top is None:
        return None

    def const(e: ast.expr) -> Any:
        return _const_in(mods, _RE, e)

    arms: dict[str, Any] = {}
    node: ast.If | None = top
    while node is not None:
        t = node.test
        if not (
            isinstance(t, ast.Compare)
            and isinstance(t.ops[0], ast.Eq)
            and ast.unparse(t.left) == "run_spec.adapter_spec.method"
            and isinstance(const(t.comparators[0]), str)
        ):
            return None
        body_fn = ast.FunctionDef(name="arm", args=fn.args, body=node.body, decorator_list=[], returns=None, type_params=[])
        values, raises = _compared_strings(body_fn, mods)  # type: ignore[arg-type]
        arms[const(t.comparators[0])] = {"values": values, "other": "raise" if raises else "fallback"}
        nxt = node.orelse
        node = nxt[0] if len(nxt) == 1 and isinstance(nxt[0], ast.If) else None
        if nxt and node is None:
            return None  # a final else over methods: not the shape read here
    return {"by_method": arms, "other_methods": "raise"}


def _stripped_suffixes(init: ast.FunctionDef | None, cls: ast.ClassDef) -> list[str]:
    """`value.removesuffix(C)` in __init__, in order (C a literal or a class constant)."""
    out: list[str] = []
    if init is None:
        return out
    for n in ast.walk(init):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "removesuffix" and n.args:
            a = n.args[0]
            if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.value.id == cls.name:
                ok, v = _literal(_class_attr(cls, a.attr))
            else:
                ok, v = _literal(a)
            if ok and isinstance(v, str):
                out.append(v)
    return out


def _expand_needs(cls: ast.ClassDef, mro: list[ast.ClassDef], mods: _Modules) -> dict[str, Any]:
    """What expand() needs of the run it meets: `requires_method`, from a guard
    `if run_spec.adapter_spec.method != M: raise`; `reads_model_for`, the values for which it
    looks the run's model up (get_model_metadata(run_spec.adapter_spec.model)), which raises
    while the model expander has not run yet (["*"]: for every value)."""
    expand = next((m for c in mro if (m := _method(c, "expand")) is not None), None)
    out: dict[str, Any] = {}
    if expand is None:
        return out

    def const(e: ast.expr) -> Any:
        return _const_in(mods, _RE, e)

    for st in ast.walk(expand):
        if (
            isinstance(st, ast.If)
            and isinstance(st.test, ast.Compare)
            and isinstance(st.test.ops[0], ast.NotEq)
            and ast.unparse(st.test.left) == "run_spec.adapter_spec.method"
            and any(isinstance(b, ast.Raise) for b in st.body)
            and isinstance(const(st.test.comparators[0]), str)
        ):
            out.setdefault("requires_method", []).append(const(st.test.comparators[0]))
    reads: list[str] = []
    for st in ast.walk(expand):
        conds = list(st.test.values) if isinstance(st, ast.If) and isinstance(st.test, ast.BoolOp) else []
        lookups = [
            n for n in ast.walk(st) if isinstance(n, ast.Call) and ast.unparse(n) == "get_model_metadata(run_spec.adapter_spec.model)"
        ] if isinstance(st, ast.If) else []
        if not lookups:
            continue
        vals = [
            const(c.comparators[0])
            for c in conds
            if isinstance(c, ast.Compare) and isinstance(c.ops[0], ast.Eq) and _self_attr(c.left) == "value"
        ]
        reads += [v for v in vals if isinstance(v, str)] or ["*"]
    if not reads and "get_model_metadata(run_spec.adapter_spec.model)" in ast.unparse(expand):
        reads = ["*"]
    if reads:
        out["reads_model_for"] = sorted(set(reads))
    return out


def _per_deployment_mapping(v: ast.expr, mro: list[ast.ClassDef]) -> dict[str, Any] | None:
    """The literal part of a class-level mapping named by `v`. The class body's loop that adds
    `get_model_names_with_tokenizer(...)` runs when run_expander.py is imported, before helm-run
    registers any model deployment, so it adds nothing: the literal is the whole mapping."""
    if not isinstance(v, ast.Name):
        return None
    for c in mro:
        node = _class_attr(c, v.id)
        ok, lit = _literal(node)
        if ok and isinstance(lit, dict):
            return lit
    return None


def build_expanders(mods: _Modules) -> list[dict[str, Any]]:
    text, tree = mods.get(_RE)
    classes = _classes(tree)
    order: list[str] = []
    for st in tree.body:
        target = None
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            target, value = st.target.id, st.value
        elif isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
            target, value = st.targets[0].id, st.value
        if target == "RUN_EXPANDER_SUBCLASSES" and isinstance(value, ast.List):
            order = [e.id for e in value.elts if isinstance(e, ast.Name)]
    if not order:
        raise CatalogBuildError("RUN_EXPANDER_SUBCLASSES not found in run_expander.py")
    adapter_types = _adapter_spec_types(mods)
    out = []
    for cname in order:
        cls = classes.get(cname)
        if cls is None:
            raise CatalogBuildError(f"run expander class {cname} not found")
        mro = _mro(cls, classes)
        name_node = next((_class_attr(c, "name") for c in mro if _class_attr(c, "name") is not None), None)
        ok, name = _literal(name_node)
        if not ok:
            raise CatalogBuildError(f"{cname}.name is not a literal")
        init = next((m for c in mro if (m := _method(c, "__init__")) is not None), None)
        bases = {c.name for c in mro}
        row: dict[str, Any] = {"name": name, "class": cname, "takes_value": True, "kind": "free"}
        value_param = None
        if init is not None:
            pos = init.args.posonlyargs + init.args.args
            row["takes_value"] = len(pos) >= 2 or init.args.vararg is not None
            if len(pos) >= 2:
                value_param = pos[1]
                row["value_annotation"] = _src(value_param.annotation, mods.get(_RE)[0])
        vd_node = next((_class_attr(c, "values_dict") for c in mro if _class_attr(c, "values_dict") is not None), None)
        if "ModelRunExpander" in bases:
            row["kind"] = "model"
        elif vd_node is not None:
            # ReplaceValueRunExpander / ScenarioSpecRunExpander: a key of values_dict names a set
            # of values, anything else is used as the one value.
            row["kind"] = "value_set"
            sets: dict[str, Any] = {}
            if isinstance(vd_node, ast.Dict):
                for k, v in zip(vd_node.keys, vd_node.values):
                    okk, key = _literal(k)
                    okv, val = _literal(v)
                    if not okk:
                        continue
                    if okv:
                        sets[str(key)] = val
                    else:
                        # TokenizerRunExpander: {"default": model_to_tokenizer_mapping}, a dict
                        # keyed by the run's model deployment at expand time (no entry: no run)
                        sets[str(key)] = {"per_deployment": _per_deployment_mapping(v, mro)}
            row["value_sets"] = sets
            if "ReplaceValueRunExpander" in bases:
                row["target"] = "adapter_spec"
                row["value_type"] = adapter_types.get(name)
            elif "ScenarioSpecRunExpander" in bases:
                row["target"] = "scenario_spec"
            else:
                field = _class_attr(cls, "adapter_spec_name")
                okf, fname = _literal(field)
                if okf:
                    row["target"] = "adapter_spec"
                    row["value_type"] = adapter_types.get(fname)
        else:
            # `if self.value not in SOME_DICT: raise` -> the dict's keys, each a set of runs
            for fn in filter(None, (init, _method(cls, "expand"))):
                for node in ast.walk(fn):
                    if (
                        isinstance(node, ast.If)
                        and isinstance(node.test, ast.Compare)
                        and isinstance(node.test.ops[0], ast.NotIn)
                        and isinstance(node.test.comparators[0], ast.Name)
                        and any(isinstance(s, ast.Raise) for s in node.body)
                    ):
                        dname = node.test.comparators[0].id
                        for st in tree.body:
                            tgt = st.target if isinstance(st, ast.AnnAssign) else st.targets[0] if isinstance(st, ast.Assign) else None
                            if isinstance(tgt, ast.Name) and tgt.id == dname:
                                runs = _eval_dict_keys_and_items(st.value, mods)  # type: ignore[arg-type]
                                if runs is not None:
                                    row["kind"] = "choices"
                                    row["choices"] = list(runs)
                                    row["runs_per_choice"] = runs
            if row["kind"] == "free":
                values: list[str] = []
                raises = False
                for fn in filter(None, (init, _method(cls, "expand"))):
                    v, r = _compared_strings(fn, mods)
                    values += [x for x in v if x not in values]
                    raises = raises or r
                if values and raises:
                    row["kind"] = "choices"
                    row["choices"] = values
                elif values:
                    row["known_values"] = values
                    expand = _method(cls, "expand")
                    arms = _value_arms(expand, cls, mods) if expand is not None else None
                    if arms is not None:
                        row["value_arms"] = arms
                    suffixes = _stripped_suffixes(init, cls)
                    if suffixes:
                        row["strip_suffixes"] = suffixes
            if row["kind"] == "free" and value_param is not None:
                ann = _src(value_param.annotation, mods.get(_RE)[0])
                if ann in ("int", "float"):
                    row["value_type"] = ann
        if not row["takes_value"]:
            row["kind"] = "none"
        row["run_name"] = _expander_name_effect(cls, mro)
        row.update(_expand_needs(cls, mro, mods))
        out.append(row)
    return out


_FACTORY = "helm/benchmark/run_spec_factory.py"


def build_alter_steps(mods: _Modules) -> list[dict[str, Any]]:
    """The expanders construct_run_specs' alter_run_spec applies after the user's ones, with
    the condition on the model that triggers each (and whatever else the condition tests),
    and the expander's effect on the run name; read from run_spec_factory.py."""
    text, tree = mods.get(_FACTORY)
    _, re_tree = mods.get(_RE)
    classes = _classes(re_tree)
    alter = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "alter_run_spec"),
        None,
    )
    if alter is None:
        raise CatalogBuildError("alter_run_spec not found in run_spec_factory.py")

    def const(e: ast.expr) -> Any:
        return _const_in(mods, _FACTORY, e)

    steps: list[dict[str, Any]] = []

    def visit(stmts: list[ast.stmt], outer: list[ast.expr]) -> None:
        for st in stmts:
            if not isinstance(st, ast.If):
                continue
            conds = outer + (list(st.test.values) if isinstance(st.test, ast.BoolOp) and isinstance(st.test.op, ast.And) else [st.test])
            visit(st.body, conds)
            for call in st.body:
                c = call.value if isinstance(call, (ast.Assign, ast.Expr)) else None
                ctor = next(
                    (
                        n
                        for n in ast.walk(c) if c is not None
                        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in classes
                    ),
                    None,
                ) if c is not None else None
                if ctor is None:
                    continue
                cls = classes[ctor.func.id]  # type: ignore[union-attr]
                arg = ctor.args[0] if ctor.args else next((k.value for k in ctor.keywords if k.arg == "value"), None)
                step: dict[str, Any] = {
                    "class": cls.name,
                    "value": const(arg) if arg is not None else None,
                    "run_name": _expander_name_effect(cls, _mro(cls, classes)),
                    "tags": [],
                    "model": None,
                    "method_in": None,
                    "other": [],
                }
                for cond in conds:
                    s = ast.unparse(cond)
                    if (
                        isinstance(cond, ast.Compare)
                        and isinstance(cond.ops[0], ast.In)
                        and ast.unparse(cond.comparators[0]) == "model.tags"
                        and const(cond.left) is not None
                    ):
                        step["tags"].append(const(cond.left))
                    elif isinstance(cond, ast.Compare) and isinstance(cond.ops[0], ast.Eq) and ast.unparse(cond.left) == "run_spec.adapter_spec.model":
                        step["model"] = const(cond.comparators[0])
                    elif (
                        isinstance(cond, ast.Compare)
                        and isinstance(cond.ops[0], ast.In)
                        and ast.unparse(cond.left) == "run_spec.adapter_spec.method"
                        and isinstance(cond.comparators[0], (ast.Tuple, ast.List))
                    ):
                        step["method_in"] = [const(x) for x in cond.comparators[0].elts]
                    else:
                        step["other"].append(s)
                steps.append(step)

    start = next((i for i, st in enumerate(alter.body) if isinstance(st, ast.Assign) and ast.unparse(st).startswith("deployment")), 0)
    visit(alter.body[start:], [])
    return steps


# ---------------------------------------------------------------- model groups (wildcards)


def build_model_groups(mods: _Modules) -> dict[str, Any]:
    """Read ModelRunExpander.get_model_group_to_model_names: every key of its values_dict with
    how its models are found, plus the ablation and exclusion tags it applies afterwards."""
    text, tree = mods.get(_RE)
    cls = _classes(tree).get("ModelRunExpander")
    fn = _method(cls, "get_model_group_to_model_names") if cls else None
    if fn is None:
        raise CatalogBuildError("ModelRunExpander.get_model_group_to_model_names not found")
    mmr = "helm/benchmark/model_metadata_registry.py"
    func_terms = {}  # get_all_* helpers -> their tag, read from model_metadata_registry
    _, mtree = mods.get(mmr)
    for st in mtree.body:
        if isinstance(st, ast.FunctionDef) and st.name.startswith("get_all"):
            ret = next((n for n in ast.walk(st) if isinstance(n, ast.Return)), None)
            if ret is None:
                continue
            if isinstance(ret.value, ast.Call) and isinstance(ret.value.func, ast.Name):
                if ret.value.func.id == "get_model_names_with_tag" and isinstance(ret.value.args[0], ast.Name):
                    ok, tag = mods.constant(mmr, ret.value.args[0].id)
                    if ok:
                        func_terms[st.name] = {"tag": tag}
                elif ret.value.func.id == "list":
                    func_terms[st.name] = {"all": True}

    def terms(e: ast.expr) -> list[dict[str, Any]]:
        if isinstance(e, ast.List):
            ok, lit = _literal(e)
            if ok:
                return [{"models": lit}]
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            return terms(e.left) + terms(e.right)
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name):
            if e.func.id == "get_model_names_with_tag" and e.args and isinstance(e.args[0], ast.Name):
                ok, tag = mods.constant(_RE, e.args[0].id)
                if ok:
                    return [{"tag": tag}]
            if e.func.id in func_terms:
                return [dict(func_terms[e.func.id])]
        raise CatalogBuildError(f"cannot read model group value: {_src(e, text)}")

    groups: dict[str, Any] = {}
    ablation_tag = None
    excluded: list[str] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            tgt = node.targets[0].id
            if tgt == "values_dict" and isinstance(node.value, ast.Dict):
                for k, v in zip(node.value.keys, node.value.values):
                    ok, key = _literal(k)
                    if ok:
                        groups[key] = terms(v)
            for call in ast.walk(node.value):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == "get_model_names_with_tag"
                    and call.args
                    and isinstance(call.args[0], ast.Name)
                ):
                    ok, tag = mods.constant(_RE, call.args[0].id)
                    if not ok:
                        continue
                    if tgt == "ablation_models":
                        ablation_tag = tag
                    elif tgt in ("deprecated_models", "unsupported_models"):
                        excluded.append(tag)
    if not groups:
        raise CatalogBuildError("values_dict of get_model_group_to_model_names not found")
    # The ablation loop: `"ablation_" + family_name`, with "ablation_all" stored as "ablation".
    consts = [n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    ablation = None
    if ablation_tag is not None and "ablation_" in consts:
        ablation = {"tag": ablation_tag, "prefix": "ablation_", "all_alias": "ablation" if "ablation" in consts else None}
    return {"groups": groups, "ablation": ablation, "excluded_tags": excluded}


def build_wildcard_guard(mods: _Modules) -> list[str]:
    """The wildcard names helm-run's models-to-run check knows (its regex in run.py)."""
    import re

    text, _ = mods.get("helm/benchmark/run.py")
    m = re.search(r"model=\(\?:([a-z_|]+)\)", text)
    return m.group(1).split("|") if m else []


# ---------------------------------------------------------------- deployment generators


def build_generators(mods: _Modules) -> list[dict[str, Any]]:
    out = []
    for rel in mods.src.modules_in("helm/benchmark/model_deployments"):
        _, tree = mods.get(rel)
        for node, prefix in _registered_by(tree, "model_deployment_generator"):
            body = ast.unparse(node)
            # All generators of 0.5.16 name the model with the last two parts.
            rule = "last_two_parts" if "name_parts[-2:]" in body else None
            min_parts = 3 if "len(name_parts) < 3" in body else 2
            out.append(
                {
                    "prefix": prefix.strip("/") + "/",
                    "module": rel[:-3].replace("/", "."),
                    "model_name": rule,
                    "min_parts": min_parts,
                    "network": "create_tokenizer" in body,
                }
            )
    return out


# ---------------------------------------------------------------- YAML configs


def _yaml_load(text: str) -> Any:
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - yaml comes with crfm-helm
        raise CatalogBuildError("PyYAML is needed to read HELM's config files (pip install pyyaml)") from e
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        raise CatalogBuildError(f"invalid YAML: {e}") from e


def read_model_metadata(text: str) -> list[dict[str, Any]]:
    raw = _yaml_load(text) or {}
    out = []
    for m in raw.get("models") or []:
        out.append(
            {
                "name": m["name"],
                "tags": list(m.get("tags") or []),
                "deployment_names": m.get("deployment_names"),
                "display_name": m.get("display_name"),
            }
        )
    return out


def read_model_deployments(text: str) -> list[dict[str, Any]]:
    raw = _yaml_load(text) or {}
    out = []
    for d in raw.get("model_deployments") or []:
        out.append(
            {
                "name": d["name"],
                "model_name": d.get("model_name") or d["name"],  # ModelDeployment.__post_init__
                "tokenizer_name": d.get("tokenizer_name"),
                "deprecated": bool(d.get("deprecated", False)),
            }
        )
    return out


def read_tokenizers(text: str) -> list[str]:
    raw = _yaml_load(text) or {}
    return [t["name"] for t in raw.get("tokenizer_configs") or []]


def build_unknown_model_tags(mods: _Modules) -> list[str]:
    """Tags of get_unknown_model_metadata: what a model without metadata gets when a deployment
    (or --enable-huggingface-models) registers it; they put it into `text` and `all`."""
    mmr = "helm/benchmark/model_metadata_registry.py"
    _, tree = mods.get(mmr)
    for st in tree.body:
        if isinstance(st, ast.FunctionDef) and st.name == "get_unknown_model_metadata":
            for n in ast.walk(st):
                if isinstance(n, ast.keyword) and n.arg == "tags" and isinstance(n.value, ast.List):
                    out = []
                    for e in n.value.elts:
                        ok, v = mods.constant(mmr, e.id) if isinstance(e, ast.Name) else _literal(e)
                        if ok:
                            out.append(v)
                    return out
    raise CatalogBuildError("get_unknown_model_metadata not found")


def build_tags(mods: _Modules) -> dict[str, str]:
    _, tree = mods.get("helm/benchmark/model_metadata_registry.py")
    return {k: v for k, v in _module_constants(tree).items() if k.endswith("_TAG") and isinstance(v, str)}


# ---------------------------------------------------------------- the whole catalog


def build_catalog(src: HelmSource) -> dict[str, Any]:
    mods = _Modules(src)
    cfg = "helm/config/"
    return {
        "format": CATALOG_FORMAT,
        "helm_version": src.version,
        "run_spec_functions": _with_argument_values(build_run_spec_functions(mods), mods),
        "expanders": build_expanders(mods),
        "alter_steps": build_alter_steps(mods),
        "model_groups": build_model_groups(mods),
        "wildcard_guard": build_wildcard_guard(mods),
        "tags": build_tags(mods),
        "unknown_model_tags": build_unknown_model_tags(mods),
        "models": read_model_metadata(src.read(cfg + "model_metadata.yaml")),
        "deployments": read_model_deployments(src.read(cfg + "model_deployments.yaml")),
        "tokenizers": read_tokenizers(src.read(cfg + "tokenizer_configs.yaml")),
        "deployment_generators": build_generators(mods),
    }


def _with_argument_values(functions: list[dict[str, Any]], mods: _Modules) -> list[dict[str, Any]]:
    from .build_values import add_argument_values

    add_argument_values(functions, mods)
    return functions


def dump_catalog(cat: dict[str, Any], stream: io.TextIOBase | Any, compact: bool = True) -> None:
    if compact:
        json.dump(cat, stream, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    else:
        json.dump(cat, stream, indent=1, ensure_ascii=False)
    stream.write("\n")


def iter_plugin_sources(spec: str) -> Iterator[tuple[str, str, str]]:
    """(path, module name, text) for a --plugins value: a path to a .py file or a module name
    found on sys.path without importing it (a package yields its __init__)."""
    import importlib.util

    if "/" in spec or "\\" in spec or os.path.exists(spec):
        yield spec, os.path.splitext(os.path.basename(spec))[0], _plugin_text(spec)
        return
    try:
        ms = importlib.util.find_spec(spec) if "." not in spec else _find_dotted(spec)
    except (ImportError, ValueError):
        ms = None
    if ms is None or not ms.origin or not ms.origin.endswith(".py"):
        raise CatalogBuildError(f"plugin module {spec!r} not found")
    yield ms.origin, spec, _plugin_text(ms.origin)


def _plugin_text(path: str) -> str:
    """A plugin's source, read as helmc reads every input (a regular file, size-limited);
    raises OSError or CatalogBuildError (not UTF-8)."""
    from ..files.reading import read_input_bytes

    import tokenize

    data = read_input_bytes(path)
    try:  # as Python reads source: UTF-8 unless a coding declaration says otherwise
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except SyntaxError as e:  # not UTF-8 and no declaration, or an unknown one
        why = getattr(e, "msg", None) or str(e)
        if "invalid or missing" in why:
            why = "not valid UTF-8, and it declares no other encoding; Python could not import it either"
        raise CatalogBuildError(f"plugin {path}: {why}") from None
    except UnicodeDecodeError as e:
        raise CatalogBuildError(
            f"plugin {path} is not valid {e.encoding} (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "Python could not import it either"
        ) from None


def _find_dotted(name: str):
    """find_spec for a dotted name without importing the parent packages."""
    import importlib.machinery
    import sys

    parts = name.split(".")
    path = None
    spec = None
    for i, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, path if path is not None else sys.path)
        if spec is None:
            return None
        if i < len(parts) - 1:
            path = list(spec.submodule_search_locations or [])
    return spec
