"""Shared test helpers: where the shared data lives, and whether crfm-helm is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "helm-conf"
ORACLE = SHARED / "oracle" / "helm-0.5.16-openai_gpt2.jsonl"

HELM_INSTALLED = importlib.util.find_spec("helm") is not None

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")


def pytest_configure(config: pytest.Config) -> None:
    # A run that selects by marker (the fast loop, -m "not helm and not slow") does not reach the
    # snapshots of the tests it deselects, and syrupy would fail it for leaving them unused:
    # warn instead. The whole suite, as CI runs it, still fails on an unused snapshot.
    if getattr(config.option, "markexpr", "") and hasattr(config.option, "warn_unused_snapshots"):
        config.option.warn_unused_snapshots = True
