"""helmc/app/settings.py: [tool.helmc] read with positions, as every file helmc reads: a setting
with a wrong type, an unknown setting and a bad [tool.helmc.format] key are reported at
`pyproject.toml:LINE:COLUMN`, the key's own place, however the TOML spells the table."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helmc.app.options import SETTINGS, Kind
from helmc.app.settings import SettingsError, load_settings

_FILLER = st.lists(st.sampled_from(["", "# a comment", '[project]\nname = "x"', "[tool.ruff]\nline-length = 100"]),
                   max_size=3, unique=True).map(lambda xs: "\n".join(xs))


def _where(message: str) -> tuple[int, int]:
    m = re.search(r"pyproject\.toml:(\d+):(\d+): ", message)
    assert m, message
    return int(m.group(1)), int(m.group(2))


def _spelled(spelling: str, indent: str, key: str, value: str) -> tuple[str, str]:
    """(the TOML text, the line that holds the key)."""
    if spelling == "header":
        line = f"{indent}{key} = {value}"
        return f"[tool.helmc]\n{line}\n", line
    if spelling == "dotted":
        line = f"{indent}helmc.{key} = {value}"
        return f"[tool]\n{line}\n", line
    line = f"{indent}tool.helmc.{key} = {value}"
    return f"{line}\n", line


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(before=_FILLER, spelling=st.sampled_from(["header", "dotted", "top"]), indent=st.sampled_from(["", "  ", "\t"]),
       option=st.sampled_from(sorted(SETTINGS)), underscore=st.booleans())
def test_a_setting_of_the_wrong_type_is_reported_at_its_key(tmp_path, before, spelling, indent, option, underscore):
    key = option.replace("-", "_") if underscore else option
    bad = '"yes"' if SETTINGS[option].kind is Kind.BOOL else "3"
    body, line = _spelled(spelling, indent, key, bad)
    # keys at the top level come before the first table header, or they would be that table's
    text = body + before + "\n" if spelling == "top" else (before + "\n" if before else "") + body
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        load_settings(tmp_path)
    n, column = _where(str(e.value))
    assert text.splitlines()[n - 1] == line
    assert line[column - 1:].startswith(key)


def test_an_unknown_setting_is_warned_about_at_its_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.helmc]\nselect = [\"HC01\"]\n  frobnicate = true\n")
    (warning,) = load_settings(tmp_path).warnings
    assert _where(warning) == (3, 3) and "unknown setting `frobnicate`" in warning


def test_a_bad_format_setting_is_reported_at_its_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.helmc.format]\n\nindent-width = 99\n")
    with pytest.raises(SettingsError) as e:
        load_settings(tmp_path)
    assert _where(str(e.value)) == (3, 1) and "must be an integer from 1 to 16" in str(e.value)


def test_an_inline_table_names_the_file_alone(tmp_path):
    (tmp_path / "pyproject.toml").write_text("tool = {helmc = {select = 3}}\n")
    with pytest.raises(SettingsError, match=r"pyproject\.toml: \[tool\.helmc\] `select` must be a list"):
        load_settings(tmp_path)
