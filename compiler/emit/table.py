"""Tables of run names, paths and commands that can always be copied.

A name wrapped inside a table cell (`mmlu:subject=anatomy,me` / `thod=...`) cannot be pasted
into --only-runs. So only columns marked `wrap` (prose: errors, signatures) ever wrap. On a
terminal, a rich table when it fits with every other column unbroken; otherwise (a pipe, a log,
or a terminal too narrow) plain lines: a title, then the columns aligned with two spaces, no
box characters, nothing cut or wrapped, so `cut`, `awk` and a mouse all get whole names.
"""

from __future__ import annotations

from typing import Literal, Sequence

from rich.console import Console
from rich.markup import escape
from rich.cells import cell_len as _cell_len
from rich.table import Table
from rich.text import Text

from ..frozen import record
from .text import clean

Cell = str | Text  # a Text keeps its style on a terminal; plain output prints its text


@record
class Column:
    name: str
    wrap: bool = False  # prose that may wrap on a terminal; names, paths and commands never do
    justify: Literal["left", "right"] = "left"


def console_for(stream=None, *, stderr: bool = False) -> Console:
    """A console that never wraps printed text where it is not a terminal (rich would wrap at 80
    columns there)."""
    probe = Console(file=stream, stderr=stderr)
    return Console(file=stream, stderr=stderr, highlight=False, soft_wrap=not probe.is_terminal)


def print_table(console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    """Print a table whose cells are plain text (never rich markup) with `clean` applied."""
    if not console.is_terminal or console.is_dumb_terminal:
        _write_plain(console, title, columns, rows)
        return
    cells = [[c if isinstance(c, Text) else Text(clean(str(c), keep_newlines=True)) for c in row] for row in rows]
    if _narrowest(columns, cells) > console.width:  # a name would break: plain lines instead
        _write_plain(console, title, columns, rows)
        return
    table = Table(title=escape(title), title_justify="left")
    for col in columns:
        table.add_column(col.name, no_wrap=not col.wrap, overflow="fold", justify=col.justify)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _write_plain(console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    # Written as they are, in one go: rich's print per line costs ~10x more, which shows at 10^5 runs.
    plain = [[c.plain if isinstance(c, Text) else clean(str(c), keep_newlines=True) for c in row] for row in rows]
    console.file.write("\n".join(plain_lines(title, columns, plain)) + "\n")
    console.file.flush()


def cell_len(text: str) -> int:
    """Terminal cells of a text: its length where it is ASCII (rich's count costs more)."""
    return len(text) if text.isascii() else _cell_len(text)


def _narrowest(columns: Sequence[Column], cells: Sequence[Sequence[Text]]) -> int:
    """The narrowest the rich table can be with no name broken: each unwrapped column as wide as
    its widest line, a wrapped one as its longest word; one space of padding each side, borders."""
    total = 1
    for i, col in enumerate(columns):
        parts = [col.name, *(c.plain for row in cells for c in [row[i]])]
        pieces = [w for p in parts for w in (p.split() if col.wrap else p.split("\n"))]
        total += max(map(cell_len, pieces), default=0) + 3
    return total


def plain_lines(title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[str]:
    """The table as plain lines: a cell's further lines go below it, at its column."""
    widths = [max([cell_len(col.name), *(max(map(cell_len, row[i].split("\n"))) for row in rows)])
              for i, col in enumerate(columns)]

    def line(parts: Sequence[str]) -> str:
        out = []
        for i, (p, col) in enumerate(zip(parts, columns)):
            last = i == len(parts) - 1
            pad = " " * (widths[i] - cell_len(p))
            out.append(pad + p if col.justify == "right" else p if last else p + pad)
        return "  ".join(out).rstrip()

    lines = [title, line([c.name for c in columns])]
    for row in rows:
        split = [c.split("\n") for c in row]
        for k in range(max(len(s) for s in split)):
            lines.append(line([s[k] if k < len(s) else "" for s in split]))
    return lines
