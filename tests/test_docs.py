"""docs/ stays true: generated pages match what the code produces today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helmc.compiler.codes import CODES

REPO = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current():
    r = subprocess.run([sys.executable, str(REPO / "tests" / "gen_docs.py"), "--check"], capture_output=True, text=True)
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
