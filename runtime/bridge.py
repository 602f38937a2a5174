"""The HELM bridge: HELM builds and runs every RunSpec; helmc only decides where and when.

Everything here imports crfm-helm lazily (inside functions), because importing it is slow and
because `helmc plan` and `helm-check` must work without it. The setup reproduces
helm.benchmark.run.helm_run step by step (same order, same registries, same flags), so the
RunSpecs and the run folders are exactly HELM's.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import pickle
import shutil
import stat
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from helmc.compiler.catalog import UserAdditions
from helmc.compiler.extras import install_hint
from helmc.compiler.plan import EntryRef, ObjectSpecData, Plan, PlannedRun, PlannedSpec, PlanOptions
from helmc.compiler.reading import open_for_append, read_input_text

from .engine import Task
from .governor import RequestLimits
from .governor import current as governor_of_process
from .governor import serve_forked_children, warm_sdks
from .interrupts import checkpoint
from .journal import fsync_dir, fsync_tree, journal_dir

INSTALL_HINT = install_hint("helm")


class HelmUnavailable(Exception):
    """crfm-helm is not installed (or not importable) in this environment."""


class HelmSetupError(Exception):
    """HELM refused the configuration (a plugin that fails to import, a bad --local-path...)."""


class FlagFileError(HelmSetupError):
    """A file a flag names (--log-config, --api-key-path) is unusable: the user's mistake, said
    with the flag and the path (helm-run exits 2, as for any bad flag value)."""


@dataclass(frozen=True, slots=True)
class HelmSettings:
    """Everything of helm-run's flags that HELM itself reads, as plain data."""

    output_path: str = "benchmark_output"
    suite: str = "default"
    # --local-path, --plugins, --enable-(local-)huggingface-models: the compile's own object
    # (Options.catalog), so that the catalog and HELM take the same additions
    catalog: UserAdditions = field(default_factory=UserAdditions)
    num_threads: int = 4
    dry_run: bool = False
    skip_instances: bool = False
    cache_instances: bool = False
    cache_instances_only: bool = False
    skip_completed_runs: bool = False
    exit_on_error: bool = False
    runner_class_name: str | None = None
    mongo_uri: str = ""
    disable_cache: bool = False
    server_url: str | None = None
    api_key_path: str = "proxy_api_key.txt"
    log_config: str | None = None
    # the request governor's limits and shared folder (runtime/governor.py); no folder: none
    limits: RequestLimits = field(default_factory=RequestLimits)


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


@dataclass(frozen=True, slots=True)
class Mismatch:
    """HELM built other runs from an ObjectSpec than the plan says (a helmc bug)."""

    spec: PlannedSpec
    message: str


def helm_available() -> bool:
    try:
        return importlib.util.find_spec("helm.benchmark.run") is not None
    except (ImportError, ValueError):
        return False


def helm_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("crfm-helm")
    except Exception:  # noqa: BLE001 - metadata can be missing in odd installs
        return None


@contextlib.contextmanager
def redirect_output(path: str) -> Iterator[None]:
    """Send fds 1 and 2 (HELM's logging, tqdm, prints from clients) to a log file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = open_for_append(path)  # a FIFO in its place would block helm-run with nothing said
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        os.close(fd)


def log_dir(settings: HelmSettings) -> str:
    return os.path.join(journal_dir(settings.output_path, settings.suite), "logs")


def build_log_path(settings: HelmSettings) -> str:
    return os.path.join(log_dir(settings), "_build.log")


def run_log_path(settings: HelmSettings, run_name: str) -> str:
    return os.path.join(log_dir(settings), run_name.replace(os.sep, "_") + ".log")


_PREPARED = False  # inherited by forked workers; a spawned worker prepares HELM itself
_REGISTRIES: bytes | None = None  # set by prepare(); see registries()


def prepare(settings: HelmSettings, registries: bytes | None = None) -> None:
    """Configure HELM in this process exactly as helm_run does, up to building RunSpecs.

    `registries`: the state of HELM's registries after helm-run prepared HELM (`registries()`
    there), for a worker on another process or host: it takes that state instead of reading
    HELM's YAML files again (about 1 CPU second per worker); plugins are still imported, for
    their other side effects. Raises HelmUnavailable or HelmSetupError; never lets HELM's own
    exceptions escape.
    """
    global _PREPARED, _REGISTRIES
    if not helm_available():
        raise HelmUnavailable(INSTALL_HINT)
    try:
        from helm.common.hierarchical_logger import setup_default_logging
    except ImportError as e:
        raise HelmUnavailable(f"{INSTALL_HINT} (importing crfm-helm failed: {e})") from None
    _setup_logging(setup_default_logging, settings.log_config)
    try:
        from helm.benchmark.config_registry import (
            register_builtin_configs_from_helm_package,
            register_configs_from_directory,
        )
        from helm.benchmark.run import import_user_plugins, load_entry_point_plugins
        from helm.benchmark.runner import set_benchmark_output_path
        from helm.common.general import ensure_directory_exists
    except ImportError as e:
        raise HelmUnavailable(f"{INSTALL_HINT} (importing crfm-helm failed: {e})") from None
    try:
        state = _load_registries(registries)
        if state is None:
            with _libyaml_reads():
                register_builtin_configs_from_helm_package()
            register_configs_from_directory(settings.catalog.local_path)
        else:
            _apply_registries(state)  # what plugins see on import, as after HELM's YAML files
        load_entry_point_plugins()
        if settings.catalog.plugins:
            import_user_plugins(list(settings.catalog.plugins))
        if state is not None:
            _apply_registries(state)  # plugins' own registrations, and the HF models, once
        else:
            _register_huggingface(settings)
        # As helm_run: run spec functions may cache files under the benchmark output path.
        ensure_directory_exists(settings.output_path)
        set_benchmark_output_path(settings.output_path)
        _REGISTRIES = registries if state is not None else _snapshot_registries()
        _PREPARED = True
        _install_governor(settings)
    except Exception as e:  # noqa: BLE001 - HELM raises bare Exceptions for configuration problems
        raise HelmSetupError(f"{type(e).__name__}: {e}") from None
    except SystemExit as e:  # a plugin that calls sys.exit() on import must not end helm-run "successfully"
        raise HelmSetupError(f"sys.exit({e.code!r}) was called while HELM loaded its configuration and plugins "
                             f"(--plugins {' '.join(settings.catalog.plugins) or '(none)'})") from None


_LOG_CONFIG_HELP = "give a YAML file in the schema of Python's logging.config.dictConfig (`version: 1`, `handlers:`, `loggers:`)"


def check_flag_files(settings: HelmSettings, warn: Callable[[str], None]) -> str | None:
    """Before anything is compiled: the files that flags name and HELM reads, read as helmc
    reads every input (a FIFO refused at once, /dev/zero never read, YAML nesting bounded).
    The one-line error for helm-run to exit 2 with, or None; never imports HELM."""
    try:
        if settings.log_config and not os.path.lexists(settings.log_config):
            warn(f"warning: --log-config `{settings.log_config}` does not exist; HELM ignores it without a word "
                 "and logs as by default")
        elif settings.log_config:  # a broken or looping link too, which HELM would skip: the reader says why
            read_log_config(settings.log_config)
        if settings.server_url and not settings.skip_instances:  # HELM reads the key only then
            read_api_key(settings.api_key_path)
    except FlagFileError as e:
        return f"error: {e}"
    return None


def read_log_config(path: str) -> dict[str, Any]:
    """The --log-config file as HELM's setup_default_logging reads it (yaml.safe_load), through
    helmc's reader. Raises FlagFileError."""
    import yaml

    from helmc.compiler.config_yaml import load_yaml

    try:
        config = load_yaml(read_input_text(path))
    except OSError as e:
        raise FlagFileError(f"--log-config `{path}`: cannot read it: {e.strerror or e}") from None
    except ValueError as e:  # not UTF-8
        raise FlagFileError(f"--log-config `{path}`: cannot read it: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FlagFileError(f"--log-config `{path}` is not valid YAML{where}: {what}\n  = help: {_LOG_CONFIG_HELP}") from None
    if not isinstance(config, dict):
        raise FlagFileError(f"--log-config `{path}` holds {type(config).__name__ if config is not None else 'nothing'}, "
                            f"not a mapping of logging settings\n  = help: {_LOG_CONFIG_HELP}")
    return config


def read_api_key(path: str) -> str:
    try:
        return read_input_text(path).strip()
    except (OSError, ValueError) as e:
        raise FlagFileError(f"--api-key-path `{path}`: cannot read it: {getattr(e, 'strerror', None) or e}") from None


def _setup_logging(setup_default_logging: Any, path: str | None) -> None:
    """HELM's setup_default_logging(--log-config), with the file checked first (it opens it with
    a bare open(), which waits on a FIFO for good) and its refusal said as the user's mistake."""
    if path and os.path.lexists(path):
        read_log_config(path)
    try:
        setup_default_logging(path)
    except Exception as e:  # noqa: BLE001 - dictConfig raises ValueError, TypeError, ImportError...
        if not path:  # HELM's default logging: HELM's own refusal
            raise HelmSetupError(f"{type(e).__name__}: {e}") from None
        cause = f"{type(e).__name__}: {e}" + (f" ({e.__cause__})" if e.__cause__ is not None else "")
        cause = cause.splitlines()[0]  # dictConfig says which handler; its cause says why
        raise FlagFileError(f"--log-config `{path}`: Python's logging cannot be configured from it: {cause}\n"
                            f"  = help: {_LOG_CONFIG_HELP}") from None


def _install_governor(settings: HelmSettings) -> None:
    """The request governor between HELM's clients and the providers (forked workers inherit it)."""
    from . import governor

    governor.install(settings.limits)


def _register_huggingface(settings: HelmSettings) -> None:
    """--enable-huggingface-models and --enable-local-huggingface-models, as helm_run does.
    Imported only when given: HELM's module imports transformers (about 3 CPU seconds)."""
    hub, local = settings.catalog.enable_huggingface_models, settings.catalog.enable_local_huggingface_models
    if not hub and not local:
        return
    from helm.benchmark.huggingface_registration import (
        register_huggingface_hub_model_from_flag_value,
        register_huggingface_local_model_from_flag_value,
    )

    for name in hub:
        register_huggingface_hub_model_from_flag_value(name)
    for path in local:
        register_huggingface_local_model_from_flag_value(path)


FAST_YAML = True  # tests turn it off to compare


@contextlib.contextmanager
def _libyaml_reads() -> Iterator[None]:
    """HELM reads its own config files (2 MB of YAML) with PyYAML's pure-Python loader: about
    0.5 CPU seconds of every helm-run's start. libyaml's loader builds the same objects from
    them (tests/test_registries_helm.py compares the registries) in a fifth of the time. Only
    for HELM's own files: a user's --local-path files keep HELM's loader and its messages."""
    import yaml

    if not (FAST_YAML and getattr(yaml, "__with_libyaml__", False)):
        yield
        return
    safe_load = yaml.safe_load
    yaml.safe_load = lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader)  # type: ignore[assignment]
    try:
        yield
    finally:
        yaml.safe_load = safe_load


# HELM's registries that prepare() fills: module -> its global lists and dicts (filled in
# place), then the runner config (a global that is replaced).
_REGISTRY_GLOBALS = (
    ("helm.benchmark.model_metadata_registry", ("ALL_MODELS_METADATA", "MODEL_NAME_TO_MODEL_METADATA")),
    ("helm.benchmark.tokenizer_config_registry", ("ALL_TOKENIZER_CONFIGS", "TOKENIZER_NAME_TO_CONFIG")),
    ("helm.benchmark.model_deployment_registry", ("ALL_MODEL_DEPLOYMENTS", "DEPLOYMENT_NAME_TO_MODEL_DEPLOYMENT")),
    ("helm.benchmark.runner_config_registry", ("RUNNER_CONFIG",)),
)


def registries() -> bytes | None:
    """HELM's registries as prepare() left them in this process (None before, or when this
    HELM keeps them elsewhere): for workers that are not forked from this process."""
    return _REGISTRIES


def _snapshot_registries() -> bytes | None:
    import importlib

    try:
        state = {
            (module, name): getattr(importlib.import_module(module), name)
            for module, names in _REGISTRY_GLOBALS
            for name in names
        }
        return pickle.dumps(state)  # one pickle: metadata shared by several entries stays shared
    except Exception:  # noqa: BLE001 - another HELM version: workers read the YAML files themselves
        return None


def _load_registries(blob: bytes | None) -> dict[tuple[str, str], Any] | None:
    if blob is None:
        return None
    try:
        return pickle.loads(blob)
    except Exception:  # noqa: BLE001 - a class that moved: read the YAML files instead
        return None


def _apply_registries(state: dict[tuple[str, str], Any]) -> None:
    import importlib

    for (module, name), value in state.items():
        target = getattr(importlib.import_module(module), name)
        if isinstance(target, list):
            target[:] = value
        elif isinstance(target, dict):
            target.clear()
            target.update(value)
        else:
            setattr(importlib.import_module(module), name, value)


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
        if r.spec is not None:
            by_spec.setdefault((r.entry, r.spec), []).append(r)
    built: list[BuiltRun] = []
    errors: list[BuildError] = []
    mismatches: list[Mismatch] = []
    for ps in plan.specs:
        checkpoint()
        try:
            specs = construct_run_specs(ObjectSpec(ps.spec.function, dict(ps.spec.args)))
        except (Exception, SystemExit) as ex:  # noqa: BLE001 - a run spec function may raise anything (even exit)
            errors.append(BuildError(ps, f"{type(ex).__name__}: {ex}"))
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


def prewarm_names(runs: Sequence[BuiltRun]) -> tuple[str, ...]:
    """The classes (and `module.*` modules) the runs load lazily, for `import_classes`."""
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


def suite_name_problem(suite: str) -> str | None:
    """Why `suite` cannot name a suite, or None. It becomes one folder name under runs/ and
    helmc/, so a path (`../x`, `/abs`, `a/b`) or a dot name would put run folders, the journal
    and the lock outside the output folder, or helmc's files among the run folders."""
    if suite == "":
        return "the suite name is empty"
    if suite in (".", ".."):
        return f"`{suite}` names a folder, not a suite"
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    if any(c in suite for c in seps) or os.path.isabs(suite):
        return f"`{suite}` contains a path separator; a suite name is one folder name"
    if "\0" in suite:
        return "the suite name contains a NUL character"
    return None


def run_folder(settings: HelmSettings, run_name: str) -> str:
    """HELM's layout: OUTPUT/runs/SUITE/RUN_NAME (Runner._get_run_path)."""
    return os.path.join(settings.output_path, "runs", settings.suite, run_name)


HELM_OUTPUT_FILES = ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json")


def writes_outputs(settings: HelmSettings) -> bool:
    """Whether HELM's Runner writes the run folder's files with these flags."""
    return unwritten_flag(settings) is None


def unwritten_flag(settings: HelmSettings) -> str | None:
    """The flag under which HELM's Runner.run_one returns before writing a run's files."""
    if settings.cache_instances_only:
        return "--cache-instances-only"
    if settings.skip_instances:
        return "--skip-instances"
    return None


def outputs_present(settings: HelmSettings, run_name: str) -> bool:
    folder = run_folder(settings, run_name)
    return all(os.path.isfile(os.path.join(folder, f)) for f in HELM_OUTPUT_FILES)


@dataclass(frozen=True, slots=True)
class Occupant:
    """Something helm-run did not write, at the path of a run's folder."""

    kind: str  # "a file", "a symbolic link", ...
    path: str

    def __str__(self) -> str:
        return f"{self.kind} that helm-run did not write stands where this run's folder goes: `{self.path}`"


def foreign_occupant(settings: HelmSettings, run_name: str) -> Occupant | None:
    """What stands at the run's folder path that helm-run may not replace, or None.

    helm-run replaces only folders: the ones it swapped in itself, and HELM's layout of an
    earlier run, whose files it keeps (_carry_over). Anything else there (a file, a symbolic
    link, a FIFO) is the user's: HELM's own helm-run fails that run with FileExistsError, and
    so does helm-run here, without starting it and without touching what is there."""
    final = run_folder(settings, run_name)
    try:
        st = os.lstat(final)
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing there (a file higher up fails the run as the disk says)
    if stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return Occupant("a symbolic link", final)
    if stat.S_ISREG(st.st_mode):
        return Occupant("a file", final)
    return Occupant("something that is not a folder", final)


# ------------------------------------------------------------------ run folders, swapped in whole
#
# HELM writes a run's files straight into OUTPUT/runs/SUITE/RUN_NAME, so a run interrupted or
# failing half-way leaves a torn folder where a complete one may have stood. helmc has HELM
# write each attempt into a staging folder on the same file system instead, and swaps it in
# with one rename once the run has finished and its files are on disk (as git and SQLite
# write aside, then rename). Whatever moment a kill lands, a run folder is the old complete
# one or the new complete one.


def staging_root(settings: HelmSettings) -> str:
    """Where attempts are written: helmc's own folder of the suite when it lies on the same
    file system as the run folders (a rename cannot cross file systems), else a hidden
    folder among them."""
    runs = os.path.join(settings.output_path, "runs", settings.suite)
    ours = os.path.join(journal_dir(settings.output_path, settings.suite), "staging")
    os.makedirs(runs, exist_ok=True)
    os.makedirs(ours, exist_ok=True)
    if os.stat(runs).st_dev == os.stat(ours).st_dev:
        return ours
    return os.path.join(runs, ".helmc-staging")


def staging_folder(settings: HelmSettings, run_name: str) -> str:
    return os.path.join(staging_root(settings), "new", run_name)


def _retired_folder(settings: HelmSettings, run_name: str) -> str:
    return os.path.join(staging_root(settings), "old", run_name)


def discard_staging(settings: HelmSettings) -> None:
    """Remove what interrupted or failed attempts left in staging (never a run folder)."""
    shutil.rmtree(os.path.join(staging_root(settings), "new"), ignore_errors=True)


def recover_run_folder(settings: HelmSettings, run_name: str) -> None:
    """Undo half a swap (only possible where the kernel cannot exchange two folders): a
    retired complete folder whose place is empty goes back."""
    old = _retired_folder(settings, run_name)
    if not os.path.isdir(old):
        return
    final = run_folder(settings, run_name)
    if not os.path.lexists(final):
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(old, final)
        fsync_dir(os.path.dirname(final))
    else:
        shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # this file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), b)


def _carry_over(old: str, new: str) -> None:
    """HELM writes into the existing folder, so files of the old folder that this attempt did
    not write stay; keep them in the new folder too (copies: the old one stays intact)."""
    for name in os.listdir(old):
        src, dst = os.path.join(old, name), os.path.join(new, name)
        if os.path.lexists(dst):
            continue
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


def commit_run_folder(settings: HelmSettings, run_name: str) -> None:
    """Swap the finished attempt in as the run's folder, durably."""
    staged = staging_folder(settings, run_name)
    if not os.path.isdir(staged):
        return  # a custom Runner wrote elsewhere, or skipped the run
    final = run_folder(settings, run_name)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    occupant = foreign_occupant(settings, run_name)
    if occupant is not None:  # appeared while the run ran: it stays, this attempt goes
        shutil.rmtree(staged, ignore_errors=True)
        raise FileExistsError(errno.EEXIST, str(occupant), final)
    if os.path.isdir(final):
        if not os.listdir(staged):
            # HELM wrote nothing (--skip-instances, --cache-instances-only): it leaves the
            # existing folder as it was.
            shutil.rmtree(staged, ignore_errors=True)
            return
        _carry_over(final, staged)
    fsync_tree(staged)  # durable before it becomes the run folder
    if not os.path.lexists(final):
        os.rename(staged, final)
    elif _exchange(staged, final):
        shutil.rmtree(staged, ignore_errors=True)  # now the old folder
    else:
        old = _retired_folder(settings, run_name)
        shutil.rmtree(old, ignore_errors=True)
        os.makedirs(os.path.dirname(old), exist_ok=True)
        os.rename(final, old)  # a kill here: recover_run_folder puts it back
        os.rename(staged, final)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(parent)


# Errors of the disk, not of the run: every later run would fail the same way.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


class StorageError(Exception):
    """A run could not write its files because of the disk (full, read-only, over quota)."""


def _storage_oserror(e: BaseException | None) -> OSError | None:
    """The disk error behind `e`, if any (also when wrapped, e.g. a failed write to the log)."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in STORAGE_ERRNOS:
            return e
        inner = getattr(e, "error", None)
        e = inner if isinstance(inner, BaseException) else (e.__cause__ or e.__context__)
        seen += 1
    return None


def storage_failure(error: str | None) -> str | None:
    """The message of a StorageError, from a Finished event's one-line error (it crosses a
    process boundary as text, with the class's qualified name)."""
    marker = StorageError.__name__ + ": "
    if not error or marker not in error:
        return None
    head, _, rest = error.partition(marker)
    return rest if head == "" or head.endswith(".") else None


def _warm_in_background(names: Sequence[str]) -> None:
    """A worker that was not forked from a warm process (a Slurm job) imports the classes its
    run loads lazily (metrics: scikit-learn, scipy; the client's SDK) in a thread while the run
    starts: the run's requests mostly wait (on the model, on the governor's pace), and the
    imports then cost no wall time at the metrics, where the run would wait for them. Python's
    import locks keep a module imported once if the run needs it first."""
    if not names:
        return

    def warm() -> None:
        try:
            import_classes(names)
            warm_sdks()
        except BaseException:  # noqa: BLE001 - best effort: the run imports what it needs itself
            pass

    threading.Thread(target=warm, name="helmc-warm", daemon=True).start()


class RunWroteNothing(Exception):
    """Runner.run_one returned, but the run folder lacks HELM's output files."""


class HelmExecutor:
    """Runs one RunSpec with HELM's Runner in a worker process (one Runner per worker).

    `warm`: the classes the runs load (`prewarm_names`), for `warm_up` in a process that is
    not helm-run but forks the workers that execute runs (a Ray host, engines/ray_engine.py)."""

    def __init__(self, settings: HelmSettings, warm: Sequence[str] = ()) -> None:
        self.settings = settings
        self.registries = registries()  # for workers that are not forked (Ray, Slurm)
        self.warm = tuple(warm)
        self._runner: Any = None

    def warm_up(self) -> None:
        """Configure HELM and import the runs' classes once, in a process whose forked workers
        then start warm. Best effort: a failure here happens again, with its message, in the
        run (its log); HELM's own messages go to the suite's warm-up log."""
        s = self.settings
        with redirect_output(os.path.join(log_dir(s), "warm-up.log")):
            try:
                if not _PREPARED:
                    prepare(s, self.registries)
                import_classes(self.warm)
                warm_sdks()
                serve_forked_children(s.limits)  # on Ray: the runs' steps to the suite's actor
            except (HelmUnavailable, HelmSetupError):
                pass

    def _make_runner(self) -> Any:
        # As helm.benchmark.run.run_benchmarking, for this worker's share of the suite.
        from helm.benchmark.executor import ExecutionSpec
        from helm.benchmark.runner import Runner
        from helm.common.authentication import Authentication
        from helm.common.cache_backend_config import MongoCacheBackendConfig, SqliteCacheBackendConfig
        from helm.common.general import ensure_directory_exists
        from helm.common.object_spec import get_class_by_name
        from helm.proxy.services.service import CACHE_DIR

        s = self.settings
        if s.skip_instances or not s.server_url:
            auth = Authentication("")
        else:
            auth = Authentication(api_key=read_api_key(s.api_key_path))
        sqlite_cfg = mongo_cfg = None
        if not s.disable_cache:
            if s.mongo_uri:
                mongo_cfg = MongoCacheBackendConfig(s.mongo_uri)
            else:
                cache_path = os.path.join(s.catalog.local_path, CACHE_DIR)
                ensure_directory_exists(cache_path)
                sqlite_cfg = SqliteCacheBackendConfig(cache_path)
        execution_spec = ExecutionSpec(
            auth=auth,
            url=s.server_url,
            local_path=s.catalog.local_path,
            parallelism=s.num_threads,
            dry_run=s.dry_run,
            sqlite_cache_backend_config=sqlite_cfg,
            mongo_cache_backend_config=mongo_cfg,
        )
        runner_cls = get_class_by_name(s.runner_class_name) if s.runner_class_name else Runner
        return runner_cls(
            execution_spec,
            s.output_path,
            s.suite,
            s.skip_instances,
            s.cache_instances,
            s.cache_instances_only,
            s.skip_completed_runs,
            s.exit_on_error,
        )

    def execute(self, task: Task) -> None:
        from helm.common.hierarchical_logger import hlog, htrack_block

        s = self.settings
        final = run_folder(s, task.name)
        staged = staging_folder(s, task.name)
        with redirect_output(run_log_path(s, task.name)):
            try:
                if self._runner is None:
                    if not _PREPARED:  # a spawned (not forked) worker: configure HELM here
                        prepare(s, self.registries)
                        _warm_in_background(self.warm)
                    self._runner = self._make_runner()
                run_spec = pickle.loads(task.payload)
                runner = self._runner
                gov = governor_of_process()
                if gov is not None:
                    gov.begin_run(task.name)
                if s.skip_completed_runs and runner._is_run_completed(final):
                    hlog(f"Skipping run {run_spec.name} because run is completed and all output files exist.")
                    return
                # HELM's Runner writes where _get_run_path says: this attempt goes to staging.
                shutil.rmtree(staged, ignore_errors=True)
                os.makedirs(os.path.dirname(staged), exist_ok=True)
                runner._get_run_path = lambda _spec: staged
                try:
                    with htrack_block(f"Running {run_spec.name}"):
                        runner.run_one(run_spec)
                finally:
                    if gov is not None:
                        gov.end_run()
                commit_run_folder(s, task.name)
                missing = [f for f in HELM_OUTPUT_FILES if not os.path.isfile(os.path.join(final, f))]
                if writes_outputs(s) and missing:
                    # Whatever the Runner (a --runner-class-name writing elsewhere, one that
                    # returns early): a run whose files are not there is not completed.
                    raise RunWroteNothing(f"HELM's Runner returned without writing {', '.join(missing)} "
                                          f"into {final}")
            except BaseException as e:
                traceback.print_exc()
                shutil.rmtree(staged, ignore_errors=True)  # frees the space a full disk needs
                disk = _storage_oserror(e)
                if disk is not None:
                    where = disk.filename or staged
                    # The OS error first: the one-line error that crosses back to helm-run is cut
                    # at 200 characters, and a run's staging path alone can be longer.
                    raise StorageError(f"{disk.strerror}, writing `{where}`") from None
                raise
