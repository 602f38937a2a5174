"""helm-run's flow (runtime/helm_run.py) without its command line: each way it stops before a run
starts gives its Ending, message and diagnostics, and the exit code follows from the Ending.
Nothing here needs crfm-helm: every case stops before HELM is set up."""

from __future__ import annotations

import pytest

from helmc.compiler.catalog.catalog import UserAdditions
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.session import Options, RunSet
from helmc.runtime import helm_setup
from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.engines import EngineOptions
from helmc.runtime.helm_run import Ending, HelmRunRequest, HelmRunResult, helm_run

GOOD = "simple1:model=simple/model1"


def _run(tmp_path, *entries: str, settings: dict | None = None, engine: dict | None = None,
         selection: dict | None = None, allow_no_runs: bool = False):
    shown: list[list[str]] = []
    warned: list[str] = []
    request = HelmRunRequest(
        run_set=RunSet((), entries),
        options=Options(selection=PlanOptions(max_eval_instances=1, **(selection or {})),
                        catalog=UserAdditions(local_path=str(tmp_path / "pe")), allow_no_runs=allow_no_runs),
        settings=HelmSettings(output_path=str(tmp_path / "out"), **(settings or {})),
        engine=EngineOptions(**(engine or {})),
    )
    result = helm_run(request, None, show=lambda ds: shown.append([d.code for d in ds]),
                      warn=warned.append)
    assert not (tmp_path / "out").exists()  # stopped before anything is written
    return result, shown, warned


@pytest.mark.parametrize("settings, engine, words", [
    ({"cache_instances_only": True}, {}, "--cache-instances must also be set"),
    ({"suite": "../x"}, {}, "--suite"),
    ({}, {"parallel_runs": 0}, "--parallel-runs"),
])
def test_bad_usage_is_refused_before_compiling(tmp_path, settings, engine, words):
    result, shown, _ = _run(tmp_path, "nonsense:", settings=settings, engine=engine)
    assert result.ending is Ending.REFUSED and result.exit_code == 2 and words in result.message
    assert result.diagnostics == [] and shown == []  # the bad entry was never compiled


def test_engine_flags_are_diagnostics_of_the_one_report(tmp_path):
    result, shown, _ = _run(tmp_path, "nonsense:", engine={"retries": -1})
    assert result.ending is Ending.REFUSED and result.exit_code == 2
    assert [d.code for d in result.diagnostics] == ["HC0707"] and shown == [["HC0707"]]
    assert "engine flags are wrong" in result.message


def test_errors_in_the_inputs_stop_with_exit_1(tmp_path):
    result, _, _ = _run(tmp_path, GOOD, "simple1:model=simple/model1,no_such_arg=1")
    assert result.ending is Ending.INPUT_ERRORS and result.exit_code == 1
    assert "HC0302" in [d.code for d in result.diagnostics]
    assert result.message == "helm-run: 1 error(s); nothing was run."


def test_an_empty_suite_is_an_error_unless_allowed(tmp_path):
    result, _, _ = _run(tmp_path, GOOD, selection={"priority": 0})
    assert (result.ending, result.exit_code) == (Ending.INPUT_ERRORS, 1)
    assert [d.code for d in result.diagnostics] == ["HC0402"]
    allowed, _, _ = _run(tmp_path, GOOD, selection={"priority": 0}, allow_no_runs=True)
    assert (allowed.ending, allowed.exit_code, allowed.message) == (Ending.NOTHING_TO_RUN, 0, "helm-run: nothing to run.")


def test_without_crfm_helm_the_plan_is_checked_then_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(helm_setup, "helm_available", lambda: False)
    result, _, warned = _run(tmp_path, GOOD)
    assert result.ending is Ending.REFUSED and result.exit_code == 2 and helm_setup.INSTALL_HINT in result.message
    assert warned == [] and result.suite is None and result.runs == []


@pytest.mark.parametrize("ending, exit_on_error, code", [
    (Ending.COMPLETED, False, 0), (Ending.NOTHING_TO_RUN, False, 0), (Ending.RUNS_FAILED, False, 1),
    (Ending.UNFINISHED, False, 130), (Ending.UNFINISHED, True, 1), (Ending.INPUT_ERRORS, False, 1),
    (Ending.REFUSED, False, 2),
])
def test_the_exit_code_follows_from_the_ending(ending, exit_on_error, code):
    assert HelmRunResult(ending, [], exit_on_error=exit_on_error).exit_code == code
