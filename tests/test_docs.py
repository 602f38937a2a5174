"""docs/ stays true: generated pages match what the code produces today."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helmc.compiler.codes import CODES, RANGES

REPO = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_code_is_documented():
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code, rule in CODES.items():
        assert f"## {code} `{rule.name}`" in text


def _emitting_modules() -> dict[str, set[str]]:
    """code -> the modules whose source holds it as a literal (`"HC0301"`, `[HC0902]`)."""
    import re

    root = Path(__file__).resolve().parent.parent
    out: dict[str, set[str]] = {}
    for folder in ("compiler", "runtime", "helmc"):
        for path in (root / folder).rglob("*.py"):
            rel = path.relative_to(root).as_posix()
            if rel == "compiler/codes.py":
                continue
            for code in re.findall(r"""["'\[](HC\d{4})["'\]]""", path.read_text(encoding="utf-8")):
                out.setdefault(code, set()).add(rel)
    return out


def test_the_architecture_page_names_the_module_that_emits_each_code():
    """docs/architecture.md's table: each code's range has a row, and the modules of that row
    are every module that emits the code."""
    import re

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = []
    for line in page.splitlines():
        m = re.match(r"\| (HC\d{4})-(HC\d{4}) \|[^|]*\|([^|]*)\|$", line)
        if m:
            modules = set(re.findall(r"[a-z_/]+\.py", m.group(3).replace("\\_", "_")))
            rows.append((m.group(1), m.group(2), modules))
    assert rows
    emitted = _emitting_modules()
    for code in CODES:
        (row,) = [r for r in rows if r[0] <= code <= r[1]]
        assert emitted.get(code), f"no module emits {code}"
        assert emitted[code] <= row[2], f"{code} is emitted in {sorted(emitted[code] - row[2])}, not in its row"
    for low, high, modules in rows:
        used = set().union(*(emitted.get(c, set()) for c in CODES if low <= c <= high))
        assert modules <= used, f"{low}-{high} names {sorted(modules - used)}, which emit none of its codes"


# ---------------------------------------------------------------- docs name only what exists

PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_MD_NAME = re.compile(r"(?<![\w/.-])([\w./-]+\.md)\b")


def _prose(path: Path) -> str:
    """A page without its fenced code blocks (examples of other projects' files live there)."""
    return _FENCE.sub("", path.read_text(encoding="utf-8"))


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`."""
    text = re.sub(r"[`*]", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(path).splitlines():
        m = re.match(r"#{1,6} (.+)", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in _LINK.findall(_prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading with this anchor")
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_named_exists(page):
    """A page named in prose (`see design.md`) is a page of this project, at the path the name
    gives from the page itself, from docs/ or from the repository's root."""
    missing = set()
    for name in _MD_NAME.findall(_prose(page)):
        if not any((base / name).exists() for base in (page.parent, REPO / "docs", REPO)):
            missing.add(name)
    assert not missing, f"{page.name} names pages that do not exist: {sorted(missing)}"


def test_every_code_range_is_listed():
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in CODES:
        assert code[:4] in RANGES, f"{code} has no range in compiler/codes.py RANGES"
        assert f"| {code[:4]}xx |" in text, f"docs/diagnostics.md lists no range for {code}"


def test_every_exit_code_is_listed():
    from helmc.runtime import helm_run, status

    codes = {helm_run.EXIT_OK, helm_run.EXIT_FAILED, helm_run.EXIT_USAGE, helm_run.EXIT_INTERRUPTED,
             status.EXIT_OK, status.EXIT_NO_JOURNAL, status.EXIT_USAGE}
    cli = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    table = cli[cli.index("## Exit codes"):]
    runtime = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")
    for code in sorted(codes):
        assert f"\n| {code} |" in table, f"docs/cli.md's exit code table has no row for {code}"
    for code in (helm_run.EXIT_OK, helm_run.EXIT_FAILED, helm_run.EXIT_USAGE, helm_run.EXIT_INTERRUPTED):
        assert f"\n| {code} |" in runtime, f"docs/runtime.md's helm-run exit codes have no row for {code}"


def test_the_quick_start_leaves_the_checkout_clean():
    """helm-run writes into the working folder by default (HELM's `--local-path prod_env`, its
    cache, and `-o benchmark_output`): run from the checkout as the README's Quick start does,
    every such folder is ignored by git, so `git status` stays clean."""
    import argparse
    import shutil

    from helmc.commands import run

    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    defaults = {a.dest: a.default for a in parser._actions}
    folders = [defaults["local_path"], defaults["output_path"]]
    assert all(f and not Path(f).is_absolute() for f in folders)  # relative: inside the working folder
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    for folder in folders:
        r = subprocess.run(["git", "check-ignore", "-q", f"{folder}/x"], cwd=REPO)
        assert r.returncode == 0, f"{folder}/ is not in .gitignore"
