"""helm-check's flow (helmc/app/check.py) without its command line: a HelmCheckRequest in, the
selected diagnostics, the files checked, the fixes applied, its notes or refusal and the exit status
out. Nothing here needs crfm-helm."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostic_examples import EXAMPLES
from helmc.compiler import fixes
from helmc.app.check import (
    HelmCheckRequest,
    Report,
    UsageError,
    filter_diagnostics,
    helm_check,
    is_selected,
    settle_flags,
)
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.session import Options, RunSet

# An unknown key (HC0106, warning, fixable) and an unknown argument (HC0302, error, fixable).
TYPOS = 'entries: [\n  {description: "simple1:model=simple/model1,max_eval_instnces=3", prioirty: 1}\n]\n'
FIXED = 'entries: [\n  {description: "simple1:model=simple/model1,max_eval_instances=3", priority: 1}\n]\n'
GOOD = 'entries: [\n  {description: "simple1:model=simple/model1", priority: 1}\n]\n'


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """In an empty folder: no prod_env (the default --local-path) or pyproject.toml of the repository."""
    monkeypatch.chdir(tmp_path)


def _example(code: str):
    return next(e for e in EXAMPLES if e.code == code)


def _write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text, encoding="utf-8")
    return str(folder / name)


def _codes(result) -> list[str]:
    return sorted(d.code for d in result.diagnostics)


@pytest.mark.parametrize("request_, words", [
    (HelmCheckRequest(), "give at least one conf file"),
    (HelmCheckRequest(run_set=RunSet((), ("simple1:model=simple/model1",)), report=Report("sarif", statistics=True)),
     "--statistics prints a table"),
    (HelmCheckRequest(run_set=RunSet((), ("simple1:model=simple/model1",)), unsafe_fixes=True),
     "--unsafe-fixes applies fixes only with --fix"),
])
def test_bad_usage_is_refused_before_reading(request_, words):
    result = helm_check(request_)
    assert result.exit_code == 2 and words in result.refusal
    assert result.diagnostics == [] and result.files == 0 and result.fixed is None


def test_each_path_is_checked_on_its_own_and_the_exit_status_follows_the_kept_errors(tmp_path):
    bad = _write(tmp_path, "bad.conf", TYPOS)
    good = _write(tmp_path, "good.conf", GOOD)
    result = helm_check(HelmCheckRequest(paths=(bad, good)))
    assert (result.exit_code, result.files, result.refusal, result.notes) == (1, 2, None, [])
    assert _codes(result) == ["HC0106", "HC0302"]
    assert {d.span.source.path for d in result.diagnostics} == {bad}
    # the error left out: warnings alone pass; left out by prefix: the same
    for select, ignore in ((None, ("HC0302",)), (("HC01",), ()), (("HC0",), ("HC03",))):
        kept = helm_check(HelmCheckRequest(paths=(bad,), select=select, ignore=ignore))
        assert (kept.exit_code, _codes(kept)) == (0, ["HC0106"])


def test_conf_paths_and_run_entries_are_read_together(tmp_path):
    # the same entry in a -c file and in -r: one run set, so one duplicate (HC0401)
    conf = _write(tmp_path, "a.conf", GOOD)
    together = helm_check(HelmCheckRequest(run_set=RunSet((conf,), ("simple1:model=simple/model1",))))
    assert "HC0401" in _codes(together) and together.files == 1
    # given as PATHs, each file is its own run set: no duplicate across them
    other = _write(tmp_path, "b.conf", GOOD)
    apart = helm_check(HelmCheckRequest(paths=(conf, other)))
    assert "HC0401" not in _codes(apart) and apart.files == 2


def test_helm_run_s_verdict_is_part_of_the_check(tmp_path):
    conf = _write(tmp_path, "a.conf", GOOD)
    nothing = helm_check(HelmCheckRequest(paths=(conf,), options=Options(selection=PlanOptions(priority=0))))
    assert (_codes(nothing), nothing.exit_code) == (["HC0402"], 1)
    allowed = helm_check(HelmCheckRequest(paths=(conf,), options=Options(selection=PlanOptions(priority=0)),
                                          ignore=("HC0402",)))
    assert allowed.exit_code == 0


def test_a_folder_gives_its_conf_files_and_its_helm_config_files(tmp_path):
    example = _example("HC0601")  # a YAML syntax error in model_deployments.yaml
    lab = tmp_path / "lab"
    lab.mkdir()
    for name, text in {example.path: example.bad, **example.extra_files}.items():
        _write(lab, Path(name).name, text)
    _write(lab, "run_entries.conf", GOOD)
    _write(lab, "credentials.conf", "openaiApiKey: x\n")  # HELM's API keys, not run entries
    result = helm_check(HelmCheckRequest(paths=(str(lab),)))
    assert _codes(result) == ["HC0601"] and result.exit_code == 1
    assert result.files == 1 + 1 + len(example.extra_files)
    only_yaml = helm_check(HelmCheckRequest(paths=(str(lab / Path(example.path).name),)))
    assert _codes(only_yaml) == ["HC0601"] and only_yaml.files == 1


def test_a_folder_without_inputs_is_a_note_not_an_error(tmp_path):
    result = helm_check(HelmCheckRequest(paths=(str(tmp_path),)))
    assert (result.exit_code, result.files, result.diagnostics) == (0, 0, [])
    assert result.notes == [f"warning: no *.conf files under {tmp_path}"]


@pytest.mark.parametrize("inputs", [("folder",), ("empty.conf",), ("folder", "empty.conf")])
def test_an_empty_suite_names_the_conf_paths_that_held_no_entry(tmp_path, inputs):
    """`-c FOLDER` with no conf file in it, or a file of `entries: []`: HC0402 says what was
    given holds nothing, not that nothing was given."""
    (tmp_path / "folder").mkdir()
    _write(tmp_path, "empty.conf", "entries: []\n")
    given = tuple(str(tmp_path / name) for name in inputs)
    result = helm_check(HelmCheckRequest(run_set=RunSet(conf_paths=given)))
    (empty,) = [d for d in result.diagnostics if d.code == "HC0402"]
    listed = ", ".join(f"`{g}`" for g in given)
    assert f"{listed} {'holds' if len(given) == 1 else 'hold'} no run entry" in empty.notes
    assert not any("no run entries were given" in n for n in empty.notes)


def test_an_output_file_that_is_an_input_is_refused_before_fixing(tmp_path, monkeypatch):
    bad = _write(tmp_path, "bad.conf", TYPOS)
    result = helm_check(HelmCheckRequest(paths=(bad,), fix=True, report=Report(output_file="./bad.conf")))
    assert result.exit_code == 2 and result.refusal == (
        "-o/--output-file `./bad.conf` is the input `%s`; refusing to write over an input" % bad)
    assert Path(bad).read_text(encoding="utf-8") == TYPOS  # nothing was fixed
    elsewhere = helm_check(HelmCheckRequest(paths=(bad,), report=Report(output_file="report.json")))
    assert elsewhere.refusal is None and elsewhere.exit_code == 1


def test_fix_edits_the_files_then_checks_what_it_left(tmp_path):
    bad = _write(tmp_path, "bad.conf", TYPOS)
    only_keys = helm_check(HelmCheckRequest(paths=(bad,), fix=True, select=("HC01",)))
    assert [a.diagnostic.code for a in only_keys.fixed] == ["HC0106"]  # --select decides what is fixed too
    assert _codes(only_keys) == [] and only_keys.exit_code == 0
    assert "prioirty" not in Path(bad).read_text(encoding="utf-8")
    rest = helm_check(HelmCheckRequest(paths=(bad,), fix=True))
    assert [a.diagnostic.code for a in rest.fixed] == ["HC0302"] and rest.diagnostics == []
    assert Path(bad).read_text(encoding="utf-8") == FIXED
    again = helm_check(HelmCheckRequest(paths=(bad,), fix=True))
    assert again.fixed == [] and again.exit_code == 0
    assert helm_check(HelmCheckRequest(paths=(bad,))).fixed is None  # without --fix


def test_unsafe_fixes_only_when_asked(tmp_path):
    # `num_isntances`: several parameters are close, so renaming it is an unsafe fix
    text = GOOD.replace("model1", "model1,num_isntances=3")
    bad = _write(tmp_path, "bad.conf", text)
    safe_only = helm_check(HelmCheckRequest(paths=(bad,), fix=True))
    assert safe_only.fixed == [] and _codes(safe_only) == ["HC0302"]
    assert Path(bad).read_text(encoding="utf-8") == text
    unsafe = helm_check(HelmCheckRequest(paths=(bad,), fix=True, unsafe_fixes=True))
    assert [a.diagnostic.code for a in unsafe.fixed] == ["HC0302"] and unsafe.exit_code == 0


def test_a_file_fix_cannot_write_is_a_note_and_stays_as_it_was(tmp_path, monkeypatch):
    bad = _write(tmp_path, "bad.conf", TYPOS)

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(fixes, "write_atomically", refuse)
    result = helm_check(HelmCheckRequest(paths=(bad,), fix=True))
    assert result.notes == [f"cannot write `{bad}`: Permission denied; left as it was"]
    assert result.fixed == [] and _codes(result) == ["HC0106", "HC0302"] and result.exit_code == 1
    assert Path(bad).read_text(encoding="utf-8") == TYPOS


def test_settled_flags_take_the_flag_then_the_setting_then_the_default():
    flags = {"format": None, "local_path": "here", "select": None, "ignore": ["hc0302"], "no_catalog": None}
    settled = settle_flags(flags, {"format": "json", "local-path": "there", "ignore": ["HC0106"], "select": ["HC0"]})
    assert settled["format"] == "json" and settled["local_path"] == "here" and settled["no_catalog"] is False
    assert settled["plugins"] == [] and settled["models_to_run"] is None and settled["output_file"] is None
    assert settled["select"] == ["HC0"] and settled["ignore"] == ["HC0106", "HC0302"]  # --ignore adds to the settings'
    assert settle_flags({"select": ["HC03,hc0106", "HC01"]}, {"select": ["HC0"]})["select"] == ["HC03", "HC0106", "HC01"]
    with pytest.raises(UsageError, match="format `xml` in \\[tool.helmc\\]"):
        settle_flags({}, {"format": "xml"})
    with pytest.raises(UsageError, match="--select XX: no diagnostic code starts with `XX`"):
        settle_flags({"select": ["xx"]}, {})
    with pytest.raises(UsageError, match="--ignore ZZ"):
        settle_flags({}, {"ignore": ["HC01", "ZZ"]})


@pytest.mark.parametrize("code, select, ignore, kept", [
    ("HC0302", None, None, True),
    ("HC0302", ["HC03"], None, True),
    ("HC0302", ["HC01"], None, False),
    ("HC0302", ["HC0"], ["HC03"], False),  # the longer prefix decides
    ("HC0302", ["HC0302"], ["HC03"], True),
    ("HC0302", ["HC03"], ["HC03"], False),  # a tie: --ignore wins
    ("HC0302", None, ["HC0302"], False),
])
def test_the_most_specific_selector_decides(code, select, ignore, kept):
    assert is_selected(code, select, ignore) is kept


def test_selecting_filters_what_one_whole_check_finds(tmp_path):
    bad = _write(tmp_path, "bad.conf", TYPOS)
    def seen(diagnostics) -> list[tuple]:
        return [(d.code, d.message, d.primary.span.start) for d in diagnostics]

    everything = helm_check(HelmCheckRequest(paths=(bad,))).diagnostics
    for select, ignore in ((("HC01",), ()), (None, ("HC0302",)), (("HC0",), ("HC01",))):
        kept = filter_diagnostics(everything, select, ignore)
        assert len(kept) == 1 and seen(kept) == seen(
            helm_check(HelmCheckRequest(paths=(bad,), select=select, ignore=ignore)).diagnostics)
