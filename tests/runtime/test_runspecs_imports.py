"""helm-run builds RunSpecs importing only the run spec modules that register the functions the
plan uses (runtime/runspecs.py, _run_spec_functions), where HELM imports every module of
helm.benchmark.run_specs (datasets and more) on each lookup."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import HELM_INSTALLED

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]


def _python(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]


def test_every_helm_run_spec_function_is_found_without_helms_discovery() -> None:
    """Every name HELM's own discovery registers (in one process) is registered by the targeted
    imports alone (in another, where HELM's discovery would fail the test)."""
    names = json.loads(_python(
        "import json, warnings; warnings.filterwarnings('ignore')\n"
        "from helm.benchmark import run_spec\n"
        "run_spec.discover_run_spec_functions()\n"
        "print(json.dumps(sorted(run_spec._REGISTERED_RUN_SPEC_FUNCTIONS)))"))
    assert len(names) > 100
    got = json.loads(_python(
        "import json, sys, warnings; warnings.filterwarnings('ignore')\n"
        "from helm.benchmark import run_spec\n"
        "def refuse(): raise AssertionError('HELM discovery was needed')\n"
        "run_spec.discover_run_spec_functions = refuse\n"
        "from helmc.runtime.runspecs import _run_spec_functions\n"
        f"names = {names!r}\n"
        "with _run_spec_functions(set(names)):\n"
        "    found = [n for n in names if run_spec.get_run_spec_function(n) is not None]\n"
        "print(json.dumps(found))"))
    assert got == names


def test_a_name_not_found_so_gets_helms_own_discovery() -> None:
    out = _python(
        "import warnings; warnings.filterwarnings('ignore')\n"
        "import sys\n"
        "from helm.benchmark import run_spec\n"
        "from helmc.runtime.runspecs import _run_spec_functions\n"
        "with _run_spec_functions({'simple_mcqa'}):\n"
        "    a = 'datasets' in sys.modules\n"
        "    run_spec.get_run_spec_function('simple_mcqa')\n"
        "with _run_spec_functions({'no_such_function'}):\n"
        "    assert run_spec.get_run_spec_function('no_such_function') is None\n"
        "print(a, 'datasets' in sys.modules, len(run_spec._REGISTERED_RUN_SPEC_FUNCTIONS) > 100)")
    assert out == "False True True"  # simple_mcqa alone: no datasets; unknown: every module, as HELM
