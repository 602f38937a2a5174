"""helm-check --fix: which fixes are applied, how, and what is reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyhocon
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostic_examples import EXAMPLES
from helmc.compiler.diagnostics import Applicability, Fix
from helmc.compiler.files.atomic_write import write_atomically
from helmc.compiler.fixes import apply_fixes, check_source, fix_source, non_overlapping
from helmc.compiler.resolve.suggest import unique_close
from helmc.compiler.source import SourceFile
from helpers import run_cli

TYPOS = (
    "# comment kept\n"
    "entries: [\n"
    '  {description: "mmlu:subjet=anatomy,model=openai/gpt2", prioirty: 1}  // and this one\n'
    '  {description: "mmlux:subject=virology,model=openai/gpt2", priority: "2"}\n'
    "]\n"
)
FIXED = (
    "# comment kept\n"
    "entries: [\n"
    '  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}  // and this one\n'
    '  {description: "mmlu:subject=virology,model=openai/gpt2", priority: 2}\n'
    "]\n"
)


def check(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    return run_cli(["check", *argv], tmp_path)


def write(tmp_path: Path, text: str, name: str = "run_entries.conf", newline: str = "\n") -> Path:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return p


# ---------------------------------------------------------------- the command


def test_fix_applies_every_safe_fix_and_keeps_the_rest_of_the_file(tmp_path):
    p = write(tmp_path, TYPOS)
    status, out, err = check(tmp_path, "--fix", p.name)
    assert p.read_text(encoding="utf-8") == FIXED
    assert status == 0, out + err
    assert "fixed[HC0302]: run_entries.conf:3:23: `subjet` -> `subject`" in out
    assert "fixed[HC0301]: run_entries.conf:4:18: `mmlux` -> `mmlu`" in out
    assert "Fixed 4 problems in 1 file." in out
    assert "All checks passed" in out


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fix_is_byte_faithful(tmp_path, newline):
    """CRLF, non-ASCII text and a missing final newline survive: only the edited bytes change."""
    bad = TYPOS.replace("comment kept", "commentaire gardé ✓").rstrip("\n")
    good = FIXED.replace("comment kept", "commentaire gardé ✓").rstrip("\n")
    p = write(tmp_path, bad, newline=newline)
    check(tmp_path, "--fix", p.name)
    assert p.read_bytes() == good.replace("\n", newline).encode("utf-8")


def test_fix_json_reports_what_was_fixed_and_what_is_left(tmp_path):
    p = write(tmp_path, TYPOS.replace("openai/gpt2", "eleutherai/pythia-1b", 1))
    status, out, _ = check(tmp_path, "--fix", p.name, "--format", "json")
    data = json.loads(out)
    fixed = sorted(d["code"] for d in data if d["fixed"])
    left = [d for d in data if not d["fixed"]]
    assert fixed == ["HC0105", "HC0106", "HC0301", "HC0302"]
    assert [d["code"] for d in left] == ["HC0308"]
    assert left[0]["fixes"][0]["applicability"] == "unsafe"  # several guesses: not applied
    assert status == 1  # from what is left
    assert "eleutherai/pythia-1b\"" in p.read_text(encoding="utf-8")


def test_unsafe_fixes_apply_the_best_guess(tmp_path):
    p = write(tmp_path, 'entries: [\n  {description: "mmlu:subject=anatomy,model=eleutherai/pythia-1b", priority: 1}\n]\n')
    status, out, _ = check(tmp_path, "--fix", p.name)
    assert status == 1 and "1 more fixable with --unsafe-fixes." in out
    status, out, _ = check(tmp_path, "--fix", "--unsafe-fixes", p.name)
    assert status == 0, out
    assert "model=eleutherai/pythia-1b-v0" in p.read_text(encoding="utf-8")


def test_unsafe_fixes_need_fix(tmp_path):
    p = write(tmp_path, TYPOS)
    status, _, err = check(tmp_path, "--unsafe-fixes", p.name)
    assert status == 2 and "--fix" in err
    assert p.read_text(encoding="utf-8") == TYPOS


def test_fix_on_run_entries_alone_edits_nothing(tmp_path):
    p = write(tmp_path, TYPOS)
    status, out, _ = check(tmp_path, "--fix", "--run-entries", "mmlu:subjet=anatomy,model=openai/gpt2")
    assert status == 1 and "HC0302" in out
    assert p.read_text(encoding="utf-8") == TYPOS
    assert list(tmp_path.iterdir()) == [p]


def test_fix_follows_select_and_ignore(tmp_path):
    p = write(tmp_path, TYPOS)
    check(tmp_path, "--fix", "--select", "HC03", p.name)
    text = p.read_text(encoding="utf-8")
    assert "subject=anatomy" in text and "mmlu:subject" in text
    assert "prioirty" in text and '"2"' in text
    check(tmp_path, "--fix", "--ignore", "HC0106", p.name)
    text = p.read_text(encoding="utf-8")
    assert "prioirty" in text and '"2"' not in text


def test_fix_without_anything_to_fix_leaves_the_file_alone(tmp_path):
    p = write(tmp_path, FIXED)
    before = os.stat(p)
    status, out, _ = check(tmp_path, "--fix", p.name)
    assert status == 0 and "Fixed 0 problems" in out
    assert os.stat(p).st_mtime_ns == before.st_mtime_ns and p.read_text(encoding="utf-8") == FIXED


def test_fix_reaches_a_fixed_point(tmp_path):
    """The function name's fix lets its arguments be checked; their fix comes in a next round."""
    p = write(tmp_path, 'entries: [\n  {description: "mmlux:subjet=anatomy,model=openai/gpt2", priority: 1}\n]\n')
    status, out, _ = check(tmp_path, "--fix", p.name)
    assert status == 0, out
    assert '"mmlu:subject=anatomy,model=openai/gpt2"' in p.read_text(encoding="utf-8")


def test_fix_keeps_unfixable_files_untouched_and_works_through_folders(tmp_path):
    (tmp_path / "sub").mkdir()
    a = write(tmp_path / "sub", TYPOS, "a.conf")
    broken = 'entries: [\n  {description: "simple1:model=simple/model1", priority 1}\n]\n'
    b = write(tmp_path / "sub", broken, "b.conf")
    status, out, _ = check(tmp_path, "--fix", "sub")
    assert a.read_text(encoding="utf-8") == FIXED
    assert b.read_text(encoding="utf-8") == broken
    assert status == 1 and "HC0001" in out


def test_legacy_file_is_rewritten_into_the_current_format(tmp_path):
    legacy = (
        "# Core scenarios\n"
        '"simple1:model=simple/model1": {status: "READY", priority: 1}\n'
        "\n"
        "# More\n"
        '"simple1:model=simple/model1,num_outputs=2": {priority: 2, status: "WIP"},\n'
    )
    p = write(tmp_path, legacy)
    status, out, _ = check(tmp_path, "--fix", p.name)
    assert status == 0, out
    text = p.read_text(encoding="utf-8")
    assert text == (
        "# Core scenarios\n"
        "entries: [\n"
        '  {description: "simple1:model=simple/model1", priority: 1}\n'
        "\n"
        "  # More\n"
        '  {description: "simple1:model=simple/model1,num_outputs=2", priority: 2}\n'
        "]\n"
    )
    read = pyhocon.ConfigFactory.parse_string(text)
    assert [dict(e) for e in read["entries"]] == [
        {"description": "simple1:model=simple/model1", "priority": 1},
        {"description": "simple1:model=simple/model1,num_outputs=2", "priority": 2},
    ]


def test_fix_writes_through_a_symlink_and_keeps_the_mode(tmp_path):
    real = write(tmp_path, TYPOS, "real.conf")
    os.chmod(real, 0o640)
    link = tmp_path / "link.conf"
    link.symlink_to(real.name)
    check(tmp_path, "--fix", link.name)
    assert link.is_symlink() and real.read_text(encoding="utf-8") == FIXED
    assert os.stat(real).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.conf", "real.conf"]  # no temporary left


@pytest.mark.parametrize("fmt", ["sarif", "github", "lsp"])
def test_fix_works_with_every_format(tmp_path, fmt):
    p = write(tmp_path, TYPOS)
    status, out, err = check(tmp_path, "--fix", p.name, "--format", fmt)
    assert status == 0 and p.read_text(encoding="utf-8") == FIXED
    assert "fixed 4 problem" in err


# ---------------------------------------------------------------- the engine


def test_overlapping_fixes_are_never_both_applied():
    src = SourceFile("x", "abcdef")
    fixes = [Fix(src.span(1, 4), "X"), Fix(src.span(2, 3), "Y"), Fix(src.span(4, 4), "+"), Fix(src.span(4, 4), "-")]
    assert [f.replacement for f in non_overlapping(fixes)] == ["X", "+"]
    assert apply_fixes(src.text, fixes) == "aX+ef"


def test_a_fix_that_breaks_the_file_is_dropped():
    """Verification: a fix that leaves a syntax error, or does not clear its diagnostic, is not kept."""
    text = 'entries: [\n  {description: "mmlux:subject=anatomy,model=openai/gpt2", priority: 1}\n]\n'
    src = SourceFile("x.conf", text)
    from helmc.compiler.catalog.catalog import load_catalog

    catalog = load_catalog()

    def check(s: SourceFile):
        return check_source(s, catalog)

    good = fix_source(src, check)
    assert good.text == text.replace("mmlux", "mmlu")

    def corrupting(s: SourceFile):
        from dataclasses import replace

        return [replace(d, fixes=tuple(replace(f, replacement='mm"lu') for f in d.fixes)) for d in check_source(s, catalog)]

    bad = fix_source(src, corrupting)
    assert bad.text == text and not bad.applied

    # Among good fixes, the bad one is found and dropped; the others are applied.
    many = text.replace("]\n", "".join(f'  {{description: "mmlu:subjet=s{i},model=openai/gpt2"}}\n' for i in range(5)) + "]\n")

    def one_bad(s: SourceFile):
        from dataclasses import replace

        return [
            replace(d, fixes=tuple(replace(f, replacement='mm"lu') for f in d.fixes)) if d.code == "HC0301" else d
            for d in check_source(s, catalog)
        ]

    mixed = fix_source(SourceFile("x.conf", many), one_bad)
    assert mixed.text == many.replace("subjet", "subject")
    assert sorted(a.diagnostic.code for a in mixed.applied) == ["HC0302"] * 5


def test_unique_close():
    names = ["mmlu", "mmlu_pro", "mmmlu", "gpqa", "simple1", "text", "text_code"]
    assert unique_close("mmlx", names) == "mmlu"
    assert unique_close("MMLU", names) == "mmlu"
    assert unique_close("mmlu_por", names) == "mmlu_pro"  # a swap is one typo
    assert unique_close("mmmlu_pro", names) == "mmlu_pro"
    assert unique_close("mlu", names) == "mmlu"
    assert unique_close("gpq", names) == "gpqa"
    assert unique_close("xyz", names) is None
    assert unique_close("tex", names) == "text"
    assert unique_close("mmlu_", names) == "mmlu"
    assert unique_close("mmmu", names) is None  # one typo from both `mmlu` and `mmmlu`
    assert unique_close("", names) is None


def _one_typo_reference(word: str, candidates: list[str]) -> str | None:
    """unique_close by its definition: the candidates equal but for case, else those one
    deletion, insertion, substitution or swap of neighbours away, case-insensitively."""
    low = word.lower()
    same = [c for c in dict.fromkeys(candidates) if c.lower() == low and c != word]
    if same:
        return same[0] if len(same) == 1 else None
    splits = [(low[:i], low[i:]) for i in range(len(low) + 1)]
    alphabet = {ch for c in candidates for ch in c.lower()}
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + ch + b[1:] for a, b in splits if b for ch in alphabet}
    edits |= {a + ch + b for a, b in splits for ch in alphabet}
    edits.discard(low)
    near = [c for c in dict.fromkeys(candidates) if c.lower() in edits]
    return near[0] if len(near) == 1 else None


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="abcAB_-/1", max_size=7),
    st.lists(st.text(alphabet="abcAB_-/1", max_size=7), max_size=12),
)
def test_unique_close_is_one_typo_by_definition(word, candidates):
    assert unique_close(word, candidates) == (_one_typo_reference(word, candidates) if word else None)


def test_unique_close_on_typos_of_every_catalog_name():
    import random

    from helmc.compiler.catalog.catalog import load_catalog

    cat = load_catalog()
    names = tuple(cat.all_names())
    rng = random.Random(7)
    for name in rng.sample(names, 150):
        i = rng.randrange(len(name))
        swapped = name[:i] + name[i + 1:i + 2] + name[i] + name[i + 2:]
        for typo in (name[:i] + name[i + 1:], name[:i] + "x" + name[i:], name[:i] + "x" + name[i + 1:], swapped):
            if typo:
                assert unique_close(typo, names) == _one_typo_reference(typo, list(names)), typo


# ---------------------------------------------------------------- the examples


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.command == "check"], ids=lambda e: e.key)
def test_safe_fixes_of_every_example_clear_their_code(example, tmp_path):
    """Each example whose diagnostic carries a safe fix: --fix clears the code and leaves a file
    that checks clean of syntax errors; an example without one is left byte for byte."""
    from helpers import example_argv, run_example

    p = tmp_path / example.path
    _, out, _ = run_example(example, "json", tmp_path)
    data = json.loads(out)
    mine = [d for d in data if d["code"] == example.code]
    safe = any(f["applicability"] == "safe" for d in mine for f in d["fixes"])
    _, out, _ = run_cli([*example_argv(example, "json"), "--fix"], tmp_path)
    after = json.loads(out)
    if safe:
        assert example.code not in {d["code"] for d in after if not d["fixed"]}
        assert not any(d["code"].startswith("HC00") for d in after if not d["fixed"])
    elif example.bad:
        assert p.read_text(encoding="utf-8") == example.bad or any(d["fixed"] for d in after)


def _example_fixes(example, tmp_path) -> list[str]:
    from helpers import run_example

    _, out, err = run_example(example, "json", tmp_path)
    data = json.loads(out)
    return [f["applicability"] for d in data if d["code"] == example.code for f in d["fixes"]]


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.command == "check"], ids=lambda e: e.key)
def test_registry_says_which_codes_have_which_fixes(example, tmp_path):
    """compiler/codes.py's FIXES (docs/diagnostics.md's fix column) agrees with the fixes made."""
    from helmc.compiler.codes import FIXES

    kinds = set(_example_fixes(example, tmp_path))
    text = FIXES.get(example.code, "")
    declared = {w.strip(",;().`") for w in text.split()} & {"safe", "unsafe", "unique"}
    if not declared:
        assert not kinds, f"{example.code} makes fixes: add it to compiler/codes.py's FIXES"
    elif declared == {"safe"}:
        assert kinds <= {"safe"}
    elif declared == {"unsafe"}:
        assert kinds <= {"unsafe"}
    # `unique`, or a mix said in words (`safe for a name, unsafe for a value`): either


def test_fix_run_snapshot(tmp_path, snapshot):
    """What a --fix run prints (text and JSON) and the file it leaves: reviewed like code."""
    bad = TYPOS.replace("openai/gpt2", "eleutherai/pythia-1b", 1)
    p = write(tmp_path, bad)
    text_run = check(tmp_path, "--fix", p.name)
    text_after = p.read_text(encoding="utf-8")
    write(tmp_path, bad)
    json_run = check(tmp_path, "--fix", p.name, "--format", "json")
    assert p.read_text(encoding="utf-8") == text_after
    assert {"text": text_run, "json": json.loads(json_run[1]), "file": text_after} == snapshot


def test_a_file_that_cannot_be_written_is_left_as_it_was(tmp_path, monkeypatch):
    import helmc.compiler.files.atomic_write as atomic_write

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic_write.os, "replace", refuse)
    p = write(tmp_path, TYPOS)
    status, out, err = check(tmp_path, "--fix", p.name)
    assert "cannot write `run_entries.conf`: Permission denied; left as it was" in err
    assert p.read_text(encoding="utf-8") == TYPOS
    assert status == 1 and "HC0302" in out  # what is left is everything
    assert [x.name for x in tmp_path.iterdir()] == [p.name]  # the temporary file is gone


def test_fix_with_statistics_says_what_it_fixed(tmp_path):
    p = write(tmp_path, TYPOS)
    status, out, err = check(tmp_path, "--fix", "--statistics", p.name)
    assert status == 0 and out == "" and "fixed 4 problem(s)" in err
    assert p.read_text(encoding="utf-8") == FIXED
