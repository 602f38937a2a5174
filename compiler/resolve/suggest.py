"""Did-you-mean: the closest known names to a misspelled one (difflib's choice, case-insensitive).

The suggestions are exactly `difflib.get_close_matches` over the lower-cased candidates, but a
checker of a file with thousands of mistakes asks for them thousands of times against ~1200
model and deployment names, and difflib scores every candidate in Python. So:

- each candidate set gets an index once (lower-cased keys, the originals behind each key);
- rapidfuzz's Indel similarity, 2*LCS/(len(a)+len(b)), is computed in C for all keys at once. It
  bounds difflib's ratio from above (difflib's matching characters are a common subsequence),
  so the keys it drops below the cutoff are exactly keys difflib would drop too;
- difflib then scores the few that remain, as get_close_matches does, so ties and order are its,
  in decreasing Indel order, stopping once no remaining key can reach the top n;
- the same misspelling against the same candidates is answered from a cache.

Ranked by what users mistype, before difflib's order: a name that differs only in case; the one
name a single typo away (unique_close, so the first suggestion is the safe fix); then names that
extend what was typed at a separator, as a version or size suffix does (`openai/gpt-4o` ->
`openai/gpt-4o-2024-05-13`: users type a family and leave out its date), a date or version
suffix first, the shortest suffix first; then difflib's closest.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
import re
from ..frozen import record
from functools import lru_cache
from typing import Iterable

# rapidfuzz compares its float scores with a tolerance of its own (a key at exactly 0.6 is dropped
# at a cutoff of 0.6 - 1e-9): ask for a little less, so that a key difflib accepts at exactly
# the cutoff is never dropped. A key let through costs only one difflib score.
_SLACK = 1e-3


_SEPARATORS = "-_./:@"
_MIN_PREFIX = 3  # shorter words are extended by too many names to mean one
_VERSION = re.compile(r"[-_.:@]v?\d")  # `-2024-05-13`, `-v0`, `-0613`, `.5`: a date or version


class Names(tuple):
    """Candidates made once and asked about often (a catalog's model, deployment or function
    names): a tuple whose hash is computed once. The memos below are keyed by their candidates,
    and a plain tuple of 1,500 names is hashed again on every call."""

    _hash: int

    def __new__(cls, items: Iterable[str]) -> "Names":
        self = super().__new__(cls, items)
        self._hash = tuple.__hash__(self)
        return self

    def __hash__(self) -> int:
        return self._hash


@record
class _Index:
    keys: tuple[str, ...]  # lower-cased candidates, first appearance order
    originals: dict[str, tuple[str, ...]]  # key -> the candidates that lower-case to it, in order
    ordered: tuple[str, ...]  # the keys sorted, for the names that extend a prefix
    position: dict[str, int]  # key -> its place in `keys`


@lru_cache(maxsize=64)
def _index(candidates: tuple[str, ...]) -> _Index:
    originals: dict[str, list[str]] = {}
    for c in dict.fromkeys(candidates):
        originals.setdefault(c.lower(), []).append(c)
    keys = tuple(originals)
    return _Index(keys, {k: tuple(v) for k, v in originals.items()}, tuple(sorted(keys)),
                  {k: i for i, k in enumerate(keys)})


def extensions(low: str, index: _Index, n: int) -> list[str]:
    """The keys that extend `low` at a separator, a date or version suffix first, then the
    shortest, then in the candidates' order."""
    if len(low) < _MIN_PREFIX or low[-1] in _SEPARATORS:
        return []
    found = []
    for k in index.ordered[bisect.bisect_right(index.ordered, low):]:
        if not k.startswith(low):
            break
        if k[len(low)] in _SEPARATORS:
            found.append(k)
    found.sort(key=lambda k: (not _VERSION.match(k, len(low)), len(k), index.position[k]))
    return found[:n]


def _difflib_best(word: str, bounded: Iterable[tuple[str, float]], n: int, cutoff: float) -> list[str]:
    """get_close_matches's own scoring and ranking, over keys given with an upper bound of
    their ratio in decreasing order: once a bound is below the n-th best ratio so far, no
    later key can enter the top n, and the rest are not scored."""
    if n <= 0:
        return []
    s = difflib.SequenceMatcher()
    s.set_seq2(word)
    best: list[tuple[float, str]] = []  # min-heap of the n largest (ratio, key), heapq.nlargest's order
    for x, bound in bounded:
        if len(best) == n and bound + _SLACK < best[0][0]:
            break
        s.set_seq1(x)
        if s.real_quick_ratio() >= cutoff and s.quick_ratio() >= cutoff and s.ratio() >= cutoff:
            item = (s.ratio(), x)
            if len(best) < n:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
    return [x for _, x in sorted(best, reverse=True)]


@lru_cache(maxsize=8192)
def _closest(word: str, candidates: tuple[str, ...], n: int, cutoff: float) -> tuple[str, ...]:
    from rapidfuzz import process
    from rapidfuzz.distance import Indel

    index = _index(candidates)
    low = word.lower()
    same = [c for c in index.originals.get(low, ()) if c != word]
    if same:  # the name differs only in case
        return tuple(same[:n])
    first: list[str] = []
    typo = _unique_close(word, candidates)
    if typo is not None and difflib.SequenceMatcher(None, low, typo.lower()).ratio() >= cutoff:
        first.append(typo.lower())
    first += [k for k in extensions(low, index, n) if k not in first]
    if len(first) >= n:
        return tuple(index.originals[k][0] for k in first[:n])
    survivors = process.extract(
        low, index.keys, scorer=Indel.normalized_similarity, processor=None, limit=None, score_cutoff=min(1.0, max(0.0, cutoff - _SLACK))
    )
    # `low` itself can only be a key here as the word's own spelling, which is never suggested.
    # extract gives the best Indel scores first: difflib's ratios in decreasing upper bounds.
    bounded = ((key, score) for key, score, _ in survivors if key != low and key not in first)
    return tuple(index.originals[k][0] for k in [*first, *_difflib_best(low, bounded, n - len(first), cutoff)])


def closest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    if not word:
        return []
    cands = candidates if isinstance(candidates, tuple) else tuple(candidates)
    return list(_closest(word, cands, n, cutoff))


def common_ends(a: str, b: str) -> tuple[int, int]:
    """The lengths of what two strings share at the start and, after that, at the end."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    return i, j


def quote_list(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def unique_close(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate that is the single right replacement for `word`, or None.

    Closest means: equal but for letter case, else one typo away (a letter missing, extra,
    wrong, or two letters swapped), case-insensitively. Unique means no other candidate is as
    close. A one-typo mutation of a known name is fixed back exactly by this rule whenever
    no other known name is also one typo from it, which is what makes the fix safe to apply."""
    if not word:
        return None
    return _unique_close(word, candidates if isinstance(candidates, tuple) else tuple(candidates))


@lru_cache(maxsize=64)
def _longest(candidates: tuple[str, ...]) -> int:
    return max((len(k) for k in _index(candidates).keys), default=0)


@lru_cache(maxsize=8192)
def _unique_close(word: str, candidates: tuple[str, ...]) -> str | None:
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    index = _index(candidates)
    low = word.lower()
    same = [c for c in index.originals.get(low, ()) if c != word]
    if same:
        return same[0] if len(same) == 1 else None
    if len(low) > _longest(candidates) + 1:
        return None  # one edit changes the length by at most one
    # One typo is an optimal string alignment distance of 1 (a deletion, an insertion, a
    # substitution or two neighbouring letters swapped), computed in C over every key.
    near = process.extract(low, index.keys, scorer=OSA.distance, processor=None, limit=None, score_cutoff=1)
    found = [c for key, _, _ in near if key != low for c in index.originals[key]]
    return found[0] if len(found) == 1 else None


def did_you_mean_applicability(word: str, guess: str, candidates: Iterable[str]):
    """How sure a did-you-mean fix `word` -> `guess` is: safe when `guess` is the one candidate
    closest to `word` (unique_close), unsafe otherwise."""
    from ..diagnostics import Applicability

    return Applicability.SAFE if unique_close(word, candidates) == guess else Applicability.UNSAFE
