"""What HELM knows, as plain data: run spec functions, run expanders, models, deployments.

`load_catalog()` reads the snapshot shipped for crfm-helm 0.5.16 (json only: this is on
helm-check's cold start path). When a crfm-helm of another version is installed, a catalog of
that version is built from its source on first use and cached. User additions are replayed in
the order helm-run registers them (builtin configs, --local-path, entry points, --plugins,
--enable-huggingface-models), because HELM's answers depend on registration order.
"""

from __future__ import annotations

import os
from dataclasses import field
from typing import Any, Iterable

# The catalog JSON and the installed crfm-helm, read below the catalog and prodenv both.
from ..frozen import record
from .store import SNAPSHOT_VERSION, CatalogError, load_catalog_data, snapshot_path  # noqa: F401


@record
class Parameter:
    name: str
    annotation: str | None  # source text, e.g. "Optional[int]"
    default: str | None  # source text of the default, None when required
    required: bool
    kind: str = "positional"  # or "keyword_only"
    default_value: Any = None  # the default as a literal, when it is one
    has_default_value: bool = False
    values: tuple[str, ...] | None = None  # the values HELM's files state it accepts (catalog_build_values)
    values_source: str | None = None  # where HELM states them: "path:line", or the schema files
    values_how: str | None = None  # "scenario-check" (the scenario raises) or "schema-run-groups"


@record
class RunSpecFunction:
    name: str
    module: str
    function: str
    params: tuple[Parameter, ...]
    var_keyword: bool = False  # **kwargs: any argument is accepted
    groups: tuple[str, ...] | None = None  # str.format templates; None: not statically known
    line: int = 0
    doc: str | None = None
    origin: str = "helm"  # "helm", "plugin:<spec>", "entry-point:<name>"
    run_name: Any = None  # the RunSpec's name= as an expression tree (run_names); None: not static
    adapter_method: Any = None  # its AdapterSpec's method, an expression tree likewise
    adapter_model: Any = None  # its AdapterSpec's model and model_deployment, likewise
    adapter_model_deployment: Any = None

    def param(self, name: str) -> Parameter | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def signature(self) -> str:
        """The parameter list as the source declares it: `subject: str, method: str = ...`."""
        out = []
        for p in self.params:
            s = p.name
            if p.annotation:
                s += f": {p.annotation}"
            if not p.required:
                s += f" = {p.default}"
            out.append(s)
        if self.var_keyword:
            out.append("**kwargs")
        return ", ".join(out)

    def groups_for(self, args: dict[str, Any]) -> list[str] | None:
        """run_spec.groups for these arguments, or None when helmc cannot know them."""
        if self.groups is None:
            return None
        values: dict[str, Any] = {}
        for p in self.params:
            if p.name in args:
                values[p.name] = args[p.name]
            elif p.has_default_value:
                values[p.name] = p.default_value
        out = []
        for t in self.groups:
            try:
                out.append(t.format(**values))
            except (KeyError, IndexError, ValueError):
                return None
        return out


@record
class Expander:
    name: str
    cls: str
    kind: str  # "model" | "value_set" | "choices" | "free" | "none" (takes no value)
    takes_value: bool = True
    choices: tuple[str, ...] = ()
    value_sets: dict[str, Any] = field(default_factory=dict)  # key -> list of values
    runs_per_choice: dict[str, list[Any]] = field(default_factory=dict)
    value_type: str | None = None  # annotation of the field the value lands in
    known_values: tuple[str, ...] = ()
    target: str | None = None
    # how expand() changes the run name: {"keep": True} or {"sep", "key", "value"}; None: unknown
    run_name: dict[str, Any] | None = None
    # OutputFormatInstructions: per adapter method, the values its if/elif chain names and what
    # other values get ("raise" or "fallback"); `other_methods`: methods no arm names
    value_arms: dict[str, Any] | None = None
    strip_suffixes: tuple[str, ...] = ()  # suffixes the constructor removes, in order
    requires_method: tuple[str, ...] = ()  # expand() raises for runs of any other adapter method
    reads_model_for: tuple[str, ...] = ()  # values for which expand() looks the model up ("*": all)

    def base_value(self, value: str) -> str:
        """The value the expander's chain compares, after its constructor strips suffixes."""
        for sfx in self.strip_suffixes:
            if value.endswith(sfx):
                value = value[: -len(sfx)]
        return value

    def per_deployment(self, value: Any) -> dict[str, list[Any]] | None:
        """For TokenizerRunExpander's `default`: its values keyed by the run's model deployment
        at expand time (a deployment not in it gets no run)."""
        v = self.value_sets.get(value) if self.kind == "value_set" and isinstance(value, str) else None
        if isinstance(v, dict) and "per_deployment" in v:
            return v["per_deployment"] or {}
        return None

    def values_for(self, value: Any, deployment: str | None = None) -> list[Any]:
        """The values one run each, as the expander computes them (`deployment`: the run's
        model deployment when the expander meets it, empty before alter_run_spec infers it)."""
        if self.kind == "value_set":
            table = self.per_deployment(value)
            if table is not None:
                return list(table.get(deployment or "", []))
            v = self.value_sets.get(value) if isinstance(value, str) else None
            if isinstance(v, list):
                return list(v)
            return [value]
        if self.kind == "choices" and self.runs_per_choice and value in self.runs_per_choice:
            return list(self.runs_per_choice[value])
        return [value]


@record
class Model:
    name: str
    tags: tuple[str, ...]
    deployment_names: tuple[str, ...] | None = None
    origin: str = "helm"

    @property
    def deprecated(self) -> bool:
        return "DEPRECATED_MODEL_TAG" in self.tags

    @property
    def unsupported(self) -> bool:
        return "UNSUPPORTED_MODEL_TAG" in self.tags


@record
class Deployment:
    name: str
    model_name: str
    tokenizer_name: str | None = None
    deprecated: bool = False
    origin: str = "helm"


@record
class Generator:
    """A model deployment generator: names starting with `prefix` are made on demand."""

    prefix: str
    module: str
    model_name: str | None  # "last_two_parts"
    min_parts: int = 2
    network: bool = False  # builds a tokenizer, i.e. downloads from the Hugging Face Hub


@record
class Catalog:
    helm_version: str | None
    functions: dict[str, RunSpecFunction]
    expanders: dict[str, Expander]  # in RUN_EXPANDER_SUBCLASSES order
    # ALL_MODELS_METADATA: registration order, a re-registered name appears twice
    model_list: tuple[Model, ...]
    models: dict[str, Model]  # MODEL_NAME_TO_MODEL_METADATA (first position, last value)
    deployment_list: tuple[Deployment, ...]
    deployments: dict[str, Deployment]
    tokenizers: tuple[str, ...]
    generators: tuple[Generator, ...]
    model_groups: dict[str, Any]
    wildcard_guard: tuple[str, ...]
    tags: dict[str, str]
    sources: tuple[str, ...] = ()
    # alter_run_spec's expanders, each with its model condition and run name effect
    alter_steps: tuple[dict[str, Any], ...] = ()
    unknown_model_tags: tuple[str, ...] = ()  # get_unknown_model_metadata's tags
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -------------------------------------------------------- HELM's lookups, replicated

    def model_names_with_tag(self, tag: str) -> list[str]:
        return [m.name for m in self.model_list if tag in m.tags]

    def model_group_to_model_names(self) -> dict[str, list[str]]:
        """ModelRunExpander.get_model_group_to_model_names, computed as HELM computes it.

        One difference: HELM builds the ablation_* lists from a set intersection, so their order
        depends on string hashing (PYTHONHASHSEED); helmc keeps registration order instead."""
        cached = self._cache.get("groups")
        if cached is not None:
            return cached
        spec = self.model_groups
        values: dict[str, list[str]] = {}
        for key, terms in spec["groups"].items():
            names: list[str] = []
            for t in terms:
                if "models" in t:
                    names += list(t["models"])
                elif "tag" in t:
                    names += self.model_names_with_tag(t["tag"])
                elif t.get("all"):
                    names += list(self.models)
            values[key] = names
        abl = spec.get("ablation")
        if abl:
            ablation = set(self.model_names_with_tag(abl["tag"]))
            derived = {abl["prefix"] + k: [m for m in dict.fromkeys(v) if m in ablation] for k, v in values.items()}
            for k, v in derived.items():
                if abl.get("all_alias") and k == abl["prefix"] + "all":
                    values[abl["all_alias"]] = v
                else:
                    values[k] = v
        excluded: set[str] = set()
        for tag in spec.get("excluded_tags", ()):
            excluded.update(self.model_names_with_tag(tag))
        out = {k: [m for m in v if m not in excluded] for k, v in values.items()}
        self._cache["groups"] = out
        return out

    def expand_model_value(self, value: Any) -> list[Any]:
        """`model_group_to_model_names.get(value, [value])`."""
        groups = self.model_group_to_model_names()
        if isinstance(value, str) and value in groups:
            return list(groups[value])
        return [value]

    def is_wildcard(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.model_group_to_model_names()

    def generator_for(self, name: str) -> Generator | None:
        found = None
        for g in self.generators:  # HELM's loop keeps the last match
            if name.startswith(g.prefix):
                found = g
        return found

    def get_deployment(self, name: str) -> Deployment | None:
        """get_model_deployment: the registry, else a generator by name prefix."""
        d = self.deployments.get(name)
        if d is not None:
            return d
        g = self.generator_for(name)
        if g is None or len(name.split("/")) < g.min_parts:
            return None
        parts = name.split("/")
        model = "/".join(parts[-2:]) if g.model_name == "last_two_parts" else name
        return Deployment(name=name, model_name=model, origin=f"generator:{g.prefix}")

    def deployments_of(self, model: str) -> list[Deployment]:
        idx = self._cache.get("by_model")
        if idx is None:
            idx = {}
            for d in self.deployment_list:
                idx.setdefault(d.model_name, []).append(d)
            self._cache["by_model"] = idx
        return list(idx.get(model, ()))

    def default_deployment(self, model: str) -> str | None:
        """get_default_model_deployment_for_model: the last non-deprecated deployment of the
        model, else its last deployment, else a generated deployment named like the model."""
        memo: dict[str, str | None] = self._cache.setdefault("default_deployment", {})  # a plan asks per run
        if model not in memo:
            avail = self.deployments_of(model)
            if avail:
                live = [d for d in avail if not d.deprecated]
                memo[model] = (live or avail)[-1].name
            else:
                d = self.get_deployment(model)
                memo[model] = d.name if d is not None else None
        return memo[model]

    def all_names(self) -> list[str]:
        """Every model and deployment name, for suggestions."""
        cached = self._cache.get("names")
        if cached is None:
            cached = list(dict.fromkeys([*self.models, *self.deployments]))
            self._cache["names"] = cached
        return cached


# ---------------------------------------------------------------- building a Catalog from JSON


def _fn(d: dict[str, Any], origin: str = "helm") -> RunSpecFunction:
    params = tuple(
        Parameter(
            name=p["name"],
            annotation=p.get("annotation"),
            default=p.get("default"),
            required=bool(p.get("required")),
            kind=p.get("kind", "positional"),
            default_value=p.get("default_value"),
            has_default_value="default_value" in p,
            values=tuple(p["values"]) if p.get("values") else None,
            values_source=p.get("values_source"),
            values_how=p.get("values_how"),
        )
        for p in d["params"]
    )
    g = d.get("groups")
    return RunSpecFunction(
        name=d["name"],
        module=d["module"],
        function=d["function"],
        params=params,
        var_keyword=bool(d.get("var_keyword")),
        groups=tuple(g) if g is not None else None,
        line=int(d.get("line", 0)),
        doc=d.get("doc"),
        origin=origin,
        run_name=d.get("run_name"),
        adapter_method=d.get("adapter_method"),
        adapter_model=d.get("adapter_model"),
        adapter_model_deployment=d.get("adapter_model_deployment"),
    )


def _exp(d: dict[str, Any]) -> Expander:
    return Expander(
        name=d["name"],
        cls=d["class"],
        kind=d["kind"],
        takes_value=bool(d.get("takes_value", True)),
        choices=tuple(d.get("choices") or ()),
        value_sets=dict(d.get("value_sets") or {}),
        runs_per_choice=dict(d.get("runs_per_choice") or {}),
        value_type=d.get("value_type"),
        known_values=tuple(d.get("known_values") or ()),
        target=d.get("target"),
        run_name=d.get("run_name"),
        value_arms=d.get("value_arms"),
        strip_suffixes=tuple(d.get("strip_suffixes") or ()),
        requires_method=tuple(d.get("requires_method") or ()),
        reads_model_for=tuple(d.get("reads_model_for") or ()),
    )


class _Registry:
    """Replays HELM's registration functions (model_metadata_registry, model_deployment_registry)
    so that user additions land exactly where HELM puts them."""

    def __init__(self, unknown_tags: list[str]) -> None:
        self.unknown_tags = tuple(unknown_tags)
        self.model_list: list[Model] = []
        self.models: dict[str, Model] = {}
        self.deployment_list: list[Deployment] = []
        self.deployments: dict[str, Deployment] = {}
        self.tokenizers: list[str] = []
        # id of a model object in model_list -> its position, to replace it in O(1)
        self._list_index: dict[int, int] = {}

    def register_model(self, m: Model) -> None:
        self._list_index[id(m)] = len(self.model_list)
        self.model_list.append(m)
        self.models[m.name] = m

    def _set_deployment_names(self, name: str, names: tuple[str, ...] | None) -> None:
        old = self.models[name]
        new = Model(old.name, old.tags, names, old.origin)
        self.models[name] = new
        # the metadata object is shared between the list and the dict in HELM
        i = self._list_index.pop(id(old), None)
        if i is not None:
            self.model_list[i] = new
            self._list_index[id(new)] = i

    def register_deployment(self, d: Deployment) -> None:
        self.deployments[d.name] = d
        self.deployment_list.append(d)
        model_name = d.model_name or d.name
        if model_name not in self.models:
            self.register_model(Model(model_name, self.unknown_tags, None, origin="unknown-metadata"))
        meta = self.models[model_name]
        names = meta.deployment_names or (meta.name,)
        if d.name not in names:
            self._set_deployment_names(model_name, (*(meta.deployment_names or ()), d.name))

    def register_configs(self, models: Iterable[dict], tokenizers: Iterable[str], deployments: Iterable[dict], origin: str) -> None:
        # config_registry.register_configs_from_directory: metadata, tokenizers, deployments
        for m in models:
            dn = m.get("deployment_names")
            self.register_model(Model(m["name"], tuple(m.get("tags") or ()), tuple(dn) if dn else None, origin))
        self.tokenizers.extend(tokenizers)
        for d in deployments:
            self.register_deployment(
                Deployment(d["name"], d.get("model_name") or d["name"], d.get("tokenizer_name"), bool(d.get("deprecated")), origin)
            )


@record
class UserAdditions:
    """Where helm-run takes user additions from (its flags of the same names)."""

    local_path: str | None = "prod_env"
    plugins: tuple[str, ...] = ()
    entry_points: bool = True
    enable_huggingface_models: tuple[str, ...] = ()
    enable_local_huggingface_models: tuple[str, ...] = ()


def catalog_from_json(data: dict[str, Any], additions: UserAdditions | None = None) -> Catalog:
    reg = _Registry(data.get("unknown_model_tags") or ["TEXT_MODEL_TAG", "FULL_FUNCTIONALITY_TEXT_MODEL_TAG"])
    reg.register_configs(data["models"], data["tokenizers"], data["deployments"], "helm")
    functions: dict[str, RunSpecFunction] = {}
    for f in data["run_spec_functions"]:
        functions.setdefault(f["name"], _fn(f))
    sources = [f"crfm-helm {data.get('helm_version')}"]
    if additions is not None:
        sources += _apply_additions(reg, functions, additions)
    return Catalog(
        helm_version=data.get("helm_version"),
        functions=functions,
        expanders={e["name"]: _exp(e) for e in data["expanders"]},
        model_list=tuple(reg.model_list),
        models=reg.models,
        deployment_list=tuple(reg.deployment_list),
        deployments=reg.deployments,
        tokenizers=tuple(reg.tokenizers),
        generators=tuple(Generator(**g) for g in data.get("deployment_generators") or ()),
        model_groups=data["model_groups"],
        wildcard_guard=tuple(data.get("wildcard_guard") or ()),
        tags=dict(data.get("tags") or {}),
        sources=tuple(sources),
        alter_steps=tuple(data.get("alter_steps") or ()),
        unknown_model_tags=reg.unknown_tags,
    )


def _may_declare_helm_entry_points() -> bool:
    """Whether any installed distribution's entry_points.txt has a `[helm]` section.

    A cheap look before importlib.metadata, whose import and scan cost more start-up than the
    rest of helm-check; when in doubt (an unusual layout), say yes.
    """
    import sys

    from ..files.reading import read_input_text

    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    if "[helm]" in read_input_text(os.path.join(folder or ".", name, "entry_points.txt")):
                        return True
                except FileNotFoundError:
                    continue
                except (OSError, ValueError):  # not UTF-8 either: in doubt
                    return True
            elif name.endswith(".egg-link") or name.endswith(".pth"):
                continue
    return False


def _cb():
    """catalog_build, imported only when an addition needs reading: it costs start-up time."""
    from . import build as catalog_build

    return catalog_build


def _apply_additions(reg: _Registry, functions: dict[str, RunSpecFunction], add: UserAdditions) -> list[str]:
    sources: list[str] = []
    # 1. --local-path (helm-run's default is ./prod_env; a missing folder is fine, as in HELM).
    #    Read through compiler/prodenv/check.py, which parses each file once for this and for
    #    helm-check's HC06xx checks; what cannot be read is left out here and reported there.
    if add.local_path and os.path.isdir(add.local_path):
        from ..prodenv.check import local_registrations

        regs = local_registrations(add.local_path)
        if regs is not None:
            reg.register_configs(*regs, f"local-path:{add.local_path}")
            sources.append(f"--local-path {add.local_path}")

    def add_functions(path: str, module: str, text: str, origin: str) -> None:
        try:
            found = _cb().scan_run_spec_file(text, path, module)
        except SyntaxError as e:
            raise CatalogError(f"cannot parse plugin {path}: {e.msg} (line {e.lineno})") from e
        for f in found:
            # HELM raises on a second registration of the same name; the first one stays.
            functions.setdefault(f["name"], _fn(f, origin))

    # 2. the `helm` entry-point group (loaded before --plugins by helm-run)
    if add.entry_points and _may_declare_helm_entry_points():
        try:
            from importlib.metadata import entry_points

            eps = list(entry_points().select(group="helm"))
        except Exception:  # a broken distribution must not break checking
            eps = []
        for ep in eps:
            mod = ep.value.split(":", 1)[0].strip()
            try:
                for path, module, text in _cb().iter_plugin_sources(mod):
                    add_functions(path, module, text, f"entry-point:{ep.name}")
                sources.append(f"entry point {ep.name}")
            except (_cb().CatalogBuildError, OSError):
                continue  # HELM only warns when an entry point fails to load
    # 3. --plugins
    for spec in add.plugins:
        try:
            for path, module, text in _cb().iter_plugin_sources(spec):
                add_functions(path, module, text, f"plugin:{spec}")
        except _cb().CatalogBuildError as e:
            raise CatalogError(str(e)) from e
        except OSError as e:
            raise CatalogError(f"cannot read plugin {spec}: {e.strerror}") from e
        sources.append(f"--plugins {spec}")
    # 4. --enable-huggingface-models / --enable-local-huggingface-models
    #    (huggingface_registration.register_huggingface_model: default metadata when missing,
    #    a deployment and a tokenizer named like the model)
    names = list(add.enable_huggingface_models)
    for p in add.enable_local_huggingface_models:
        if not p:
            raise CatalogError("--enable-local-huggingface-models: path must be non-empty")
        names.append("huggingface/" + os.path.split(p)[-1])
    for n in names:
        if n not in reg.models:
            reg.register_model(Model(n, reg.unknown_tags, None, origin="huggingface"))
        reg.register_deployment(Deployment(n, n, n, False, "huggingface"))
        reg.tokenizers.append(n)
    if names:
        sources.append("Hugging Face models: " + ", ".join(names))
    return sources


# ---------------------------------------------------------------- loading


def load_catalog(additions: UserAdditions | None = None) -> Catalog:
    """The catalog with the user's additions replayed in helm-run's order."""
    return catalog_from_json(load_catalog_data(), additions)


def load_catalog_with_additions(add: UserAdditions, sink: Any = None) -> Catalog | None:
    """load_catalog for the command line: a user addition that cannot be read becomes a
    diagnostic in `sink` (HC0901) and the catalog without additions is used."""
    said = None
    try:
        return load_catalog(add)
    except CatalogError as e:
        if sink is None:
            raise
        from ..diagnostics import diag
        from ..source import SourceFile

        said = str(e)
        src = SourceFile("<catalog>", "")
        env = said.startswith("cannot read HELMC_CATALOG=")
        sink.add(diag("HC0901", said, src.span(0, 0), "",
                      help="fix HELMC_CATALOG or unset it" if env else "fix or leave out the flag that names it"))
    try:
        return load_catalog()
    except (CatalogError, OSError, ValueError) as e:
        if sink is not None and str(e) != said:  # the same file again ($HELMC_CATALOG): said once
            from ..diagnostics import diag
            from ..source import SourceFile

            sink.add(diag("HC0902", f"cannot load helmc's catalog: {e}", SourceFile("<catalog>", "").span(0, 0), ""))
        return None
