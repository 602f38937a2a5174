"""The prod_env measurement: a realistic lab prod_env (tests/data/prodenv_lab: a Hugging Face
model, a vLLM server, a Together model, their metadata and a tokenizer), then one mistake of
each kind. helm-check must flag every mistake at its line in its file and report no error on
the clean folder; HELM's own reaction to each is recorded by loading the folder with HELM's
registry functions in a subprocess (tests/prodenv_helm_probe.py), so the docs can say what
HELM would have done."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import HELM_INSTALLED
from diagnostic_examples import EXAMPLES
from helpers import run_cli

HERE = Path(__file__).resolve().parents[2]
LAB = HERE / "data" / "prodenv_lab"
DEP, META, TOK, RUN = "model_deployments.yaml", "model_metadata.yaml", "tokenizer_configs.yaml", "runner_config.yaml"
VLLM, TOGETHER, HF = "vllm/acmelab-qwen2.5-7b-dpo", "together/acmelab-mixtral-8x7b-ft", "huggingface/acmelab-llama-3.1-8b-sft"


@dataclass(frozen=True)
class Mistake:
    id: str
    file: str
    old: str
    new: str
    code: str
    at: str  # text on the line (of the bad file) where the diagnostic must start, after `old` is replaced
    helm: str  # what HELM does, in words (checked against the probe by `expect`)
    deployments: tuple[str, ...] = ()  # clients the probe creates, as helm-run does at first use
    tokenizers: tuple[str, ...] = ()
    extra: tuple[tuple[str, str, str], ...] = field(default=())  # more (file, old, new) edits of the same mistake


MISTAKES = [
    Mistake("yaml-syntax", DEP, "    model_name: acmelab/qwen2.5-7b-dpo", "   model_name: acmelab/qwen2.5-7b-dpo", "HC0601",
            "   model_name: acmelab/qwen2.5-7b-dpo", "load raises YAMLError"),
    Mistake("yaml-value", DEP, "max_sequence_length: 8192", "max_sequence_length: !!int 8k", "HC0602", "!!int 8k",
            "load raises ValueError"),
    Mistake("unknown-key", DEP, "    tokenizer_name: qwen/", "    tokenizr_name: qwen/", "HC0603", "tokenizr_name",
            "loads; the deployment has no tokenizer"),
    Mistake("missing-field", DEP, '    client_spec:\n      class_name: "helm.clients.together_client.TogetherChatClient"\n'
            "      args:\n        together_model: acmelab/Mixtral-8x7B-Instruct-ft-2025-01-20\n", "", "HC0604",
            f"  - name: {TOGETHER}", "load raises ClassValidationError"),
    Mistake("wrong-type", META, "num_parameters: 8030000000", "num_parameters: 8B", "HC0605", "num_parameters: 8B",
            "load raises WrongTypeError"),
    Mistake("impossible-date", META, "release_date: 2025-03-14", "release_date: 2025-02-30", "HC0606", "2025-02-30",
            "load raises ValueError"),
    Mistake("quoted-date", META, "release_date: 2025-06-02", 'release_date: "2025-06-02"', "HC0606", '"2025-06-02"',
            "load raises WrongTypeError"),
    Mistake("access", META, "access: closed", "access: private", "HC0607", "access: private", "loads the value as written"),
    Mistake("tag", META, "INSTRUCTION_FOLLOWING_MODEL_TAG]\n\n  - name: acmelab/qwen", "INSTRUCTION_FOLLOWING_TAG]\n\n  - name: acmelab/qwen",
            "HC0608", "INSTRUCTION_FOLLOWING_TAG]", "loads; the model leaves the instruction_following wildcard"),
    Mistake("client-class", DEP, "helm.clients.vllm_client.VLLMChatClient", "helm.clients.vllm_client.VLLMChatClent", "HC0609",
            "VLLMChatClent", "loads; creating the client raises AttributeError", deployments=(VLLM,)),
    Mistake("tokenizer-class", TOK, "huggingface_tokenizer.HuggingFaceTokenizer", "huggingface_tokenizer.HuggingfaceTokenizer",
            "HC0609", "HuggingfaceTokenizer", "loads; creating the tokenizer raises AttributeError",
            tokenizers=("acmelab/llama-3.1-8b-sft",)),
    Mistake("class-argument", DEP, "together_model: acmelab", "together_modle: acmelab", "HC0610", "together_modle",
            "loads; creating the client raises (TypeError, or first the missing extra)", deployments=(TOGETHER,)),
    Mistake("kwargs-near-miss", DEP, "        base_url: http", "        base_ur: http", "HC0611", "base_ur:",
            "loads; the key goes to **kwargs and base_url keeps its default", deployments=(VLLM,)),
    Mistake("tokenizer-name", DEP, "tokenizer_name: mistralai/Mistral-7B-v0.1", "tokenizer_name: mistralai/Mistral-7B-v0.2",
            "HC0613", "mistralai/Mistral-7B-v0.2", "loads; tokenizing raises 'Could not find tokenizer config'",
            tokenizers=("mistralai/Mistral-7B-v0.2",)),
    Mistake("model-without-metadata", DEP, "model_name: acmelab/mixtral-8x7b-ft", "model_name: acmelab/mixtral-8x7-ft", "HC0614",
            "acmelab/mixtral-8x7-ft", "loads; the model gets placeholder metadata with the unknown-model tags"),
    Mistake("duplicate-name", DEP, f"  - name: {VLLM}", f"  - name: {HF}", "HC0615", f"  - name: {HF}\n    model_name: acmelab/qwen",
            "loads; the later deployment replaces the first"),
    Mistake("replaces-builtin", TOK, "tokenizer_configs:\n", "tokenizer_configs:\n  - name: qwen/qwen2.5-7b-instruct\n"
            "    tokenizer_spec:\n      class_name: \"helm.tokenizers.huggingface_tokenizer.HuggingFaceTokenizer\"\n"
            "      args:\n        pretrained_model_name_or_path: /data/models/qwen2.5-7b-dpo\n", "HC0616",
            "  - name: qwen/qwen2.5-7b-instruct", "loads; the local tokenizer config replaces HELM's"),
    Mistake("coerced-bool", DEP, "    max_sequence_length: 32768\n    client_spec:\n      class_name: \"helm.clients.vllm_client",
            "    max_sequence_length: 32768\n    deprecated: \"no\"\n    client_spec:\n      class_name: \"helm.clients.vllm_client",
            "HC0618", 'deprecated: "no"', "loads; the deployment is deprecated (bool('no') is True)"),
    Mistake("duplicate-key", DEP, "    max_sequence_length: 8192\n", "    max_sequence_length: 8192\n    max_sequence_length: 4096\n",
            "HC0620", "    max_sequence_length: 4096", "loads; the later value wins"),
    Mistake("runner-type", RUN, "helm_max_concurrent_workers: 4", "helm_max_concurrent_workers: four", "HC0605", "four",
            "load raises WrongTypeError"),
]


def apply(m: Mistake, folder: Path) -> None:
    shutil.copytree(LAB, folder)
    for file, old, new in ((m.file, m.old, m.new), *m.extra):
        p = folder / file
        text = p.read_text(encoding="utf-8")
        assert text.count(old) == 1, (m.id, old)
        p.write_text(text.replace(old, new), encoding="utf-8")


def line_of(text: str, at: str) -> int:
    assert text.count(at) >= 1, at
    return text[: text.index(at)].count("\n") + 1 + (len(at) - len(at.lstrip("\n")))


def check(folder: Path) -> list[dict]:
    code, out, err = run_cli(["check", str(folder), "--format", "json"], folder.parent)
    assert code in (0, 1), err
    return json.loads(out)


def test_clean_lab_has_no_error(tmp_path: Path) -> None:
    shutil.copytree(LAB, tmp_path / "lab")
    diags = check(tmp_path / "lab")
    assert [d for d in diags if d["severity"] == "error"] == []


@pytest.mark.parametrize("m", MISTAKES, ids=[m.id for m in MISTAKES])
def test_each_mistake_is_flagged_at_its_line(m: Mistake, tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    apply(m, folder)
    diags = check(folder)
    text = (folder / m.file).read_text(encoding="utf-8")
    want = (str(folder / m.file), line_of(text, m.at))
    hits = [(d["path"], d["line"]) for d in diags if d["code"] == m.code]
    assert want in hits, (m.id, hits, diags)
    # nothing else new: the mistake is reported once, by its code (the lab's own warnings aside)
    clean = {(d["code"], d["line"], d["path"].rsplit("/", 1)[-1]) for d in check_clean(tmp_path)}
    others = [d for d in diags if d["code"] != m.code and (d["code"], d["line"], d["path"].rsplit("/", 1)[-1]) not in clean]
    assert [d for d in others if d["severity"] == "error"] == [], (m.id, others)


_CLEAN: dict[str, list[dict]] = {}


def check_clean(tmp_path: Path) -> list[dict]:
    if "x" not in _CLEAN:
        shutil.copytree(LAB, tmp_path / "clean")
        _CLEAN["x"] = check(tmp_path / "clean")
    return _CLEAN["x"]


# ---------------------------------------------------------------- HELM's own reaction


def expect(m: Mistake, r: dict) -> bool:
    """Whether HELM's recorded reaction is the one `m.helm` states."""
    load = r["load"]
    if m.helm.startswith("load raises"):
        kind = m.helm.split()[2]
        if kind == "YAMLError":
            return load.split(":")[0] in ("ParserError", "ScannerError", "ComposerError")
        return load.startswith(kind + ":")
    if load != "ok":
        return False
    deps, models = r["deployments"], r["models"]
    if m.id == "unknown-key":
        return deps[VLLM]["tokenizer_name"] is None
    if m.id == "access":
        return models["acmelab/llama-3.1-8b-sft"]["access"] == "private"
    if m.id == "tag":
        return "acmelab/llama-3.1-8b-sft" not in r["with_tag"]["INSTRUCTION_FOLLOWING_MODEL_TAG"]
    missing_extra = ("ModuleNotFoundError", "OptionalDependencyNotInstalled")  # importing the module fails first
    if m.id in ("client-class",):
        return r["clients"][VLLM].split(":")[0] in ("AttributeError", *missing_extra)
    if m.id == "tokenizer-class":
        return r["tokenizers_made"]["acmelab/llama-3.1-8b-sft"].startswith("AttributeError")
    if m.id == "class-argument":
        return r["clients"][TOGETHER].split(":")[0] in ("TypeError", *missing_extra)
    if m.id == "kwargs-near-miss":
        return "base_ur" in deps[VLLM]["args"] and r["clients"][VLLM].split(":")[0] in ("TypeError", "ok", *missing_extra)
    if m.id == "tokenizer-name":
        return "Could not find tokenizer config" in r["tokenizers_made"]["mistralai/Mistral-7B-v0.2"]
    if m.id == "model-without-metadata":
        ph = models.get("acmelab/mixtral-8x7-ft")
        return ph is not None and ph["creator"] == "Unknown" and ph["tags"] == ["TEXT_MODEL_TAG", "FULL_FUNCTIONALITY_TEXT_MODEL_TAG"]
    if m.id == "duplicate-name":
        return r["winning_deployments"][HF] == "acmelab/qwen2.5-7b-dpo"
    if m.id == "replaces-builtin":
        return "qwen/qwen2.5-7b-instruct" in r["tokenizers"]
    if m.id == "coerced-bool":
        return deps[VLLM]["deprecated"] is True
    if m.id == "duplicate-key":
        return deps[HF]["max_sequence_length"] == 4096
    return False


@pytest.fixture(scope="module")
def helm_reactions(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("prodenv_helm")
    cases = []
    for m in MISTAKES:
        apply(m, base / m.id)
        cases.append({"id": m.id, "folder": str(base / m.id), "deployments": list(m.deployments), "tokenizers": list(m.tokenizers)})
    shutil.copytree(LAB, base / "clean")
    cases.append({"id": "clean", "folder": str(base / "clean"), "deployments": [VLLM, TOGETHER]})
    (base / "cases.json").write_text(json.dumps(cases))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    p = subprocess.run([sys.executable, str(HERE / "prodenv_helm_probe.py"), str(base / "cases.json")],
                       capture_output=True, text=True, env=env, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
@pytest.mark.parametrize("m", MISTAKES, ids=[m.id for m in MISTAKES])
def test_helm_reaction(m: Mistake, helm_reactions: dict) -> None:
    r = helm_reactions[m.id]
    assert expect(m, r), (m.helm, r)


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_helm_loads_the_clean_lab_as_helmc_does(helm_reactions: dict) -> None:
    """HELM loads the clean lab; its models land in the tag lists helmc's catalog puts them in;
    a client whose extra is missing fails exactly where helm-check warned (HC0617)."""
    from helmc.compiler.catalog.catalog import UserAdditions, load_catalog
    from helmc.compiler.prodenv.check import load_config_catalog, _Names
    from helmc.compiler.catalog.catalog import load_catalog_data

    r = helm_reactions["clean"]
    assert r["load"] == "ok", r
    cat = load_catalog(UserAdditions(local_path=str(LAB), entry_points=False))
    for tag, names in r["with_tag"].items():
        assert [m for m in cat.model_names_with_tag(tag) if m in names] == names
        assert sorted(names) == sorted(m for m in cat.model_names_with_tag(tag) if m.startswith("acmelab/"))
    names = _Names(load_config_catalog(), load_catalog_data(), ())
    for dep in (VLLM, TOGETHER):
        cls = r["deployments"][dep]["class_name"]
        needs = names.row(cls).get("needs", [])
        missing = any(not names.module_exists(mod) for n in needs for mod in n["modules"])
        failed = r["clients"][dep].split(":")[0] in ("ModuleNotFoundError", "OptionalDependencyNotInstalled")
        assert failed == missing, (dep, r["clients"][dep])


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_docs_say_what_helm_does(helm_reactions: dict) -> None:
    """The notes of the HC06xx examples in docs/diagnostics.md name the error HELM was seen to raise."""
    notes = {e.code: e.note for e in EXAMPLES}
    seen = {m.code: helm_reactions[m.id] for m in MISTAKES if helm_reactions[m.id]["load"] != "ok"}
    for code, r in seen.items():
        exc = r["load"].split(":")[0]
        assert exc in notes[code] or (exc.endswith("Error") and "yaml.safe_load" in notes[code]), (code, exc, notes[code])
