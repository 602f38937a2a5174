"""Resolution and planning are remembered per description text (compiler/resolve/resolve.py,
compiler/plan/planner.py): a text seen before, at another place or in another file, must give
exactly what it gives the first time, its diagnostics placed at its own copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostic_examples import EXAMPLES
from helmc.compiler.catalog.catalog import load_catalog
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.emit.json import to_dict
from helmc.compiler.plan.plan import PlanOptions
from helmc.compiler.session import Options, RunSet, compile_run_sets
from helmc.compiler.syntax.frontend import load_entries

_MEMOS = ("resolution", "expansions")


CATALOG = load_catalog()  # one catalog: the memos live in its cache


def _forget() -> None:
    for key in _MEMOS:
        CATALOG._cache.pop(key, None)


def _models(args: tuple[str, ...]) -> tuple[str, ...] | None:
    return tuple(args[1:]) if args else None


# The conf-file examples of helm-check that take no flag or only --models-to-run: every code
# that resolution and planning report from a file.
CASES = [
    ex for ex in EXAMPLES
    if ex.command in ("check", "plan") and ex.path.endswith(".conf") and not ex.extra_files
    and (not ex.args or (ex.args[0] == "--models-to-run" and all(not a.startswith("-") for a in ex.args[1:])))
]


def _moved(text: str) -> str:
    """The same entries further on in the file and further right on their lines."""
    return "# moved\n\n" + "\n".join("    " + line if line.strip() else line for line in text.splitlines()) + "\n"


def _compile(path: Path, models: tuple[str, ...] | None, purpose: str = "check") -> tuple[list[dict], list[dict]]:
    sink = DiagnosticSink()
    options = Options(selection=PlanOptions(models_to_run=models))
    (compiled,) = compile_run_sets([RunSet((str(path),))], options, sink, purpose, catalog=CATALOG)  # type: ignore[arg-type]
    runs = [r.to_json() for r in compiled.plan.runs] if compiled.plan else []
    return [to_dict(d) for d in sink.items], runs


def _described(path: Path) -> bool:
    """Whether the file has a description to remember (one whose characters are the file's own)."""
    entries = load_entries([str(path)], [], DiagnosticSink(), None)
    return any(e.description is not None and e.description.lit.offsets is None for e in entries)


def test_the_cases_cover_resolution_and_planning():
    codes = {ex.code for ex in CASES}
    assert {"HC0301", "HC0302", "HC0303", "HC0304", "HC0310", "HC0401", "HC0403"} <= codes


@pytest.mark.parametrize("ex", CASES, ids=lambda ex: ex.key)
def test_a_remembered_text_gives_what_it_gives_the_first_time(ex, tmp_path):
    first, again, moved = tmp_path / "a.conf", tmp_path / "b.conf", tmp_path / "moved.conf"
    first.write_text(ex.bad)
    again.write_text(ex.bad)
    moved.write_text(_moved(ex.bad))
    models, purpose = _models(ex.args), ex.command
    _forget()
    cold_again = _compile(again, models, purpose)
    _forget()
    cold_moved = _compile(moved, models, purpose)
    _forget()
    cold_first = _compile(first, models, purpose)  # fills the memos
    assert CATALOG._cache.get("resolution") or not _described(first), "nothing was remembered"
    warm_again = _compile(again, models, purpose)  # the same texts at the same places of another file
    warm_moved = _compile(moved, models, purpose)  # ... and further on
    assert json.dumps(warm_again) == json.dumps(cold_again)
    assert json.dumps(warm_moved) == json.dumps(cold_moved)
    assert cold_first[0], "the example reports nothing"
    # the copy's diagnostics are placed at the copy
    assert {d["path"] for d in warm_moved[0] if d["path"].endswith(".conf")} <= {str(moved)}


def test_a_copy_within_one_file_points_at_itself(tmp_path):
    """Two copies of a text with a mistake in one file: each copy gets its own diagnostic."""
    path = tmp_path / "run_entries.conf"
    path.write_text('entries: [\n  {description: "mmlu:subjcet=anatomy,model=openai/gpt2"}\n'
                    '      {description: "mmlu:subjcet=anatomy,model=openai/gpt2"}\n]\n')
    _forget()
    diags, _ = _compile(path, None)
    unknown = [(d["line"], d["column"]) for d in diags if d["code"] == "HC0302"]
    assert unknown == [(2, 23), (3, 27)]


def test_the_memo_keeps_no_document_alive():
    """A language server re-checks a new version of a document on every keystroke: what the
    memo keeps of a text with diagnostics must not hold that version's source."""
    from helmc.compiler.resolve.resolve import resolve_entry
    from helmc.compiler.source import SourceFile
    from helmc.compiler.syntax.conf import entries_of, parse_conf

    _forget()
    text = 'entries: [{description: "mmlu:subjcet=anatomy,model=openai/gpt2"}]\n'
    source = SourceFile("/doc.conf", text)
    diagnostics: list = []
    (entry,) = entries_of(parse_conf(source, diagnostics), source, diagnostics)
    found = resolve_entry(entry, CATALOG).diagnostics
    assert found and all(d.primary.span.source is source for d in found)
    kept = [d for memo in CATALOG._cache["resolution"].values() for hit in memo.values() for d in hit[2]]
    assert kept, "the text's diagnostics are remembered"
    spans = [s for d in kept for s in (d.primary.span, *(lb.span for lb in d.secondary), *(f.span for f in d.fixes))]
    assert all(s.source is not source for s in spans)
    again = resolve_entry(entry, CATALOG).diagnostics  # and placed back at the document
    assert [(d.code, d.primary.span.source, d.primary.span.start) for d in again] == \
        [(d.code, d.primary.span.source, d.primary.span.start) for d in found]
