"""The differential over the real HELM conf files: helmc's entries are HELM's, file by file.

HELM's reading is pyhocon + dacite (tests/helm_reading.py); helmc's is `helmc parse`, run
in-process, whose JSON is the contract. Skips cleanly without ../shared or pyhocon.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from helm_reading import helm_entries

pytest.importorskip("pyhocon")

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "helm-conf"
FILES = sorted(CORPUS.glob("*.conf")) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason=f"no shared corpus at {CORPUS}")


def _helmc_parse(paths: list[Path]) -> dict:
    from helmc.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["parse", *map(str, paths), "--format", "json"])
    assert code in (0, 1)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def parsed() -> dict[str, list]:
    doc = _helmc_parse(FILES)
    return {f["path"]: f["entries"] for f in doc["files"]}


def test_corpus_has_all_files() -> None:
    assert len(FILES) == 46


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_entries_agree_with_pyhocon(path: Path, parsed: dict[str, list]) -> None:
    with open(path) as f:  # exactly as HELM's read_run_entries opens it
        helm = helm_entries(f.read())
    mine = [(e["description"], e["priority"], e["groups"]) for e in parsed[str(path)]]
    assert mine == helm


def test_corpus_has_no_errors() -> None:
    doc = _helmc_parse(FILES)
    assert [d for d in doc["diagnostics"] if d["severity"] == "error"] == []
