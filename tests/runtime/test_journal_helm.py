"""helm-run with a damaged or unwritable journal, with the real crfm-helm (offline simple1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import HELM_INSTALLED

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]

OURS = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]
CMD = OURS + ["--run-entries", "simple1:model=simple/model1", "-m", "1", "--dry-run", "-o", "out",
              "--local-path", "pe", "--suite", "s"]
RUN = os.path.join("out", "runs", "s", "simple1:model=simple_model1")


def _run(cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(CMD, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("where, content", [
    ("journal.json", '{"version":1,"runs":[1]}'),  # helmc 0.1's file, wrong types
    ("journal.json", '{"version":1,"runs":{"simple1:model=simple_model1":{"fingerprint":"x",'
                     '"state":"completed","attempts":1e999}}}'),
    ("journal.jsonl", '{"helmc_journal": 2}\n{"run": "abc"}\n\x00garbage'),
])
def test_a_damaged_journal_is_ignored_with_a_warning_and_the_suite_runs(tmp_path, where, content):
    folder = tmp_path / "out" / "helmc" / "s"
    folder.mkdir(parents=True)
    (folder / where).write_text(content)
    r = _run(tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "warning[HC0751]" in r.stderr and str(folder / where).endswith(where)
    assert "internal" not in (r.stdout + r.stderr).lower() and "Traceback" not in r.stderr
    assert (tmp_path / RUN / "run_spec.json").is_file()
    r2 = _run(tmp_path)  # compacted: no warning the second time, and the run is skipped
    assert r2.returncode == 0 and "HC0751" not in r2.stderr and "1 of the done runs completed earlier (skipped)" in r2.stdout


def test_a_folder_where_the_journal_goes_is_exit_2_naming_it(tmp_path):
    (tmp_path / "out" / "helmc" / "s" / "journal.jsonl").mkdir(parents=True)
    r = _run(tmp_path)
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert "error[HC0750]" in r.stderr and os.path.join("out", "helmc", "s", "journal.jsonl") in r.stderr
    assert "is a folder" in r.stderr and "internal" not in r.stderr.lower()
    assert not (tmp_path / RUN).exists()  # nothing ran

