"""The catalog: built statically from HELM's source, loaded fast, answering as HELM answers."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from helmc.compiler.catalog import build as cb
from helmc.compiler.catalog.catalog import UserAdditions, catalog_from_json, load_catalog, snapshot_path

REPO = Path(__file__).resolve().parents[3]
WHEEL_SRC = Path("/work/helm-src/src")


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def test_snapshot_is_for_0_5_16_and_complete(cat) -> None:
    assert cat.helm_version == "0.5.16"
    assert "mmlu" in cat.functions and "med_qa" in cat.functions
    assert len(cat.functions) > 250
    assert list(cat.expanders)[0] == "instructions"  # RUN_EXPANDER_SUBCLASSES order
    assert cat.expanders["max_train_instances"].values_for("all") == [0, 1, 2, 4, 8, 16]
    assert cat.expanders["max_train_instances"].values_for(3) == [3]
    assert cat.expanders["eval_split"].choices == ("test", "valid")
    assert cat.expanders["chatml"].kind == "none"
    assert cat.expanders["add_to_stop"].kind == "free"
    assert cat.expanders["output_format_instructions"].kind == "free"
    assert len(cat.expanders["data_augmentation"].values_for("misspelling_sweep")) == 4


def test_parameters_keep_annotation_default_and_required(cat) -> None:
    mmlu = cat.functions["mmlu"]
    subject = mmlu.param("subject")
    method = mmlu.param("method")
    assert subject is not None and subject.required and subject.annotation == "str"
    assert method is not None and not method.required and method.default == "ADAPT_MULTIPLE_CHOICE_JOINT"
    assert mmlu.groups_for({"subject": "anatomy"}) == ["mmlu"]


def test_default_deployment_is_last_non_deprecated(cat) -> None:
    assert cat.default_deployment("openai/gpt2") == "huggingface/gpt2"
    for name in list(cat.models)[:200]:
        deps = cat.deployments_of(name)
        if deps:
            live = [d for d in deps if not d.deprecated]
            assert cat.default_deployment(name) == (live or deps)[-1].name


def test_wildcards_leave_out_deprecated_and_keep_order(cat) -> None:
    groups = cat.model_group_to_model_names()
    for key in ("all", "text", "code", "text_code", "vlm", "ablation", "ablation_text"):
        assert key in groups
    text = groups["text"]
    assert "openai/gpt2" in text
    assert all(not cat.models[m].deprecated and not cat.models[m].unsupported for m in text)
    order = [m.name for m in cat.model_list]
    assert text == sorted(text, key=order.index)
    assert cat.expand_model_value("openai/gpt2") == ["openai/gpt2"]
    assert cat.expand_model_value("openai/curie") == []  # a fixed group whose model is deprecated


def test_generated_deployments(cat) -> None:
    d = cat.get_deployment("openai/some-new-model")
    assert d is not None and d.model_name == "openai/some-new-model"
    assert cat.get_deployment("nosuchhost/x") is None
    d = cat.get_deployment("litellm/anthropic/claude-x")
    assert d is not None and d.model_name == "anthropic/claude-x"


def test_loading_is_fast() -> None:
    t = time.perf_counter()
    data = json.load(open(snapshot_path(), encoding="utf-8"))
    catalog_from_json(data).model_group_to_model_names()
    assert time.perf_counter() - t < 1.0


def test_local_path_additions(tmp_path) -> None:
    (tmp_path / "model_metadata.yaml").write_text(
        "models:\n  - name: acme/foo\n    display_name: Foo\n    description: x\n    creator_organization_name: Acme\n"
        "    access: open\n    release_date: 2024-01-01\n    tags: [TEXT_MODEL_TAG]\n"
    )
    (tmp_path / "model_deployments.yaml").write_text(
        "model_deployments:\n  - name: acme/foo-v1\n    model_name: acme/foo\n    tokenizer_name: huggingface/gpt2\n"
        "    client_spec:\n      class_name: x\n  - name: acme/bar\n    client_spec:\n      class_name: x\n"
    )
    cat = load_catalog(UserAdditions(local_path=str(tmp_path), entry_points=False))
    assert cat.default_deployment("acme/foo") == "acme/foo-v1"
    # a deployment without metadata registers default metadata (text), as HELM does
    assert "acme/bar" in cat.models and "acme/bar" in cat.model_group_to_model_names()["text"]
    assert "acme/foo" in cat.model_group_to_model_names()["text"]


def test_plugins_and_huggingface(tmp_path) -> None:
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text(
        "from helm.benchmark.run_spec import run_spec_function\n\n"
        "@run_spec_function('my_task')\ndef get_my_task(level: int, verbose: bool = False):\n    pass\n"
    )
    cat = load_catalog(
        UserAdditions(local_path=None, plugins=(str(plugin),), entry_points=False, enable_huggingface_models=("acme/tiny",))
    )
    fn = cat.functions["my_task"]
    assert [p.name for p in fn.params] == ["level", "verbose"] and fn.origin.startswith("plugin:")
    assert cat.default_deployment("acme/tiny") == "acme/tiny"


def _sources() -> list[cb.HelmSource]:
    out = []
    if cb.installed_helm_root() is not None:
        out.append(cb.open_source(None))
    if (WHEEL_SRC / "helm").is_dir():
        out.append(cb.open_source(str(WHEEL_SRC)))
    return out


def test_rebuild_matches_snapshot() -> None:
    """The shipped snapshot is what `helmc catalog build` makes from crfm-helm 0.5.16 (its files
    only: HELM is not imported, so this runs wherever the package is installed)."""
    sources = [s for s in _sources() if s.version == "0.5.16"]
    if not sources:
        pytest.skip("crfm-helm 0.5.16 is not installed")
    shipped = json.load(open(snapshot_path(), encoding="utf-8"))
    for src in sources:
        built = cb.build_catalog(src)
        buf = io.StringIO()
        cb.dump_catalog(built, buf)
        assert json.loads(buf.getvalue()) == shipped, src.root


def test_build_errors_are_messages(tmp_path) -> None:
    with pytest.raises(cb.CatalogBuildError):
        cb.open_source(str(tmp_path))


def test_run_spec_functions_doc_is_generated_and_current() -> None:
    from helmc.commands.catalog import markdown

    doc = REPO / "docs" / "run_spec_functions.md"
    cat = load_catalog(UserAdditions(local_path=None, entry_points=False))
    assert doc.read_text(encoding="utf-8") == markdown(cat, "functions"), (
        "regenerate: helmc catalog functions --format markdown > docs/run_spec_functions.md"
    )
