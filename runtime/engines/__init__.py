"""Choosing, checking and building an engine from helm-run's engine flags.

`check_engine` is called before anything is compiled, started or written: every problem with
the engine flags (an unknown engine, a missing extra, an unreachable Ray address, no sbatch, a
malformed --slurm-arg, a SQLite cache that hosts would share) is a diagnostic HC0700-HC0749,
and helm-run exits 2. `make_engine` then builds the engine; only then is Ray or submitit
imported.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import socket
from dataclasses import dataclass
from typing import Any

from ...compiler.extras import install_hint
from ..engine import Engine, Task

ENGINES = ("local", "ray", "slurm")
EXTRA = {"ray": ("ray", install_hint("ray")), "slurm": ("submitit", install_hint("slurm"))}
# Runs on these hosts are computed on this machine (HELM's SimpleClient, local Hugging Face
# models): --max-runs-per-provider, which protects a provider's API rate limit, does not cap them.
LOCAL_PROVIDERS = frozenset({"simple", "huggingface"})
DEFAULT_BACKOFF = 2.0


@dataclass(frozen=True, slots=True)
class EngineOptions:
    engine: str = "local"
    parallel_runs: int = 1
    retries: int | None = None  # None: 0 for the local engine, 1 for distributed ones
    retry_backoff: float = DEFAULT_BACKOFF
    max_runs_per_provider: int | None = None
    ray_address: str | None = None
    ray_num_cpus: float | None = None
    ray_num_gpus: float | None = None
    slurm_cluster: str | None = None  # None: "slurm"
    slurm_args: tuple[str, ...] = ()
    slurm_config: str | None = None
    # --requests-per-minute, --tokens-per-minute, --max-concurrent-requests: (flag, SCOPE=N) as given
    request_limits: tuple[tuple[str, str], ...] = ()

    @property
    def effective_retries(self) -> int:
        if self.retries is not None:
            return self.retries
        return 0 if self.engine == "local" else 1

    @property
    def cluster(self) -> str:
        return self.slurm_cluster or "slurm"

    @property
    def other_hosts(self) -> bool:
        """Whether runs may execute on other machines than this one."""
        return (self.engine == "ray" and bool(self.ray_address)) or (
            self.engine == "slurm" and self.cluster == "slurm"
        )


def task_of(name: str, payload: bytes, model: str, model_deployment: str | None, size: int | None) -> Task:
    """A run as the engines see it: its provider is the host organisation of its deployment
    (`together/...`), or of its model when it has none."""
    provider = (model_deployment or model).split("/", 1)[0]
    return Task(name, payload, provider, provider not in LOCAL_PROVIDERS, size)


# ------------------------------------------------------------------------------ checks


def _span(flag: str, value: str) -> Any:
    """The position of a flag's value, in a one-line source `<command line>`."""
    from helmc.compiler.source import SourceFile

    text = f"{flag} {value}"
    return SourceFile("<command line>", text).span(len(flag) + 1, len(text))


def _extra_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules[module] is None
        return False


def _ray_reachable(address: str) -> str | None:
    """None when a Ray cluster answers at `address`, else why not."""
    if address == "auto":
        if os.environ.get("RAY_ADDRESS"):
            return _ray_reachable(os.environ["RAY_ADDRESS"])
        if os.path.exists("/tmp/ray/ray_current_cluster"):
            return None
        return "no Ray cluster was started on this machine (`ray start --head`)"
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return "expected HOST:PORT, ray://HOST:PORT or auto"
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return None
    except OSError as e:
        return f"cannot connect to {host}:{port}: {e.strerror or e}"


def slurm_parameters(options: EngineOptions, sink: Any) -> dict[str, Any]:
    """The submitit SlurmExecutor parameters from --slurm-config then --slurm-arg (later wins);
    problems go to `sink` as HC0704/HC0705/HC0708."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.resolve.suggest import closest

    valid = _slurm_valid_parameters()
    params: dict[str, Any] = {}
    pairs: list[tuple[str, Any, Any]] = []  # key, value, span of the key
    if options.slurm_config:
        pairs += _read_slurm_config(options.slurm_config, sink)
    for arg in options.slurm_args:
        key, eq, value = arg.partition("=")
        if not eq or not key.strip() or key != key.strip():
            sink.add(diag(
                "HC0704", f"--slurm-arg `{arg}` is not KEY=VALUE", _span("--slurm-arg", arg),
                "expected KEY=VALUE",
                help="write one `KEY=VALUE` per parameter, e.g. `--slurm-arg partition=gpu time=240`",
            ))
            continue
        pairs.append((key, _coerce(value), _span("--slurm-arg", arg)))
    for key, value, span in pairs:
        if valid is not None and key not in valid:
            sugg = closest(key, sorted(valid))
            sink.add(diag(
                "HC0705", f"`{key}` is no Slurm parameter that submitit knows", span,
                "unknown parameter",
                help=f"did you mean `{sugg[0]}`?" if sugg else None,
                notes=["submitit's SlurmExecutor takes " + ", ".join(f"`{v}`" for v in sorted(valid))],
            ))
            continue
        params[key] = value
    return params


def _slurm_valid_parameters() -> set[str] | None:
    try:
        import submitit
    except ImportError:
        return None
    return set(submitit.SlurmExecutor._valid_parameters())  # its list of sbatch options


def _coerce(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        return value


def _read_slurm_config(path: str, sink: Any) -> list[tuple[str, Any, Any]]:
    """A runner config file: a YAML mapping of Slurm parameters, e.g. `partition: gpu`."""
    import yaml

    from helmc.compiler.syntax.config_yaml import load_yaml
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.files.reading import read_input_text
    from helmc.compiler.source import SourceFile

    try:  # helmc's one reader and YAML depth bound: a FIFO or /dev/zero is refused, not read
        text = read_input_text(path)
        data = load_yaml(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e).splitlines()[0]
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            reason += f" (line {mark.line + 1}, column {mark.column + 1})"
        sink.add(diag("HC0708", f"cannot read the runner config file `{path}`: {reason}",
                      _span("--slurm-config", path), "this file",
                      help="give a YAML file that maps Slurm parameters to values, e.g. `partition: gpu`"))
        return []
    src = SourceFile(path, text)
    if data is None:
        return []
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        sink.add(diag("HC0708", f"the runner config file `{path}` is not a mapping of Slurm parameters",
                      src.span(0, min(len(text), text.find("\n") if "\n" in text else len(text))),
                      "expected `KEY: VALUE` lines",
                      help="write one `KEY: VALUE` line per parameter, e.g. `partition: gpu`"))
        return []
    out = []
    for k, v in data.items():
        at = text.find(k)
        out.append((k, v, src.span(max(0, at), max(0, at) + len(k))))
    return out


def check_engine(options: EngineOptions, *, mongo_uri: str, disable_cache: bool, local_path: str, sink: Any) -> None:
    """Every problem with the engine flags, as diagnostics in `sink`. Starts nothing."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.resolve.suggest import closest

    o = options
    if o.engine not in ENGINES:
        sugg = closest(o.engine, ENGINES)
        sink.add(diag("HC0700", f"unknown engine `{o.engine}`", _span("--engine", o.engine), "no such engine",
                      help=f"did you mean `{sugg[0]}`?" if sugg else "use `local`, `ray` or `slurm`",
                      notes=["helm-run runs on `local` (worker processes, the default), `ray` or `slurm`"]))
        return
    for flag, value, engine in (
        ("--ray-address", o.ray_address, "ray"), ("--ray-num-cpus", o.ray_num_cpus, "ray"),
        ("--ray-num-gpus", o.ray_num_gpus, "ray"), ("--slurm-cluster", o.slurm_cluster, "slurm"),
        ("--slurm-arg", " ".join(o.slurm_args) or None, "slurm"), ("--slurm-config", o.slurm_config, "slurm"),
    ):
        if value is not None and o.engine != engine:
            sink.add(diag("HC0707", f"{flag} applies to --engine {engine} only", _span(flag, str(value)),
                          f"ignored by --engine {o.engine}",
                          help=f"add `--engine {engine}`, or remove {flag}"))
    for flag, value, low in (("--retries", o.retries, 0), ("--max-runs-per-provider", o.max_runs_per_provider, 1),
                             ("--ray-num-cpus", o.ray_num_cpus, 0), ("--ray-num-gpus", o.ray_num_gpus, 0),
                             ("--retry-backoff", o.retry_backoff, 0)):
        if value is not None and not math.isfinite(value):  # nan passes every comparison
            sink.add(diag("HC0707", f"{flag} must be a finite number", _span(flag, str(value)), "not a number",
                          help=f"give {flag} a finite value"))
        elif value is not None and (value < low or (flag == "--ray-num-cpus" and value == 0)):
            bound = "more than 0" if flag == "--ray-num-cpus" else f"at least {low}"
            sink.add(diag("HC0707", f"{flag} must be {bound}", _span(flag, str(value)), "out of range",
                          help=f"give {flag} a value {bound}"))
    request_limits(o, sink)
    if o.engine in EXTRA:
        module, hint = EXTRA[o.engine]
        if not _extra_installed(module):
            sink.add(diag("HC0701", f"--engine {o.engine} needs `{module}`, which is not installed",
                          _span("--engine", o.engine), f"needs the `{o.engine}` extra",
                          help=f"install it with: {hint}",
                          notes=["the local engine (the default) needs nothing more"]))
            return
    if o.engine == "ray" and o.ray_address:
        why = _ray_reachable(o.ray_address)
        if why:
            sink.add(diag("HC0702", f"no Ray cluster answers at `{o.ray_address}`: {why}",
                          _span("--ray-address", o.ray_address), "unreachable",
                          help="start the cluster (`ray start --head`) and pass the address it prints, "
                               "or leave out --ray-address to run a Ray instance on this machine"))
    if o.engine == "slurm":
        slurm_parameters(o, sink)
        if o.cluster == "slurm" and shutil.which("sbatch") is None:
            sink.add(diag("HC0703", "--engine slurm needs `sbatch`, which is not on PATH",
                          _span("--slurm-cluster", o.cluster) if o.slurm_cluster else _span("--engine", "slurm"),
                          "submits with sbatch",
                          help="run helm-run on a Slurm login node, or add `--slurm-cluster local` to run "
                               "the same jobs on this machine"))
    if o.other_hosts and not mongo_uri and not disable_cache and not sink.has_errors:
        where = "--ray-address " + o.ray_address if o.engine == "ray" else "--slurm-cluster slurm"
        sink.add(diag("HC0706", "runs on several hosts would share HELM's SQLite request cache",
                      _span("--engine", o.engine), f"runs on other hosts ({where})",
                      help="pass --mongo-uri (HELM's MongoDB cache) or --disable-cache",
                      notes=[f"HELM's SQLite cache is under --local-path ({os.path.join(local_path, 'cache')}); "
                             "SQLite locks and corrupts when writers on several hosts share it "
                             "(HELM issues 736, 944, 1914)"]))


def request_limits(options: EngineOptions, sink: Any, known: Any = None) -> tuple[Any, ...]:
    """The governor's limits of well-formed flags; HC0709 for each malformed one, and, given
    `known` (the catalog's deployments and host organizations), for each unknown scope."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.resolve.suggest import closest

    from ..governor import Limit, parse_limit

    out: list[Limit] = []
    for kind, text in options.request_limits:
        flag = f"--{kind}"
        parsed = parse_limit(kind, text)
        if isinstance(parsed, str):
            sink.add(diag("HC0709", f"{flag} `{text}` {parsed}", _span(flag, text), "not SCOPE=N",
                          help=f"write it as {flag} openai=500 (a deployment such as openai/gpt-4o, or "
                               "a host organization such as openai)"))
            continue
        if known is not None and parsed.scope not in known:
            sugg = closest(parsed.scope, sorted(known))
            sink.add(diag("HC0709", f"{flag}: no model deployment or host organization is named `{parsed.scope}`",
                          _span(flag, text), "unknown scope",
                          help=f"did you mean `{sugg[0]}`?" if sugg else
                          "name a model deployment (openai/gpt-4o) or the organization before its `/`"))
            continue
        out.append(parsed)
    return tuple(out)


# ------------------------------------------------------------------------------ building


def make_engine(options: EngineOptions, *, submit_folder: str, tick_interval: float = 0.25) -> Engine:
    """The engine of checked options (check_engine found nothing)."""
    common: dict[str, Any] = dict(
        retries=options.effective_retries,
        backoff=options.retry_backoff,
        max_per_provider=options.max_runs_per_provider,
        tick_interval=tick_interval,
    )
    if options.engine == "ray":
        from .ray_engine import RayEngine

        return RayEngine(
            options.parallel_runs,
            address=options.ray_address,
            num_cpus=options.ray_num_cpus if options.ray_num_cpus is not None else 1.0,
            num_gpus=options.ray_num_gpus or 0.0,
            **common,
        )
    if options.engine == "slurm":
        from helmc.compiler.diagnostics import DiagnosticSink

        from .slurm_engine import SlurmEngine

        params = slurm_parameters(options, DiagnosticSink())
        return SlurmEngine(options.parallel_runs, folder=submit_folder, cluster=options.cluster, params=params,
                           **common)
    from ..engine import LocalEngine

    return LocalEngine(options.parallel_runs, **common)
