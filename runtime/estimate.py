"""The estimate: what each run of a plan will send, from HELM's own dry run.

For every run HELM builds, a worker of helmc's local engine builds its requests as HELM's
Runner.run_one does in `helm-run --dry-run` (HELM's scenario and adapter) and counts them as
DryRunMetric does (the deployment's tokenizer); the counts are HELM's stats `num_requests`,
`num_prompt_tokens` and `max_num_completion_tokens` (HELM's files of the dry run are not
written). They are remembered by the run's fingerprint (with HELM's version and the local
config files), so an unchanged plan is estimated again without HELM.

Which requests HELM's SQLite request cache already holds is counted where helmc computes the
key HELM's client stores (CACHE_KEYS); for other clients the count is not checked and the run
is not `exact`. A run whose dry run fails (its scenario's data or tokenizer is not on this
machine) gets a bound from its adapter settings instead, marked not exact.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from helmc.compiler.plan.plan import Plan

from .executor import HelmExecutor
from .helm_setup import HelmSettings
from .runspecs import BuiltRun
from .engine import Engine, Event, Finished
from .task import Task

MEMO_VERSION = 1  # bump when what a memo file holds changes
STATS = ("num_requests", "num_prompt_tokens", "max_num_completion_tokens")


def memo_dir() -> str:
    """Where estimates are remembered: $HELMC_CACHE_DIR, else the XDG cache folder."""
    root = os.environ.get("HELMC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "helmc")
    return os.path.join(root, "estimates")


# ---------------------------------------------------------------------------- HELM's cache keys


def _simple_key(request: Mapping[str, Any]) -> dict[str, Any]:
    # helm.clients.simple_client.SimpleClient.make_request's raw_request
    return {
        "engine": request["model"].split("/")[1],  # Request.model_engine
        "prompt": request["prompt"],
        "num_completions": request.get("num_completions", 1),
    }


# The client classes whose cache key helmc computes as HELM does: raw_request, then
# CachingClient.make_cache_key (adds `random` when the request has one), stored by
# KeyValueStore as json.dumps(key, sort_keys=True) in <local_path>/cache/<host org>.sqlite.
CACHE_KEYS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "helm.clients.simple_client.SimpleClient": _simple_key,
}


def cache_key(client_class: str, request: Mapping[str, Any]) -> str | None:
    make = CACHE_KEYS.get(client_class)
    if make is None:
        return None
    raw = make(request)
    if request.get("random") is not None:
        raw = {**raw, "random": request["random"]}
    return json.dumps(raw, sort_keys=True)


# ---------------------------------------------------------------------------- the worker's side


def dry_run_requests(runner: Any, run_spec: Any) -> list[Any]:
    """The requests of HELM's dry run of `run_spec`: Runner.run_one, line for line, up to its
    adapter (HELM's scenario, instances, downsampling, data augmentation and adapter). What
    run_one does after that in a dry run adds no request: its executor and annotators skip
    (`dry_run`), and DryRunMetric only counts (`summarize`); its files are not written here.

    One difference: parallelism 1 where run_one passes its --num-threads. HELM's parallel_map
    returns its results in the order of its items whatever the parallelism, so the requests
    are the same, without a pool of threads started for every trial of every run."""
    import dacite
    from helm.benchmark import runner as helm_runner
    from helm.benchmark.adaptation.adapters.adapter_factory import AdapterFactory
    from helm.benchmark.data_preprocessor import DataPreprocessor
    from helm.benchmark.scenarios.scenario import (EVAL_SPLITS, Instance, create_scenario, get_scenario_cache_path,
                                                   with_instance_ids)
    from helm.common.general import asdict_without_nones, ensure_directory_exists, write

    helm_runner._CURRENT_RUN_SPEC_NAME = run_spec.name
    scenario = create_scenario(run_spec.scenario_spec)
    args_str = ",".join([f"{k}={v}" for k, v in sorted(run_spec.scenario_spec.args.items())])
    scenario_name_with_args = f"{scenario.name}:{args_str}" if args_str else f"{scenario.name}"
    input_instances_output_path = os.path.join(runner.instances_path, scenario_name_with_args)
    input_instances_file_path = os.path.join(input_instances_output_path, "input_instances.json")
    if runner.skip_instances:
        instances = []
    elif runner.cache_instances and os.path.exists(input_instances_file_path):
        with open(input_instances_file_path) as f:
            instances = [dacite.from_dict(Instance, instance) for instance in json.load(f)]
    else:
        instances = scenario.get_instances(get_scenario_cache_path(runner.output_path, scenario.name))
    if runner.cache_instances and not os.path.exists(input_instances_file_path):
        ensure_directory_exists(input_instances_output_path)
        write(input_instances_file_path,
              json.dumps([asdict_without_nones(instance) for instance in instances], indent=2))
    if runner.cache_instances_only:
        return []  # HELM stops here: no request
    if any(instance.id is None for instance in instances):
        instances = with_instance_ids(instances)
    max_eval_instances = run_spec.adapter_spec.max_eval_instances
    eval_splits = run_spec.adapter_spec.eval_splits or EVAL_SPLITS
    if max_eval_instances is not None:
        instances = helm_runner.downsample_eval_instances(instances, max_eval_instances, eval_splits)
    instances = DataPreprocessor(run_spec.data_augmenter_spec).preprocess(instances, 1)
    adapter = AdapterFactory.get_adapter(run_spec.adapter_spec, runner.tokenizer_service)
    return [state.request for state in adapter.adapt(instances, 1)]


def summarize(requests: Sequence[Any], metric_service: Any, client_class: str | None,
              shard: str | None) -> dict[str, Any]:
    """HELM's three dry-run stats of these requests, as DryRunMetric computes them (per request:
    `num_completions` x `max_tokens`, and the prompt's tokens by the window service of the
    request's deployment; `num_requests` their number), and each request's tokens and cache key.
    DryRunMetric's other stats (`estimated_num_tokens_cost`, `num_completions`) are not computed:
    nothing uses them."""
    from dataclasses import fields

    from helm.benchmark.window_services.window_service_factory import WindowServiceFactory

    windows: dict[str, Any] = {}
    keyed = client_class in CACHE_KEYS
    names = [f.name for f in fields(requests[0])] if keyed and requests else []
    per: list[list[Any]] = []
    prompt_total = completion_total = 0
    for r in requests:
        window = windows.get(r.model_deployment)
        if window is None:
            window = windows[r.model_deployment] = WindowServiceFactory.get_window_service(r.model_deployment,
                                                                                           metric_service)
        prompt, completion = window.get_num_tokens(r.prompt), r.num_completions * r.max_tokens
        prompt_total += prompt
        completion_total += completion
        if keyed:
            # the request's fields as HELM's JSON of it has them at the top (Nones left out)
            shallow = {n: v for n in names if (v := getattr(r, n)) is not None}
            per.append([cache_key(client_class, shallow), prompt, completion])  # type: ignore[arg-type]
    return {
        "requests": len(requests),
        "prompt_tokens": prompt_total,
        "max_completion_tokens": completion_total,
        "shard": shard,
        "per_request": per if keyed else None,
    }


@contextlib.contextmanager
def prompts_counted_once() -> Iterator[None]:
    """While a run's requests are built and counted: each prompt's tokens are counted once.
    HELM's adapter counts every prompt to fit it in the context window
    (`fits_within_context_window`), and DryRunMetric counts the same prompt again with a window
    service of the same class, tokenizer and request length: here the second count is the
    first's (tokenizers are deterministic), which halves the tokenizer's work of a dry run.
    Remembered for one run only (its prompts are in memory anyway); a window service that
    counts otherwise (its own get_num_tokens) is not touched."""
    from helm.benchmark.window_services.local_window_service import LocalWindowService

    count = LocalWindowService.get_num_tokens
    counted: dict[tuple[Any, ...], int] = {}

    def get_num_tokens(self: Any, text: str) -> int:
        key = (type(self), self.tokenizer_name, self.max_request_length, text)
        n = counted.get(key)
        if n is None:
            n = counted[key] = count(self, text)
        return n

    LocalWindowService.get_num_tokens = get_num_tokens  # type: ignore[method-assign]
    try:
        yield
    finally:
        LocalWindowService.get_num_tokens = count  # type: ignore[method-assign]


class EstimateExecutor(HelmExecutor):
    """HELM's dry run of each run (dry_run_requests, then summarize) in a worker, with one
    Runner per worker for its services. The summary goes straight to the run's memo file
    (`targets`, by run name; written whole or not at all), HELM's output to `log` (None: where
    this process's fds 1 and 2 go). No run folder: the dry run's files are not written."""

    def __init__(self, settings: HelmSettings, targets: Mapping[str, str], log: str | None = None) -> None:
        super().__init__(settings)
        self.targets = dict(targets)
        self.log = log

    def execute(self, task: Task) -> None:
        import pickle
        import traceback

        from helm.benchmark.model_deployment_registry import get_model_deployment

        from . import helm_setup

        with helm_setup.redirect_output(self.log) if self.log else contextlib.nullcontext():
            try:
                if self._runner is None:
                    if not helm_setup.is_prepared():  # a spawned (not forked) worker: configure HELM here
                        helm_setup.prepare(self.settings, self.registries)
                    self._runner = self._make_runner()
                spec = pickle.loads(task.payload)
                client_class = shard = None
                deployment = spec.adapter_spec.model_deployment
                if deployment:
                    try:
                        d = get_model_deployment(deployment)
                        client_class, shard = d.client_spec.class_name, d.host_organization
                    except ValueError:
                        pass
                with prompts_counted_once():
                    summary = summarize(dry_run_requests(self._runner, spec), self._runner.metric_service,
                                        client_class, shard)
            except BaseException:
                print(f"helmc: the dry run of {task.name} failed:", flush=True)
                traceback.print_exc()
                raise
        if not _store_memo(self.targets[task.name], summary):
            raise OSError(f"could not write the estimate of {task.name} to {self.targets[task.name]}")


# ---------------------------------------------------------------------------- the estimate


@dataclass(frozen=True, slots=True)
class RunEstimate:
    """One run's estimate. Counts are None only where neither a dry run nor a bound exists."""

    name: str
    model: str
    model_deployment: str | None
    requests: int | None
    prompt_tokens: int | None
    max_completion_tokens: int | None
    cached_requests: int
    cache_checked: bool  # whether HELM's cache was looked up for these requests
    exact: bool  # HELM's dry run, and the cache checked
    source: str  # "dry run" | "remembered" | "bound"
    note: str | None = None  # why not exact
    # tokens of the requests the cache does not hold: what is paid for
    paid_prompt_tokens: int | None = None
    paid_completion_tokens: int | None = None
    cost_usd: float | None = None
    price_source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "cached_requests": self.cached_requests,
            "cost_usd": self.cost_usd,
            "price_source": self.price_source,
            "exact": self.exact,
            "cache_checked": self.cache_checked,
            "source": self.source,
            "note": self.note,
        }


def totals_json(estimates: Sequence[RunEstimate]) -> dict[str, Any]:
    def total(attr: str) -> int | None:
        values = [getattr(e, attr) for e in estimates]
        return None if any(v is None for v in values) else sum(values)

    costs = [e.cost_usd for e in estimates]
    return {
        "requests": total("requests"),
        "prompt_tokens": total("prompt_tokens"),
        "max_completion_tokens": total("max_completion_tokens"),
        "cached_requests": sum(e.cached_requests for e in estimates),
        # the sum of the priced runs; unpriced_runs says how many are left out
        "cost_usd": round(sum(c for c in costs if c is not None), 6) if any(c is not None for c in costs) else None,
        "price_source": None,
        "exact": all(e.exact for e in estimates),
        "unpriced_runs": sum(1 for c in costs if c is None),
    }


def _dist_version(package: str, dist: str) -> str | None:
    """The installed version of distribution `dist` (normalized: `crfm_helm`) that provides
    import package `package`, from the name of its .dist-info folder beside the package: no
    import of it, and no scan of every installed distribution by importlib.metadata (0.1 s
    each time: a remembered estimate's largest fixed cost). importlib.metadata where that folder
    is not found (an editable or unusual install); None: not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for folder in spec.submodule_search_locations or ():
        try:
            found = [n for n in os.listdir(os.path.dirname(folder))
                     if n.startswith(f"{dist}-") and n.endswith(".dist-info")]
        except OSError:
            continue
        if len(found) == 1:
            return found[0][len(dist) + 1:-len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except (PackageNotFoundError, ValueError):
        return None


def installed_helm_version() -> str | None:
    return _dist_version("helm", "crfm_helm")


def context_digest(settings: HelmSettings) -> str:
    """What a dry run depends on beyond its RunSpec: HELM's version and the local config files
    (deployments, tokenizers)."""
    h = hashlib.sha256(f"{MEMO_VERSION}\0{installed_helm_version()}\0".encode())
    local = settings.catalog.local_path or "prod_env"
    for name in sorted(os.listdir(local)) if os.path.isdir(local) else ():
        if name.endswith((".yaml", ".yml")):
            h.update(name.encode() + b"\0")
            with open(os.path.join(local, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def memo_key(run: BuiltRun, digest: str) -> str:
    """The run's fingerprint (the journal's: its RunSpec) with the context digest."""
    return hashlib.sha256(f"{run.fingerprint}\0{digest}".encode()).hexdigest()[:40]


def plan_key(plan: Plan, settings: HelmSettings, digest: str) -> str | None:
    """A plan's key for the plan memo, which maps each planned run to HELM's run name and its
    run memo without importing HELM. None where code outside HELM's package decides what is
    built (plugins, Hugging Face models): HELM builds the plan each time."""
    c = settings.catalog
    if c.plugins or c.enable_huggingface_models or c.enable_local_huggingface_models:
        return None
    blob = json.dumps([[(ps.entry.path, ps.entry.line, ps.entry.column, ps.entry.groups, ps.spec.function,
                         ps.spec.args) for ps in plan.specs], plan.to_json()["runs"], repr(plan.options),
                       os.path.abspath(c.local_path or "prod_env"), digest], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def remember_plan(key: str, named: Plan, built: Sequence[BuiltRun], digest: str) -> None:
    by_name = {b.name: b for b in built}
    runs = [
        {"name": r.name, "adapter": r.adapter, "memo": memo_key(by_name[r.name], digest)}
        if r.name in by_name else None
        for r in named.runs
    ]
    _store_memo(os.path.join(memo_dir(), f"plan-{key}.json.gz"), {"requests": None, "runs": runs})


def remembered_plan(plan: Plan, settings: HelmSettings) -> tuple[Plan, list[RunEstimate | None]] | None:
    """The estimate of a plan estimated before, from the memo alone (no HELM); None where
    anything is missing."""
    digest = context_digest(settings)
    key = plan_key(plan, settings, digest)
    if key is None:
        return None
    got = _load_memo(os.path.join(memo_dir(), f"plan-{key}.json.gz"), plan=True)
    if got is None or not isinstance(got.get("runs"), list) or len(got["runs"]) != len(plan.runs):
        return None
    runs, estimates = [], []
    for r, m in zip(plan.runs, got["runs"]):
        if m is None:
            runs.append(r)
            estimates.append(None)
            continue
        summary = _load_memo(os.path.join(memo_dir(), m["memo"] + ".json.gz"))
        if summary is None:
            return None
        r = replace(r, name=m["name"], adapter=m["adapter"])
        runs.append(r)
        estimates.append(_from_summary(r.name, r.model, r.model_deployment, summary, "remembered", settings))
    return replace(plan, runs=tuple(runs)), estimates


# A memo file is helmc's own cache, but anything may stand in its place: read as every input
# (regular files only, never blocking on a FIFO, bounded), decompressed within a bound (a
# gzip bomb is damage, not a reason to fill the memory), and used only in the shape written.
MAX_MEMO_BYTES = 256 * 1024 * 1024


def _load_memo(path: str, plan: bool = False) -> dict[str, Any] | None:
    """A run memo (`plan`: a plan memo) as _store_memo wrote it; None when absent or damaged
    in any way: the dry run again."""
    import zlib

    from helmc.compiler.files.reading import read_input_bytes

    try:
        packed = read_input_bytes(path, MAX_MEMO_BYTES)
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip's header
        raw = inflate.decompress(packed, MAX_MEMO_BYTES)
        if inflate.unconsumed_tail or not inflate.eof:
            return None  # larger than the bound, or cut short
        data = json.loads(raw)
    except (OSError, ValueError, zlib.error, RecursionError):
        return None
    return data if (_plan_memo_ok if plan else _run_memo_ok)(data) else None


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _run_memo_ok(d: Any) -> bool:
    if not isinstance(d, dict) or not all(_count(d.get(k)) for k in ("requests", "prompt_tokens", "max_completion_tokens")):
        return False
    per = d.get("per_request")
    return per is None or (isinstance(per, list) and all(
        isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and _count(x[1]) and _count(x[2]) for x in per))


def _plan_memo_ok(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("runs"), list) and all(
        m is None or (isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("memo"), str)
                      and m["memo"].isalnum() and (m.get("adapter") is None or isinstance(m.get("adapter"), dict)))
        for m in d["runs"])


def _store_memo(path: str, summary: Mapping[str, Any]) -> bool:
    """Write a memo file whole (a temporary file renamed) or not at all; False: not written."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as f:
            json.dump(summary, f)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def _cached(summary: Mapping[str, Any], settings: HelmSettings) -> tuple[list[bool] | None, str | None]:
    """For each request, whether HELM's SQLite cache holds it; None (and why) where not known."""
    per = summary.get("per_request")
    if per is None:
        return None, "HELM's cache key of this client is not computed by helmc: cached requests not counted"
    if settings.disable_cache:
        return [False] * len(per), None
    if settings.mongo_uri:
        return None, "HELM caches in MongoDB here: cached requests not counted"
    path = os.path.join(settings.catalog.local_path or "prod_env", "cache", f"{summary.get('shard')}.sqlite")
    if not os.path.lexists(path):
        return [False] * len(per), None
    from helmc.compiler.files.reading import open_regular

    try:  # SQLite would wait for ever on a FIFO there: only a regular file is opened
        os.close(open_regular(path, os.O_RDONLY))
    except OSError as e:
        return None, f"HELM's cache {path} could not be read ({e.strerror or e}): cached requests not counted"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            held = []
            for key, _, _ in per:
                row = con.execute('SELECT 1 FROM "unnamed" WHERE key = ?', (key,)).fetchone()
                held.append(row is not None)
            return held, None
        finally:
            con.close()
    except sqlite3.Error as e:
        return None, f"HELM's cache {path} could not be read ({e}): cached requests not counted"


def _from_summary(name: str, model: str, deployment: str | None, summary: Mapping[str, Any], source: str,
                  settings: HelmSettings) -> RunEstimate:
    held, why = _cached(summary, settings)
    per = summary.get("per_request")
    if held is None or per is None:
        paid_p, paid_c, cached = summary["prompt_tokens"], summary["max_completion_tokens"], 0
    else:
        cached = sum(held)
        paid_p = sum(p for (_, p, _), h in zip(per, held) if not h)
        paid_c = sum(c for (_, _, c), h in zip(per, held) if not h)
    return RunEstimate(
        name, model, deployment, summary["requests"], summary["prompt_tokens"],
        summary["max_completion_tokens"], cached, held is not None, held is not None, source, why, paid_p, paid_c,
    )


def bound(run: BuiltRun, context_window: int | None, why: str) -> RunEstimate:
    """An upper bound from the adapter alone, where HELM's dry run could not be made: one request
    per eval instance and trial (adapters that send one per instance), each prompt filling the
    deployment's context window less the completion."""
    a = run.adapter or {}
    instances, method = a.get("max_eval_instances"), a.get("method", "generation")
    trials = 1 if a.get("max_train_instances") == 0 else max(1, a.get("num_train_trials") or 1)
    one_per_instance = not str(method).startswith("multiple_choice_separate") and method != "language_modeling"
    requests = instances * trials if instances is not None and one_per_instance else None
    max_tokens, outputs = int(a.get("max_tokens", 100)), int(a.get("num_outputs", 1))
    completion = requests * outputs * max_tokens if requests is not None else None
    prompt = requests * max(0, context_window - max_tokens) if requests is not None and context_window else None
    unknown = [w for w, v in (("requests", requests), ("prompt tokens", prompt)) if v is None]
    note = f"a bound, not HELM's dry run ({why})"
    if unknown:
        note += f"; no bound for its {' and '.join(unknown)}"
    return RunEstimate(run.name, run.model, run.model_deployment, requests, prompt, completion, 0, False, False,
                       "bound", note, prompt, completion)


def estimate_runs(
    runs: Sequence[BuiltRun],
    settings: HelmSettings,
    engine: Engine,
    *,
    context_window: Callable[[str | None], int | None] = lambda _d: None,
    on_event: Callable[[Event], None] | None = None,
    log: str | None = None,
) -> list[RunEstimate]:
    """Each run's estimate, in the order of `runs`: remembered ones from the memo folder, the
    rest by HELM's dry run through `engine` (HELM must be prepared in this process), whose
    workers write each run's memo file themselves; HELM's output goes to `log`."""
    memo = memo_dir()
    digest = context_digest(settings)
    keys = {r.name: memo_key(r, digest) for r in runs}
    summaries: dict[str, tuple[Mapping[str, Any], str]] = {}
    todo: list[BuiltRun] = []
    for r in runs:
        got = _load_memo(os.path.join(memo, keys[r.name] + ".json.gz"))
        if got is not None:
            summaries[r.name] = (got, "remembered")
        elif r.name not in {t.name for t in todo}:
            todo.append(r)
    failures: dict[str, str] = {}
    if todo:
        os.makedirs(memo, exist_ok=True)
        # HELM's scenario downloads stay in one scratch output folder beside the memo, reused
        # by later estimates; each estimate's run folders are its own.
        scratch = os.path.join(os.path.dirname(memo), "helm_output")
        suite = f"estimate-{os.getpid()}"
        dry = replace(settings, output_path=scratch, suite=suite, dry_run=True, skip_completed_runs=False,
                      exit_on_error=False)
        from .engines import task_of

        def on(ev: Event) -> None:
            if isinstance(ev, Finished) and not ev.ok and ev.retry_in is None:
                failures[ev.name] = ev.error or "HELM's dry run failed"
            if on_event is not None:
                on_event(ev)

        try:
            tasks = [task_of(r.name, r.payload, r.model, r.model_deployment, r.size) for r in todo]
            targets = {r.name: os.path.join(memo, keys[r.name] + ".json.gz") for r in todo}
            engine.run(tasks, EstimateExecutor(dry, targets, log), on)
            for r in todo:
                if r.name in failures:
                    continue
                summary = _load_memo(targets[r.name])
                if summary is None:
                    failures[r.name] = f"no summary of its dry run in {targets[r.name]}"
                    continue
                summaries[r.name] = (summary, "dry run")
        finally:
            import shutil

            shutil.rmtree(os.path.join(scratch, "runs", suite), ignore_errors=True)  # the Runners' eval_cache
    out: list[RunEstimate] = []
    for r in runs:
        if r.name in summaries:
            summary, source = summaries[r.name]
            out.append(_from_summary(r.name, r.model, r.model_deployment, summary, source, settings))
        else:
            out.append(bound(r, context_window(r.model_deployment), failures.get(r.name, "no dry run")))
    return out


# ---------------------------------------------------------------------------- prices


def load_prices(path: str | None, sink: Any) -> dict[str, Any]:
    """The prices file's prices by name (compiler/catalog/prices.py), its problems in `sink`."""
    if not path:
        return {}
    from helmc.compiler.syntax.frontend import read_source
    from helmc.compiler.catalog.prices import read_prices

    source = read_source(path, sink)
    return read_prices(source, sink) if source is not None else {}


def _genai_prices_version() -> str:
    return _dist_version("genai_prices", "genai_prices") or "?"


def genai_price(name: str) -> tuple[float, float, str] | None:
    """USD per million input and output tokens of a HELM deployment `host/model` in
    genai-prices' list, where `host` is one of its providers (never guessed across providers:
    a self-hosted or resold model is not priced as another provider's); None where not listed."""
    host, sep, model = name.partition("/")
    if not sep:
        return None
    try:
        from genai_prices import Usage, calc_price, data_snapshot
    except ImportError:
        return None
    if host not in {p.id for p in data_snapshot.get_snapshot().providers}:
        return None
    try:
        # a small request: the base tier of tiered prices (tiers are per request)
        p = calc_price(Usage(input_tokens=1000, output_tokens=1000), model_ref=model, provider_id=host)
    except LookupError:
        return None
    return (float(p.input_price) * 1000, float(p.output_price) * 1000,
            f"genai-prices {_genai_prices_version()}: {p.provider.id}/{p.model.id}")


def _genai_memo_path() -> str:
    return os.path.join(memo_dir(), f"genai-prices-{_genai_prices_version()}.json")


def _genai_memo() -> dict[str, Any]:
    try:
        with open(_genai_memo_path(), encoding="utf-8") as f:
            known = json.load(f)
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def remembered_genai_price(name: str) -> tuple[float, float, str] | None:
    """genai_price, remembered per genai-prices version in the memo folder: importing it
    (pydantic, its data) costs most of a remembered estimate's time."""
    path = _genai_memo_path()
    known = _genai_memo()
    if name in known and (known[name] is None or (isinstance(known[name], list) and len(known[name]) == 3)):
        return tuple(known[name]) if known[name] is not None else None  # type: ignore[return-value]
    got = genai_price(name)
    known[name] = list(got) if got is not None else None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(known, f)
        os.replace(tmp, path)
    except OSError:
        pass  # not remembered: looked up again next time
    return got


def _price_child(names: Sequence[str]) -> None:
    try:
        from .engine import die_with_parent

        die_with_parent()
        null = os.open(os.devnull, os.O_WRONLY)  # nothing of the child's on the command's output
        os.dup2(null, 1)
        os.dup2(null, 2)
        for name in names:
            remembered_genai_price(name)
    finally:
        # not through multiprocessing's exit, which flushes the standard streams this fork
        # copied (with whatever a thread of the parent, the heartbeat, held at the fork)
        os._exit(0)


@contextlib.contextmanager
def genai_prices_meanwhile(names: Sequence[str]) -> Iterator[None]:
    """Look `names` up in genai-prices (remembered_genai_price, which writes them to its memo
    file) in a forked child while the block runs, and wait for it at the end: importing
    genai-prices (pydantic, its price list: 0.2 CPU seconds) then takes the second core while
    this process imports and prepares HELM on one, instead of following the dry runs. Names
    already remembered start no child. Best effort: what the child did not remember,
    lookup_price looks up itself."""
    known = _genai_memo()
    todo = sorted({n for n in names if n and n not in known})
    child = None
    if todo:
        import multiprocessing

        try:
            child = multiprocessing.get_context("fork").Process(target=_price_child, args=(todo,), daemon=True,
                                                                name="helmc-genai-prices")
            child.start()
        except (OSError, ValueError):  # no fork here (or no process left): looked up later
            child = None
    try:
        yield
    finally:
        if child is not None:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join(timeout=5)


def lookup_price(model: str, deployment: str | None, prices: Mapping[str, Any]) -> tuple[float, float, str] | None:
    """USD per million input and output tokens of a run, and where that price comes from: the
    prices file by deployment then model, else genai-prices by deployment (by model where the
    run has no deployment). None: unpriced."""
    for name in (deployment, model):
        if name and name in prices:
            p = prices[name]
            return p.input_per_million, p.output_per_million, f"prices file {p.source}"
    return remembered_genai_price(deployment or model)


def price_runs(estimates: Sequence[RunEstimate | None], prices: Mapping[str, Any]) -> list[RunEstimate | None]:
    """Each estimate with its cost: the prices file by deployment then model, else genai-prices
    by deployment (by model where the run has no deployment). Unpriced: cost None, never 0."""
    memo: dict[tuple[str, str | None], tuple[float, float, str] | None] = {}
    lookup = lambda model, deployment: lookup_price(model, deployment, prices)  # noqa: E731
    out: list[RunEstimate | None] = []
    for e in estimates:
        if e is None or e.paid_prompt_tokens is None or e.paid_completion_tokens is None:
            out.append(e)
            continue
        key = (e.model, e.model_deployment)
        if key not in memo:
            memo[key] = lookup(*key)
        found = memo[key]
        if found is None:
            out.append(e)
            continue
        inp, outp, source = found
        cost = (e.paid_prompt_tokens * inp + e.paid_completion_tokens * outp) / 1_000_000
        out.append(replace(e, cost_usd=round(cost, 6), price_source=source))
    return out


def prewarm_dry_runs(runs: Sequence[BuiltRun]) -> None:
    """Import, once before the workers fork, what a dry run loads: the scenarios, the
    tokenizers DryRunMetric counts with, the adapters and the dry-run metric (not the runs'
    metrics, annotators or clients, which a dry run never loads; they cost seconds)."""
    import pickle

    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.benchmark.tokenizer_config_registry import get_tokenizer_config

    from .runspecs import import_classes

    names: set[str] = {
        "helm.benchmark.window_services.window_service_factory.*",
        "helm.benchmark.adaptation.adapters.adapter_factory.*",
        "helm.benchmark.metrics.dry_run_metrics.*",
    }
    for r in runs:
        try:
            spec = pickle.loads(r.payload)
            names.add(spec.scenario_spec.class_name)
            d = spec.adapter_spec.model_deployment
            dep = get_model_deployment(d) if d else None
            tok = get_tokenizer_config(dep.tokenizer_name) if dep is not None and dep.tokenizer_name else None
            if tok is not None:
                names.add(tok.tokenizer_spec.class_name)
        except Exception:  # noqa: BLE001 - best effort: the run says it again, in its log
            continue
    import_classes(sorted(names))
