"""No internal error, ever: generated conf files x every combination of helm-run's selection
flags, through helm-check, `helmc plan` and helm-run's compile step (the session helm-run
drives, stopped before HELM builds anything). Exit 0 or 1, never 2; and helm-check passes
exactly when helm-run's compile finds no error (one verdict).

The default profile (tests/strategies.py) is CI's short run; `HYPOTHESIS_PROFILE=fuzz
HELMC_FUZZ_EXAMPLES=N pytest tests/app/test_cli_flag_properties.py` is the long one, by hand.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from hypothesis import given

from helpers import run_cli
from strategies import helm_conf_files, selection_flags

from helmc.commands import run as run_cmd
from helmc.app.options import options_from_args
from helmc.compiler.session import RunSet
from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.session import Session


def _all_commands(text: str, flags: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        cwd = Path(d)
        (cwd / "e.conf").write_text(text, encoding="utf-8")
        statuses = {}
        for argv in (["check", "e.conf", *flags], ["check", "-c", "e.conf", *flags],
                     ["plan", "e.conf", *flags], ["plan", "-c", "e.conf", "--format", "json", *flags]):
            status, out, err = run_cli(argv, cwd)
            assert status in (0, 1), (argv, text, out[-2000:], err[-2000:])
            assert "HC0902" not in out + err
            statuses[tuple(argv[:2])] = status
        # helm-run: its own flag parser, its options, its session up to the plan and verdict
        parser = argparse.ArgumentParser(prog="helm-run")
        run_cmd.add_arguments(parser)
        args = parser.parse_args(["-c", str(cwd / "e.conf"), "--max-eval-instances", "1", *flags])
        session = Session(options_from_args(args), RunSet((str(cwd / "e.conf"),)), HelmSettings())
        plan = session.compile("run")
        assert plan is not None
        # the verdict: an empty plan without errors is itself an error (HC0402), as helm-run stops
        assert plan.runs or session.sink.has_errors
        # one verdict: helm-check with the same flags passes iff helm-run would start
        assert statuses[("check", "-c")] == int(session.sink.has_errors), (text, flags)


@given(helm_conf_files(), selection_flags())
def test_no_internal_error_under_any_selection_flags(conf, flags) -> None:
    _all_commands(conf.text, flags)


def test_the_readme_example_with_models_to_run_and_groups() -> None:
    example = (Path(__file__).resolve().parents[2] / "examples" / "quickstart.conf").read_text()
    for flags in (["--models-to-run", "openai/gpt2"], ["--groups-to-run", "quickstart"], ["--groups-to-run", "x"]):
        _all_commands(example, flags)
