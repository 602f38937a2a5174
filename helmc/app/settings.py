"""`[tool.helmc]` in the nearest pyproject.toml: defaults for helm-check and the language server.

Command-line flags win over settings. Paths in settings (local-path, plugins that are files)
are relative to the pyproject.toml that holds them, as ruff reads its own settings.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmc.app.options import SETTINGS, Kind

# What TOML gives for each kind of option that [tool.helmc] may set.
_TOML_TYPES: dict[Kind, type] = {Kind.STR: str, Kind.LIST: list, Kind.BOOL: bool}

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
    from helmc.compiler.files.reading import read_input_text

    try:
        text = read_input_text(pyproject)
        data = toml.loads(text)
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
            out.values["fmt"] = _format_options(pyproject, text, value)
            continue
        option = SETTINGS.get(key)
        where = _at(pyproject, text, ("tool", "helmc"), raw_key)
        if option is None:
            out.warnings.append(f"{where}: unknown setting `{raw_key}` in [tool.helmc] (known: {', '.join(SETTINGS)})")
            continue
        kind = _TOML_TYPES[option.kind]
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
            raise SettingsError(f"{where}: [tool.helmc] `{raw_key}` must be {option.kind.value}")
        if option.is_path:
            if isinstance(value, str):
                value = str(base / value)
            else:
                value = [str(base / v) if _looks_like_path(v) else v for v in value]
        out.values[key] = value
    return out


def prices_path(flag: str | None, start: str | os.PathLike[str] = ".") -> str | None:
    """--prices, else `prices` in [tool.helmc] (relative to its pyproject.toml). Raises
    SettingsError for a [tool.helmc] that cannot be read, which the command says in one line."""
    if flag is not None:
        return flag
    return load_settings(start).values.get("prices")


# [tool.helmc.format] -> (type, smallest, largest). Keys may be written with `-` or `_`.
FORMAT_KNOWN: dict[str, tuple[type, int, int]] = {"indent-width": (int, 1, 16)}


def _format_options(pyproject: Path, text: str, table: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        where = _at(pyproject, text, ("tool", "helmc", "format"), raw_key)
        if key not in FORMAT_KNOWN:
            raise SettingsError(f"{where}: unknown setting `{raw_key}` in [tool.helmc.format] (known: {', '.join(FORMAT_KNOWN)})")
        kind, low, high = FORMAT_KNOWN[key]
        if not isinstance(value, kind) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(f"{where}: [tool.helmc.format] `{raw_key}` must be an integer from {low} to {high}")
        out[key] = value
    return out


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(path: tuple[str, ...]) -> str:
    """A TOML dotted key as a regex: each part bare or quoted, dots with optional spaces."""
    parts = [f"""(?:{re.escape(p)}|"{re.escape(p)}"|'{re.escape(p)}')""" for p in path]
    return r"\s*\.\s*".join(parts)


def _at(pyproject: Path, text: str, table: tuple[str, ...], key: str) -> str:
    """`path:line:column` of `key` in `table` (a `[tool.helmc]` header then `key = ...`, or a
    dotted `helmc.key = ...` under `[tool]`, or `tool.helmc.key = ...` at the top), or the path
    alone where TOML spells it some other way (an inline table)."""
    current: tuple[str, ...] = ()
    header = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
    for n, line in enumerate(text.splitlines(), 1):
        m = header.match(line)
        if m:
            current = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            continue
        if table[: len(current)] != current:
            continue
        rest = table[len(current):]
        k = re.match(r"\s*(" + _dotted((*rest, key)) + r")\s*=", line)
        if k:
            start = k.start(1)
            dot = line.rfind(".", 0, k.end(1)) if rest else -1
            column = (dot + 1 if dot >= start else start) + 1
            column += len(line[column - 1:]) - len(line[column - 1:].lstrip())
            return f"{pyproject}:{n}:{column}"
    return str(pyproject)
