"""The Plan carries where each entry is written (compiler/plan/plan.py's SpanRef): the entry, its
description, each argument's key and value. The runtime places its diagnostics (HC0501-HC0505)
from those alone, with the inputs' texts to show; these tests hold the Plan's spans to the IR's,
and the runtime's placement to the Plan's, on plain data that went through pickle."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.syntax.frontend import parse_file, run_entry_entries
from helmc.compiler.plan.plan import PlanOptions, SpanRef
from helmc.compiler.plan.planner import entry_ref
from helmc.compiler.session import Options, RunSet
from helmc.compiler.source import SourceFile
from helmc.runtime.governor import RunReport
from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.run_folders import Occupant
from helmc.runtime.runspecs import BuiltRun
from helmc.runtime.session import Session, failed_argument
from strategies import conf_files, descriptions


def _offsets(ref: SpanRef, span) -> tuple:
    return (ref.path, ref.line_base, ref.start, ref.end), (span.path, span.source.line_base, span.start, span.end)


def _check_refs(entries) -> int:
    """Every planned piece of every entry: the EntryRef's span is the IR's, and survives pickle."""
    seen = 0
    for e in entries:
        if e.description is None:
            continue
        ref = entry_ref(e)
        again = pickle.loads(pickle.dumps(ref))
        assert again == ref and hash(again) == hash(ref) and again.args == ref.args
        assert again.span == ref.span and again.description_span == ref.description_span
        mine, ir = _offsets(ref.span, e.span)
        assert mine == ir
        mine, ir = _offsets(ref.description_span, e.description.span)
        assert mine == ir
        assert [(a.key, a.raw) for a in ref.args] == [(a.key.value, a.raw.value) for a in e.description.args]
        for a, b in zip(ref.args, e.description.args):
            for mine_span, ir_span in ((a.key_span, b.key.span), (a.value_span, b.raw.span)):
                mine, ir = _offsets(mine_span, ir_span)
                assert mine == ir
            seen += 1
        models = [b.raw.span for b in e.description.args if b.key.value == "model"]
        if models:
            mine, ir = _offsets(ref.model_span, models[-1])
            assert mine == ir
        else:
            assert ref.model_span is None
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conf_files(min_entries=1))
def test_conf_entries_carry_the_ir_s_spans(gen):
    """Through every quoting and escape of the generated conf files (the description's string
    maps decoded characters back to the file)."""
    entries = parse_file(SourceFile("gen.conf", gen.text), DiagnosticSink()).entries
    _check_refs(entries)


@settings(max_examples=100, deadline=None)
@given(st.lists(descriptions(), min_size=1, max_size=4))
def test_run_entries_carry_the_ir_s_spans(texts):
    """--run-entries: one path for every argument, told apart by line_base (the argument's index)."""
    entries = run_entry_entries(texts, DiagnosticSink())
    _check_refs(entries)
    refs = [entry_ref(e) for e in entries if e.description is not None]
    assert all(r.span.line_base == r.line for r in refs)


# ------------------------------------------------------------------ the runtime, from the Plan alone

CONF = 'entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}\n' \
       '  {description: "simple1:model=simple/model1,model_deployment=simple/model1", priority: 1}\n]\n'
RUN_ENTRIES = ("simple1:model=simple/model1", "mmlu:subject=anatomy,model=openai/gpt2",
               "mmlu:subject=astronomy,model=openai/gpt2")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A session's plan over a conf file and three --run-entries (two of one length: only
    line_base tells their spans apart), the plan sent through pickle as plain data."""
    folder = tmp_path_factory.mktemp("plan")
    conf = folder / "e.conf"
    conf.write_text(CONF, encoding="utf-8")
    session = Session(Options(selection=PlanOptions(max_eval_instances=1)),
                      RunSet((str(conf),), RUN_ENTRIES), HelmSettings(output_path=str(folder / "out")))
    plan = session.compile("plan")
    assert plan is not None and not session.sink.has_errors, [d.message for d in session.sink.items]
    session.compiled = None  # the runtime works from the plan and the inputs' texts only
    return session, pickle.loads(pickle.dumps(plan))


def _built(run) -> BuiltRun:
    return BuiltRun(run.name or "r", run, run.model, run.model_deployment, "f", b"")


def _texts(d):
    return d.span.source.text[d.span.start:d.span.end], d.span.path, d.span.start_line_col


def test_every_run_diagnostic_is_placed_at_its_entry(planned):
    session, plan = planned
    assert len({r.entry for r in plan.runs}) == 5
    for run in plan.runs:
        written = run.entry.description
        session.sink = DiagnosticSink()
        b = _built(run)
        session.run_folder_occupied(b, Occupant("a file", "x"))
        session.requests_failed(b, RunReport(failures=[{"deployment": "d", "message": "no"}], counts={"sent": 1}))
        session.run_failed(b, "RuntimeError: nothing of the entry here", None)
        assert [d.code for d in session.sink.items] == ["HC0504", "HC0505", "HC0503"]
        for d in session.sink.items:
            text, path, (line, _) = _texts(d)
            quoted = path != "<run-entries>"  # a conf file's string literal, as written
            assert text == (f'"{written}"' if quoted else written) and path == run.entry.path
            assert line == run.entry.line  # one entry per line here; for --run-entries, its index


@pytest.mark.parametrize("kind", ["value named", "executor error"])
def test_a_failed_run_points_at_the_argument(planned, kind):
    """HC0503 at an argument's value: HELM's ExecutorError (a request failed) at the
    deployment, else the model; any other error at the value it names first."""
    pytest.importorskip("helm.benchmark.executor")
    session, plan = planned
    for run in plan.runs:
        for arg in run.entry.args:
            if kind == "value named":
                error = f"ValueError: cannot load `{arg.raw}` today"
                want = next(a for a in run.entry.args if len(a.raw) > 1 and a.raw in error)
            else:
                error = "helm.benchmark.executor.ExecutorError: the client refused " + arg.raw
                want = run.entry.arg("model_deployment") or run.entry.arg("model")
            assert failed_argument(run.entry, error) == want
            session.sink = DiagnosticSink()
            session.run_failed(_built(run), error, None)
            (d,) = session.sink.items
            text, path, _ = _texts(d)
            assert (path, d.span.start, d.span.end) == (want.value_span.path, want.value_span.start, want.value_span.end)
            assert text == want.raw


def test_no_argument_named_means_the_description(planned):
    _, plan = planned
    for run in plan.runs:
        assert failed_argument(run.entry, "OSError: disk full") is None
        assert failed_argument(run.entry, None) is None


class _Lab(Exception):
    pass


@settings(max_examples=100, deadline=None)
@given(cls=st.sampled_from([ValueError, KeyError, OSError, _Lab, KeyboardInterrupt]),
       message=st.text(max_size=60))
def test_error_type_reads_the_class_a_one_line_error_starts_with(cls, message):
    """What crosses back from a worker (engine.one_line) names the exception's class first,
    qualified as traceback writes it; error_type reads it back, whatever the message says."""
    from helmc.runtime.engine import one_line
    from helmc.runtime.executor import error_type

    qualified = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    assert error_type(one_line(cls(message))) == qualified


def test_without_helm_no_error_is_taken_for_an_executor_error(planned, monkeypatch):
    """Where HELM's ExecutorError cannot be imported, errors go by the values they name."""
    from helmc.runtime import session as session_module

    monkeypatch.setattr(session_module, "_executor_error", lambda: None)
    _, plan = planned
    for run in plan.runs:
        assert failed_argument(run.entry, "KeyboardInterrupt") is None
        assert failed_argument(run.entry, "RuntimeError: boom") is None
        assert failed_argument(run.entry, "the worker ended: signal 9") is None  # no class named
