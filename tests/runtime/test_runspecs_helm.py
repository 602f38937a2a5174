"""HC0502 at the argument HELM was working on, read from the traceback of HELM's own
construct_run_specs (runtime/runspecs.py's raising_argument), never from its message: a lab's
run spec functions (`--plugins`) that refuse a value in their body, on a statement over several
lines, in a helper they call, or on a statement that reads no parameter (the description then).
Marked `helm`: skipped when crfm-helm is not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.helm
pytest.importorskip("helm.benchmark.run_spec_factory")

LAB = '''\
from helm.benchmark.run_spec import RunSpec, run_spec_function
from helm.benchmark.run_specs.simple_run_specs import get_simple1_spec

_SUBJECTS = {"a": 1}


@run_spec_function("lab_body")
def get_lab_body_spec(subject: str = "a", split: str = "valid") -> RunSpec:
    if split not in ("train", "valid"):
        raise ValueError(f"unknown split {split!r}")
    return get_simple1_spec()


@run_spec_function("lab_lines")
def get_lab_lines_spec(split: str = "valid", subject: str = "a") -> RunSpec:
    if subject != "a":
        raise ValueError(
            "unknown subject " + subject
        )
    return get_simple1_spec()


def _lookup(name: str) -> int:
    return _SUBJECTS[name]


@run_spec_function("lab_deeper")
def get_lab_deeper_spec(split: str = "valid", subject: str = "a") -> RunSpec:
    _lookup(subject)
    return get_simple1_spec()


@run_spec_function("lab_none")
def get_lab_none_spec(split: str = "valid", subject: str = "a") -> RunSpec:
    if split == "test":
        raise ValueError("this lab refuses it")
    return get_simple1_spec()
'''

# (run entry, the argument HC0502 points at; None: the description). In the last two, two
# arguments share the value that HELM's message names: the message alone cannot tell them apart.
CASES = [
    ("lab_body:subject=a,split=test,model=simple/model1", "split"),
    ("lab_lines:split=test,subject=zz,model=simple/model1", "subject"),
    ("lab_deeper:split=zz,subject=zz", "subject"),
    ("lab_none:split=test,subject=test", None),
]


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    (folder / "lab_spans.py").write_text(LAB, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-c", "import sys; from helmc.cli import main; sys.exit(main())", "plan", "--build",
         "--plugins", "lab_spans.py", "--models-to-run", "simple/model1", "--format", "json",
         "--run-entries", *[c[0] for c in CASES]],
        cwd=folder, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"},
    )
    assert r.returncode == 1, r.stdout + r.stderr
    return json.loads(r.stdout)["diagnostics"]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0].split(":")[0] for c in CASES])
def test_hc0502_points_at_the_argument_the_traceback_names(diagnostics, index):
    entry, argument = CASES[index]
    (d,) = [d for d in diagnostics if d["line"] == index + 1]
    assert d["code"] == "HC0502" and d["path"] == "<run-entries>"
    shown = entry[d["column"] - 1 : d["end_column"] - 1]
    if argument is None:
        assert shown == entry
    else:
        start = entry.index(f"{argument}=") + len(argument) + 1
        value = entry[start:].split(",")[0]
        assert (d["column"] - 1, shown) == (start, value)
