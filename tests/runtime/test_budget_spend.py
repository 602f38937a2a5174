"""The actual spend while a suite runs, without HELM: what a finished run's files say it sent
(budget.actual_of), the stop once the spend reaches a cap (budget.Spend with the engines'
may_start: no further run starts, those in flight finish), the journal's estimate, actual and
reason, and how `helmc status` shows them. With the real crfm-helm on every engine:
tests/runtime/test_budget_helm.py."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from helmc.cli import main
from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.run_folders import run_folder
from helmc.runtime.runspecs import BuiltRun
from helmc.runtime.budget import Budget, Spend, actual_of
from helmc.runtime.engine import Finished, InlineEngine, LocalEngine, Started
from helmc.runtime.journal import Journal, RunState, read_journal
from helmc.runtime.status import spend_lines, suite_status
from helmc.runtime.suite import run_suite
from helmc.runtime.task import Task

PRICE = (2.5, 10.0)  # USD per million input and output tokens

# one group of request states: (instance id, perturbation, trial) -> [(cached, answered)], tokens
group = st.tuples(
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=4),
    st.integers(0, 10_000), st.integers(0, 2_000),
)


def _write_run(path: str, groups: list) -> None:
    """A run folder as HELM writes it: scenario_state.json's request states and
    per_instance_stats.json's num_prompt_tokens / num_completion_tokens per instance and trial."""
    os.makedirs(path, exist_ok=True)
    states, per = [], []
    for i, (requests, prompt, completion) in enumerate(groups):
        inst = {"id": f"id{i // 2}", "split": "test", "input": {"text": "x"}, "references": []}
        if i % 3 == 2:
            inst["perturbation"] = {"name": "typos", "prob": 0.1}
        for cached, answered in requests:
            states.append({"instance": inst, "train_trial_index": i % 2, "request": {"prompt": "x"},
                           "result": {"success": True, "cached": cached, "completions": []} if answered else None})
        entry = {"instance_id": inst["id"], "train_trial_index": i % 2,
                 "stats": [{"name": {"name": "num_prompt_tokens", "split": "test"}, "count": len(requests),
                            "sum": prompt},
                           {"name": {"name": "num_completion_tokens", "split": "test"}, "count": len(requests),
                            "sum": completion},
                           {"name": {"name": "exact_match", "split": "test"}, "count": 1, "sum": 1}]}
        if "perturbation" in inst:
            entry["perturbation"] = inst["perturbation"]
        per.append(entry)
    with open(os.path.join(path, "scenario_state.json"), "w") as f:
        json.dump({"adapter_spec": {}, "request_states": states}, f)
    with open(os.path.join(path, "per_instance_stats.json"), "w") as f:
        json.dump(per, f)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(group, max_size=8), priced=st.booleans())
def test_the_actual_spend_counts_what_was_sent_and_not_what_the_cache_answered(tmp_path, groups, priced):
    path = str(tmp_path / "run")
    _write_run(path, groups)
    a = actual_of(path, PRICE if priced else None)
    sent = [[answered and not cached for cached, answered in requests] for requests, _, _ in groups]
    assert a.requests == sum(len(r) for r, _, _ in groups)
    assert a.cached_requests == sum(1 for r, _, _ in groups for cached, answered in r if cached and answered)
    assert a.prompt_tokens == sum(p for _, p, _ in groups) and a.completion_tokens == sum(c for _, _, c in groups)
    # paid: every instance that sent a request; an instance that mixed sent and cached requests
    # counts whole (never under the spend) and makes the figure inexact
    assert a.paid_prompt_tokens == sum(p for (_, p, _), s in zip(groups, sent) if any(s))
    assert a.paid_completion_tokens == sum(c for (_, _, c), s in zip(groups, sent) if any(s))
    assert a.exact == (not any(any(s) and not all(s) for s in sent))
    assert a.paid_prompt_tokens <= a.prompt_tokens and a.paid_completion_tokens <= a.completion_tokens
    if priced:
        want = (a.paid_prompt_tokens * PRICE[0] + a.paid_completion_tokens * PRICE[1]) / 1e6
        assert a.cost_usd == pytest.approx(want, abs=1e-6)
        assert (a.cost_usd == 0) == (a.paid_prompt_tokens == a.paid_completion_tokens == 0)
    else:
        assert a.cost_usd is None  # unpriced is never $0


# ---------------------------------------------------------------------------- a suite under a cap


class _Writer:
    """Stands for HELM's Runner: writes each run's folder as its spec says (requests sent)."""

    def __init__(self, settings: HelmSettings, spec: dict[str, list]) -> None:
        self.settings, self.spec = settings, spec

    def execute(self, task: Task) -> None:
        _write_run(run_folder(self.settings, task.name), self.spec[task.name])


def _one_sent(prompt: int) -> list:
    return [([(False, True)], prompt, 1)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompts=st.lists(st.integers(0, 400_000), min_size=1, max_size=6), cap_at=st.integers(0, 7),
       kind=st.sampled_from(["cost", "requests"]))
def test_no_run_starts_once_the_actual_spend_reaches_the_cap(tmp_path_factory, prompts, cap_at, kind):
    out = str(tmp_path_factory.mktemp("o"))
    s = HelmSettings(output_path=out, suite="s")
    names = [f"r{i}" for i in range(len(prompts))]
    runs = [BuiltRun(n, None, "m/x", "m/x", f"fp{n}", b"") for n in names]
    costs = [round((p * PRICE[0] + PRICE[1]) / 1e6, 6) for p in prompts]
    # a cap that the running sum reaches at run number cap_at (or never, past the end)
    if kind == "cost":
        cap = sum(costs[:cap_at + 1]) if cap_at < len(costs) else sum(costs) + 1
        budget, spent = Budget(max_cost=cap), costs
    else:
        cap = cap_at + 1
        budget, spent = Budget(max_requests=cap), [1] * len(prompts)
    estimates = {n: {"model": "m/x", "requests": 1, "cached_requests": 1, "prompt_tokens": p,
                     "max_completion_tokens": 10, "cost_usd": 0.0, "exact": True} for n, p in zip(names, prompts)}
    spend = Spend(budget, {n: PRICE for n in names}, estimates)
    writer = _Writer(s, {n: _one_sent(p) for n, p in zip(names, prompts)})
    result = run_suite(runs, s, InlineEngine(1), Console(file=open(os.devnull, "w")), workers=1,
                       executor=writer, spend=spend)
    total, ran = 0.0, 0
    for x in spent:  # sequential: each run starts while the spend is under the cap
        if total > 0 and total >= cap - 1e-12:
            break
        total, ran = total + x, ran + 1
    records = read_journal(out, "s").records
    done = [n for n in names if records[n].state is RunState.DONE]
    held = [n for n in names if records[n].state is RunState.PENDING]
    assert done == names[:ran] and held == names[ran:]
    assert all(records[n].reason.startswith("not started: the ") for n in held)
    assert (result.budget_stop is not None) == bool(held) and not result.interrupted
    assert all(records[n].estimate == estimates[n] for n in names)  # kept from pending to done
    for n, c in zip(names[:ran], costs):
        assert records[n].actual["cost_usd"] == pytest.approx(c, abs=1e-6) and records[n].actual["requests"] == 1


class _Sleeper:
    def execute(self, task: Task) -> None:
        time.sleep(0.3)


@pytest.mark.parametrize("engine", [lambda: InlineEngine(3), lambda: LocalEngine(3)], ids=["inline", "local"])
def test_runs_in_flight_finish_once_no_further_run_may_start(engine):
    events: list = []
    tasks = [Task(f"t{i}", b"") for i in range(7)]
    engine().run(tasks, _Sleeper(), events.append,
                 may_start=lambda: not any(isinstance(e, Finished) for e in events))
    started = [e.name for e in events if isinstance(e, Started)]
    finished = [e.name for e in events if isinstance(e, Finished)]
    assert started and sorted(started) == sorted(finished)  # every run started also finished
    assert len(started) < len(tasks)
    first_end = next(i for i, e in enumerate(events) if isinstance(e, Finished))
    assert not any(isinstance(e, Started) for e in events[first_end:])


# ---------------------------------------------------------------------------- journal and views


def test_a_journal_without_an_estimate_is_written_as_before(tmp_path):
    with Journal.open(str(tmp_path), "s") as j:
        j.set("a", "fp", RunState.PENDING)
        j.set("a", "fp", RunState.DONE, duration=1.0)
    text = (tmp_path / "helmc" / "s" / "journal.jsonl").read_text()
    assert all(k not in text for k in ('"estimate"', '"actual"', '"reason"'))
    doc = suite_status(str(tmp_path), "s").to_json()
    assert "spend" not in doc and all("estimate" not in r for r in doc["runs"])
    assert spend_lines(suite_status(str(tmp_path), "s")) == []


@pytest.mark.parametrize("bad", [[1], {"cost_usd": -1}, {"cost_usd": {"x": 1}}, "cheap",
                                 {"x": float("inf")}, {str(i): i for i in range(40)}])
@pytest.mark.parametrize("key", ["estimate", "actual"])
def test_figures_that_do_not_fit_are_ignored_with_a_warning(tmp_path, key, bad):
    with Journal.open(str(tmp_path), "s") as j:
        j.set("a", "fp", RunState.DONE)
    path = tmp_path / "helmc" / "s" / "journal.jsonl"
    rec = {"name": "a", "fingerprint": "fp", "state": "done", key: bad}
    with open(path, "a") as f:
        f.write(json.dumps({"run": rec}, allow_nan=True) + "\n")
    view = read_journal(str(tmp_path), "s")
    assert "a" not in view.records and view.warnings  # redone, and said


def _estimated_suite(out: str) -> None:
    est = {"model": "simple/model1", "requests": 30, "cached_requests": 30, "prompt_tokens": 6509,
           "max_completion_tokens": 9000, "cost_usd": 0.0, "exact": True}
    with Journal.open(out, "s") as j:
        j.begin(["slow", "a", "b"], ["helm-run", "--max-cost", "0.000001"])
        j.set("slow", "f0", RunState.PENDING, estimate={**est, "model": "helmcbench/slow-model1", "cached_requests": 0})
        j.set("a", "f1", RunState.PENDING, estimate=est)
        j.set("b", "f2", RunState.PENDING, estimate={**est, "requests": 3, "cached_requests": 3, "prompt_tokens": 1155,
                                                      "max_completion_tokens": 15})
        j.set("slow", "f0", RunState.RUNNING)
        j.set("slow", "f0", RunState.DONE, duration=3.0, actual={"requests": 30, "cached_requests": 0,
                                                                 "prompt_tokens": 6509, "completion_tokens": 90,
                                                                 "cost_usd": 0.0, "exact": True})
        j.set("a", "f1", RunState.RUNNING)
        j.set("a", "f1", RunState.DONE, duration=0.5, actual={"requests": 30, "cached_requests": 0,
                                                              "prompt_tokens": 6509, "completion_tokens": 90,
                                                              "cost_usd": 0.017173, "exact": True})
        j.set("b", "f2", RunState.PENDING,
              reason="not started: the actual spend $0.017173 reached --max-cost $0.000001")


def test_status_shows_estimate_against_actual_per_model_and_per_run(tmp_path, capsys, snapshot):
    out = str(tmp_path)
    _estimated_suite(out)
    status = suite_status(out, "s")
    assert "\n".join(spend_lines(status)) == snapshot
    assert main(["status", "--suite", "s", "-o", out]) == 0
    text = capsys.readouterr().out
    assert "pending:\n  b\n    not started: the actual spend $0.017173 reached --max-cost $0.000001\n" in text
    assert "\n".join(spend_lines(status)) in text
    assert main(["status", "--suite", "s", "-o", out, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    runs = {r["name"]: r for r in doc["runs"]}
    assert runs["b"]["reason"].startswith("not started") and runs["b"]["actual"] is None
    assert runs["a"]["estimate"]["cost_usd"] == 0.0 and runs["a"]["actual"]["cost_usd"] == 0.017173
    models = {m["model"]: m for m in doc["spend"]["models"]}
    assert models["simple/model1"] == {
        "model": "simple/model1", "runs": 2, "actual_runs": 1,
        "estimate": {"requests": 33, "cached_requests": 33, "prompt_tokens": 7664, "max_completion_tokens": 9015,
                     "cost_usd": 0.0},
        "actual": {"requests": 30, "cached_requests": 0, "prompt_tokens": 6509, "completion_tokens": 90,
                   "cost_usd": 0.017173}}
    assert doc["spend"]["total"]["actual"]["cost_usd"] == 0.017173
