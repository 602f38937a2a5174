"""Did-you-mean: the closest known names to a misspelled one (difflib, case-insensitive)."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    cands = [c for c in dict.fromkeys(candidates) if c != word]
    if not word or not cands:
        return []
    exact_ci = [c for c in cands if c.lower() == word.lower()]
    if exact_ci:
        return exact_ci[:n]
    lower = {}
    for c in cands:
        lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=cutoff)
    return [lower[f] for f in found]


def quote_list(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _edits1(word: str, alphabet: str) -> set[str]:
    """Every string one edit from `word`: a deletion, a transposition, a substitution or an
    insertion (Norvig's generator; transpositions make it the optimal string alignment distance)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    out.update(a + c + b[1:] for a, b in splits if b for c in alphabet)
    out.update(a + c + b for a, b in splits for c in alphabet)
    out.discard(word)
    return out


def unique_close(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate that is the single right replacement for `word`, or None.

    Closest means: equal but for letter case, else one typo away (a letter missing, extra,
    wrong, or two letters swapped), case-insensitively. Unique means no other candidate is as
    close. A one-typo mutation of a known name is fixed back exactly by this rule whenever
    no other known name is also one typo from it, which is what makes the fix safe to apply."""
    if not word:
        return None
    by_lower: dict[str, list[str]] = {}
    for c in dict.fromkeys(candidates):
        if c != word:
            by_lower.setdefault(c.lower(), []).append(c)
    low = word.lower()
    same = by_lower.get(low)
    if same:
        return same[0] if len(same) == 1 else None
    alphabet = "".join(sorted({ch for key in by_lower for ch in key}))
    near = [c for e in _edits1(low, alphabet) for c in by_lower.get(e, ())]
    return near[0] if len(near) == 1 else None
