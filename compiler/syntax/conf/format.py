"""The canonical layout of conf files (`helmc fmt`), printed from the fast reader's tokens for
a plain file (_FastPrinter), else from the lossless tree (_Printer); both print the same text.

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
from bisect import bisect_left
from dataclasses import dataclass

from lark import Token, Tree

from ...frozen import record
from ...diagnostics import Diagnostic
from ...source import SourceFile
from ...ir import HArray, HError, HObject, HValue
from .builder import NUMBER
from .fast_reader import fast_read
from .lossless import leaves, print_tree, read_lossless, tokens
from .reader import check_bytes, parse_conf

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_FIELDS = frozenset({"field_colon", "field_equals", "field_append", "field_object", "include"})


@record
class FormatResult:
    text: str | None  # the formatted text; None when the file has errors
    diagnostics: tuple[Diagnostic, ...]


def format_text(text: str, path: str = "<stdin>", indent: int = 2) -> str | None:
    """`text` in the canonical layout, or None when it cannot be read without errors (the
    language server's textDocument/formatting and `helmc fmt` both call this)."""
    return format_source(SourceFile(path, text), indent).text


def format_source(source: SourceFile, indent: int = 2) -> FormatResult:
    fast = _fast_format(source, " " * indent)
    if fast is not None:
        out, value, diagnostics, comments = fast
        if out != source.text:
            _check_same(source, value, comments, out)
    else:
        read = read_lossless(source)
        if read.tree is None or read.has_errors:
            return FormatResult(None, read.diagnostics)
        out = _Printer(" " * indent).document(read.tree)
        if out != source.text:  # the file itself: nothing to check
            _check_same(source, read.value, [t.value for t in leaves(read.tree) if t.type == "COMMENT"], out)
        diagnostics = read.diagnostics
    if "\r\n" in source.text:
        out = out.replace("\n", "\r\n")
    return FormatResult(out, diagnostics)


class FormatError(Exception):
    """The formatter would change a file's meaning or lose a comment: a bug in helmc."""


def _check_same(source: SourceFile, value: HValue, comments: list[str], out: str) -> None:
    """Re-read the output: the same values, in the same order, and the same comments, or
    nothing is written (a formatter must never be the one that breaks a file)."""
    diagnostics: list[Diagnostic] = []
    again = parse_conf(SourceFile(source.path, out), diagnostics)
    if any(d.severity.value == "error" for d in diagnostics) or meaning(again) != meaning(value):
        raise FormatError(f"formatting {source.path} would change its meaning")
    before = [c.rstrip() for c in comments]
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


# ------------------------------------------------------------------ the fast path

def _fast_format(source: SourceFile, unit: str) -> tuple[str, HValue, tuple[Diagnostic, ...], list[str]] | None:
    """The layout of a plain file (the fast reader's shape, no error) printed from the fast
    reader's tokens, without Lark's tree: its parse, weaving and transform were most of fmt's
    time and memory (100 times the file's size). None sends the file to the lossless path;
    tests/compiler/syntax/conf/test_format.py checks that both print the same text."""
    diagnostics: list[Diagnostic] = []
    if check_bytes(source, diagnostics) is not source.text:
        return None
    comments: dict[int, str] = {}
    read = fast_read(source, diagnostics, comments)
    if read is None or any(d.severity.value == "error" for d in diagnostics):
        return None
    value, kinds, texts = read
    out = _FastPrinter(unit, kinds, texts, comments).document()
    if out is None:
        return None
    return out, value, tuple(diagnostics), list(comments.values())


class _GiveUp(Exception):
    pass


_SEPARATORS = frozenset({"NL", "COMMA"})
_OPENERS = frozenset({"LBRACE", "LSQB"})


class _FastPrinter:
    """_Printer's layout over a token list (NL and COMMA kept, WS and comments out; each
    comment keyed by the token it precedes). A container's items are found by its brackets'
    matching indexes; a comment inside a field (between its key and its value) is printed as
    written by _Printer, and sends the file to it here."""

    def __init__(self, unit: str, kinds: list[str], texts: list[str], comments: dict[int, str]) -> None:
        self.unit = unit
        self.kinds = kinds
        self.texts = texts
        self.comments = comments
        self.comment_at = sorted(comments)
        match: dict[int, int] = {}
        stack: list[int] = []
        for i, k in enumerate(kinds):
            if k == "LBRACE" or k == "LSQB":
                stack.append(i)
            elif k == "RBRACE" or k == "RSQB":
                match[stack.pop()] = i
        self.match = match

    def document(self) -> str | None:
        try:
            _, slots = self._slots(0, len(self.kinds) - 1, False)
            lines: list[str] = []
            for node, comment, blank in slots:
                if blank and lines:
                    lines.append("")
                if node is None:
                    lines.append(comment)
                    continue
                if node[0] < 0:  # a root in braces: always broken
                    text = self._container(node[2], "", root=True)
                else:
                    text = self._item(node, "")
                lines.append(text + ("  " + comment if comment else ""))
            return "\n".join(lines) + "\n" if lines else ""
        except (_GiveUp, KeyError, IndexError):
            return None

    def _has_comment(self, start: int, stop: int) -> bool:
        """A comment before any token in start..stop."""
        at = self.comment_at
        k = bisect_left(at, start)
        return k < len(at) and at[k] <= stop

    def _slots(self, i: int, stop: int, opener: bool) -> tuple[str | None, list[list]]:
        """The items and comments from token i up to `stop` (a closer or `$END`), as
        _Printer._slots: [item or None, comment, blank line before]; an item is (key, the
        separator's kind, value), the key -1 for an element."""
        kinds, comments, match = self.kinds, self.comments, self.match
        slots: list[list] = []
        opener_comment = None
        newlines = 0
        in_array = i > 0 and kinds[i - 1] == "LSQB"
        while True:
            c = comments.get(i)
            if c is not None:
                c = c.rstrip()
                if newlines == 0 and slots and slots[-1][0] is not None and slots[-1][1] is None:
                    slots[-1][1] = c
                elif newlines == 0 and not slots and opener:
                    opener_comment = c
                else:
                    slots.append([None, c, newlines >= 2])
                newlines = 0
            if i >= stop:
                break
            k = kinds[i]
            if k == "NL":
                newlines += 1
                i += 1
                continue
            if k == "COMMA":
                i += 1
                continue
            if in_array or (k == "LBRACE" and stop == len(kinds) - 1):
                node = (-1, "", i)  # an element, or the root object
                value = i
            else:
                j = i + 1
                while kinds[j] == "NL":
                    j += 1
                sep = kinds[j]
                value = j
                if sep != "LBRACE":
                    value += 1
                    while kinds[value] == "NL":
                        value += 1
                if self._has_comment(i + 1, value):
                    raise _GiveUp  # a comment inside the field: printed as written by the lossless path
                node = (i, sep, value)
            slots.append([node, None, newlines >= 2])
            newlines = 0
            i = match[value] + 1 if kinds[value] in _OPENERS else value + 1
            if i < stop and kinds[i] not in _SEPARATORS:
                raise _GiveUp  # a value of several pieces: printed as written by the lossless path
        return opener_comment, slots

    def _empty(self, open_: int) -> bool:
        kinds = self.kinds
        i = open_ + 1
        while kinds[i] in _SEPARATORS:
            i += 1
        return i == self.match[open_]

    def _container(self, open_: int, ind: str, root: bool = False) -> str:
        kinds = self.kinds
        brace = kinds[open_] == "LBRACE"
        o, c = ("{", "}") if brace else ("[", "]")
        close = self.match[open_]
        has_comment = self._has_comment(open_ + 1, close)
        if not has_comment and self._empty(open_):
            return o + c
        opener_comment, slots = self._slots(open_ + 1, close, True)
        broken = root or has_comment
        if not broken:
            for node, _, _ in slots:
                v = node[2]
                if kinds[v] in _OPENERS and (not brace or kinds[v] == "LBRACE") and not self._empty(v):
                    broken = True
                    break
        if not broken:
            return o + ", ".join(self._item(node, ind) for node, _, _ in slots) + c
        inner = ind + self.unit
        lines = [o + (" " + opener_comment if opener_comment else "")]
        for node, comment, blank in slots:
            if blank:
                lines.append("")
            if node is None:
                lines.append(inner + comment)
            else:
                lines.append(inner + self._item(node, inner) + ("  " + comment if comment else ""))
        lines.append(ind + c)
        return "\n".join(lines)

    def _item(self, node: tuple, ind: str) -> str:
        key, sep, value = node
        if key < 0:
            return self._value(value, ind)
        texts = self.texts
        name = texts[key]
        if self.kinds[key] == "STRING":
            inner = name[1:-1]
            if _PLAIN_KEY.match(inner) and inner != "include":
                name = inner
        if sep == "LBRACE":
            return name + " " + self._container(value, ind)
        return name + ": " + self._value(value, ind)

    def _value(self, i: int, ind: str) -> str:
        kind = self.kinds[i]
        if kind == "LBRACE" or kind == "LSQB":
            return self._container(i, ind)
        text = self.texts[i]
        if kind == "UNQUOTED" and _plain_string(text):
            return '"' + text + '"'
        return text
