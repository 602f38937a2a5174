"""One verdict: helm-check with helm-run's flags passes iff helm-run would start; run sets."""

from __future__ import annotations

import argparse
import json

import pytest

from conftest import HELM_INSTALLED, needs_oracle, oracle_plans
from helpers import run_cli

ENTRY = '  {description: "simple1:model=simple/model1", priority: 1}\n'


def _write(tmp_path, name: str, *entries: str) -> None:
    (tmp_path / name).write_text("entries: [\n" + "".join(entries) + "]\n", encoding="utf-8")


def _codes(out: str) -> list[str]:
    return [d["code"] for d in json.loads(out)]


def test_duplicates_only_within_a_run_set(tmp_path):
    (tmp_path / "d").mkdir()
    _write(tmp_path / "d", "a.conf", ENTRY)
    _write(tmp_path / "d", "b.conf", ENTRY)
    # two independent files (as two helm-run invocations): no duplicate
    status, out, _ = run_cli(["check", "d", "--format", "json"], tmp_path)
    assert (status, _codes(out)) == (0, [])
    # the same files read together by one helm-run: the second entry repeats the first
    status, out, _ = run_cli(["check", "-c", "d/a.conf", "d/b.conf", "--format", "json"], tmp_path)
    assert status == 0 and _codes(out) == ["HC0401"]
    # and within one file
    _write(tmp_path, "one.conf", ENTRY, ENTRY)
    status, out, _ = run_cli(["check", "one.conf", "--format", "json"], tmp_path)
    assert _codes(out) == ["HC0401"]


def test_check_takes_helm_runs_selection_flags(tmp_path):
    _write(tmp_path, "p.conf", '  {description: "simple1:model=simple/model1", priority: 4}\n')
    assert run_cli(["check", "p.conf"], tmp_path)[0] == 0
    status, out, _ = run_cli(["check", "p.conf", "--priority", "1", "--format", "json"], tmp_path)
    assert status == 1 and _codes(out) == ["HC0402"]  # helm-run --priority 1 has nothing to run
    assert run_cli(["check", "p.conf", "--priority", "1", "--allow-no-runs"], tmp_path)[0] == 0
    status, out, _ = run_cli(["check", "-c", "p.conf", "--groups-to-run", "nope", "--format", "json"], tmp_path)
    assert status == 1 and "HC0402" in _codes(out)
    status, out, _ = run_cli(["check", "-r", "mmlu:subject=anatomy,model=text", "--format", "json"], tmp_path)
    assert status == 1 and _codes(out) == ["HC0405"]
    assert run_cli(["check", "-r", "mmlu:subject=anatomy,model=text", "--models-to-run", "openai/gpt2"], tmp_path)[0] == 0


def test_a_model_without_slash_follows_what_helm_does_under_the_flags(tmp_path):
    _write(tmp_path, "w.conf", '  {description: "simple1:model=chat_run", priority: 1}\n')
    status, out, _ = run_cli(["check", "w.conf", "--format", "json"], tmp_path)
    assert status == 1 and "HC0309" in _codes(out)  # HELM: no model has this name
    status, out, _ = run_cli(["check", "w.conf", "--models-to-run", "simple/model1", "--format", "json"], tmp_path)
    diags = json.loads(out)
    assert status == 0 and [(d["code"], d["severity"]) for d in diags] == [("HC0309", "warning")]
    # and the plan runs it on the --models-to-run model, as HELM does
    status, out, _ = run_cli(["plan", "w.conf", "--models-to-run", "simple/model1", "--format", "json"], tmp_path)
    assert status == 0 and [r["model"] for r in json.loads(out)["runs"]] == ["simple/model1"]


def test_subcommand_errors_show_the_subcommands_usage(tmp_path):
    status, _, err = run_cli(["plan", "--no-such-flag"], tmp_path)
    assert status == 2 and "usage: helmc plan" in err and "unrecognized arguments: --no-such-flag" in err


def test_plan_takes_positional_files(tmp_path):
    _write(tmp_path, "q.conf", ENTRY)
    status, out, _ = run_cli(["plan", "q.conf", "--format", "json"], tmp_path)
    assert status == 0 and len(json.loads(out)["runs"]) == 1


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_plan_build_gives_helms_names_and_adapter(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "quickstart.conf"
    status, out, err = run_cli(["plan", str(example), "--build", "-m", "5", "--format", "json"], tmp_path)
    assert status == 0, err
    runs = json.loads(out)["runs"]
    names = [r["name"] for r in runs]
    assert names[0] == "simple1:model=simple_model1"
    assert "simple1:model=simple_model1,max_train_instances=16" in names
    assert names[-1] == "simple1:model=simple_model1,stop=hash,groups=quickstart"
    assert all(r["adapter"]["max_eval_instances"] == 10 for r in runs)  # simple1 sets it; -m only fills None
    assert not list(tmp_path.iterdir())  # HELM built in a scratch folder


@needs_oracle
def test_plan_names_are_helms_or_null_on_the_corpus():
    """Every name the plan gives (without --build) is the one HELM 0.5.16 gave, on every entry
    of the 46 corpus files that HELM built; a name helmc cannot know is null, never wrong."""
    from helmc.compiler.catalog.catalog import load_catalog

    known = wrong = 0
    for entry, row, plan in oracle_plans(load_catalog()):
        want = [r["name"] for r in row["runs"]]
        got = [r.name for r in plan.runs]
        if len(got) != len(want):
            continue  # a count disagreement is test_oracle's to report
        for g, w in zip(got, want):
            if g is not None:
                known += 1
                wrong += g != w
    assert known > 500 and wrong == 0, (known, wrong)


def test_nothing_to_run_names_each_dropped_entry_once(tmp_path):
    # max_train_instances=all gives six runs of one entry; every one is filtered out
    many = "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=all"
    status, out, _ = run_cli(["check", "-r", many, "simple1:model=simple/model1",
                              "--models-to-run", "anthropic/claude-v1.3"], tmp_path)
    no_runs = out[out.index("error[HC0402]"):].split("\n\n")[0]
    notes = [n for n in no_runs.split("= note: ")[1:] if n.startswith("<run-entries>")]
    assert status == 1 and [n.split(" ", 1)[0] for n in notes] == ["<run-entries>:1:1", "<run-entries>:2:1"], no_runs
    assert notes[0].rstrip().endswith("is not in --models-to-run (6 runs)") and not notes[1].rstrip().endswith("runs)")


def test_a_run_set_helm_run_refuses_is_not_planned(tmp_path):
    """HELM raises HC0405's errors before it builds any run: helm-check plans nothing of that
    run set (no duplicate names of runs that no helm-run makes), and checks the runs once
    --models-to-run gives the models that replace the wildcard."""
    # `groups: []` adds nothing to the run name: both entries name their runs alike
    _write(tmp_path, "w.conf",
           '  {description: "mmlu:subject=anatomy,model=text", priority: 1}\n',
           '  {description: "mmlu:subject=anatomy,model=all", priority: 1, groups: []}\n')
    status, out, _ = run_cli(["check", "w.conf", "--format", "json"], tmp_path)
    assert status == 1 and _codes(out) == ["HC0405", "HC0405"]
    status, out, _ = run_cli(["check", "w.conf", "--models-to-run", "openai/gpt2", "--format", "json"], tmp_path)
    assert status == 0 and _codes(out) == ["HC0406"]
    # `helmc plan` still lists every run a wildcard names, as HELM would build them
    status, out, _ = run_cli(["plan", "w.conf", "--format", "json"], tmp_path)
    runs = json.loads(out)["runs"]
    assert status == 0 and len(runs) > 100 and {r["model"] for r in runs} >= {"openai/gpt2"}


def _prodenv_errors():
    from diagnostic_examples import EXAMPLES
    from helmc.compiler.codes import CODES
    from helmc.compiler.diagnostics import Severity

    return [e for e in EXAMPLES if e.code.startswith("HC06") and CODES[e.code].severity is Severity.ERROR
            and e.path.startswith("prod_env/") and not e.args]


@pytest.mark.parametrize("example", _prodenv_errors(), ids=lambda e: e.key)
def test_a_prod_env_error_is_one_verdict_for_helm_check_and_helm_run(example, tmp_path, monkeypatch):
    """Every error code of HELM's config files in the --local-path folder (its failing example,
    then its fix): helm-check fails iff helm-run's preflight (the compile helm-run runs before
    HELM is prepared) stops, on the same diagnostics."""
    from helmc.app.check import HelmCheckRequest, helm_check
    from helmc.compiler.session import RunSet
    from helmc.runtime.helm_setup import HelmSettings
    from helmc.runtime.session import Session
    from helmc.app.options import options_from_args

    monkeypatch.chdir(tmp_path)
    for name, text in example.extra_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    _write(tmp_path, "run.conf", ENTRY)
    doc = tmp_path / example.path
    doc.parent.mkdir(parents=True, exist_ok=True)
    options = options_from_args(argparse.Namespace(local_path="prod_env", max_eval_instances=1))
    verdicts = []
    found: list[list[str]] = []
    for text in (example.bad, example.fixed):
        doc.write_text(text, encoding="utf-8")
        checked = helm_check(HelmCheckRequest(paths=("run.conf",), options=options))
        session = Session(options, RunSet(("run.conf",)), HelmSettings(catalog=options.catalog))
        session.compile("run")
        check_errors = sorted(d.code for d in checked.diagnostics if d.severity.value == "error")
        run_errors = sorted(d.code for d in session.sink.items if d.severity.value == "error")
        assert (checked.exit_code == 1) == bool(run_errors), (check_errors, run_errors)
        assert check_errors == run_errors
        verdicts.append(bool(run_errors))
        found.append(run_errors)
    assert verdicts == [True, False] and example.code in found[0], found
