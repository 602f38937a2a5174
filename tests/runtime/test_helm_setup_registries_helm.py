"""A worker that is not forked (Ray, Slurm) takes HELM's registries from helm-run instead of
reading HELM's YAML files again (runtime/helm_setup.prepare's `registries`): it must end in the
same state as a worker that prepared HELM itself, with --local-path configs and --plugins; a
snapshot it cannot read falls back to reading the files. helm-run reads HELM's own YAML files
with libyaml, which must give the registries that HELM's own loader gives."""

from __future__ import annotations

from pathlib import Path

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.helm
pytest.importorskip("helm.benchmark.run", reason="crfm-helm is not installed")

ROOT = str(Path(__file__).resolve().parents[2])
BENCH = os.path.join(ROOT, "benchmarks")

# Prepares HELM in a fresh process (argv: the mode, the snapshot file), prints the state of
# every registry prepare() fills, and in mode "driver" writes the snapshot for the others.
SCRIPT = r"""
import json, sys
from helmc.runtime import helm_setup
mode, blob_path, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from helmc.compiler.catalog.catalog import UserAdditions
additions = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.pop("catalog").items()}
settings = helm_setup.HelmSettings(catalog=UserAdditions(**additions), **settings)
if mode == "driver":
    helm_setup.prepare(settings)
    open(blob_path, "wb").write(helm_setup.registries())
elif mode == "pure-yaml":  # HELM's own loader for HELM's own files, as HELM reads them
    helm_setup.FAST_YAML = False
    helm_setup.prepare(settings)
else:
    blob = open(blob_path, "rb").read() if mode == "worker" else b"not a pickle"
    helm_setup.prepare(settings, blob)
import helm.benchmark.model_deployment_registry as d, helm.benchmark.model_metadata_registry as m
import helm.benchmark.tokenizer_config_registry as t, helm.benchmark.runner_config_registry as r
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.benchmark.model_metadata_registry import get_model_metadata
state = {
    "deployments": [repr(x) for x in d.ALL_MODEL_DEPLOYMENTS],
    "deployment_names": sorted(d.DEPLOYMENT_NAME_TO_MODEL_DEPLOYMENT),
    "models": [repr(x) for x in m.ALL_MODELS_METADATA],
    "model_names": sorted(m.MODEL_NAME_TO_MODEL_METADATA),
    "tokenizers": [repr(x) for x in t.ALL_TOKENIZER_CONFIGS],
    "tokenizer_names": sorted(t.TOKENIZER_NAME_TO_CONFIG),
    "runner_config": repr(r.RUNNER_CONFIG),
    # lookups through HELM's own functions see the same objects, links included
    "slow": repr(get_model_deployment("helmcbench/slow-model1")),
    "slow_meta": repr(get_model_metadata("helmcbench/slow-model1")),
}
print(json.dumps(state))
"""


def _state(mode: str, blob: str, settings: dict, cwd: str) -> dict:
    p = subprocess.run([sys.executable, "-c", SCRIPT, mode, blob, json.dumps(settings)],
                       cwd=cwd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_a_worker_given_the_registries_ends_as_one_that_read_helms_files(tmp_path) -> None:
    settings = {
        "output_path": str(tmp_path / "out"),
        "catalog": {
            "local_path": os.path.join(BENCH, "prod_env"),  # adds the benchmark's slow model
            "plugins": [os.path.join(BENCH, "helmc_bench_plugin.py")],
        },
    }
    blob = str(tmp_path / "registries.pickle")
    driver = _state("driver", blob, settings, str(tmp_path))
    assert "helmcbench/slow-model1" in driver["deployment_names"]
    assert len(driver["deployments"]) > 500  # HELM's own deployments are there too
    worker = _state("worker", blob, settings, str(tmp_path))
    assert worker == driver
    fallback = _state("unreadable", blob, settings, str(tmp_path))  # reads HELM's files itself
    assert fallback == driver
    # helm-run reads HELM's own files with libyaml: the registries are those of HELM's loader
    assert _state("pure-yaml", blob, settings, str(tmp_path)) == driver
