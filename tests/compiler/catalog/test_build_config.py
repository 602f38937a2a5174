"""The config catalog (compiler/catalog/data/helm-config-*.json): generated from HELM's source, current."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from helmc.compiler.catalog import build as cb
from helmc.compiler.catalog import build_config as cc

DATA = Path(cc.__file__).resolve().parent / "data" / "helm-config-0.5.16.json"


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _installed_0516():
    found = cb.installed_helm_root()
    if found is None or found[1] != "0.5.16":
        pytest.skip("crfm-helm 0.5.16 is not installed")
    return cb.HelmSource(*found)


def test_rebuild_matches_shipped(shipped) -> None:
    built = cc.build_config_catalog(_installed_0516())
    buf = io.StringIO()
    cb.dump_catalog(built, buf)
    assert json.loads(buf.getvalue()) == shipped


def test_catalog_build_writes_it(tmp_path, shipped) -> None:
    _installed_0516()
    from helmc.cli import main

    out = tmp_path / "cfg.json"
    assert main(["catalog", "build", "-o", str(tmp_path / "cat.json"), "--config-output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == shipped


def test_every_file_has_its_root_and_loader(shipped) -> None:
    assert set(shipped["files"]) == {"model_deployments.yaml", "model_metadata.yaml", "tokenizer_configs.yaml", "runner_config.yaml"}
    for f in shipped["files"].values():
        assert f["root"] in shipped["dataclasses"] and f["loader"] in ("cattrs", "dacite")


@pytest.mark.helm
def test_fields_agree_with_the_imported_dataclasses(shipped) -> None:
    """Differential: every dataclass read statically has the fields, order and defaults that
    dataclasses.fields() reports for the imported class."""
    pytest.importorskip("helm")
    import dataclasses
    import importlib

    for full, row in shipped["dataclasses"].items():
        module, _, name = full.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        fields = dataclasses.fields(cls)
        assert [f.name for f in fields] == [f["name"] for f in row["fields"]], full
        for f, r in zip(fields, row["fields"]):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            assert has_default == r["has_default"], (full, f.name)


@pytest.mark.helm
def test_constructors_agree_with_inspect(shipped) -> None:
    """Differential over every client, tokenizer and window service class whose module imports
    here: the statically read parameters are inspect.signature's (own __init__ only)."""
    pytest.importorskip("helm")
    import importlib
    import inspect

    checked = 0
    for kind in shipped["object_classes"].values():
        for full, row in kind["classes"].items():
            if "init" not in row:
                continue
            module, _, name = full.rpartition(".")
            try:
                cls = getattr(importlib.import_module(module), name)
            except Exception:  # an optional extra that is not installed
                continue
            if "__init__" not in vars(cls):
                continue
            sig = inspect.signature(cls.__init__)
            params = [p for p in list(sig.parameters.values())[1:] if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            assert [p.name for p in params] == [p["name"] for p in row["init"]["params"]], full
            assert [p.default is p.empty for p in params] == [p["required"] for p in row["init"]["params"]], full
            assert any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()) == row["init"]["var_keyword"], full
            checked += 1
    assert checked >= 25  # the rest need extras not installed here


def test_tags_access_and_extras(shipped) -> None:
    assert "TEXT_MODEL_TAG" in shipped["tags"] and "DEPRECATED_MODEL_TAG" in shipped["tags"]
    assert sorted(shipped["access_values"]) == ["closed", "limited", "open"]
    assert "together" in shipped["extras"] and "openai" in shipped["extras"]
    vllm = shipped["object_classes"]["client"]["classes"]["helm.clients.vllm_client.VLLMClient"]
    assert vllm["init"]["kwargs"] == "super"
    assert {"extras": ["openai"], "modules": ["openai"]} in vllm["needs"]
    assert "tokenizer" in shipped["object_classes"]["client"]["injected"]
