"""helm-run as an application function: its parsed flags in, HELM's runs done (runtime/helm_run.py),
the HelmRunResult out for the command line (helmc/commands/run.py) to print.

The flags are read once here into the runtime's objects (the compile's Options, what HELM reads,
the engine's), and the invocation's own words are rebuilt from the one table of options, so the
re-run command says every flag as helm-run's parser would read it back.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

from helmc.app.options import OPTIONS, Kind, Where, default_of


def helm_run_flags(args: argparse.Namespace, console: Any, *, show: Any, warn: Any) -> Any:
    """Run one helm-run of these flags (runtime/helm_run.py's helm_run): `console` gets the
    progress display; `show` and `warn` what helm-run says before the end. A [tool.helmc] that
    cannot be read is a refusal (exit 2) before anything starts."""
    from helmc.app.settings import SettingsError
    from helmc.runtime.helm_run import Ending, HelmRunResult, helm_run

    try:
        request = request_from_args(args)
    except SettingsError as e:
        return HelmRunResult(Ending.REFUSED, [], message=f"helm-run: {e}")
    return helm_run(request, console, show=show, warn=warn)


def request_from_args(args: argparse.Namespace) -> Any:
    """helm-run's flags as one HelmRunRequest. Raises SettingsError for an unreadable [tool.helmc]."""
    from helmc.app.options import options_from_args
    from helmc.app.settings import prices_path
    from helmc.compiler.session import RunSet
    from helmc.runtime.budget import Budget
    from helmc.runtime.helm_run import HelmRunRequest

    options = options_from_args(args)
    prices = prices_path(getattr(args, "prices", None))
    return HelmRunRequest(
        run_set=RunSet(tuple(args.conf_paths) + tuple(args.conf_file), tuple(args.run_entries) + tuple(args.run_specs)),
        options=options,
        settings=helm_settings(args, options.catalog),
        engine=engine_options(args),
        only_runs=tuple(args.only_runs) if args.only_runs else None,
        only_runs_file=args.only_runs_file,
        fresh=args.fresh,
        run_specs_given=bool(args.run_specs),
        command=tuple(invocation_words(args)),
        budget=Budget(args.max_cost, args.max_requests),
        prices=prices,
    )


def helm_settings(args: argparse.Namespace, catalog: Any) -> Any:
    """What HELM reads of the flags; `catalog` is the compile's catalog additions (one object)."""
    from helmc.runtime.helm_setup import HelmSettings

    return HelmSettings(
        output_path=args.output_path,
        suite=args.suite,
        catalog=catalog,
        num_threads=args.num_threads,
        dry_run=args.dry_run,
        skip_instances=args.skip_instances,
        cache_instances=args.cache_instances,
        cache_instances_only=args.cache_instances_only,
        skip_completed_runs=args.skip_completed_runs,
        exit_on_error=args.exit_on_error,
        runner_class_name=args.runner_class_name,
        mongo_uri=args.mongo_uri,
        disable_cache=args.disable_cache,
        server_url=args.server_url,
        api_key_path=args.api_key_path,
        log_config=args.log_config,
    )


def engine_options(args: argparse.Namespace) -> Any:
    from helmc.runtime.engines import EngineOptions

    return EngineOptions(
        engine=args.engine,
        parallel_runs=args.parallel_runs,
        retries=args.retries,
        retry_backoff=args.retry_backoff,
        max_runs_per_provider=args.max_runs_per_provider,
        ray_address=args.ray_address,
        ray_num_cpus=args.ray_num_cpus,
        ray_num_gpus=args.ray_num_gpus,
        slurm_cluster=args.slurm_cluster,
        slurm_args=tuple(args.slurm_arg or ()),
        slurm_config=args.slurm_config,
        request_limits=tuple((kind, text) for kind in ("requests-per-minute", "tokens-per-minute",
                                                       "max-concurrent-requests")
                             for text in _limit_values(args, kind)),
    )


def _limit_values(args: argparse.Namespace, kind: str) -> list[str]:
    """A governor flag's SCOPE=N values; without the flag, [tool.helmc]'s (as helm-check reads it)."""
    given = getattr(args, kind.replace("-", "_"), None)
    if given is not None:
        return list(given)
    from helmc.app.settings import SettingsError, load_settings

    try:
        value = load_settings(".").get(kind)
    except SettingsError:  # helm-check reports an unreadable pyproject.toml; helm-run runs without it
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


# Flags whose value the re-run command must not show as given.
_SECRETS = frozenset({"mongo-uri"})


def invocation_words(args: argparse.Namespace) -> list[str]:
    """This helm-run's command line, rebuilt from the parsed flags and the table of options
    (helm-run's flags, non-default values only, long spellings): run again as it is, it
    resumes the suite."""
    from helmc.runtime.rerun import hide_password

    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "helm-run"
    words: list[str] = ["helm-run"] if prog in ("helm-run", "") or prog.endswith(".py") else ["helmc", "run"]
    for o in OPTIONS:
        if Where.RUN not in o.where:
            continue
        value = getattr(args, o.dest, None)
        if value is None or value == default_of(o, Where.RUN):
            continue
        flag = f"--{o.name}"
        if o.kind is Kind.BOOL:
            words.append(flag)
        elif isinstance(value, list):
            words.append(flag)
            words.extend(str(v) for v in value)
        else:
            words.extend([flag, hide_password(str(value)) if o.name in _SECRETS else str(value)])
    return words


def rerun_command(args: argparse.Namespace, run_names: Sequence[str]) -> str:
    """The command line of this invocation, rebuilt from the parsed flags, limited to the runs
    (listed in a file in helmc's folder of the suite when they are too many for a command line)."""
    from helmc.runtime.journal import journal_dir
    from helmc.runtime.rerun import RunListError, rerun_command as limited_to

    try:
        return limited_to(invocation_words(args), run_names, journal_dir(args.output_path, args.suite))
    except RunListError as e:
        return f"(too many runs for one command line, and their list could not be written: {e})"
