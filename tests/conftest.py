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
