"""Shared test helpers: where the shared data lives, whether crfm-helm is installed, and the
corpus entries beside what HELM built for each (the oracle)."""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
# The shared data beside the checkout; a git worktree sits one folder deeper (wt/NAME).
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared" / "corpus").is_dir()), REPO.parent / "shared")
CORPUS = SHARED / "corpus" / "helm-conf"
ORACLE = SHARED / "oracle" / "helm-0.5.16-openai_gpt2.jsonl"

HELM_INSTALLED = importlib.util.find_spec("helm") is not None

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
needs_oracle = pytest.mark.skipif(not (ORACLE.is_file() and CORPUS.is_dir()), reason="../shared oracle or corpus absent")


def oracle_rows() -> dict[str, list[dict]]:
    """The oracle's rows (what HELM 0.5.16 built for each corpus entry, or the error it raised),
    by corpus file, in the order of the file's entries."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    with open(ORACLE, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            by_file[row["file"]].append(row)
    return by_file


def oracle_options():
    """The flags the oracle was made with: --models-to-run openai/gpt2 --max-eval-instances 10."""
    from helmc.compiler.plan.plan import PlanOptions

    return PlanOptions(models_to_run=("openai/gpt2",), max_eval_instances=10)


def oracle_plans(catalog: Any) -> Iterator[tuple[Any, dict, Any]]:
    """(entry, oracle row, helmc's plan of that entry alone) for each corpus entry that HELM
    built (its row has no error), under the oracle's flags, file by file."""
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.compiler.syntax.frontend import load_entries

    from helpers import plan_entries

    options = oracle_options()
    for name, rows in sorted(oracle_rows().items()):
        entries = load_entries([str(CORPUS / name)], [], DiagnosticSink())
        for entry, row in zip(entries, rows, strict=True):
            if "error" not in row:
                yield entry, row, plan_entries([entry], catalog, options, DiagnosticSink())


def pytest_configure(config: pytest.Config) -> None:
    # A run that selects by marker (the fast loop, -m "not helm and not slow") does not reach the
    # snapshots of the tests it deselects, and syrupy would fail it for leaving them unused:
    # warn instead. The whole suite, as CI runs it, still fails on an unused snapshot.
    if getattr(config.option, "markexpr", "") and hasattr(config.option, "warn_unused_snapshots"):
        config.option.warn_unused_snapshots = True
