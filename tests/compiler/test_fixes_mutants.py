"""The fixes' measure: one-typo mutants of HELM's conf files are restored byte for byte by
`helm-check --fix` wherever the suggestion is unique, and files without mistakes are left as
they are. benchmarks/fix_share.py prints the same share over every entry of the corpus."""

from __future__ import annotations

import random
import shutil

import pytest

from conftest import CORPUS, needs_corpus
from helpers import run_cli
from mutation import KINDS, entry_texts, run, targets, typo, wrap

SHARE_FLOOR = 0.95  # measured: 1.0 on this sample (benchmarks/fix_share.py: all entries)


@pytest.fixture(scope="module")
def catalog():
    from helmc.compiler.catalog.catalog import load_catalog

    return load_catalog()


@needs_corpus
def test_one_typo_mutants_are_restored_where_the_suggestion_is_unique(catalog):
    rng = random.Random(12)
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.conf")):
        entries = list(dict.fromkeys(entry_texts(path)))
        texts += [wrap(e) for e in rng.sample(entries, min(4, len(entries)))]
    stats = run(texts, catalog, rng, per_text=2)
    reported = stats.mutants - stats.silent
    assert stats.unique >= 200, "too few unique mutants for the share to mean anything"
    for kind in KINDS:
        if kind != "expander value":  # few in HELM's files: counted, not floored
            assert stats.by_kind[(kind, "unique")] >= 20, kind
    print(f"share {stats.share:.3f} of {stats.unique} unique; {stats.restored}/{reported} of all reported; {stats.wrong} wrong")
    assert stats.share >= SHARE_FLOOR, stats.failures[:20]
    assert stats.wrong == 0
    assert stats.restored / reported >= 0.9


@needs_corpus
def test_whole_files_through_the_command(tmp_path, catalog):
    """The same on whole files, through `helm-check --fix` itself: one mutant per kind."""
    rng = random.Random(7)
    done = set()
    for path in sorted(CORPUS.glob("*.conf")):
        text = path.read_text(encoding="utf-8")
        for t in targets(text, catalog):
            if t.kind in done:
                continue
            word = text[t.start : t.end]
            bad = typo(word, rng)
            if bad in t.candidates:
                continue
            mutant = tmp_path / path.name
            mutant.write_bytes((text[: t.start] + bad + text[t.end :]).encode("utf-8"))
            status, out, _ = run_cli(["check", "--fix", mutant.name], tmp_path)
            assert status in (0, 1)
            assert mutant.read_bytes() == path.read_bytes(), (t.kind, word, bad, out[-2000:])
            done.add(t.kind)
            break
    assert done == set(KINDS) - {"expander value"} or done == set(KINDS)


@needs_corpus
def test_files_without_mistakes_are_left_byte_for_byte(tmp_path):
    """--fix on HELM's own files changes nothing: their diagnostics (deprecated models,
    duplicates, `=False` on a bool parameter) have no safe fix, since HELM runs them as written."""
    folder = tmp_path / "conf"
    shutil.copytree(CORPUS, folder)
    status, out, err = run_cli(["check", "--fix", "conf"], tmp_path)
    assert status in (0, 1), err
    assert "Fixed 0 problems" in out
    for path in sorted(CORPUS.glob("*.conf")):
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name
