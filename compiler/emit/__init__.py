"""Emitters: one per output format, each a function `(diagnostics, stream, **options)`.

Like ruff's, every emitter reads the same Diagnostic objects and nothing else.
"""

from __future__ import annotations

from typing import Callable, TextIO

from ..diagnostics import Diagnostic

Emitter = Callable[..., None]


def _registry() -> dict[str, Emitter]:
    # Imported lazily so that `--format json` never pays for rich.
    from . import json as json_emitter
    from . import text as text_emitter

    formats: dict[str, Emitter] = {"text": text_emitter.emit, "json": json_emitter.emit}
    try:
        from . import extra  # sarif, github, lsp (editor integration)

        formats.update(extra.EMITTERS)
    except ImportError:
        pass
    return formats


FORMATS = ("text", "json", "sarif", "github", "lsp")


def emit(diagnostics: list[Diagnostic], fmt: str, stream: TextIO, **options) -> None:
    emitters = _registry()
    if fmt not in emitters:
        raise ValueError(f"unknown format {fmt!r}")
    emitters[fmt](sorted(diagnostics, key=Diagnostic.sort_key), stream, **options)
