"""Fidelity to HELM itself: helmc's plan against what HELM 0.5.16 built for every corpus entry
(--models-to-run openai/gpt2 --max-eval-instances 10)."""

from __future__ import annotations

import pytest

from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.syntax.frontend import load_entries

from helpers import plan_entries

from conftest import CORPUS, needs_oracle, oracle_options, oracle_rows

pytestmark = needs_oracle

# HELM failing at run time (downloads, optional modules), not a mistake in the entry
RUNTIME_FAILURES = ("HTTPError", "URLError", "ModuleNotFoundError", "OSError", "ConnectionError")


def test_oracle_agreement() -> None:
    cat = load_catalog()
    options = oracle_options()
    total = agree = 0
    disagreements = []
    for name, rows in sorted(oracle_rows().items()):
        sink = DiagnosticSink()
        entries = load_entries([str(CORPUS / name)], [], sink)
        assert len(entries) == len(rows), name
        for entry, row in zip(entries, rows):
            assert entry.description is not None and entry.description.text == row["description"]
            esink = DiagnosticSink()
            plan = plan_entries([entry], cat, options, esink)
            errors = [d.message for d in esink.items if d.severity is Severity.ERROR]
            if "error" in row:
                # HELM failed at run time: the entry itself is fine and must still plan
                assert row["error"].startswith(RUNTIME_FAILURES), row["error"]
                assert not errors and plan.runs, (name, row["description"], errors)
                continue
            total += 1
            got = [(r.model, r.model_deployment) for r in plan.runs]
            want = [(r["model"], r["model_deployment"]) for r in row["runs"]]
            if got == want and not errors:
                agree += 1
            else:
                disagreements.append((name, row["index"], row["description"], got, want, errors))
    print(f"oracle agreement: {agree} of {total} entries")
    assert disagreements == []


def test_oracle_groups_where_known() -> None:
    """run_spec.groups read statically agree with HELM's wherever helmc claims to know them."""
    cat = load_catalog()
    known = 0
    for name, rows in sorted(oracle_rows().items()):
        entries = load_entries([str(CORPUS / name)], [], DiagnosticSink())
        for entry, row in zip(entries, rows):
            if "error" in row or not row["runs"]:
                continue
            desc = entry.description
            fn = cat.functions[desc.name.value]
            fargs = {k: v for k, v in desc.arg_dict().items() if k not in cat.expanders}
            groups = fn.groups_for(fargs)
            if groups is None:
                continue
            want = row["runs"][0]["groups"]
            if row["groups"]:
                want = want[: len(want) - len(row["groups"])]
            assert groups == want, (name, row["description"])
            known += 1
    assert known > 900
