"""The YAML depth bound is HELM's own: HELM's helm-run (its console script, so its stack is the
one users get) reads each of its four config files nested MAX_YAML_DEPTH deep and fails with a
RecursionError one level deeper; helm-check accepts the first and refuses the second (HC0621),
with no traceback either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HELM_INSTALLED
from helmc.compiler.syntax.config_yaml import MAX_YAML_DEPTH

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]

# Each file's list, as HELM's registries require it (cattrs insists on the key).
FILES = {"model_metadata.yaml": "models: []\n", "tokenizer_configs.yaml": "tokenizer_configs: []\n",
         "model_deployments.yaml": "model_deployments: []\n", "runner_config.yaml": ""}

# The shape of the console script pip writes for crfm-helm's `helm-run` entry point.
HELM_RUN_SCRIPT = "import sys\nfrom helm.benchmark.run import main\nif __name__ == '__main__':\n    sys.exit(main())\n"


def _deep(name: str, depth: int) -> str:
    """A config file HELM reads whole: an unknown top-level key (dacite and cattrs ignore it)
    holding lists nested so that the document's collections nest `depth` deep, the root counted."""
    inner = depth - 1
    return "deep: " + "[" * inner + "]" * inner + "\n" + FILES[name]


def _helm_run(tmp_path: Path, local_path: Path) -> str:
    script = tmp_path / "helm_run.py"
    script.write_text(HELM_RUN_SCRIPT)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, str(script), "--local-path", str(local_path), "--suite", "depth",
                        "-r", "no_such_function:model=openai/gpt2", "--max-eval-instances", "1",
                        "-o", str(tmp_path / "out")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0  # the run entry names no run spec function: HELM stops after its config files
    return r.stdout + r.stderr


def _helm_check(tmp_path: Path, path: Path) -> tuple[int, list[dict], str]:
    r = subprocess.run([sys.executable, "-m", "helmc", "check", str(path), "--format", "json"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return r.returncode, json.loads(r.stdout), r.stderr


def test_helm_reads_every_config_file_at_the_bound(tmp_path: Path) -> None:
    pe = tmp_path / "pe"
    pe.mkdir()
    for name in FILES:
        (pe / name).write_text(_deep(name, MAX_YAML_DEPTH))
    out = _helm_run(tmp_path, pe)
    assert "RecursionError" not in out and "no_such_function" in out, out[-3000:]
    for name in FILES:
        _, diags, _ = _helm_check(tmp_path, pe / name)
        assert not [d for d in diags if d["code"] in ("HC0621", "HC0902", "HC0601")], diags


@pytest.mark.parametrize("name", FILES)
def test_helm_fails_one_level_deeper_and_helm_check_says_so(tmp_path: Path, name: str) -> None:
    pe = tmp_path / "pe"
    pe.mkdir()
    (pe / name).write_text(_deep(name, MAX_YAML_DEPTH + 1))
    out = _helm_run(tmp_path, pe)
    assert "RecursionError" in out, out[-3000:]
    code, diags, _ = _helm_check(tmp_path, pe / name)
    assert code == 1 and [d["code"] for d in diags if d["code"] == "HC0621"] == ["HC0621"], diags
    assert diags[0]["line"] == 1 and diags[0]["column"] == len("deep: ") + MAX_YAML_DEPTH, diags


@pytest.mark.parametrize("engine", [["--engine", "local"], ["--engine", "slurm", "--slurm-cluster", "local"]],
                         ids=["local", "slurm-local"])
def test_helmc_helm_run_reads_what_helm_check_accepts(tmp_path: Path, engine: list[str]) -> None:
    """helm-check passes at the bound, so helm-run must start: HELM's reading of the files from
    deeper in helmc's stack (and the registries' pickle for workers) must not overflow."""
    pe = tmp_path / "pe"
    pe.mkdir()
    for name in FILES:
        (pe / name).write_text(_deep(name, MAX_YAML_DEPTH))
    (tmp_path / "one.conf").write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    r = subprocess.run([sys.executable, "-m", "helmc", "run", "--conf-paths", "one.conf", "--suite", "deep",
                        "--max-eval-instances", "1", "--local-path", "pe", "-o", "out", *engine],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "RecursionError" not in r.stdout + r.stderr, (r.stdout[-2000:], r.stderr[-3000:])
    assert list((tmp_path / "out" / "runs" / "deep").glob("simple1*/run_spec.json")), r.stderr[-2000:]
