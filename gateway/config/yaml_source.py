"""YAML to plain data, remembering the line of every key so errors can point at it.

PyYAML's loaders forget positions once objects are built, so this composes the
node tree (which keeps marks) and builds the data itself. Duplicate keys are
reported instead of silently keeping the last one: in a gateway config the
first of two ``key_env`` entries vanishing without a word is exactly the kind
of mistake that disables a check.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path_ = tuple[Hashable, ...]

#: Alias expansion can turn a few lines into millions of nodes (billion laughs);
#: no real config comes near this.
MAX_NODES = 200_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlProblem:
    path: Path_
    line: int
    message: str


@dataclass
class YamlDocument:
    """The built data, the 1-based line of each path (a key, or a list item), and YAML-level problems."""

    data: object
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)
    parsed: bool = True  # False after a syntax error: there is no data to validate


class _TooLarge(Exception):
    pass


#: A key that could not be read (already reported); ``None`` is a legitimate YAML key.
_SKIP = object()


class LineLoader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]  # untyped without types-PyYAML
    """A SafeLoader whose nodes :class:`_Builder` turns into data, so no unsafe tag is ever constructed."""


def parse_yaml(text: str) -> YamlDocument:
    loader = LineLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return YamlDocument(None, problems=[_syntax_problem(exc)], parsed=False)
    except yaml.YAMLError as exc:
        return YamlDocument(None, problems=[YamlProblem((), 1, f"YAML syntax error: {exc}")], parsed=False)
    try:
        return _Builder(loader).document(node)
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    context = exc.context or ""
    if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
        context += f" (line {exc.context_mark.line + 1})"
    what = ": ".join(part for part in (context, exc.problem) if part)
    return YamlProblem((), line, f"YAML syntax error: {what}")


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    def __init__(self, loader: LineLoader) -> None:
        self.loader = loader
        self.doc = YamlDocument(None)
        self.count = 0
        self.open: set[int] = set()  # collections being built, to catch recursive aliases
        self.merged: dict[int, int] = {}  # mapping node id -> how many leading pairs came from `<<`

    def document(self, node: Node | None) -> YamlDocument:
        if node is None:
            self.doc.lines[()] = 1
            return self.doc
        self.doc.lines[()] = _line(node)
        try:
            self.doc.data = self.build(node, ())
        except _TooLarge:
            self.doc.data = None
            self.problem((), _line(node), f"the document expands to more than {MAX_NODES} values (alias bomb?)")
        return self.doc

    def problem(self, path: Path_, line: int, message: str) -> None:
        self.doc.problems.append(YamlProblem(path, line, message))

    def build(self, node: Node, path: Path_) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            self.problem(path, _line(node), "an alias refers to a collection that contains it")
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            return None  # the composer yields only the three node kinds
        finally:
            self.open.discard(id(node))

    def scalar(self, node: ScalarNode, path: Path_) -> object:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problem(path, _line(node), f"cannot read this value: {getattr(exc, 'problem', exc)}")
            return None

    def sequence(self, node: SequenceNode, path: Path_) -> list[object]:
        items: list[object] = []
        for index, child in enumerate(node.value):
            self.doc.lines[(*path, index)] = _line(child)
            items.append(self.build(child, (*path, index)))
        return items

    def mapping(self, node: MappingNode, path: Path_) -> dict[Hashable, object]:
        merged = self.flatten(node, path)
        result: dict[Hashable, object] = {}
        explicit_lines: dict[Hashable, int] = {}
        for position, (key_node, value_node) in enumerate(node.value):
            key = self.key(key_node, path)
            if key is _SKIP:
                continue
            line = _line(key_node)
            if position >= merged:
                self.check_duplicate(key, (*path, key), line, explicit_lines)
            self.doc.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def flatten(self, node: MappingNode, path: Path_) -> int:
        """Apply ``<<`` merge keys once per node; keys merged in may be overridden without a duplicate error."""
        if id(node) not in self.merged:
            explicit = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
            try:
                self.loader.flatten_mapping(node)
            except yaml.YAMLError as exc:
                self.problem(path, _line(node), f"bad merge key: {getattr(exc, 'problem', exc)}")
                node.value = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
            self.merged[id(node)] = len(node.value) - explicit
        return self.merged[id(node)]

    def check_duplicate(self, key: Hashable, path: Path_, line: int, seen: dict[Hashable, int]) -> None:
        if key in seen:
            self.problem(path, line, f"duplicate key (first given on line {seen[key]}); keys must be unique")
        else:
            seen[key] = line

    def key(self, node: Node, path: Path_) -> Hashable:
        if not isinstance(node, ScalarNode):
            self.problem(path, _line(node), "a key must be a plain value, not a list or mapping")
            return _SKIP
        value = self.scalar(node, path)
        return value if isinstance(value, Hashable) else _SKIP
