"""The request governor: one pace per provider scope, shared by every worker of a suite.

HELM sends requests from each run on its own (HELM's executor threads) and retries a failed one
with fixed waits (10, 20, 40, 80 s), whatever the provider said. Here every request that HELM's
clients actually send (a request cache miss: the `compute` that HELM's Cache.get calls) first
asks the governor for a start time, and a 429 seen by any worker slows its scope for all.

The shared state is a small JSON file per scope in the suite's helmc folder, read and written
under an exclusive flock: workers forked here, Ray workers on this machine and Slurm jobs on a
shared filesystem all see the same file, and no server has to run. Why by hand (docs/runtime.md):
pyrate-limiter's buckets have a fixed rate (no multiplicative decrease, no pause until a
Retry-After) and its multi-process buckets are SQLite (refused on network filesystems, HC0706)
or Redis/Postgres (a server); tenacity and stamina retry within one process, while the wait
here comes from what any worker saw.

Pacing is GCRA (one "theoretical arrival time" per scope and limit): a request reserves the
next free start, so requests are spaced, never burst. Without a limit, a scope is unpaced until
its first 429; then its rate is set to 0.7 x the rate it was sending at (multiplicative
decrease, at most once a second), every success adds 0.5/rate requests per second (additive
increase: +0.5 req/s per second), and everyone waits out the provider's Retry-After.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import itertools
import json
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from .locks import lock_one_of

KINDS = ("requests-per-minute", "tokens-per-minute", "max-concurrent-requests")
DECREASE = 0.7  # the rate kept after a 429
INCREASE = 0.5  # requests per second gained per second of successes, at least...
RECOVER = 0.1  # ...or this share of the rate a 429 cut, per second: back to it in 3 s
# A given limit is paced this much below: arrivals jitter (scheduling, the network), and a
# provider counting a sliding window sees two requests that came closer than the pace.
MARGIN = 1.05
MIN_RATE = 0.2  # requests per second: never slower than one request in 5 s
# A scope without any limit and never throttled is unpaced: its requests go without a shared
# step each (with 8 workers x 4 threads, a flock'd step per request and per answer cost each
# worker 2.5 s of lock waits on issue 25's latency suite). Each worker looks at the scope at most
# every PEEK seconds, and merges what it sent at most every FLUSH seconds (record_step).
PEEK = 0.1
FLUSH = 0.25
MAX_THROTTLED_RETRIES = 12  # 429s of one request before it fails for good
MAX_ERROR_RETRIES = 4  # 5xx, timeouts, connection errors of one request
TRANSIENT = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str  # one of KINDS
    scope: str  # a model deployment, or a host organization (the part before `/`)
    value: float


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """The suite's limits, and where its workers share their state (None: no governor)."""

    limits: tuple[Limit, ...] = ()
    folder: str | None = None
    shared_by: str = "files"  # "files": flock'd files in `folder`; "ray": one Ray actor per suite
    # the token helm-run wrote in `folder`'s governor/witness for workers on other hosts (Slurm
    # jobs) to find: a job that does not is on a host that does not share the folder
    witness: str | None = None

    def for_deployment(self, deployment: str) -> dict[str, float]:
        """The tightest limit of each kind that applies to `deployment`."""
        org = deployment.split("/", 1)[0]
        out: dict[str, float] = {}
        for lim in self.limits:
            if lim.scope in (deployment, org):
                out[lim.kind] = min(out.get(lim.kind, lim.value), lim.value)
        return out

    def scopes(self, deployment: str) -> list[str]:
        """The scopes whose state a request of `deployment` touches: its own (the adaptive pace,
        as providers limit per model) and its organization's where a limit names it."""
        org = deployment.split("/", 1)[0]
        return [deployment] + ([org] if any(lim.scope == org for lim in self.limits) and org != deployment else [])


_LIMIT = re.compile(r"^(?P<scope>[^=\s]+)=(?P<n>[0-9]+(?:\.[0-9]*)?)$")


def parse_limit(kind: str, text: str) -> Limit | str:
    """A `SCOPE=N` value of the flag `kind`, or why it is none (one line)."""
    m = _LIMIT.match(text.strip())
    if m is None:
        return "is not SCOPE=N (a model deployment or host organization, `=`, a number)"
    value = float(m["n"])
    if value <= 0 or (kind == "max-concurrent-requests" and value != int(value)):
        what = "a whole number" if kind == "max-concurrent-requests" else "a number"
        return f"needs {what} greater than 0, not `{m['n']}`"
    return Limit(kind, m["scope"], value)


# ------------------------------------------------------------------------------ shared state


def _safe(scope: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", scope) + "-" + format(abs(hash_text(scope)) % 10**8, "08d")


def hash_text(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


@contextlib.contextmanager
def _locked(path: str) -> Iterator[dict[str, Any]]:
    """The scope's state, read and written back under an exclusive flock (a crashed holder's
    lock goes with its process)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:  # a write cut short: start the scope afresh
            state = {}
        before = dict(state)
        yield state
        if state != before:
            data = json.dumps(state).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
    finally:
        os.close(fd)  # releases the flock


# ------------------------------------------------------------------------------ the state machine
#
# One step per event, on the state dicts of the scopes it touches (`states`: scope -> dict), with
# the clock of wherever it runs: the flock holder's for files, the actor's on Ray (one clock for
# every host). Files and actor both run these same functions (`ScopeStore.apply`).


def reserve_step(limits: Mapping[str, float], deployment: str, tokens: int,
                 states: dict[str, dict[str, Any]]) -> tuple[float, bool]:
    """Reserve a start for one request of `deployment`: the start (a time.time()), and whether
    its scope has an adaptive pace (else its answer changes nothing but a count). The start is
    the latest that any of its scopes allows, and each scope's next start follows it. A time,
    not a wait: the answer may come back late (a Ray call under load), and a sender that slept
    a wait from then would go late, closer to the next start than the pace."""
    now = time.time()
    at = now
    plan: list[tuple[dict[str, Any], float]] = []
    for scope in sorted(states):
        s = states[scope]
        s.setdefault("scope", scope)
        interval = 1.0 / s["rate"] if scope == deployment and s.get("rate") else 0.0
        rpm = limits.get("requests-per-minute")
        if rpm:
            interval = max(interval, 60.0 * MARGIN / rpm)
        at = max(at, s.get("pause_until", 0.0), s.get("tat", 0.0))
        tpm = limits.get("tokens-per-minute")
        if tpm:  # GCRA over tokens, one minute of them as the burst
            s["tok_tat"] = max(now, s.get("tok_tat", 0.0)) + tokens * 60.0 * MARGIN / tpm
            at = max(at, s["tok_tat"] - 60.0)
        plan.append((s, interval))
    for s, interval in plan:
        if interval or s.get("tat"):
            s["tat"] = at + interval
        # the starts of the last two seconds: the rate being sent at, for the decrease
        recent = [t for t in s.get("recent", ()) if t > now - 2.0][-255:]
        recent.append(round(at, 3))
        s["recent"] = recent
        s["sent"] = s.get("sent", 0) + 1
        s["wait"] = round(at - now, 3)
    return at, bool(states[deployment].get("rate"))


def success_step(ceiling_rpm: float | None, deployment: str, states: dict[str, dict[str, Any]]) -> None:
    """An answer: additive increase of the adaptive pace, up to a given limit."""
    s = states[deployment]
    s.setdefault("scope", deployment)
    rate = s.get("rate")
    if rate:
        rate += max(INCREASE, RECOVER * s.get("cut_from", 0.0)) / rate
        if ceiling_rpm:
            rate = min(rate, ceiling_rpm / 60.0 / MARGIN)
        s["rate"] = rate
    s["ok"] = s.get("ok", 0) + 1


def throttle_step(rpm: float | None, retry_after: float | None, deployment: str, states: dict[str, dict[str, Any]]) -> None:
    """A 429 (or a Retry-After): pause the scope for every worker, and slow it down
    (multiplicative decrease, at most once a second)."""
    now = time.time()
    s = states[deployment]
    s.setdefault("scope", deployment)
    s["throttled"] = s.get("throttled", 0) + 1
    if retry_after:
        s["pause_until"] = max(s.get("pause_until", 0.0), now + retry_after)
    if now - s.get("decreased_at", 0.0) >= 1.0:
        # the pace being kept: the adaptive one, else the given limit's, else the starts of the
        # last second (those the provider counted)
        sent = float(sum(1 for t in s.get("recent", ()) if now - 1.0 < t <= now))
        base = s.get("rate") or (rpm / 60.0 / MARGIN if rpm else sent)
        s["cut_from"] = base or 1.0
        s["rate"] = max(MIN_RATE, (base or 1.0) * DECREASE)
        s["decreased_at"] = now
    # Reservations already given out stand (their senders are waiting for them); new ones
    # start after the pause, at the new pace.
    s["tat"] = max(s.get("tat", 0.0), s.get("pause_until", 0.0))


def unpaced_until(states: dict[str, dict[str, Any]]) -> float:
    """Until when (this clock) a request of the scope needs no reservation: the scope has no
    adaptive pace, no pause and no reservation ahead; 0 when it needs one now. Read-only."""
    now = time.time()
    s = next(iter(states.values()))
    if s.get("rate") or s.get("pause_until", 0.0) > now or s.get("tat", 0.0) > now:
        return 0.0
    return now + PEEK


def record_step(starts: list[float], ok: int, deployment: str, states: dict[str, dict[str, Any]]) -> None:
    """What a worker's unpaced requests did, merged in one step: their starts (the rate being
    sent at, for a decrease) and their answers."""
    now = time.time()
    s = states[deployment]
    s.setdefault("scope", deployment)
    recent = [t for t in s.get("recent", ()) if t > now - 2.0] + [round(t, 3) for t in starts if t > now - 2.0]
    s["recent"] = sorted(recent)[-255:]
    s["sent"] = s.get("sent", 0) + len(starts)
    s["ok"] = s.get("ok", 0) + ok


# --max-concurrent-requests where the state lives in memory (the Ray actor): each slot is held by
# one request (`holder`), with a lease its host renews while the holder lives; a host that died
# (its node lost) renews nothing, and its slots are free again after SLOT_LEASE_S.
SLOT_LEASE_S = 60.0


def take_slots_step(limits: Mapping[str, int], holder: str, states: dict[str, dict[str, Any]]) -> bool:
    """Take a slot in every scope of `limits` (scope -> N), all or none: whether taken."""
    now = time.time()
    for scope, s in states.items():
        held = s.setdefault("slots", {})
        for h in [h for h, until in held.items() if until < now]:
            del held[h]
        if scope in limits and len(held) >= limits[scope]:
            return False
    for scope in limits:
        states[scope]["slots"][holder] = now + SLOT_LEASE_S
    return True


def release_slots_step(holders: list[str], states: dict[str, dict[str, Any]]) -> None:
    for s in states.values():
        for h in holders:
            s.get("slots", {}).pop(h, None)


def renew_slots_step(holders: list[str], states: dict[str, dict[str, Any]]) -> None:
    until = time.time() + SLOT_LEASE_S
    for s in states.values():
        held = s.get("slots", {})
        for h in holders:
            if h in held:
                held[h] = until


def _view(s: Mapping[str, Any], now: float) -> ScopeView:
    recent = sum(1 for t in s.get("recent", ()) if now - 2.0 < t <= now) / 2.0
    return ScopeView(s["scope"], int(s.get("sent", 0)), int(s.get("throttled", 0)), s.get("rate"),
                     max(0.0, float(s.get("pause_until", 0.0)) - now), recent)


# ------------------------------------------------------------------------------ where the state lives


Step = Callable[[dict[str, dict[str, Any]]], Any]


class FileStore:
    """The scopes' state as one small JSON file per scope under the suite's helmc folder, each
    step run under an exclusive flock of every file it touches (taken in one order: no
    deadlock). Local workers, Ray on one machine, Slurm jobs on a shared filesystem."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _path(self, scope: str) -> str:
        return os.path.join(self.folder, _safe(scope) + ".json")

    def apply(self, scopes: list[str], step: Step) -> Any:
        with contextlib.ExitStack() as stack:
            states = {scope: stack.enter_context(_locked(self._path(scope))) for scope in sorted(scopes)}
            return step(states)

    def views(self) -> list[ScopeView]:
        """Read without the lock: a torn read is skipped until the next refresh."""
        out: list[ScopeView] = []
        try:
            names = sorted(n for n in os.listdir(self.folder) if n.endswith(".json"))
        except OSError:
            return out
        now = time.time()
        for n in names:
            try:
                with open(os.path.join(self.folder, n)) as f:
                    out.append(_view(json.load(f), now))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return out


ACTOR_NAMESPACE = "helmc"


def actor_name(folder: str) -> str:
    """The suite's governor actor: one per suite folder."""
    import hashlib

    return "governor-" + hashlib.sha1(os.path.abspath(folder).encode()).hexdigest()[:16]


class ScopeStates:
    """The Ray actor that holds every scope's state for one suite (`--engine ray`): workers on
    hosts that share no filesystem share one pace through it. Ray runs one call at a time on
    it (max_concurrency 1), which is the lock; its clock is the one clock of the suite."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    def apply(self, scopes: list[str], step: Step) -> Any:
        return step({scope: self.states.setdefault(scope, {}) for scope in scopes})

    def views(self) -> list[ScopeView]:
        now = time.time()
        return [_view(s, now) for s in self.states.values() if "scope" in s]


class ActorStore:
    """A process connected to Ray (a host, helm-run) reaching the suite's actor; the first to
    need it creates it (get_if_exists), on no CPU of the runs'. It lives while its creator does:
    the hosts last the suite, and end with helm-run. Created again if it died (its state then
    starts afresh, as a new suite's would).

    The actor lives only as long as the handle that created it: Ray ends an actor once its
    creator lets go of that handle. A host's relay serves its runs from many threads at once,
    so the handle is made once under a lock and let go of only when the actor is known dead
    (RayActorError), never on a slow answer. Before, the threads each made a handle at once,
    each replacing the last, and a views() that timed out under load dropped it: the actor was
    ended and made again about once a second through a whole suite (a new Ray worker process
    each time, about 1 CPU s on a 2-core machine, and the pace starting afresh each time:
    docs/performance.md)."""

    def __init__(self, name: str, create: bool = True) -> None:
        self.name, self.create = name, create
        self._actor: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        import ray

        with self._lock:
            if self._actor is None:
                if self.create:
                    self._actor = ray.remote(ScopeStates).options(  # type: ignore[attr-defined]
                        name=self.name, namespace=ACTOR_NAMESPACE, get_if_exists=True, num_cpus=0,
                        max_restarts=0).remote()
                else:
                    self._actor = ray.get_actor(self.name, namespace=ACTOR_NAMESPACE)
            return self._actor

    def start(self) -> None:
        """Have Ray start the actor now, in the background (`.remote()` does not wait for it),
        so that the first request does not wait for its process (about 2 s under load)."""
        try:
            self._get()
        except Exception:  # noqa: BLE001 - the first request tries again, and says why
            pass

    def _died(self, actor: Any) -> None:
        """`actor` is dead: the next call makes (or finds) a new one, unless another thread did."""
        with self._lock:
            if self._actor is actor:
                self._actor = None

    def apply(self, scopes: list[str], step: Step) -> Any:
        import ray

        actor = self._get()
        try:
            return ray.get(actor.apply.remote(scopes, step))
        except ray.exceptions.RayActorError:  # it died with its creator: a new one
            self._died(actor)
            return ray.get(self._get().apply.remote(scopes, step))

    def views(self) -> list[ScopeView]:
        import ray

        try:
            actor = self._get()
        except Exception:  # noqa: BLE001 - not created yet: nothing to show
            return []
        try:
            return ray.get(actor.views.remote(), timeout=1.0)
        except ray.exceptions.RayActorError:
            self._died(actor)
            return []
        except Exception:  # noqa: BLE001 - a slow answer (under load): nothing to show this time
            return []


class RelayStore:
    """A run's process forked from a Ray host (runtime/engines/remote.py run_forked) cannot call
    Ray (its connection belongs to the host): it asks the host, which asks the actor. One
    connection per process, shared by HELM's threads."""

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address, self.authkey = address, authkey
        self._conn: Any = None
        self._lock = threading.Lock()

    def _call(self, *message: Any) -> Any:
        from multiprocessing.connection import Client

        with self._lock:
            if self._conn is None:
                self._conn = Client(self.address, family="AF_UNIX", authkey=self.authkey)
            self._conn.send(message)
            ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"the request governor's actor: {value}")
        return value

    def apply(self, scopes: list[str], step: Step) -> Any:
        return self._call("apply", scopes, step)

    def views(self) -> list[ScopeView]:
        return self._call("views")


_relay: tuple[str, bytes] | None = None  # set in a Ray host; its forked children inherit it


def serve_forked_children(limits: RequestLimits) -> None:
    """In a Ray host (a Ray actor whose forked children run the runs): relay the children's
    governor steps to the suite's actor. Idempotent."""
    global _relay, _relay_pid
    if limits.shared_by != "ray" or limits.folder is None or _relay is not None:
        return
    import secrets
    import tempfile
    from multiprocessing.connection import Listener

    store = ActorStore(actor_name(limits.folder))
    store.start()

    def first_call() -> None:
        # The actor's first call costs what no later one does (its process coming up, the
        # connection to it): 0.8 s measured for the runs' first requests, all waiting on it, at
        # load 3. Made here, while this host imports HELM, with a step that changes nothing.
        try:
            store.apply([], functools.partial(release_slots_step, []))
        except Exception:  # noqa: BLE001 - the first request tries again, and says why
            pass

    threading.Thread(target=first_call, name="helmc-governor-first-call", daemon=True).start()
    authkey = secrets.token_bytes(16)
    address = os.path.join(tempfile.mkdtemp(prefix="helmc-governor-"), "relay")
    listener = Listener(address, family="AF_UNIX", authkey=authkey)

    held: dict[str, list[str]] = {}  # concurrency slots taken through this host: holder -> scopes
    held_lock = threading.Lock()

    def serve(conn: Any) -> None:
        mine: set[str] = set()  # this child's slots, freed when it is gone (exit, SIGKILL, OOM)
        try:
            with conn:
                while True:
                    try:
                        op, *args = conn.recv()
                    except (EOFError, OSError):
                        return
                    try:
                        value = store.apply(*args) if op == "apply" else store.views()
                    except Exception as e:  # noqa: BLE001 - the child raises it, with this text
                        conn.send((False, f"{type(e).__name__}: {e}"))
                        continue
                    _track_slots(op, args, value, mine, held, held_lock)
                    conn.send((True, value))
        finally:
            if mine:
                with held_lock:
                    scopes = sorted({sc for h in mine for sc in held.pop(h, ())})
                try:
                    store.apply(scopes, functools.partial(release_slots_step, sorted(mine)))
                except Exception:  # noqa: BLE001 - the actor is gone: so are its slots
                    pass

    def renew() -> None:
        while True:
            time.sleep(SLOT_LEASE_S / 4)
            with held_lock:
                holders = sorted(held)
                scopes = sorted({sc for h in holders for sc in held[h]})
            if holders:
                try:
                    store.apply(scopes, functools.partial(renew_slots_step, holders))
                except Exception:  # noqa: BLE001 - tried again at the next turn
                    pass

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()
            except Exception:  # noqa: BLE001 - a child that failed the handshake
                continue
            threading.Thread(target=serve, args=(conn,), name="helmc-governor-relay", daemon=True).start()

    threading.Thread(target=accept, name="helmc-governor-relay", daemon=True).start()
    threading.Thread(target=renew, name="helmc-governor-renew", daemon=True).start()
    _relay, _relay_pid = (address, authkey), os.getpid()


def _track_slots(op: str, args: list[Any], value: Any, mine: set[str], held: dict[str, list[str]],
                 lock: threading.Lock) -> None:
    """The relay's record of the concurrency slots a child took and gave back through it."""
    if op != "apply" or not isinstance(args[1], functools.partial):
        return
    step = args[1]
    with lock:
        if step.func is take_slots_step and value is True:
            mine.add(step.args[1])
            held[step.args[1]] = list(args[0])
        elif step.func is release_slots_step:
            for h in step.args[0]:
                mine.discard(h)
                held.pop(h, None)


# ------------------------------------------------------------------------------ a folder every job shares

WITNESS = "witness"


class SharedStateError(Exception):
    """A Slurm job cannot share the suite's limits: the governor's folder is not the one helm-run
    wrote (not on a filesystem this job's host shares), or this job cannot write it."""


def with_witness(limits: RequestLimits) -> RequestLimits:
    """helm-run, before its jobs start: a fresh token in the governor's folder, which every job
    then looks for (`check_shared`). Unchanged when there is no folder or it cannot be written
    (helm-run then fails on its own writes there, with the path)."""
    import secrets

    if limits.folder is None or limits.shared_by != "files":
        return limits
    token = secrets.token_hex(16)
    folder = os.path.join(limits.folder, "governor")
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{WITNESS}.{os.getpid()}")
        with open(tmp, "w") as f:
            f.write(token)
        os.replace(tmp, os.path.join(folder, WITNESS))
    except OSError:
        return limits
    return dataclasses.replace(limits, witness=token)


def check_shared(limits: RequestLimits) -> None:
    """In a job on whatever host: the governor's folder is helm-run's (the witness is there,
    with its token) and this job can write it; else SharedStateError, one line that says which
    and where. Pacing alone in a folder of its own would go over the limit without a word."""
    if limits.witness is None or limits.folder is None:
        return
    import socket as _socket

    folder = os.path.join(limits.folder, "governor")
    host = _socket.gethostname()
    try:
        with open(os.path.join(folder, WITNESS)) as f:
            seen = f.read(100).strip()
    except OSError:
        seen = None
    # Short: the one-line error that crosses back to helm-run is cut at 200 characters;
    # helm-run's HC0710 names the folder.
    if seen != limits.witness:
        raise SharedStateError(f"{NOT_SHARED} (a job on host `{host[:60]}` does not see helm-run's files there)")
    probe = os.path.join(folder, f".probe.{host}.{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise SharedStateError(f"{NOT_WRITABLE} (a job on host `{host[:60]}`: {e.strerror or e})") from None


NOT_SHARED = "not shared with the jobs"
NOT_WRITABLE = "not writable by the jobs"


def shared_state_failure(error: str | None) -> str | None:
    """The message of a SharedStateError, from a Finished event's one-line error."""
    marker = SharedStateError.__name__ + ": "
    if not error or marker not in error:
        return None
    head, _, rest = error.partition(marker)
    return rest if head == "" or head.endswith(".") else None


def unshared_diagnostic(folder: str, message: str) -> Any:
    """HC0710: a job could not share the suite's limits through `folder` (the governor's)."""
    from helmc.compiler.diagnostics import diag
    from helmc.compiler.source import SourceFile

    where = os.path.join(folder, "governor")
    return diag("HC0710", f"the folder through which the jobs share the request limits is {message}",
                SourceFile(where, "").span(0, 0), "not shared" if message.startswith(NOT_SHARED) else "not writable",
                help="--engine slurm shares the limits through files in the suite's output folder: put "
                "--output-path on a filesystem every node mounts read-write (NFS, Lustre, GPFS), or use "
                "--engine ray, whose limits live in a Ray actor")


def store_for(limits: RequestLimits) -> FileStore | ActorStore | RelayStore:
    """Where this process reaches the suite's shared state."""
    assert limits.folder is not None
    if limits.shared_by == "ray":
        if _relay is not None and _relay_pid != os.getpid():
            return RelayStore(*_relay)
        return ActorStore(actor_name(limits.folder))
    return FileStore(os.path.join(limits.folder, "governor"))


_relay_pid = os.getpid()  # the process that set _relay (reset by serve_forked_children)


_holders = itertools.count()


class Governor:
    """One per worker process; every thread of HELM's executor shares it."""

    def __init__(self, limits: RequestLimits) -> None:
        self._lock = threading.Lock()
        self.rebind(limits)
        self.run: str | None = None
        self.counts: dict[str, int] = {}
        self.failures: list[dict[str, Any]] = []
        self.sending = threading.Event()  # set at this process's first request (executor._warm_in_background)

    def rebind(self, limits: RequestLimits) -> None:
        assert limits.folder is not None
        self.limits = limits
        self.folder = os.path.join(limits.folder, "governor")
        os.makedirs(self.folder, exist_ok=True)
        self._store: Any = None
        self._store_pid = -1
        self._peeked: dict[str, float] = {}  # deployment -> unpaced until (see PEEK)
        self._adaptive: dict[str, bool] = {}  # deployment -> its last reservation saw an adaptive pace
        self._pending: dict[str, tuple[list[float], int]] = {}  # unpaced starts and answers not merged yet
        self._flushed = 0.0

    @property
    def store(self) -> FileStore | ActorStore | RelayStore:
        """Made in the process that uses it: a forked worker gets its own (a Ray child, the relay)."""
        if self._store_pid != os.getpid():
            self._store, self._store_pid = store_for(self.limits), os.getpid()
            self._peeked, self._pending, self._adaptive = {}, {}, {}  # the forking process's, not this one's
        return self._store

    def _path(self, scope: str) -> str:
        return os.path.join(self.folder, _safe(scope) + ".json")

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + n

    # -------------------------------------------------------------- pacing

    def _unpaced(self, deployment: str) -> bool:
        """Whether a request of `deployment` may go without a shared step (see PEEK): no limit
        names it, and the scope, looked at within PEEK seconds, has no pace, pause or queue."""
        if self.limits.for_deployment(deployment):
            return False
        store = self.store  # first, so a forked process starts from its own empty view
        with self._lock:
            until = self._peeked.get(deployment, 0.0)
        if until > time.time():
            return True
        until = store.apply([deployment], unpaced_until)
        with self._lock:
            self._peeked[deployment] = until
        return until > 0.0

    def _buffer(self, deployment: str, start: float | None = None, ok: int = 0) -> None:
        with self._lock:
            starts, oks = self._pending.get(deployment, ([], 0))
            if start is not None:
                starts.append(start)
            self._pending[deployment] = (starts, oks + ok)
            due = time.time() - self._flushed >= FLUSH
        if due:
            self.flush()

    def flush(self) -> None:
        """Merge the buffered unpaced requests into the shared state."""
        with self._lock:
            pending, self._pending, self._flushed = self._pending, {}, time.time()
        for deployment, (starts, ok) in pending.items():
            if starts or ok:
                self.store.apply([deployment], functools.partial(record_step, starts, ok, deployment))

    def reserve(self, deployment: str, tokens: int) -> float:
        """Reserve a start for one request; returns the seconds to wait before sending."""
        if self._unpaced(deployment):
            self._buffer(deployment, start=time.time())
            return 0.0
        step = functools.partial(reserve_step, self.limits.for_deployment(deployment), deployment, tokens)
        at, adaptive = self.store.apply(self.limits.scopes(deployment), step)
        with self._lock:
            self._adaptive[deployment] = adaptive
        return max(0.0, at - time.time())

    def succeeded(self, deployment: str) -> None:
        # An answer moves an adaptive pace only; otherwise it is a count, merged with the others
        # (on Ray each shared step is a round trip through the host to the actor).
        if self._unpaced(deployment) or not self._adaptive.get(deployment, True):
            self._buffer(deployment, ok=1)
            return
        ceiling = self.limits.for_deployment(deployment).get("requests-per-minute")
        self.store.apply([deployment], functools.partial(success_step, ceiling, deployment))

    def throttled(self, deployment: str, retry_after: float | None) -> None:
        """A 429 (or a Retry-After): pause the scope for every worker, and slow it down."""
        self.flush()  # the starts the decrease reads
        rpm = self.limits.for_deployment(deployment).get("requests-per-minute")
        self.store.apply([deployment], functools.partial(throttle_step, rpm, retry_after, deployment))
        with self._lock:
            self._peeked.pop(deployment, None)  # paced from now on: looked at again
            self._adaptive[deployment] = True

    def _slot_limits(self, deployment: str) -> dict[str, int]:
        """scope -> N for each scope of `deployment` that --max-concurrent-requests names."""
        out: dict[str, int] = {}
        for scope in self.limits.scopes(deployment):
            ns = [lim.value for lim in self.limits.limits if lim.scope == scope and lim.kind == "max-concurrent-requests"]
            if ns:
                out[scope] = int(min(ns))
        return out

    @contextlib.contextmanager
    def slot(self, deployment: str) -> Iterator[None]:
        """--max-concurrent-requests: a slot per scope, held while the request is out. With
        files, one of N lock files per scope (a worker that dies frees its slot with its
        process); on Ray, in the suite's actor, as the pace (a child that dies frees its slots
        through its host's relay, a host that dies after SLOT_LEASE_S)."""
        limits = self._slot_limits(deployment)
        if not limits:
            yield
            return
        if self.limits.shared_by == "ray":
            holder = self._take_actor_slots(limits)
            try:
                yield
            finally:
                self.store.apply(sorted(limits), functools.partial(release_slots_step, [holder]))
            return
        fds: list[int] = []
        try:
            for scope, n in limits.items():
                fds.append(self._take_slot(scope, n))
            yield
        finally:
            for fd in fds:
                os.close(fd)

    def _take_actor_slots(self, limits: dict[str, int]) -> str:
        holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{next(_holders)}"
        step = functools.partial(take_slots_step, limits, holder)
        delay = 0.005
        while not self.store.apply(sorted(limits), step):
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        return holder

    def _take_slot(self, scope: str, n: int) -> int:
        delay = 0.005
        while True:
            fd = lock_one_of(os.path.join(self.folder, f"{_safe(scope)}.slot{i}") for i in range(n))
            if fd is not None:
                return fd
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    # -------------------------------------------------------------- one request

    def send(self, deployment: str, request: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
        """Send one request through the governor: paced, retried after the provider's
        Retry-After on a 429, with a short backoff on a transient error, at once failing on
        anything else. Raises the last exception when the request fails for good (HELM's
        client turns it into a failed RequestResult)."""
        tokens = estimate_tokens(request)
        throttled = errors = 0
        backoff = 0.0
        while True:
            if backoff:  # after a transient error, outside the concurrency slot
                time.sleep(backoff)
                backoff = 0.0
            wait = self.reserve(deployment, tokens)
            if wait > 0:
                time.sleep(wait)
            with self.slot(deployment):
                self.count("sent")
                if not self.sending.is_set():
                    self.sending.set()
                try:
                    response = compute()
                except Exception as e:  # noqa: BLE001 - classified, then re-raised or retried
                    status, retry_after = classify(e)
                    if status == 429:
                        self.count("throttled")
                        self.throttled(deployment, retry_after or 1.0)
                        throttled += 1
                        if throttled <= MAX_THROTTLED_RETRIES:
                            continue
                    elif status is not None and status in TRANSIENT or status == 0:
                        self.count("errors")
                        errors += 1
                        if retry_after:
                            self.throttled(deployment, retry_after)
                        if errors <= MAX_ERROR_RETRIES:
                            backoff = retry_after or min(30.0, 0.5 * 2 ** errors)
                            continue
                    else:
                        self.count("errors")
                    _state.final = True
                    self.failed_for_good(deployment, status, e)
                    raise
            self.succeeded(deployment)
            return response

    def failed_for_good(self, deployment: str, status: int | None, e: BaseException) -> None:
        message = f"{type(e).__name__}: {e}".strip()[:300]
        with self._lock:
            self.counts["failed"] = self.counts.get("failed", 0) + 1
            for f in self.failures:
                if f["deployment"] == deployment and f["message"] == message:
                    f["count"] += 1
                    return
            if len(self.failures) < 20:
                self.failures.append({"deployment": deployment, "status": status, "message": message, "count": 1})

    # -------------------------------------------------------------- per run

    def begin_run(self, run: str) -> None:
        with self._lock:
            self.run, self.counts, self.failures = run, {}, []

    def end_run(self) -> None:
        """The run's request counts and failures, beside the journal (RunReport)."""
        self.flush()
        with self._lock:
            if self.run is None:
                return
            report = {"run": self.run, "counts": dict(self.counts), "failures": list(self.failures)}
            path = run_report_path(self.limits.folder or "", self.run)
            self.run = None
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f)
        os.replace(tmp, path)


def run_report_path(folder: str, run: str) -> str:
    return os.path.join(folder, "governor", "runs", _safe(run) + ".json")


@dataclass(frozen=True, slots=True)
class RunReport:
    counts: Mapping[str, int] = field(default_factory=dict)
    failures: tuple[Mapping[str, Any], ...] = ()


def read_run_report(folder: str, run: str) -> RunReport | None:
    try:
        with open(run_report_path(folder, run)) as f:
            data = json.load(f)
        return RunReport(dict(data.get("counts", {})), tuple(data.get("failures", ())))
    except (OSError, ValueError, AttributeError):
        return None


def clear_run_report(folder: str, run: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(run_report_path(folder, run))


@dataclass(frozen=True, slots=True)
class ScopeView:
    scope: str
    sent: int
    throttled: int
    rate: float | None  # the adaptive pace, requests per second (None: unpaced)
    backoff: float  # seconds until the scope may send again
    recent_rate: float = 0.0  # requests started in the last two seconds, per second


def scope_views(folder: str, shared_by: str = "files") -> list[ScopeView]:
    """What the progress display shows per provider: from the files, or asked of the suite's
    actor (helm-run, connected to Ray; never created here)."""
    if shared_by == "ray":
        return ActorStore(actor_name(folder), create=False).views()
    return FileStore(os.path.join(folder, "governor")).views()


# ------------------------------------------------------------------------------ classifying


def classify(e: BaseException) -> tuple[int | None, float | None]:
    """The HTTP status of a client library's exception (openai, anthropic, httpx, requests),
    0 for a timeout or a connection error, and the provider's Retry-After in seconds."""
    status = getattr(e, "status_code", None)
    response = getattr(e, "response", None)
    if status is None and response is not None:
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if status is None:
        name = type(e).__name__
        if "Timeout" in name or "Connection" in name:
            status = 0
    headers = getattr(response, "headers", None) or {}
    return (int(status) if isinstance(status, int) else None), retry_after(headers)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` (OpenAI's) or `Retry-After` (seconds or an HTTP date)."""
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, AttributeError):
        return None


def estimate_tokens(request: Mapping[str, Any]) -> int:
    """The tokens a request may use, for --tokens-per-minute: its text at 4 characters a token
    (no tokenizer is loaded for this) plus the completion tokens it allows."""
    text = 0
    for key in ("messages", "prompt", "input", "contents"):
        if key in request:
            text += len(json.dumps(request[key], default=str))
    most = request.get("max_tokens") or request.get("max_completion_tokens") or request.get("max_output_tokens") or 0
    n = request.get("n") or request.get("num_completions") or 1
    try:
        return int(text / 4 + int(most) * int(n))
    except (TypeError, ValueError):
        return int(text / 4)


# ------------------------------------------------------------------------------ HELM's seam


class _State(threading.local):
    deployment: str | None = None
    final: bool = False


_state = _State()
_installed: Governor | None = None


def install(limits: RequestLimits) -> Governor | None:
    """Put the governor between HELM's clients and the providers in this process: at
    Cache.get's compute (only what is sent, not cache hits) and in place of AutoClient's
    retry decorator (HELM's fixed backoff). Idempotent; a forked worker inherits it."""
    global _installed
    if limits.folder is None:
        return None
    if _installed is not None:  # another helm-run in this process (tests, the language server)
        _installed.rebind(limits)
        return _installed
    from helm.clients import auto_client
    from helm.common import cache as helm_cache

    governor = Governor(limits)
    helm_get = helm_cache.Cache.get

    def get(self: Any, request: Mapping, compute: Callable[[], dict]) -> Any:
        deployment = _state.deployment
        if deployment is None:
            return helm_get(self, request, compute)
        return helm_get(self, request, lambda: governor.send(deployment, request, compute))

    helm_cache.Cache.get = get  # type: ignore[method-assign]
    harden_sqlite_cache()
    auto_client.retry_request = _governed_retry(auto_client.retry_request)
    _installed = governor
    return governor


SQLITE_BUSY_TIMEOUT = 300.0  # seconds a writer waits for the lock (HELM: SqliteDict's 5)


def harden_sqlite_cache() -> None:
    """HELM's SQLite request cache, safe under many local writers: WAL (readers never wait for
    the writer, a commit appends to the log) and a long busy timeout (a writer waits its turn
    instead of raising `database is locked`). Measured in benchmarks/bench_sqlite_cache.py and
    docs/performance.md. Same file format: HELM alone reads it afterwards. Never on a network
    filesystem (WAL needs shared memory on one host; helm-run refuses it there, HC0706)."""
    import sqlite3
    import types

    import sqlitedict
    from helm.common import key_value_store

    if getattr(key_value_store.SqliteDict, "_helmc_hardened", False):
        return
    helm_dict = key_value_store.SqliteDict

    class HardenedSqliteDict(helm_dict):  # type: ignore[misc, valid-type]
        _helmc_hardened = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            filename = args[0] if args else kwargs.get("filename")
            if isinstance(filename, str) and filename != ":memory:":
                _to_wal(filename)
            kwargs.setdefault("journal_mode", "WAL")
            super().__init__(*args, **kwargs)

    # SqliteDict's own `timeout` is how long it waits for its thread; SQLite's busy timeout is
    # sqlite3.connect's, which SqliteDict leaves at 5 s: given here, to sqlitedict's calls only.
    class _Sqlite3(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            return getattr(sqlite3, name)

    shim = _Sqlite3("sqlite3")
    shim.connect = lambda *a, **kw: sqlite3.connect(*a, **{"timeout": SQLITE_BUSY_TIMEOUT, **kw})  # type: ignore[attr-defined]
    sqlitedict.sqlite3 = shim  # type: ignore[attr-defined]
    key_value_store.SqliteDict = HardenedSqliteDict


def _to_wal(path: str) -> None:
    """Switch a cache file to WAL once, before SqliteDict opens it. The switch needs the file to
    itself: two workers opening a new cache at once can see SQLite refuse it at once with
    `database is locked` (seen once in CI, 2 workers x 4 threads on a fresh cache), so it is
    retried here until the busy timeout; once the file is WAL, SqliteDict's own pragma is a
    no-op."""
    import sqlite3

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


UNMETERED = frozenset({"simple", "huggingface"})  # as --max-runs-per-provider's local providers


def governor_limits() -> tuple[Limit, ...]:
    return _installed.limits.limits if _installed is not None else ()


def current() -> Governor | None:
    return _installed


def _governed_retry(helm_retry: Callable) -> Callable:
    """AutoClient applies this to each request. A failure the governor already retried (or
    knows no retry can fix) returns at once, as HELM's own retry would after its last try;
    what HELM marks non-retriable is not retried; anything the governor did not see (a
    client that fails before sending) keeps HELM's own retry."""
    from retrying import Attempt, RetryError

    def decorate(f: Callable) -> Callable:
        helm_retrying = helm_retry(f)

        def call(*args: Any, **kwargs: Any) -> Any:
            _ready(kwargs.get("client"))
            request = kwargs.get("request")
            deployment = getattr(request, "model_deployment", None) or getattr(request, "model", None)
            # models computed on this machine have no provider to spare, unless a limit names them
            if deployment and deployment.split("/", 1)[0] in UNMETERED and not any(
                    lim.scope in (deployment, deployment.split("/", 1)[0]) for lim in governor_limits()):
                deployment = None
            _state.deployment = deployment
            _state.final = False
            try:
                result = f(*args, **kwargs)
                if result.success:
                    return result
                flags = getattr(result, "error_flags", None)
                if flags is not None and flags.is_retriable is False:
                    return result
                if _state.final:
                    raise RetryError(Attempt(result, 1, False))
                return helm_retrying(*args, **kwargs)
            finally:
                _state.deployment = None

        return call

    return decorate


# Client SDKs that HELM's clients use and that load their API resources lazily, on a client's
# first request: `openai` and `anthropic` (Stainless-generated: `client.chat` imports all of
# `openai.resources`, 0.6 CPU s) and the like. Measured in docs/performance.md: 8 forked workers
# each importing them at once took 4.4 s before their first request on 2 cores.
LAZY_SDK_MODULES = ("openai.resources", "anthropic.resources", "writerai.resources", "together.resources",
                    "groq.resources")


def warm_sdks() -> None:
    """Import, in the process that forks the workers (helm-run, a Ray host), what the client
    SDKs already imported there (by prewarm: the runs' client classes) would import lazily in
    each worker before its first request. Best effort: an SDK without such a module is skipped."""
    import importlib

    for name in LAZY_SDK_MODULES:
        if name.split(".", 1)[0] not in sys.modules:  # no run of this suite uses that SDK
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(name)


_ready_clients: set[int] = set()


def _ready(helm_client: Any) -> None:
    """Before a client's first request is paced: the retries of its SDK turned off
    (`quiet_sdk_retries`: the governor must see each 429 to slow the scope for the whole suite,
    and retry it after the provider's Retry-After), and the SDK's lazily imported resources
    loaded now, not between a reserved start and the send (seconds on a loaded machine, which
    would bunch the starts; in a worker forked from a warm process, already done)."""
    if helm_client is None or id(helm_client) in _ready_clients:
        return
    _ready_clients.add(id(helm_client))
    warm_sdks()
    for inner in list(vars(helm_client).values()) if hasattr(helm_client, "__dict__") else ():
        with contextlib.suppress(Exception):
            quiet_sdk_retries(inner)


def quiet_sdk_retries(sdk_client: Any) -> str | None:
    """Turn off an SDK client's own retries; returns how, or None when it has none to turn off
    (or is no SDK client). HELM 0.5.16's clients hold these SDKs (read in helm/clients/):

    - Stainless-generated SDKs (`openai`, `anthropic`, `writerai`, and any package exporting
      DEFAULT_MAX_RETRIES with a client's `max_retries`): 2 retries by default (writerai: 7),
      after their own waits. Set to 0 where the deployment left the package's default (a
      `max_retries` given in model_deployments.yaml is the user's choice and stays).
    - `together` 1.x: `client.max_retries`, 5 by default (together.constants.MAX_RETRIES).
    - `cohere` 5.x: each call retries a 429 or 5xx twice unless its request_options say
      otherwise; HELM passes none, so every call gets max_retries=0.
    - `botocore` (Bedrock): HELM itself asks for 10 attempts in standard mode; the retry
      handler is unregistered, so one call is one request.
    - `mistralai` 1.x (no retry_config unless given) and `huggingface_hub`'s InferenceClient
      do not retry: nothing to do.
    """
    module = type(sdk_client).__module__
    package = module.split(".", 1)[0]
    if package == "botocore":
        return _quiet_botocore(sdk_client)
    if package == "together":
        inner = getattr(sdk_client, "client", None)
        from together.constants import MAX_RETRIES  # type: ignore[import-not-found]

        if inner is not None and getattr(inner, "max_retries", None) == MAX_RETRIES:
            inner.max_retries = 0
            return "together: client.max_retries = 0"
        return None
    if package == "cohere":
        return _quiet_cohere(sdk_client)
    pkg = sys.modules.get(package)
    default = getattr(pkg, "DEFAULT_MAX_RETRIES", None)
    if isinstance(default, int) and getattr(sdk_client, "max_retries", None) == default:
        sdk_client.max_retries = 0
        return f"{package}: max_retries = 0"
    return None


def _quiet_cohere(sdk_client: Any) -> str | None:
    http = getattr(getattr(sdk_client, "_client_wrapper", None), "httpx_client", None)
    if http is None or getattr(http, "_helmc_quiet", False):
        return None
    for name in ("request", "stream"):
        method = getattr(http, name, None)
        if method is None:
            continue

        def once(*args: Any, _method: Callable = method, request_options: Any = None, **kwargs: Any) -> Any:
            options = dict(request_options or {})
            options.setdefault("max_retries", 0)
            return _method(*args, request_options=options, **kwargs)

        setattr(http, name, once)
    http._helmc_quiet = True
    return "cohere: request_options max_retries = 0"


def _quiet_botocore(sdk_client: Any) -> str | None:
    meta = getattr(sdk_client, "meta", None)
    if meta is None:
        return None
    event = meta.service_model.service_id.hyphenize()
    # botocore registers its retry handler (legacy or standard mode) under this id
    meta.events.unregister(f"needs-retry.{event}", unique_id=f"retry-config-{event}")
    return "botocore: needs-retry handler unregistered"
