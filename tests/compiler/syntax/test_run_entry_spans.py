"""Spans: descriptions inside string literals map back to the file through escapes; --run-entries
positions are the argument's index and a column within it."""

from __future__ import annotations

import json

from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.syntax.frontend import parse_file, run_entry_entries
from helmc.compiler.source import SourceFile
from helpers import run_cli


def test_spans_map_through_escapes():
    # `\"` and `\\` each take two characters in the file and one in the description.
    text = 'entries: [{description: "a\\"b:x=\\\\y,,z=1"}]\n'
    sink = DiagnosticSink()
    conf = parse_file(SourceFile("t.conf", text), sink)
    desc = conf.entries[0].description
    assert desc.text == 'a"b:x=\\y,,z=1'
    name, x = desc.name, desc.args[0]
    assert text[name.span.start : name.span.end] == 'a\\"b'
    assert text[x.raw.span.start : x.raw.span.end] == "\\\\y"
    d = next(d for d in sink.items if d.code == "HC0202")
    assert text[d.span.start : d.span.end] == ","
    assert text[d.span.start + 1 : d.span.start + 3] == "z="


def test_one_description_text_in_many_places_gets_each_place_s_spans():
    """Descriptions with one text share their parsed shape; every entry's pieces still point at
    its own characters, with or without escapes, spaces (HC0205) included."""
    written = ['"mmlu:subject= anatomy,model=openai/gpt2"', '"mmlu:subject\\= anatomy,model=openai/gpt2"',
               '"mmlu:subject= anatomy,model=openai/gpt2"', "mmlu:subject= anatomy"]
    text = "entries: [\n" + "".join(f"  {{description: {w}}}\n" for w in written) + "]\n"
    for _ in range(2):  # the second parse takes every shape from the cache
        sink = DiagnosticSink()
        entries = parse_file(SourceFile("t.conf", text), sink).entries
        assert [e.description.text for e in entries] == ["mmlu:subject= anatomy,model=openai/gpt2"] * 3 + ["mmlu:subject= anatomy"]
        for e, w in zip(entries, written):
            d = e.description
            start = text.index(w, e.span.start)
            assert (d.span.start, d.span.end) == (start, start + len(w))
            assert d.name.span.text == "mmlu"
            subject = d.args[0]
            assert (subject.key.span.text, subject.raw.span.text) == ("subject", " anatomy")  # `\=` is the `=`
            assert subject.span.start == subject.key.span.start and subject.span.end == subject.raw.span.end
            assert len(d.args) == 1 or d.args[1].raw.span.text == "openai/gpt2"
            assert d.args == d.args and d.name == d.name  # made alike on each use (not kept: memory)
        spaced = sorted((x for x in sink.items if x.code == "HC0205"), key=lambda x: x.span.start)
        assert [x.span.text for x in spaced] == [" anatomy"] * 4
        assert [e.description.args[0].raw.span for e in entries] == [x.span for x in spaced]


def test_spans_in_triple_quoted_and_concatenated_strings():
    text = 'entries: [{description: """a:b""" ",c"}]\n'
    sink = DiagnosticSink()
    conf = parse_file(SourceFile("t.conf", text), sink)
    desc = conf.entries[0].description
    assert desc.text == "a:b,c"  # pyhocon drops the space after a triple-quoted string
    # The arguments `b` and `c` have no `=`; each diagnostic starts at its argument in the file.
    starts = sorted(d.span.start for d in sink.items if d.code == "HC0201")
    assert starts == [text.index("b"), text.index(",c") + 1]


def test_run_entries_positions(tmp_path):
    code, out, _ = run_cli(
        ["check", "--run-entries", "simple1:model=simple/model1", "simple1:model,x=1", "--format", "json"], tmp_path
    )
    assert code == 1
    (d,) = [d for d in json.loads(out) if d["code"] == "HC0201"]
    assert (d["path"], d["line"], d["column"], d["end_column"]) == ("<run-entries>", 2, 9, 14)


def test_run_entry_entries_get_priority_1():
    sink = DiagnosticSink()
    (e,) = run_entry_entries(["simple1:model=simple/model1"], sink)
    assert e.priority == 1 and e.groups is None and e.line_col == (1, 1)


def test_lines_end_at_cr_lf_and_crlf_as_helm_reads_them(tmp_path):
    # HELM's open() reads with universal newlines: a lone CR ends a line, as CRLF and LF do.
    # Entries and diagnostics must name the line HELM (and an editor) shows.
    for nl in ("\r", "\r\n", "\n"):
        text = nl.join(["entries: [", '  {description: "mmlu:subject=anatomy"}', '  {description: "mmlu:subjet=anatomy"}', "]", ""])
        path = tmp_path / "t.conf"
        path.write_bytes(text.encode())
        code, out, _ = run_cli(["parse", str(path), "--format", "json"], tmp_path)
        doc = json.loads(out)
        assert [(e["line"], e["column"]) for e in doc["files"][0]["entries"]] == [(2, 3), (3, 3)], repr(nl)
        code, out, _ = run_cli(["check", str(path), "--format", "json"], tmp_path)
        [d] = [d for d in json.loads(out) if d["code"] == "HC0302"]
        assert (d["line"], d["column"], d["end_line"], d["end_column"]) == (3, 23, 3, 29), repr(nl)
