"""What HELM's config YAML files may hold, read statically from crfm-helm's source.

`helmc catalog build` writes this next to the main catalog (data/helm-config-<version>.json);
compiler/prodenv/check.py checks prod_env/*.yaml against it. Nothing here imports HELM:

- the dataclasses the files are structured into (ModelDeployments -> ModelDeployment ->
  ClientSpec ...), with each field's annotation, default and docstring, and which library
  structures the file (cattrs and dacite differ on what a missing Optional field means);
- the tag constants of model_metadata_registry and the `access` values its docstring lists;
- every client, tokenizer and window service class with its constructor's parameters, what
  it does with **kwargs, the names HELM injects when creating it, and the crfm-helm extra its
  module needs (the import guards `handle_module_not_found_error(e, ["extra"])`, followed
  through helm imports);
- the extras of crfm-helm's package metadata and the modules they install.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .build import CatalogBuildError, HelmSource, _literal, _Modules, _registered_by, _src
from ..files.reading import read_input_text

CONFIG_FORMAT = 1

# The file HELM reads (config_registry) -> the module and function that registers it.
_REGISTRARS = {
    "model_metadata.yaml": ("helm/benchmark/model_metadata_registry.py", "register_model_metadata_from_path"),
    "tokenizer_configs.yaml": ("helm/benchmark/tokenizer_config_registry.py", "register_tokenizer_configs_from_path"),
    "model_deployments.yaml": ("helm/benchmark/model_deployment_registry.py", "register_model_deployments_from_path"),
    "runner_config.yaml": ("helm/benchmark/runner_config_registry.py", "register_runner_config_from_path"),
}

# Packages whose classes an ObjectSpec may name, and the root class of each kind.
_KINDS = {
    "client": ("helm/clients", "helm.clients.client.Client", "helm/clients/auto_client.py"),
    "tokenizer": ("helm/tokenizers", "helm.tokenizers.tokenizer.Tokenizer", "helm/tokenizers/auto_tokenizer.py"),
    "window_service": (
        "helm/benchmark/window_services",
        "helm.benchmark.window_services.window_service.WindowService",
        "helm/benchmark/window_services/window_service_factory.py",
    ),
}


def _rel_of(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _module_of(rel: str) -> str:
    rel = rel[:-3] if rel.endswith(".py") else rel
    return rel.removesuffix("/__init__").replace("/", ".")


def _exists(mods: _Modules, module: str) -> str | None:
    for rel in (_rel_of(module), module.replace(".", "/") + "/__init__.py"):
        if mods.src.exists(rel):
            return rel
    return None


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for d in cls.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        if (isinstance(f, ast.Name) and f.id == "dataclass") or (isinstance(f, ast.Attribute) and f.attr == "dataclass"):
            return True
    return False


def _field_rows(cls: ast.ClassDef, text: str) -> list[dict[str, Any]]:
    """The annotated fields of a dataclass body, each with the docstring that follows it."""
    rows: list[dict[str, Any]] = []
    body = cls.body
    for i, st in enumerate(body):
        if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
            continue
        row: dict[str, Any] = {"name": st.target.id, "annotation": _src(st.annotation, text), "has_default": st.value is not None}
        if st.value is not None:
            v = st.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "field":
                kw = {k.arg: k.value for k in v.keywords}
                if "default" in kw:
                    ok, lit = _literal(kw["default"])
                    row["default"] = lit if ok else None
                elif "default_factory" in kw:
                    row["default_factory"] = _src(kw["default_factory"], text)
            else:
                ok, lit = _literal(v)
                row["default"] = lit if ok else None
        nxt = body[i + 1] if i + 1 < len(body) else None
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            row["doc"] = " ".join(nxt.value.value.split())
        rows.append(row)
    return rows


def _classes_of(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {st.name: st for st in tree.body if isinstance(st, ast.ClassDef)}


def _resolve_name(mods: _Modules, rel: str, name: str) -> str | None:
    """The full dotted name a bare or dotted name in module `rel` refers to, when it is a helm
    class (defined there or imported with `from helm... import`)."""
    _, tree = mods.get(rel)
    if name in _classes_of(tree):
        return f"{_module_of(rel)}.{name}"
    for st in tree.body:
        if isinstance(st, ast.ImportFrom) and st.module and st.level == 0:
            for a in st.names:
                if (a.asname or a.name) == name:
                    return f"{st.module}.{a.name}"
    return None


class _ClassIndex:
    """Classes of helm modules by full dotted name, parsed on demand."""

    def __init__(self, mods: _Modules) -> None:
        self.mods = mods

    def find(self, full: str) -> tuple[str, ast.ClassDef] | None:
        module, _, name = full.rpartition(".")
        if not module.startswith("helm"):
            return None
        rel = _exists(self.mods, module)
        if rel is None:
            return None
        try:
            _, tree = self.mods.get(rel)
        except SyntaxError:
            return None
        cls = _classes_of(tree).get(name)
        if cls is not None:
            return rel, cls
        # re-exported from another helm module
        target = _resolve_name(self.mods, rel, name)
        if target and target != full:
            return self.find(target)
        return None

    def bases(self, rel: str, cls: ast.ClassDef) -> list[str]:
        """Full names of the bases; a base outside helm keeps its source text."""
        text, _ = self.mods.get(rel)
        out = []
        for b in cls.bases:
            src = _src(b, text) or ""
            head = src.split("[", 1)[0]
            full = _resolve_name(self.mods, rel, head) if "." not in head else head
            out.append(full or src)
        return out


def _init_of(cls: ast.ClassDef) -> ast.FunctionDef | None:
    for st in cls.body:
        if isinstance(st, ast.FunctionDef) and st.name == "__init__":
            return st
    return None


def _init_row(fn: ast.FunctionDef, text: str) -> dict[str, Any]:
    """The constructor's parameters (without self) and what it does with **kwargs."""
    a = fn.args
    positional = (a.posonlyargs + a.args)[1:]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = []
    for p, d in list(zip(positional, defaults)) + list(zip(a.kwonlyargs, a.kw_defaults)):
        row: dict[str, Any] = {"name": p.arg, "annotation": _src(p.annotation, text), "required": d is None}
        if d is not None:
            row["default"] = _src(d, text)
        params.append(row)
    out: dict[str, Any] = {"params": params, "var_keyword": a.kwarg is not None}
    if a.kwarg is not None:
        # "super": only handed to super().__init__ (the base's parameters are the real ones);
        # "used": read otherwise (handed to another callable, inspected); "ignored": never read.
        kw = a.kwarg.arg
        to_super = False
        star_reads = 0
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            for k in node.keywords:
                if k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kw:
                    star_reads += 1
                    f = node.func
                    if (
                        isinstance(f, ast.Attribute)
                        and f.attr == "__init__"
                        and isinstance(f.value, ast.Call)
                        and isinstance(f.value.func, ast.Name)
                        and f.value.func.id == "super"
                    ):
                        to_super = True
                    else:
                        out.setdefault("kwargs_to", []).append(_src(f, text))
        reads = sum(1 for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == kw)
        other = bool(out.get("kwargs_to")) or reads > star_reads
        out["kwargs"] = "used" if other else "super" if to_super else "ignored"
    return out


def _guards(tree: ast.Module) -> list[dict[str, Any]]:
    """Module-level `try: import x / except ModuleNotFoundError: handle_module_not_found_error(e, [extras])`."""
    out = []
    for st in tree.body:
        if not isinstance(st, ast.Try):
            continue
        modules: list[str] = []
        for s in st.body:
            if isinstance(s, ast.Import):
                modules += [a.name.split(".")[0] for a in s.names]
            elif isinstance(s, ast.ImportFrom) and s.module and s.level == 0:
                modules.append(s.module.split(".")[0])
        extras: list[str] = []
        for h in st.handlers:
            for n in ast.walk(h):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "handle_module_not_found_error":
                    if len(n.args) >= 2:
                        ok, lit = _literal(n.args[1])
                        if ok and isinstance(lit, list):
                            extras += [x for x in lit if isinstance(x, str)]
        modules = [m for m in dict.fromkeys(modules) if m != "helm"]
        if modules and extras:
            out.append({"modules": modules, "extras": extras})
    return out


def _helm_imports(tree: ast.Module) -> list[str]:
    """Helm modules a module imports at load time (module level, outside try blocks)."""
    out = []
    for st in tree.body:
        if isinstance(st, ast.ImportFrom) and st.module and st.module.startswith("helm") and st.level == 0:
            out.append(st.module)
        elif isinstance(st, ast.Import):
            out += [a.name for a in st.names if a.name.startswith("helm")]
    return out


def _module_needs(mods: _Modules, module: str, memo: dict[str, list[dict[str, Any]]], depth: int = 0) -> list[dict[str, Any]]:
    """The import guards a module runs when imported, its own and those of the helm modules it
    imports (transitively): what `get_class_by_name` needs installed."""
    if module in memo:
        return memo[module]
    memo[module] = []  # cycles
    rel = _exists(mods, module)
    if rel is None or depth > 12:
        return []
    try:
        _, tree = mods.get(rel)
    except SyntaxError:
        return []
    found = list(_guards(tree))
    for m in _helm_imports(tree):
        # `from helm.x import name` may import the module helm.x.name; both forms count
        for sub in (m,):
            for g in _module_needs(mods, sub, memo, depth + 1):
                if g not in found:
                    found.append(g)
    memo[module] = found
    return found


def _injected(mods: _Modules, rel: str) -> list[str]:
    """Names inject_object_spec_args fills in (constant and provider bindings) in `rel`."""
    _, tree = mods.get(rel)
    out: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "inject_object_spec_args":
            for k in n.keywords:
                if k.arg in ("constant_bindings", "provider_bindings") and isinstance(k.value, ast.Dict):
                    for key in k.value.keys:
                        ok, lit = _literal(key)
                        if ok and isinstance(lit, str):
                            out.append(lit)
    return list(dict.fromkeys(out))


def _all_modules(src: HelmSource, pkg: str) -> list[str]:
    """Every .py below a package (recursively), tests left out."""
    out = []
    stack = [pkg]
    while stack:
        p = stack.pop()
        for rel in src.modules_in(p):
            base = rel.rsplit("/", 1)[-1]
            if base.startswith("test"):
                continue
            if rel.endswith("/__init__.py"):
                stack.append(rel[: -len("/__init__.py")])
                out.append(rel)
            else:
                out.append(rel)
    return sorted(out)


def build_classes(mods: _Modules) -> dict[str, Any]:
    idx = _ClassIndex(mods)
    memo: dict[str, list[dict[str, Any]]] = {}
    out: dict[str, Any] = {}
    for kind, (pkg, root, injector) in _KINDS.items():
        classes: dict[str, Any] = {}
        for rel in _all_modules(mods.src, pkg):
            try:
                _, tree = mods.get(rel)
            except SyntaxError:
                continue
            module = _module_of(rel)
            for name, cls in _classes_of(tree).items():
                full = f"{module}.{name}"
                # walk the bases (left first) for the root class and the first __init__
                mro: list[str] = []
                todo = [full]
                while todo:
                    c = todo.pop(0)
                    if c in mro:
                        continue
                    mro.append(c)
                    found = idx.find(c)
                    if found is not None:
                        todo[:0] = [b for b in idx.bases(*found) if b.startswith("helm")]
                if root not in mro or full == root:
                    continue
                row: dict[str, Any] = {
                    "module": module,
                    "bases": idx.bases(rel, cls),
                    "abstract": any(
                        isinstance(d, ast.Name) and d.id == "abstractmethod"
                        for st in cls.body
                        if isinstance(st, ast.FunctionDef)
                        for d in st.decorator_list
                    ),
                }
                init = _init_of(cls)
                if init is not None:
                    text, _ = mods.get(rel)
                    row["init"] = _init_row(init, text)
                needs = _module_needs(mods, module, memo)
                if needs:
                    row["needs"] = needs
                classes[full] = row
        out[kind] = {"root": root, "injected": _injected(mods, injector), "classes": classes}
    return out


def build_dataclasses(mods: _Modules) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dataclasses the four files are structured into, and per file its root class and
    the library that structures it."""
    classes: dict[str, Any] = {}
    files: dict[str, Any] = {}
    idx = _ClassIndex(mods)

    def add(full: str) -> None:
        if full in classes:
            return
        found = idx.find(full)
        if found is None:
            raise CatalogBuildError(f"class {full} not found")
        rel, cls = found
        text, _ = mods.get(rel)
        fields: list[dict[str, Any]] = []
        bases = [b for b in idx.bases(rel, cls) if b.startswith("helm")]
        for b in bases:  # dataclass fields of helm bases come first (ObjectSpec)
            add(b)
            fields += classes[b]["fields"]
        own = _field_rows(cls, text) if _is_dataclass(cls) or fields else []
        names = {f["name"] for f in own}
        fields = [f for f in fields if f["name"] not in names] + own
        classes[full] = {"module": _module_of(rel), "fields": fields, "bases": bases}
        for f in own:
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.get("annotation") or ""):
                target = _resolve_name(mods, rel, word)
                if target and target != full and idx.find(target) is not None:
                    f.setdefault("classes", []).append(target)
                    add(target)

    for fname, (rel, func) in _REGISTRARS.items():
        text, tree = mods.get(rel)
        fn = next((st for st in tree.body if isinstance(st, ast.FunctionDef) and st.name == func), None)
        if fn is None:
            raise CatalogBuildError(f"{func} not found in {rel}")
        loader = root = None
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name):
                lib, attr = n.func.value.id, n.func.attr
                if lib == "cattrs" and attr == "structure" and len(n.args) == 2 and isinstance(n.args[1], ast.Name):
                    loader, root = "cattrs", n.args[1].id
                elif lib == "dacite" and attr == "from_dict" and n.args and isinstance(n.args[0], ast.Name):
                    loader, root = "dacite", n.args[0].id
        if root is None:
            raise CatalogBuildError(f"{func} in {rel} structures no dataclass that helmc recognises")
        full = f"{_module_of(rel)}.{root}"
        add(full)
        files[fname] = {"root": full, "loader": loader, "module": _module_of(rel), "function": func}
    return classes, files


def build_access_values(classes: dict[str, Any]) -> list[str]:
    """The `access` values ModelMetadata's docstring lists (`- "open": ...`)."""
    for c in classes.values():
        for f in c["fields"]:
            if f["name"] == "access" and f.get("doc"):
                return re.findall(r'-\s*"([a-z]+)"\s*:', f["doc"])
    raise CatalogBuildError("ModelMetadata.access has no docstring listing its values")


def build_extras(src: HelmSource) -> dict[str, list[str]]:
    """crfm-helm's extras -> the distributions each installs (from its package metadata)."""
    text = _metadata_text(src)
    extras: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("Provides-Extra:"):
            extras.setdefault(line.split(":", 1)[1].strip(), [])
        elif line.startswith("Requires-Dist:") and "extra ==" in line:
            m = re.match(r"Requires-Dist:\s*([A-Za-z0-9_.\-\[\]]+)", line)
            e = re.search(r'extra\s*==\s*"([^"]+)"', line)
            if m and e:
                extras.setdefault(e.group(1), []).append(m.group(1))
    return extras


def _metadata_text(src: HelmSource) -> str:
    import os

    if src.wheel is not None:
        for n in src.wheel.namelist():
            if n.endswith(".dist-info/METADATA"):
                return src.wheel.read(n).decode("utf-8", "replace")
        return ""
    try:
        names = sorted(os.listdir(src.root))
    except OSError:
        return ""
    for n in names:
        if n.startswith("crfm_helm-") and n.endswith(".dist-info"):
            try:
                return read_input_text(os.path.join(src.root, n, "METADATA"))
            except (OSError, ValueError):
                return ""
    return ""


def build_tokenizer_generators(mods: _Modules) -> list[str]:
    """Name prefixes of the tokenizer config generators (`@tokenizer_config_generator("huggingface")`):
    get_tokenizer_config makes a config for any name that starts with one."""
    out = []
    for rel in mods.src.modules_in("helm/benchmark/tokenizer_configs"):
        _, tree = mods.get(rel)
        for _node, prefix in _registered_by(tree, "tokenizer_config_generator"):
            if isinstance(prefix, str):
                out.append(prefix.strip("/") + "/")
    return out


def build_config_catalog(src: HelmSource) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():  # invalid escapes in some HELM modules warn on ast.parse
        warnings.simplefilter("ignore")
        return _build(src)


def _build(src: HelmSource) -> dict[str, Any]:
    mods = _Modules(src)
    classes, files = build_dataclasses(mods)
    from .build import build_tags

    return {
        "format": CONFIG_FORMAT,
        "helm_version": src.version,
        "files": files,
        "dataclasses": classes,
        "access_values": build_access_values(classes),
        "tags": sorted(set(build_tags(mods).values())),
        "object_classes": build_classes(mods),
        "tokenizer_generators": build_tokenizer_generators(mods),
        "extras": build_extras(src),
    }
