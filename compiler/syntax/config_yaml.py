"""Reading YAML with positions: PyYAML's compose tree, each node with the span of its marks.

HELM reads its config files with `yaml.safe_load`; helmc composes the same text with the same
library and loader (SafeLoader) and keeps every key's and value's position, so a diagnostic
points at the line and column the parser itself saw. Scalars are constructed with
SafeConstructor, as safe_load does, one at a time so that a value YAML cannot construct (an
impossible date) is a positioned diagnostic instead of the ValueError HELM stops with.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..frozen import record
from ..diagnostics import diag
from ..source import SourceFile, Span

# How deep collections may nest. PyYAML's composer recurses about twice per level, so
# yaml.safe_load itself fails with a RecursionError near 490 levels (the exact depth varies with
# the caller's stack); HELM's own config files nest at most 6 deep. One bound for every YAML
# file helmc reads, well below Python's limit, so no walk over the tree can hit it either.
MAX_YAML_DEPTH = 200


class YamlTooDeep(yaml.MarkedYAMLError):
    """Collections nested more than MAX_YAML_DEPTH deep; the mark is where the limit is passed."""


class _Loader(yaml.SafeLoader):
    """yaml.safe_load's own loader (libyaml's CSafeLoader disagrees with it on edge cases such
    as "'>\t'"), refusing to compose deeper than MAX_YAML_DEPTH instead of overflowing the stack."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_YAML_DEPTH and self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            raise YamlTooDeep(None, None, f"collections are nested more than {MAX_YAML_DEPTH} deep",
                              self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str) -> Any:
    """yaml.safe_load(text), nesting bounded: raises yaml.YAMLError (YamlTooDeep too deep)."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _unknown_tag(node: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> str | None:
    """Why safe_load refuses a collection's tag (`!!python/object/apply:os.system [...]`), as its
    own ConstructorError says; None for a tag it constructs."""
    if node.tag in constructor.yaml_constructors:
        return None
    return f"could not determine a constructor for the tag '{node.tag}'"


@record
class YNode:
    """One node: `kind` is "map", "seq" or "scalar"; `value` is the constructed scalar, the
    tuple of (key, value) pairs of a map, or the tuple of items of a sequence."""

    kind: str
    span: Span
    value: Any
    tag: str
    error: str | None = None  # why SafeConstructor could not construct this scalar

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.value is None and self.error is None

    def get(self, key: str) -> "YNode | None":
        """The value of `key` in a map; the last one when the key repeats (as safe_load keeps)."""
        found = None
        if self.kind == "map":
            for k, v in self.value:
                if k.value == key:
                    found = v
        return found

    def pairs(self) -> tuple[tuple["YNode", "YNode"], ...]:
        return self.value if self.kind == "map" else ()

    def items(self) -> tuple["YNode", ...]:
        return self.value if self.kind == "seq" else ()

    def python(self) -> Any:
        """The plain value safe_load would give (maps keep the last of repeated keys)."""
        if self.kind == "map":
            return {k.python(): v.python() for k, v in self.value if _hashable(k.python())}
        if self.kind == "seq":
            return [i.python() for i in self.value]
        return self.value


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


@record
class YamlDoc:
    source: SourceFile
    root: YNode | None  # None: an empty document (safe_load gives None) or a syntax error
    syntax_error: bool = False


def _span(source: SourceFile, node: yaml.Node) -> Span:
    start = node.start_mark.index
    end = max(start, node.end_mark.index)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        # a block collection ends where the next token starts (often the next line); end it
        # at its last item instead, so the span covers only its own text
        last = node.value[-1]
        end = (last[1] if isinstance(last, tuple) else last).end_mark.index
    return source.span(start, end)


def _convert(source: SourceFile, node: yaml.Node, constructor: yaml.constructor.SafeConstructor, seen: dict[int, YNode]) -> YNode:
    key = id(node)
    if key in seen:  # an alias: the same node again
        return seen[key]
    span = _span(source, node)
    if isinstance(node, yaml.MappingNode):
        error = _unknown_tag(node, constructor)
        try:
            constructor.flatten_mapping(node)  # `<<: *anchor` merges, as safe_load does
        except yaml.YAMLError as e:
            error = error or _error_text(e)
        out = YNode("map", span, (), node.tag, error)
        seen[key] = out
        pairs = tuple((_convert(source, k, constructor, seen), _convert(source, v, constructor, seen)) for k, v in node.value)
        object.__setattr__(out, "value", pairs)
        return out
    if isinstance(node, yaml.SequenceNode):
        out = YNode("seq", span, (), node.tag, _unknown_tag(node, constructor))
        seen[key] = out
        object.__setattr__(out, "value", tuple(_convert(source, i, constructor, seen) for i in node.value))
        return out
    try:
        value = constructor.construct_object(node)
        error = None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
        value, error = node.value, _error_text(e)
    out = YNode("scalar", span, value, node.tag, error)
    seen[key] = out
    return out


def construction_errors(root: YNode | None) -> list[YNode]:
    """Nodes safe_load could not construct, in document order (each once, aliases included)."""
    out: list[YNode] = []
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.error is not None:
            out.append(n)
        if n.kind == "map":
            stack.extend(x for kv in reversed(n.value) for x in reversed(kv))
        elif n.kind == "seq":
            stack.extend(reversed(n.value))
    return out


def _error_text(e: Exception) -> str:
    if isinstance(e, yaml.MarkedYAMLError):
        return " ".join(str(x) for x in (e.context, e.problem) if x)
    return str(e)


def read_yaml(source: SourceFile, sink) -> YamlDoc:
    """Compose the text; a syntax error is reported at the parser's own mark (HC0601)."""
    try:
        node = yaml.compose(source.text, Loader=_Loader)
    except YamlTooDeep as e:
        at = min(e.problem_mark.index, len(source.text))
        sink.add(
            diag(
                "HC0621",
                f"YAML collections are nested more than {MAX_YAML_DEPTH} deep",
                source.span(at, at + 1 if at < len(source.text) else at),
                "nested too deep",
                notes=[f"helmc reads at most {MAX_YAML_DEPTH} levels; HELM's config files need at most 6, and "
                       "HELM's yaml.safe_load fails with a RecursionError (no file, no line) near 490"],
            )
        )
        return YamlDoc(source, None, syntax_error=True)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = mark.index if mark is not None else 0
        at = min(at, len(source.text))
        end = at + 1 if at < len(source.text) and source.text[at] not in "\r\n" else at
        problem = e.problem or "invalid YAML"
        notes = []
        if e.context and e.context_mark is not None and e.problem_mark is not None:
            cl, cc = source.line_col(e.context_mark.index)
            notes.append(f"{e.context} at line {cl}, column {cc}")
        sink.add(
            diag(
                "HC0601",
                f"invalid YAML: {problem}",
                source.span(at, end),
                problem,
                notes=notes + ["HELM's yaml.safe_load stops here and helm-run exits with a traceback"],
            )
        )
        return YamlDoc(source, None, syntax_error=True)
    except yaml.YAMLError as e:  # unmarked: a reader error (control characters)
        sink.add(diag("HC0601", f"invalid YAML: {e}", source.span(0, 0), "cannot be read as YAML"))
        return YamlDoc(source, None, syntax_error=True)
    if node is None:
        return YamlDoc(source, None)
    return YamlDoc(source, _convert(source, node, yaml.constructor.SafeConstructor(), {}))
