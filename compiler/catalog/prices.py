"""The prices file (`--prices FILE`, `prices` in [tool.helmc]): USD per million tokens for HELM
models or deployments, over the maintained list (genai-prices) and for self-hosted models.

    prices:
      - {model: openai/gpt-4o-mini-2024-07-18, input_per_million: 0.15, output_per_million: 0.6}

Read with positions (compiler/syntax/config_yaml.py) like every file helmc reads: HC0800 for YAML that
does not parse, HC0801 for a shape the format does not have, HC0802 for a name given twice.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from ..frozen import record
from ..syntax.config_yaml import read_yaml
from ..diagnostics import DiagnosticSink, Label, diag
from ..source import SourceFile, Span

FIELDS = ("model", "input_per_million", "output_per_million")


@record
class Price:
    model: str  # a HELM model or model deployment name
    input_per_million: float
    output_per_million: float
    span: Span  # of the `model` value

    @property
    def source(self) -> str:
        line, col = self.span.source.line_col(self.span.start)
        return f"{self.span.source.path}:{line}:{col}"


def read_prices(source: SourceFile, sink: DiagnosticSink) -> dict[str, Price]:
    """The prices of a file by name (a name given twice: the later, HC0802); every problem in
    `sink`, with its position. An entry with a problem is left out, the rest kept."""
    inner = DiagnosticSink()
    doc = read_yaml(source, inner)
    for d in inner.items:  # YAML's own errors, under the prices file's code
        sink.add(replace(d, code="HC0800", notes=tuple(n for n in d.notes if "HELM" not in n)))
    if doc.root is None:
        if not doc.syntax_error:
            sink.add(_shape(source.span(0, 0), "the prices file is empty", "expected `prices:`"))
        return {}
    root = doc.root
    if root.kind != "map":
        sink.add(_shape(root.span, "the prices file is not a mapping", "expected `prices:` here"))
        return {}
    for k, _v in root.pairs():
        if k.value != "prices":
            sink.add(_shape(k.span, f"unknown key `{k.value}` in the prices file", "only `prices` is read"))
    items = root.get("prices")
    if items is None:
        sink.add(_shape(root.span, "the prices file has no `prices` list", "expected `prices:`"))
        return {}
    if items.kind != "seq":
        sink.add(_shape(items.span, "`prices` is not a list", "expected a list of `- {model: ..., ...}`"))
        return {}
    out: dict[str, Price] = {}
    for item in items.items():
        price = _entry(item, sink)
        if price is None:
            continue
        if price.model in out:
            first = out[price.model]
            sink.add(diag("HC0802", f"`{price.model}` is priced twice; the later price is used", price.span,
                          "priced again here", secondary=[Label(first.span, "first priced here")],
                          help="remove one of the two entries"))
        out[price.model] = price
    return out


def _shape(span: Span, message: str, label: str, help: str | None = None) -> Any:
    return diag("HC0801", message, span, label,
                help=help or "each entry is `- {model: NAME, input_per_million: USD, output_per_million: USD}`")


def _entry(item: Any, sink: DiagnosticSink) -> Price | None:
    if item.kind != "map":
        sink.add(_shape(item.span, "a price entry is not a mapping", "expected `{model: ..., ...}`"))
        return None
    ok = True
    meant: set[str] = set()  # fields a misspelled key stands for: said once, at the key
    for k, _v in item.pairs():
        if k.value not in FIELDS:
            from ..resolve.suggest import closest

            near = [n for n in closest(str(k.value), FIELDS) if item.get(n) is None]
            meant.update(near[:1])
            sink.add(_shape(k.span, f"unknown key `{k.value}` in a price entry", "not a price field",
                            help=f"did you mean `{near[0]}`?" if near else None))
            ok = False
    values: dict[str, Any] = {}
    for name in FIELDS:
        v = item.get(name)
        if v is None:
            if name not in meant:
                sink.add(_shape(item.span, f"a price entry has no `{name}`", f"`{name}` missing"))
            ok = False
            continue
        x = v.value if v.kind == "scalar" else None
        if name == "model":
            if not isinstance(x, str) or not x.strip():
                sink.add(_shape(v.span, "`model` is not a model name", "expected a HELM model or deployment name"))
                ok = False
            values[name] = (x, v.span)
        elif isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
            help = f"write the price per million tokens as a number, e.g. `{name}: 0.15`"
            if isinstance(x, str) and _exponent_only(x):
                # YAML 1.1 (PyYAML) reads `1e-6` as a string: its floats need a `.`
                help = f"YAML reads `{x}` as text, not a number: write it with a `.`, e.g. `{_with_dot(x)}`"
            sink.add(_shape(v.span, f"`{name}` is not a price", "expected a number of US dollars, 0 or more",
                            help=help))
            ok = False
        else:
            values[name] = float(x)
    if not ok:
        return None
    model, span = values["model"]
    return Price(model, values["input_per_million"], values["output_per_million"], span)


def _exponent_only(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return "." not in text and "e" in text.lower() and math.isfinite(value) and value >= 0


def _with_dot(text: str) -> str:
    mantissa, e, exponent = text.lower().partition("e")
    return f"{mantissa}.0e{exponent if exponent[:1] in '+-' else '+' + exponent}"


def json_schema() -> dict[str, Any]:
    """The prices file's JSON Schema (`helmc catalog schema prices`), for editors."""
    number = {"type": "number", "minimum": 0}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "helmc prices file",
        "description": "USD per million tokens for HELM models or model deployments (helmc --prices).",
        "type": "object",
        "additionalProperties": False,
        "required": ["prices"],
        "properties": {
            "prices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(FIELDS),
                    "properties": {
                        "model": {"type": "string", "minLength": 1,
                                  "description": "a HELM model or model deployment name"},
                        "input_per_million": {**number, "description": "USD per million prompt tokens"},
                        "output_per_million": {**number, "description": "USD per million completion tokens"},
                    },
                },
            }
        },
    }
