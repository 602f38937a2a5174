"""Applying fixes: the edits that diagnostics carry, applied to a conf file's text (helm-check
--fix, the language server's code actions).

A diagnostic's `fixes` are alternatives; the first one allowed is taken: a safe one always,
an unsafe one only with --unsafe-fixes. Edits are applied on the text as read (code-point
offsets of the decoded UTF-8, so every byte outside an edit stays as it was), never two that
overlap; then the new text is parsed and checked again before anything is written. A round
is kept only if every diagnostic it fixed is gone and no syntax or structure error appeared;
otherwise it is halved until the fixes that fail on their own are found and dropped. Rounds repeat
until nothing applicable is left, since one fix can uncover another (a function name fixed
lets its arguments be checked).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .frozen import record
from .files.atomic_write import write_atomically
from .diagnostics import Diagnostic, DiagnosticSink, Fix
from .source import SourceFile

CheckText = Callable[[SourceFile], list[Diagnostic]]
MAX_ROUNDS = 10


@record
class Applied:
    """A fix that was applied, and the diagnostic it fixed (positions in the text it was made on)."""

    diagnostic: Diagnostic
    fix: Fix


@dataclass(slots=True)
class FixedFile:
    path: str
    original: str
    text: str
    applied: list[Applied] = field(default_factory=list)
    left: list[Diagnostic] = field(default_factory=list)  # what the check of `text` reports

    @property
    def changed(self) -> bool:
        return self.text != self.original


def check_source(source: SourceFile, catalog) -> list[Diagnostic]:
    """Every diagnostic helm-check reports for one conf file's text on its own: syntax, schema
    and, with a catalog, names and values (what a fix can change)."""
    from .syntax.frontend import parse_file
    from .resolve.resolve import check_entries

    sink = DiagnosticSink()
    conf = parse_file(source, sink)
    if catalog is not None:
        check_entries(list(conf.entries), catalog, sink)
    return [d for d in sink.items if d.span.source is source]


def check_config_source(source: SourceFile, plugins=(), names: bool = True) -> list[Diagnostic]:
    """Every diagnostic helm-check reports for one HELM config YAML file's text, checked with
    its sibling files as they are on disk."""
    from .prodenv.check import check_document

    sink = DiagnosticSink()
    checked = check_document(source.path, source.text, sink, plugins, names)
    return [d for d in sink.items if checked is not None and d.span.source is checked]


def _same_file(span_source: SourceFile, source: SourceFile) -> bool:
    """A check may build its own SourceFile from the text it is given (the config reader does)."""
    return span_source is source or (span_source.path == source.path and span_source.text == source.text)


def chosen_fix(d: Diagnostic, unsafe: bool) -> Fix | None:
    """The fix --fix applies for `d`: its first safe one, or with `unsafe` its first one."""
    for f in d.fixes:
        if f.safe or unsafe:
            return f
    return None


def non_overlapping(fixes: Iterable[Fix]) -> list[Fix]:
    """Fixes in text order, leaving out each one that overlaps one kept before it (two
    insertions at one offset overlap too: their order would be a guess)."""
    kept: list[Fix] = []
    for f in sorted(fixes, key=lambda f: (f.span.start, f.span.end)):
        if kept:
            last = kept[-1].span
            if f.span.start < last.end or (f.span.start == last.start and f.span.start == last.end):
                continue
        kept.append(f)
    return kept


def apply_fixes(text: str, fixes: Iterable[Fix]) -> str:
    """`text` with the non-overlapping `fixes` applied; the text between them as it was."""
    out: list[str] = []
    at = 0
    for f in non_overlapping(fixes):
        out.append(text[at : f.span.start])
        out.append(f.replacement)
        at = f.span.end
    out.append(text[at:])
    return "".join(out)


def _is_structural(d: Diagnostic) -> bool:
    """Errors a fix must never introduce: conf syntax, and a file HELM cannot read entries from."""
    return d.code.startswith("HC00") or d.code in ("HC0101", "HC0102", "HC0103", "HC0104")


def _verified(used: list[Applied], before: list[Diagnostic], after: list[Diagnostic]) -> bool:
    if sum(map(_is_structural, after)) > sum(map(_is_structural, before)):
        return False
    key = lambda d: (d.code, d.message)  # noqa: E731 (a position moves with the edits; these do not)
    was, now = Counter(map(key, before)), Counter(map(key, after))
    fixed = Counter(key(a.diagnostic) for a in used)
    return all(now[k] <= was[k] - n for k, n in fixed.items())


def _attempt(
    source: SourceFile, pairs: list[Applied], before: list[Diagnostic], check: CheckText
) -> tuple[SourceFile, list[Diagnostic], list[Applied]] | None:
    kept = {id(f) for f in non_overlapping(a.fix for a in pairs)}
    used = [a for a in pairs if id(a.fix) in kept]
    text = apply_fixes(source.text, (a.fix for a in used))
    if text == source.text:
        return None
    new = SourceFile(source.path, text, source.line_base)
    after = check(new)
    if not _verified(used, before, after):
        return None
    return new, after, used


def fix_source(
    source: SourceFile,
    check: CheckText,
    *,
    unsafe: bool = False,
    wanted: Callable[[Diagnostic], bool] = lambda d: True,
) -> FixedFile:
    """Apply every applicable fix to one file's text, round after round, to a fixed point."""
    diags = check(source)
    result = FixedFile(source.path, source.text, source.text)
    rejected: set[tuple] = set()
    seen = {source.text}
    for _ in range(MAX_ROUNDS):
        pairs = []
        for d in diags:
            f = chosen_fix(d, unsafe) if wanted(d) else None
            if f is not None and _same_file(f.span.source, source) and _key(d, f) not in rejected:
                pairs.append(Applied(d, f))
        if not pairs:
            break
        done = _good_part(source, pairs, diags, check, rejected)
        if done is None:
            break
        source, diags, used = done
        result.applied.extend(sorted(used, key=lambda a: a.diagnostic.sort_key()))
        if source.text in seen:  # fixes that undo each other: stop
            break
        seen.add(source.text)
    result.text = source.text
    result.left = diags
    return result


def _good_part(
    source: SourceFile, pairs: list[Applied], before: list[Diagnostic], check: CheckText, rejected: set[tuple]
) -> tuple[SourceFile, list[Diagnostic], list[Applied]] | None:
    """All the fixes if they pass; else, halving, a part that passes (the rest waits for the
    next round), and each single fix that fails on its own goes to `rejected`. A few bad
    fixes among many cost a few checks per bad fix, not one check per fix."""
    done = _attempt(source, pairs, before, check)
    if done is not None:
        return done
    if len(pairs) == 1:
        rejected.add(_key(pairs[0].diagnostic, pairs[0].fix))
        return None
    half = len(pairs) // 2
    return _good_part(source, pairs[:half], before, check, rejected) or _good_part(
        source, pairs[half:], before, check, rejected
    )


def _key(d: Diagnostic, f: Fix) -> tuple:
    return (d.code, d.message, f.span.start, f.span.end, f.replacement)


def fix_files(
    paths: list[str],
    check_of: Callable[[str], CheckText],
    *,
    unsafe: bool = False,
    wanted: Callable[[Diagnostic], bool] = lambda d: True,
) -> tuple[list[Applied], list[str]]:
    """helm-check --fix over files: each file is read, fixed with the check `check_of(path)`
    gives (check_source for conf files, check_config_source for HELM's config YAML files), and
    written back only if it changed. Returns the fixes applied and a message per file that
    could not be written (left as it was). A file that cannot be read is skipped: the check
    reports it."""
    from .syntax.frontend import read_source

    applied: list[Applied] = []
    errors: list[str] = []
    for path in paths:
        source = read_source(path, DiagnosticSink())
        if source is None:
            continue
        result = fix_source(source, check_of(path), unsafe=unsafe, wanted=wanted)
        if not result.changed:
            continue
        try:
            write_atomically(path, result.text)
        except OSError as e:
            errors.append(f"cannot write `{path}`: {e.strerror or e}; left as it was")
            continue
        applied.extend(result.applied)
    return applied, errors
