"""`--engine ray`: one Ray task per run attempt (extra `helmc[ray]`).

Without `--ray-address`, helm-run starts a Ray instance on this machine and stops it at the end;
with one, it connects to that cluster and leaves it running.

Runs execute on **hosts**: one Ray actor per node (or per run when runs ask for GPUs), holding
the CPUs (`--ray-num-cpus` per run) and GPUs of as many concurrent runs as it has slots. A host
imports and configures HELM once (`warm_up`: registries from helm-run, the runs' scenario,
metric and client classes), then each run is one call of its `run` method (a Ray actor task),
which forks a child of the warm host to execute it, as the local engine forks its workers from
helm-run. Without hosts, every Ray worker paid HELM's imports itself (about 3 CPU seconds each,
sklearn and scipy included) before its first run.

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
from typing import Any, Iterator

from ..engine import Done, Engine, Executor, Task
from .remote import RemoteExecutor, enter, run_forked


class _Host:
    """A Ray actor that runs attempts in forked children of itself (see the module's doc)."""

    def __init__(self, remote: RemoteExecutor) -> None:
        enter(remote)
        warm_up = getattr(remote.executor, "warm_up", None)
        if warm_up is not None:
            try:
                warm_up()
            except Exception:  # noqa: BLE001 - best effort: the run says what is wrong, in its log
                pass
        self._remote = remote

    def run(self, task: Task) -> tuple[bool, float | None, str | None]:
        ok, duration, error = run_forked(self._remote, task)
        if duration is None:
            error = f"Ray task failed: {error}"
        return ok, duration, error


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

    def start_early(self) -> None:
        """Start Ray (about 3 s on 2 cores) while helm-run builds the RunSpecs. In a thread that
        lives until `_close`: Ray's daemons (GCS, raylet) are started with PR_SET_PDEATHSIG,
        which fires when the *thread* that started them ends."""
        if self._keeper is not None:
            return

        def keep() -> None:
            try:
                self._init(self.slots)
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

    def _open(self, executor: Executor, slots: int) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if self._keeper is not None:
            self._ready.wait()
            if self._init_error is not None:
                raise self._init_error
        else:
            self._init(slots)
        self._remote = ray.put(RemoteExecutor(executor, os.getcwd(), os.getpid() if self._started_ray else None))
        self._host_cls = ray.remote(_Host)
        self._hosts, self._options, self._host_of, self._running, self._refs = [], [], [], {}, {}
        for k, node in host_sizes(slots, self.num_cpus, self.num_gpus, ray.nodes()):
            options: dict[str, Any] = dict(
                num_cpus=k * self.num_cpus, num_gpus=k * self.num_gpus, max_concurrency=k,
                max_restarts=0, max_task_retries=0,
            )
            if node is not None:  # soft: if that node is gone, Ray places it elsewhere
                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=True)
            self._host_of += [len(self._hosts)] * k
            self._options.append(options)
            self._hosts.append(self._host_cls.options(**options).remote(self._remote))

    def _replace_host(self, slot: int) -> None:
        """The host that ran this slot's attempt died: the next attempts go to a new one."""
        import ray

        h = self._host_of[slot]
        dead = self._running.get(slot)
        if dead is not None and self._hosts[h] is dead:
            try:
                ray.kill(dead, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self._hosts[h] = self._host_cls.options(**self._options[h]).remote(self._remote)

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

            # Runs still going (interrupted) stop with their host: its children watch it.
            for host in self._hosts:
                try:
                    ray.kill(host, no_restart=True)
                except Exception:  # noqa: BLE001 - already gone, or the cluster is
                    pass
            self._hosts, self._options, self._host_of, self._running, self._refs = [], [], [], {}, {}
            if self._keeper is not None:
                self._ready.wait()
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

    def worker_label(self, slot: int) -> str:
        return f"ray task {slot + 1}"


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
