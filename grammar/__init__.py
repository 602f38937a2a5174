"""The Lark grammars of helmc, shipped as package data."""

from __future__ import annotations


def grammar_text(name: str) -> str:
    """The text of `run_entry.lark` or `conf.lark`."""
    from importlib import resources  # here: a plain conf file is read without the grammars

    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
