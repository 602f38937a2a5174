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

# How deep collections may nest: as deep as HELM reads. HELM's helm-run reads its config files
# with yaml.safe_load, whose composer recurses twice per level: under Python's default recursion
# limit it reads 491 nested collections and raises a RecursionError (a traceback naming neither
# the file nor the line) at 492. tests/compiler/prodenv/test_yaml_depth_helm.py runs HELM's own
# helm-run on both sides of this bound. helmc composes without recursion (_Loader), so the bound
# is HELM's, not Python's stack: any depth is read or refused, never a RecursionError.
MAX_YAML_DEPTH = 491


class YamlTooDeep(yaml.MarkedYAMLError):
    """Collections nested more than MAX_YAML_DEPTH deep; the mark is where the limit is passed."""


_NO_KEY = object()


class _Loader(yaml.SafeLoader):
    """yaml.safe_load's own loader (libyaml's CSafeLoader disagrees with it on edge cases such
    as "'>\t'"), with PyYAML's Composer.compose_node made a loop over an explicit stack: the
    same nodes, anchors, resolver calls and errors, in the same order, at any depth; past
    MAX_YAML_DEPTH it raises YamlTooDeep. (Construction is iterative in PyYAML already.)"""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # frames: [collection node, next sequence index, mapping key composed but not its value]
        frames: list[list[Any]] = []
        while True:
            node = self._compose_one(parent, index, len(frames))
            if isinstance(node, list):  # a collection just opened: compose its items next
                frames.append(node)
                node = None
            while frames:
                top = frames[-1]
                collection = top[0]
                if node is not None:  # a finished child: attach it
                    if isinstance(collection, yaml.SequenceNode):
                        collection.value.append(node)
                        top[1] += 1
                    elif top[2] is _NO_KEY:
                        top[2] = node
                    else:
                        collection.value.append((top[2], node))
                        top[2] = _NO_KEY
                    node = None
                is_seq = isinstance(collection, yaml.SequenceNode)
                if top[2] is _NO_KEY and self.check_event(yaml.SequenceEndEvent if is_seq else yaml.MappingEndEvent):
                    collection.end_mark = self.get_event().end_mark
                    self.ascend_resolver()
                    frames.pop()
                    node = collection
                    continue
                parent, index = collection, (top[1] if is_seq else (None if top[2] is _NO_KEY else top[2]))
                break
            else:
                return node

    def _compose_one(self, parent: Any, index: Any, depth: int) -> Any:
        """A scalar or alias node, whole; or a collection's node opened, as [node, 0, _NO_KEY]
        (its items and end are the caller's). PyYAML's compose_node and compose_*_node, unrolled."""
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            if event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            return self.anchors[event.anchor]
        event = self.peek_event()
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                              self.anchors[anchor].start_mark, "second occurrence", event.start_mark)
        if self.check_event(yaml.ScalarEvent):
            self.descend_resolver(parent, index)
            node = self.compose_scalar_node(anchor)
            self.ascend_resolver()
            return node
        if depth >= MAX_YAML_DEPTH:
            raise YamlTooDeep(None, None, f"collections are nested more than {MAX_YAML_DEPTH} deep", event.start_mark)
        self.descend_resolver(parent, index)
        start = self.get_event()
        is_seq = isinstance(start, yaml.SequenceStartEvent)
        kind = yaml.SequenceNode if is_seq else yaml.MappingNode
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, start.implicit)
        node = kind(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        return [node, 0, _NO_KEY]


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
        """The plain value safe_load would give (maps keep the last of repeated keys; an alias
        is the same object again, as in safe_load, so `&a [*a]` and nested aliases stay small).
        Iterative: any depth."""
        made: dict[int, Any] = {}
        collections: list[YNode] = []
        stack: list[YNode] = [self]
        while stack:
            n = stack.pop()
            if id(n) in made:
                continue
            if n.kind == "map":
                made[id(n)] = {}
                collections.append(n)
                stack.extend(x for kv in n.value for x in kv)
            elif n.kind == "seq":
                made[id(n)] = []
                collections.append(n)
                stack.extend(n.value)
            else:
                made[id(n)] = n.value
        for n in collections:
            out = made[id(n)]
            if n.kind == "seq":
                out.extend(made[id(i)] for i in n.value)
            else:
                for k, v in n.value:
                    if _hashable(made[id(k)]):
                        out[made[id(k)]] = made[id(v)]
        return made[id(self)]


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


def _convert(source: SourceFile, root: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> YNode:
    """The YNode tree of a composed document; an alias is the same YNode again. Iterative (a
    document may nest MAX_YAML_DEPTH deep): every node is made first, collections filled after."""
    made: dict[int, YNode] = {}
    collections: list[yaml.Node] = []
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in made:  # an alias: the same node again
            continue
        span = _span(source, node)
        if isinstance(node, yaml.MappingNode):
            error = _unknown_tag(node, constructor)
            try:
                constructor.flatten_mapping(node)  # `<<: *anchor` merges, as safe_load does
            except yaml.YAMLError as e:
                error = error or _error_text(e)
            made[id(node)] = YNode("map", span, (), node.tag, error)
            collections.append(node)
            stack.extend(x for kv in reversed(node.value) for x in reversed(kv))
        elif isinstance(node, yaml.SequenceNode):
            made[id(node)] = YNode("seq", span, (), node.tag, _unknown_tag(node, constructor))
            collections.append(node)
            stack.extend(reversed(node.value))
        else:
            try:
                value = constructor.construct_object(node)
                error = None
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
                value, error = node.value, _error_text(e)
            made[id(node)] = YNode("scalar", span, value, node.tag, error)
    for node in collections:
        if isinstance(node, yaml.MappingNode):
            value: tuple = tuple((made[id(k)], made[id(v)]) for k, v in node.value)
        else:
            value = tuple(made[id(i)] for i in node.value)
        object.__setattr__(made[id(node)], "value", value)
    return made[id(root)]


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
                notes=[f"HELM's helm-run reads at most {MAX_YAML_DEPTH} levels: deeper, its yaml.safe_load fails "
                       "with a RecursionError (no file, no line); HELM's own config files nest at most 6"],
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
    return YamlDoc(source, _convert(source, node, yaml.constructor.SafeConstructor()))
