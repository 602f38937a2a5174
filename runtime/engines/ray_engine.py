"""`--engine ray`: one Ray task per run attempt (extra `helmc[ray]`).

Without `--ray-address`, helm-run starts a Ray instance on this machine and stops it at the end;
with one, it connects to that cluster and leaves it running.

Runs execute on **hosts**: one Ray actor per node (or per run when runs ask for GPUs), holding
the CPUs (`--ray-num-cpus` per run) and GPUs of as many concurrent runs as it has slots. The
hosts are made as soon as Ray is up, while helm-run still builds the runs, and import HELM then;
given the executor, a host configures HELM once and imports the runs' classes (`warm_up_first`:
registries from helm-run, the runs' scenario, client and tokenizer; `warm_up`: their metrics),
then each run is one call of its `run` method (a Ray actor task), which forks a child of the
warm host to execute it, as the local engine forks its workers from helm-run (the first two
before the metrics are in: `_Host`). Without hosts, every Ray worker paid HELM's imports itself
(about 3 CPU seconds each, sklearn and scipy included) before its first run.

Ray's own retries are off (`max_restarts=0`, `max_task_retries=0`): an attempt whose process
dies (the forked child, or the host and its node) comes back as a failed attempt, and
helm-run's `--retries` decide, as for every engine. A host that died is replaced by a new one
(on any node: Ray places it) for the attempts that follow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any, Callable, Iterator

from ..engine import Done, Engine, Executor, Task
from .remote import RemoteExecutor, enter, enter_at, run_forked


class _Host:
    """A Ray actor that runs attempts in forked children of itself (see the module's doc).

    Created as soon as Ray is up, before helm-run knows its executor (`RayEngine.start_early`):
    it imports what configuring HELM imports at once (`preload`), while helm-run still builds
    the runs. `configure` then hands it the executor, which it warms in a thread of its own
    (`_warm`), and each attempt (`run`) waits for its turn to fork: the first attempts as soon as
    the runs' pre-request classes are in (`warm_up_first`), the others once everything is
    (`warm_up`). Those first runs (EARLY_FORKS) send while the host imports the rest (metrics:
    scikit-learn, scipy, 2-3 s), and import those themselves when they reach their metrics; the
    runs forked later inherit them. Forks happen only while the warming thread waits, never in
    the middle of an import (a module lock held at a fork stays held in the child)."""

    def __init__(self, cwd: str, watch_pid: int | None, preload: Callable[[], None] | None = None) -> None:
        enter_at(cwd, watch_pid)
        if preload is not None:
            try:
                preload()
            except Exception:  # noqa: BLE001 - best effort: the warm-up and the run say what is wrong
                pass
        self._remote: RemoteExecutor | None = None
        self._signals: list[tuple[int, Any]] = []  # handlers the warm-up's imports set, for the children
        self._turn = threading.Condition()
        self._phase = _WAITING
        self._early_left = EARLY_FORKS
        self._asking = 0  # attempts waiting for their turn
        self._forking = 0  # early forks under way

    def configure(self, remote: RemoteExecutor) -> None:
        """Take the executor and warm it in a thread of this host; returns at once."""
        with self._turn:
            if self._remote is not None:
                return
            enter(remote)  # helm-run's directory now, if it changed since this host was made
            self._remote = remote
            self._phase = _WARMING
        threading.Thread(target=self._warm, name="helmc-host-warm-up", daemon=True).start()

    def _warm(self) -> None:
        assert self._remote is not None
        executor = self._remote.executor
        try:
            first = getattr(executor, "warm_up_first", None)
            if first is not None:
                with _signals_recorded(self._signals):
                    first()
                self._let_early_forks_go()
            warm_up = getattr(executor, "warm_up", None)
            if warm_up is not None:
                with _signals_recorded(self._signals):
                    warm_up()
        except BaseException:  # noqa: BLE001 - best effort: the run says what is wrong, in its log
            pass
        finally:
            with self._turn:
                self._phase = _WARM
                self._turn.notify_all()

    def _let_early_forks_go(self) -> None:
        """Let the attempts already waiting fork now, up to EARLY_FORKS, and return once their
        forks are over (none waiting: at once); attempts that come later wait for `_WARM`."""
        with self._turn:
            self._phase = _EARLY
            self._turn.notify_all()
            self._turn.wait_for(lambda: (self._early_left == 0 or self._asking == 0) and self._forking == 0)
            self._phase = _WARMING

    def _my_turn(self) -> bool:
        """Wait until this attempt may fork; True if it forks early (before `warm_up`)."""
        with self._turn:
            self._asking += 1
            try:
                self._turn.wait_for(lambda: self._phase == _WARM or (self._phase == _EARLY and self._early_left > 0))
            finally:
                self._asking -= 1
            if self._phase == _WARM:
                return False
            self._early_left -= 1
            self._forking += 1
            return True

    def _forked(self) -> None:
        with self._turn:
            self._forking -= 1
            self._turn.notify_all()

    def run(self, task: Task) -> tuple[bool, float | None, str | None]:
        early = self._my_turn()
        assert self._remote is not None
        told = False

        def forked() -> None:  # once, even if the fork never came (the warming thread waits for it)
            nonlocal told
            if early and not told:
                told = True
                self._forked()

        try:
            ok, duration, error = run_forked(self._remote, task, forked=forked, in_child=self._set_signals)
        finally:
            forked()
        if duration is None:
            error = f"Ray task failed: {error}"
        return ok, duration, error

    def _set_signals(self) -> None:
        """In a child (its only thread is its main thread): the handlers its modules set."""
        import signal

        for signum, handler in self._signals:
            try:
                signal.signal(signum, handler)
            except (OSError, ValueError, TypeError):  # as the import itself would have failed
                pass


@contextlib.contextmanager
def _signals_recorded(into: list[tuple[int, Any]]) -> Iterator[None]:
    """Python sets signal handlers from the main thread only, and some modules set one as they
    are imported (HELM's code metrics: SIGALRM, for their time limits): imported in the host's
    warm-up thread, they would fail to import, and every run would import them again itself.
    Here such a call from this thread is recorded instead (it answers the handler in place), and
    the host's children set the handlers as they start (`_Host._set_signals`): they run the
    HELM code; the host runs none."""
    import signal

    real = signal.signal
    me = threading.get_ident()

    def record(signum: Any, handler: Any) -> Any:
        if threading.get_ident() != me or threading.current_thread() is threading.main_thread():
            return real(signum, handler)
        into.append((signum, handler))
        return signal.getsignal(signum)

    signal.signal = record  # type: ignore[assignment]
    try:
        yield
    finally:
        me = -1  # a module that kept this function calls the real one from now on
        signal.signal = real  # type: ignore[assignment]


# How many attempts a host forks before the runs' metrics are imported. They keep the provider's
# pace while the host imports the rest; each imports the metrics again itself, at its metrics.
# One was not enough on issue 21's suite: its 25 requests were sent before the host had
# imported the rest (a 1-3 s gap in the requests, docs/performance.md).
EARLY_FORKS = 2
_WAITING, _WARMING, _EARLY, _WARM = range(4)  # a host's phases: no executor yet, warming, early forks, warm


def host_sizes(slots: int, num_cpus: float, num_gpus: float,
               nodes: list[dict[str, Any]]) -> list[tuple[int, str | None]]:
    """How many slots each host gets, and its node: as many runs per alive node as its CPUs
    (and GPUs) hold, largest nodes first; runs that ask for GPUs get a host each (a run sees
    only its own GPUs, as a Ray task would); slots that fit on no node get a host each, left to
    Ray's scheduler (they wait for resources, as tasks would)."""
    if num_gpus > 0:
        return [(1, None)] * slots
    capacity = []
    for n in nodes:
        if not n.get("Alive", False):
            continue
        cpus = n.get("Resources", {}).get("CPU", 0.0)
        fits = int(cpus // num_cpus + 1e-9) if num_cpus > 0 else slots
        if fits > 0:
            capacity.append((fits, n.get("NodeID")))
    capacity.sort(key=lambda c: -c[0])
    sizes: list[tuple[int, str | None]] = []
    left = slots
    for fits, node in capacity:
        if left <= 0:
            break
        k = min(fits, left)
        sizes.append((k, node))
        left -= k
    sizes += [(1, None)] * left
    return sizes


class RayEngine(Engine):
    kind = "ray"
    warms_up = True

    def __init__(
        self,
        slots: int,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(slots, **kw)
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self._started_ray = False
        self._node: Any = None  # the head node of _start_head_node, if it started this Ray
        self._refs: dict[Any, int] = {}
        self._hosts: list[Any] = []  # the actor handles
        self._options: list[dict[str, Any]] = []  # each host's actor options
        self._sizes: list[tuple[int, str | None]] = []  # each host's slots and node, as host_sizes gave them
        self._preload: Callable[[], None] | None = None  # start_early's, for every host made
        self._host_of: list[int] = []  # slot -> host
        self._running: dict[int, Any] = {}  # slot -> the host handle its attempt was given to
        self._keeper: threading.Thread | None = None  # start_early's thread
        self._ready = threading.Event()  # Ray is up (or failed to start: _init_error)
        self._release = threading.Event()  # the keeper may end
        self._init_error: BaseException | None = None

    def _init(self, slots: int) -> None:
        import ray

        if ray.is_initialized():
            return
        if self.address:
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            return
        # A private instance for this helm-run. Runs mostly wait on model APIs, so it offers
        # at least enough logical CPUs for --parallel-runs runs at once.
        num_cpus = max(os.cpu_count() or 1, int(slots * self.num_cpus + 0.999))
        self._node = _start_head_node(num_cpus)
        if self._node is not None:
            try:
                with _quiet_thread_warning():
                    ray.init(address=self._node.address, logging_level=logging.WARNING, log_to_driver=False,
                             configure_logging=True)
            except BaseException:
                _stop_head_node(self._node)
                self._node = None
                raise
        else:  # this Ray's private API differs: its public start, monitors and all
            ray.init(
                address="local",  # a new instance, never one that another process left running
                num_cpus=num_cpus,
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
                object_store_memory=OBJECT_STORE_BYTES,
                configure_logging=True,
                _system_config=dict(WORKER_PRIORITY),
            )
        self._started_ray = True

    def start_early(self, preload: Callable[[], None] | None = None) -> None:
        """Start Ray (about 3 s on 2 cores) while helm-run builds the RunSpecs, then the hosts,
        for `--parallel-runs` slots, which run `preload` at once (HELM's imports) while helm-run
        still works. In a thread that lives until `_close`: Ray's daemons (GCS, raylet) are
        started with PR_SET_PDEATHSIG, which fires when the *thread* that started them ends."""
        if self._keeper is not None:
            return
        self._preload = preload

        def keep() -> None:
            try:
                self._init(self.slots)
                self._start_hosts(self.slots)
            except BaseException as e:  # noqa: BLE001 - raised again by _open, in the caller's thread
                self._init_error = e
            finally:
                self._ready.set()
            self._release.wait()

        self._keeper = threading.Thread(target=keep, name="helmc-ray", daemon=True)
        self._keeper.start()

    def release(self) -> None:
        if self._keeper is not None:
            self._close()

    def _start_hosts(self, slots: int) -> None:
        """Create the hosts for `slots` runs at once (`.remote()` does not wait for them). Best
        effort: without them, `_open` creates them."""
        import ray

        try:
            self._host_cls = ray.remote(_Host)
            for k, node in host_sizes(slots, self.num_cpus, self.num_gpus, ray.nodes()):
                self._add_host(k, node)
        except Exception:  # noqa: BLE001 - _open tries again, and raises what it meets
            self._kill_hosts()

    def _add_host(self, k: int, node: str | None) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # One thread more than runs: `configure` never waits behind runs waiting for it.
        options: dict[str, Any] = dict(
            num_cpus=k * self.num_cpus, num_gpus=k * self.num_gpus, max_concurrency=k + 1,
            max_restarts=0, max_task_retries=0,
        )
        if node is not None:  # soft: if that node is gone, Ray places it elsewhere
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=True)
        self._hosts.append(self._new_host(options))
        self._options.append(options)
        self._sizes.append((k, node))

    def _new_host(self, options: dict[str, Any]) -> Any:
        return self._host_cls.options(**options).remote(
            os.getcwd(), os.getpid() if self._started_ray else None, self._preload)

    def _open(self, executor: Executor, slots: int) -> None:
        import ray

        if self._keeper is not None:
            self._ready.wait()
            if self._init_error is not None:
                raise self._init_error
        else:
            self._init(slots)
        self._remote = ray.put(RemoteExecutor(executor, os.getcwd(), os.getpid() if self._started_ray else None))
        self._host_cls = ray.remote(_Host)
        self._host_of, self._running, self._refs = [], {}, {}
        self._fit_hosts(host_sizes(slots, self.num_cpus, self.num_gpus, ray.nodes()))
        for h, host in enumerate(self._hosts):
            self._host_of += [h] * self._sizes[h][0]
            host.configure.remote(self._remote)

    def _fit_hosts(self, wanted: list[tuple[int, str | None]]) -> None:
        """Keep the hosts start_early made that these runs want (a host on the same node, of the
        same size; on helm-run's own instance, whose CPUs are the suite's alone, one at least as
        large), end the others and make what is missing."""
        early = list(zip(self._hosts, self._options, self._sizes))
        self._hosts, self._options, self._sizes = [], [], []
        for k, node in wanted:
            fit = next((i for i, (_, _, (k0, n0)) in enumerate(early)
                        if n0 == node and (k0 == k or (self._started_ray and k0 > k))), None)
            if fit is None:
                self._add_host(k, node)
                continue
            host, options, _ = early.pop(fit)
            self._hosts.append(host)
            self._options.append(options)
            self._sizes.append((k, node))  # the slots it is given (a larger host holds them)
        for host, _, _ in early:
            _kill(host)

    def _replace_host(self, slot: int) -> None:
        """The host that ran this slot's attempt died: the next attempts go to a new one."""
        h = self._host_of[slot]
        dead = self._running.get(slot)
        if dead is not None and self._hosts[h] is dead:
            _kill(dead)
            self._hosts[h] = self._new_host(self._options[h])
            self._hosts[h].configure.remote(self._remote)

    def _submit(self, batch: list[tuple[int, Task]]) -> None:
        for slot, task in batch:
            host = self._running[slot] = self._hosts[self._host_of[slot]]
            self._refs[host.run.remote(task)] = slot

    def _wait(self, timeout: float) -> list[Done]:
        import ray

        if not self._refs:
            return []
        refs = list(self._refs)
        ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        done: list[Done] = []
        for ref in ready:
            slot = self._refs.pop(ref)
            try:
                ok, duration, error = ray.get(ref)
            except ray.exceptions.RayError as e:  # the host process or its node died
                if isinstance(e, ray.exceptions.RayActorError):
                    self._replace_host(slot)
                done.append(Done(slot, False, None, f"Ray task failed: {_ray_error(e)}"))
            else:
                done.append(Done(slot, ok, duration, error))
        return done

    def _close(self) -> None:
        try:
            import ray

            if self._keeper is not None:
                self._ready.wait()  # the keeper no longer makes hosts
            # Runs still going (interrupted) stop with their host: its children watch it.
            self._kill_hosts()
            self._host_of, self._running, self._refs = [], {}, {}
            if self._started_ray:
                if self._node is None:
                    _kill_autoscaler_monitor()
                ray.shutdown()  # for a node of _start_head_node, only disconnects
                if self._node is not None:
                    _stop_head_node(self._node)
                    self._node = None
                self._started_ray = False
        except Exception:  # noqa: BLE001 - shutting down must not hide the suite's result
            pass
        finally:
            if self._keeper is not None:
                self._release.set()
                self._keeper.join(timeout=5)
                self._keeper = None

    def _kill_hosts(self) -> None:
        for host in self._hosts:
            _kill(host)
        self._hosts, self._options, self._sizes = [], [], []

    def worker_label(self, slot: int) -> str:
        return f"ray task {slot + 1}"


def _kill(host: Any) -> None:
    import ray

    try:
        ray.kill(host, no_restart=True)
    except Exception:  # noqa: BLE001 - already gone, or the cluster is
        pass


OBJECT_STORE_BYTES = 80 * 1024 * 1024  # runs pass little through Ray: their outputs go to files
# Ray starts its workers at nice 15 (so that its daemons stay responsive under CPU-bound tasks).
# Here the workers are the runs' hosts and the governor's actor, and at nice 15 anything else at
# the user's priority (helm-run itself, the user's other work, a model served on this machine)
# takes their CPU first: beside one CPU-bound process, a host's warm-up took 16 s instead of 3,
# and the suite's first request came 22 and 39 s in (docs/performance.md). helm-run's own Ray
# instance runs them at the user's priority, as the local engine's workers; a cluster given by
# --ray-address keeps its own setting.
WORKER_PRIORITY = {"worker_niceness": 0}


def _start_head_node(num_cpus: int) -> Any:
    """Start a one-machine Ray head node as `ray.init(address="local")` does, without the three
    Python daemons that helm-run's private instance has no use for: the autoscaler monitor (one
    node, nothing to scale), the log monitor (workers' logs are not sent to helm-run:
    log_to_driver=False) and the dashboard's API server (include_dashboard=False leaves it only
    usage statistics; no one submits jobs to an instance that ends with helm-run). Their starts,
    about 1.5 CPU seconds of imports, one of them waited for, made up a third of Ray's start on
    a 2-core machine. None when this Ray's private API (`ray._private.node`) differs: the caller
    then uses ray.init."""
    try:
        from ray._private.node import Node
        from ray._private.parameter import RayParams

        # No idle workers started when helm-run connects (one per logical CPU, by default): runs
        # go to one host per node, so all but one would only compete with its warm-up; and the
        # raylet's starting them held up helm-run's connection (ray.init ended 0.6-1.1 s later).
        params = RayParams(num_cpus=num_cpus, include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
                           no_monitor=True, include_log_monitor=False,
                           _system_config={"prestart_worker_first_driver": False, **WORKER_PRIORITY})
    except (ImportError, TypeError):
        return None

    class HeadNode(Node):  # type: ignore[misc, valid-type]
        def start_api_server(self, **_: Any) -> None:
            pass

        def start_ray_processes(self) -> None:
            super().start_ray_processes()
            _wait_for_registration(self)

    # As ray.init does. If helm-run dies (kill -9), its GCS and raylet die with it: on Linux Ray
    # starts them with PR_SET_PDEATHSIG (hence start_early's keeper thread), elsewhere it spawns a
    # reaper process. The raylet's agents notice later (about a minute: they report through the
    # dead GCS first).
    return HeadNode(params, head=True, shutdown_at_exit=False, spawn_reaper=True, ray_init_cluster=True)


def _wait_for_registration(node: Any, timeout: float = 30.0) -> None:
    """Return once the raylet has registered this node with the GCS, polling every 20 ms. Node's
    own wait, which follows, asks with a call that sleeps a whole second before it asks again:
    measured, that call returned after 1.01 s every time, where the raylet had registered after
    0.68-0.95 s (later under load, by up to that second again). Best effort: on any error, Node's
    own wait decides."""
    try:
        client = node.get_gcs_client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(key.hex() == node.node_id for key in client.get_all_node_info(timeout=1)):
                return
            time.sleep(0.02)
    except Exception:  # noqa: BLE001 - another Ray version: Node's wait alone
        return


class _ThreadWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("SIGTERM handler is not set")


@contextlib.contextmanager
def _quiet_thread_warning() -> Iterator[None]:
    """ray.init warns, once the head node has set up Ray's logging, that it sets no SIGTERM
    handler outside the main thread: start_early calls it from its keeper thread on purpose, and
    helm-run handles its own signals. Only that message is dropped."""
    log = logging.getLogger("ray._private.worker")
    f = _ThreadWarningFilter()
    log.addFilter(f)
    try:
        yield
    finally:
        log.removeFilter(f)


def _stop_head_node(node: Any) -> None:
    """What ray.shutdown does for the head node that ray.init started."""
    try:
        node.destroy_external_storage()
    finally:
        node.kill_all_processes(check_alive=False, allow_graceful=True)


def _kill_autoscaler_monitor() -> None:
    """SIGKILL the autoscaler monitor of the Ray instance this process started, before
    ray.shutdown: it outlives SIGTERM, and ray.shutdown waits 1 s for it before it kills it (of
    about 1.6 s in all). A one-node private instance has nothing to autoscale or to save. Best
    effort (Ray's private API); ray.shutdown stops everything else as usual."""
    try:
        import ray

        for info in ray._private.worker._global_node.all_processes.get("monitor", []):
            if info.process.poll() is None:
                info.process.kill()
                info.process.wait(timeout=5)
    except Exception:  # noqa: BLE001 - another Ray version: ray.shutdown alone
        pass


def _ray_error(e: BaseException) -> str:
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    text = f"{type(e).__name__}: {first}" if first else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."
