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

from conftest import CORPUS  # noqa: E402 - the shared corpus, wherever the checkout sits

FILES = sorted(CORPUS.glob("*.conf")) if CORPUS.is_dir() else []

needs_files = pytest.mark.skipif(not FILES, reason=f"no shared corpus at {CORPUS}")


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


@needs_files
def test_corpus_has_all_files() -> None:
    assert len(FILES) == 46


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@needs_files
def test_entries_agree_with_pyhocon(path: Path, parsed: dict[str, list]) -> None:
    with open(path) as f:  # exactly as HELM's read_run_entries opens it
        helm = helm_entries(f.read())
    mine = [(e["description"], e["priority"], e["groups"]) for e in parsed[str(path)]]
    assert mine == helm


@needs_files
def test_corpus_has_no_errors() -> None:
    doc = _helmc_parse(FILES)
    assert [d for d in doc["diagnostics"] if d["severity"] == "error"] == []


@pytest.mark.helm
def test_run_entry_copy_is_helms() -> None:
    """helm_reading's copy of RunEntry (used where crfm-helm is absent) equals HELM's dataclass."""
    import dataclasses
    import typing

    helm_run_entry = pytest.importorskip("helm.benchmark.presentation.run_entry")
    import helm_reading

    def shape(cls: type) -> list[tuple[str, str, object]]:
        hints = typing.get_type_hints(cls)
        # the nested RunEntry differs only in its module: compare type names without it
        return [(f.name, str(hints[f.name]).replace(f"{cls.__module__}.", ""), f.default) for f in dataclasses.fields(cls)]

    assert shape(helm_reading.RunEntry) == shape(helm_run_entry.RunEntry)
    assert shape(helm_reading.RunEntries) == shape(helm_run_entry.RunEntries)
