"""Engines, retries, per-provider limits and scheduling, without HELM.

The executor is a test double (engine_doubles.py); HELM's own execution under each engine is
in tests/runtime/engines/test_engines_helm.py. Ray and submitit tests start real processes (a local Ray instance,
submitit's local executor) and are marked `helm` with the other slow real-process tests."""

from __future__ import annotations

from pathlib import Path

import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_doubles import ScriptedExecutor, attempts
from helmc.runtime.engine import Finished, InlineEngine, LocalEngine, Started, Task
from helmc.runtime.engines import EngineOptions, check_engine, task_of
from helmc.runtime.scheduler import Scheduler

TESTS = str(Path(__file__).resolve().parents[2])


def _finals(events) -> dict[str, Finished]:
    return {e.name: e for e in events if isinstance(e, Finished) and e.retry_in is None}


# ------------------------------------------------------------------------------ scheduler


def test_longest_first_when_sizes_are_known():
    tasks = [Task(f"t{i}", b"", "p", True, s) for i, s in enumerate([3, None, 10, 1, 10])]
    s = Scheduler(tasks)
    order = []
    while (n := s.next(0.0)) is not None:
        order.append(n[0].name)
        s.finished(n[0], n[1], True, 0.0)
    assert order == ["t2", "t4", "t0", "t3", "t1"]  # ties keep input order; unknown size last


def test_providers_are_spread_out():
    tasks = [Task(f"a{i}", b"", "openai", True, 5) for i in range(4)]
    tasks += [Task(f"b{i}", b"", "together", True, 5) for i in range(4)]
    s = Scheduler(tasks)
    first4 = [s.next(0.0)[0].provider for _ in range(4)]
    assert sorted(first4) == ["openai", "openai", "together", "together"]


@settings(max_examples=60, deadline=None)
@given(
    providers=st.lists(st.sampled_from(["openai", "together", "anthropic", "simple", "huggingface"]),
                       min_size=1, max_size=40),
    limit=st.integers(1, 3),
    slots=st.integers(1, 6),
    retries=st.integers(0, 2),
    seed=st.integers(0, 10**6),
)
def test_provider_limit_holds_and_every_run_ends_once(providers, limit, slots, retries, seed):
    """Whatever the order of ends: a run that fails is retried until its retries are spent,
    unless its failure is one no retry changes (not retryable): then it ends at once."""
    rnd = random.Random(seed)
    tasks = [task_of(f"r{i}", b"", p + "/m", None, rnd.choice([None, 1, 5, 9])) for i, p in enumerate(providers)]
    s = Scheduler(tasks, retries=retries, backoff=0.0, max_per_provider=limit)
    running: list[tuple[Task, int]] = []
    ended: dict[str, int] = {}
    now = 0.0
    while not s.exhausted() or running:
        while len(running) < slots and (n := s.next(now)) is not None:
            running.append(n)
            per = {}
            for t, _ in running:
                if t.limited:
                    per[t.provider] = per.get(t.provider, 0) + 1
            assert all(v <= limit for v in per.values())
        assert running, "nothing runs while runs are left: the scheduler is stuck"
        t, a = running.pop(rnd.randrange(len(running)))
        ok = rnd.random() < 0.6
        retryable = rnd.random() < 0.7
        if s.finished(t, a, ok, now, retryable=retryable) is None:
            assert t.name not in ended
            ended[t.name] = a
            assert ok or not retryable or a == retries + 1
        else:
            assert not ok and retryable and a <= retries
        now += 1.0
    assert set(ended) == {t.name for t in tasks}


def test_local_models_are_not_limited():
    assert not task_of("x", b"", "simple/model1", "simple/model1", None).limited
    assert not task_of("x", b"", "gpt2", "huggingface/gpt2", None).limited
    t = task_of("x", b"", "meta/llama", "together/llama", None)
    assert t.limited and t.provider == "together"


def test_backoff_doubles():
    t = Task("a", b"", None, False, None)
    s = Scheduler([t], retries=3, backoff=1.5)
    assert s.finished(*s.next(0.0), False, 10.0) == 1.5
    assert s.next(10.0) is None and s.next(11.6)[1] == 2
    assert s.finished(t, 2, False, 20.0) == 3.0


# ------------------------------------------------------------------------------ local engine


@pytest.mark.parametrize("kind", ["flaky", "fails-once"])
def test_local_retry_after_a_failure_or_a_killed_worker(tmp_path, kind):
    tasks = [Task("a", kind.encode()), Task("b", b"ok"), Task("c", b"die")]
    events: list = []
    LocalEngine(2, tick_interval=0.05, retries=1, backoff=0.0).run(tasks, ScriptedExecutor(str(tmp_path)),
                                                                   events.append)
    fin = _finals(events)
    assert fin["a"].ok and fin["a"].attempt == 2
    assert fin["b"].ok and fin["b"].attempt == 1
    assert not fin["c"].ok and fin["c"].attempt == 2 and "signal 9" in fin["c"].error
    retried = [e for e in events if isinstance(e, Finished) and e.retry_in is not None]
    assert sorted(e.name for e in retried) == ["a", "c"]
    assert attempts(str(tmp_path), "a") == 2 and attempts(str(tmp_path), "c") == 2


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_local_a_failure_no_retry_changes_is_not_retried(tmp_path, retries):
    tasks = [Task("a", b"deterministic"), Task("b", b"fails-once")]
    events: list = []
    LocalEngine(2, tick_interval=0.05, retries=retries, backoff=0.0).run(tasks, ScriptedExecutor(str(tmp_path)),
                                                                         events.append)
    fin = _finals(events)
    assert not fin["a"].ok and fin["a"].attempt == 1 and "the same again in a" in fin["a"].error
    assert attempts(str(tmp_path), "a") == 1
    assert not [e for e in events if isinstance(e, Finished) and e.name == "a" and e.retry_in is not None]
    assert fin["b"].ok == (retries > 0) and attempts(str(tmp_path), "b") == min(2, retries + 1)


def test_no_retry_by_default(tmp_path):
    events: list = []
    LocalEngine(1, tick_interval=0.05).run([Task("a", b"fails-once")], ScriptedExecutor(str(tmp_path)),
                                           events.append)
    assert not _finals(events)["a"].ok and attempts(str(tmp_path), "a") == 1


def test_inline_engine_and_provider_limit_of_one(tmp_path):
    tasks = [task_of(f"r{i}", b"ok", "openai/gpt", None, i) for i in range(5)]
    events: list = []
    InlineEngine(3, max_per_provider=1).run(tasks, ScriptedExecutor(str(tmp_path)), events.append)
    depth = peak = 0
    for e in events:
        depth += 1 if isinstance(e, Started) else -1
        peak = max(peak, depth)
    assert peak == 1 and len(_finals(events)) == 5
    assert [e.name for e in events if isinstance(e, Started)] == ["r4", "r3", "r2", "r1", "r0"]


# ------------------------------------------------------------------------------ flag checks


def _codes(mongo: str = "", disable_cache: bool = False, **kw) -> list[str]:
    from diagnostic_examples import ENGINE_EXTRAS
    from helmc.compiler.diagnostics import DiagnosticSink

    module = ENGINE_EXTRAS.get(kw.get("engine", ""))
    if module is not None:  # without its extra every check of that engine is HC0701
        pytest.importorskip(module, reason=f"the {kw['engine']} engine's extra ({module}) is not installed")

    sink = DiagnosticSink()
    check_engine(EngineOptions(**kw), mongo_uri=mongo, disable_cache=disable_cache, local_path="pe", sink=sink)
    return [d.code for d in sink.items]


def test_flag_checks():
    pytest.importorskip("ray", reason="the ray extra is not installed")  # its address checks need it
    assert _codes() == []
    assert _codes(engine="rya") == ["HC0700"]
    assert _codes(engine="local", ray_address="x:1") == ["HC0707"]
    assert _codes(engine="slurm", slurm_cluster="local", slurm_args=("partition",)) == ["HC0704"]
    assert _codes(engine="slurm", slurm_cluster="local", slurm_args=("partitoin=gpu",)) == ["HC0705"]
    assert _codes(engine="slurm", slurm_cluster="local", slurm_args=("partition=gpu", "time=60")) == []
    assert _codes(engine="ray", ray_address="127.0.0.1:1") == ["HC0702"]
    assert _codes(engine="local", max_runs_per_provider=0) == ["HC0707"]


@pytest.mark.parametrize("field", ["retry_backoff", "ray_num_cpus", "ray_num_gpus"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_number_that_is_not_finite_is_refused(field, value):
    """nan passes every comparison, so a range check alone lets it through."""
    from helmc.compiler.diagnostics import DiagnosticSink

    sink = DiagnosticSink()
    engine = "ray" if field.startswith("ray") else "local"
    check_engine(EngineOptions(engine=engine, **{field: value}), mongo_uri="", disable_cache=False, local_path="pe",
                 sink=sink)
    flag = "--" + field.replace("_", "-")
    assert [d.message for d in sink.items if d.code == "HC0707"] == [f"{flag} must be a finite number"]


def test_sqlite_cache_shared_by_hosts(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    sbatch = tmp_path / "sbatch"
    sbatch.write_text("#!/bin/sh\nexit 1\n")
    sbatch.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    assert _codes(engine="slurm") == ["HC0706"]
    assert _codes(engine="slurm", disable_cache=True) == []
    assert _codes(engine="slurm", mongo="mongodb://db:27017/helm") == []
    assert _codes(engine="slurm", slurm_cluster="local") == []  # one host: SQLite's locks hold
    assert _codes(engine="ray") == []  # a Ray instance on this machine


def test_missing_extra_names_the_pip_command(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from helmc.cli import helm_run_main\n"
        "sys.exit(helm_run_main())"
    )
    r = subprocess.run([sys.executable, "-c", code, "-r", "simple1:model=simple/model1", "-m", "1",
                        "--engine", "ray"], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "HC0701" in r.stderr and "pip install 'helmc[ray]'" in r.stderr
    assert "Traceback" not in r.stderr and os.listdir(tmp_path) == []


def test_slurm_config_file(tmp_path):
    good = tmp_path / "runner.yaml"
    good.write_text("partition: gpu\ntime: 240\n")
    assert _codes(engine="slurm", slurm_cluster="local", slurm_config=str(good)) == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("- partition\n")
    assert _codes(engine="slurm", slurm_cluster="local", slurm_config=str(bad)) == ["HC0708"]
    assert _codes(engine="slurm", slurm_cluster="local", slurm_config=str(tmp_path / "none.yaml")) == ["HC0708"]
    typo = tmp_path / "typo.yaml"
    typo.write_text("partion: gpu\n")
    assert _codes(engine="slurm", slurm_cluster="local", slurm_config=str(typo)) == ["HC0705"]


# ------------------------------------------------------------------------------ ray and submitit


@pytest.fixture
def importable_doubles(monkeypatch):
    """Ray workers and submitit jobs are other Python processes: they import engine_doubles."""
    monkeypatch.setenv("PYTHONPATH", TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _distributed(engine, tmp_path) -> tuple[list, dict[str, Finished]]:
    tasks = [Task("a", b"ok"), Task("b", b"raise"), Task("c", b"flaky"), Task("d", b"slow"), Task("e", b"die"),
             Task("f", b"deterministic")]
    events: list = []
    engine.run(tasks, ScriptedExecutor(str(tmp_path)), events.append)
    return events, _finals(events)


def _check_distributed(tmp_path, events, fin):
    assert set(fin) == {"a", "b", "c", "d", "e", "f"}
    assert not fin["f"].ok and fin["f"].attempt == 1 and attempts(str(tmp_path), "f") == 1  # not retried
    assert fin["a"].ok and fin["d"].ok
    assert fin["c"].ok and fin["c"].attempt == 2  # its process was SIGKILLed once
    assert not fin["b"].ok and "ValueError: boom in b" in fin["b"].error and fin["b"].attempt == 2
    assert not fin["e"].ok and fin["e"].attempt == 2
    assert attempts(str(tmp_path), "a") == 1


@pytest.mark.helm
@pytest.mark.parametrize("start", ["head node", "ray.init"])
def test_ray_engine_with_a_real_local_instance(tmp_path, importable_doubles, monkeypatch, start):
    """Both ways helm-run starts its own Ray: a head node without the monitors (Ray's private
    API), and ray.init where that API differs. Either way, everything it started is stopped."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")

    from helmc.runtime.engines import ray_engine
    from helmc.runtime.engines.ray_engine import RayEngine

    nodes: list = []
    started: dict = {}  # the head node's processes as it started them (stopping empties its table)
    real = ray_engine._start_head_node

    def start_head_node(num_cpus: int):
        nodes.append(real(num_cpus) if start == "head node" else None)
        if nodes[-1] is not None:
            started.update({kind: list(infos) for kind, infos in nodes[-1].all_processes.items()})
        return nodes[-1]

    monkeypatch.setattr(ray_engine, "_start_head_node", start_head_node)
    try:
        events, fin = _distributed(RayEngine(2, retries=1, backoff=0.0, tick_interval=0.05), tmp_path)
        _check_distributed(tmp_path, events, fin)
        assert "Ray task failed" in fin["e"].error
        assert not ray.is_initialized()  # helm-run started it, helm-run stopped it
        assert len(nodes) == 1
        if start == "head node":
            assert nodes[0] is not None
            assert not {"monitor", "log_monitor", "dashboard"} & set(started)
            assert "raylet" in started and "gcs_server" in started
            alive = [kind for kind, infos in started.items() for i in infos if i.process.poll() is None]
            assert alive == []
    finally:
        if ray.is_initialized():
            ray.shutdown()


@pytest.mark.helm
@pytest.mark.parametrize("start", ["head node", "ray.init"])
def test_ray_runs_at_helm_runs_priority(tmp_path, importable_doubles, monkeypatch, start):
    """Runs (forked from a host, a Ray worker) run at helm-run's own priority, not at the nice 15
    Ray gives its workers, at which anything else on the machine takes their CPU first."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")

    from helmc.runtime.engines import ray_engine
    from helmc.runtime.engines.ray_engine import RayEngine

    if start == "ray.init":
        monkeypatch.setattr(ray_engine, "_start_head_node", lambda num_cpus: None)
    try:
        events: list = []
        RayEngine(1, tick_interval=0.05).run([Task("n", b"niceness")], ScriptedExecutor(str(tmp_path)), events.append)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert _finals(events)["n"].ok, events
    assert int((tmp_path / "n.niceness").read_text()) == os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.helm
def test_ray_a_host_that_dies_is_replaced_and_its_runs_retried(tmp_path, importable_doubles):
    """Runs fork from a Ray host (one actor for both slots here): SIGKILL the host in the middle
    of two runs, both attempts fail as Ray task failures, and both runs complete on a new host."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")

    from helmc.runtime.engines.ray_engine import RayEngine

    try:
        events: list = []
        tasks = [Task("x", b"kills-host"), Task("y", b"slow"), Task("z", b"ok")]
        RayEngine(2, retries=1, backoff=0.0, tick_interval=0.05).run(tasks, ScriptedExecutor(str(tmp_path)),
                                                                     events.append)
        fin = _finals(events)
        assert all(fin[n].ok for n in "xyz"), fin
        assert fin["x"].attempt == 2
        first = next(e for e in events if isinstance(e, Finished) and e.name == "x" and e.attempt == 1)
        assert not first.ok and first.error.startswith("Ray task failed:")
        assert not ray.is_initialized()
    finally:
        if ray.is_initialized():
            ray.shutdown()


def test_ray_head_node_start_waits_for_its_registration_by_polling():
    """helm-run's head node asks the GCS for its node every 20 ms instead of Ray's 1 s retry."""
    from helmc.runtime.engines.ray_engine import _wait_for_registration

    class Key:
        def __init__(self, h: str) -> None:
            self.h = h

        def hex(self) -> str:
            return self.h

    class Client:
        def __init__(self, answers: list) -> None:
            self.answers, self.calls = answers, 0

        def get_all_node_info(self, timeout: float) -> dict:
            self.calls += 1
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    class FakeNode:
        node_id = "abc"

        def __init__(self, client: Client) -> None:
            self.client = client

        def get_gcs_client(self) -> Client:
            return self.client

    registered = Client([{}, {Key("other"): None}, {Key("other"): None, Key("abc"): None}, {}])
    _wait_for_registration(FakeNode(registered))
    assert registered.calls == 3  # it stopped at the first answer that holds this node

    failing = Client([{}, RuntimeError("GCS gone")])
    _wait_for_registration(FakeNode(failing))  # no error: Node's own wait decides then
    assert failing.calls == 2

    never = Client([{}] * 1000)
    _wait_for_registration(FakeNode(never), timeout=0.05)
    assert 1 <= never.calls < 1000


def test_ray_hosts_fill_each_node_as_far_as_its_cpus_hold():
    from helmc.runtime.engines.ray_engine import host_sizes

    nodes = [{"Alive": True, "NodeID": "a", "Resources": {"CPU": 2.0}},
             {"Alive": False, "NodeID": "dead", "Resources": {"CPU": 64.0}},
             {"Alive": True, "NodeID": "b", "Resources": {"CPU": 8.0}}]
    assert host_sizes(4, 1.0, 0.0, nodes) == [(4, "b")]
    assert host_sizes(9, 1.0, 0.0, nodes) == [(8, "b"), (1, "a")]
    assert host_sizes(12, 1.0, 0.0, nodes) == [(8, "b"), (2, "a"), (1, None), (1, None)]  # they wait
    assert host_sizes(3, 3.0, 0.0, nodes) == [(2, "b"), (1, None)]  # 8 CPUs hold two 3-CPU runs
    assert host_sizes(2, 0.5, 0.0, nodes) == [(2, "b")]
    assert host_sizes(2, 1.0, 1.0, nodes) == [(1, None), (1, None)]  # a GPU run sees its own GPUs


# ------------------------------------------------------------------------------ ray hosts: made early, warmed in two stages


def _wait_for(predicate, what: str, timeout: float = 120.0) -> None:
    """Poll until `predicate()` holds; fail naming `what` after `timeout` (a hang, not a speed)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def _records(tmp_path) -> dict[str, dict]:
    import json

    return {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}


@pytest.mark.helm
@pytest.mark.parametrize("tasks", [1, 2])
def test_ray_hosts_are_made_before_the_executor_and_run_its_attempts(tmp_path, importable_doubles, tasks):
    """start_early makes the host (it runs `preload`) before helm-run has any executor; the runs
    then fork from that very host, also when there are fewer runs than --parallel-runs. Runs
    forked once its warm-up is over inherit what it imported, and the signal handler that an
    import set in its warm-up thread (HELM's code metrics set SIGALRM's); at most one forked
    before, once the first stage was over."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    import functools

    import ray

    from engine_doubles import WarmingExecutor, mark_process
    from helmc.runtime.engines.ray_engine import EARLY_FORKS, RayEngine

    engine = RayEngine(2, tick_interval=0.05)
    try:
        engine.start_early(preload=functools.partial(mark_process, str(tmp_path), "preload"))
        _wait_for(lambda: list(tmp_path.glob("preload.*")), "the host's preload")
        hosts = {int(p.suffix[1:]) for p in tmp_path.glob("preload.*")}
        events: list = []
        names = [f"r{i}" for i in range(tasks)]
        engine.run([Task(n, b"") for n in names], WarmingExecutor(str(tmp_path), rest="import:signal_setter"),
                   events.append)
    finally:
        engine.release()
        if ray.is_initialized():
            ray.shutdown()
    fin = _finals(events)
    assert all(fin[n].ok for n in names), fin
    assert len(hosts) == 1 and {int(p.suffix[1:]) for p in tmp_path.glob("preload.*")} == hosts  # none made again
    records = _records(tmp_path)
    assert {r["parent"] for r in records.values()} == hosts
    early = [r for r in records.values() if r["warmed"] == ["first"]]
    warm = [r for r in records.values() if r["warmed"] == ["first", "rest"]]
    assert len(early) + len(warm) == tasks and len(early) <= EARLY_FORKS
    assert all(r["imported"] and r["alarm"] == "on_alarm" for r in warm), warm
    assert all(not r["imported"] for r in early), early


@pytest.mark.helm
def test_ray_a_failed_warm_up_is_said_by_each_run(tmp_path, importable_doubles):
    """A host whose warm-up raises lives on and runs the attempts; each run says, in one line,
    what the executor met (HELM's: the configuration's error again, in the run's log)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")

    from engine_doubles import WarmingExecutor
    from helmc.runtime.engines.ray_engine import RayEngine

    try:
        events: list = []
        RayEngine(2, tick_interval=0.05).run([Task("a", b""), Task("b", b"")],
                                             WarmingExecutor(str(tmp_path), first="raise"), events.append)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    fin = _finals(events)
    assert set(fin) == {"a", "b"}
    for e in fin.values():
        assert not e.ok and e.error == "RuntimeError: HELM is not configured in this worker (its warm-up failed)"


def _host_in_process(tmp_path, executor):
    """A Ray host's logic without Ray: the actor class is a plain class; its forks fork this
    process (the children write a file and _exit)."""
    from helmc.runtime.engines.ray_engine import _Host
    from helmc.runtime.engines.remote import RemoteExecutor

    host = _Host(str(tmp_path), None)
    host.configure(RemoteExecutor(executor, os.getcwd()))
    return host


@pytest.fixture
def unfreeze_after(monkeypatch):
    """run_forked freezes this process's objects before each fork (gc.freeze): undone after.
    And tests/signal_setter.py is imported afresh (its handler is set as it is imported)."""
    import gc

    monkeypatch.delitem(sys.modules, "signal_setter", raising=False)
    yield
    gc.unfreeze()


@pytest.mark.parametrize("waiting", [1, 3, 5])
def test_a_host_lets_its_early_attempts_fork_before_its_warm_up_ends(tmp_path, unfreeze_after, waiting):
    """Attempts waiting when the first stage ends: EARLY_FORKS of them fork then (they send
    while the host imports the rest), the others only once the whole warm-up is over, and
    those get what it imported and the signal handlers its imports set."""
    import threading

    from engine_doubles import WarmingExecutor
    from helmc.runtime.engines.ray_engine import EARLY_FORKS

    gates = tmp_path / "gates"
    gates.mkdir()
    (tmp_path / "out").mkdir()
    executor = WarmingExecutor(str(tmp_path / "out"), first=f"wait:{gates / 'first'}",
                               rest=f"import:signal_setter,wait:{gates / 'rest'}")
    host = _host_in_process(tmp_path, executor)
    results: dict = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, host.run(Task(n, b""))))
               for n in map(str, range(waiting))]
    for t in threads:
        t.start()
    _wait_for(lambda: host._asking == waiting, "every attempt to ask for its turn")
    assert not list((tmp_path / "out").iterdir())  # nothing forks before the first stage is over
    (gates / "first").touch()
    _wait_for(lambda: len(results) >= min(waiting, EARLY_FORKS), "the early attempts' end")
    early = set(results)
    assert len(early) == min(waiting, EARLY_FORKS)
    # only they ran, after the first stage; the others wait for the rest
    assert {n: r["warmed"] for n, r in _records(tmp_path / "out").items()} == {n: ["first"] for n in early}
    (gates / "rest").touch()
    for t in threads:
        t.join(timeout=120)
    assert all(ok for ok, _, _ in results.values()), results
    records = _records(tmp_path / "out")
    for n, r in records.items():
        if n not in early:
            assert r["warmed"] == ["first", "rest"] and r["imported"] and r["alarm"] == "on_alarm", r


@pytest.mark.parametrize("first,rest", [("raise", "ok"), ("raise", "raise"), ("ok", "raise")])
def test_a_host_whose_warm_up_raises_still_runs_each_attempt(tmp_path, unfreeze_after, first, rest):
    """Whichever stage raises, every attempt forks and ends; a run that needs what failed says
    so itself, in one line (no traceback, no dead host)."""
    import threading

    from engine_doubles import WarmingExecutor

    host = _host_in_process(tmp_path, WarmingExecutor(str(tmp_path), first=first, rest=rest))
    results: dict = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, host.run(Task(n, b""))))
               for n in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(results) == set("abc")
    for ok, duration, error in results.values():
        assert duration is not None  # the child ran and answered: the host did not die
        if first == "raise":
            assert not ok and error == "RuntimeError: HELM is not configured in this worker (its warm-up failed)"
        else:
            assert ok and error is None


@pytest.mark.parametrize("signum", ["SIGALRM", "SIGUSR1", "SIGUSR2", "SIGTERM"])
def test_a_handler_set_by_an_import_off_the_main_thread_reaches_the_children(signum, unfreeze_after, tmp_path):
    """Python refuses signal.signal outside the main thread; a host's warm-up thread records
    such a call instead (it answers the handler in place), the host's own handler stays, and a
    forked child sets it as it starts. Afterwards the real function is back."""
    import signal
    import threading

    from helmc.runtime.engines.ray_engine import _Host, _signals_recorded

    sig = getattr(signal, signum)
    before = signal.getsignal(sig)

    def handler(s, f):  # noqa: ANN001
        pass

    host = _Host(str(tmp_path), None)
    answers: list = []

    def in_thread() -> None:
        with _signals_recorded(host._signals):
            answers.append(signal.signal(sig, handler))

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert answers == [before] and signal.getsignal(sig) is before and host._signals == [(sig, handler)]
    pid = os.fork()
    if pid == 0:
        host._set_signals()
        os._exit(0 if signal.getsignal(sig) is handler else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    failed: list = []

    def after() -> None:
        try:
            signal.signal(sig, handler)
        except ValueError as e:
            failed.append(e)

    t = threading.Thread(target=after)
    t.start()
    t.join()
    assert len(failed) == 1 and signal.getsignal(sig) is before


# (slots, node): Ray's node ids are 56 hex digits; None is a host left to Ray's scheduler
_SIZES = st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["a" * 56, "b" * 56, None])), max_size=5)


@given(early=_SIZES, wanted=_SIZES, private=st.booleans())
@settings(max_examples=200, deadline=None)
def test_the_hosts_made_early_are_kept_where_they_fit_and_ended_elsewhere(early, wanted, private):
    """_open keeps a host start_early made for a wanted (slots, node) when it is on that node and
    of that size (on helm-run's own instance, at least that size: its CPUs are the suite's),
    ends every other one, and makes what is missing; the hosts end up as wanted."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from helmc.runtime.engines import ray_engine
    from helmc.runtime.engines.ray_engine import RayEngine

    made: list = []
    killed: list = []

    class Engine(RayEngine):
        def _new_host(self, options):
            made.append(object())
            return made[-1]

    engine = Engine(8)
    engine._started_ray = private
    for k, node in early:
        engine._add_host(k, node)
    before = list(zip(engine._hosts, engine._sizes))
    real_kill, ray_engine._kill = ray_engine._kill, killed.append
    try:
        engine._fit_hosts(wanted)
    finally:
        ray_engine._kill = real_kill
    assert engine._sizes == wanted and len(engine._hosts) == len(wanted) == len(engine._options)
    size_of = dict((id(h), s) for h, s in before)
    kept = [h for h in engine._hosts if id(h) in size_of]
    assert len({id(h) for h in kept}) == len(kept)  # none given twice
    for h, (k, node) in zip(engine._hosts, wanted):
        if id(h) in size_of:
            k0, n0 = size_of[id(h)]
            assert n0 == node and (k0 == k or (private and k0 > k))
    assert {id(h) for h in killed} == set(size_of) - {id(h) for h in kept}  # every other one ended
    assert len(made) == len(early) + len(wanted) - len(kept)


@pytest.mark.helm
def test_slurm_engine_with_submitit_local_executor(tmp_path, importable_doubles):
    pytest.importorskip("submitit", reason="the slurm extra (submitit) is not installed")
    from helmc.runtime.engines.slurm_engine import SlurmEngine

    markers = tmp_path / "m"
    markers.mkdir()
    engine = SlurmEngine(3, folder=str(tmp_path / "jobs"), cluster="local", params={"time": 10},
                         retries=1, backoff=0.0, tick_interval=0.05)
    events, fin = _distributed(engine, markers)
    _check_distributed(markers, events, fin)
    assert "ended without a result" in fin["e"].error
