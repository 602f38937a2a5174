"""The README's promise for a partial install: a test whose optional package is missing skips,
saying which extra to install; it never fails. The suite runs again in a child process whose
imports of every optional package fail (tests/without_extras/sitecustomize.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# The import names of the extras in pyproject.toml: helm (crfm-helm, genai-prices), ray, slurm
# (submitit), lsp (pygls, lsprotocol), lsp-test (pytest-lsp), and openai of the test extra.
EXTRAS = ["helm", "genai_prices", "ray", "submitit", "pygls", "lsprotocol", "pytest_lsp", "openai"]


@pytest.mark.slow
def test_the_suite_skips_what_needs_a_missing_extra():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "without_extras"), os.environ.get("PYTHONPATH", "")]),
           "HELMC_TEST_WITHOUT": ",".join(EXTRAS)}
    # pytest-lsp is installed here as a pytest plugin: without its packages it cannot load at all
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "not slow", "-p", "no:cacheprovider", "-p", "no:pytest-lsp",
         "-x", str(TESTS)],
        env=env, capture_output=True, text=True, timeout=1800, cwd=str(TESTS.parent),
    )
    tail = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and re.search(r"\d+ skipped", summary), summary
    assert "failed" not in summary and "error" not in summary, summary
