"""helm-check for HELM's config YAML files: prod_env/{model_deployments,model_metadata,
tokenizer_configs,runner_config}.yaml (HC06xx).

HELM reads them with yaml.safe_load, then structures them with cattrs or dacite, both of which
drop unknown keys without a word; names are checked only when a request is made, hours later.
This module reads the files, checks names across them (classes, constructor arguments,
tokenizers, metadata, duplicates, extras) against the config catalog
(compiler/catalog/data/helm-config-*.json, built by compiler/catalog/build_config.py) and the main catalog's
built-in names, and hands each file's values to compiler/prodenv/fields.py; positions are those
PyYAML's own marks give (config_yaml.py). Each file is read and parsed once per process (per content):
the checks and the catalog's --local-path additions share the parse.
"""

from __future__ import annotations

import errno
import importlib.util
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..catalog.store import SNAPSHOT_VERSION, cache_dir, data_path, installed_version, load_catalog_data, read_json
from .config_file import ConfigFile
from ..diagnostics import Diagnostic, DiagnosticSink, Fix, Label, Severity, diag
from ..resolve.suggest import closest, did_you_mean_applicability
from .fields import TOP_LISTS as _TOP, check_structure
from ..source import SourceFile

if TYPE_CHECKING:
    from ..syntax.config_yaml import YamlDoc, YNode

CONFIG_FILES = ("model_metadata.yaml", "tokenizer_configs.yaml", "model_deployments.yaml", "runner_config.yaml")

# ---------------------------------------------------------------- the config catalog

_CFG: dict[str, Any] = {}


def load_config_catalog() -> dict[str, Any]:
    """helm-config-<version>.json: the snapshot, or one built from an installed crfm-helm of
    another version (cached like the main catalog)."""
    if "data" in _CFG:
        return _CFG["data"]
    here = data_path(f"helm-config-{SNAPSHOT_VERSION}.json")
    data = read_json(here)
    inst = installed_version()
    if inst and inst != data.get("helm_version"):
        cache = os.path.join(cache_dir(), f"helm-config-{inst}.json")
        try:
            data = read_json(cache)
        except (OSError, ValueError):
            from ..catalog import build as cb
            from ..catalog.build_config import build_config_catalog

            try:
                data = build_config_catalog(cb.open_source(None))
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                with open(cache + f".{os.getpid()}.tmp", "w", encoding="utf-8") as f:
                    cb.dump_catalog(data, f)
                os.replace(cache + f".{os.getpid()}.tmp", cache)
            except (cb.CatalogBuildError, SyntaxError, OSError, KeyError):
                pass  # keep the snapshot
    _CFG["data"] = data
    return data


def is_config_file(path: str) -> bool:
    return os.path.basename(path) in CONFIG_FILES


# ---------------------------------------------------------------- reading, once


_READ: dict[tuple, ConfigFile | None] = {}


def read_config_file(path: str, text: str | None = None) -> ConfigFile | None:
    """Read and compose one config file; the same path with the same content is parsed once.
    None when nothing has the name (HELM skips it then). HELM skips a FIFO, a folder, a broken
    or looping link there too, without a word: helmc reads it as any input, so it says why."""
    from ..syntax.config_yaml import YamlDoc, read_yaml  # PyYAML: imported only when a config file is read
    from ..syntax.frontend import read_source

    if text is None:
        try:
            st = os.stat(path)
        except OSError:
            try:
                st = os.lstat(path)  # a broken or looping link: read_source says which
            except OSError:
                return None
        key: tuple = (os.path.abspath(path), path, st.st_mtime_ns, st.st_size)
    else:
        key = (os.path.abspath(path), path, "text", text)
    if key in _READ:
        return _READ[key]
    if text is not None:  # an editor's text replaces the previous one of the same file
        for old in [k for k in _READ if k[:3] == key[:3]]:
            del _READ[old]
    sink = DiagnosticSink()
    source = SourceFile(path, text) if text is not None else read_source(path, sink)
    if source is None:
        cf = ConfigFile(os.path.basename(path), SourceFile(path, ""), YamlDoc(SourceFile(path, ""), None, True), tuple(sink.items))
    else:
        doc = read_yaml(source, sink)
        cf = ConfigFile(os.path.basename(path), source, doc, tuple(sink.items))
    _READ[key] = cf
    return cf


@dataclass(slots=True)
class ConfigFolder:
    """The config files of one folder, as HELM's register_configs_from_directory reads them."""

    path: str
    files: dict[str, ConfigFile] = field(default_factory=dict)


def read_folder(path: str, texts: Mapping[str, str] | None = None) -> ConfigFolder:
    folder = ConfigFolder(path)
    for name in CONFIG_FILES:
        p = os.path.join(path, name) if path else name
        given = (texts or {}).get(os.path.abspath(p))
        cf = read_config_file(p, given)
        if cf is not None:
            folder.files[name] = cf
    return folder


# ---------------------------------------------------------------- the files


def _str(node: YNode | None) -> str | None:
    if node is None or node.kind != "scalar" or node.error is not None:
        return None
    v = node.value
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return None


def _items(cf: ConfigFile | None, key: str) -> list[YNode]:
    """The mappings of the file's top-level list (`model_deployments: [...]`)."""
    if cf is None or cf.doc.root is None or cf.doc.root.kind != "map":
        return []
    lst = cf.doc.root.get(key)
    return [i for i in lst.items() if i.kind == "map"] if lst is not None else []


def registrations(folder: ConfigFolder) -> tuple[list[dict], list[str], list[dict]]:
    """What HELM registers from the folder, in the shapes the catalog takes (read_model_metadata,
    read_tokenizers, read_model_deployments): items without a usable name are left out, since
    helm-check reports them."""
    models = []
    for m in _items(folder.files.get("model_metadata.yaml"), "models"):
        name = _str(m.get("name"))
        if name is None:
            continue
        tags = m.get("tags")
        dn = m.get("deployment_names")
        models.append(
            {
                "name": name,
                "tags": [t.value for t in tags.items() if isinstance(t.value, str)] if tags is not None else [],
                "deployment_names": [d.value for d in dn.items() if isinstance(d.value, str)] if dn is not None and dn.kind == "seq" else None,
                "display_name": _str(m.get("display_name")),
            }
        )
    tokenizers = [n for n in (_str(t.get("name")) for t in _items(folder.files.get("tokenizer_configs.yaml"), "tokenizer_configs")) if n]
    deployments = []
    for d in _items(folder.files.get("model_deployments.yaml"), "model_deployments"):
        name = _str(d.get("name"))
        if name is None:
            continue
        dep = d.get("deprecated")
        deployments.append(
            {
                "name": name,
                "model_name": _str(d.get("model_name")) or name,
                "tokenizer_name": _str(d.get("tokenizer_name")),
                "deprecated": bool(dep.value) if dep is not None and dep.kind == "scalar" else False,
            }
        )
    return models, tokenizers, deployments


def local_registrations(path: str) -> tuple[list[dict], list[str], list[dict]] | None:
    """registrations() of a --local-path folder, sharing the parse with helm-check; None when
    the folder holds none of the files."""
    folder = read_folder(path)
    if not any(n in folder.files for n in _TOP):
        return None
    return registrations(folder)


# ---------------------------------------------------------------- names across files


def _one_edit(a: str, b: str) -> bool:
    """Damerau distance 1: one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    s, t = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(s) and s[i] == t[i]:
        i += 1
    return s[i:] == t[i + 1 :]


@dataclass(slots=True)
class _Accepts:
    named: dict[str, str]  # parameter -> class that declares it
    required: list[str]
    open_to: str | None  # "**kwargs of X, passed on to Y": any key is taken
    ignored_by: str | None  # "**kwargs of X, which never uses them"


def _plugin_classes(plugins: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Classes of --plugins modules (read statically), as `module.Class` -> constructor row."""
    import ast

    from ..catalog.build import iter_plugin_sources, CatalogBuildError
    from ..catalog.build_config import _init_row

    out: dict[str, dict[str, Any]] = {}
    for spec in plugins:
        try:
            for _, module, text in iter_plugin_sources(spec):
                tree = ast.parse(text)
                for st in tree.body:
                    if isinstance(st, ast.ClassDef):
                        init = next((b for b in st.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
                        out[f"{module}.{st.name}"] = {"init": _init_row(init, text)} if init is not None else {}
        except (CatalogBuildError, OSError, SyntaxError, UnicodeDecodeError):
            continue
    return out


class _Names:
    """What the checks look names up in: HELM's built-in configs, the local files, plugins."""

    def __init__(self, cfg: dict[str, Any], builtin: dict[str, Any], plugins: Iterable[str]) -> None:
        self.cfg = cfg
        self.builtin_models = {m["name"] for m in builtin.get("models", ())}
        self.builtin_deployments = {d["name"] for d in builtin.get("deployments", ())}
        self.builtin_tokenizers = set(builtin.get("tokenizers", ()))
        self.kinds = cfg["object_classes"]
        self.plugins = _plugin_classes(plugins)
        self.helm_installed = importlib.util.find_spec("helm") is not None
        self._found: dict[str, bool] = {}

    def kind_of(self, full: str) -> str | None:
        for kind, data in self.kinds.items():
            if full in data["classes"]:
                return kind
        return None

    def row(self, full: str) -> dict[str, Any] | None:
        for data in self.kinds.values():
            if full in data["classes"]:
                return data["classes"][full]
        return self.plugins.get(full)

    def accepts(self, full: str) -> _Accepts | None:
        """The keys `args` may hold for the class: its constructor's parameters, then those of
        the bases **kwargs is handed to."""
        named: dict[str, str] = {}
        required: list[str] = []
        cur: str | None = full
        first = True
        seen: set[str] = set()
        while cur is not None and cur not in seen:
            seen.add(cur)
            row = self.row(cur)
            if row is None:
                return _Accepts(named, required, f"**kwargs, handed to `{cur}`", None) if not first else None
            init = row.get("init")
            if init is None:  # inherited: the first base that has a helm row
                bases = [b for b in row.get("bases", ()) if self.row(b) is not None]
                cur = bases[0] if bases else None
                if cur is None:
                    return _Accepts(named, required, None, None)  # object.__init__: nothing
                continue
            short = cur.rsplit(".", 1)[-1]
            for p in init["params"]:
                named.setdefault(p["name"], short)
                if first and p["required"]:
                    required.append(p["name"])
            first = False
            if not init.get("var_keyword"):
                return _Accepts(named, required, None, None)
            if init.get("kwargs") == "used":
                to = init.get("kwargs_to")
                return _Accepts(named, required, f"**kwargs of `{short}`" + (f", passed on to `{to[0]}`" if to else ""), None)
            if init.get("kwargs") == "ignored":
                return _Accepts(named, required, None, f"**kwargs of `{short}`, which never uses them")
            bases = [b for b in row.get("bases", ()) if self.row(b) is not None]
            if not bases:
                ext = [b for b in row.get("bases", ()) if not b.startswith("helm")]
                return _Accepts(named, required, f"**kwargs of `{short}`, passed on to `{ext[0] if ext else 'its base'}`", None)
            cur = bases[0]
        return _Accepts(named, required, None, None)

    def module_exists(self, module: str) -> bool:
        if module not in self._found:
            from ..catalog.build import _find_dotted

            try:
                self._found[module] = _find_dotted(module) is not None
            except (ImportError, ValueError, OSError):
                self._found[module] = False
        return self._found[module]


def _check_object_spec(node: YNode | None, kind: str, names: _Names, sink: DiagnosticSink, injected_extra: tuple[str, ...] = ()) -> None:
    """`client_spec` / `tokenizer_spec` / `window_service_spec`: class_name and args."""
    if node is None or node.kind != "map":
        return
    cls_node = node.get("class_name")
    cls = _str(cls_node)
    if cls is None or cls_node is None:
        return
    kind_words = kind.replace("_", " ")
    known = names.kinds[kind]["classes"]
    row = names.row(cls)
    if cls.startswith("helm.") or cls.startswith("helm") and "." not in cls:
        if cls not in known:
            other = names.kind_of(cls)
            if other is not None:
                sink.add(
                    diag(
                        "HC0609",
                        f"`{cls}` is a {other.replace('_', ' ')} class, not a {kind_words} class",
                        cls_node.span,
                        f"not a {kind_words}",
                        help=f"name a {kind_words} class here",
                    )
                )
                return
            short = cls.rsplit(".", 1)[-1]
            same = [c for c in known if c.rsplit(".", 1)[-1].lower() == short.lower()]
            near = same or closest(cls, known, cutoff=0.75)
            if not near:
                near = [c for c in known if c.rsplit(".", 1)[-1] in closest(short, [k.rsplit(".", 1)[-1] for k in known], n=1, cutoff=0.8)]
            sink.add(
                diag(
                    "HC0609",
                    f"no {kind_words} class `{cls}` in crfm-helm",
                    cls_node.span,
                    "no such class",
                    help=f"did you mean `{near[0]}`?" if near else f"`helmc catalog` lists HELM's classes; a class of your own goes in a module on the path or in --plugins",
                    fixes=[Fix(cls_node.span, near[0], did_you_mean_applicability(cls, near[0], known))] if near else [],
                    notes=[f"HELM imports the class only when it first needs the {kind_words}: the run fails then, after everything before it ran"],
                )
            )
            return
    elif row is None:
        module = cls.rpartition(".")[0]
        if not module or not names.module_exists(module):
            sink.add(
                diag(
                    "HC0609",
                    f"`{cls}`: no module `{module or cls}` is importable here, nor given in --plugins",
                    cls_node.span,
                    "module not found",
                    help="install the package that provides it, or name the module with --plugins",
                    notes=[
                        "HELM's get_class_by_name raises ModuleNotFoundError when it first needs the class; "
                        "a warning, since helm-run may run where the module is installed"
                    ],
                    severity=Severity.WARNING,
                )
            )
        return  # a module of the user's own: its constructor is not known statically
    if row is None:
        return
    # optional extras the class's module needs
    if names.helm_installed:
        for need in row.get("needs", ()):
            missing = [m for m in need["modules"] if not names.module_exists(m)]
            if missing:
                extras = need["extras"]
                sink.add(
                    diag(
                        "HC0617",
                        f"`{cls.rsplit('.', 1)[-1]}` needs `{missing[0]}`, which is not installed",
                        cls_node.span,
                        f"needs crfm-helm[{extras[0]}]",
                        help=f'pip install "crfm-helm[{extras[0]}]"',
                        notes=[
                            f"HELM cannot import the class (ModuleNotFoundError or OptionalDependencyNotInstalled) "
                            f"when it first creates the {kind_words}, after the runs before it"
                        ],
                    )
                )
                break
    acc = names.accepts(cls)
    if acc is None:
        return
    args = node.get("args")
    given: set[str] = set()
    injected = set(names.kinds[kind]["injected"]) | set(injected_extra)
    short = cls.rsplit(".", 1)[-1]
    if args is not None and args.kind == "map":
        for k, _ in args.pairs():
            key = k.value if k.kind == "scalar" else None
            if not isinstance(key, str):
                continue
            given.add(key)
            if key in acc.named:
                continue
            near = [n for n in acc.named if _one_edit(key, n)]
            if acc.open_to is not None:
                if near:
                    sink.add(
                        diag(
                            "HC0611",
                            f"`{key}` is not a parameter of `{short}`; it goes to {acc.open_to}",
                            k.span,
                            f"did you mean `{near[0]}`?",
                            help=f"did you mean `{near[0]}`?",
                            fixes=[Fix(k.span, near[0], did_you_mean_applicability(key, near[0], acc.named))],
                            notes=[f"`{near[0]}` then keeps its default"],
                        )
                    )
                continue
            if acc.ignored_by is not None:
                sink.add(
                    diag(
                        "HC0612",
                        f"`{key}` is not a parameter of `{short}`; it goes to {acc.ignored_by}",
                        k.span,
                        "accepted and ignored",
                        help=f"did you mean `{near[0]}`?" if near else "remove it",
                        fixes=[Fix(k.span, near[0], did_you_mean_applicability(key, near[0], acc.named))] if near else [],
                    )
                )
                continue
            cands = closest(key, list(acc.named))
            params = ", ".join(f"`{n}`" for n in acc.named if n not in injected) or "none besides those HELM injects"
            sink.add(
                diag(
                    "HC0610",
                    f"`{short}` takes no argument `{key}`",
                    k.span,
                    "not a parameter",
                    help=f"did you mean `{cands[0]}`?" if cands else f"its parameters: {params}",
                    fixes=[Fix(k.span, cands[0], did_you_mean_applicability(key, cands[0], acc.named))] if cands else [],
                    notes=[f"HELM raises TypeError when it first creates the {kind_words}: the run fails then"],
                )
            )
    missing = [p for p in acc.required if p not in given and p not in injected]
    if missing:
        names_ = ", ".join(f"`{m}`" for m in missing)
        sink.add(
            diag(
                "HC0619",
                f"`{short}` needs {names_}, which neither `args` nor HELM provides",
                cls_node.span,
                f"needs {names_}",
                help=f"add {names_} under `args`",
                notes=[f"HELM raises TypeError when it first creates the {kind_words}"],
            )
        )


def check_names(folder: ConfigFolder, names: _Names, report: set[str], sink: DiagnosticSink) -> None:
    """Checks across the folder's files and HELM's built-in configs; diagnostics only for the
    files in `report`."""
    cfg = names.cfg
    md = folder.files.get("model_metadata.yaml")
    tc = folder.files.get("tokenizer_configs.yaml")
    dep = folder.files.get("model_deployments.yaml")
    local_models = {n for n in (_str(m.get("name")) for m in _items(md, "models")) if n}
    local_tokenizers = {n for n in (_str(t.get("name")) for t in _items(tc, "tokenizer_configs")) if n}

    def dupes(cf: ConfigFile | None, key: str, what: str, builtin: set[str]) -> None:
        if cf is None or cf.name not in report:
            return
        first: dict[str, YNode] = {}
        for item in _items(cf, key):
            n = item.get("name")
            name = _str(n)
            if name is None or n is None:
                continue
            if name in first:
                sink.add(
                    diag(
                        "HC0615",
                        f"{what} `{name}` is defined twice; HELM keeps the later one",
                        n.span,
                        "defined again here",
                        secondary=[Label(first[name].span, "first defined here")],
                        help="remove one of them, or rename it",
                    )
                )
                continue
            first[name] = n
            if name in builtin:
                sink.add(
                    diag(
                        "HC0616",
                        f"{what} `{name}` replaces the one crfm-helm ships",
                        n.span,
                        "replaces a built-in",
                        notes=["HELM reads prod_env after its own configs, so this one wins; rename it if that is not the intent"],
                    )
                )

    dupes(md, "models", "model", names.builtin_models)
    dupes(tc, "tokenizer_configs", "tokenizer", names.builtin_tokenizers)
    dupes(dep, "model_deployments", "model deployment", names.builtin_deployments)

    if md is not None and md.name in report:
        access_values = cfg["access_values"]
        tags = cfg["tags"]
        for m in _items(md, "models"):
            a = m.get("access")
            av = _str(a)
            if a is not None and av is not None and av not in access_values:
                near = closest(av, access_values)
                sink.add(
                    diag(
                        "HC0607",
                        f"access `{av}` is none of " + ", ".join(f"`{x}`" for x in access_values),
                        a.span,
                        "unknown access level",
                        help=f"did you mean `{near[0]}`?" if near else "open: weights downloadable; limited: behind an API; closed: not accessible",
                        fixes=[Fix(a.span, near[0], did_you_mean_applicability(av, near[0], access_values))] if near else [],
                        notes=["HELM stores it as written; its website groups models by these three values"],
                    )
                )
            tl = m.get("tags")
            for t in tl.items() if tl is not None else ():
                tv = t.value if t.kind == "scalar" and isinstance(t.value, str) else None
                if tv is not None and tv not in tags:
                    near = closest(tv, tags)
                    sink.add(
                        diag(
                            "HC0608",
                            f"unknown tag `{tv}`",
                            t.span,
                            "no such tag in HELM",
                            help=f"did you mean `{near[0]}`?" if near else "`helmc catalog schema model_metadata.yaml` lists HELM's tags",
                            fixes=[Fix(t.span, near[0], did_you_mean_applicability(tv, near[0], tags))] if near else [],
                            notes=["HELM keeps it without a word; no wildcard or run expander looks for it"],
                        )
                    )

    if tc is not None and tc.name in report:
        for t in _items(tc, "tokenizer_configs"):
            _check_object_spec(t.get("tokenizer_spec"), "tokenizer", names, sink)

    if dep is not None and dep.name in report:
        gens = tuple(cfg.get("tokenizer_generators", ()))
        all_tokenizers = names.builtin_tokenizers | local_tokenizers
        for d in _items(dep, "model_deployments"):
            _check_object_spec(d.get("client_spec"), "client", names, sink)
            _check_object_spec(d.get("window_service_spec"), "window_service", names, sink)
            tn = d.get("tokenizer_name")
            tname = _str(tn)
            if tn is not None and tname is not None and tname not in all_tokenizers and not tname.startswith(gens):
                near = closest(tname, sorted(all_tokenizers))
                sink.add(
                    diag(
                        "HC0613",
                        f"no tokenizer config `{tname}`, built in or in {os.path.join(folder.path, 'tokenizer_configs.yaml') if folder.path else 'tokenizer_configs.yaml'}",
                        tn.span,
                        "unknown tokenizer",
                        help=f"did you mean `{near[0]}`?" if near else "add it to tokenizer_configs.yaml"
                        + (f", or name one HELM makes on demand ({', '.join(g + '...' for g in gens)})" if gens else ""),
                        fixes=[Fix(tn.span, near[0], did_you_mean_applicability(tname, near[0], all_tokenizers))] if near else [],
                        notes=["HELM fails with \"Could not find tokenizer config\" when it first tokenizes, after the run started"],
                    )
                )
            n = d.get("name")
            name = _str(n)
            mn = d.get("model_name")
            model = _str(mn) or name
            at = mn if mn is not None and _str(mn) else n
            if model and at is not None and model not in local_models and model not in names.builtin_models:
                near = closest(model, sorted(local_models | names.builtin_models))
                sink.add(
                    diag(
                        "HC0614",
                        f"model `{model}` has no metadata, built in or in model_metadata.yaml",
                        at.span,
                        "no metadata for this model",
                        help=(f"did you mean `{near[0]}`? " if near else "") + "add an entry for it under `models:` in model_metadata.yaml",
                        notes=[
                            "HELM then registers placeholder metadata for it (creator \"Unknown\", access open, today's release date, tags "
                            + " and ".join(f"`{t}`" for t in _unknown_tags())
                            + "): it joins the text wildcards, and no tag of its own puts it in any other (instruction_following, vlm, ...)"
                        ],
                    )
                )


def _unknown_tags() -> list[str]:
    return list(load_catalog_data().get("unknown_model_tags") or ())


# ---------------------------------------------------------------- entry points


def check_folder(
    folder: ConfigFolder,
    sink: DiagnosticSink,
    report: Iterable[str] | None = None,
    plugins: Iterable[str] = (),
    names: bool = True,
) -> None:
    """Every check of the folder's files; diagnostics only for the files named in `report`
    (default: all of them), while the others still define names."""
    cfg = load_config_catalog()
    wanted = set(report) if report is not None else set(folder.files)
    for name, cf in folder.files.items():
        if name not in wanted:
            continue
        sink.extend(cf.diagnostics)
        check_structure(cf, cfg, sink)
    if names:
        check_names(folder, _Names(cfg, load_catalog_data(), plugins), wanted, sink)


def local_path_preflight(local_path: str | None, sink: DiagnosticSink, plugins: Iterable[str] = ()) -> None:
    """helm-run's preflight over the --local-path config files: helm-check's verdict on them.

    What stops HELM reading them at all, as helm-check reports it: a file that cannot be read
    (HC0901: HELM skips a FIFO or a folder without a word, and reads /dev/zero's kin to the end),
    that is no YAML (HC0601) or nests past the bound (HC0621), or holds a value yaml.safe_load
    cannot construct (HC0602, HC0606): HELM stops on each with a traceback that names no line.
    Then every other error helm-check finds there (check_folder): a missing field or a wrong type
    (HC0604, HC0605), where HELM's register_configs_from_directory raises before any run; a class,
    argument or tokenizer that does not exist (HC0609, HC0610, HC0613, HC0619), where HELM starts
    and each run that reaches it fails. Either way helm-run stops before anything is written, as
    helm-check fails: given helm-run's flags, helm-check passes iff helm-run would start."""
    from .fields import construction_diagnostics

    local_path_not_a_folder(local_path, sink)
    if not local_path or not os.path.isdir(local_path):
        return
    folder = read_folder(local_path)
    said: set[tuple] = set()
    for cf in folder.files.values():
        found = DiagnosticSink()
        found.extend(cf.diagnostics)
        if not cf.doc.syntax_error:
            construction_diagnostics(cf, found)
        sink.extend(found.items)
        said.update(_identity(d) for d in found.items)
    unreadable_credentials(local_path, sink)
    everything = DiagnosticSink()
    check_folder(folder, everything, None, plugins)
    sink.extend(d for d in everything.items if d.severity is Severity.ERROR and _identity(d) not in said)


def local_path_not_a_folder(local_path: str | None, sink: DiagnosticSink) -> None:
    """HC0901 when something other than a folder stands at --local-path. HELM reads no config
    file from it without a word, then makes its cache folder in it (`PATH/cache`) and every run
    fails there (NotADirectoryError or FileExistsError); a missing path is fine (HELM makes it)."""
    import stat

    from ..files.reading import _kind

    if not local_path or not os.path.lexists(local_path) or os.path.isdir(local_path):
        return
    try:
        mode = os.stat(local_path).st_mode
        what = "a file" if stat.S_ISREG(mode) else _kind(mode)
    except OSError as e:
        what = {errno.ENOENT: f"a broken symbolic link (to `{os.readlink(local_path)}`)",
                errno.ELOOP: "a symbolic link that loops"}.get(e.errno or 0, f"unusable ({e.strerror or e})")
    sink.add(diag("HC0901", f"--local-path `{local_path}` is {what}, not a folder", SourceFile(local_path, "").span(0, 0),
                  "not a folder", help="give the folder of HELM's config files and cache (default: prod_env), "
                  "or a path that does not exist yet",
                  notes=["HELM makes its cache folder in it, so every run would fail there"]))


def _identity(d: Diagnostic) -> tuple:
    return (d.code, d.span.source.path, d.span.start, d.span.end, d.message)


def unreadable_credentials(local_path: str, sink: DiagnosticSink) -> None:
    """HC0901 when HELM would read `credentials.conf` of the folder and could not: its workers
    open it whenever it exists (get_credentials, unless $HELM_CREDENTIALS is set), so a FIFO there
    blocks every run for good and /dev/zero fills the memory. Only read, never shown: it holds keys."""
    from ..files.reading import read_input_bytes

    path = os.path.join(local_path, "credentials.conf")
    if os.environ.get("HELM_CREDENTIALS") or not os.path.lexists(path):
        return
    try:
        read_input_bytes(path)
    except OSError as e:
        sink.add(diag("HC0901", f"cannot read `{path}`: {e.strerror or e}", SourceFile(path, "").span(0, 0), "unreadable",
                      notes=["HELM reads it in every worker before a run; helm-run would wait or fail there"]))


def check_paths(
    config_paths: list[str], local_path: str | None, sink: DiagnosticSink, plugins: Iterable[str] = (), names: bool = True,
    texts: Mapping[str, str] | None = None,
) -> int:
    """helm-check's entry: config files named on the command line (each checked with its
    siblings) and the --local-path folder, each folder once. Returns how many files it checked.
    `texts` (absolute path -> text) stands in for those files on disk: an editor's documents."""
    folders: dict[str, set[str] | None] = {}
    for p in config_paths:
        d = os.path.dirname(p)
        if folders.get(d, set()) is None:
            continue
        folders.setdefault(d, set()).add(os.path.basename(p))  # type: ignore[union-attr]
        if not os.path.exists(p) and not (texts and os.path.abspath(p) in texts):
            src = SourceFile(p, "")
            sink.add(diag("HC0901", f"cannot read `{p}`: no such file", src.span(0, 0), "unreadable"))
    local_path_not_a_folder(local_path, sink)
    if local_path and os.path.isdir(local_path):
        key = os.path.normpath(local_path)
        match = next((d for d in folders if os.path.normpath(d or ".") == key), None)
        folders[match if match is not None else local_path] = None  # the whole folder
        unreadable_credentials(local_path, sink)  # as helm-run's compile does
    count = 0
    for d, only in folders.items():
        folder = read_folder(d, texts)
        check_folder(folder, sink, only, plugins, names)
        count += len(folder.files) if only is None else len(only)
    return count


def folder_stamp(folder: str | None) -> tuple:
    """What changes when a config file of the folder changes (for caches of what it defines)."""
    out = []
    for p in config_files_in(folder) if folder and os.path.isdir(folder) else ():
        try:
            st = os.stat(p)
        except OSError:
            continue
        out.append((p, st.st_mtime_ns, st.st_size))
    return tuple(out)


def config_files_in(folder: str) -> list[str]:
    return [os.path.join(folder, n) for n in CONFIG_FILES if os.path.isfile(os.path.join(folder, n))]


def check_document(
    path: str, text: str, sink: DiagnosticSink, plugins: Iterable[str] = (), names: bool = True
) -> SourceFile | None:
    """The language server's entry: one config file with the editor's text, checked with its
    siblings as they are on disk. Returns the source the diagnostics point into."""
    folder = read_folder(os.path.dirname(path), {os.path.abspath(path): text})
    check_folder(folder, sink, {os.path.basename(path)}, plugins, names)
    cf = folder.files.get(os.path.basename(path))
    return cf.source if cf is not None else None


def split_paths(paths: Iterable[str], sink: DiagnosticSink | None = None) -> tuple[list[str], list[str]]:
    """helm-check's PATHs: (conf files and folders, HELM config files). A path named like a
    HELM config file is that file; a folder also contributes the config files directly in it."""
    conf: list[str] = []
    config: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            from ..syntax.frontend import conf_files_under

            # credentials.conf is the API keys file of HELM's local path, not run entries
            conf += [f for f in conf_files_under([p], sink) if os.path.basename(f) != "credentials.conf"]
            config += config_files_in(p)
        elif is_config_file(p):
            config.append(p)
        else:
            conf.append(p)
    return conf, config
