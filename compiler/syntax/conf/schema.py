"""The front end's last step: HOCON values -> run entries, as HELM's dacite reading takes them.

HELM reads `entries: [{description, priority, groups}]` into its RunEntry dataclass with
dacite's defaults: unknown keys are dropped without a word and types are checked. This pass
reports both, and the pre-2023 format that HELM no longer reads.
"""

from __future__ import annotations

import difflib
import json
from json.encoder import encode_basestring

from ...diagnostics import Applicability, Diagnostic, Fix, Label, diag
from ...ir import Entry, HArray, HError, HNull, HNumber, HObject, HString, HValue, HBool
from ..run_entry import parse_description
from ...source import SourceFile
from ...resolve.suggest import unique_close
from .builder import ODD_SPACES
from .fast_reader import PlainEntry

ENTRY_KEYS = ("description", "priority", "groups")


def _kind(v: HValue) -> str:
    return {
        HString: "a string",
        HNumber: "a number",
        HBool: "a boolean",
        HNull: "null",
        HObject: "an object",
        HArray: "a list",
    }.get(type(v), "a value")


def _did_you_mean(word: str, choices) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def entries_of(root: HValue, source: SourceFile, diagnostics: list[Diagnostic]) -> list[Entry]:
    if isinstance(root, HError):
        return []
    if not isinstance(root, HObject):
        diagnostics.append(
            diag(
                "HC0101",
                f"the conf file is {_kind(root)}, not an object with `entries`",
                source.span(root.span.start, root.span.start + 1),
                "expected `entries: [...]` at the top level",
                help='write the entries as `entries: [ {description: "...", priority: 1} ]`',
            )
        )
        return []
    field = root.get("entries")
    for f in root.fields:
        if f.key != "entries" and field is not None and not isinstance(f.value, HError):
            diagnostics.append(_unknown_key(f, ("entries",), "the conf file", ("entries",)))
    if field is None:
        if not root.includes:  # else `entries` may come from the include, which HC0004 reports
            diagnostics.append(_missing_entries(root, source))
        return []
    value = field.value
    if isinstance(value, HError):
        return []
    if not isinstance(value, HArray):
        diagnostics.append(
            diag(
                "HC0102",
                f"`entries` is {_kind(value)}, not a list",
                value.span,
                "expected `[`",
                help='write `entries: [ {description: "..."} ]`',
            )
        )
        return []
    entries: list[Entry] = []
    for index, item in enumerate(value.items):
        entry = _entry(item, index, diagnostics)
        if entry is not None:
            entries.append(entry)
    return entries


def entries_of_items(items: list[HValue | PlainEntry], diagnostics: list[Diagnostic]) -> list[Entry]:
    """entries_of for a file that is `entries: [...]` alone, from its items as
    fast_entry_items reads them: a PlainEntry's Entry is the one _entry makes from its tree."""
    entries: list[Entry] = []
    for index, item in enumerate(items):
        if type(item) is PlainEntry:
            entries.append(Entry(parse_description(item.description, diagnostics), item.priority, item.groups,
                                 item.span, index, item.priority_span, item.groups_span, True))
            continue
        entry = _entry(item, index, diagnostics)
        if entry is not None:
            entries.append(entry)
    return entries


def _missing_entries(root: HObject, source: SourceFile) -> Diagnostic:
    legacy = [f for f in root.fields if ":" in f.key or (isinstance(f.value, HObject) and f.value.get("status"))]
    if legacy:
        first = legacy[0]
        prio = first.value.get("priority") if isinstance(first.value, HObject) else None
        prio_text = f", priority: {prio.value.value}" if prio is not None and isinstance(prio.value, HNumber) else ""
        rewrite = _legacy_rewrite(root)
        return diag(
            "HC0107",
            "this conf file uses the pre-2023 format, which HELM no longer reads",
            first.key_span,
            "a description as a key",
            help=f'HELM now reads `entries: [ {{description: "{first.key}"{prio_text}}} ]`',
            fixes=[rewrite] if rewrite else [],
            notes=[
                "each top-level key of the old format becomes the `description` of one entry",
                "HELM would fail here with a dacite error about a missing field `entries`",
            ],
        )
    span = root.fields[0].key_span if root.fields else source.span(0, 0)
    # `entires: [...]`: the one top-level key one typo from `entries` is the fix.
    typo = next((f for f in root.fields if unique_close(f.key, ("entries",)) and f.key_span.text == f.key), None)
    if typo is not None:
        span = typo.key_span
    return diag(
        "HC0101",
        "the conf file has no `entries` list",
        span,
        "expected `entries` at the top level",
        help="did you mean `entries`?" if typo else 'write the entries as `entries: [ {description: "...", priority: 1} ]`',
        fixes=[Fix(typo.key_span, "entries", Applicability.SAFE)] if typo else [],
    )


def _legacy_rewrite(root: HObject) -> Fix | None:
    """The pre-2023 file in today's format, as one edit over its fields: each top-level
    `"description": {priority: N, status: ...}` becomes `{description: "...", priority: N}` in
    `entries: [...]`; the comments between fields stay where they were. None when the file is
    not plainly in that format (a field that is not an object, keys merged or nested), or a
    comment inside a field would be lost."""
    fields = root.fields
    if not fields or any(not isinstance(f.value, HObject) or f.key_span.start < f.span.start for f in fields):
        return None
    if any(a.span.end > b.span.start for a, b in zip(fields, fields[1:])):
        return None
    source = root.span.source
    start, end = fields[0].span.start, fields[-1].span.end
    out: list[str] = []
    at = start
    for f in fields:
        rest = f.span.text.replace(f.key_span.text, "")
        if "#" in rest or "//" in rest:
            return None
        out.append(source.text[at : f.span.start])
        prio = f.value.get("priority")
        prio_text = ""
        if prio is not None:
            if not isinstance(prio.value, HNumber) or not isinstance(prio.value.value, int):
                return None
            prio_text = f", priority: {prio.value.text}"
        # encode_basestring is what json.dumps(key, ensure_ascii=False) returns for a str,
        # without making an encoder for each of an old file's hundreds of fields.
        out.append(f"{{description: {encode_basestring(f.key)}{prio_text}}}")
        at = f.span.end
    body = "".join(out)
    rest = source.text[end:]
    if rest.lstrip(" \t").startswith(","):  # a separator after the last field: `]` ends the list now
        end += len(rest) - len(rest.lstrip(" \t")) + 1
    lines = [("  " + line if line.strip() else line) for line in body.split("\n")]
    replacement = "entries: [\n" + "\n".join(lines) + "\n]"
    return Fix(source.span(start, end), replacement, Applicability.SAFE)


def _unknown_key(f, known: tuple[str, ...], where: str, given: tuple[str, ...] = ()) -> Diagnostic:
    guess = _did_you_mean(f.key, known)
    # Safe when one known key, not given yet, is one typo away and the key is written as is.
    close = unique_close(f.key, [k for k in known if k not in given])
    safe = close is not None and close == guess and f.key_span.text == f.key
    return diag(
        "HC0106",
        f"unknown key `{f.key}` in {where}",
        f.key_span,
        "HELM ignores this key without a word",
        help=f"did you mean `{guess}`?" if guess else f"known keys: {', '.join(known)}",
        fixes=[Fix(f.key_span, guess, Applicability.SAFE if safe else Applicability.UNSAFE)] if guess else [],
        notes=[f"HELM reads `{f.key}` and drops it, so its value has no effect"],
    )


def _entry(item: HValue, index: int, diagnostics: list[Diagnostic]) -> Entry | None:
    if isinstance(item, HError):
        return None
    if not isinstance(item, HObject):
        help = "each entry is an object: `{description: \"...\", priority: 1}`"
        if isinstance(item, HString) and not item.quoted:
            help = "if this line is a comment, start it with `#`; " + help
        diagnostics.append(
            diag("HC0103", f"an entry is {_kind(item)}, not an object", item.span, "expected `{`", help=help)
        )
        return None
    # One pass finds the three fields (as HObject.get would: the first of each key) and
    # reports the unknown keys, in the fields' order.
    desc_field = prio_field = groups_field = None
    for f in item.fields:
        key = f.key
        if key == "description":
            if desc_field is None:
                desc_field = f
        elif key == "priority":
            if prio_field is None:
                prio_field = f
        elif key == "groups":
            if groups_field is None:
                groups_field = f
        elif not isinstance(f.value, HError):
            diagnostics.append(_unknown_key(f, ENTRY_KEYS, "an entry", tuple(g.key for g in item.fields)))
    ok = True
    description = None
    if desc_field is None:
        ok = False
        if not item.includes:  # else it may come from the include, which HC0004 reports
            diagnostics.append(
                diag(
                    "HC0104",
                    "this entry has no `description`",
                    item.span.source.span(item.span.start, item.span.start + 1),
                    "entry without a description",
                    help='add `description: "name:key=value"`',
                )
            )
    elif isinstance(desc_field.value, HString):
        description = parse_description(desc_field.value, diagnostics)
    elif not isinstance(desc_field.value, HError):
        ok = False
        diagnostics.append(_wrong_type(desc_field, "a string", 'write the description in double quotes'))
    priority = None
    if prio_field is not None:
        v = prio_field.value
        if isinstance(v, HNumber) and isinstance(v.value, int):
            priority = v.value
        elif isinstance(v, HBool):
            # dacite takes a bool for an int (bool is an int in Python): HELM runs with 1 or 0.
            priority = int(v.value)
            diagnostics.append(
                diag(
                    "HC0110",
                    f"`priority: {str(v.value).lower()}` is a boolean, which HELM reads as priority {priority}",
                    v.span,
                    f"HELM reads this as {priority}",
                    help=f"write the number: `priority: {priority}`",
                    notes=["HELM's dacite reading accepts a boolean where an integer is expected, since bool is an int in Python"]
                    + (["priority 0 is kept by every `--priority` filter"] if priority == 0 else []),
                    fixes=[Fix(v.span, str(priority), Applicability.SAFE)],  # the same priority for HELM
                )
            )
        elif not isinstance(v, (HNull, HError)):
            ok = False
            hint = "priorities are integers, 1 being the highest"
            fixes: list[Fix] = []
            visible = "".join(ch for ch in v.value if ch not in ODD_SPACES).strip() if isinstance(v, HString) else ""
            number = _integer(visible)  # None for anything but a string
            if number is not None:
                hint = (f"remove the invisible character: `priority: {number}`" if _invisible(v)
                        else f"remove the quotes: `priority: {number}`")
                fixes.append(Fix(v.span, number, Applicability.SAFE))
            diagnostics.append(_wrong_type(prio_field, "an integer", hint, fixes))
    groups = None
    if groups_field is not None:
        v = groups_field.value
        if isinstance(v, HArray):
            names = []
            for g in v.items:
                if isinstance(g, HString):
                    names.append(g.value)
                elif not isinstance(g, HError):
                    ok = False
                    diagnostics.append(
                        diag(
                            "HC0105",
                            f"a group is {_kind(g)}, not a string",
                            g.span,
                            "expected a string",
                            help='write group names in double quotes: `groups: ["my_group"]`',
                        )
                    )
            groups = tuple(names)
        elif not isinstance(v, (HNull, HError)):
            ok = False
            diagnostics.append(_wrong_type(groups_field, "a list of strings", 'write `groups: ["my_group"]`'))
    return Entry(  # positional, in Entry's order: a little cheaper than by name, 10^4 times a file
        description,
        priority,
        groups,
        item.span,
        index,
        prio_field.value.span if prio_field is not None else None,
        groups_field.value.span if groups_field is not None else None,
        ok,
    )


def _integer(text: str) -> str | None:
    """The integer a priority written as a string of digits means, as text; None where there
    is none: not digits, or digits int() does not read (`²`, `①`, `+-1`), which were an
    internal error here."""
    if not text.lstrip("+-").isdigit():
        return None
    try:
        return str(int(text))
    except ValueError:
        return None


def _wrong_type(f, expected: str, hint: str, fixes: list[Fix] | None = None) -> Diagnostic:
    invisible = _invisible(f.value)
    return diag(
        "HC0105",
        f"`{f.key}` is {_kind(f.value)}, but HELM expects {expected}",
        f.value.span,
        f"expected {expected}",
        help=hint,
        notes=([invisible] if invisible else []) + ["HELM's dacite reading would stop the whole run with a type error here"],
        secondary=[Label(f.key_span, "for this key")],
        fixes=fixes or [],
    )


def _invisible(v: HValue) -> str | None:
    """A note naming the invisible characters in a string value: after an unquoted value,
    pyhocon keeps a byte order mark in it, so `priority: 1` followed by one is a string."""
    if not isinstance(v, HString):
        return None
    found = [f"{name} (U+{ord(ch):04X})" for ch, name in ODD_SPACES.items() if ch in v.value]
    if not found:
        return None
    return f"the value holds {' and '.join(found)}, invisible here: HELM reads the string {json.dumps(v.value)}"
