"""Hostile input: absurd nesting, huge files and lines, NUL bytes, bad UTF-8, BOM, CRLF, tabs
and wide characters. Each gets a clear diagnostic, no traceback, and bounded memory (measured
with tracemalloc, never with a clock).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.emit.text import render_plain
from helmc.compiler.syntax.frontend import parse_file, read_source

MB = 1 << 20


def _read(path: Path) -> tuple[list, DiagnosticSink, int]:
    """Entries, diagnostics and the peak of traced memory for reading one file."""
    sink = DiagnosticSink()
    tracemalloc.start()
    try:
        src = read_source(str(path), sink)
        entries = list(parse_file(src, sink).entries) if src is not None else []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return entries, sink, peak


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helmc", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )


def _codes(sink: DiagnosticSink) -> list[str]:
    return [d.code for d in sink.items]


def _errors(sink: DiagnosticSink) -> list:
    return [d for d in sink.items if d.severity is Severity.ERROR]


def _no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr, p.stderr[-2000:]
    assert "internal error" not in p.stderr, p.stderr[-2000:]
    assert p.returncode in (0, 1), (p.returncode, p.stderr[-2000:])


# ------------------------------------------------------------------ nesting


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a:", "}")])
def test_deep_nesting_is_refused_up_front(tmp_path: Path, opener: str, closer: str) -> None:
    n = 100_000
    f = tmp_path / "deep.conf"
    f.write_text("entries: " + opener * n + closer * n)
    entries, sink, peak = _read(f)
    assert entries == []
    assert _codes(sink) == ["HC0008"]
    d = sink.items[0]
    assert "nested more than" in d.message
    assert peak < 20 * MB  # refused by a scan, before any parse tree exists
    p = _cli("check", "--no-catalog", str(f))
    _no_traceback(p)
    assert "HC0008" in p.stdout


def test_deep_unclosed_nesting(tmp_path: Path) -> None:
    f = tmp_path / "open.conf"
    f.write_text("entries: " + "[" * 100_000)
    _, sink, peak = _read(f)
    assert _codes(sink) == ["HC0008"]
    assert peak < 20 * MB


def test_brackets_inside_strings_are_not_nesting(tmp_path: Path) -> None:
    f = tmp_path / "str.conf"
    f.write_text('entries: [{description: "' + "[{" * 50_000 + '"}]\n')
    entries, sink, _ = _read(f)
    assert [e.description.text[:4] for e in entries] == ["[{[{"]
    assert "HC0008" not in _codes(sink)


# ------------------------------------------------------------------ size


def test_one_megabyte_line(tmp_path: Path) -> None:
    f = tmp_path / "line.conf"
    value = "x" * MB
    f.write_text(f'entries: [{{description: "mmlu:subject={value}", priority: 1}}]\n')
    entries, sink, peak = _read(f)
    assert len(entries) == 1 and len(entries[0].description.text) == MB + len("mmlu:subject=")
    assert _errors(sink) == []
    assert peak < 40 * MB


def test_one_megabyte_line_with_errors_prints_a_short_frame(tmp_path: Path) -> None:
    f = tmp_path / "badline.conf"
    f.write_text('entries: [{description: "mmlu:subject=' + "x" * MB + ',,a=1", priority: 1^}]\n')
    _, sink, peak = _read(f)
    assert sorted(_codes(sink)) == ["HC0003", "HC0202"]
    assert peak < 60 * MB
    for d in sink.items:
        frame = render_plain(d)
        assert max(len(line) for line in frame.splitlines()) < 1000  # cut around the label
    p = _cli("check", "--no-catalog", str(f))
    _no_traceback(p)
    assert len(p.stdout) < 10_000


def test_a_line_of_reserved_characters_is_one_diagnostic(tmp_path: Path) -> None:
    f = tmp_path / "stray.conf"
    f.write_text("entries: [{description: x" + "^" * 100_000 + "}]\n")
    _, sink, _ = _read(f)
    assert _codes(sink) == ["HC0003"]


@pytest.mark.slow
def test_many_arguments_on_one_megabyte_line(tmp_path: Path) -> None:
    """262144 arguments and a trailing comma: the Lark path over 10^6 tokens."""
    f = tmp_path / "args.conf"
    f.write_text('entries: [{description: "mmlu:' + "a=1," * (MB // 4) + '"}]\n')
    _, sink, peak = _read(f)
    assert "HC0202" in _codes(sink)
    assert peak < 1024 * MB


@pytest.mark.slow
def test_fifty_megabyte_file(tmp_path: Path) -> None:
    """50 MB in 50 entries of 1 MB each, then a 50 MB comment: size alone costs little."""
    f = tmp_path / "big.conf"
    with f.open("w") as out:
        out.write("entries: [\n")
        for i in range(50):
            out.write(f'  {{description: "mmlu:subject={"y" * MB}", priority: {i}}}\n')
        out.write("]\n")
    entries, sink, peak = _read(f)
    assert len(entries) == 50 and _errors(sink) == []
    assert peak < 600 * MB
    g = tmp_path / "comment.conf"
    g.write_text("entries: []\n# " + "z" * (50 * MB) + "\n")
    entries, sink, peak = _read(g)
    assert entries == [] and _errors(sink) == []
    assert peak < 300 * MB
    p = _cli("parse", "--format", "json", str(f))
    _no_traceback(p)
    assert len(json.loads(p.stdout)["files"][0]["entries"]) == 50


# ------------------------------------------------------------------ bytes and encodings


def test_nul_bytes(tmp_path: Path) -> None:
    f = tmp_path / "nul.conf"
    f.write_bytes(b'entries: [{description: "mmlu:subject=a"}]\n\x00\x00\n')
    _, sink, _ = _read(f)
    errs = _errors(sink)
    assert errs
    assert any("NUL" in d.message for d in errs), [d.message for d in errs]
    p = _cli("check", "--no-catalog", str(f))
    _no_traceback(p)
    assert "\x00" not in p.stdout  # control characters are not sent to the terminal


def test_invalid_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.conf"
    f.write_bytes('entries: [{description: "mmlu:subject=café"}]\n'.encode("latin-1"))
    _, sink, _ = _read(f)
    assert _codes(sink) == ["HC0901"]
    assert "not valid UTF-8" in sink.items[0].message
    assert sink.items[0].span.start_line_col == (1, len('entries: [{description: "mmlu:subject=caf') + 1)
    p = _cli("check", "--no-catalog", str(f))
    _no_traceback(p)
    assert "HC0901" in p.stdout


def test_bom(tmp_path: Path) -> None:
    f = tmp_path / "bom.conf"
    f.write_bytes(b'\xef\xbb\xbfentries: [{description: "mmlu:subject=anatomy"}]\n')
    entries, sink, _ = _read(f)
    # HELM (open() as UTF-8, then pyhocon) fails on the BOM; helmc says so in words.
    errs = _errors(sink)
    assert len(errs) == 1 and "byte order mark" in errs[0].message
    assert errs[0].span.start == 0
    assert [e.description.text for e in entries] == ["mmlu:subject=anatomy"]  # and reads on
    p = _cli("check", "--no-catalog", str(f))
    _no_traceback(p)


def test_crlf(tmp_path: Path) -> None:
    f = tmp_path / "crlf.conf"
    f.write_bytes(b'entries: [\r\n  {description: "mmlu:subject=anatomy", priority: 1}\r\n  {description: "a:b=1,,c=2"}\r\n]\r\n')
    entries, sink, _ = _read(f)
    assert [(e.description.text, e.priority) for e in entries] == [("mmlu:subject=anatomy", 1), ("a:b=1,,c=2", None)]
    assert [e.line_col for e in entries] == [(2, 3), (3, 3)]
    (d,) = _errors(sink)
    assert d.span.start_line_col == (3, 24)  # the second comma
    assert "\r" not in render_plain(d)


def test_tabs_and_wide_characters_keep_carets_aligned(tmp_path: Path) -> None:
    f = tmp_path / "wide.conf"
    f.write_text('entries: [\n\t{description:\t"mmlu:subject=数据,,x=1",\tprioirty: 1}\n]\n', encoding="utf-8")
    _, sink, _ = _read(f)
    by_code = {d.code: d for d in sink.items}
    assert {"HC0202", "HC0106"} <= set(by_code)
    for code, marked in (("HC0202", ","), ("HC0106", "prioirty")):
        lines = render_plain(by_code[code]).splitlines()
        src_line = next(l for l in lines if l.startswith("2 | "))[4:]
        caret_line = next(l for l in lines if "^" in l)[4:]
        col = caret_line.index("^")
        # Measure the shown source line in terminal cells: tabs are 4, CJK characters 2.
        cells = 0
        for i, ch in enumerate(src_line):
            if cells == col:
                assert src_line[i:].startswith(marked), (code, src_line, caret_line)
                break
            cells += 2 if ch in "数据" else 1
        else:
            raise AssertionError((code, src_line, caret_line))
        assert "\t" not in src_line
