"""helmc/app/options.py: the one table of options, and what is generated from it (argparse flags of
helm-check, helmc plan and helm-run; [tool.helmc] keys)."""

from __future__ import annotations

import argparse
import contextlib
import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helmc.commands import check as check_cmd
from helmc.commands import plan as plan_cmd
from helmc.commands import run as run_cmd
from helmc.app.options import OPTIONS, SETTINGS, Kind, Where
from helmc.app.settings import SettingsError, load_settings

COMMANDS = {Where.CHECK: check_cmd, Where.PLAN: plan_cmd, Where.RUN: run_cmd}
# What each command needs besides the flag under test, so that only that flag can be refused.
BASE = {Where.CHECK: ["x.conf"], Where.PLAN: ["x.conf"], Where.RUN: ["-r", "x", "-m", "1"]}


def _parser(command: Where) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="p", exit_on_error=True)
    COMMANDS[command].add_arguments(parser)
    return parser


NUMERIC = [(c, o) for o in OPTIONS for c in COMMANDS if c in o.where and o.kind in (Kind.INT, Kind.FLOAT)]


def test_every_option_of_every_command_is_a_flag_of_it():
    for command in COMMANDS:
        parser = _parser(command)
        flags = {s for a in parser._actions for s in a.option_strings}
        for o in OPTIONS:
            assert (command in o.where) == (f"--{o.name}" in flags), (command, o.name)


def _refused(command: Where, argv: list[str]) -> str:
    """The last line argparse writes when it refuses `argv` (bad usage: exit 2)."""
    err = io.StringIO()
    with pytest.raises(SystemExit) as e, contextlib.redirect_stderr(err):
        _parser(command).parse_args(argv)
    assert e.value.code == 2
    return err.getvalue().splitlines()[-1]


@pytest.mark.parametrize(("command", "option"), NUMERIC, ids=[f"{c.name}-{o.name}" for c, o in NUMERIC])
@pytest.mark.parametrize("word", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "x", "", "1.5"])
def test_every_numeric_flag_refuses_what_is_no_finite_number(command, option, word):
    if option.kind is Kind.FLOAT and word == "1.5":
        return  # a fraction is a number; the integer flags refuse it
    assert f"--{option.name}" in _refused(command, [*BASE[command], f"--{option.name}", word])


@pytest.mark.parametrize(("command", "option"), [(c, o) for c, o in NUMERIC if o.minimum is not None],
                         ids=[f"{c.name}-{o.name}" for c, o in NUMERIC if o.minimum is not None])
@given(data=st.data())
def test_every_numeric_flag_holds_its_minimum(command, option, data):
    low = int(option.minimum)
    value = data.draw(st.integers(low - 1000, low + 1000))
    argv = [*BASE[command], f"--{option.name}", str(value)]
    if value < low:
        assert f"must be at least {low}" in _refused(command, argv)
    else:
        assert getattr(_parser(command).parse_args(argv), option.dest) == value


@pytest.mark.parametrize(("command", "option"), [(c, o) for c, o in NUMERIC if o.kind is Kind.FLOAT],
                         ids=[f"{c.name}-{o.name}" for c, o in NUMERIC if o.kind is Kind.FLOAT])
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=0))
def test_finite_numbers_pass(command, option, value):
    parsed = getattr(_parser(command).parse_args([*BASE[command], f"--{option.name}", repr(value)]), option.dest)
    assert parsed == value and math.isfinite(parsed)


@pytest.mark.parametrize("option", list(SETTINGS.values()), ids=list(SETTINGS))
def test_every_setting_is_read_from_pyproject_and_typed_by_the_table(tmp_path, option):
    good = {Kind.STR: '"v"', Kind.LIST: '["a", "b"]', Kind.BOOL: "true"}[option.kind]
    (tmp_path / "pyproject.toml").write_text(f"[tool.helmc]\n{option.name} = {good}\n")
    assert option.name in load_settings(tmp_path).values
    bad = "1" if option.kind is not Kind.BOOL else '"yes"'
    (tmp_path / "pyproject.toml").write_text(f"[tool.helmc]\n{option.name} = {bad}\n")
    with pytest.raises(SettingsError, match=f"`{option.name}` must be {option.kind.value}"):
        load_settings(tmp_path)


@pytest.mark.parametrize("option", list(SETTINGS.values()), ids=list(SETTINGS))
def test_what_the_language_server_reads_is_the_setting_else_the_tables_default(option):
    from helmc.app.options import setting

    assert setting({}, option.name) == option.default
    given = {Kind.STR: "v", Kind.LIST: ["a"], Kind.BOOL: True}[option.kind]
    assert setting({option.name: given}, option.name) == given
