"""What several commands share: helm-run's flags, declared once and parsed into one Options."""

from __future__ import annotations

import argparse
from typing import Any


def add_selection_arguments(parser: Any, *, run_entries_nargs: str = "*") -> None:
    """helm-run's selection flags, with helm-run's names and meaning (check and plan take them)."""
    parser.add_argument("-c", "--conf-paths", nargs="+", default=[], metavar="PATH",
                        help="conf files (or folders of them) read together, as helm-run reads them")
    parser.add_argument("--conf-file", nargs="+", action="extend", default=[], metavar="PATH",
                        help="same as --conf-paths (the spelling in HELM's documentation)")
    parser.add_argument("-r", "--run-entries", nargs=run_entries_nargs, default=[], metavar="ENTRY",
                        help="run entries, read together with --conf-paths")
    parser.add_argument("--models-to-run", nargs="+", default=None, metavar="MODEL",
                        help="as helm-run: only runs of these models (a `model=` without `/` is replaced by each)")
    parser.add_argument("--groups-to-run", nargs="+", default=None, metavar="GROUP",
                        help="as helm-run: only runs of these scenario groups")
    parser.add_argument("--priority", type=int, default=None,
                        help="as helm-run: drop entries whose priority is greater than this")
    parser.add_argument("-m", "--max-eval-instances", type=int, default=None,
                        help="as helm-run: the adapter's max_eval_instances where the run spec leaves it unset")
    parser.add_argument("-t", "--num-train-trials", type=int, default=None, help="as helm-run")


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
