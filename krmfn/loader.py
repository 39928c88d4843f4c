"""Build plain data from YAML text, the way Kubernetes tools read it, and never crash.

PyYAML's safe loader is nearly what krmfn needs, but it constructs values that no
Kubernetes object holds and raises on some it cannot construct: timestamps become datetimes
(and `2024-02-30` a ValueError, though Go's readers keep it as the string it is), an
unknown tag (`!Ref`, used by some tools) is refused, and `=` (YAML 1.1's value key) has no
constructor. Here a timestamp stays the string it was written as, an unknown or non-JSON
tag is read by its node's kind (a string, a list or a mapping), and a value an explicit
standard tag cannot take (`!!int abc`) is a `LoadError` with its line, which callers turn
into an error result instead of a traceback.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

BREAKS = "\n\r\x85\u2028\u2029"  # the characters libyaml ends a line with
BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def line_breaks(text: str) -> int:
    """How many line breaks libyaml counts in `text`."""
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return len(BREAK.findall(text))
    return text.count("\n")


def line_start(text: str, index: int) -> int:
    """Where the line that `index` is on starts, by libyaml's line breaks; the search goes
    back over that one line only."""
    newline = text.rfind("\n", 0, index)
    other = max(text.rfind(c, newline + 1, index) for c in BREAKS[1:])
    return max(newline, other) + 1


def problem(err: yaml.YAMLError, text: str) -> tuple[str, int | None, int]:
    """What a reader's error about `text` says, on one line, and its line and column from 0."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        return (_one_line(err.problem or err.context or str(err)),
                mark.line if mark else None, mark.column if mark else 0)
    if isinstance(err, ReaderError):  # a character YAML does not allow; libyaml counts bytes
        before = text.encode("utf-8", "surrogatepass")[:err.position].decode("utf-8", "ignore")
        start = BREAK.search(before[::-1])
        column = len(before) if start is None else start.start()
        return (f"unacceptable character #x{err.character:04x}: {err.reason}",
                line_breaks(before), column)
    return _one_line(str(err)), None, 0


class LoadError(Exception):
    """YAML that scans but whose values cannot be built; `line` and `column` count from 0."""

    def __init__(self, message: str, line: int | None, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class KubeResolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types as Go's readers share them: without the base-60 numbers
    (`1:00` is 60 to PyYAML, the string "1:00" to kubectl, kustomize and kpt)."""


KubeResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in entries
            if not tag.endswith((":int", ":float"))]
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items()}
for _tag, _pattern, _first in (
    ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$",
     "-+0123456789"),
    ("float", r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
     r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
):
    KubeResolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern),
                                       list(_first))


class Loader(yaml.CSafeLoader, KubeResolver):
    """libyaml's parser with constructors for what Kubernetes YAML may hold, and Go's
    readers' implicit types."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, OverflowError) as err:
            # An explicit standard tag on a value it cannot take (`!!int abc`).
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            value = node.value if isinstance(node, ScalarNode) else f"a {type(node).__name__}"
            raise LoadError(f"{value!r} cannot be read as {tag} ({type(err).__name__})",
                            node.start_mark.line, node.start_mark.column) from None


UNREADABLE = object()  # what `Lenient` builds for a value it cannot


class Lenient(Loader):
    """A Loader that builds what it can: a value that cannot be built stands as UNREADABLE
    (`without_unreadable` takes it out) and its LoadError is kept in `problems`."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.problems: list[LoadError] = []

    def construct_document(self, node: Node) -> Any:
        return self.construct_object(node, deep=True)  # errors surface where they are

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except LoadError as err:
            self.problems.append(err)
        except yaml.constructor.ConstructorError as err:  # an unhashable or recursive key
            mark = err.problem_mark or node.start_mark
            self.problems.append(LoadError(_one_line(err.problem or str(err)), mark.line,
                                           mark.column))
        self.recursive_objects.pop(node, None)
        self.constructed_objects[node] = UNREADABLE
        return UNREADABLE


def without_unreadable(data: Any) -> Any:
    """`data` with UNREADABLE taken out: entries whose key or value it is go, list entries
    become None. Changed in place (shared and recursive parts alike)."""
    if data is UNREADABLE:
        return None
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key in [k for k, v in node.items() if k is UNREADABLE or v is UNREADABLE]:
                del node[key]
            stack.extend(node.values())
        elif isinstance(node, list):
            node[:] = [None if v is UNREADABLE else v for v in node]
            stack.extend(node)
    return data


def _generic(loader: Loader, node: Node) -> Any:
    """A node read by its kind alone, whatever its tag says."""
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node, deep=True)
    return None  # pragma: no cover - PyYAML has no other node kind


for _tag in ("timestamp", "binary", "omap", "pairs", "set", "value"):
    Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _generic)
Loader.add_constructor(None, _generic)  # any tag without a constructor of its own


def load(text: str) -> Any:
    """The data of one YAML document; raise LoadError when a value cannot be built."""
    loader = Loader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        raise LoadError(*problem(err, text)) from None
    except RecursionError:
        raise LoadError("the document is nested too deep to read", None) from None
    finally:
        loader.dispose()


def clone(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of plain data (dicts, lists, scalars), faster than copy.deepcopy for it; parts
    shared or containing themselves (`&a [*a]`) are copied once, as they are."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    if memo is None:
        memo = {}
    copy = memo.get(id(value))
    if copy is not None:
        return copy
    if kind is dict:
        copy = memo[id(value)] = {}
        for key, item in value.items():
            copy[key] = clone(item, memo)
    else:
        copy = memo[id(value)] = []
        copy.extend(clone(item, memo) for item in value)
    return copy


def _one_line(text: str) -> str:
    return " ".join(text.split())
