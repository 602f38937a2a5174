"""compiler/syntax/conf/lark_reader.py and lexer.py use Lark's internals: the installed lark is inside
the range pyproject.toml pins, and each internal they use is where they take it from, so that a
lark which moves one fails here by name rather than deep in a parse."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

packaging_version = pytest.importorskip("packaging.version")
packaging_requirements = pytest.importorskip("packaging.requirements")

ROOT = Path(__file__).resolve().parents[4]


def test_the_installed_lark_is_inside_the_pinned_range():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (spec,) = re.findall(r'"(lark[<>=!~][^"]*)"', text)
    requirement = packaging_requirements.Requirement(spec)
    assert requirement.specifier.filter([importlib.metadata.version("lark")]), (spec, importlib.metadata.version("lark"))
    assert any(s.operator == "<" for s in requirement.specifier), "lark needs an upper bound: its internals change"


def test_the_internals_helmc_uses_are_there():
    from lark.lark import PostLex
    from lark.lexer import LexerThread
    from lark.parser_frontends import PostLexConnector

    from helmc.compiler.syntax.conf.lark_reader import basic_lexer

    assert PostLex and LexerThread and PostLexConnector
    regexes = basic_lexer().scanner._mres
    assert regexes and all(hasattr(r, "match") for r in regexes)
