"""One-typo mutants of conf files, and how often `helm-check --fix` restores them byte for byte.

Each mutant changes one name in one entry by one typo (a letter dropped, added, replaced, or
two letters swapped): the run spec function, an argument name, a run expander's name, a run
expander's value, or a model. The fix is run on the mutant (in-process, the code path of
`helm-check --fix`) and the result compared with the original bytes.

A mutant counts as *unique* when the original name is the only known name within one typo
of the mutant (an optimal-string-alignment distance computed here, independently of helmc's
suggestion code); the share asked for is restored / unique. A *wrong* fix is a result that is
neither the original nor the mutant: it must not happen.

Used by tests/compiler/test_fixes_mutants.py (a sample, with a floor) and benchmarks/fix_share.py (all).
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.fixes import check_source, fix_source
from helmc.compiler.syntax.frontend import parse_file
from helmc.compiler.source import SourceFile

KINDS = ("function", "argument", "expander key", "expander value", "model")
ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Target:
    kind: str
    start: int  # offsets in the entry's text
    end: int
    candidates: frozenset[str]


@dataclass
class Stats:
    mutants: int = 0
    silent: int = 0  # the typo made another valid name: nothing to report, nothing to fix
    unique: int = 0
    restored_unique: int = 0
    restored: int = 0  # among all reported mutants
    wrong: int = 0
    by_kind: Counter = field(default_factory=Counter)  # (kind, "unique"|"restored") -> count
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, mutant token, result token)

    @property
    def share(self) -> float:
        return self.restored_unique / self.unique if self.unique else 1.0


def osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def is_unique(original: str, mutant: str, candidates: frozenset[str]) -> bool:
    if mutant in candidates:
        return False
    low = mutant.lower()
    near = [c for c in candidates if abs(len(c) - len(mutant)) <= 1 and osa(c.lower(), low) <= 1]
    return near == [original]


def typo(word: str, rng: random.Random) -> str:
    """One random typo of `word` that changes it."""
    for _ in range(50):
        i = rng.randrange(len(word) + 1)
        op = rng.choice(("drop", "add", "replace", "swap"))
        if op == "drop" and i < len(word) and len(word) > 1:
            out = word[:i] + word[i + 1 :]
        elif op == "add":
            out = word[:i] + rng.choice(ALPHABET) + word[i:]
        elif op == "replace" and i < len(word):
            out = word[:i] + rng.choice(ALPHABET) + word[i + 1 :]
        elif op == "swap" and i + 1 < len(word):
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            continue
        if out != word:
            return out
    return word + "x"


def entry_texts(path: Path) -> list[str]:
    """The text of each entry object of a conf file, as written."""
    source = SourceFile(str(path), path.read_text(encoding="utf-8"))
    conf = parse_file(source, DiagnosticSink())
    return [e.span.text for e in conf.entries if e.description is not None and e.description.ok]


def wrap(entry: str) -> str:
    return "entries: [\n  " + entry + "\n]\n"


def targets(text: str, catalog) -> list[Target]:
    """The names in one conf file's text that a typo can hit, with the known names of each kind."""
    source = SourceFile("mutant.conf", text)
    conf = parse_file(source, DiagnosticSink())
    groups = list(catalog.model_group_to_model_names())
    models = frozenset([*groups, *catalog.all_names()])
    out: list[Target] = []
    for e in conf.entries:
        desc = e.description
        if desc is None or not desc.ok or desc.name.value not in catalog.functions:
            continue
        fn = catalog.functions[desc.name.value]

        def plain(span, value) -> bool:  # a name written as is, no escapes
            return span.text == value and value != ""

        if plain(desc.name.span, desc.name.value):
            out.append(Target("function", desc.name.span.start, desc.name.span.end, frozenset(catalog.functions)))
        keys = [a.key.value for a in desc.args]
        for a in desc.args:
            key = a.key.value
            names = frozenset(n for n in [*(p.name for p in fn.params), *catalog.expanders] if n == key or n not in keys)
            exp = catalog.expanders.get(key)
            if plain(a.key.span, key) and (exp is not None or fn.param(key) is not None):
                out.append(Target("expander key" if exp is not None else "argument", a.key.span.start, a.key.span.end, names))
            if not plain(a.raw.span, a.raw.value):
                continue
            if key == "model" and a.raw.value in models:
                out.append(Target("model", a.raw.span.start, a.raw.span.end, models))
            elif key == "model_deployment" and a.raw.value in catalog.deployments:
                out.append(Target("model", a.raw.span.start, a.raw.span.end, frozenset(catalog.deployments)))
            elif exp is not None and exp.kind == "choices" and a.raw.value in exp.choices:
                out.append(Target("expander value", a.raw.span.start, a.raw.span.end, frozenset(exp.choices)))
    return out


def run(texts: list[str], catalog, rng: random.Random, per_text: int = 0) -> Stats:
    """Mutate each text (every target, or `per_text` of them at random), fix, compare."""
    stats = Stats()
    check = lambda s: check_source(s, catalog)  # noqa: E731
    for text in texts:
        ts = targets(text, catalog)
        if per_text and len(ts) > per_text:
            ts = rng.sample(ts, per_text)
        for t in ts:
            word = text[t.start : t.end]
            bad = typo(word, rng)
            mutant = text[: t.start] + bad + text[t.end :]
            stats.mutants += 1
            source = SourceFile("mutant.conf", mutant)
            result = fix_source(source, check)
            reported = any(d.span.start < t.start + len(bad) and d.span.end > t.start for d in check(source))
            if not reported:
                stats.silent += 1
                continue
            unique = is_unique(word, bad, t.candidates)
            restored = result.text == text
            stats.unique += unique
            stats.restored += restored
            stats.restored_unique += unique and restored
            stats.by_kind[(t.kind, "unique")] += unique
            stats.by_kind[(t.kind, "restored")] += unique and restored
            if result.text not in (text, mutant):
                stats.wrong += 1
            if unique and not restored:
                got = result.text[t.start : t.start + len(result.text) - len(text) + len(word)]
                stats.failures.append((t.kind, f"{word} -> {bad}", got))
    return stats
