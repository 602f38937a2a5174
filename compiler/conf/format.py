"""The canonical layout of conf files (`helmc fmt`), printed from the lossless tree.

The layout is the one most of HELM's own conf files use (docs/fmt.md has the figures):
- `entries: [` then one entry per line, indented (2 spaces by default), `]` alone at the end;
- an entry on one line: `{description: "...", priority: 1, groups: ["g"]}`: `key: value`,
  `, ` between fields, no spaces inside the brackets, no trailing comma;
- items on lines of their own take no comma (as 37 of HELM's 46 files write them);
- a list or object is written on one line unless it holds a comment, or holds an object
  (a list also a list): then one item per line;
- `=` becomes `: `; keys are unquoted where that means the same key; plain unquoted string
  values are double-quoted (numbers, booleans and null stay as they are);
- blank lines: at most one, none at the start or end of the file or before a closing bracket;
- every comment stays where it was: on its own line (re-indented) or after the same item.

A value that is several pieces on one line (HOCON's concatenation, `"a" "b"`) and a field with
a comment between its key and its value are printed as written: their spaces are meaning.
A file with an error is not formatted (format_source gives None and the diagnostics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Tree

from ..diagnostics import Diagnostic
from ..source import SourceFile
from ..ir import HArray, HError, HObject, HValue
from .builder import NUMBER
from .lossless import leaves, print_tree, read_lossless, tokens
from .reader import parse_conf

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_FIELDS = frozenset({"field_colon", "field_equals", "field_append", "field_object", "include"})


@dataclass(frozen=True, slots=True)
class FormatResult:
    text: str | None  # the formatted text; None when the file has errors
    diagnostics: tuple[Diagnostic, ...]


def format_text(text: str, path: str = "<stdin>", indent: int = 2) -> str | None:
    """`text` in the canonical layout, or None when it cannot be read without errors (the
    language server's textDocument/formatting and `helmc fmt` both call this)."""
    return format_source(SourceFile(path, text), indent).text


def format_source(source: SourceFile, indent: int = 2) -> FormatResult:
    read = read_lossless(source)
    if read.tree is None or read.has_errors:
        return FormatResult(None, read.diagnostics)
    out = _Printer(" " * indent).document(read.tree)
    _check_same(source, read, out)
    if "\r\n" in source.text:
        out = out.replace("\n", "\r\n")
    return FormatResult(out, read.diagnostics)


class FormatError(Exception):
    """The formatter would change a file's meaning or lose a comment: a bug in helmc."""


def _check_same(source: SourceFile, read, out: str) -> None:
    """Re-read the output: the same values, in the same order, and the same comments, or
    nothing is written (a formatter must never be the one that breaks a file)."""
    diagnostics: list[Diagnostic] = []
    again = parse_conf(SourceFile(source.path, out), diagnostics)
    if any(d.severity.value == "error" for d in diagnostics) or meaning(again) != meaning(read.value):
        raise FormatError(f"formatting {source.path} would change its meaning")
    before = [t.value.rstrip() for t in leaves(read.tree) if t.type == "COMMENT"]
    after = [t.value.rstrip() for t in tokens(out) if t.type == "COMMENT"] if before else []
    if before != after:
        raise FormatError(f"formatting {source.path} would lose a comment")


def meaning(v: HValue):
    """A value without its spans: what pyhocon would hand HELM (keys in order)."""
    if isinstance(v, HObject):
        return ("{", tuple((f.key, meaning(f.value)) for f in v.fields))
    if isinstance(v, HArray):
        return ("[", tuple(meaning(i) for i in v.items))
    if isinstance(v, HError):
        return ("error",)
    return (type(v).__name__, getattr(v, "value", None))


def _real(children: list) -> list:
    return [c for c in children if not (isinstance(c, Token) and c.type in ("WS", "NL", "COMMA", "COMMENT"))]


def _has_comment(node: Tree) -> bool:
    stack: list = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Token):
            if n.type == "COMMENT":
                return True
        else:
            stack.extend(n.children)
    return False


def _single_container(value: Tree) -> Tree | None:
    """The object or array that a value node is, if it is one piece."""
    pieces = _real(value.children)
    if len(pieces) == 1 and isinstance(pieces[0], Tree) and pieces[0].data in ("object", "array"):
        return pieces[0]
    return None


def _is_empty(container: Tree) -> bool:
    return not any(isinstance(c, Tree) for c in container.children)


@dataclass(slots=True)
class _Slot:
    node: Tree | None  # an item (a field or a value), or None for a comment on its own line
    comment: str | None = None  # the own-line comment, or the comment after the item
    blank_before: bool = False


class _Printer:
    def __init__(self, unit: str) -> None:
        self.unit = unit

    # ------------------------------------------------------------ containers

    def _slots(self, seq: list, opener: bool = True) -> tuple[str | None, list[_Slot]]:
        """A container's items and comments in order, and the comment after its opener."""
        slots: list[_Slot] = []
        opener_comment = None
        newlines = 0
        for c in seq:
            if isinstance(c, Token):
                if c.type == "NL":
                    newlines += 1
                elif c.type == "COMMENT":
                    text = c.value.rstrip()
                    if newlines == 0 and slots and slots[-1].node is not None and slots[-1].comment is None:
                        slots[-1].comment = text  # after an item, on its line
                    elif newlines == 0 and not slots and opener:
                        opener_comment = text  # after `{` or `[`, on its line
                    else:
                        slots.append(_Slot(None, text, newlines >= 2))
                    newlines = 0
                continue
            slots.append(_Slot(c, None, newlines >= 2))
            newlines = 0
        return opener_comment, slots

    def _broken(self, open_: str, close: str, seq: list, ind: str) -> str:
        opener_comment, slots = self._slots(seq)
        inner = ind + self.unit
        lines = [open_ + (" " + opener_comment if opener_comment else "")]
        for s in slots:
            if s.blank_before:
                lines.append("")
            if s.node is None:
                lines.append(inner + s.comment)
            else:
                item = self._item(s.node, inner)
                lines.append(inner + item + ("  " + s.comment if s.comment else ""))
        lines.append(ind + close)
        return "\n".join(lines)

    def _seq(self, container: Tree) -> list:
        """Children of an object or array with its fields or elements spliced in."""
        out: list = []
        for c in container.children[1:-1]:
            if isinstance(c, Tree) and c.data in ("fields", "elements"):
                out.extend(c.children)
            else:
                out.append(c)
        return out

    def _needs_break(self, container: Tree) -> bool:
        if _has_comment(container):
            return True
        for c in self._seq(container):
            if not isinstance(c, Tree):
                continue
            if container.data == "object":
                inner = None
                if c.data == "field_object":
                    inner = _real(c.children)[-1]
                elif c.data in ("field_colon", "field_equals", "field_append"):
                    inner = _single_container(_real(c.children)[-1])
                if inner is not None and inner.data == "object" and not _is_empty(inner):
                    return True
            else:
                inner = _single_container(c)
                if inner is not None and not _is_empty(inner):
                    return True
        return False

    def container(self, node: Tree, ind: str) -> str:
        open_, close = ("{", "}") if node.data == "object" else ("[", "]")
        if _is_empty(node) and not _has_comment(node):
            return open_ + close
        if self._needs_break(node):
            return self._broken(open_, close, self._seq(node), ind)
        items = [self._item(c, ind) for c in self._seq(node) if isinstance(c, Tree)]
        return open_ + ", ".join(items) + close

    # ------------------------------------------------------------ the file

    def document(self, start: Tree) -> str:
        seq: list = []
        for c in start.children:
            if isinstance(c, Tree) and c.data == "root_fields":
                fields = c.children[0]
                seq.extend(fields.children)
            else:
                seq.append(c)
        _, slots = self._slots(seq, opener=False)
        lines: list[str] = []
        for s in slots:
            if s.blank_before and lines:
                lines.append("")
            if s.node is None:
                lines.append(s.comment)
            elif s.node.data in ("object", "array"):  # a root in brackets
                lines.append(self._broken_root(s.node) + ("  " + s.comment if s.comment else ""))
            else:
                lines.append(self._item(s.node, "") + ("  " + s.comment if s.comment else ""))
        return "\n".join(lines) + "\n" if lines else ""

    def _broken_root(self, node: Tree) -> str:
        open_, close = ("{", "}") if node.data == "object" else ("[", "]")
        if _is_empty(node) and not _has_comment(node):
            return open_ + close
        return self._broken(open_, close, self._seq(node), "")

    # ------------------------------------------------------------ items

    def _item(self, node: Tree, ind: str) -> str:
        if node.data in _FIELDS:
            return self._field(node, ind)
        return self._value(node, ind)

    def _field(self, node: Tree, ind: str) -> str:
        children = node.children
        if any(isinstance(c, Token) and c.type == "COMMENT" for c in children):
            return print_tree(node)  # a comment inside the field: as written
        real = _real(children)
        key = self._key(real[0])
        if node.data == "field_object":
            return key + " " + self.container(real[-1], ind)
        if node.data == "field_append":
            return key + " += " + self._value(real[-1], ind)
        return key + ": " + self._value(real[-1], ind)

    def _key(self, key: Tree) -> str:
        if key.data == "quoted_key":
            tok = _real(key.children)[0]
            inner = tok.value[1:-1]
            if _PLAIN_KEY.match(inner) and inner != "include":
                return inner
            return tok.value
        return print_tree(key).strip()

    def _value(self, value: Tree, ind: str) -> str:
        pieces = _real(value.children)
        if len(pieces) == 1:
            p = pieces[0]
            if isinstance(p, Tree):
                return self.container(p, ind)
            if p.type == "UNQUOTED" and _plain_string(p.value):
                return '"' + p.value + '"'
            if p.type == "COLON":
                return '":"'
            return p.value
        if all(isinstance(p, Token) and p.type in ("UNQUOTED", "COLON") for p in pieces) and all(
            a.end_pos == b.start_pos for a, b in zip(pieces, pieces[1:])
        ):
            joined = "".join(p.value for p in pieces)
            if _plain_string(joined):
                return '"' + joined + '"'  # `mmlu:subject=x` unquoted is the string "mmlu:subject=x"
        return print_tree(value).strip()


def _plain_string(text: str) -> bool:
    """An unquoted value that means the same string in double quotes. Not a number, boolean
    or null, and nothing that starts with a digit: pyhocon reads `10s` or `5m` as a duration."""
    if "\\" in text or not text or text.lstrip("+-")[:1].isdigit() or NUMBER.match(text):
        return False
    return text.lower() not in ("true", "false", "null")
