"""A missing extra's hint fits both ways helmc is installed: from PyPI (`helmc[EXTRA]`) and from a
checkout (`pip install -e '.[EXTRA]'`, where `helmc[EXTRA]` would fetch another helmc)."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads TOML itself")

from helpers import run_cli  # noqa: E402
from helmc.compiler.diagnostics import DiagnosticSink  # noqa: E402
from helmc.runtime import helm_setup  # noqa: E402
from helmc.runtime import engines as engines_mod  # noqa: E402
from helmc.runtime.engines import EngineOptions, check_engine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXTRAS = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"])


def _fits_both(text: str, extra: str) -> bool:
    assert extra in EXTRAS, f"`{extra}` is no extra of pyproject.toml"
    return f"pip install 'helmc[{extra}]'" in text and f"pip install -e '.[{extra}]'" in text


@pytest.mark.parametrize("engine", ["ray", "slurm"])
def test_an_engine_without_its_extra(engine, monkeypatch):
    monkeypatch.setattr(engines_mod, "_extra_installed", lambda module: False)
    sink = DiagnosticSink()
    check_engine(EngineOptions(engine=engine), mongo_uri="", disable_cache=False, local_path="prod_env", sink=sink)
    (d,) = [d for d in sink.items if d.code == "HC0701"]
    assert _fits_both(d.help or "", engine)


def test_helm_missing():
    assert _fits_both(helm_setup.INSTALL_HINT, "helm")


def test_lsp_without_its_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_pygls(name, *a, **k):
        if name.split(".")[0] in ("pygls", "lsprotocol"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pygls)
    code, _, err = run_cli(["lsp"], tmp_path)
    assert code == 2 and _fits_both(err, "lsp")
