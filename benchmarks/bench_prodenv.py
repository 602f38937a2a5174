"""Checking HELM's config YAML files, side by side with HELM's own reading of them.

    python benchmarks/bench_prodenv.py [--reps 3]

On the config files crfm-helm ships (helm/config/*.yaml, copied into a folder: ~600 model
deployments, ~600 models, ~400 tokenizers), in one run:
- HELM: register_configs_from_directory (yaml.safe_load, cattrs/dacite, registration), which
  stops at the first problem and names no line for most;
- helm-check: read with positions, every HC06xx check (structure and names across files),
  diagnostics as JSON.
Both in-process after their imports, CPU seconds (`time.process_time`), minimum over
repetitions; HELM's registries are reset before each repetition. Read the numbers as a ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time


def helm_side(folder: str, reps: int) -> float:
    from helm.benchmark import model_deployment_registry as mdr
    from helm.benchmark import model_metadata_registry as mmr
    from helm.benchmark import tokenizer_config_registry as tcr
    from helm.benchmark.config_registry import register_configs_from_directory

    best = float("inf")
    for _ in range(reps):
        for x in (mdr.ALL_MODEL_DEPLOYMENTS, mdr.DEPLOYMENT_NAME_TO_MODEL_DEPLOYMENT, mmr.ALL_MODELS_METADATA,
                  mmr.MODEL_NAME_TO_MODEL_METADATA, tcr.ALL_TOKENIZER_CONFIGS, tcr.TOKENIZER_NAME_TO_CONFIG):
            x.clear()
        t = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            register_configs_from_directory(folder)
        best = min(best, time.process_time() - t)
    return best


def helmc_side(folder: str, reps: int) -> tuple[float, int]:
    from helmc.compiler.prodenv import check as prodenv
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.compiler.emit import emit

    best = float("inf")
    n = 0
    for _ in range(reps):
        prodenv._READ.clear()  # read and parse again each time
        t = time.process_time()
        sink = DiagnosticSink()
        prodenv.check_paths([], folder, sink)
        emit(sink.sorted(), "json", io.StringIO(), files=3, run_entries=0)
        best = min(best, time.process_time() - t)
        n = len(sink.items)
    return best, n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import helm

    src = os.path.join(os.path.dirname(helm.__file__), "config")
    with tempfile.TemporaryDirectory() as tmp:
        for n in ("model_deployments.yaml", "model_metadata.yaml", "tokenizer_configs.yaml"):
            shutil.copy(os.path.join(src, n), tmp)
        h = helm_side(tmp, args.reps)
        c, n = helmc_side(tmp, args.reps)
    print(f"HELM register_configs_from_directory: {h:.2f} s CPU")
    print(f"helm-check (all HC06xx checks, {n} diagnostics): {c:.2f} s CPU")
    print(f"ratio helm-check / HELM: {c / h:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
