"""docs/ stays true: generated pages match what the code produces today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helmc.compiler.codes import CODES

REPO = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current():
    r = subprocess.run([sys.executable, str(REPO / "tests" / "gen_docs.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_code_is_documented():
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code, rule in CODES.items():
        assert f"## {code} `{rule.name}`" in text
