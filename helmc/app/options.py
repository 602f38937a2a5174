"""The one table of helmc's options: each declared once, with its type, default, help and where
it may be set; the argparse flags of helm-check, helmc plan and helm-run, the `[tool.helmc]`
keys (helmc/app/settings.py) and the language server's settings are all generated from it.

A plain table of immutable records rather than pydantic-settings or typed-settings: helm-check's
cold start is part of every editor save and CI step, and importing pydantic alone costs about as
much as lark and rich together; typed-settings brings cattrs, which crfm-helm pins to ~=22.2 while
pygls needs >=23.1.2. The table needs neither: argparse and tomllib do the reading.
"""

from __future__ import annotations

import argparse
import enum
import math
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from helmc.compiler.emit import FORMATS


class Where(enum.Flag):
    """Where an option may be given: a command's flags, and [tool.helmc] (which the language
    server reads too)."""

    CHECK = enum.auto()
    PLAN = enum.auto()
    RUN = enum.auto()
    PYPROJECT = enum.auto()
    SELECTION = CHECK | PLAN | RUN  # helm-run's selection flags, which check and plan take too


class Kind(enum.Enum):
    """An option's value type; a number is always finite."""

    STR = "a string"
    INT = "an integer"
    FLOAT = "a number"
    BOOL = "true or false"
    LIST = "a list of strings"  # nargs: a flag takes one or more words


def _integer(minimum: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)  # a ValueError: argparse's own "invalid int value"
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = "int"
    return parse


def _number(minimum: float | None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)  # a ValueError: argparse's own "invalid float value"
        if not math.isfinite(value):  # float() reads `nan` and `inf`; no flag means either
            raise argparse.ArgumentTypeError(f"must be a finite number, not `{text}`")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, not {value:g}")
        return value

    parse.__name__ = "float"
    return parse


class Option(NamedTuple):
    """One option. `name` is its long flag without `--` and its [tool.helmc] key. A NamedTuple,
    immutable as a frozen dataclass, whose class costs a tenth as much to make: this module is
    on every helm-check's start-up path (0.1 ms against 0.9 ms, measured)."""

    name: str
    kind: Kind
    default: Any
    help: str
    where: Where
    short: str | None = None
    metavar: str | None = None
    nargs: str | None = None  # LIST: "+" (one or more) or "*"
    extend: bool = False  # given twice, the words add up (else the last one wins)
    choices: Mapping[Where, tuple[str, ...]] | None = None  # per command
    # The smallest value argparse accepts. None where a range is checked later with a
    # positioned diagnostic (the engine flags: HC0707 in runtime/engines) or not at all.
    minimum: float | None = None
    required: Where = Where(0)  # the commands that insist on it (helm-run's -m, as HELM)
    is_path: bool = False  # in [tool.helmc]: relative to the pyproject.toml holding it
    group: str | None = None  # helm-run's help groups
    # helm-run's default where HELM's parser spells the same meaning differently (None for [])
    run_default: Any = ...

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def flags(self) -> tuple[str, ...]:
        return (f"-{self.short}", f"--{self.name}") if self.short else (f"--{self.name}",)


_S, _C, _P, _R, _T = Where.SELECTION, Where.CHECK, Where.PLAN, Where.RUN, Where.PYPROJECT
_HELMC = "helmc"
_ENGINES = "helmc engines (docs/runtime.md)"

OPTIONS: tuple[Option, ...] = (
    # helm-run's selection flags (helm.benchmark.run.build_parser, add_run_args)
    Option("conf-paths", Kind.LIST, [], "conf files (or folders of them) read together, as helm-run reads them",
           _S, short="c", metavar="PATH", nargs="+"),
    Option("conf-file", Kind.LIST, [], "same as --conf-paths (the spelling in HELM's documentation)",
           _S, metavar="PATH", nargs="+", extend=True),
    Option("run-entries", Kind.LIST, [], "run entries, read together with --conf-paths",
           _S, short="r", metavar="ENTRY", nargs="*"),
    Option("models-to-run", Kind.LIST, None,
           "as helm-run: only runs of these models (a `model=` without `/` is replaced by each)",
           _S | _T, metavar="MODEL", nargs="+"),
    Option("groups-to-run", Kind.LIST, None, "as helm-run: only runs of these scenario groups",
           _S, metavar="GROUP", nargs="+"),
    # Any integer: entries may have negative priorities, and HELM compares them as they are.
    Option("priority", Kind.INT, None, "as helm-run: drop entries whose priority is greater than this", _S),
    Option("max-eval-instances", Kind.INT, None,
           "as helm-run: the adapter's max_eval_instances where the run spec leaves it unset",
           _S, short="m", minimum=0, required=_R),
    Option("num-train-trials", Kind.INT, None,
           "as helm-run: trials, each sampling a different set of in-context examples", _S, short="t", minimum=0),
    # helm-run's catalog additions: where HELM takes what it knows beyond its own config
    Option("local-path", Kind.STR, "prod_env", "HELM's local config folder (default: prod_env)",
           _S | _T, is_path=True),
    Option("plugins", Kind.LIST, [],
           "importable module names or filesystem paths that register custom run specs / scenarios / datasets",
           _S | _T, metavar="MODULE", nargs="+", is_path=True, run_default=None),
    Option("enable-huggingface-models", Kind.LIST, [],
           "Hugging Face Hub models HELM may use (namespace/model_name[@revision])",
           _S | _T, metavar="MODEL", nargs="+"),
    Option("enable-local-huggingface-models", Kind.LIST, [], "Hugging Face models from a local path",
           _S | _T, metavar="PATH", nargs="+", is_path=True),
    Option("allow-no-runs", Kind.BOOL, False, "nothing left to run after the filters is no error (exit 0)",
           _C | _R, group=_HELMC),
    Option("format", Kind.STR, "text", "output format of diagnostics (default: text)", _C | _P | _R | _T,
           choices={_C: FORMATS, _R: FORMATS, _P: ("text", "json"), _T: FORMATS}, group=_HELMC),
    # helm-check's own
    Option("no-catalog", Kind.BOOL, False, "check syntax and schema only, not names against HELM's catalog",
           _C | _T),
    Option("select", Kind.LIST, None, "report only these codes or prefixes, comma-separated (e.g. HC03,HC0106)",
           _C | _T, metavar="CODES"),
    Option("ignore", Kind.LIST, None, "never report these codes or prefixes", _C | _T, metavar="CODES"),
    Option("statistics", Kind.BOOL, False, "print the number of diagnostics per code instead", _C),
    Option("output-file", Kind.STR, None, "write the output to FILE", _C | _T, short="o", metavar="FILE",
           is_path=True),
    Option("isolated", Kind.BOOL, False, "ignore [tool.helmc] in pyproject.toml", _C),
    Option("fix", Kind.BOOL, False, "apply every safe fix to the files in place", _C),
    Option("unsafe-fixes", Kind.BOOL, False, "with --fix, apply the unsafe fixes too", _C),
    # helmc plan's own
    Option("explain", Kind.BOOL, False, "show each entry's way from description to runs", _P),
    Option("build", Kind.BOOL, False,
           "build every RunSpec with HELM's own functions (needs crfm-helm): exact run names and adapter settings",
           _P),
    Option("estimate", Kind.BOOL, False,
           "per run: requests, prompt and maximum completion tokens (HELM's own dry run, remembered), "
           "cached requests and cost in USD (docs/estimate.md; needs crfm-helm)", _P),
    Option("prices", Kind.STR, None,
           "a YAML prices file: USD per million tokens per HELM model or deployment, over genai-prices' "
           "list (docs/estimate.md)", _C | _P | _R | _T, metavar="FILE", is_path=True),
    # helm-run's other HELM flags (helm.proxy.services.remote_service.add_service_args, helm.benchmark.run)
    Option("server-url", Kind.STR, None, "URL of proxy server to connect to", _R),
    Option("api-key-path", Kind.STR, "proxy_api_key.txt", "Path to a file containing the API key", _R),
    Option("exit-on-error", Kind.BOOL, False, "Fail and exit immediately if a particular RunSpec fails.", _R),
    Option("skip-completed-runs", Kind.BOOL, False, "Skip RunSpecs that have completed i.e. output files exists.",
           _R),
    Option("run-specs", Kind.LIST, [],
           "DEPRECATED: Use --run-entries instead. Will be removed in a future release. Specifies run entries to run.",
           _R, nargs="*"),
    Option("runner-class-name", Kind.STR, None,
           "Full class name of the Runner class to use. If unset, uses the default Runner.", _R),
    Option("log-config", Kind.STR, None, "PATH to a YAML file to customize logging", _R),
    Option("output-path", Kind.STR, "benchmark_output", "Where to save all the output", _R, short="o"),
    Option("num-threads", Kind.INT, 4, "Max number of threads to make requests", _R, short="n", minimum=1),
    Option("skip-instances", Kind.BOOL, False,
           "Skip creation of instances (basically do nothing but just parse everything).", _R),
    Option("cache-instances", Kind.BOOL, False,
           "Save generated instances input to model to disk. If already cached, read instances from file.", _R),
    Option("cache-instances-only", Kind.BOOL, False,
           "Generate and save instances for scenario ONLY (i.e. do not evaluate models on instances).", _R),
    Option("dry-run", Kind.BOOL, False, "Skip execution, only output scenario states and estimate token usage.",
           _R, short="d"),
    Option("suite", Kind.STR, "default",
           "Name of the suite this run belongs to (default: default). HELM's own help says "
           "\"default is today's date\", but its default is `default` too.", _R),
    Option("mongo-uri", Kind.STR, "",
           "If non-empty, the URL of the MongoDB database that will be used for caching instead of SQLite", _R),
    Option("disable-cache", Kind.BOOL, False,
           "If true, the request-response cache for model clients and tokenizers will be disabled.", _R),
    # helm-run: helmc's own
    Option("parallel-runs", Kind.INT, 1,
           "Run N RunSpecs at a time, each in its own worker process (default 1, as HELM); "
           "with helmc plan --estimate, N dry runs at a time.", _P | _R, metavar="N",
           group=_HELMC),  # at least 1: helm-run refuses less in one line (runtime/helm_run.py)
    Option("max-cost", Kind.FLOAT, None,
           "Refuse to start (exit 1, nothing written) a suite whose estimated cost is over USD; "
           "runs without a price are then an error (docs/estimate.md). helm-check: the same verdict. While "
           "the suite runs, no further run starts once the actual spend reaches USD (exit 1).", _C | _R,
           metavar="USD", minimum=0,
           group=_HELMC),
    Option("max-requests", Kind.INT, None,
           "Refuse to start (exit 1, nothing written) a suite that would send more than N requests "
           "not in HELM's cache. helm-check: the same verdict. While the suite runs, no further run "
           "starts once the requests sent reach N (exit 1).", _C | _R, metavar="N", minimum=0, group=_HELMC),
    Option("fresh", Kind.BOOL, False,
           "Ignore the journal: redo runs that an earlier helm-run of this suite completed.", _R, group=_HELMC),
    Option("only-runs", Kind.LIST, None,
           "Run only the RunSpecs with these names (the re-run command for failed runs uses this).", _R,
           metavar="RUN_NAME", nargs="+", group=_HELMC),
    Option("only-runs-file", Kind.STR, None,
           "Run only the RunSpecs named in FILE, one name a line or a JSON array (the re-run command uses "
           "this when its list is too long for a command line).", _R, metavar="FILE", group=_HELMC),
    Option("engine", Kind.STR, "local",
           "Where runs execute: worker processes here (local, the default), Ray tasks (extra `ray`) "
           "or Slurm jobs through submitit (extra `slurm`).", _R, metavar="local|ray|slurm", group=_ENGINES),
    Option("retries", Kind.INT, None,
           "Retry a run that fails or whose worker dies up to N times, with backoff "
           "(default 0 with --engine local, 1 with ray and slurm).", _R, metavar="N", group=_ENGINES),
    Option("retry-backoff", Kind.FLOAT, 2.0,
           "Wait this long before a first retry, twice as long before a second... (default 2, at most 60).",
           _R, metavar="SECONDS", group=_ENGINES),
    Option("max-runs-per-provider", Kind.INT, None,
           "At most N runs at once per model host organisation (openai, together...); runs on "
           "local models (simple/, huggingface/) are not limited.", _R, metavar="N", group=_ENGINES),
    # The request governor (runtime/governor.py): limits shared by every worker of the suite
    Option("requests-per-minute", Kind.LIST, None,
           "At most N requests a minute to SCOPE (a model deployment, or the host organization "
           "before its `/`), shared by every worker of the suite; repeatable.",
           _R | _T, metavar="SCOPE=N", nargs="+", extend=True, group=_ENGINES),
    Option("tokens-per-minute", Kind.LIST, None,
           "At most N tokens a minute to SCOPE (prompt at 4 characters a token, plus the completion "
           "tokens a request allows), shared by every worker of the suite; repeatable.",
           _R | _T, metavar="SCOPE=N", nargs="+", extend=True, group=_ENGINES),
    Option("max-concurrent-requests", Kind.LIST, None,
           "At most N requests to SCOPE out at once across the suite's workers; repeatable.",
           _R | _T, metavar="SCOPE=N", nargs="+", extend=True, group=_ENGINES),
    Option("ray-address", Kind.STR, None,
           "A running Ray cluster (HOST:PORT, ray://HOST:PORT, auto); without it helm-run "
           "starts a Ray instance on this machine and stops it at the end.", _R, metavar="ADDR", group=_ENGINES),
    Option("ray-num-cpus", Kind.FLOAT, None, "CPUs per run (default 1).", _R, metavar="N", group=_ENGINES),
    Option("ray-num-gpus", Kind.FLOAT, None, "GPUs per run (default 0).", _R, metavar="N", group=_ENGINES),
    Option("slurm-cluster", Kind.STR, None,
           "slurm (sbatch, the default) or local: the same jobs run on this machine "
           "with submitit's local executor.", _R, choices={_R: ("slurm", "local")}, group=_ENGINES),
    Option("slurm-arg", Kind.LIST, None,
           "A Slurm parameter of submitit's SlurmExecutor (partition, account, time in "
           "minutes, gpus_per_node, mem, ...); repeatable.", _R, metavar="KEY=VALUE", nargs="+", extend=True,
           group=_ENGINES),
    Option("slurm-config", Kind.STR, None,
           "A YAML runner config file mapping Slurm parameters to values; --slurm-arg wins.", _R, metavar="PATH",
           group=_ENGINES),
)

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
# [tool.helmc]'s keys: the options it may set (the language server reads the same table).
SETTINGS: dict[str, Option] = {o.name: o for o in OPTIONS if Where.PYPROJECT in o.where}
# helm-check's flags that [tool.helmc] may also give: their argparse default is None, so that a
# flag left out can be told from one given (`settle`).
SETTLED: tuple[Option, ...] = tuple(o for o in SETTINGS.values() if Where.CHECK in o.where)


def add_flags(parser: argparse.ArgumentParser, command: Where) -> None:
    """The flags of `command` (CHECK, PLAN or RUN), in the table's order."""
    groups: dict[str, Any] = {}
    for o in OPTIONS:
        if command not in o.where:
            continue
        target: Any = parser
        if o.group is not None and command is Where.RUN:
            target = groups.get(o.group) or groups.setdefault(o.group, parser.add_argument_group(o.group))
        settled_later = command is Where.CHECK and o in SETTLED
        kw: dict[str, Any] = {"help": o.help, "dest": o.dest}
        if o.kind is Kind.BOOL:
            kw.update(action="store_true", default=None if settled_later else False)
        else:
            kw["default"] = None if settled_later else default_of(o, command)
            if o.metavar:
                kw["metavar"] = o.metavar
            if o.kind is Kind.LIST:
                if o.nargs:
                    kw["nargs"] = o.nargs
                    if o.extend:
                        kw["action"] = "extend"
                else:  # one word a time, repeatable (--select HC01 --select HC02)
                    kw["action"] = "append"
            elif o.kind is Kind.INT:
                kw["type"] = _integer(int(o.minimum) if o.minimum is not None else None)
            elif o.kind is Kind.FLOAT:
                kw["type"] = _number(o.minimum)
            if o.choices and command in o.choices:
                kw["choices"] = list(o.choices[command])
            if command in o.required:
                kw["required"] = True
                kw.pop("default")  # argparse's default then: None, as default_of says
        target.add_argument(*o.flags, **kw)


def default_of(o: Option, command: Where) -> Any:
    """The value `command`'s parser gives the option when its flag is left out (a fresh list for
    a list; None for a flag the command insists on). helm-check's settled flags are None instead,
    until settle_flags fills them."""
    if o.kind is Kind.BOOL:
        return False
    if command in o.required:
        return None
    default = o.run_default if command is Where.RUN and o.run_default is not ... else o.default
    return list(default) if isinstance(default, list) else default


def setting(values: Mapping[str, Any], name: str) -> Any:
    """A setting of [tool.helmc] (load_settings' values), else the table's default: what the
    language server, which has no flags, reads."""
    value = values.get(name)
    return SETTINGS[name].default if value is None else value


def catalog_additions(values: Mapping[str, Any]) -> Any:
    """The catalog additions (UserAdditions) of a set of values keyed by option name, with the
    table's defaults for those missing: what helm-run gives HELM, and what the language server
    loads its catalog with."""
    from helmc.compiler.catalog.catalog import UserAdditions

    def get(name: str) -> Any:
        value = values.get(name)
        return BY_NAME[name].default if value is None else value

    return UserAdditions(
        local_path=get("local-path"),
        plugins=tuple(get("plugins")),
        enable_huggingface_models=tuple(get("enable-huggingface-models")),
        enable_local_huggingface_models=tuple(get("enable-local-huggingface-models")),
    )


def options_from_args(args: Any) -> Any:
    """The compile's one options object (compiler/session.py's Options: selection, catalog
    additions, verdict flags) of a command's parsed flags (an argparse.Namespace, or one made of
    settled values); its catalog additions are also what HELM is given (HelmSettings.catalog)."""
    from helmc.compiler.catalog.catalog import UserAdditions
    from helmc.compiler.plan.plan import PlanOptions
    from helmc.compiler.session import Options

    return Options(
        selection=PlanOptions(
            models_to_run=tuple(args.models_to_run) if getattr(args, "models_to_run", None) else None,
            groups_to_run=tuple(args.groups_to_run) if getattr(args, "groups_to_run", None) else None,
            priority=getattr(args, "priority", None),
            max_eval_instances=getattr(args, "max_eval_instances", None),
            num_train_trials=getattr(args, "num_train_trials", None),
        ),
        catalog=UserAdditions(
            local_path=getattr(args, "local_path", None),
            plugins=tuple(getattr(args, "plugins", None) or ()),
            enable_huggingface_models=tuple(getattr(args, "enable_huggingface_models", None) or ()),
            enable_local_huggingface_models=tuple(getattr(args, "enable_local_huggingface_models", None) or ()),
        ),
        allow_no_runs=bool(getattr(args, "allow_no_runs", False)),
        no_catalog=bool(getattr(args, "no_catalog", False)),
    )


CATALOG_KEYS: tuple[str, ...] = ("local-path", "plugins", "enable-huggingface-models",
                                 "enable-local-huggingface-models")


def names(options: Iterable[Option]) -> str:
    return ", ".join(o.name for o in options)
