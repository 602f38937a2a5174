"""Completion and hover: the token under the cursor, found through the spans that
Entry.description.name and .args carry (mapped into the file), answered from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from helmc.compiler.ir import ConfFile, Description, Entry


# ---------------------------------------------------------------------- the cursor


@dataclass
class Cursor:
    """What the cursor is on inside a description: a function name, a key or a value."""

    kind: str  # "function" | "key" | "value"
    start: int  # file offsets of the token to replace
    end: int
    desc: Description
    key: str | None = None  # for "value": the argument's key


def _content_end(desc: Description) -> int:
    text = desc.span.source.text
    end = desc.span.end
    return end - 1 if end > desc.span.start and text[end - 1] == '"' else end


def cursor_at(conf: ConfFile, offset: int) -> Cursor | None:
    entry: Entry | None = next(
        (e for e in conf.entries if e.description and e.description.span.start < offset <= _content_end(e.description)),
        None,
    )
    if entry is None or entry.description is None:
        return None
    desc = entry.description
    name = desc.name.span
    if name.start <= offset <= name.end:
        return Cursor("function", name.start, name.end, desc)
    for a in desc.args:
        if a.key.span.start <= offset <= a.key.span.end:
            return Cursor("key", a.key.span.start, a.key.span.end, desc)
        if a.raw.span.start <= offset <= a.raw.span.end:
            return Cursor("value", a.raw.span.start, a.raw.span.end, desc, a.key.value)
    # In a gap the parse left out (`mmlu:subject=x,mo` has no `=` yet, so no argument):
    # the token runs back to the previous `,` or `:` (keys and values hold neither).
    text = desc.span.source.text
    start = offset
    while start > name.end and text[start - 1] not in ",:":
        start -= 1
    token = text[start:offset]
    if "=" in token:
        eq = start + token.index("=")
        return Cursor("value", eq + 1, offset, desc, text[start:eq])
    return Cursor("key", start, offset, desc)


# ---------------------------------------------------------------- completion, hover


def _function_doc(fn) -> str:
    sig = f"{fn.name}({fn.signature()})"
    out = f"```python\n{sig}\n```\n\n`{fn.module}.{fn.function}`"
    if fn.doc:
        out += f"\n\n{fn.doc}"
    return out


def _param_doc(fn, p) -> str:
    ann = f": {p.annotation}" if p.annotation else ""
    default = "required" if p.required else f"default `{p.default}`"
    return f"```python\n{p.name}{ann}\n```\nparameter of `{fn.name}`, {default}"


def _expander_values(exp) -> list[str]:
    values = list(exp.choices) + list(exp.value_sets) + list(exp.known_values)
    return list(dict.fromkeys(str(v) for v in values))


def _expander_doc(exp) -> str:
    values = _expander_values(exp)
    out = f"run expander `{exp.name}` ({exp.cls})"
    if values:
        out += "\n\nvalues: " + ", ".join(f"`{v}`" for v in values[:30])
    return out


def completions(catalog, cur: Cursor) -> list[tuple[str, types.CompletionItemKind, str | None, str]]:
    """(label, kind, detail, text to insert) for the token under the cursor."""
    K = types.CompletionItemKind
    out: list[tuple[str, types.CompletionItemKind, str | None, str]] = []
    if cur.kind == "function":
        for name, fn in sorted(catalog.functions.items()):
            out.append((name, K.Function, fn.module, name))
        return out
    fn = catalog.functions.get(cur.desc.name.value)
    if cur.kind == "key":
        text = cur.desc.span.source.text
        given = {a.key.value for a in cur.desc.args if a.key.span.start != cur.start}
        eq = "" if text[cur.end : cur.end + 1] == "=" else "="
        if fn is not None:
            for p in fn.params:
                if p.name not in given:
                    detail = (p.annotation or "") + ("" if p.required else f" = {p.default}")
                    out.append((p.name, K.Field, detail or None, p.name + eq))
        for name in catalog.expanders:
            if name not in given:
                out.append((name, K.Property, "run expander", name + eq))
        return out
    key = cur.key or ""
    if key == "model":
        for group in catalog.model_group_to_model_names():
            out.append((group, K.Module, "model group (wildcard)", group))
        for name, m in catalog.models.items():
            out.append((name, K.Value, "deprecated model" if m.deprecated else "model", name))
        return out
    if key == "model_deployment":
        return [(name, K.Value, f"deployment of {d.model_name}", name) for name, d in catalog.deployments.items()]
    exp = catalog.expanders.get(key)
    if exp is not None:
        return [(v, K.EnumMember, f"{key} value", v) for v in _expander_values(exp)]
    p = fn.param(key) if fn is not None else None
    if p is not None and not p.required and p.has_default_value and p.default_value is not None:
        return [(str(p.default_value), K.Value, "default", str(p.default_value))]
    return out


def hover_text(catalog, cur: Cursor) -> str | None:
    fn = catalog.functions.get(cur.desc.name.value)
    if cur.kind == "function":
        return _function_doc(fn) if fn is not None else None
    text = cur.desc.span.source.text[cur.start : cur.end]
    key = text if cur.kind == "key" else cur.key
    if cur.kind == "value" and key == "model":
        groups = catalog.model_group_to_model_names()
        if text in groups:
            names = groups[text]
            return f"model group `{text}`: {len(names)} models" + (f" ({', '.join(names[:10])}, …)" if names else "")
        m = catalog.models.get(text)
        if m is not None:
            return f"model `{m.name}`\n\ntags: {', '.join(m.tags) or 'none'}"
        return None
    exp = catalog.expanders.get(key or "")
    if exp is not None:
        return _expander_doc(exp)
    if fn is not None and key:
        p = fn.param(key)
        if p is not None:
            return _param_doc(fn, p)
    return None
