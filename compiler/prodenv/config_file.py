"""One of HELM's config YAML files as read: what compiler/prodenv/check.py reads and
compiler/prodenv/fields.py checks; its own module, so that neither imports the other."""

from __future__ import annotations

from ..frozen import record
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # PyYAML is imported only when a config file is read
    from ..syntax.config_yaml import YamlDoc
    from ..diagnostics import Diagnostic
    from ..source import SourceFile


@record
class ConfigFile:
    name: str  # model_deployments.yaml, ...
    source: SourceFile
    doc: YamlDoc
    diagnostics: tuple[Diagnostic, ...]  # from reading and parsing
