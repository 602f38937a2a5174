"""helm-check on HELM's config YAML files: reading with positions, the HC06xx checks over the
class of inputs, and conf-file checks that see prod_env's models."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from helmc.compiler.prodenv import check as prodenv
from helmc.compiler.syntax.config_yaml import read_yaml
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.source import SourceFile
from helpers import plant_special, run_cli

LAB = Path(__file__).resolve().parents[2] / "data" / "prodenv_lab"


def check_json(cwd: Path, *argv: str) -> tuple[int, list[dict]]:
    code, out, err = run_cli(["check", *argv, "--format", "json"], cwd)
    assert code in (0, 1), err
    return code, json.loads(out)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    shutil.copytree(LAB, tmp_path / "prod_env")
    return tmp_path


def test_the_lab_is_clean(lab: Path) -> None:
    code, diags = check_json(lab, "prod_env")
    assert code == 0
    assert [d for d in diags if d["severity"] == "error"] == []
    assert {d["code"] for d in diags} <= {"HC0617"}  # only extras this environment lacks


def test_paths_by_name_and_folder(lab: Path) -> None:
    """A config file by its name is checked as that file; a folder holding them reads them all;
    neither is parsed as a conf file."""
    (lab / "prod_env" / "model_deployments.yaml").write_text(
        (LAB / "model_deployments.yaml").read_text().replace("tokenizer_name: qwen", "tokenizr_name: qwen")
    )
    for argv in (["prod_env/model_deployments.yaml"], ["prod_env"], ["--local-path", "prod_env", "--run-entries", "simple1:model=simple/model1"]):
        code, diags = check_json(lab, *argv)
        hits = [d for d in diags if d["code"] == "HC0603"]
        assert len(hits) == 1 and hits[0]["path"].endswith("model_deployments.yaml"), argv
        assert hits[0]["line"] == 18 and hits[0]["column"] == 5
        assert not any(d["code"].startswith(("HC00", "HC01")) for d in diags)


def test_default_local_path_is_checked_with_conf_files(lab: Path) -> None:
    (lab / "prod_env" / "model_metadata.yaml").write_text(
        (LAB / "model_metadata.yaml").read_text().replace("access: closed", "access: clsoed")
    )
    (lab / "run_entries.conf").write_text('entries: [{description: "mmlu:subject=anatomy,model=acmelab/llama-3.1-8b-sft", priority: 1}]\n')
    code, diags = check_json(lab, "run_entries.conf")
    assert [d["code"] for d in diags if d["code"].startswith("HC06") and d["code"] != "HC0617"] == ["HC0607"]
    # the entry naming the local model resolves
    assert not any(d["code"] == "HC0308" for d in diags)


def test_local_models_join_the_wildcards_helm_would(lab: Path) -> None:
    from helmc.compiler.catalog.catalog import UserAdditions, load_catalog

    cat = load_catalog(UserAdditions(local_path=str(lab / "prod_env"), entry_points=False))
    groups = cat.model_group_to_model_names()
    for m in ("acmelab/llama-3.1-8b-sft", "acmelab/qwen2.5-7b-dpo", "acmelab/mixtral-8x7b-ft"):
        assert m in groups["text"] and m in groups["instruction_following"]
    assert cat.default_deployment("acmelab/qwen2.5-7b-dpo") == "vllm/acmelab-qwen2.5-7b-dpo"
    (lab / "run_entries.conf").write_text('entries: [{description: "mmlu:subject=anatomy,model=instruction_following", priority: 1}]\n')
    code, out, err = run_cli(["plan", "-c", "run_entries.conf", "--local-path", "prod_env", "--format", "json"], lab)
    models = {r["model"] for r in json.loads(out)["runs"]}
    assert {"acmelab/llama-3.1-8b-sft", "acmelab/mixtral-8x7b-ft"} <= models


def test_each_file_is_parsed_once(lab: Path, monkeypatch) -> None:
    """The catalog's --local-path additions and the HC06xx checks share one parse per file."""
    import helmc.compiler.syntax.config_yaml as cy

    prodenv._READ.clear()
    calls: list[str] = []
    real = cy.yaml.compose

    def counting(text, Loader):
        calls.append(text[:40])
        return real(text, Loader=Loader)

    monkeypatch.setattr(cy.yaml, "compose", counting)
    (lab / "run_entries.conf").write_text('entries: [{description: "mmlu:subject=anatomy,model=text", priority: 1}]\n')
    check_json(lab, "run_entries.conf", "prod_env/model_deployments.yaml")
    assert len(calls) == len(list((lab / "prod_env").glob("*.yaml")))


# ---------------------------------------------------------------- positions, over the class


@settings(max_examples=60, deadline=None)
@given(
    indent=st.integers(min_value=1, max_value=6),
    pad=st.text(alphabet=" ", max_size=3),
    prefix_lines=st.lists(st.sampled_from(["# comment", "", "# é ü 🤗"]), max_size=4),
    key=st.sampled_from(["tokenizr_name", "max_seq_length", "modelname", "client_sepc", "deprecatd"]),
    quote=st.sampled_from(["", '"', "'"]),
)
def test_unknown_key_is_flagged_where_yaml_puts_it(indent, pad, prefix_lines, key, quote) -> None:
    """Any layout: the diagnostic's line and column are those of the key as written."""
    sp = " " * indent
    lines = [*prefix_lines, "model_deployments:", f"{sp}- name: {quote}acme/x{quote}", f"{sp}  {key}:{pad} 1",
             f"{sp}  client_spec:", f"{sp}    class_name: helm.clients.simple_client.SimpleClient"]
    text = "\n".join(lines) + "\n"
    src = SourceFile("model_deployments.yaml", text)
    sink = DiagnosticSink()
    doc = read_yaml(src, sink)
    cf = prodenv.ConfigFile("model_deployments.yaml", src, doc, ())
    prodenv.check_structure(cf, prodenv.load_config_catalog(), sink)
    hits = [d for d in sink.items if d.code == "HC0603"]
    assert len(hits) == 1
    line, col = hits[0].span.start_line_col
    assert (line, col) == (len(prefix_lines) + 3, indent + 3)
    assert hits[0].span.text == key


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}\"' \n#\t&*!|>%@`é")), max_size=60))
def test_any_text_gives_diagnostics_never_a_traceback(text: str) -> None:
    """Whatever the text, reading and checking it ends in diagnostics; helmc reports a YAML
    error (HC0601, HC0602, or an impossible date) exactly when yaml.safe_load raises."""
    src = SourceFile("model_metadata.yaml", text)
    sink = DiagnosticSink()
    doc = read_yaml(src, sink)
    try:
        yaml.safe_load(text)
        raised = False
    except (yaml.YAMLError, ValueError):
        raised = True
    cf = prodenv.ConfigFile("model_metadata.yaml", src, doc, ())
    prodenv.check_structure(cf, prodenv.load_config_catalog(), sink)
    yaml_errors = [d for d in sink.items if d.code in ("HC0601", "HC0602") or "is not a date:" in d.message]
    assert bool(yaml_errors) == raised, (text, [d.message for d in sink.items])
    for d in sink.items:
        assert 0 <= d.span.start <= d.span.end <= len(text)


def test_syntax_error_position_is_the_parsers_mark(tmp_path: Path) -> None:
    text = "models:\n  - name: a/b\n    tags: [TEXT_MODEL_TAG\n  - name: c/d\n"
    (tmp_path / "model_metadata.yaml").write_text(text)
    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
    code, diags = check_json(tmp_path, "model_metadata.yaml")
    assert code == 1
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("HC0601", mark.line + 1, mark.column + 1)]


def test_unknown_class_argument_against_every_closed_helm_client() -> None:
    """For every client class whose constructor takes no **kwargs, an argument it does not
    name is an error, and each parameter it names is accepted."""
    cfg = prodenv.load_config_catalog()
    from helmc.compiler.catalog.catalog import load_catalog_data

    names = prodenv._Names(cfg, load_catalog_data(), ())
    checked = 0
    for cls, row in cfg["object_classes"]["client"]["classes"].items():
        acc = names.accepts(cls)
        if acc is None or acc.open_to or acc.ignored_by or "init" not in row:
            continue
        params = [p["name"] for p in row["init"]["params"]]
        args = "".join(f"        {p}: x\n" for p in params) + "        zz_not_a_param: 1\n"
        text = (
            "model_deployments:\n  - name: simple/x\n    model_name: simple/model1\n    client_spec:\n"
            f"      class_name: {cls}\n      args:\n{args}"
        )
        sink = DiagnosticSink()
        folder = prodenv.ConfigFolder("")
        src = SourceFile("model_deployments.yaml", text)
        folder.files["model_deployments.yaml"] = prodenv.ConfigFile("model_deployments.yaml", src, read_yaml(src, sink), ())
        prodenv.check_names(folder, names, {"model_deployments.yaml"}, sink)
        bad = [d for d in sink.items if d.code == "HC0610"]
        assert [d.span.text for d in bad] == ["zz_not_a_param"], cls
        checked += 1
    assert checked > 20


_FIELDS = ["name", "model_name", "tokenizer_name", "client_spec", "class_name", "args", "max_sequence_length", "deprecated",
           "window_service_spec", "tags", "access", "release_date", "num_parameters", "models", "model_deployments",
           "tokenizer_configs", "tokenizer_spec", "end_of_text_token", "slurm_args", "helm_max_concurrent_workers", "zz"]
_CLASSES = ["helm.clients.simple_client.SimpleClient", "helm.clients.vllm_client.VLLMClient", "helm.tokenizers.huggingface_tokenizer.HuggingFaceTokenizer",
            "helm.clients.nope.Nope", "my_lab.Client", "helm", ""]
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.dates(), st.sampled_from(_CLASSES),
                    st.text(max_size=8))
_docs = st.recursive(_leaves, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_FIELDS), inner, max_size=6)),
                     max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(doc=_docs, file=st.sampled_from(prodenv.CONFIG_FILES))
def test_any_structure_in_any_file_is_checked_without_a_crash(doc, file) -> None:
    """Random documents over the fields HELM knows, in every file: every check (names across
    files included) runs to the end and every diagnostic points inside the file."""
    text = yaml.safe_dump(doc, sort_keys=False) if doc is not None else ""
    folder = prodenv.ConfigFolder("")
    src = SourceFile(file, text)
    sink = DiagnosticSink()
    folder.files[file] = prodenv.ConfigFile(file, src, read_yaml(src, sink), ())
    cfg = prodenv.load_config_catalog()
    prodenv.check_structure(folder.files[file], cfg, sink)
    from helmc.compiler.catalog.catalog import load_catalog_data

    prodenv.check_names(folder, prodenv._Names(cfg, load_catalog_data(), ()), {file}, sink)
    for d in sink.items:
        assert d.span.source is src and 0 <= d.span.start <= d.span.end <= len(text)


def test_a_class_of_the_labs_own_is_found_or_warned(lab: Path) -> None:
    """A class outside HELM: a warning when its module is nowhere here (helm-run may run where it
    is installed); checked like HELM's own when --plugins names its module."""
    dep = lab / "prod_env" / "model_deployments.yaml"
    dep.write_text(dep.read_text().replace("helm.clients.vllm_client.VLLMChatClient", "acme_clients.AcmeClient"))
    code, diags = check_json(lab, "prod_env")
    hit = [d for d in diags if d["code"] == "HC0609"]
    text = dep.read_text()
    assert code == 0 and len(hit) == 1 and hit[0]["severity"] == "warning"
    assert hit[0]["line"] == text[: text.index("acme_clients.AcmeClient")].count("\n") + 1
    (lab / "acme_clients.py").write_text(
        "class AcmeClient:\n    def __init__(self, cache_config, base_url: str = '', vllm_model_name: str = ''):\n        pass\n"
    )
    code, diags = check_json(lab, "prod_env", "--plugins", "acme_clients.py")
    assert code == 0 and not [d for d in diags if d["code"] in ("HC0609", "HC0610")]
    dep.write_text(dep.read_text().replace("vllm_model_name:", "vllm_model:"))
    code, diags = check_json(lab, "prod_env", "--plugins", "acme_clients.py")
    text = dep.read_text()
    assert code == 1 and [d["line"] for d in diags if d["code"] == "HC0610"] == [text[: text.index("vllm_model:")].count("\n") + 1]


def _not_a_folder(path: Path, kind: str) -> None:
    if kind == "file":
        path.write_text("models: []\n")
    else:
        plant_special(path, kind)


NOT_A_FOLDER = {"file": "is a file", "fifo": "named pipe (FIFO)", "socket": "a socket", "chardev": "character device",
                "loop": "loops", "dangling": "broken symbolic link"}


@pytest.mark.parametrize("command", [["check", "ok.conf"], ["check", "--local-path"], ["run", "-c", "ok.conf", "--suite", "s"]],
                         ids=["helm-check", "helm-check-folder-itself", "helm-run"])
@pytest.mark.parametrize("kind", list(NOT_A_FOLDER))
def test_a_local_path_that_is_not_a_folder_is_an_error_before_anything_runs(tmp_path: Path, kind: str, command) -> None:
    """HELM reads no config file from it without a word, then fails every run making its cache
    folder there: helm-check and helm-run say so first, naming the path."""
    (tmp_path / "ok.conf").write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    _not_a_folder(tmp_path / "lp", kind)
    argv = ["check", "ok.conf", "lp", "--local-path", "lp"] if command[-1] == "--local-path" else \
        [*command, "--local-path", "lp", "-m" if command[0] == "run" else "--priority", "1"]
    code, out, err = run_cli(argv, tmp_path)
    text = out + err
    assert code == 1 and "HC0901" in text and "--local-path `lp`" in text and NOT_A_FOLDER[kind] in text, text
    assert "Traceback" not in text
    assert not (tmp_path / "benchmark_output").exists()
    assert os.path.lexists(tmp_path / "lp") and not (tmp_path / "lp").is_dir()  # left as it was


def test_a_local_path_that_does_not_exist_is_fine(tmp_path: Path) -> None:
    (tmp_path / "ok.conf").write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    code, out, err = run_cli(["check", "ok.conf", "--local-path", "not/yet"], tmp_path)
    assert code == 0 and "HC0901" not in out + err, out + err
