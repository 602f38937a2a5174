"""`[tool.helmc]` in the nearest pyproject.toml: defaults for helm-check and the language server.

Command-line flags win over settings. Paths in settings (local-path, plugins that are files)
are relative to the pyproject.toml that holds them, as ruff reads its own settings.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# key -> (expected type, is a path to resolve). Keys may be written with `-` or `_`.
KNOWN: dict[str, tuple[type, bool]] = {
    "select": (list, False),
    "ignore": (list, False),
    "format": (str, False),
    "local-path": (str, True),
    "plugins": (list, True),
    "models-to-run": (list, False),
    "enable-huggingface-models": (list, False),
    "enable-local-huggingface-models": (list, True),
    "output-file": (str, True),
    "no-catalog": (bool, False),
}


class SettingsError(Exception):
    """The settings cannot be used: a wrong type or an unreadable pyproject.toml."""


@dataclass
class Settings:
    path: Path | None = None  # the pyproject.toml they come from
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def find_pyproject(start: str | os.PathLike[str]) -> Path | None:
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if os.path.lexists(candidate):  # a FIFO, a folder or a broken link too: load_settings says why
            return candidate
    return None


def _toml_loader():
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli  # type: ignore[import-not-found]

        return tomli
    except ImportError:
        return None


def _looks_like_path(value: str) -> bool:
    return value.endswith(".py") or "/" in value or os.sep in value


def load_settings(start: str | os.PathLike[str] = ".") -> Settings:
    """Settings from the nearest pyproject.toml at or above `start`; empty when there is none."""
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Settings()
    toml = _toml_loader()
    if toml is None:
        return Settings(pyproject, {}, [f"{pyproject}: [tool.helmc] skipped: reading TOML on Python 3.10 needs `pip install tomli`"])
    from helmc.compiler.reading import read_input_text

    try:
        data = toml.loads(read_input_text(pyproject))
    except OSError as e:
        raise SettingsError(f"{pyproject}: cannot read: {e.strerror or e}") from None
    except ValueError as e:  # tomllib.TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise SettingsError(f"{pyproject}: cannot read: {e}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise SettingsError(f"{pyproject}: `tool` is not a table, so [tool.helmc] cannot be read")
    table = tool.get("helmc")
    if table is None:
        return Settings(pyproject)
    if not isinstance(table, dict):
        raise SettingsError(f"{pyproject}: [tool.helmc] is not a table")
    out = Settings(pyproject)
    base = pyproject.parent
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key == "format" and isinstance(value, dict):  # [tool.helmc.format]: helmc fmt's options
            out.values["fmt"] = _format_options(pyproject, value)
            continue
        if key not in KNOWN:
            out.warnings.append(f"{pyproject}: unknown setting `{raw_key}` in [tool.helmc] (known: {', '.join(KNOWN)})")
            continue
        kind, is_path = KNOWN[key]
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
            want = {list: "a list of strings", str: "a string", bool: "true or false"}[kind]
            raise SettingsError(f"{pyproject}: [tool.helmc] `{raw_key}` must be {want}")
        if is_path:
            if isinstance(value, str):
                value = str(base / value)
            else:
                value = [str(base / v) if _looks_like_path(v) else v for v in value]
        out.values[key] = value
    return out


# [tool.helmc.format] -> (type, smallest, largest). Keys may be written with `-` or `_`.
FORMAT_KNOWN: dict[str, tuple[type, int, int]] = {"indent-width": (int, 1, 16)}


def _format_options(pyproject: Path, table: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key not in FORMAT_KNOWN:
            raise SettingsError(f"{pyproject}: unknown setting `{raw_key}` in [tool.helmc.format] (known: {', '.join(FORMAT_KNOWN)})")
        kind, low, high = FORMAT_KNOWN[key]
        if not isinstance(value, kind) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(f"{pyproject}: [tool.helmc.format] `{raw_key}` must be an integer from {low} to {high}")
        out[key] = value
    return out
