"""helm-run's command layer without running HELM: flags, the missing-HELM path, the plan check,
the re-run command. Plans here are built by hand where the runtime alone is under test."""

from __future__ import annotations

from pathlib import Path

import argparse
import os

import pytest

from helmc.commands import run as run_cmd
from helmc.compiler.plan.plan import EntryRef, ObjectSpecData, PlannedRun, PlannedSpec, SpanRef
from helmc.runtime import helm_setup, runspecs

ROOT = str(Path(__file__).resolve().parents[2])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helm-run")
    run_cmd.add_arguments(p)
    return p


def test_helm_flags_and_defaults_match_helm_0_5_16():
    args = _parser().parse_args(["-m", "3"])
    assert args.output_path == "benchmark_output"
    assert args.suite == "default"
    assert args.local_path == "prod_env"
    assert args.num_threads == 4
    assert args.conf_paths == [] and args.run_entries == [] and args.run_specs == []
    assert args.models_to_run is None and args.groups_to_run is None and args.priority is None
    assert args.plugins is None and args.mongo_uri == "" and args.api_key_path == "proxy_api_key.txt"
    assert args.parallel_runs == 1
    a = _parser().parse_args(["-c", "a.conf", "--conf-file", "b.conf", "-r", "x:model=a/b", "-m", "1", "-n", "2",
                              "-o", "o", "-t", "1", "-d"])
    assert a.conf_paths == ["a.conf"] and a.conf_file == ["b.conf"] and a.run_entries == ["x:model=a/b"]
    assert a.num_threads == 2 and a.output_path == "o" and a.num_train_trials == 1 and a.dry_run


def test_max_eval_instances_is_required_as_in_helm():
    with pytest.raises(SystemExit) as e:
        _parser().parse_args(["--run-entries", "simple1:model=simple/model1"])
    assert e.value.code == 2


def test_without_crfm_helm_helm_run_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(helm_setup, "helm_available", lambda: False)
    args = _parser().parse_args(["--conf-paths", os.path.join(ROOT, "examples", "quickstart.conf"), "-m", "2"])
    assert run_cmd.run(args) == 2
    err = capsys.readouterr().err
    assert "pip install 'helmc[helm]'" in err
    assert not (tmp_path / "benchmark_output").exists()


def test_usage_error_cache_instances_only(capsys):
    args = _parser().parse_args(["-r", "simple1:model=simple/model1", "-m", "2", "--cache-instances-only"])
    assert run_cmd.run(args) == 2
    assert "--cache-instances must also be set" in capsys.readouterr().err


def test_rerun_command_keeps_the_flags_and_names_the_runs(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/venv/bin/helm-run"])
    args = _parser().parse_args(["-c", "my conf.conf", "-m", "5", "--suite", "s", "--parallel-runs", "2",
                                 "--models-to-run", "a/b", "c/d", "--exit-on-error"])
    from helmc.app.run import rerun_command

    cmd = rerun_command(args, ["mmlu:subject=x,model=a_b", "r2"])
    assert cmd.startswith("helm-run ")
    assert "--conf-paths 'my conf.conf'" in cmd and "--max-eval-instances 5" in cmd and "--suite s" in cmd
    assert "--models-to-run a/b c/d" in cmd and "--exit-on-error" in cmd and "--parallel-runs 2" in cmd
    assert cmd.endswith("--only-runs mmlu:subject=x,model=a_b r2")


def _ref(line: int) -> EntryRef:
    at = SpanRef("x.conf", 10 * line, 10 * line + 2)
    return EntryRef("x.conf", line, 3, f"d{line}", 1, None, at, at, (), None, 0)


SPEC = PlannedSpec(_ref(1), ObjectSpecData("simple1", (("model", "text"),)), 3)


def _planned(index: int, model: str, dep: str | None, name: str | None = None) -> PlannedRun:
    return PlannedRun(_ref(1), "simple1", {}, {"model": model}, model, dep, name, SPEC.spec, index)


def test_the_build_step_asserts_that_helm_built_the_plan():
    planned = [_planned(0, "a/m", "a/m"), _planned(2, "c/m", None, "simple1:model=c_m")]
    same = [(2, ("c/m", "c/dep", "simple1:model=c_m")), (0, ("a/m", "a/m", "simple1:model=a_m"))]
    assert runspecs.check_build(SPEC, planned, same, 3) is None  # open deployment and name: not compared
    # a deployment, a name, a count or an index that differs is a mismatch that says what HELM built
    assert "via x/dep" in runspecs.check_build(SPEC, planned, [(0, ("a/m", "x/dep", "n")), same[0]], 3)
    assert runspecs.check_build(SPEC, planned, [same[1], (2, ("c/m", "c/dep", "other"))], 3) is not None
    msg = runspecs.check_build(SPEC, planned, same, 4)
    assert msg is not None and "HELM built 4 RunSpec(s)" in msg and "helmc planned 3" in msg
    assert runspecs.check_build(SPEC, planned, [(1, ("a/m", "a/m", "n")), same[0]], 3) is not None
    assert runspecs.check_build(SPEC, planned, [same[0]], 3) is not None
