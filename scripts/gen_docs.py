"""Regenerate the generated parts of docs/: the diagnostics catalog and the grammar listings.

    python scripts/gen_docs.py          # rewrite docs/diagnostics.md and docs/grammar.md's listings
    python scripts/gen_docs.py --check  # exit 1 if they are out of date (tests/test_docs.py does this)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

# the examples and the helpers that run them live with the tests
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from diagnostic_examples import EXAMPLES, NO_EXAMPLE  # noqa: E402
from helpers import example_argv, run_cli, run_example, shown_output  # noqa: E402

from conftest import HELM_INSTALLED  # noqa: E402
from helmc.compiler.codes import CODES, FIXES, RANGES  # noqa: E402
from helmc.grammar import grammar_text  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
BEGIN = "<!-- BEGIN GENERATED {name} -->"
END = "<!-- END GENERATED {name} -->"


def _fence(text: str, lang: str = "") -> str:
    return f"```{lang}\n{text.rstrip()}\n```\n"


def _installed(modules: tuple[str, ...]) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


def _sections(text: str) -> dict[str, str]:
    """The `## HCxxxx` sections of a diagnostics page, by code."""
    parts = text.split("\n## ")
    return {p.split(" ", 1)[0]: "## " + p for p in parts[1:]}


def _example_md(ex, cwd: Path) -> list[str]:
    """An example as the docs show it: the failing input, what helmc prints, the fix, and the file
    as `--fix` leaves it."""
    out: list[str] = []
    lang = "yaml" if ex.path.endswith(".yaml") else "json" if ex.path.endswith(".jsonl") else "hocon"
    if ex.bad:
        out.append(f"Failing example, `{ex.path}`:\n")
        out.append(_fence(ex.bad, lang))
    argv = example_argv(ex, "text")[:-2]
    prog = {"check": "helm-check", "run": "helm-run", "plan": "helmc plan", "status": "helmc status"}[ex.command]
    out.append(f"`{prog} {' '.join(argv[1:])}` prints:\n")
    _, stdout, stderr = run_example(ex, "text", cwd)
    out.append(_fence(shown_output(ex, stdout, stderr)))
    out.append("Fixed:\n")
    out.append(_fence(ex.fixed, lang))
    if ex.command == "check" and ex.code in FIXES:
        run_cli([*example_argv(ex, "text")[:-2], "--fix"], cwd)  # the file as `--fix` leaves it
        after = (cwd / ex.path).read_text(encoding="utf-8")
        if after != ex.bad:
            out.append("`helm-check --fix` rewrites it as:\n")
            out.append(_fence(after, lang))
    return out


def diagnostics_md() -> str:
    by_code: dict[str, list] = {}
    for e in sorted(EXAMPLES, key=lambda e: bool(e.variant)):  # the first example, then the variants
        by_code.setdefault(e.code, []).append(e)
    # Without crfm-helm, the examples that run HELM cannot be replayed: their sections stay as
    # they are (tests/compiler/test_codes.py replays them where HELM is installed).
    page = DOCS / "diagnostics.md"
    complete = HELM_INSTALLED and all(_installed(e.requires) for e in EXAMPLES)
    kept = {} if complete or not page.exists() else _sections(page.read_text(encoding="utf-8"))
    out = [
        "# Diagnostics\n",
        "Every diagnostic helmc reports, by code. Codes are stable: they are never renumbered.",
        "Each entry shows a failing example, what helmc prints for it, and the fix.",
        "This page is generated from `tests/diagnostic_examples.py` by `python scripts/gen_docs.py`;",
        "the tests check that each example triggers its code, that its fix clears it, and that",
        "this page is up to date.\n",
        "| range | what |",
        "|---|---|",
        *(f"| {prefix}xx | {what} |" for prefix, what in RANGES.items()),
        "",
        "Severities: `error` makes helm-check exit 1 and stops helm-run before anything runs;",
        "`warning` and `info` do not.\n",
        "The **fix** column says which diagnostics carry a fix and how `helm-check --fix` treats it",
        "([cli.md](cli.md#fixing---fix-and---unsafe-fixes)): *safe* fixes are applied by `--fix`,",
        "*unsafe* ones only with `--unsafe-fixes`, and *unique* means safe when one known name is",
        "closer than every other (one typo away, or equal but for case), unsafe otherwise.\n",
        "| code | name | severity | fix |",
        "|---|---|---|---|",
        *(f"| [{c}](#{c.lower()}-{r.name}-{r.severity.value}) | `{r.name}` | {r.severity.value} | {FIXES.get(c, '')} |" for c, r in CODES.items()),
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for code, rule in CODES.items():
            examples = by_code.get(code, [])
            if any(e.needs_helm or not _installed(e.requires) for e in examples) and code in kept:
                out.append(kept[code].rstrip("\n") + "\n")
                continue
            out.append(f"## {code} `{rule.name}` ({rule.severity.value})\n")
            out.append(rule.summary + "\n")
            if code in FIXES:
                kind = FIXES[code].split()[0].rstrip(",;")
                how = {
                    "safe": "`helm-check --fix` applies it",
                    "unsafe": "only `helm-check --fix --unsafe-fixes` applies it",
                    "unique": "`--fix` applies it when one known name is closer than every other, `--unsafe-fixes` otherwise",
                }.get(kind, "see the table above")
                out.append(f"Fix: {FIXES[code]}; {how}.\n")
            if not examples:
                out.append(f"No example input: {NO_EXAMPLE[code]}.\n")
                continue
            for ex in examples:
                cwd = Path(tempfile.mkdtemp(dir=tmp))  # each example in a folder of its own
                if ex.variant:
                    out.append(f"### {code}: {ex.variant}\n")
                if ex.note:
                    out.append(ex.note + "\n")
                out.extend(_example_md(ex, cwd))
    return "\n".join(out)


def grammar_listing(name: str) -> str:
    return _fence(grammar_text(name), "lark")


def replace_generated(text: str, name: str, body: str) -> str:
    begin, end = BEGIN.format(name=name), END.format(name=name)
    i, j = text.index(begin) + len(begin), text.index(end)
    return text[:i] + "\n" + body + text[j:]


def generated() -> dict[Path, str]:
    grammar = (DOCS / "grammar.md").read_text(encoding="utf-8")
    for name in ("run_entry.lark", "conf.lark"):
        grammar = replace_generated(grammar, name, grammar_listing(name))
    return {DOCS / "diagnostics.md": diagnostics_md(), DOCS / "grammar.md": grammar}


def main() -> int:
    stale = []
    for path, text in generated().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if "--check" not in sys.argv:
                path.write_text(text, encoding="utf-8")
    if "--check" in sys.argv and stale:
        print("out of date: " + ", ".join(str(p) for p in stale) + " (run python scripts/gen_docs.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
