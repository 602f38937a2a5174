"""JSON Schemas of HELM's config files: valid JSON Schema, the lab passes, and the structural
mistakes helm-check flags fail them."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from helmc.compiler.prodenv.schema import json_schema, schema_names
from helpers import run_cli

LAB = Path(__file__).resolve().parents[2] / "data" / "prodenv_lab"


def as_editor_sees(text: str):
    """yaml-language-server reads YAML 1.2: an unquoted date is a string, not a date."""

    def conv(v):
        if isinstance(v, (datetime.date, datetime.datetime)):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(yaml.safe_load(text))


@pytest.mark.parametrize("name", schema_names())
def test_schema_is_valid_and_the_lab_passes(name: str) -> None:
    schema = json_schema(name)
    jsonschema.Draft7Validator.check_schema(schema)
    f = LAB / f"{name}.yaml"
    jsonschema.validate(as_editor_sees(f.read_text()), schema)


MISTAKES = [
    ("model_deployments", "tokenizer_name:", "tokenizr_name:"),  # unknown key
    ("model_deployments", "    client_spec:\n      class_name: \"helm.clients.vllm_client.VLLMChatClient\"", "    client_sepc:\n      class_name: x"),
    ("model_deployments", "max_sequence_length: 8192", "max_sequence_length: 8k"),
    ("model_deployments", "helm.clients.vllm_client.VLLMChatClient", "helm.clients.vllm_client.VllmChatClient"),
    ("model_metadata", "num_parameters: 8030000000", "num_parameters: 8B"),
    ("model_metadata", "access: closed", "access: public"),
    ("model_metadata", "INSTRUCTION_FOLLOWING_MODEL_TAG]", "INSTRUCTION_FOLLOWING_TAG]"),
    ("model_metadata", "release_date: 2025-03-14", "release_date: March 2025"),
    ("model_metadata", "    creator_organization_name: AcmeLab\n", ""),
    ("tokenizer_configs", "end_of_text_token", "eos_token"),
    ("runner_config", "helm_max_concurrent_workers: 4", "helm_max_concurrent_workers: four"),
]


@pytest.mark.parametrize("name,old,new", MISTAKES)
def test_structural_mistakes_fail_the_schema_and_helm_check(name: str, old: str, new: str, tmp_path: Path) -> None:
    text = (LAB / f"{name}.yaml").read_text()
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(as_editor_sees(bad), json_schema(name))
    (tmp_path / f"{name}.yaml").write_text(bad)
    code, out, err = run_cli(["check", f"{name}.yaml", "--format", "json"], tmp_path)
    assert any(d["code"].startswith("HC06") and d["code"] not in ("HC0617", "HC0614", "HC0613") for d in json.loads(out)), out


def test_catalog_schema_command(tmp_path: Path) -> None:
    code, out, err = run_cli(["catalog", "schema", "tokenizer_configs"], tmp_path)
    assert code == 0 and json.loads(out)["title"].startswith("HELM tokenizer_configs.yaml")
    code, out, err = run_cli(["catalog", "schema", "nope"], tmp_path)
    assert code == 2 and "model_deployments" in err
    code, out, err = run_cli(["catalog", "schema"], tmp_path)
    assert code == 2
