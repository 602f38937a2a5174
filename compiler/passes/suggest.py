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
