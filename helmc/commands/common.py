"""What several commands share: their parsed flags (declared once, in helmc/app/options.py) as one Options."""

from __future__ import annotations

import argparse
from typing import Any


def options_from_args(args: argparse.Namespace):
    """The one options object of a command line (selection, catalog additions, verdict flags);
    its catalog additions are also what HELM is given (HelmSettings.catalog)."""
    from helmc.compiler.catalog import UserAdditions
    from helmc.compiler.plan import PlanOptions
    from helmc.compiler.session import Options

    return Options(
        selection=PlanOptions(
            models_to_run=tuple(args.models_to_run) if getattr(args, "models_to_run", None) else None,
            groups_to_run=tuple(args.groups_to_run) if getattr(args, "groups_to_run", None) else None,
            priority=getattr(args, "priority", None),
            max_eval_instances=getattr(args, "max_eval_instances", None),
            num_train_trials=getattr(args, "num_train_trials", None),
        ),
        catalog=UserAdditions(
            local_path=getattr(args, "local_path", None),
            plugins=tuple(getattr(args, "plugins", None) or ()),
            enable_huggingface_models=tuple(getattr(args, "enable_huggingface_models", None) or ()),
            enable_local_huggingface_models=tuple(getattr(args, "enable_local_huggingface_models", None) or ()),
        ),
        allow_no_runs=bool(getattr(args, "allow_no_runs", False)),
        no_catalog=bool(getattr(args, "no_catalog", False)),
    )


def prices_path(args: argparse.Namespace) -> str | None:
    """--prices, else `prices` in [tool.helmc] (relative to its pyproject.toml). Raises
    SettingsError for a [tool.helmc] that cannot be read, which the command says in one line."""
    given = getattr(args, "prices", None)
    if given is not None:
        return given
    from helmc.app.settings import load_settings

    return load_settings(".").values.get("prices")
