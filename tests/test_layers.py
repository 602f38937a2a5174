"""The layering of the package, as written in pyproject.toml's [tool.importlinter]: commands ->
app (helmc/*.py) -> runtime -> compiler -> grammar, nothing upward; and no import circle
between any two modules.

The subpackages live in top-level folders (setuptools package-dir), where import-linter and
grimp, which walk one package's folder, cannot see them as `helmc.*`; the tests lay the package
out as it is installed, in a temporary folder, and analyse that copy in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

pytest.importorskip("importlinter", reason="import-linter (the `test` extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory) -> Path:
    """The package's .py files at their installed paths (helmc/compiler/..., helmc/runtime/...)."""
    out = tmp_path_factory.mktemp("layout")
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    for package in tool["packages"]:
        src = ROOT / _source_dir(package, tool["package-dir"])
        dst = out.joinpath(*package.split("."))
        dst.mkdir(parents=True, exist_ok=True)
        for f in src.glob("*.py"):
            shutil.copy(f, dst / f.name)
    return out


def _source_dir(package: str, package_dir: dict[str, str]) -> str:
    """Where setuptools finds a package: its longest mapped prefix's folder, then the rest."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in package_dir:
            return "/".join([package_dir[head], *parts[i:]])
    return "/".join(parts)


def _fresh(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_layers_contract_is_kept(installed_layout):
    r = _fresh("import sys; from importlinter.cli import lint_imports_command; "
               f"sys.argv = ['lint-imports', {str(ROOT / 'pyproject.toml')!r}]; lint_imports_command()",
               installed_layout)
    assert "Analyzed" in r.stdout and " 0 broken" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.returncode == 0


def test_no_import_circle_between_modules(installed_layout):
    """Strongly connected components of the module import graph (every import, also those
    inside functions): each must be one module."""
    r = _fresh(
        "import json, grimp\n"
        "g = grimp.build_graph('helmc', cache_dir=None)\n"
        "print(json.dumps({m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}))\n",
        installed_layout,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    edges: dict[str, list[str]] = json.loads(r.stdout)
    assert "helmc.compiler.catalog.catalog" in edges and "helmc.runtime.engine" in edges  # the whole package was seen
    circles = _circles(edges)
    assert circles == [], circles


def _circles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _circles({"a": ["b"], "b": []}) == []
