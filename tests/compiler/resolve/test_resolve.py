"""Resolution diagnostics: each misspelling class at the right span with the right fix."""

from __future__ import annotations

import pytest

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import load_entries, parse_file
from helmc.compiler.resolve.resolve import check_entries
from helmc.compiler.source import SourceFile

from conftest import CORPUS, needs_corpus


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def check(cat, *descriptions: str) -> list:
    sink = DiagnosticSink()
    entries = load_entries([], list(descriptions), sink)
    check_entries(entries, cat, sink)
    return sink.items


def one(cat, description: str, code: str):
    ds = [d for d in check(cat, description) if d.code == code]
    assert len(ds) == 1, [(d.code, d.message) for d in check(cat, description)]
    return ds[0]


@pytest.mark.parametrize(
    "description, code, token, replacement",
    [
        ("mmlu_pr:model=openai/gpt2", "HC0301", "mmlu_pr", "mmlu_pro"),
        ("mmlu:subjet=anatomy,model=openai/gpt2", "HC0302", "subjet", "subject"),
        ("mmlu:subject=anatomy,model=openai/gpt2,max_train_instance=all", "HC0302", "max_train_instance", "max_train_instances"),
        ("mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=al", "HC0307", "al", "all"),
        ("mmlu:subject=anatomy,model=openai/gpt2,eval_split=tset", "HC0307", "tset", "test"),
        ("mmlu:subject=anatomy,model=openai/gpt2,data_augmentation=canonicl", "HC0307", "canonicl", "canonical"),
        ("mmlu:subject=anatomy,model=txt", "HC0309", "txt", "text"),
        ("mmlu:subject=anatomy,model=instruction_folowing", "HC0309", "instruction_folowing", "instruction_following"),
        ("mmlu:subject=anatomy,model=openai/gtp2", "HC0308", "openai/gtp2", "openai/gpt2"),
        ("mmlu:subject=anatomy,model=meta/llama-3-8x", "HC0308", "meta/llama-3-8x", "meta/llama-3-8b"),
        ("mmlu:subject=anatomy,model=openai/gpt2,model_deployment=huggingface/gtp2", "HC0308", "huggingface/gtp2", "huggingface/gpt2"),
        ("cub200:run_human_eval=False,model=openai/gpt2", "HC0306", "False", "0"),
    ],
)
def test_misspelling_gets_fix_at_token(cat, description, code, token, replacement) -> None:
    d = one(cat, description, code)
    assert d.span.text == token
    assert d.fixes and d.fixes[0].replacement == replacement
    assert d.fixes[0].span == d.span
    assert d.help and replacement in d.help


def test_unknown_model_with_generator_is_a_warning(cat) -> None:
    # HELM's `openai/` generator makes a deployment for any name: HELM accepts it until run time
    d = one(cat, "mmlu:subject=anatomy,model=openai/gtp2", "HC0308")
    assert d.severity is Severity.WARNING


def test_unknown_model_without_generator_is_an_error(cat) -> None:
    d = one(cat, "mmlu:subject=anatomy,model=nosuchorg/gpt2", "HC0308")
    assert d.severity is Severity.ERROR


def test_missing_argument(cat) -> None:
    d = one(cat, "mmlu:model=openai/gpt2", "HC0303")
    assert d.span.text == "mmlu" and "subject" in d.message


def test_misspelled_required_argument_is_one_diagnostic(cat) -> None:
    codes = [d.code for d in check(cat, "mmlu:subjet=anatomy,model=openai/gpt2")]
    assert codes == ["HC0302"]


def test_duplicate_argument(cat) -> None:
    d = one(cat, "mmlu:subject=anatomy,subject=virology,model=openai/gpt2", "HC0304")
    assert d.span.text == "subject" and d.secondary and d.secondary[0].span.text == "subject=anatomy"


def test_wrong_type(cat) -> None:
    d = one(cat, "air_bench_chat:subject=mix,num_respondents=many,model=openai/gpt2", "HC0305")
    assert d.span.text == "many"


def test_integer_zero_is_false_not_flagged(cat) -> None:
    assert check(cat, "cub200:run_human_eval=0,model=openai/gpt2") == []


def test_expander_without_value(cat) -> None:
    d = one(cat, "mmlu:subject=anatomy,model=openai/gpt2,chatml=1", "HC0307")
    assert d.severity is Severity.ERROR


def test_expander_shadows_parameter(cat) -> None:
    d = one(cat, "summarization_cnndm:temperature=0.3,model=openai/gpt2", "HC0310")
    assert d.severity is Severity.INFO and d.span.text == "temperature"


def test_deprecated_model_and_empty_group(cat) -> None:
    d = one(cat, "mmlu:subject=anatomy,model=openai/text-davinci-002", "HC0311")
    assert d.severity is Severity.WARNING
    d = one(cat, "mmlu:subject=anatomy,model=openai/curie", "HC0311")
    assert "empty" in d.message


def test_deployment_for_another_model(cat) -> None:
    d = one(cat, "mmlu:subject=anatomy,model=openai/gpt2,model_deployment=huggingface/gpt-j-6b", "HC0312")
    assert d.span.text == "huggingface/gpt-j-6b"
    assert d.fixes and d.fixes[0].replacement == "huggingface/gpt2"


def test_duplicate_entries(cat) -> None:
    src = SourceFile(
        "x.conf",
        'entries: [\n  {description: "mmlu:subject=anatomy,model=text", priority: 1}\n'
        '  {description: "mmlu:model=text,subject=anatomy", priority: 2}\n]\n',
    )
    sink = DiagnosticSink()
    cf = parse_file(src, sink)
    check_entries(list(cf.entries), cat, sink)
    dups = [d for d in sink.items if d.code == "HC0401"]
    assert len(dups) == 1 and dups[0].span.start_line_col[0] == 3


def test_valid_entries_are_silent(cat) -> None:
    assert check(cat, "mmlu:subject=anatomy,model=text,max_train_instances=all", "med_qa:model=openai/gpt2") == []


@needs_corpus
def test_no_errors_on_real_helm_conf_files(cat) -> None:
    sink = DiagnosticSink()
    entries = load_entries([str(CORPUS)], [], sink)
    assert len(entries) > 2000
    check_entries(entries, cat, sink)
    errors = [(d.path, d.span.start_line_col, d.code, d.message) for d in sink.items if d.severity is Severity.ERROR]
    assert errors == []


SNAPSHOT_CASES = [
    "mmlu_pr:model=openai/gpt2",
    "mmlu:subjet=anatomy,model=openai/gpt2",
    "mmlu:model=openai/gpt2",
    "mmlu:subject=anatomy,subject=virology,model=openai/gpt2",
    "air_bench_chat:subject=mix,num_respondents=many,model=openai/gpt2",
    "cub200:run_human_eval=False,model=openai/gpt2",
    "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances=al,eval_split=tset,chatml=1",
    "mmlu:subject=anatomy,model=openai/gtp2",
    "mmlu:subject=anatomy,model=nosuchorg/gpt2",
    "mmlu:subject=anatomy,model=txt",
    "summarization_cnndm:temperature=0.3,model=openai/gpt2",
    "mmlu:subject=anatomy,model=openai/text-davinci-002",
    "mmlu:subject=anatomy,model=openai/gpt2,model_deployment=huggingface/gpt-j-6b",
]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_diagnostics_snapshot(cat, fmt, snapshot, monkeypatch) -> None:
    import io

    from helmc.compiler.emit import emit

    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    emit(check(cat, *SNAPSHOT_CASES), fmt, out)
    assert out.getvalue() == snapshot
