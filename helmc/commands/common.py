"""What several commands share: reading HELM's selection flags into compiler inputs."""

from __future__ import annotations

import argparse
from typing import Any


def catalog_from_args(args: argparse.Namespace, sink: Any):
    """HELM's catalog with the user additions named by the flags (--local-path, --plugins, the
    Hugging Face flags); an addition that cannot be read becomes a diagnostic in `sink`."""
    from helmc.compiler.catalog import load_catalog_with_additions

    return load_catalog_with_additions(
        local_path=getattr(args, "local_path", None),
        plugins=getattr(args, "plugins", None) or [],
        enable_huggingface_models=getattr(args, "enable_huggingface_models", None) or [],
        enable_local_huggingface_models=getattr(args, "enable_local_huggingface_models", None) or [],
        sink=sink,
    )


def plan_options(args: argparse.Namespace):
    """helm-run's selection flags as the planner's options."""
    from helmc.compiler.plan import PlanOptions

    return PlanOptions(
        models_to_run=args.models_to_run,
        groups_to_run=args.groups_to_run,
        priority=args.priority,
        max_eval_instances=args.max_eval_instances,
        num_train_trials=args.num_train_trials,
    )
