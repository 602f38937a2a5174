"""The command that runs again only some runs of a suite: helm-run's summary and `helmc status`.

helm-run journals the words of its own invocation (`invocation_words`), rebuilt from the parsed
flags; run again as they are, they resume the suite; `rerun_command` limits them to the runs
named (the failed ones), in place of an --only-runs they had.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Sequence


def invocation_words(args: argparse.Namespace) -> list[str]:
    """This helm-run's command line, rebuilt from the parsed flags (non-default values only,
    long spellings): run again as it is, it resumes the suite."""
    parser: argparse.ArgumentParser | None = getattr(args, "_helm_run_parser", None)
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "helm-run"
    words: list[str] = ["helm-run"] if prog in ("helm-run", "") or prog.endswith(".py") else ["helmc", "run"]
    if parser is None:
        return words
    for action in parser._actions:  # argparse has no public iterator over its options
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        if value == action.default or value is None:
            continue
        flag = max(action.option_strings, key=len)  # the long spelling
        if isinstance(action, argparse._StoreTrueAction):
            words.append(flag)
        elif isinstance(value, list):
            words.append(flag)
            words.extend(str(v) for v in value)
        else:
            words.extend([flag, str(value)])
    return words


def rerun_command(words: Sequence[str], run_names: Sequence[str]) -> str:
    """`words` limited to the runs named (in place of any --only-runs they have), as one
    shell-quoted line."""
    kept: list[str] = []
    skipping = False
    for w in words:
        if w == "--only-runs":
            skipping = True
        elif skipping and w.startswith("-"):
            skipping = False
        if not skipping:
            kept.append(w)
    return shlex.join([*kept, "--only-runs", *run_names])
