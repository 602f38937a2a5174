"""Hypothesis strategies: run entries and conf files, valid and damaged, built from the grammars.

`run_entry.lark` gives the shape of a description (name `:` key `=` value, `,` between
arguments); `conf.lark` gives the shapes of a conf file (implicit or braced root, `:` `=` or no
separator before `{`, quoted/unquoted/triple-quoted strings, value concatenation, commas or
newlines, trailing commas, comments, CRLF). Each generated file carries the entries it means,
so damaged files know what they broke and valid files can be compared with pyhocon.

The generator stays off the documented differences between helmc and pyhocon (docs/fuzzing.md):
`include`, `${...}`, `+=`, literal tabs inside strings (pyparsing expands them), booleans
concatenated with strings, durations.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from helmc.runtime.journal import RunState

# Profiles: the default run stays quick; `HYPOTHESIS_PROFILE=fuzz` is the long run.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("HELMC_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# ------------------------------------------------------------------ run entries

_IDENT_FIRST = "abcdefghijklmnopqrstuvwxyz"
_IDENT = _IDENT_FIRST + "0123456789_"
names = st.text(_IDENT_FIRST, min_size=1, max_size=2).flatmap(
    lambda head: st.text(_IDENT, max_size=12).map(lambda tail: head + tail)
)
# Values: what HELM's coercion sees (ints, floats, words), and what a value may hold besides
# (`/`, `-`, `.`, `=` and `:` after the first `=`), and some text beyond ASCII.
_WORD_CHARS = _IDENT + "/-.=:"
values = st.one_of(
    st.integers(-5, 10_000).map(str),
    st.floats(0, 100, allow_nan=False, allow_infinity=False).map(lambda f: repr(round(f, 3))),
    st.text(_WORD_CHARS, min_size=1, max_size=16),
    st.sampled_from(["openai/gpt2", "all", "True", "False", "text_code", "anatomy", "é", "数据", "a b"]),
)
arguments = st.tuples(names, values).map(lambda kv: f"{kv[0]}={kv[1]}")


@st.composite
def descriptions(draw) -> str:
    """A run entry HELM's parse_object_spec accepts: `name` or `name:k=v,k=v`."""
    name = draw(names)
    args = draw(st.lists(arguments, max_size=5))
    if not args and draw(st.booleans()):
        return name
    return name + ":" + ",".join(args) if args else name


DESCRIPTION_DAMAGES = ("double_comma", "trailing_comma", "missing_equals", "empty_name", "empty_key")


@st.composite
def damaged_descriptions(draw) -> tuple[str, str]:
    """A run entry HELM rejects, and which damage it has (each one an error in run_entry.lark)."""
    kind = draw(st.sampled_from(DESCRIPTION_DAMAGES))
    name = draw(names)
    args = draw(st.lists(arguments, min_size=1, max_size=4))
    i = draw(st.integers(0, len(args) - 1))
    if kind == "double_comma":
        args.insert(i, "")
    elif kind == "trailing_comma":
        args.append("")
    elif kind == "missing_equals":
        args[i] = args[i].split("=", 1)[0]
    elif kind == "empty_key":
        args[i] = "=" + args[i].split("=", 1)[1]
    elif kind == "empty_name":
        name = ""
    return name + ":" + ",".join(args), kind


# ------------------------------------------------------------------ conf files


@dataclass
class Entry:
    description: str
    priority: int | None = None
    groups: list[str] | None = None


@dataclass
class GenConf:
    text: str
    entries: list[Entry]
    damage: str | None = None  # what was broken, for damaged files
    notes: list[str] = field(default_factory=list)
    # The shapes beyond the plain one that the text uses ("triple", "concat", "repeated-key"):
    # conf/fast_reader.py reads a file with none of them, and hands the others to the Lark parse.
    shapes: set[str] = field(default_factory=set)

    def expected(self) -> list[tuple[str, Any, Any]]:
        return [(e.description, e.priority, e.groups) for e in self.entries]


_BOOLISH = {"true", "false", "null", "yes", "no", "on", "off"}
_UNQUOTED_OK = set(_IDENT + "/-.:")  # chars pyhocon and helmc both keep in an unquoted string


def _quote(s: str, draw) -> str:
    """A HOCON quoted string for `s`, with pyhocon's escapes (the ones it decodes)."""
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "=" and draw(st.booleans()):
            out.append("\\=")  # decoded by pyhocon, mapped back by helmc's offsets
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _string(draw, s: str, shapes: set[str]) -> str:
    """One of the ways to write the string `s` as a HOCON value; adds the form to `shapes` when
    it is not a single quoted or unquoted token."""
    forms = ["quoted"]
    if s and s[0] in _IDENT_FIRST and set(s) <= _UNQUOTED_OK and "//" not in s and s.lower() not in _BOOLISH:
        forms.append("unquoted")
    if s and '"' not in s and "\t" not in s and "\\" not in s:
        forms.append("triple")
    if len(s) >= 2 and "\t" not in s:
        forms.append("concat")
    form = draw(st.sampled_from(forms))
    if form in ("triple", "concat"):
        shapes.add(form)
    if form == "unquoted":
        return s
    if form == "triple":
        return '"""' + s + '"""'
    if form == "concat":
        # `"ab" "cd"` is "ab cd": a cut at a space keeps the meaning; otherwise glue ("a""b").
        cut = draw(st.integers(1, len(s) - 1))
        if s[cut] == " " and cut + 1 < len(s) and s[cut + 1] != " ":
            return _quote(s[:cut], draw) + " " + _quote(s[cut + 1 :], draw)
        head = s[:cut]
        if '"' not in head and "\\" not in head and draw(st.booleans()):
            # pyhocon drops the whitespace after a triple-quoted string: `"""ab""" "cd"` is "abcd"
            return '"""' + head + '"""' + draw(st.sampled_from([" ", "  "])) + _quote(s[cut:], draw)
        return _quote(head, draw) + _quote(s[cut:], draw)
    return _quote(s, draw)


def _key(draw, k: str) -> str:
    return draw(st.sampled_from([k, f'"{k}"']))


def _sep(draw) -> str:
    return draw(st.sampled_from([": ", ":", " = ", "=", " : "]))


def _comment(draw) -> str:
    return draw(st.sampled_from(["#", "//", "# ", "// "])) + draw(st.text("abc xyz:=,{}[]\"'", max_size=20))


groups_text = st.text(_IDENT, min_size=1, max_size=10)


@st.composite
def entry_objects(draw) -> Entry:
    e = Entry(draw(descriptions()))
    if draw(st.booleans()):
        e.priority = draw(st.integers(-3, 5))
    if draw(st.integers(0, 3)) == 0:
        e.groups = draw(st.lists(groups_text, max_size=3))
    return e


def _render_entry(draw, e: Entry, nl: str, damage: str | None, shapes: set[str]) -> str:
    fields: list[str] = []
    desc = e.description
    if damage == "unterminated":
        dval = '"' + desc.replace("\\", "\\\\").replace('"', '\\"')  # no closing quote
    else:
        dval = _string(draw, desc, shapes)
    fields.append(_key(draw, "description") + _sep(draw) + dval)
    if damage == "priority_not_int":
        fields.append(_key(draw, "priority") + _sep(draw) + draw(st.sampled_from(['"1"', '"high"', "1.5", "[1]", "{}"])))
    elif e.priority is not None:
        if draw(st.integers(0, 5)) == 0:  # a duplicate: the later value wins
            fields.append("priority" + _sep(draw) + str(e.priority + 7))
            shapes.add("repeated-key")
        fields.append(_key(draw, "priority") + _sep(draw) + str(e.priority))
    if e.groups is not None:
        gsep = draw(st.sampled_from([", ", ",", nl + "  "]))
        items = gsep.join(_string(draw, g, shapes) for g in e.groups)
        trail = draw(st.sampled_from(["", ","])) if e.groups else ""
        fields.append(_key(draw, "groups") + _sep(draw) + "[" + items + trail + "]")
    if draw(st.integers(0, 6)) == 0:
        fields.insert(draw(st.integers(0, len(fields))), "status" + _sep(draw) + '"READY"')  # HELM ignores it
    if damage == "stray_char":
        i = draw(st.integers(0, len(fields) - 1))
        fields[i] = fields[i] + " " + draw(st.sampled_from("^`?!@*&"))
    fsep = draw(st.sampled_from([", ", ",", nl + "    "]))
    multiline = nl in fsep
    inner = fsep.join(fields)
    if multiline:
        return "{" + nl + "    " + inner + nl + "  " + ("" if damage == "missing_brace" else "}")
    return "{" + inner + ("" if damage == "missing_brace" else "}")


CONF_DAMAGES = (
    "unterminated",
    "priority_not_int",
    "stray_char",
    "missing_brace",
    "missing_bracket",
    "comment_without_hash",
    "description_damage",
)


@st.composite
def conf_files(draw, damage: str | None = None, min_entries: int = 0, max_entries: int = 6) -> GenConf:
    """A conf file HELM reads (damage=None), or one broken in the named way."""
    entries = draw(st.lists(entry_objects(), min_size=max(min_entries, 1 if damage else 0), max_size=max_entries))
    nl = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    bad = draw(st.integers(0, len(entries) - 1)) if damage and entries else -1
    notes: list[str] = []
    if damage == "description_damage" and entries:
        text_, kind = draw(damaged_descriptions())
        entries[bad].description = text_
        notes.append(kind)
    rendered: list[str] = []
    shapes: set[str] = set()
    for i, e in enumerate(entries):
        d = damage if i == bad and damage in ("unterminated", "priority_not_int", "stray_char", "missing_brace") else None
        rendered.append(_render_entry(draw, e, nl, d, shapes))
        if draw(st.integers(0, 5)) == 0:
            rendered[-1] += " " + _comment(draw)  # a comment ends the line
    esep = draw(st.sampled_from([",", ""]))
    body: list[str] = []
    for i, r in enumerate(rendered):
        if draw(st.integers(0, 6)) == 0:
            body.append("  " + _comment(draw))
        if i == bad and damage == "comment_without_hash":
            body.append("  this line was meant to be a comment")
        last = i == len(rendered) - 1
        # A line comment after an entry eats a comma that would follow on the same line.
        tail = "" if (last and not draw(st.booleans())) or "#" in r or "//" in r.split('"')[-1] else esep
        body.append("  " + r + tail)
    close = "" if damage == "missing_bracket" else "]"
    head = _key(draw, "entries") + _sep(draw)
    lines = [head + "[", *body, close]
    if draw(st.booleans()):
        lines.insert(0, _comment(draw))
    text = nl.join(lines)
    root = draw(st.sampled_from(["implicit", "implicit", "braced"]))
    if root == "braced" and damage != "missing_bracket":
        text = "{" + nl + text + nl + "}"
    text += draw(st.sampled_from(["", nl, nl + nl]))
    return GenConf(text, [Entry(e.description, e.priority, e.groups) for e in entries], damage, notes, shapes)


@st.composite
def damaged_conf_files(draw) -> GenConf:
    return draw(conf_files(damage=draw(st.sampled_from(CONF_DAMAGES)), min_entries=1))


# Random damage on top of a valid file: any character inserted, deleted or replaced.
_NOISE = st.one_of(
    st.sampled_from(list('{}[]:=,"\n\r\t#/\\$+^`?!@*&\x00\ufeff ')),
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
)


@st.composite
def mutated_texts(draw) -> str:
    text = draw(conf_files()).text
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if op == "insert":
            text = text[:i] + draw(_NOISE) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "replace":
            text = text[:i] + draw(_NOISE) + text[i + 1 :]
        else:
            text = text[:i]
    return text


# ------------------------------------------------------------------ entries HELM knows, and flags

# Real run spec functions and expander values, near misses, wildcards, providers (no `/`),
# deployments (three parts) and typos: what the planner and its filters see in practice.
_FUNCTIONS = ["simple1", "mmlu", "med_qa", "summarization_cnndm", "synthetic_efficiency", "simpel1", "boolq"]
_ARGS = [
    "subject=anatomy", "max_train_instances=all", "max_train_instances=2", "temperature=0.5", "num_outputs=1",
    "stop=hash", "data_augmentation=canonical", "eval_split=test", "subjet=x", "num_prompt_tokens=default_sweep",
    "model_deployment=huggingface/gpt2", "tokenizer=default",
]
MODEL_VALUES = [
    "simple/model1", "openai/gpt2", "text", "all", "code", "chat_run", "together", "", "openai/gtp2",
    "huggingface/gpt2", "together/meta/llama-3-8b", "nosuch/model", "5",
]


@st.composite
def helm_descriptions(draw) -> str:
    name = draw(st.sampled_from(_FUNCTIONS))
    args = draw(st.lists(st.sampled_from(_ARGS), max_size=3))
    if draw(st.integers(0, 4)):
        args.insert(draw(st.integers(0, len(args))), "model=" + draw(st.sampled_from(MODEL_VALUES)))
    return name + (":" + ",".join(args) if args else "")


@st.composite
def helm_conf_files(draw) -> GenConf:
    """A conf file (valid or damaged) whose entries name HELM's functions, expanders and models."""
    gen = draw(conf_files(min_entries=1, max_entries=4) if draw(st.integers(0, 4)) else damaged_conf_files())
    keep = [e for e in gen.entries if e.description]
    subs = {e.description: draw(helm_descriptions()) for e in keep}
    text = gen.text
    for old, new in sorted(subs.items(), key=lambda kv: -len(kv[0])):
        if old and f'"{old}"' in text:
            text = text.replace(f'"{old}"', f'"{new}"')
    return GenConf(text, gen.entries, gen.damage, gen.notes)


@st.composite
def selection_flags(draw) -> list[str]:
    """Every combination of helm-run's selection flags, with models, deployments and wildcards."""
    flags: list[str] = []
    if draw(st.booleans()):
        flags += ["--models-to-run", *draw(st.lists(st.sampled_from([m for m in MODEL_VALUES if m]), min_size=1, max_size=3))]
    if draw(st.booleans()):
        flags += ["--groups-to-run", *draw(st.lists(st.sampled_from(["mmlu", "simple1", "quickstart", "nope"]), min_size=1, max_size=2))]
    if draw(st.booleans()):
        flags += ["--priority", str(draw(st.integers(-1, 4)))]
    if draw(st.booleans()):
        flags += ["--max-eval-instances", str(draw(st.integers(0, 20)))]
    return flags


# Journal lines (tests/runtime/test_journal.py, tests/runtime/test_status.py): every shape a damaged journal may hold.
LOG_HEADER = '{"helmc_journal": 2}\n'

# The quick run in the fast loop; `HYPOTHESIS_PROFILE=fuzz HELMC_FUZZ_EXAMPLES=N` is the long form (docs/fuzzing.md).
FUZZ_EXAMPLES = (int(os.environ.get("HELMC_FUZZ_EXAMPLES", "20000"))
                 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)

record_like = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=5) | json_values,
        "fingerprint": st.just("f") | json_values,
        "state": st.sampled_from([s.value for s in RunState] + ["completed", "x"]) | json_values,
        "attempts": st.integers(-2, 3) | json_values,
        "error": st.text(max_size=5) | json_values,
        "duration": st.floats() | json_values,
        "updated": st.floats() | json_values,
    },
)

line_like = st.one_of(
    st.builds(lambda r: json.dumps({"run": r}), record_like),
    st.builds(lambda v: json.dumps({"session": v}), json_values),
    st.builds(json.dumps, json_values),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)
