"""HELM's process setup: configure HELM in this process exactly as helm_run does.

Everything here imports crfm-helm lazily (inside functions), because importing it is slow and
because `helmc plan` and `helm-check` must work without it. `prepare` reproduces
helm.benchmark.run.helm_run step by step (same order, same registries, same flags), so the
RunSpecs that runtime/runspecs.py builds and the run folders are exactly HELM's. Also here:
HelmSettings (helm-run's flags that HELM reads), the files those flags name, and where HELM's
output is logged.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pickle
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from helmc.compiler.catalog.catalog import UserAdditions
from helmc.compiler.extras import install_hint
from helmc.compiler.files.reading import open_for_append, read_input_text

from .governor import RequestLimits
from .journal import journal_dir

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


class LogUnusable(OSError):
    """A log helm-run writes cannot be opened (a FIFO, a folder, no permission where it goes):
    a failure of helm-run's, before HELM starts, never to be reported as HELM's. Its text
    is the reason first: it crosses back from a worker cut to one line of 200 characters."""

    def __str__(self) -> str:
        return str(self.strerror)


# A LogUnusable by the qualified name a worker's one-line error starts with (executor.error_type).
LOG_UNUSABLE = f"{LogUnusable.__module__}.{LogUnusable.__qualname__}"
# Failures of helm-run's own before HELM starts: the same on every attempt, so no attempt is
# retried for them.
NOT_RETRIED = frozenset({LOG_UNUSABLE})


@contextlib.contextmanager
def redirect_output(path: str) -> Iterator[None]:
    """Send fds 1 and 2 (HELM's logging, tqdm, prints from clients) to a log file; LogUnusable
    when it cannot be opened."""
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = open_for_append(path)  # a FIFO in its place would block helm-run with nothing said
    except OSError as e:
        raise LogUnusable(e.errno, f"{e.strerror or e}: `{path}`", path) from e
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
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


def is_prepared() -> bool:
    """Whether prepare() configured HELM in this process (or in the one it was forked from)."""
    return _PREPARED


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
        with _helm_run_stack_room():  # the registries may hold values nested MAX_YAML_DEPTH deep
            state = _load_registries(registries)
        if state is None:
            with _libyaml_reads():
                register_builtin_configs_from_helm_package()
            with _helm_run_stack_room():
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
        with _helm_run_stack_room():
            _REGISTRIES = registries if state is not None else _snapshot_registries()
        _PREPARED = True
        _install_governor(settings)
    except Exception as e:  # noqa: BLE001 - HELM raises bare Exceptions for configuration problems
        raise HelmSetupError(f"{type(e).__name__}: {e}") from None
    except SystemExit as e:  # a plugin that calls sys.exit() on import must not end helm-run "successfully"
        raise HelmSetupError(f"sys.exit({e.code!r}) was called while HELM loaded its configuration and plugins "
                             f"(--plugins {' '.join(settings.catalog.plugins) or '(none)'})") from None


def preload() -> None:
    """In a process that will run HELM for helm-run but does not know its settings yet (a Ray
    host, created as soon as Ray is up, while helm-run still builds the runs): import what
    configuring HELM imports (`prepare`: HELM's helm.benchmark.run, which brings the Runner),
    without configuring anything, as HELM's own helm_run imports it before it configures
    logging. The executor's `warm_up` then pays only the configuration. Best effort: what
    fails here fails again, with its message, in the warm-up or the run."""
    try:
        from helm.benchmark.run import import_user_plugins  # noqa: F401 - the import is the point
    except Exception:  # noqa: BLE001 - HELM missing or broken on this host: said by the run
        pass


@contextlib.contextmanager
def _helm_run_stack_room() -> Iterator[None]:
    """HELM reads its config files with yaml.safe_load, which recurses twice per nested level:
    from HELM's own helm-run it reads MAX_YAML_DEPTH levels (what helm-check accepts), from deeper
    in helmc's stack (an engine, a worker) it would fail sooner; pickling the registries recurses
    as well. The recursion limit is raised by the frames already on the stack, so HELM gets the
    room it has under its own helm-run."""
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + depth)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


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

    from helmc.compiler.syntax.config_yaml import load_yaml

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
    them (tests/runtime/test_helm_setup_registries_helm.py compares the registries) in a fifth of the time. Only
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
