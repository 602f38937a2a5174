"""The executor: one RunSpec run by HELM's Runner in a worker process, written aside and
swapped in as its run folder (runtime/run_folders.py); a full or read-only disk said as a
StorageError."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import threading
import traceback
from typing import Any, Sequence

from helmc.compiler.collector import gc_paused

from .engine import Task, worker_ready
from .governor import SharedStateError, check_shared
from .governor import current as governor_of_process
from .governor import serve_forked_children, warm_sdks
from .helm_setup import (NOT_RETRIED, HelmSettings, HelmSetupError, HelmUnavailable, build_log_path, is_prepared,
                         log_dir, prepare, read_api_key, redirect_output, registries, run_log_path)
from .run_folders import HELM_OUTPUT_FILES, commit_run_folder, run_folder, staging_folder, writes_outputs
from .runspecs import import_classes

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


def error_type(error: str | None) -> str | None:
    """The qualified name of the exception class that a Finished event's one-line error
    starts with (engine.one_line writes traceback.format_exception_only's `module.Class: ...`),
    or None."""
    head = (error or "").split(":", 1)[0]
    return head if head and all(part.isidentifier() for part in head.split(".")) else None


# How long a spawned worker's background imports wait for its run's first request at most (a
# run whose requests are all in the cache sends none).
WARM_AFTER_S = 30.0


def _warm_in_background(names: Sequence[str]) -> None:
    """A worker that was not forked from a warm process (a Slurm job) imports the classes its
    run loads lazily (metrics: scikit-learn, scipy; the client's SDK) in a thread once the run
    sends its first request: the run's requests mostly wait (on the model, on the governor's
    pace), and the imports then cost no wall time at the metrics, where the run would wait for
    them. Not before: 8 Slurm-local jobs importing at once on 2 cores, each thread holding its
    job's GIL, put the runs' first requests 9-14 s after their jobs had configured HELM
    (docs/performance.md). Python's import locks keep a module imported once if the run needs
    it first."""
    if not names:
        return

    def warm() -> None:
        try:
            gov = governor_of_process()
            if gov is not None:
                gov.sending.wait(WARM_AFTER_S)
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
    not helm-run but forks the workers that execute runs (a Ray host, engines/ray_engine.py).
    `warm_first`: those of them a run needs before its first request (scenario, client,
    tokenizer), which a spawned worker (a Slurm job) imports before its run starts; the rest
    (metrics) it imports in the background once the run sends."""

    def __init__(self, settings: HelmSettings, warm: Sequence[str] = (), warm_first: Sequence[str] = ()) -> None:
        self.settings = settings
        self.registries = registries()  # for workers that are not forked (Ray, Slurm)
        self.warm = tuple(warm)
        self.warm_first = tuple(warm_first)
        self._runner: Any = None

    def retryable(self, error: str | None) -> bool:
        """Another attempt could succeed: not when helm-run failed before HELM started (a run's
        log that cannot be opened is as unusable on the next attempt)."""
        return error_type(error) not in NOT_RETRIED

    def warm_up_first(self) -> None:
        """The part of `warm_up` that the runs need before their first request: the governor's
        relay, HELM configured, the classes of `warm_first` (scenario, client, tokenizer) and
        their SDKs, the Runner. A Ray host may fork one run after it, which then sends while the
        host imports the rest (`warm_up`). Best effort, as `warm_up`."""
        self._warm(self.warm_first)

    def warm_up(self) -> None:
        """Configure HELM and import the runs' classes once, in a process whose forked workers
        then start warm. Best effort: a failure here happens again, with its message, in the
        run (its log); HELM's own messages go to the suite's warm-up log. After `warm_up_first`,
        only the classes it left are imported."""
        self._warm(self.warm)

    def _warm(self, names: Sequence[str]) -> None:
        s = self.settings
        with redirect_output(os.path.join(log_dir(s), "warm-up.log")), gc_paused():
            try:
                # First: on Ray, the runs' steps go to the suite's actor, whose process then
                # starts while this host imports HELM, not when the first run sends.
                serve_forked_children(s.limits)
                if not is_prepared():
                    prepare(s, self.registries)
                import_classes(names)
                warm_sdks()
            except (HelmUnavailable, HelmSetupError):
                pass
            self._runner_once()

    def before_fork(self) -> None:
        """In a prepared process about to fork the workers (helm-run with the local engine, a
        Ray host after `warm_up`): build HELM's Runner here, once, so that every worker inherits
        it instead of building its own (HELM's Executor and clients' context, the credentials
        parsed with pyhocon twice, the annotation executor: 0.05 s each at load 3, all
        workers at once). As helm_run does, one Runner serves every run. Best effort: a Runner that
        cannot be built here is built in the worker, which then fails with HELM's message in
        the run's log. HELM's lines go to the suite's build log."""
        if self._runner is None and is_prepared():
            with redirect_output(build_log_path(self.settings)):
                self._runner_once()

    def _runner_once(self) -> None:
        if self._runner is not None or not is_prepared():
            return
        try:
            self._runner = self._make_runner()
        except Exception:  # noqa: BLE001 - said again, in the run's log, by the worker
            self._runner = None

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
                    if not is_prepared():  # a spawned (not forked) worker: configure HELM here
                        with gc_paused():
                            prepare(s, self.registries)
                            check_shared(s.limits)  # a job on a host that shares no folder with helm-run
                            # what the run needs before it sends, at once; the SDK's lazy
                            # imports too (the governor's _ready would pay them at the first
                            # request)
                            import_classes(self.warm_first)
                            warm_sdks()
                        first = set(self.warm_first)
                        _warm_in_background([n for n in self.warm if n not in first])
                    self._runner = self._make_runner()
                worker_ready()
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
                if isinstance(e, SharedStateError):  # the governor's folder, not the run's disk
                    raise
                disk = _storage_oserror(e)
                if disk is not None:
                    where = disk.filename or staged
                    # The OS error first: the one-line error that crosses back to helm-run is cut
                    # at 200 characters, and a run's staging path alone can be longer.
                    raise StorageError(f"{disk.strerror}, writing `{where}`") from None
                raise
