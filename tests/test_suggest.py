"""Did-you-mean: the indexed `closest` gives exactly what difflib's get_close_matches gave.

The reference below is helmc's suggestion function as it was before the index: the candidates
deduplicated, the word itself left out, a case-only difference first, else difflib over the
lower-cased names. Compared on typos of every kind of name the catalog has, and on arbitrary
words and candidate sets (duplicates, case variants, the word among them).
"""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.catalog import UserAdditions, load_catalog
from helmc.compiler.passes.suggest import closest


def reference(word: str, candidates: list[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    cands = [c for c in dict.fromkeys(candidates) if c != word]
    if not word or not cands:
        return []
    exact_ci = [c for c in cands if c.lower() == word.lower()]
    if exact_ci:
        return exact_ci[:n]
    lower: dict[str, str] = {}
    for c in cands:
        lower.setdefault(c.lower(), c)
    return [lower[f] for f in difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=cutoff)]


CATALOG = load_catalog(UserAdditions(local_path=None, entry_points=False))
SETS = {
    "all names": list(CATALOG.all_names()),
    "models": list(CATALOG.models),
    "deployments": list(CATALOG.deployments),
    "functions": list(CATALOG.functions),
    "expanders": list(CATALOG.expanders),
}


@st.composite
def typos(draw, names: list[str]) -> str:
    word = draw(st.sampled_from(names))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(word)))
        op = draw(st.sampled_from(["insert", "delete", "swap", "case"]))
        if op == "insert":
            word = word[:i] + draw(st.sampled_from("aeiou-/_.0123xyzAG")) + word[i:]
        elif op == "delete":
            word = word[:i] + word[i + 1 :]
        elif op == "swap" and i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif op == "case":
            word = word.swapcase()
    return word


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SETS)).flatmap(lambda k: st.tuples(st.just(k), typos(SETS[k]))))
def test_typos_of_catalog_names(case: tuple[str, str]) -> None:
    kind, word = case
    assert closest(word, SETS[kind]) == reference(word, SETS[kind])


names = st.text("abcAB-/_12", min_size=0, max_size=8)


@settings(max_examples=500, deadline=None)
@given(names, st.lists(names, max_size=12), st.integers(1, 4), st.sampled_from([0.0, 0.4, 0.5, 0.6, 0.75, 1.0]))
def test_arbitrary_words_and_sets(word: str, candidates: list[str], n: int, cutoff: float) -> None:
    assert closest(word, candidates, n, cutoff) == reference(word, candidates, n, cutoff)


def test_a_cutoff_met_exactly_is_kept() -> None:
    # 2*3/(5+5) = 0.6 exactly: difflib keeps it, and so must the prefilter.
    assert reference("abcde", ["abcxy"]) == ["abcxy"]
    assert closest("abcde", ["abcxy"]) == ["abcxy"]
