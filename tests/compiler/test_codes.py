"""Every diagnostic code: its example triggers it, its fix clears it, and its output is snapshotted."""

from __future__ import annotations

import importlib.util
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import HELM_INSTALLED
from diagnostic_examples import EXAMPLES, NO_EXAMPLE
from helmc.compiler.codes import CODES
from helpers import run_example, shown_output


def cases(examples):
    """Examples as pytest params; those that run HELM need it, and are marked `helm`; those that
    need an optional extra's module skip without it."""
    needs = pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")

    def marks(e):
        missing = [m for m in e.requires if importlib.util.find_spec(m) is None]
        extra = [pytest.mark.skip(reason=f"needs {', '.join(missing)}")] if missing else []
        return ([pytest.mark.helm, needs] if e.needs_helm else []) + extra

    return [pytest.param(e, id=e.key, marks=marks(e)) for e in examples]


def reported(code: str, stdout: str, stderr: str) -> bool:
    """Whether `code` was reported, in JSON output or in text output, on either stream."""
    both = stdout + stderr
    return f'"code": "{code}"' in both or f"[{code}]" in both


def json_output(stdout: str, stderr: str):
    """The JSON document a command printed: helm-run prints its diagnostics on stderr, after
    HELM's own log on stdout."""
    for text in (stdout, stderr):
        stripped = text.lstrip()
        if stripped.startswith(("[", "{")):
            return json.JSONDecoder().raw_decode(stripped)[0]
    raise AssertionError(f"no JSON output in {stdout[:200]!r} / {stderr[:200]!r}")


def test_every_code_has_an_example_or_a_reason():
    assert {e.code for e in EXAMPLES} | set(NO_EXAMPLE) == set(CODES)


def test_examples_have_unique_keys_and_variants_say_what_they_show():
    keys = [e.key for e in EXAMPLES]
    assert len(keys) == len(set(keys))
    firsts = [e.code for e in EXAMPLES if not e.variant]
    assert len(firsts) == len(set(firsts))  # one first example per code; the others are variants
    for e in EXAMPLES:
        if e.variant:
            assert e.code in firsts and e.note, e.key  # shown after the first, explained by its note


@pytest.mark.parametrize("example", cases(e for e in EXAMPLES if e.code == "HC0003"))
def test_invalid_characters_are_what_pyhocon_fails_on(example):
    """HC0003 is an error because HELM's reader fails: pyhocon raises on each failing example
    (reserved characters, byte order marks, invisible spaces) and reads its fix."""
    from pyhocon import ConfigFactory
    from pyparsing import ParseBaseException

    with pytest.raises(ParseBaseException):  # pyhocon's parse errors are pyparsing's
        ConfigFactory.parse_string(example.bad)
    assert ConfigFactory.parse_string(example.fixed).get("entries")


def test_codes_are_unique_and_well_formed():
    names = [r.name for r in CODES.values()]
    assert len(names) == len(set(names))
    for code, rule in CODES.items():
        assert code == rule.code and code.startswith("HC") and len(code) == 6
        assert rule.severity in ("error", "warning", "info")


@pytest.mark.parametrize("example", cases(EXAMPLES))
def test_example_triggers(example, tmp_path):
    status, out, err = run_example(example, "json", tmp_path)
    assert reported(example.code, out, err)
    data = json_output(out, err)
    diags = data["diagnostics"] if isinstance(data, dict) else data
    severities = {d["severity"] for d in diags if d["code"] == example.code}
    if example.exit_status is not None:
        assert status == example.exit_status
    elif "error" in severities:
        assert status == 1
    else:
        assert status in (0, 1)


@pytest.mark.parametrize("example", cases(e for e in EXAMPLES if e.command != "run"))
def test_fix_clears(example, tmp_path):
    status, out, err = run_example(example, "json", tmp_path, fixed=True)
    assert json.loads(out) is not None
    assert not reported(example.code, out, err)
    assert status == 0


@pytest.mark.helm
@pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")
@pytest.mark.parametrize("example", cases(e for e in EXAMPLES if e.command == "run"))
def test_fix_clears_in_helm_run(example, tmp_path):
    status, out, err = run_example(example, "json", tmp_path, fixed=True)
    assert not reported(example.code, out, err)
    assert status == 0


@pytest.mark.parametrize("example", cases(EXAMPLES))
def test_example_text_snapshot(example, tmp_path, snapshot):
    _, out, err = run_example(example, "text", tmp_path)
    assert shown_output(example, out, err) == snapshot


@pytest.mark.parametrize("example", cases(e for e in EXAMPLES if e.command != "plan"))
def test_example_json_snapshot(example, tmp_path, snapshot):
    _, out, err = run_example(example, "json", tmp_path)
    assert json_output(out, err) == snapshot


def test_the_registry_is_data_severity_an_enum_and_fixes_declared_with_the_rule():
    from helmc.compiler.codes import FIXES, Severity

    for rule in CODES.values():
        assert isinstance(rule.severity, Severity)
        assert (rule.code in FIXES) == bool(rule.fixes)
        assert rule.fix_title is None or rule.fixes, f"{rule.code} names a fix title but makes no fix"


@pytest.mark.parametrize("code", sorted(CODES))
@given(old=st.text(max_size=60), new=st.text(max_size=60))
def test_every_rule_titles_its_quick_fix(code, old, new):
    """The title an editor shows for a fix is the rule's own when it declares one, else one line
    that says the edit (never empty, never two lines)."""
    title = CODES[code].title_of(old, new)
    if CODES[code].fix_title is not None:
        assert title == CODES[code].fix_title
    assert title and "\n" not in title and len(title) <= 200
    if "\n" not in old + new and 0 < len(old) + len(new) <= 80 and old and new:
        assert title == f"Replace `{old}` with `{new}`" or CODES[code].fix_title
