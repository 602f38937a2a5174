"""The lossless syntax tree of a conf file: every character kept, printing back byte for byte.

It is conf.lark's parse tree itself, with what the parse leaves out woven back in, as taplo's
parser keeps it: whitespace, newlines, commas and comments (trivia tokens of kinds WS, NL,
COMMA, COMMENT), `=` of `key = value`, and the tokens error recovery skipped (each in an
`error` node). Tokens that recovery inserted (a missing `}` or value) stay, with no extent
(start == end, or no position): `leaves` leaves them out, so the leaves are exactly the text. Trivia sits between the children of the innermost node that
holds the tokens around it: a comment between two entries is a child of the list's
`elements`, one after `{` a child of the `object`.

The IR is read from this very tree (LosslessTreeToIR skips the trivia) and the fixes walk it;
the formatter walks it for files the fast reader does not take (compiler/syntax/conf/format.py).
Read-only commands keep the fast reader (reader.parse_conf), which builds the same values
without the tree; tests/compiler/syntax/conf/test_lossless.py checks that they agree.
"""

from __future__ import annotations

from typing import Iterator

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from ...frozen import record
from ...diagnostics import Diagnostic, diag
from ...ir import HError, HObject, HValue
from ...source import SourceFile
from .builder import Builder
from .lark_reader import TreeToIR, parse_tree, tokens
from .reader import check_bytes, check_depth

TRIVIA = frozenset({"WS", "NL", "COMMA", "COMMENT"})


@record
class LosslessFile:
    """A conf file read losslessly: its tree (None when nesting is too deep or recovery gave
    up), its root value and every diagnostic of the reading."""

    source: SourceFile
    tree: Tree | None
    value: HValue
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity.value == "error" for d in self.diagnostics)


def read_lossless(source: SourceFile) -> LosslessFile:
    """Parse with Lark (never the fast reader), weave the trivia in, build the IR from it."""
    diagnostics: list[Diagnostic] = []
    text = source.text
    lark_text = check_bytes(source, diagnostics)
    depth_error = check_depth(source)
    if depth_error is not None:
        diagnostics.append(depth_error)
        return LosslessFile(source, None, HError(source.span(0, len(text))), tuple(diagnostics))
    try:
        tree = parse_tree(source, lark_text, diagnostics)
    except UnexpectedInput as e:
        pos = getattr(e, "pos_in_stream", None) or 0
        if not any(d.severity.value == "error" for d in diagnostics):
            diagnostics.append(diag("HC0001", "this file cannot be read as HOCON", source.span(pos, pos + 1), "here"))
        return LosslessFile(source, None, HError(source.span(0, len(text))), tuple(diagnostics))
    weave(tree, lark_text)
    builder = Builder(source, diagnostics)
    root = LosslessTreeToIR(builder).transform(tree)
    value = HObject((), source.span(0, len(text))) if root is None else builder.freeze(root)
    if lark_text is not text:
        _restore_text(tree, text)  # after the IR, which reads what the parse read
    return LosslessFile(source, tree, value, tuple(diagnostics))


# ------------------------------------------------------------------ tokens and weaving


def _inserted(tok: Token) -> bool:
    """A token that error recovery inserted: it has no text of its own."""
    return tok.start_pos is None or tok.end_pos == tok.start_pos


def _first_pos(node: Tree) -> int | None:
    """The start of the first real token under `node` (O(depth) on the left spine, mostly)."""
    stack: list = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Token):
            if not _inserted(n):
                return n.start_pos
            continue
        stack.extend(reversed(n.children))
    return None


def weave(tree: Tree, text: str) -> None:
    """Put every token of the parsed text that the parse tree lacks into the tree, in place,
    and drop the tokens recovery inserted."""
    stream = tokens(text)
    i = 0

    def flush(upto: int | None, out: list, node: Tree) -> None:
        nonlocal i
        while i < len(stream) and (upto is None or stream[i].start_pos < upto):
            t = stream[i]
            i += 1
            if t.type in TRIVIA or (t.type == "EQUAL" and node.data == "field_equals"):
                out.append(t)
            else:
                out.append(Tree("error", [t]))  # skipped by recovery

    # Iterative: nesting up to MAX_DEPTH costs no Python stack.
    stack: list[tuple[Tree, int, list]] = [(tree, 0, [])]
    while stack:
        node, idx, out = stack[-1]
        if idx == len(node.children):
            node.children = out
            stack.pop()
            continue
        stack[-1] = (node, idx + 1, out)
        child = node.children[idx]
        if isinstance(child, Token):
            if _inserted(child):
                out.append(child)  # kept for the IR (its value is already reported); no text
                continue
            flush(child.start_pos, out, node)
            if i < len(stream) and stream[i].start_pos == child.start_pos:
                i += 1
            if child.value != text[child.start_pos : child.end_pos]:
                # The file's own text (a wrong closer fed as the right one keeps its text).
                child = Token(child.type, text[child.start_pos : child.end_pos], start_pos=child.start_pos, end_pos=child.end_pos)
            out.append(child)
            continue
        first = _first_pos(child)
        if first is not None:
            flush(first, out, node)
        out.append(child)
        stack.append((child, 0, []))
    flush(None, tree.children, tree)


def _restore_text(tree: Tree, text: str) -> None:
    """Give the leaves the file's own text where the parse read it blanked (BOM, NUL)."""
    stack: list = [tree]
    while stack:
        n = stack.pop()
        for k, c in enumerate(n.children):
            if isinstance(c, Token):
                if _inserted(c):
                    continue
                own = text[c.start_pos : c.end_pos]
                if c.value != own:
                    n.children[k] = Token(c.type, own, start_pos=c.start_pos, end_pos=c.end_pos)
            else:
                stack.append(c)


def leaves(tree: Tree) -> Iterator[Token]:
    """The tree's tokens with text, in document order (iteratively)."""
    stack: list = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, Token):
            if not _inserted(n):
                yield n
        else:
            stack.extend(reversed(n.children))


def print_tree(tree: Tree) -> str:
    """The text of a lossless tree: the file as it was, byte for byte."""
    return "".join(leaves(tree))


# ------------------------------------------------------------------ IR from the lossless tree

_SKIP = object()  # what an error node becomes: nothing the IR reads


class LosslessTreeToIR(TreeToIR):
    """TreeToIR over a woven tree: trivia and skipped tokens are not children it reads."""

    def _call_userfunc(self, tree, new_children=None):
        children = new_children if new_children is not None else tree.children
        children = [c for c in children if c is not _SKIP and not (isinstance(c, Token) and c.type in TRIVIA)]
        return super()._call_userfunc(tree, children)

    def error(self, children: list):
        return _SKIP
