"""The command that runs again only some runs of a suite: helm-run's summary and `helmc status`.

helm-run journals the words of its own invocation (`invocation_words`), rebuilt from the parsed
flags without `--only-runs`; either tool then appends the runs that are left (`rerun_command`).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from typing import Sequence


def invocation_words(args: argparse.Namespace) -> list[str]:
    """This helm-run's command line, rebuilt from the parsed flags (non-default values only,
    long spellings), without `--only-runs`."""
    parser: argparse.ArgumentParser | None = getattr(args, "_helm_run_parser", None)
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "helm-run"
    words: list[str] = ["helm-run"] if prog in ("helm-run", "") or prog.endswith(".py") else ["helmc", "run"]
    if parser is None:
        return words
    for action in parser._actions:  # argparse has no public iterator over its options
        if not action.option_strings or action.dest in ("help", "only_runs"):
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
            words.extend([flag, hide_password(str(value)) if action.dest == "mongo_uri" else str(value)])
    return words


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")


def hide_password(uri: str) -> str:
    """A URI with its password replaced by `****` (`mongodb://user:****@host/db`): the re-run
    command is printed and journaled, and a password must appear in neither."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:****@", uri, count=1)


def rerun_command(words: Sequence[str], run_names: Sequence[str]) -> str:
    """`words` limited to the runs named, as one shell-quoted line."""
    return shlex.join([*words, "--only-runs", *run_names])
