"""What HELM itself does with prod_env folders: run as a subprocess by tests/compiler/prodenv/test_check_helm.py.

    python tests/prodenv_helm_probe.py CASES.json

CASES.json: [{"id", "folder", "deployments": [names to create clients for],
"tokenizers": [names to create tokenizers for]}]. Prints one JSON object: id -> what HELM's
own registry functions did (register_configs_from_directory, then AutoClient._get_client and
AutoTokenizer._get_tokenizer, as helm-run calls them). HELM's registries are global, so they
are restored to the built-in state before each folder; the process is HELM's alone.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import sys
import tempfile


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download: a probe fails fast instead
    from helm.benchmark import model_deployment_registry as mdr
    from helm.benchmark import model_metadata_registry as mmr
    from helm.benchmark import runner_config_registry as rcr
    from helm.benchmark import tokenizer_config_registry as tcr
    from helm.benchmark.config_registry import register_builtin_configs_from_helm_package, register_configs_from_directory

    state = [mdr.ALL_MODEL_DEPLOYMENTS, mdr.DEPLOYMENT_NAME_TO_MODEL_DEPLOYMENT, mmr.ALL_MODELS_METADATA,
             mmr.MODEL_NAME_TO_MODEL_METADATA, tcr.ALL_TOKENIZER_CONFIGS, tcr.TOKENIZER_NAME_TO_CONFIG]
    with contextlib.redirect_stdout(io.StringIO()):
        register_builtin_configs_from_helm_package()
    builtin = copy.deepcopy(state)

    def restore() -> None:
        fresh = copy.deepcopy(builtin)
        for live, saved in zip(state, fresh):
            live.clear()
            (live.extend if isinstance(live, list) else live.update)(saved)  # type: ignore[operator]
        rcr.RUNNER_CONFIG = rcr.RunnerConfigSpec()

    def error(e: BaseException) -> str:
        return f"{type(e).__name__}: {str(e)[:300]}"

    cases = json.load(open(sys.argv[1], encoding="utf-8"))
    out: dict[str, dict] = {}
    n_models = len(builtin[2])
    n_deployments = len(builtin[0])
    n_tokenizers = len(builtin[4])
    for case in cases:
        restore()
        r: dict = {}
        out[case["id"]] = r
        try:
            with contextlib.redirect_stdout(io.StringIO()) as log:
                register_configs_from_directory(case["folder"])
            r["load"] = "ok"
            r["log"] = [line for line in log.getvalue().splitlines() if "Could not find" in line or "WARNING" in line]
        except Exception as e:  # what helm-run would die of
            r["load"] = error(e)
            continue
        r["models"] = {
            m.name: {"tags": list(m.tags), "access": m.access, "creator": m.creator_organization_name}
            for m in mmr.ALL_MODELS_METADATA[n_models:]
        }
        r["deployments"] = {
            d.name: {
                "model_name": d.model_name,
                "tokenizer_name": d.tokenizer_name,
                "deprecated": d.deprecated,
                "max_sequence_length": d.max_sequence_length,
                "class_name": d.client_spec.class_name,
                "args": {k: str(v) for k, v in d.client_spec.args.items()},
            }
            for d in mdr.ALL_MODEL_DEPLOYMENTS[n_deployments:]
        }
        r["winning_deployments"] = {n: mdr.DEPLOYMENT_NAME_TO_MODEL_DEPLOYMENT[n].model_name for n in r["deployments"]}
        r["tokenizers"] = {t.name: t.tokenizer_spec.class_name for t in tcr.ALL_TOKENIZER_CONFIGS[n_tokenizers:]}
        r["with_tag"] = {
            tag: [m for m in mmr.get_model_names_with_tag(tag) if m in r["models"] or m in {d["model_name"] for d in r["deployments"].values()}]
            for tag in ("TEXT_MODEL_TAG", "INSTRUCTION_FOLLOWING_MODEL_TAG")
        }
        r["runner"] = {"helm_max_concurrent_workers": rcr.RUNNER_CONFIG.helm_max_concurrent_workers}
        if case.get("deployments") or case.get("tokenizers"):
            from helm.clients.auto_client import AutoClient
            from helm.common.cache_backend_config import BlackHoleCacheBackendConfig
            from helm.tokenizers.auto_tokenizer import AutoTokenizer

            with tempfile.TemporaryDirectory() as tmp:
                client = AutoClient({}, tmp, BlackHoleCacheBackendConfig())
                for name in case.get("deployments", ()):
                    try:
                        with contextlib.redirect_stdout(io.StringIO()):
                            client._get_client(name)
                        r.setdefault("clients", {})[name] = "ok"
                    except Exception as e:
                        r.setdefault("clients", {})[name] = error(e)
                tok = AutoTokenizer({}, BlackHoleCacheBackendConfig())
                for name in case.get("tokenizers", ()):
                    try:
                        with contextlib.redirect_stdout(io.StringIO()):
                            tok._get_tokenizer(name)
                        r.setdefault("tokenizers_made", {})[name] = "ok"
                    except Exception as e:
                        r.setdefault("tokenizers_made", {})[name] = error(e)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
