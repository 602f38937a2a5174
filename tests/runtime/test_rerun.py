"""The re-run command stays executable whatever the number of runs left: past MAX_COMMAND
bytes the names go to a file in helmc's folder of the suite and the command reads it with
`--only-runs-file` (Linux refuses an argument list over 2 MB)."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helmc.cli import main
from helmc.runtime.journal import LOG_NAME, journal_dir
from helmc.runtime.rerun import (MAX_COMMAND, RunListError, read_run_list, rerun_command, run_list_file,
                                 write_run_list)

COMMAND = ["helm-run", "--conf-paths", "k.conf", "--max-eval-instances", "5", "--suite", "s"]
ARG_MAX = 2 * 1024 * 1024  # Linux: arguments and environment together


def _journal(out: str, names: list[str], state: str = "failed") -> None:
    """A finished suite's journal, written line by line as helm-run writes it (fast at 10^5 runs)."""
    folder = journal_dir(out, "s")
    os.makedirs(folder)
    with open(os.path.join(folder, LOG_NAME), "w", encoding="utf-8") as f:
        f.write('{"helmc_journal": 2}\n')
        f.write(json.dumps({"session": {"started": 1.0, "pid": 2**30, "host": "elsewhere", "command": COMMAND,
                                        "planned": names, "cwd": ""}}) + "\n")
        for n in names:
            f.write(json.dumps({"run": {"name": n, "fingerprint": "fp", "state": state, "attempts": 1,
                                        "error": "ValueError: x", "duration": 1.0, "updated": 2.0,
                                        "started": 1.0, "log": None}}) + "\n")


def _names_of(command: str) -> list[str]:
    words = shlex.split(command)
    if "--only-runs-file" in words:
        return read_run_list(words[words.index("--only-runs-file") + 1])
    return words[words.index("--only-runs") + 1:]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_133333_failed_runs_give_a_command_that_can_run(tmp_path, capsys, fmt):
    names = [f"mmlu:subject=s{i},model=openai_gpt2" for i in range(133_333)]
    out = str(tmp_path)
    _journal(out, names)
    assert main(["status", "--suite", "s", "-o", out, "--format", fmt]) == 0
    stdout = capsys.readouterr().out
    if fmt == "json":
        command = json.loads(stdout)["rerun"]
    else:
        lines = stdout.splitlines()
        command = lines[lines.index("To run only the failed runs again:") + 1].strip()
    assert len(command.encode()) <= MAX_COMMAND < ARG_MAX
    words = shlex.split(command)
    assert words[: len(COMMAND)] == COMMAND and "--only-runs" not in words
    listed = words[words.index("--only-runs-file") + 1]
    assert os.path.dirname(listed) == os.path.abspath(journal_dir(out, "s"))
    assert read_run_list(listed) == names  # every run left, in the journal's order


def test_a_short_list_stays_on_the_command_line(tmp_path, capsys):
    out = str(tmp_path)
    _journal(out, ["a:x=1", "b:y=2"])
    assert main(["status", "--suite", "s", "-o", out, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rerun"] == shlex.join([*COMMAND, "--only-runs", "a:x=1", "b:y=2"])
    assert sorted(os.listdir(journal_dir(out, "s"))) == [LOG_NAME]  # nothing written


def test_a_list_that_cannot_be_written_says_why_there_is_no_command(tmp_path, capsys):
    out = str(tmp_path)
    names = [f"r{i}:" + "x" * 100 for i in range(1000)]
    _journal(out, names)
    where, _ = run_list_file(journal_dir(out, "s"), names)
    os.mkdir(where)  # a folder where the list goes: the rename fails, as on a read-only folder
    assert main(["status", "--suite", "s", "-o", out]) == 0
    stdout = capsys.readouterr().out
    assert "To run only the failed runs again" not in stdout
    assert (f"error: the runs left are too many for one command line, and their list could not be "
            f"written: {where}: Is a directory") in stdout
    assert main(["status", "--suite", "s", "-o", out, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rerun"] is None and doc["rerun_error"].endswith(f"{where}: Is a directory")
    assert sorted(os.listdir(journal_dir(out, "s"))) == sorted([LOG_NAME, os.path.basename(where)])


_NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(lambda n: n.strip())


@settings(max_examples=200, deadline=None)
@given(names=st.lists(_NAME, min_size=0, max_size=40), size=st.sampled_from([0, MAX_COMMAND]))
@example(names=["--only-runs-file", "0"], size=0)  # a name argparse would read as a flag
@example(names=["-1", "a"], size=0)
def test_every_list_of_names_comes_back_exactly(tmp_path_factory, names, size):
    """Whatever the names (spaces, quotes, line breaks, control characters) and whichever way
    the command carries them, it names exactly the runs given, in order."""
    folder = str(tmp_path_factory.mktemp("suite"))
    padded = [n + "p" * size for n in names[:1]] + names[1:] if size else names
    command = rerun_command(COMMAND, padded, folder)
    assert _names_of(command) == padded
    if size and padded:
        assert "--only-runs-file" in shlex.split(command)
    assert read_run_list(write_run_list(folder, padded)) == padded


@pytest.mark.parametrize("content,why", [
    (None, "No such file or directory"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b"[1, 2]", "not a JSON array of run names"),
    (b"[\"a\"", "not a JSON array of run names"),
])
def test_a_bad_run_list_file_is_a_one_line_error_naming_it(tmp_path, content, why):
    path = tmp_path / "names.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RunListError) as e:
        read_run_list(str(path))
    assert str(e.value).startswith(f"{path}: ") and why in str(e.value)


@pytest.mark.parametrize("content", [None, b"\xff"])
def test_helm_run_refuses_a_bad_only_runs_file_before_anything_starts(tmp_path, capsys, content):
    path = tmp_path / "names.txt"
    if content is not None:
        path.write_bytes(content)
    code = main(["run", "-r", "simple1:model=simple/model1", "-m", "1", "-o", str(tmp_path / "out"),
                 "--only-runs-file", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[0].startswith(f"error: --only-runs-file {path}: ")
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------ the workers used

_PROVIDERS = st.sampled_from(["openai", "together", "anthropic", "simple", "huggingface"])


class _Nothing:
    def execute(self, task) -> None:  # noqa: ANN001 - the Executor protocol
        return None


@settings(max_examples=60, deadline=None)
@given(providers=st.lists(_PROVIDERS, min_size=1, max_size=30), parallel=st.sampled_from([1, 2, 5, 30, 10000]),
       limit=st.one_of(st.none(), st.integers(1, 3)))
def test_the_header_says_how_many_workers_are_used(tmp_path_factory, providers, parallel, limit):
    """`--parallel-runs 10000` with 30 runs uses 30 workers, and --max-runs-per-provider fewer:
    the header names the number of attempts the engine put in flight at once."""
    import io
    import re

    from rich.console import Console

    from helmc.runtime.helm_setup import HelmSettings
    from helmc.runtime.runspecs import BuiltRun
    from helmc.runtime.engine import Finished, InlineEngine, Started
    from helmc.runtime.suite import run_suite

    out = str(tmp_path_factory.mktemp("out"))
    runs = [BuiltRun(f"r{i}", None, f"{p}/m", f"{p}/m", "fp", b"") for i, p in enumerate(providers)]
    engine = InlineEngine(parallel, max_per_provider=limit)
    events: list = []
    wrapped_run = engine.run

    def run(tasks, executor, on_event, **kw):  # noqa: ANN001 - watch what the engine does
        return wrapped_run(tasks, executor, lambda ev: (events.append(ev), on_event(ev)), **kw)

    engine.run = run  # type: ignore[method-assign]
    text = io.StringIO()
    run_suite(runs, HelmSettings(output_path=out, suite="s"), engine, Console(file=text, width=200),
              workers=parallel, executor=_Nothing())
    first_end = next(i for i, e in enumerate(events) if isinstance(e, Finished))
    in_flight = sum(1 for e in events[:first_end] if isinstance(e, Started))  # the first batch fills every slot
    header = text.getvalue().splitlines()[0]
    assert re.fullmatch(rf"helm-run: {len(runs)} run\(s\) to do with {in_flight} worker\(s\)", header), header
    assert in_flight <= min(parallel, len(runs))


def test_helm_runs_own_command_after_failures_lists_many_runs_in_a_file(tmp_path):
    """The command helm-run prints after failed runs takes the same way as `helmc status`'s."""
    import argparse

    from helmc.app.run import rerun_command
    from helmc.commands import run as run_cmd

    parser = argparse.ArgumentParser(prog="helm-run")
    run_cmd.add_arguments(parser)
    out = str(tmp_path / "out")
    args = parser.parse_args(["-c", "k.conf", "-m", "5", "--suite", "s", "-o", out, "--only-runs", "old",
                              "--only-runs-file", "older.txt"])
    names = [f"mmlu:subject=s{i},model=openai_gpt2" for i in range(5000)]
    os.makedirs(journal_dir(out, "s"))
    command = rerun_command(args, names)
    assert len(command.encode()) <= MAX_COMMAND
    words = shlex.split(command)
    assert "--only-runs" not in words and words.count("--only-runs-file") == 1 and words[-2] == "--only-runs-file"
    assert "old" not in words and "older.txt" not in words  # this invocation's own selection is not carried
    assert read_run_list(words[-1]) == names
    assert "--conf-paths" in words and "k.conf" in words


# ------------------------------------------------------------- the invocation's own words

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/._:=", min_size=1, max_size=12)


def _run_options():
    from helmc.app.options import OPTIONS, Where

    return [o for o in OPTIONS if Where.RUN in o.where]


@st.composite
def _run_argv(draw) -> list[str]:
    """helm-run's flags: any subset of its options (the required ones always), each with a value
    of its kind."""
    from helmc.app.options import Kind, Where

    argv: list[str] = []
    for o in _run_options():
        if Where.RUN not in o.required and not draw(st.booleans()):
            continue
        flag = draw(st.sampled_from(o.flags))  # short or long: the words say the long one
        if o.kind is Kind.BOOL:
            argv.append(flag)
        elif o.kind is Kind.INT:
            argv += [flag, str(draw(st.integers(int(o.minimum or 0), 1000)))]
        elif o.kind is Kind.FLOAT:
            argv += [flag, repr(draw(st.floats(o.minimum or 0.0, 1e6)))]
        elif o.kind is Kind.LIST:
            argv += [flag, *draw(st.lists(_WORD, min_size=0 if o.nargs == "*" else 1, max_size=3))]
        elif o.choices and Where.RUN in o.choices:
            argv += [flag, draw(st.sampled_from(o.choices[Where.RUN]))]
        else:
            argv += [flag, draw(_WORD)]
    return argv


@given(_run_argv())
@settings(max_examples=200, deadline=None)
def test_the_invocation_words_read_back_as_the_same_flags(argv):
    """Every helm-run option, with any value: the words rebuilt from the table of options, read
    by helm-run's parser, give the flags they were rebuilt from."""
    import argparse
    import sys
    from unittest import mock

    from helmc.app.run import invocation_words
    from helmc.commands import run as run_cmd

    parser = argparse.ArgumentParser(prog="helm-run")
    run_cmd.add_arguments(parser)
    args = parser.parse_args(argv)
    with mock.patch.object(sys, "argv", ["/venv/bin/helm-run"]):
        words = invocation_words(args)
    assert words[0] == "helm-run"
    shorts = {f"-{o.short}" for o in _run_options() if o.short}
    assert not shorts & set(words)  # the long spellings
    assert vars(parser.parse_args(words[1:])) == vars(args), (argv, words)
