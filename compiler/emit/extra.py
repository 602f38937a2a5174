"""Editor and CI formats (SARIF, GitHub annotations, LSP), merged into the emitter registry."""

from __future__ import annotations

from . import github, lsp, sarif

EMITTERS = {"sarif": sarif.emit, "github": github.emit, "lsp": lsp.emit}
