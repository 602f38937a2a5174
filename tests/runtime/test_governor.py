"""The request governor (runtime/governor.py): limits parsed, pace shared by processes, 429s
slowing a scope for everyone, and helm-run with HELM's OpenAIClient against the local rig."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helmc.runtime.governor import (
    KINDS,
    Governor,
    Limit,
    RequestLimits,
    classify,
    estimate_tokens,
    parse_limit,
    retry_after,
    scope_views,
)

from conftest import HELM_INSTALLED
from openai_rig import RigServer, entries, write_prod_env

SCOPE = st.from_regex(r"[a-z][a-z0-9_.-]{0,12}(/[a-z0-9][a-z0-9_.-]{0,12})?", fullmatch=True)


@given(kind=st.sampled_from(KINDS), scope=SCOPE, n=st.integers(1, 10**6))
def test_well_formed_limits_parse(kind: str, scope: str, n: int) -> None:
    assert parse_limit(kind, f"{scope}={n}") == Limit(kind, scope, float(n))


@given(kind=st.sampled_from(KINDS), text=st.text(max_size=20))
def test_anything_else_is_refused_with_a_reason(kind: str, text: str) -> None:
    parsed = parse_limit(kind, text)
    if isinstance(parsed, Limit):  # then it was SCOPE=N with N > 0
        scope, _, n = text.strip().partition("=")
        assert parsed.scope == scope and parsed.value == float(n) > 0
    else:
        assert parsed and "\n" not in parsed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", ["openai", "openai=", "=5", "openai=0", "openai=-1", "openai=x", "a b=1", "openai:5"])
def test_malformed_limits(kind: str, text: str) -> None:
    assert isinstance(parse_limit(kind, text), str)


def test_the_tightest_limit_of_deployment_and_organization_applies() -> None:
    limits = RequestLimits((Limit("requests-per-minute", "openai", 600), Limit("requests-per-minute", "openai/gpt-4o", 60),
                            Limit("max-concurrent-requests", "together", 2)), folder="x")
    assert limits.for_deployment("openai/gpt-4o") == {"requests-per-minute": 60}
    assert limits.for_deployment("openai/gpt-4o-mini") == {"requests-per-minute": 600}
    assert limits.for_deployment("together/llama") == {"max-concurrent-requests": 2}
    assert limits.for_deployment("anthropic/claude") == {}
    assert limits.scopes("openai/gpt-4o") == ["openai/gpt-4o", "openai"]
    assert limits.scopes("anthropic/claude") == ["anthropic/claude"]


def _reserve_in_processes(folder: str, limits: RequestLimits, processes: int, threads: int, each: int) -> list[float]:
    """Start times that `processes` x `threads` reservers got, sharing one folder."""
    code = f"""
import sys, threading, time
from helmc.runtime.governor import Governor, Limit, RequestLimits
limits = RequestLimits({limits.limits!r}, folder={folder!r})
g = Governor(limits)
out = []
def go():
    for _ in range({each}):
        now = time.time()
        out.append(now + g.reserve("rigapi/rig-model", 100))
ts = [threading.Thread(target=go) for _ in range({threads})]
[t.start() for t in ts]; [t.join() for t in ts]
print(" ".join(map(repr, out)))
"""
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    starts: list[float] = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        starts += [float(x) for x in out.split()]
    return sorted(starts)


@pytest.mark.parametrize("scope", ["rigapi", "rigapi/rig-model"])
def test_processes_share_one_pace(tmp_path, scope: str) -> None:
    from helmc.runtime.governor import MARGIN

    limits = RequestLimits((Limit("requests-per-minute", scope, 1200),), folder=str(tmp_path))
    starts = _reserve_in_processes(str(tmp_path), limits, processes=3, threads=3, each=6)
    assert len(starts) == 54
    # 54 starts at 20 a second (less the margin): the first and the last 53 paces apart
    assert starts[-1] - starts[0] >= 53 * 0.05 * MARGIN - 0.05


def test_tokens_per_minute_paces_by_tokens(tmp_path) -> None:
    g = Governor(RequestLimits((Limit("tokens-per-minute", "rigapi", 6000),), folder=str(tmp_path)))
    request = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 900}
    tokens = estimate_tokens(request)
    assert 1000 <= tokens <= 1050
    waits = [g.reserve("rigapi/rig-model", tokens) for _ in range(8)]
    # one minute of tokens (6000) goes at once; beyond it, one request a 10 s
    assert waits[:5] == [0.0] * 5
    assert waits[-1] > 10


def test_a_429_pauses_the_scope_for_every_process_and_cuts_its_rate(tmp_path) -> None:
    limits = RequestLimits((), folder=str(tmp_path))
    a, b = Governor(limits), Governor(limits)
    assert a.reserve("rigapi/rig-model", 1) == 0.0
    a.throttled("rigapi/rig-model", 1.5)
    wait = b.reserve("rigapi/rig-model", 1)  # another worker: waits out the provider's Retry-After
    assert 1.3 <= wait <= 1.5
    later = b.reserve("rigapi/rig-model", 1)
    assert later > wait  # and is paced from then on
    for _ in range(50):
        b.succeeded("rigapi/rig-model")
    assert b.reserve("anthropic/claude", 1) == 0.0  # other scopes untouched


@pytest.mark.parametrize("headers,seconds", [
    ({"retry-after-ms": "250"}, 0.25), ({"retry-after": "3"}, 3.0), ({"retry-after": "0.5"}, 0.5),
    ({"retry-after-ms": "1200", "retry-after": "2"}, 1.2), ({}, None), ({"retry-after": "soon"}, None),
])
def test_retry_after(headers: dict, seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_retry_after_as_a_date() -> None:
    from email.utils import formatdate

    got = retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert got is not None and 25 <= got <= 31


def test_classify_statuses() -> None:
    class Response:
        status_code = 429
        headers = {"retry-after": "2"}

    class RateLimited(Exception):
        response = Response()

    class ConnectTimeout(Exception):
        pass

    class Plain(Exception):
        status_code = 400

    assert classify(RateLimited()) == (429, 2.0)
    assert classify(ConnectTimeout()) == (0, None)
    assert classify(Plain()) == (400, None)
    assert classify(ValueError()) == (None, None)


# ------------------------------------------------------------------------------ helm-run

OURS = [sys.executable, "-c", "from helmc.cli import helm_run_entry; helm_run_entry()"]


@pytest.mark.parametrize("flag", [f"--{k}" for k in KINDS])
@pytest.mark.parametrize("value", ["openai", "openai=0", "openai:3"])
def test_helm_run_refuses_a_malformed_limit_with_exit_2(tmp_path, flag: str, value: str) -> None:
    r = subprocess.run(OURS + ["-r", "simple1:model=simple/model1", "-m", "1", "--dry-run", "-o", "out", flag, value],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "HC0709" in r.stderr and "Traceback" not in r.stderr
    assert not os.path.exists(tmp_path / "out" / "runs")


def _helm_run(tmp_path, rig: RigServer, runs: int, *more: str) -> subprocess.CompletedProcess:
    write_prod_env(str(tmp_path / "pe"), rig.base_url)
    return subprocess.run(OURS + ["-r", *entries(runs), "-m", "5", "--local-path", "pe", "-o", "out", *more],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_with_a_limit_workers_keep_to_it(tmp_path) -> None:
    pytest.importorskip("openai")
    with RigServer(rate=5) as rig:  # a bucket of one second's worth, as providers meter
        r = _helm_run(tmp_path, rig, 3, "--parallel-runs", "3", "--requests-per-minute", "rigapi=300")
    assert r.returncode == 0, r.stdout + r.stderr
    c = rig.counts
    assert c.answered == c.requests - c.throttled > 0
    assert c.throttled <= 0.02 * c.requests
    arrivals = sorted(t for t, _ in c.log)
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 1) / 5 * 0.9  # never faster than the limit
    # a rerun sends nothing: every request is a hit of HELM's cache, shared by the workers
    with RigServer(rate=5) as again:
        r = _helm_run(tmp_path, again, 3, "--parallel-runs", "3", "--fresh")
    assert r.returncode == 0, r.stdout + r.stderr
    assert again.counts.requests == 0


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_without_a_limit_429s_slow_the_suite_and_every_request_is_answered(tmp_path) -> None:
    pytest.importorskip("openai")
    with RigServer(rate=4, burst=2, error_every=25) as rig:
        r = _helm_run(tmp_path, rig, 3, "--parallel-runs", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    c = rig.counts
    assert c.throttled > 0 and c.errors > 0  # the rig pushed back, and failed now and then
    assert "HC0505" not in r.stderr  # every request answered in the end
    from helmc.runtime.governor import read_run_report

    folder = str(tmp_path / "out" / "helmc" / "default")
    reports = [read_run_report(folder, name) for name in _run_names(tmp_path)]
    assert all(rep is not None for rep in reports)
    assert sum(rep.counts.get("sent", 0) for rep in reports) == c.requests
    assert sum(rep.counts.get("throttled", 0) for rep in reports) == c.throttled


def _run_names(tmp_path) -> list[str]:
    names = sorted(n for n in os.listdir(tmp_path / "out" / "runs" / "default") if n.startswith("simple1:"))
    assert len(names) == 3
    return names


def test_progress_shows_each_provider(tmp_path) -> None:
    from rich.console import Console

    from helmc.runtime.governor import scope_views
    from helmc.runtime.progress import ProgressDisplay

    limits = RequestLimits((), folder=str(tmp_path))
    g = Governor(limits)
    for _ in range(3):
        g.reserve("rigapi/rig-model", 1)
    g.throttled("rigapi/rig-model", 2.0)
    console = Console(record=True, width=200)
    display = ProgressDisplay(console, 1, 0, 1, providers=lambda: scope_views(str(tmp_path)))
    console.print(display._render())
    text = console.export_text()
    assert "provider rigapi/rig-model" in text
    assert "3 sent" in text and "1 answered 429" in text and "backing off" in text and "paced at" in text


def test_status_keeps_each_runs_request_counts(tmp_path) -> None:
    from helmc.runtime.journal import journal_dir
    from helmc.runtime.status import RunStatus, _with_requests

    g = Governor(RequestLimits((), folder=journal_dir(str(tmp_path), "s")))
    g.begin_run("run-a")
    g.count("sent", 5)
    g.count("throttled", 2)
    g.end_run()
    got = _with_requests(RunStatus("run-a", "done"), str(tmp_path), "s")
    assert got.requests == {"sent": 5, "throttled": 2}
    assert _with_requests(RunStatus("run-b", "done"), str(tmp_path), "s").requests is None


@pytest.mark.parametrize("kind", KINDS)
def test_tool_helmc_gives_the_limits_and_a_flag_wins(tmp_path, kind: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool.helmc]\n{kind} = ["openai:3"]\n')
    base = OURS + ["-r", "simple1:model=simple/model1", "-m", "1", "--dry-run", "-o", "out"]
    r = subprocess.run(base, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "HC0709" in r.stderr and "openai:3" in r.stderr
    r = subprocess.run(base + [f"--{kind}", "simple=3"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "HC0709" not in r.stderr


PASSWORD = st.text(st.characters(blacklist_characters="@/", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(user=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), password=PASSWORD,
       scheme=st.sampled_from(["mongodb://", "mongodb+srv://"]))
def test_a_mongo_password_is_never_in_the_rerun_command(user: str, password: str, scheme: str) -> None:
    import argparse

    from helmc.commands.run import add_arguments
    from helmc.app.run import invocation_words
    from helmc.runtime.rerun import hide_password, rerun_command

    assume("****" not in password)
    uri = f"{scheme}{user}:{password}@db.example.org:27017/helm?authSource=admin"
    assert hide_password(uri) == f"{scheme}{user}:****@db.example.org:27017/helm?authSource=admin"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["-r", "simple1:model=simple/model1", "-m", "1", "--mongo-uri", uri])
    line = rerun_command(invocation_words(args), ["r1"])
    assert f":{password}@" not in line and ":****@db.example.org" in line
    assert hide_password("mongodb://db.example.org/helm") == "mongodb://db.example.org/helm"  # no password: as is


@pytest.mark.parametrize("status,retried", [(429, True), (500, True), (503, True), (400, False), (401, False),
                                            (404, False)])
def test_send_retries_what_a_retry_can_fix_only(tmp_path, monkeypatch, status: int, retried: bool) -> None:
    import helmc.runtime.governor as gov

    slept: list[float] = []
    monkeypatch.setattr(gov.time, "sleep", slept.append)

    class Response:
        status_code = status
        headers = {"retry-after-ms": "1500"} if status == 429 else {}

    class ProviderError(Exception):
        response = Response()

    calls = []

    def compute() -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise ProviderError("no")
        return {"ok": True}

    g = Governor(RequestLimits((), folder=str(tmp_path)))
    g.begin_run("r")
    if retried:
        assert g.send("rigapi/rig-model", {"prompt": "x"}, compute) == {"ok": True}
        assert len(calls) == 2 and g.failures == []
        assert slept and (status != 429 or 1.3 <= max(slept) <= 1.5)  # the provider's Retry-After
    else:
        with pytest.raises(ProviderError):
            g.send("rigapi/rig-model", {"prompt": "x"}, compute)
        assert len(calls) == 1
        assert g.failures[0]["status"] == status and "ProviderError: no" in g.failures[0]["message"]


# ------------------------------------------------------------------------------ files and the Ray actor

EVENTS = st.lists(st.tuples(st.sampled_from(["reserve", "succeeded", "throttled"]),
                            st.sampled_from(["rigapi/a", "rigapi/b", "other/c"]),
                            st.floats(0.0, 3.0), st.floats(0.0, 2.0)), max_size=40)


@settings(deadline=None, max_examples=60)
@given(events=EVENTS, rpm=st.sampled_from([None, 120.0, 600.0]))
def test_files_and_the_actor_drive_one_state_machine(tmp_path_factory, events, rpm) -> None:
    """The same events on a clock under the test's control: the files (flock'd JSON) and the Ray
    actor's state (ScopeStates, called in process here) answer every reserve with the same wait
    and end with the same state for every scope."""
    import helmc.runtime.governor as gov

    limits = RequestLimits((Limit("requests-per-minute", "rigapi", rpm),) if rpm else (),
                           folder=str(tmp_path_factory.mktemp("files")))
    clock = [1_000_000.0]
    real = gov.time.time
    gov.time.time = lambda: clock[0]
    try:
        files = Governor(limits)
        actor = gov.ScopeStates()
        on_actor = Governor(limits)
        on_actor._store, on_actor._store_pid = actor, os.getpid()  # the actor's methods, without Ray
        for what, deployment, advance, retry in events:
            clock[0] += advance
            if what == "reserve":
                assert files.reserve(deployment, 10) == on_actor.reserve(deployment, 10)
            elif what == "succeeded":
                files.succeeded(deployment)
                on_actor.succeeded(deployment)
            else:
                files.throttled(deployment, retry or None)
                on_actor.throttled(deployment, retry or None)
        files.flush()
        on_actor.flush()
        assert sorted(files.store.views(), key=lambda v: v.scope) == sorted(actor.views(), key=lambda v: v.scope)
        for scope, state in actor.states.items():
            with gov._locked(files.store._path(scope)) as on_file:
                assert on_file == state
    finally:
        gov.time.time = real


@pytest.mark.helm
@pytest.mark.slow
def test_on_ray_forked_runs_share_one_pace_through_the_suites_actor(tmp_path, monkeypatch) -> None:
    """A real local Ray instance and the Ray engine: runs forked from the hosts reserve through
    the host's relay to one named actor per suite. Their starts, all together, keep to the
    limit; no scope file is written (the state is the actor's); helm-run's views come from it."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    import ray

    from engine_doubles import PacedExecutor
    from helmc.runtime.engine import Task
    from helmc.runtime.engines.ray_engine import RayEngine
    from helmc.runtime.governor import MARGIN, scope_views

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    folder = str(tmp_path / "suite")
    limits = RequestLimits((Limit("requests-per-minute", "rigapi", 600),), folder=folder, shared_by="ray")
    marks = tmp_path / "marks"
    marks.mkdir()
    views: list = []
    engine = RayEngine(3, retries=0, tick_interval=0.05)
    events: list = []
    try:
        engine.run([Task(f"t{i}", b"10") for i in range(6)], PacedExecutor(str(marks), limits), events.append,
                   on_tick=lambda: views.extend(scope_views(folder, "ray")))
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert all(e.ok for e in events if hasattr(e, "ok")), events
    starts = sorted(float(x) for f in marks.iterdir() for x in f.read_text().split())
    assert len(starts) == 60
    # 60 starts at 10 a second (less the margin), whichever process asked: 59 paces apart
    assert starts[-1] - starts[0] >= 59 * 0.1 * MARGIN - 0.05
    assert not [n for n in os.listdir(os.path.join(folder, "governor")) if n.endswith(".json")]
    assert any(v.scope == "rigapi" and v.sent > 0 for v in views)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 8])
def test_the_suites_actor_outlives_many_threads_and_slow_views(threads: int) -> None:
    """A host's relay applies steps for its runs from many threads at once, through one
    ActorStore, and asks for views that may time out under load: one actor serves them all
    to the end, its state kept (an actor made again starts from an empty state)."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    import threading

    import ray

    from helmc.runtime.governor import ActorStore

    def count(states):  # pickled by value (cloudpickle): the actor needs no test module
        state = states["s"]
        state["n"] = state.get("n", 0) + 1
        return state["n"]

    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        store = ActorStore(f"governor-test-{threads}")
        per_thread = 20

        def work() -> None:
            for i in range(per_thread):
                store.apply(["s"], count)
                if i % 5 == 0:
                    store.views()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        assert store.apply(["s"], count) == threads * per_thread + 1
    finally:
        ray.shutdown()


@pytest.mark.parametrize("limited", [False, True])
def test_an_unpaced_scope_takes_no_shared_step_per_request(tmp_path, limited: bool) -> None:
    """Without a limit and before any 429, requests and answers are merged every FLUSH seconds
    instead of one locked step each; a 429 seen by another worker reaches this one within PEEK
    seconds, and every start is counted. With a limit, every request takes its step; answers
    take one only once the scope has an adaptive pace."""
    from helmc.runtime.governor import PEEK

    limits = RequestLimits((Limit("requests-per-minute", "rigapi", 6000),) if limited else (), folder=str(tmp_path))
    g = Governor(limits)
    steps = []
    apply = g.store.apply
    g.store.apply = lambda scopes, step: (steps.append(step), apply(scopes, step))[1]  # type: ignore[method-assign]
    t0 = time.time()
    for _ in range(200):
        g.reserve("rigapi/rig-model", 1)
        g.succeeded("rigapi/rig-model")
    took = time.time() - t0
    if limited:  # each request its step; the answers, which move no adaptive pace, merged
        assert 200 <= len(steps) <= 200 + took / 0.25 + 2
        return
    assert len(steps) <= 2 * (took / PEEK + took / 0.25) + 4
    Governor(limits).throttled("rigapi/rig-model", 2.0)  # another worker's 429
    time.sleep(PEEK + 0.02)
    assert 1.5 <= g.reserve("rigapi/rig-model", 1) <= 2.0
    from helmc.runtime.governor import success_step

    g.succeeded("rigapi/rig-model")  # an adaptive pace now: the answer is its step at once
    assert getattr(steps[-1], "func", None) is success_step
    g.flush()
    (view,) = scope_views(str(tmp_path))
    assert view.sent == 201 and view.throttled == 1


@pytest.mark.helm
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray", "slurm"])
@pytest.mark.parametrize("limit", [2, None])
def test_concurrency_never_exceeds_the_limit_across_hosts(tmp_path, monkeypatch, engine, limit) -> None:
    """--max-concurrent-requests counted at the API (requests in flight at the rig, 0.2 s each):
    4 runs of 4 threads on 4 hosts (Ray: one host per run, each with its relay, sharing the
    suite's actor; local: 4 forked workers, Slurm-local: 4 jobs, sharing the lock files) never
    have more than N out at once, and reach N. A run killed while it holds its slot frees it (its host's relay sees
    it gone; on files, its process's locks go with it): the runs after it are not held up.
    Without the limit, more than N are out at once (the check can fail)."""
    if engine in ("ray", "slurm"):
        pytest.importorskip(engine if engine == "ray" else "submitit", reason=f"the {engine} extra is not installed")
    from engine_doubles import ConcurrentExecutor
    from helmc.runtime.engine import Finished, LocalEngine, Task

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    limits = RequestLimits((Limit("max-concurrent-requests", "rigapi", limit),) if limit else (),
                           folder=str(tmp_path / "suite"), shared_by="ray" if engine == "ray" else "files")
    tasks = [Task("dies", b"die")] + [Task(f"t{i}", b"12") for i in range(4)]
    events: list = []
    with RigServer(rate=None, latency=0.2) as rig:
        executor = ConcurrentExecutor(rig.base_url, limits)
        t0 = time.monotonic()
        if engine == "ray":
            import ray

            from helmc.runtime.engines import ray_engine
            from helmc.runtime.engines.ray_engine import RayEngine

            monkeypatch.setattr(ray_engine, "host_sizes", lambda slots, *_: [(1, None)] * slots)  # a host per run
            try:
                RayEngine(4, retries=0, tick_interval=0.05).run(tasks, executor, events.append)
            finally:
                if ray.is_initialized():
                    ray.shutdown()
        elif engine == "slurm":
            from helmc.runtime.engines.slurm_engine import SlurmEngine

            SlurmEngine(4, folder=str(tmp_path / "jobs"), cluster="local", tick_interval=0.05).run(
                tasks, executor, events.append)
        else:
            LocalEngine(4, retries=0, tick_interval=0.05).run(tasks, executor, events.append)
        took = time.monotonic() - t0
    ends = {e.name: e for e in events if isinstance(e, Finished)}
    assert not ends["dies"].ok and all(ends[f"t{i}"].ok for i in range(4)), ends
    c = rig.counts
    assert c.answered == 48 and c.in_flight == 0
    if limit:
        assert c.max_in_flight == limit, c.max_in_flight
        assert took < 45, f"{took:.1f} s: a slot of the killed run was held"  # a lease is 60 s
        # one source of truth: on Ray the actor holds the slots, no lock file is made
        slot_files = [n for n in os.listdir(tmp_path / "suite" / "governor") if ".slot" in n]
        assert bool(slot_files) == (engine != "ray"), slot_files
    else:
        assert c.max_in_flight > 2


@given(holders=st.lists(st.sampled_from("abcdef"), max_size=30), n_dep=st.integers(1, 3), n_org=st.integers(1, 3),
       steps=st.lists(st.tuples(st.booleans(), st.floats(0, 40)), max_size=30))
def test_actor_slots_are_taken_all_or_none_and_a_lease_runs_out(holders, n_dep, n_org, steps) -> None:
    """The actor's concurrency slots (take_slots_step, release_slots_step): never more holders
    than N in any scope, a take is all scopes or none, and a holder whose host stopped renewing
    is dropped after SLOT_LEASE_S."""
    import helmc.runtime.governor as gov

    clock = [1000.0]
    real = gov.time.time
    gov.time.time = lambda: clock[0]
    try:
        states: dict = {"rigapi/m": {}, "rigapi": {}}
        limits = {"rigapi/m": n_dep, "rigapi": n_org}
        taken: dict[str, float] = {}
        for h, (release, advance) in zip(holders, steps):
            clock[0] += advance
            for old in [k for k, at in taken.items() if at + gov.SLOT_LEASE_S < clock[0]]:
                del taken[old]  # a lease that ran out
            if h in taken:
                if release:
                    gov.release_slots_step([h], states)
                    del taken[h]
                continue
            got = gov.take_slots_step(limits, h, states)
            assert got == (len(taken) < min(n_dep, n_org))
            if got:
                taken[h] = clock[0]
            held = [set(s.get("slots", {})) for s in states.values()]
            assert held[0] == held[1] == set(taken)  # all or none
    finally:
        gov.time.time = real
