"""helm-check --models-to-run checks what helm-run would with the same flag."""

from __future__ import annotations

import json

from helpers import run_cli

CONF = (
    "entries: [\n"
    '  {description: "mmlu:subject=anatomy,model=text", priority: 1}\n'
    '  {description: "simple1:model=simple/model1", priority: 1}\n'
    "]\n"
)


def codes(tmp_path, *flags: str, status: int = 0) -> list[tuple[str, str, int]]:
    (tmp_path / "run_entries.conf").write_text(CONF, encoding="utf-8")
    got, out, _ = run_cli(["check", "run_entries.conf", "--format", "json", *flags], tmp_path)
    assert got == status
    return [(d["code"], d["path"], d["line"]) for d in json.loads(out)]


def test_without_models_to_run_a_wildcard_fails_as_helm_run_does(tmp_path):
    # helm-run refuses `model=text` without --models-to-run; helm-check passes only what helm-run starts
    assert codes(tmp_path, status=1) == [("HC0405", "run_entries.conf", 2)]


def test_models_to_run_values_and_filtered_entries(tmp_path):
    found = codes(tmp_path, "--models-to-run", "openai/gtp2")
    assert ("HC0404", "<models-to-run>", 1) in found  # a typo HELM would accept
    assert ("HC0403", "run_entries.conf", 3) in found  # simple1 names its model: filtered away
    assert all(code != "HC0403" or line != 2 for code, _, line in found)  # the wildcard entry runs
