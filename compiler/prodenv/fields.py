"""The structural checks of HELM's config YAML files: each value against the field of HELM's
config dataclass it is structured into (ModelDeployment, ClientSpec, ModelMetadata, ...), as
cattrs or dacite would structure it (HC0602-HC0606, HC0618, HC0620). The checks across files
(names, classes, arguments) are compiler/prodenv/check.py's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..diagnostics import Applicability, DiagnosticSink, Fix, Label, diag
from ..resolve.suggest import closest, did_you_mean_applicability
from ..source import Span

if TYPE_CHECKING:
    from ..syntax.config_yaml import YNode
    from .config_file import ConfigFile

# The top-level list of each file (`model_deployments: [...]`).
TOP_LISTS = {"model_deployments.yaml": "model_deployments", "model_metadata.yaml": "models", "tokenizer_configs.yaml": "tokenizer_configs"}


# ---------------------------------------------------------------- types of the dataclass fields


def parse_type(text: str) -> tuple:
    """`Optional[List[str]]` -> ("Optional", (("List", (("str", ()),)),))."""
    tokens = re.findall(r"[A-Za-z_][\w.]*|[\[\],]", text or "Any")
    pos = 0

    def one() -> tuple:
        nonlocal pos
        name = tokens[pos].rsplit(".", 1)[-1] if pos < len(tokens) else "Any"
        pos += 1
        args: list[tuple] = []
        if pos < len(tokens) and tokens[pos] == "[":
            pos += 1
            while pos < len(tokens) and tokens[pos] != "]":
                if tokens[pos] == ",":
                    pos += 1
                    continue
                args.append(one())
            pos += 1
        return (name, tuple(args))

    return one()


_KIND_WORDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false", "date": "a date (YYYY-MM-DD)"}


def _describe(node: YNode) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    v = node.value
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"the boolean `{node.span.text}`"
    if isinstance(v, int):
        return f"the integer `{node.span.text}`"
    if isinstance(v, float):
        return f"the number `{node.span.text}`"
    if isinstance(v, str):
        return f"the string `{node.span.text}`"
    return f"`{node.span.text}`"


def _type_words(t: tuple) -> str:
    name, args = t
    if name == "Optional" and args:
        return _type_words(args[0]) + " or null"
    if name == "List":
        return "a list" + (f" of {_plural(args[0])}" if args and args[0][0] != "Any" else "")
    if name == "Dict":
        return "a mapping"
    return _KIND_WORDS.get(name, "a mapping")


def _plural(t: tuple) -> str:
    if t[0] in _KIND_WORDS or t[0] in ("Optional", "List", "Dict"):
        return {"str": "strings", "int": "integers"}.get(t[0], _type_words(t))
    return f"{t[0]} entries"  # a dataclass


def _is_iso_date(text: str) -> bool:
    import datetime

    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KkMBbTt])\s*$")
_SCALE = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


# ---------------------------------------------------------------- structural checks


@dataclass(slots=True)
class _Walk:
    cfg: dict[str, Any]
    loader: str  # "cattrs" | "dacite": how HELM structures this file
    sink: DiagnosticSink
    file: str

    def add(self, code: str, message: str, span: Span, label: str = "", **kw: Any) -> None:
        self.sink.add(diag(code, message, span, label, **kw))

    def check(self, node: YNode, t: tuple, where: str, classes: dict[str, str]) -> None:
        """Check `node` against the field type `t`; `where` names the field for messages."""
        name, args = t
        if node.error is not None:
            return  # reported once for the whole document: see construction_diagnostics
        if name == "Any":
            return
        if name == "Optional":
            if node.is_null:
                return
            self.check(node, args[0] if args else ("Any", ()), where, classes)
            return
        if node.is_null:
            if self.loader == "cattrs" and name == "str":
                self.add(
                    "HC0618",
                    f"`{where}` is null; HELM turns it into the string \"None\"",
                    node.span,
                    "becomes \"None\"",
                    help=f"give `{where}` a value, or leave the key out",
                )
                return
            self.add(
                "HC0605",
                f"`{where}` must be {_type_words(t)}, not null",
                node.span,
                "null here",
                help=f"write `{where}: []`" if name == "List" else None,
                notes=[self._raises()],
            )
            return
        full = classes.get(name)
        if full is not None and full in self.cfg["dataclasses"]:
            self.check_object(node, full, where)
            return
        if name == "List":
            if node.kind == "seq":
                for item in node.items():
                    self.check(item, args[0] if args else ("Any", ()), f"{where}[]", classes)
                return
            item = args[0] if args else ("Any", ())
            if self.loader == "cattrs" and item[0] in ("str", "Any") and (node.kind == "map" or isinstance(node.value, str)):
                # cattrs iterates it: the characters of a string, the keys of a mapping
                self.add(
                    "HC0618",
                    f"`{where}` is {_describe(node)}; HELM turns it into the list of its {'keys' if node.kind == 'map' else 'characters'}",
                    node.span,
                    "not a list",
                    help=f"write a YAML list: `[{node.span.text}]`" if node.kind == "scalar" else "write a YAML list",
                )
                return
            self.add(
                "HC0605",
                f"`{where}` must be {_type_words(t)}, not {_describe(node)}",
                node.span,
                "not a list",
                help=f"write a YAML list: `[{node.span.text}]`" if node.kind == "scalar" else None,
                notes=[self._raises()],
            )
            return
        if name == "Dict":
            if node.kind != "map":
                self.add("HC0605", f"`{where}` must be a mapping, not {_describe(node)}", node.span, "not a mapping", notes=[self._raises()])
            else:
                self.duplicate_keys(node)
            return
        if node.kind != "scalar":
            if self.loader == "cattrs" and name in ("str", "bool"):
                # cattrs calls str() or bool() on anything: HELM loads the file with a useless value
                self.add(
                    "HC0618",
                    f"`{where}` is {_describe(node)}; HELM turns it into {'a string' if name == 'str' else 'a boolean'}",
                    node.span,
                    f"becomes {'a string' if name == 'str' else 'a boolean'}",
                    help=f"write {_type_words(t)}",
                )
                return
            self.add("HC0605", f"`{where}` must be {_type_words(t)}, not {_describe(node)}", node.span, f"not {_type_words(t)}", notes=[self._raises()])
            return
        self.check_scalar(node, name, where)

    def _raises(self) -> str:
        lib = "cattrs.structure" if self.loader == "cattrs" else "dacite.from_dict"
        return f"HELM's {lib} raises on it when helm-run starts, with a message that names no line"

    def check_scalar(self, node: YNode, name: str, where: str) -> None:
        v = node.value
        if name == "date":
            if not hasattr(v, "year"):  # datetime.date (datetime is one too)
                self.add(
                    "HC0606",
                    f"`{where}` must be a date, not {_describe(node)}",
                    node.span,
                    "not a date",
                    help="write the date unquoted as YYYY-MM-DD, e.g. 2024-05-01",
                    fixes=[Fix(node.span, v)] if isinstance(v, str) and _is_iso_date(v) and node.span.text != v else [],
                    notes=["dacite.from_dict raises WrongTypeError on it: YAML makes a date only of an unquoted YYYY-MM-DD"],
                )
            return
        if name == "str":
            if isinstance(v, str):
                return
            if self.loader == "cattrs":
                shown = str(v)
                if shown != node.span.text:
                    self.add(
                        "HC0618",
                        f"`{where}` is {_describe(node)}; HELM turns it into the string \"{shown}\"",
                        node.span,
                        f"becomes \"{shown}\"",
                        help=f"quote it: \"{node.span.text}\"",
                        # Unsafe: HELM reads this file today, with the value it prints.
                        fixes=[Fix(node.span, json.dumps(node.span.text), Applicability.UNSAFE)],
                    )
                return
            self.add(
                "HC0605",
                f"`{where}` must be a string, not {_describe(node)}",
                node.span,
                "not a string",
                help=f"quote it: \"{node.span.text}\"",
                fixes=[Fix(node.span, json.dumps(node.span.text), Applicability.SAFE)],  # HELM raises as written
                notes=[self._raises()],
            )
            return
        if name in ("int", "float"):
            ok = isinstance(v, int) if name == "int" else isinstance(v, (int, float))
            if ok and not isinstance(v, bool):
                return
            if self.loader == "cattrs" and not isinstance(v, str):
                if isinstance(v, (bool, float)) and name == "int":
                    self.add(
                        "HC0618",
                        f"`{where}` is {_describe(node)}; HELM turns it into the integer {int(v)}",
                        node.span,
                        f"becomes {int(v)}",
                        help="write an integer",
                    )
                return
            if self.loader == "cattrs" and isinstance(v, str):
                try:
                    (int if name == "int" else float)(v)
                    return  # cattrs converts "2048" to 2048
                except ValueError:
                    pass
            if isinstance(v, bool) and self.loader == "dacite":
                return  # isinstance(True, int): dacite accepts it
            help_ = None
            fixes: list[Fix] = []
            m = _SIZE.match(v) if isinstance(v, str) else None
            if m:
                n = float(m.group(1)) * _SCALE[m.group(2).lower()]
                if n == int(n):
                    help_ = f"write the number in full: {int(n)}"
                    fixes = [Fix(node.span, str(int(n)), Applicability.UNSAFE)]  # is `k` 1000 or 1024? a guess
            self.add(
                "HC0605",
                f"`{where}` must be {_KIND_WORDS[name]}, not {_describe(node)}",
                node.span,
                f"not {_KIND_WORDS[name]}",
                help=help_,
                fixes=fixes,
                notes=[self._raises()],
            )
            return
        if name == "bool":
            if isinstance(v, bool):
                return
            if self.loader == "cattrs":
                b = bool(v)
                if isinstance(v, str) or v not in (0, 1):
                    self.add(
                        "HC0618",
                        f"`{where}` is {_describe(node)}; HELM turns it into {str(b).lower()}",
                        node.span,
                        f"becomes {str(b).lower()}",
                        help="write true or false, unquoted",
                        # Unsafe: HELM runs this file today, with the value it turns it into.
                        fixes=[Fix(node.span, "false" if str(v).strip().lower() in ("false", "no", "off", "0", "") else "true", Applicability.UNSAFE)]
                        if isinstance(v, str)
                        else [],
                    )
                return
            self.add("HC0605", f"`{where}` must be true or false, not {_describe(node)}", node.span, "not a boolean", notes=[self._raises()])

    def duplicate_keys(self, node: YNode) -> None:
        first: dict[Any, YNode] = {}
        for k, _ in node.pairs():
            if k.kind != "scalar":
                continue
            try:
                prev = first.get(k.value)
            except TypeError:
                continue
            if prev is not None:
                self.add(
                    "HC0620",
                    f"`{k.span.text}` is set twice in this mapping; yaml.safe_load keeps the later value",
                    k.span,
                    "set again here",
                    secondary=[Label(prev.span, "first set here")],
                    help="remove one of them",
                )
            else:
                first[k.value] = k

    def check_object(self, node: YNode, full: str, where: str) -> None:
        """A mapping structured into the dataclass `full`."""
        row = self.cfg["dataclasses"][full]
        cls_name = full.rsplit(".", 1)[-1]
        if node.kind != "map":
            top = TOP_LISTS.get(self.file)
            if where == "" and top is not None:  # the document itself: `- name: ...` without its key
                self.add(
                    "HC0605",
                    f"{self.file} must be a mapping with a `{top}:` list, not {_describe(node)}",
                    node.span.source.span(node.span.start, node.span.start + len(node.span.text.split("\n", 1)[0])),
                    f"`{top}:` expected",
                    help=f"put the items under a `{top}:` key" if node.kind == "seq" else f"start the file with `{top}:`",
                    notes=[self._raises()],
                )
                return
            what = f"`{where}`" if where else self.file
            self.add(
                "HC0605",
                f"{what} must be a mapping of {cls_name}'s fields, not {_describe(node)}",
                node.span,
                "not a mapping",
                notes=[self._raises()],
            )
            return
        self.duplicate_keys(node)
        fields = {f["name"]: f for f in row["fields"]}
        classes = {}
        for f in row["fields"]:
            for c in f.get("classes", ()):
                classes[c.rsplit(".", 1)[-1]] = c
        given: set[str] = set()
        pairs = node.pairs()
        last = {}
        for i, (k, _) in enumerate(pairs):
            if k.kind == "scalar" and isinstance(k.value, str):
                last[k.value] = i
        for i, (k, v) in enumerate(pairs):
            key = k.value if k.kind == "scalar" else None
            if not isinstance(key, str):
                self.add("HC0605", f"a key of {cls_name} must be a string, not {_describe(k)}", k.span, "not a field name")
                continue
            if last[key] != i:
                continue  # set again later: safe_load keeps the later value (HC0620)
            given.add(key)
            f = fields.get(key)
            if f is None:
                near = closest(key, [n for n in fields if n not in given or n == key])
                self.add(
                    "HC0603",
                    f"unknown key `{key}` in {cls_name}: HELM ignores it without a word",
                    k.span,
                    f"{cls_name} has no field `{key}`",
                    help=f"did you mean `{near[0]}`?" if near else f"{cls_name}'s fields: " + ", ".join(f"`{n}`" for n in fields),
                    fixes=[Fix(k.span, near[0], did_you_mean_applicability(key, near[0], [n for n in fields if n not in given or n == key]))]
                    if near
                    else [],
                    notes=[f"HELM's {self.loader} structuring drops keys its dataclass does not declare"],
                )
                continue
            if v.is_null and v.span.start == v.span.end:  # `key:` with nothing after it: point at the key
                v = type(v)(v.kind, k.span, v.value, v.tag)
            self.check(v, parse_type(f.get("annotation") or "Any"), key, classes)
        missing = [
            f["name"]
            for f in row["fields"]
            if not f["has_default"]
            and f["name"] not in given
            # dacite gives a missing Optional field None; cattrs requires every field without a default
            and not (self.loader == "dacite" and parse_type(f.get("annotation") or "")[0] == "Optional")
        ]
        if missing:
            first = node.pairs()[0][0].span if node.pairs() else node.span
            names = ", ".join(f"`{m}`" for m in missing)
            self.add(
                "HC0604",
                f"{cls_name} is missing {'its required field' if len(missing) == 1 else 'required fields'} {names}",
                first,
                f"this {cls_name} has no {names}",
                help=f"add {names}",
                notes=[self._raises()],
            )


def construction_diagnostics(cf: ConfigFile, sink: DiagnosticSink) -> None:
    """Values yaml.safe_load cannot construct, wherever they are (under an unknown key too:
    safe_load builds everything before HELM looks at a field)."""
    from ..syntax.config_yaml import TIMESTAMP_TAG, construction_errors

    for node in construction_errors(cf.doc.root):
        if node.tag == TIMESTAMP_TAG:
            sink.add(
                diag(
                    "HC0606",
                    f"`{node.span.text}` is not a date: {node.error}",
                    node.span,
                    "no such date",
                    notes=["yaml.safe_load raises ValueError on it, so HELM stops reading the file with a traceback that names no file"],
                )
            )
        else:
            # a collection: its tag as written (`!!python/object/apply:os.system`), not its items
            text = node.span.text if node.kind == "scalar" else (node.span.text.split() or [""])[0]
            tag = node.error.startswith("could not determine a constructor")  # `!!python/...`, `!custom`
            sink.add(diag("HC0602", f"YAML cannot construct `{text}`: {node.error}", node.span, "yaml.safe_load fails here",
                          help="write the value as plain YAML, without the tag: yaml.safe_load builds no Python "
                               "objects and no custom types" if tag else None))


def check_structure(cf: ConfigFile, cfg: dict[str, Any], sink: DiagnosticSink) -> None:
    spec = cfg["files"].get(cf.name)
    if cf.doc.syntax_error:
        return
    construction_diagnostics(cf, sink)
    if spec is None:
        return
    walk = _Walk(cfg, spec["loader"], sink, cf.name)
    root_cls = spec["root"]
    if cf.doc.root is None:
        # an empty file: safe_load gives None, which neither cattrs nor dacite can structure
        walk.add(
            "HC0605",
            f"`{cf.name}` is empty; HELM cannot read an empty config file",
            cf.source.span(0, 0),
            "empty file",
            help=(f"write `{TOP_LISTS[cf.name]}: []`, or delete the file" if cf.name in TOP_LISTS else "delete the file, or give it a field"),
            notes=[walk._raises()],
        )
        return
    walk.check_object(cf.doc.root, root_cls, "")
