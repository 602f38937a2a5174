"""Properties of the fix engine over generated conf files (tests/strategies.py): valid ones,
ones damaged in known ways, and random character noise. Whatever the input, the engine never
raises, never adds a syntax error, reaches a fixed point, and with safe fixes keeps what
pyhocon reads of a valid file's structure (the same number of entries)."""

from __future__ import annotations

import re
from functools import lru_cache

import pyhocon
from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.fixes import _is_structural, check_source, fix_source
from helmc.compiler.source import SourceFile
from strategies import conf_files, damaged_conf_files, mutated_texts

# Names from HELM's catalog, one typo away or not, so that fixes happen often.
TYPOS = st.sampled_from(["mmlx", "simpl1", "gqpa", "mmlu_por", "MMLU", "bqq", "mmlu", "text", "openai/gtp2"])


@lru_cache(maxsize=1)
def catalog():
    from helmc.compiler.catalog.catalog import load_catalog

    return load_catalog()


def check(s: SourceFile):
    return check_source(s, catalog())


def entries_read(text: str) -> int | None:
    try:
        conf = pyhocon.ConfigFactory.parse_string(text)
        return len(conf.get("entries", []))
    except Exception:
        return None


def _invariants(text: str, unsafe: bool) -> None:
    source = SourceFile("gen.conf", text)
    before = check(source)
    result = fix_source(source, check, unsafe=unsafe)
    assert sum(map(_is_structural, result.left)) <= sum(map(_is_structural, before))
    again = fix_source(SourceFile("gen.conf", result.text), check, unsafe=unsafe)
    assert again.text == result.text, "not a fixed point"
    if not result.changed:
        assert not result.applied
    # Safe fixes keep the entries pyhocon reads, unless they make a file readable at all: one
    # pyhocon cannot parse (a byte order mark it chokes on), or one without its `entries` list
    # (`ntries:` -> `entries:`, the pre-2023 rewrite).
    before_entries = entries_read(text)
    made_readable = before_entries is None or any(a.diagnostic.code in ("HC0101", "HC0107") for a in result.applied)
    if not unsafe and not made_readable:
        assert entries_read(result.text) == before_entries


@settings(max_examples=25)
@given(conf_files(min_entries=1), TYPOS, st.booleans())
def test_valid_files_with_typos(gen, typo, unsafe):
    # Put a catalog name (maybe mistyped) in front of the first quoted description's text.
    text = re.sub(r'((?<!")description\s*[:=]\s*")(?!"")', lambda m: m.group(1) + typo + ":", gen.text, count=1)
    _invariants(text, unsafe)


@settings(max_examples=25)
@given(damaged_conf_files(), st.booleans())
def test_damaged_files(gen, unsafe):
    _invariants(gen.text, unsafe)


@settings(max_examples=25)
@given(mutated_texts(), st.booleans())
def test_noise(text, unsafe):
    _invariants(text, unsafe)
