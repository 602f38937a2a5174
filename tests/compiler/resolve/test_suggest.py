"""Did-you-mean: the indexed `closest` gives exactly what the plain reference below gives.

The reference ranks by what users mistype, written plainly: the candidates deduplicated, the
word itself left out; a case-only difference first; else the one name a single typo away; then
the names that extend the word at a separator (a date or version suffix first, the shortest
first); then difflib's get_close_matches over the lower-cased names. Compared on typos of every
kind of name the catalog has, and on arbitrary words and candidate sets (duplicates, case
variants, the word among them).
"""

from __future__ import annotations

import difflib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.catalog.catalog import UserAdditions, load_catalog
from helmc.compiler.resolve.suggest import closest


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
    low = word.lower()
    first: list[str] = []
    typos = [c for c in cands if c.lower() != low and _one_typo(low, c.lower())]
    if len(typos) == 1 and difflib.SequenceMatcher(None, low, typos[0].lower()).ratio() >= cutoff:
        first.append(typos[0].lower())
    if len(low) >= 3 and low[-1] not in "-_./:@":
        order = list(lower)
        ext = [k for k in order if k.startswith(low) and len(k) > len(low) and k[len(low)] in "-_./:@"]
        ext.sort(key=lambda k: (not re.match(r"[-_.:@]v?\d", k[len(low):]), len(k), order.index(k)))
        first += [k for k in ext[:n] if k not in first]
    rest = [k for k in lower if k not in first]
    keys = [*first, *difflib.get_close_matches(low, rest, n=max(0, n - len(first)), cutoff=cutoff)] if len(first) < n else first
    return [lower[k] for k in keys[:n]]


def _one_typo(a: str, b: str) -> bool:
    """One letter missing, extra or wrong, or two neighbouring letters swapped."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


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


def test_a_name_that_extends_what_was_typed_ranks_first() -> None:
    models = SETS["models"]
    assert closest("openai/gpt-4o", models)[0] == "openai/gpt-4o-2024-05-13"
    assert closest("eleutherai/pythia-1b", models)[0] == "eleutherai/pythia-1b-v0"
    assert closest("anthropic/claude-3-opus", models)[0] == "anthropic/claude-3-opus-20240229"
    # a date or version suffix before another word, the shorter first
    assert closest("x/m", ["x/m-mini-2024", "x/m-2024-05-13", "x/m-2024-08-06", "x/mmmm"])[:2] == [
        "x/m-2024-05-13", "x/m-2024-08-06"]
    # the one name a single typo away stays first: it is the safe fix
    assert closest("openai/gpt", models)[0] == "openai/gpt2"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=12))
def test_names_made_once_are_the_same_candidates_as_a_tuple(word: str, candidates: list[str]) -> None:
    """Names (a tuple hashed once) is the same memo key as the plain tuple of its items, and
    gives the same suggestions and the same safe fix."""
    from helmc.compiler.resolve.suggest import Names, unique_close

    names = Names(candidates)
    assert names == tuple(candidates) and hash(names) == hash(tuple(candidates))
    assert closest(word, names) == closest(word, tuple(candidates)) == closest(word, list(candidates))
    assert unique_close(word, names) == unique_close(word, candidates)
