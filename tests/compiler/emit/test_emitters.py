"""helm-check's editor and CI formats (SARIF, GitHub annotations, LSP) and its selection flags."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helmc.cli import helm_check_main
from helmc.compiler.codes import CODES
from helmc.compiler.emit.lsp import codepoint_column, lsp_position, offset_of, utf16_column
from helmc.compiler.source import SourceFile

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

# Small and damaged: an unknown key (warning, with a fix), a misspelled model (error, with a
# fix), an argument given twice (a secondary label), and a non-BMP character before a token.
DAMAGED = """\
entries: [
  {description: "mmlu:subject=anatomy,model=meta/llama-2-7bb", prioirty: 1}
  {groups: ["\U0001F917"], description: "mmlu:subject=virology,subject=anatomy,model=openai/gpt2"}
]
"""


@pytest.fixture
def damaged(tmp_path, monkeypatch) -> str:
    """The damaged conf in a fresh working folder, checked by a relative path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "damaged.conf").write_text(DAMAGED, encoding="utf-8")
    return "damaged.conf"


def check(capsys, *argv: str) -> tuple[int, str, str]:
    code = helm_check_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, *argv: str) -> list[dict]:
    code, out, _ = check(capsys, *argv, "--format", "json")
    return json.loads(out)


# ---------------------------------------------------------------- SARIF


def test_sarif_validates_against_the_schema(capsys, damaged):
    code, out, _ = check(capsys, damaged, "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    # Regions are the JSON contract's 1-based code-point positions, end exclusive.
    expected = [(d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in as_json(capsys, damaged)]
    got = []
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        reg = r["locations"][0]["physicalLocation"]["region"]
        got.append((r["ruleId"], reg["startLine"], reg["startColumn"], reg["endLine"], reg["endColumn"]))
        assert re.fullmatch(r"[0-9a-f]{16}:\d+", r["partialFingerprints"]["primaryLocationLineHash"])
    assert got == expected
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["HC0308"] == "error" and levels["HC0106"] == "warning"


def test_sarif_schema_rejects_a_broken_log():
    """The schema is real: a result whose location lacks its physicalLocation wrapper fails."""
    bad = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"region": {}}]}]}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_sarif_fingerprints_follow_the_line_not_its_number(capsys, damaged):
    def prints() -> dict[str, str]:
        _, out, _ = check(capsys, damaged, "--format", "sarif")
        return {r["ruleId"]: r["partialFingerprints"]["primaryLocationLineHash"] for r in json.loads(out)["runs"][0]["results"]}

    before = prints()
    Path(damaged).write_text("# a comment above\n" + DAMAGED, encoding="utf-8")
    assert prints() == before


def test_sarif_with_no_diagnostics_is_valid(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ok.conf").write_text('entries: [{description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}]\n')
    code, out, _ = check(capsys, "ok.conf", "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    assert log["runs"][0]["results"] == []


# ---------------------------------------------------------------- GitHub

ANNOTATION = re.compile(
    r"::(?P<cmd>error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"endLine=(?P<end_line>\d+),endColumn=(?P<end_col>\d+),title=(?P<title>[^:]+)::(?P<msg>.*)"
)


def test_github_annotations_carry_the_full_range(capsys, damaged):
    code, out, _ = check(capsys, damaged, "--format", "github")
    assert code == 1
    lines = out.splitlines()
    expected = as_json(capsys, damaged)
    assert len(lines) == len(expected)
    for line, d in zip(lines, expected):
        m = ANNOTATION.fullmatch(line)
        assert m, line
        assert m["cmd"] == d["severity"]
        assert (m["file"], int(m["line"]), int(m["col"]), int(m["end_line"]), int(m["end_col"])) == (
            d["path"], d["line"], d["column"], d["end_line"], d["end_column"]
        )
        assert m["title"] == d["code"]
        assert "\n" not in m["msg"] and m["msg"].startswith(d["message"].replace("%", "%25"))


def test_github_escapes_properties_and_data():
    from helmc.compiler.emit.github import escape_data, escape_property

    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"


# ---------------------------------------------------------------- LSP


def test_lsp_positions_are_zero_based_utf16(capsys, damaged):
    code, out, _ = check(capsys, damaged, "--format", "lsp")
    [doc] = json.loads(out)
    assert doc["path"] == damaged and doc["uri"] == Path(damaged).resolve().as_uri()
    by_code = {d["code"]: d for d in doc["diagnostics"]}
    # HC0304 (subject twice) sits on line 3 after the emoji: 1 code point, 2 UTF-16 units.
    line3 = DAMAGED.splitlines()[2]
    cp = line3.index("subject=anatomy")
    dup = by_code["HC0304"]["range"]
    assert dup["start"] == {"line": 2, "character": len(line3[:cp].encode("utf-16-le")) // 2}
    assert dup["start"]["character"] == cp + 1
    assert dup["end"]["character"] - dup["start"]["character"] == len("subject")
    related = by_code["HC0304"]["relatedInformation"][0]["location"]["range"]
    assert related["start"]["character"] == line3.index("subject=virology") + 1
    # On line 2 (no emoji) the UTF-16 column is the code-point column minus one.
    model = by_code["HC0308"]
    assert model["range"]["start"] == {"line": 1, "character": DAMAGED.splitlines()[1].index("meta/llama-2-7bb")}
    assert model["severity"] == 1 and by_code["HC0106"]["severity"] == 2
    assert model["data"]["fixes"][0]["newText"] == "meta/llama-2-7b"


@pytest.mark.parametrize(
    "line, column, utf16",
    [("abc", 3, 2), ("\U0001F917x", 2, 2), ("\U0001F917x", 3, 3), ("é\U0001F917\U0001F917z", 4, 5), ("", 1, 0)],
)
def test_codepoint_to_utf16_columns(line, column, utf16):
    assert utf16_column(line, column) == utf16
    assert codepoint_column(line, utf16) == column


def test_utf16_position_inside_a_surrogate_pair_is_clamped():
    assert codepoint_column("\U0001F917x", 1) == 2  # the middle of the pair: after the emoji
    assert codepoint_column("ab", 99) == 3  # past the end: the end of the line


@given(st.lists(st.sampled_from(["a", "\n", "\r\n", "é", "\U0001F917", "\u4e2d"]), max_size=30), st.data())
def test_lsp_position_round_trips(pieces, data):
    text = "".join(pieces)
    src = SourceFile("x.conf", text)
    # every offset but the one between "\r" and "\n", which no LSP position names
    offset = data.draw(st.integers(0, len(text)).filter(lambda i: text[i - 1 : i + 1] != "\r\n"))
    pos = lsp_position(src, offset)
    expected_line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    assert pos == {"line": expected_line, "character": len(text[line_start:offset].encode("utf-16-le")) // 2}
    assert offset_of(src, pos["line"], pos["character"]) == offset


# ---------------------------------------------------------------- the JSON emitter's encoder

# Text that json must escape or pass through: quotes, backslashes, control characters, non-ASCII
# (kept as is: ensure_ascii=False), lone surrogates, and text that looks like JSON.
_JSON_TEXT = st.text(
    st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "\u2028", "\ud800", "\U0001F917", "a", " ", ":", "{", "]", ","])
    | st.characters(),
    max_size=12,
) | st.sampled_from(['"fixes": 0', 'x", "fixes": 0', "fixes", "{}", "[]"])


@st.composite
def _diagnostics(draw):
    from helmc.compiler.diagnostics import Applicability, Diagnostic, Fix, Label, Severity

    src = SourceFile(draw(_JSON_TEXT), "".join(draw(st.lists(st.sampled_from(["a", "\n", "\r\n", "\r", "é"]), max_size=20))))
    n = len(src.text)

    def span():
        a, b = sorted((draw(st.integers(0, n)), draw(st.integers(0, n))))
        return src.span(a, b)

    fixes = tuple(
        Fix(span(), draw(_JSON_TEXT), draw(st.sampled_from(list(Applicability))))
        for _ in range(draw(st.integers(0, 3)))
    )
    return Diagnostic(
        code=draw(st.sampled_from(sorted(CODES)) | _JSON_TEXT),
        severity=draw(st.sampled_from(list(Severity))),
        message=draw(_JSON_TEXT),
        primary=Label(span()),
        help=draw(st.none() | _JSON_TEXT),
        fixes=fixes,
    )


@given(st.lists(_diagnostics(), max_size=4), st.none() | st.lists(_diagnostics().filter(lambda d: d.fixes), max_size=3))
def test_json_emitter_writes_the_bytes_of_json_dumps_indent_2(diagnostics, fixed):
    """compiler.emit.json writes json.dumps(indent=2)'s text of to_dict's items directly; any
    difference in a byte would change helm-check's output contract. `fixed`: the --fix shape,
    the fixed diagnostics first with "fixed": true after "fixes", then the rest with false."""
    from helmc.compiler.emit.json import dumps, to_dict
    from helmc.compiler.fixes import Applied

    applied = None if fixed is None else [Applied(d, d.fixes[0]) for d in fixed]
    if applied is None:
        items = [to_dict(d) for d in diagnostics]
    else:
        items = [{**to_dict(a.diagnostic), "fixed": True} for a in applied]
        items += [{**to_dict(d), "fixed": False} for d in diagnostics]
    assert dumps(diagnostics, applied) == json.dumps(items, indent=2, ensure_ascii=False)
    import io

    from helmc.compiler.emit.json import emit

    written = io.StringIO()
    emit(diagnostics, written, applied)
    assert written.getvalue() == json.dumps(items, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001, 2500])
@pytest.mark.parametrize("with_fixed", [False, True])
def test_json_emitter_writes_large_outputs_in_pieces_with_the_same_bytes(n, with_fixed):
    """emit writes a thousand items at a time: around and across those pieces, the bytes are
    json.dumps's."""
    import io

    from helmc.compiler.diagnostics import Applicability, Diagnostic, Fix, Label, Severity
    from helmc.compiler.emit.json import emit, to_dict
    from helmc.compiler.fixes import Applied

    src = SourceFile("a.conf", "x\ny\n")
    ds = [Diagnostic(code="HC0101", severity=Severity.ERROR, message=f"m{i}", primary=Label(src.span(0, 1)),
                     help=None, fixes=(Fix(src.span(2, 3), "z", Applicability.SAFE),)) for i in range(n)]
    fixed = [Applied(d, d.fixes[0]) for d in ds[: n // 3]] if with_fixed else None
    rest = ds[n // 3 :] if with_fixed else ds
    items = ([{**to_dict(a.diagnostic), "fixed": True} for a in fixed] + [{**to_dict(d), "fixed": False} for d in rest]
             if with_fixed else [to_dict(d) for d in rest])
    written = io.StringIO()
    emit(rest, written, fixed)
    assert written.getvalue() == json.dumps(items, indent=2, ensure_ascii=False) + "\n"


class _Text(str):
    """A str subclass: json.dumps writes it as a string; the direct writer must give way to it."""


_JSON_SCALARS = (
    _JSON_TEXT
    | st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _JSON_TEXT.map(_Text)
)
_JSON_TREES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(_JSON_TEXT, inner, max_size=4)
    | st.dictionaries(st.integers(-5, 5) | st.booleans() | st.none(), inner, max_size=3),
    max_leaves=25,
)


@given(_JSON_TREES)
def test_dumps_indented_writes_the_bytes_of_json_dumps_indent_2(value):
    """`helmc parse --format json` writes its tree with dumps_indented in one piece; every tree
    the commands could hand it (and the ones it gives to json itself) must come out as
    json.dumps(indent=2, ensure_ascii=False) writes it."""
    from helmc.compiler.emit.json import dumps_indented

    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert dumps_indented({"files": [value], "k": [[value]]}) == json.dumps(
        {"files": [value], "k": [[value]]}, indent=2, ensure_ascii=False
    )


@given(_JSON_TREES, st.dictionaries(_JSON_TEXT, st.lists(_JSON_TREES, max_size=9), max_size=3), st.integers(1, 4))
def test_write_compact_writes_the_bytes_of_json_dumps(value, with_lists, piece):
    """`helmc plan --format json` writes json.dumps(out, ensure_ascii=False)'s bytes in pieces
    of `piece` list items; any tree, and dicts of lists longer than a piece."""
    import io

    from helmc.compiler.emit.json import write_compact

    for v in (value, with_lists, {**with_lists, "runs": [value] * 7}):
        written = io.StringIO()
        write_compact(v, written, piece)
        assert written.getvalue() == json.dumps(v, ensure_ascii=False)


def test_parse_json_output_is_json_dumps_of_its_tree(tmp_path, monkeypatch, capsys):
    """The command itself, on a file with entries, groups, escapes and a mistake."""
    from helmc.cli import main
    from helmc.commands.parse import parse_paths
    from helmc.compiler.emit.json import to_dict

    monkeypatch.chdir(tmp_path)
    Path("a.conf").write_text(
        'entries: [\n  {description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1, groups: ["x", "é"]}\n'
        '  {description: "boolq:tag=\\"q\\"\\u00e9", priority: 2}\n  {description: "x:", groups: []}\n  {priority: 3}\n]\n',
        encoding="utf-8",
    )
    code = main(["parse", "--format", "json", "a.conf"])
    out = capsys.readouterr().out
    files, sink = parse_paths(["a.conf"])
    expected = {"files": files, "diagnostics": [to_dict(d) for d in sink.sorted()]}
    assert expected["diagnostics"] and len(files[0]["entries"]) == 4
    assert out == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert code == 1


# ---------------------------------------------------------------- selection, statistics, output


def codes_of(capsys, *argv: str) -> list[str]:
    return [d["code"] for d in as_json(capsys, *argv)]


def test_select_and_ignore_by_code_and_prefix(capsys, damaged):
    assert sorted(codes_of(capsys, damaged)) == ["HC0106", "HC0304", "HC0308"]
    assert codes_of(capsys, damaged, "--select", "HC03") == ["HC0308", "HC0304"]
    assert codes_of(capsys, damaged, "--select", "HC0106,HC0308") == ["HC0308", "HC0106"]
    assert codes_of(capsys, damaged, "--ignore", "HC03") == ["HC0106"]
    # the more specific prefix wins: all of HC03 but HC0304
    assert codes_of(capsys, damaged, "--select", "HC03", "--ignore", "HC0304") == ["HC0308"]
    assert codes_of(capsys, damaged, "--ignore", "HC03", "--select", "HC0304") == ["HC0304"]


def test_exit_code_follows_the_selected_diagnostics(capsys, damaged):
    assert check(capsys, damaged)[0] == 1
    assert check(capsys, damaged, "--ignore", "HC0308")[0] == 0  # warnings only
    code, _, err = check(capsys, damaged, "--select", "XY")
    assert code == 2 and "no diagnostic code starts with `XY`" in err


def test_statistics(capsys, damaged):
    code, out, _ = check(capsys, damaged, "--statistics")
    assert code == 1
    assert out.splitlines() == [
        "1  HC0106  unknown-key  (1 fixable)",
        "1  HC0304  duplicate-argument",
        "1  HC0308  unknown-model  (1 fixable)",
    ]
    _, out, _ = check(capsys, damaged, "--statistics", "--format", "json", "--select", "HC03")
    assert json.loads(out) == [
        {"code": "HC0304", "name": "duplicate-argument", "count": 1, "fixable": 0},
        {"code": "HC0308", "name": "unknown-model", "count": 1, "fixable": 1},
    ]


def test_output_file(capsys, damaged):
    code, out, _ = check(capsys, damaged, "--format", "sarif", "--output-file", "results.sarif")
    assert code == 1 and out == ""
    jsonschema.validate(json.loads(Path("results.sarif").read_text(encoding="utf-8")), SCHEMA)
    code, _, err = check(capsys, damaged, "--output-file", "no/such/folder/x.txt")
    assert code == 2 and "cannot write" in err


def test_settings_from_pyproject(capsys, damaged):
    Path("pyproject.toml").write_text('[tool.helmc]\nignore = ["HC0106"]\nformat = "github"\n', encoding="utf-8")
    Path("sub").mkdir()
    Path("sub/damaged.conf").write_text(DAMAGED, encoding="utf-8")
    code, out, _ = check(capsys, damaged)
    assert code == 1
    assert out.startswith("::") and "HC0106" not in out  # format and ignore from the settings
    assert "HC0106" in check(capsys, damaged, "--isolated", "--format", "json")[1]
    # a flag wins over the setting; --ignore adds to the settings' list
    assert codes_of(capsys, damaged, "--ignore", "HC0304") == ["HC0308"]


def test_bad_settings_are_usage_errors(capsys, damaged):
    Path("pyproject.toml").write_text("[tool.helmc]\nfrobnicate = true\n", encoding="utf-8")
    code, _, err = check(capsys, damaged)
    assert code == 1 and "warning: " in err and "unknown setting `frobnicate`" in err  # a warning only
    Path("pyproject.toml").write_text("[tool.helmc]\nselect = 3\n", encoding="utf-8")
    code, _, err = check(capsys, damaged)
    assert code == 2 and "`select` must be a list of strings" in err
    assert "Traceback" not in err
    Path("pyproject.toml").write_text("[tool.helmc\n", encoding="utf-8")
    code, _, err = check(capsys, damaged)
    assert code == 2 and "cannot read" in err


def test_relative_paths_in_settings_resolve_against_the_pyproject(tmp_path, monkeypatch):
    from helmc.app.settings import load_settings

    (tmp_path / "pyproject.toml").write_text(
        '[tool.helmc]\nlocal-path = "envs/prod"\nplugins = ["my_plugin", "plugins/extra.py"]\n', encoding="utf-8"
    )
    (tmp_path / "deep").mkdir()
    s = load_settings(tmp_path / "deep")
    assert s.values["local-path"] == str(tmp_path / "envs/prod")
    assert s.values["plugins"] == ["my_plugin", str(tmp_path / "plugins/extra.py")]


# ---------------------------------------------------------------- snapshots of each format


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "lsp"])
def test_format_snapshots(capsys, damaged, monkeypatch, snapshot, fmt):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, err = check(capsys, damaged, "--format", fmt)
    assert code == 1 and err == ""
    # The working folder differs from run to run; SARIF and LSP name it in URIs.
    out = out.replace(Path.cwd().as_uri(), "file:///WORK")
    if fmt == "sarif":
        # The rules and their indices follow the code registry, which grows (tested above);
        # the snapshot keeps what this file produces.
        log = json.loads(out)
        driver = log["runs"][0]["tool"]["driver"]
        driver["rules"] = "<the code registry>"
        for r in log["runs"][0]["results"]:
            r["ruleIndex"] = "<index>"
        out = json.dumps(log, indent=2, ensure_ascii=False)
    assert out == snapshot


# ---------------------------------------------------------------- helmc lsp without pygls


def test_lsp_without_pygls_says_how_to_install(tmp_path):
    # A `pygls` package that fails to import stands in for one that is not installed.
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ImportError('no pygls here')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "helmc", "lsp"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2
    assert "pip install 'helmc[lsp]'" in p.stderr and "Traceback" not in p.stderr


_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)  # lone surrogates too


@given(st.text(alphabet=_ANY_CHAR, max_size=40), st.integers(-3, 60), st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_positions_by_codec_agree_with_counting_each_character(text, character, encoding):
    """utf16_len and codepoint_column take the codec's length (and one unit a character for
    ASCII) instead of a loop over characters: the same numbers as the definition."""
    from helmc.compiler.emit.lsp import char_units, utf16_len

    assert utf16_len(text, encoding) == sum(char_units(ch, encoding) for ch in text)
    units, expected = 0, len(text) + 1
    for i, ch in enumerate(text):
        if units >= character:
            expected = i + 1
            break
        units += char_units(ch, encoding)
    assert codepoint_column(text, character, encoding) == expected


def test_labels_far_apart_on_a_long_line_get_a_short_frame_each(tmp_path, capsys):
    """A one-line file of a megabyte with the same entry at its start and its end: the
    duplicate's two labels (a megabyte apart) are each shown in a frame of their own, cut
    around them, not under a caret line a megabyte wide."""
    entry = '{description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}'
    filler = ", ".join(f'{{description: "mmlu:subject=anatomy,model=openai/gpt2,max_train_instances={i}"}}'
                       for i in range(13000))
    text = f"entries: [{entry}, {filler}, {entry}]\n"
    assert len(text) > 1_000_000
    (tmp_path / "one.conf").write_text(text, encoding="utf-8")
    code = helm_check_main([str(tmp_path / "one.conf")])
    out = capsys.readouterr().out
    frame = out[out.index("HC04"):]
    frame = frame[: frame.index("= help")]
    assert len(frame) < 2000, frame[:3000]
    rows = [line for line in frame.splitlines() if line.lstrip().startswith("1 |")]
    assert len(rows) == 2 and rows[0] != rows[1]  # the line shown twice, at two places
    width = len('"mmlu:subject=anatomy,model=openai/gpt2"')  # both labels underline the description
    assert re.search(r"\n +\| +\^{%d} same function" % width, frame), frame
    assert re.search(r"\n +\| +-{%d} first here" % width, frame), frame
    assert code == 0  # a warning only


def test_sarif_fingerprints_on_a_long_line_hash_the_text_from_the_result(tmp_path):
    from helmc.compiler.emit import sarif
    from helmc.compiler.source import Span

    text = "x" * 10_000 + "abc" + "y" * 10_000
    src = SourceFile("one.conf", text)
    key = sarif._line_key(Span(src, 10_000, 10_003))
    assert key.startswith("abc") and len(key) == sarif._MAX_LINE_KEY
    short = SourceFile("s.conf", "  entries: [1]  \nnext")
    assert sarif._line_key(Span(short, 4, 5)) == "entries: [1]"  # a line as it was: stripped whole


@given(st.text(alphabet=_ANY_CHAR, max_size=40) | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_frame_text_and_widths_agree_with_each_character(text):
    """The text frame's shortcuts for plain ASCII give what its per-character rules give."""
    from helmc.compiler.emit import text as emit_text

    assert emit_text._width(text) == sum(emit_text._cells(c) for c in text)
    assert emit_text._display(text) == "".join(" " * emit_text._TAB if c == "\t" else emit_text._visible(c) for c in text)
