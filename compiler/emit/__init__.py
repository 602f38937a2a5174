"""Emitters: one per output format, each a function `(diagnostics, stream, **options)`.

Like ruff's, every emitter reads the same Diagnostic objects and nothing else.
"""

from __future__ import annotations

from typing import Callable, TextIO

from ..diagnostics import Diagnostic

Emitter = Callable[..., None]


# One module per format, of the format's name, imported only when that format is asked for:
# `--format json` never pays for rich (text) or hashlib and urllib (sarif).
FORMATS = ("text", "json", "sarif", "github", "lsp")


def _emitter(fmt: str) -> Emitter:
    from importlib import import_module

    return import_module(f"{__name__}.{fmt}").emit


def emit(diagnostics: list[Diagnostic], fmt: str, stream: TextIO, **options) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    _emitter(fmt)(sorted(diagnostics, key=Diagnostic.sort_key), stream, **options)
