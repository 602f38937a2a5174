"""The text emitter: rustc-style code frames, rendered with rich.

The source line is shown as written (tabs expanded for display only); carets are measured
in terminal cells, so wide characters stay aligned. Colour follows rich's detection, which
honours NO_COLOR and non-terminal output.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any, TextIO

from ..diagnostics import Diagnostic, Label, Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}
_TAB = 4
_MAX_LINE = 400  # longer lines are cut around the label, so a 1 MB line prints a frame, not a page


def _cells(ch: str) -> int:
    if ch == "\t":
        return _TAB
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_MAX_MESSAGE = 600  # a message quoting a 200 MB value keeps its head and tail
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _visible(ch: str) -> str:
    """One character for one character, so carets stay aligned: C0 controls (ESC, NUL, CR...)
    become their Unicode control pictures, DEL ␡; C1 controls and bidirectional overrides
    (which reorder what the terminal shows: "Trojan Source") become U+FFFD."""
    o = ord(ch)
    if o < 0x20:
        return chr(0x2400 + o)
    if o == 0x7F:
        return "\u2421"
    if 0x80 <= o < 0xA0 or ch in _BIDI:
        return "\ufffd"
    return ch


def clean(text: str, keep_newlines: bool = False) -> str:
    """Text from a file made safe for a terminal: no escape sequence reaches it."""
    if text.isascii() and text.isprintable():  # nothing to replace (printable ASCII has no controls): 1/20 the time
        return text
    out = []
    for ch in text:
        if ch >= " " and ch != "\x7f" and not ("\x80" <= ch < "\xa0") and ch not in _BIDI:
            out.append(ch)
        elif keep_newlines and ch == "\n":
            out.append(ch)
        else:
            out.append(_visible(ch))
    return "".join(out)


def cut(text: str, limit: int = _MAX_MESSAGE) -> str:
    """A long message keeps its head and tail, and says how much was left out."""
    if len(text) <= limit:
        return text
    tail = limit // 6
    return f"{text[: limit - tail]}…[{len(text) - limit:,} characters cut]…{text[-tail:]}"


def _say(text: str, keep_newlines: bool = False) -> str:
    return clean(cut(text), keep_newlines)


def _display(text: str) -> str:
    if text.isascii() and text.isprintable():  # no tab, no control: as it is
        return text
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" " * _TAB)
        else:
            out.append(_visible(ch))
    return "".join(out)


def _width(text: str) -> int:
    if text.isascii() and text.isprintable():  # one cell a character
        return len(text)
    return sum(_cells(c) for c in text)


def _windows(here: list[tuple[Label, bool]], length: int) -> list[tuple[int, list[tuple[Label, bool]]]]:
    """The frames a line is shown in, each (the column it is cut at, its labels): the whole
    line when it is short; else a window of _MAX_LINE characters from a little before a label,
    holding the labels that start inside it, and another for a label further on. Two labels
    a megabyte apart on one line (a duplicate entry in a one-line file) get two short frames,
    not a caret line a megabyte wide."""
    if length <= _MAX_LINE:
        return [(0, here)]
    out: list[tuple[int, list[tuple[Label, bool]]]] = []
    for lab, primary in sorted(here, key=lambda x: x[0].span.start_line_col[1]):
        col = lab.span.start_line_col[1] - 1
        if out and col < out[-1][0] + _MAX_LINE:
            out[-1][1].append((lab, primary))
        else:
            out.append((max(0, col - 40), [(lab, primary)]))
    return out


def render(d: Diagnostic) -> list[tuple[str, str]]:
    """The diagnostic as (text, style) segments; joined, they are the plain text."""
    seg: list[tuple[str, str]] = []
    sev = d.severity
    seg.append((f"{sev.value}[{d.code}]", _STYLE[sev]))
    seg.append((f": {_say(d.message)}\n", "bold"))
    line, col = d.span.start_line_col
    labels: list[tuple[Label, bool]] = [(d.primary, True)] + [(s, False) for s in d.secondary]
    shown = [(lab, primary) for lab, primary in labels if lab.span.source is d.span.source]
    lines = sorted({lab.span.start_line_col[0] for lab, _ in shown})
    gutter = len(str(max(lines)))
    pad = " " * gutter
    seg.append((f"{pad}--> ", "bold blue"))
    seg.append((f"{_say(d.path)}:{line}:{col}\n", ""))
    seg.append((f"{pad} |\n", "bold blue"))
    source = d.span.source
    for n in lines:
        here = [(lab, p) for lab, p in shown if lab.span.start_line_col[0] == n]
        line_start, line_end = source.line_bounds(n)
        length = line_end - line_start
        for cut, group in _windows(here, length):
            # Only the window is sliced from the text: a line may be the whole 12 MB file.
            stop = min(length, cut + _MAX_LINE)  # a short line's window is all of it (cut 0)
            raw = source.text[line_start + cut : line_start + stop]
            if length > _MAX_LINE:
                raw = ("…" if cut else "") + raw + ("…" if stop < length else "")
            seg.append((f"{n:>{gutter}} | ", "bold blue"))
            seg.append((_display(raw) + "\n", ""))
            for lab, primary in sorted(group, key=lambda x: not x[1]):
                s_col = lab.span.start_line_col[1]
                e_line, e_col = lab.span.end_line_col
                prefix = source.text[line_start + cut : line_start + s_col - 1]
                if cut:
                    prefix = "…" + prefix
                # the caret covers what the frame shows, no more
                end_col = min(e_col if e_line == n else length + 1, stop + 1)
                marked = source.text[line_start + s_col - 1 : line_start + end_col - 1]
                width = max(1, _width(marked))
                mark = ("^" if primary else "-") * width
                style = _STYLE[sev] if primary else "bold blue"
                seg.append((f"{pad} | ", "bold blue"))
                seg.append((" " * _width(prefix), ""))
                seg.append((mark, style))
                seg.append(((" " + _say(lab.message) if lab.message else "") + "\n", style))
    for lab, _ in labels:
        if lab.span.source is not d.span.source:
            l2, c2 = lab.span.start_line_col
            seg.append((f"{pad} = ", "bold blue"))
            seg.append((f"note: {_say(lab.message)} ({_say(lab.span.path)}:{l2}:{c2})\n", ""))
    if d.help or d.notes:
        seg.append((f"{pad} |\n", "bold blue"))
    if d.help:
        seg.append((f"{pad} = ", "bold blue"))
        seg.append(("help", "bold"))
        seg.append((f": {_say(d.help, True)}\n", ""))
    for note in d.notes:
        seg.append((f"{pad} = ", "bold blue"))
        seg.append(("note", "bold"))
        seg.append((f": {_say(note, True)}\n", ""))
    return seg


def render_plain(d: Diagnostic) -> str:
    return "".join(t for t, _ in render(d))


def summary(diagnostics: list[Diagnostic], files: int | None = None, run_entries: int = 0) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity is s) for s in Severity}

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    parts = [n(counts[Severity.ERROR], "error"), n(counts[Severity.WARNING], "warning")]
    if counts[Severity.INFO]:
        parts.append(n(counts[Severity.INFO], "note"))
    inputs = ([n(files, "file")] if files is not None and (files or not run_entries) else []) + (
        [n(run_entries, "run entry").replace("entrys", "entries")] if run_entries else []
    )
    where = " in " + " and ".join(inputs) if inputs else ""
    if not diagnostics:
        return f"All checks passed{where}."
    return "Found " + ", ".join(parts) + where + "."


def _wants_color(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def describe_fix(fix) -> str:
    """One line for an applied fix: what was replaced with what."""
    old, new = fix.span.text, fix.replacement
    if "\n" in old + new or len(old) + len(new) > 80:
        return f"rewrote {old.count(chr(10)) + 1} line(s) as {new.count(chr(10)) + 1}"
    if not old:
        return f"inserted `{new}`"
    if not new:
        return f"removed `{old}`"
    return f"`{old}` -> `{new}`"


def fix_report(fixed: list | None, diagnostics: list[Diagnostic], unsafe_fixes: bool) -> tuple[list[str], list[str]]:
    """helm-check --fix: a line per applied fix (before the diagnostics that are left) and the
    summary lines (after them). `fixed` holds compiler.fixes.Applied items."""
    if fixed is None:
        return [], []
    head = []
    for a in fixed:
        line, col = a.diagnostic.span.start_line_col
        head.append(f"fixed[{a.diagnostic.code}]: {a.diagnostic.path}:{line}:{col}: {describe_fix(a.fix)}")
    paths = len({a.diagnostic.path for a in fixed})
    tail = [f"Fixed {len(fixed)} problem{'s' * (len(fixed) != 1)} in {paths} file{'s' * (paths != 1)}."]
    more = sum(1 for d in diagnostics if d.fixes and not any(f.safe for f in d.fixes))
    if more and not unsafe_fixes:
        tail.append(f"{more} more fixable with --unsafe-fixes.")
    return head, tail


def emit(
    diagnostics: list[Diagnostic],
    stream: TextIO,
    files: int | None = None,
    run_entries: int = 0,
    fixed: list | None = None,
    unsafe_fixes: bool = False,
    **_: Any,
) -> None:
    head, tail = fix_report(fixed, diagnostics, unsafe_fixes)
    if not _wants_color(stream):
        # Without colour, the segments are the output: no need to load rich (start-up time).
        for line in head:
            stream.write(line + "\n")
        if head:
            stream.write("\n")
        for d in diagnostics:
            stream.write(render_plain(d) + "\n")
        stream.write(summary(diagnostics, files, run_entries) + "\n")
        for line in tail:
            stream.write(line + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(
        file=stream,
        soft_wrap=True,
        highlight=False,
        emoji=False,
        markup=False,
        no_color="NO_COLOR" in os.environ or None,
    )
    for line in head:
        console.print(Text(line, style="bold green"))
    if head:
        console.print()
    for d in diagnostics:
        text = Text()
        for part, style in render(d):
            text.append(part, style=style or None)
        console.print(text, end="")
        console.print()
    console.print(Text(summary(diagnostics, files, run_entries), style="bold"))
    for line in tail:
        console.print(Text(line, style="bold"))
