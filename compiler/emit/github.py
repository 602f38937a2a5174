"""The GitHub emitter: workflow commands that GitHub Actions turns into annotations.

`::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message`. Lines and columns
are 1-based code points, the end exclusive, as in helmc's JSON (ruff does the same).
"""

from __future__ import annotations

from typing import Any, TextIO

from ..diagnostics import Diagnostic, Severity
from .text import clean, cut

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    # The runner's own escaping (toolkit/core: escapeData); newlines would end the command.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    message = d.full_message()
    line, col = d.span.start_line_col
    end_line, end_col = d.span.end_line_col
    props: list[str] = []
    if d.path.startswith("<"):
        # --run-entries and the catalog are no files in the repository: no location to annotate.
        message = f"{d.path}:{line}:{col}: {message}"
    else:
        props += [
            f"file={escape_property(d.path)}",
            f"line={line}",
            f"col={col}",
            f"endLine={end_line}",
            f"endColumn={end_col}",
        ]
    props.append(f"title={escape_property(d.code)}")
    # The log is shown by a terminal emulator too: no escape sequence from a file reaches it.
    return f"::{_COMMAND[d.severity]} {','.join(props)}::{escape_data(clean(cut(message), keep_newlines=True))}"


def emit(diagnostics: list[Diagnostic], stream: TextIO, **_: Any) -> None:
    for d in diagnostics:
        stream.write(annotation(d) + "\n")
