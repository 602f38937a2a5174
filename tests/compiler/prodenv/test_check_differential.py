"""Differential against HELM over the class of single mistakes: random one-line mutations of the
lab prod_env (keys misspelt, values of other types, nulls, quotes, deleted lines, indentation,
duplicates). For every mutated folder, helm-check reports a load-time error (HC0601, HC0602,
HC0604, HC0605, HC0606) exactly when HELM's own register_configs_from_directory raises."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HELM_INSTALLED
from helpers import run_cli

HERE = Path(__file__).resolve().parents[2]
LAB = HERE / "data" / "prodenv_lab"
FILES = ["model_deployments.yaml", "model_metadata.yaml", "tokenizer_configs.yaml", "runner_config.yaml"]
LOAD_TIME = {"HC0601", "HC0602", "HC0604", "HC0605", "HC0606"}
VALUES = ["7B", "null", '""', "[]", "{}", "'2025-01-01'", "2025-13-01", "true", '"false"', "3.5", "x y", "[a, b]", "{a: 1}", "- a", "12"]


def mutate(text: str, rnd: random.Random) -> str:
    lines = text.split("\n")
    idx = [i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("#")]
    i = rnd.choice(idx)
    line = lines[i]
    indent = len(line) - len(line.lstrip())
    body = line.lstrip()
    dash = ""
    if body.startswith("- "):
        dash, body = "- ", body[2:]
    key, sep, value = body.partition(":")
    op = rnd.choice(["key", "value", "value", "delete", "indent", "duplicate", "quote"])
    if op == "key" and sep:
        k = list(key)
        j = rnd.randrange(len(k))
        k.pop(j)
        new = " " * indent + dash + "".join(k) + sep + value
    elif op == "value" and sep:
        new = " " * indent + dash + key + ": " + rnd.choice(VALUES)
    elif op == "delete":
        new = None
    elif op == "indent":
        new = " " * max(0, indent + rnd.choice([-1, 1, 2])) + line.lstrip()
    elif op == "duplicate":
        lines.insert(i, line)
        return "\n".join(lines)
    elif op == "quote" and sep and value.strip():
        new = " " * indent + dash + key + ': "' + value.strip().replace('"', "") + '"'
    else:
        new = line + "  # unchanged"
    if new is None:
        del lines[i]
    else:
        lines[i] = new
    return "\n".join(lines)


def cases(n: int = 80, seed: int = 13) -> list[tuple[str, str, str]]:
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        f = rnd.choice(FILES)
        out.append((f"m{k:03d}", f, mutate((LAB / f).read_text(encoding="utf-8"), rnd)))
    return out


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
def test_load_errors_agree_with_helm(tmp_path: Path) -> None:
    probe_cases = []
    predicted = {}
    for cid, f, text in cases():
        folder = tmp_path / cid
        shutil.copytree(LAB, folder)
        (folder / f).write_text(text, encoding="utf-8")
        code, out, err = run_cli(["check", str(folder), "--format", "json", "--no-catalog"], tmp_path)
        assert code in (0, 1), err
        diags = json.loads(out)
        predicted[cid] = sorted({d["code"] for d in diags if d["code"] in LOAD_TIME and d["severity"] == "error"})
        probe_cases.append({"id": cid, "folder": str(folder)})
    (tmp_path / "cases.json").write_text(json.dumps(probe_cases))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    p = subprocess.run([sys.executable, str(HERE / "prodenv_helm_probe.py"), str(tmp_path / "cases.json")],
                       capture_output=True, text=True, env=env, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    helm = json.loads(p.stdout)
    disagree = {
        cid: (predicted[cid], helm[cid]["load"][:200])
        for cid in predicted
        if bool(predicted[cid]) != (helm[cid]["load"] != "ok")
    }
    raised = sum(1 for r in helm.values() if r["load"] != "ok")
    assert raised >= 10 and len(helm) - raised >= 10  # both sides of the class are exercised
    assert disagree == {}
