"""Where things are in YAML text, and how they were written: for messages that point home.

A validation error names a path in the loaded data (`('metadata', 'labels', True)`), and the
value found (`False`). What users need is what they wrote: `metadata.labels.on` and `no`,
and the advice to quote it. This module composes one item's text into PyYAML's node tree
(no construction, so it works even where values cannot be built) and walks it: from a data
path to the spelling of each key and of the value, and from a line to the path there.
Only the error path pays for it.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from krmfn.loader import Lenient, Loader, LoadError, without_unreadable


def compose(text: str) -> Node | None:
    """The node tree of one YAML document, or None when it cannot be read."""
    loader = Loader(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()


def read_leniently(text: str) -> tuple[Any, list[tuple[tuple[Any, ...], str]]]:
    """One document's data with the values that cannot be built left out (`!!int abc`), and
    the path and reason of each of them."""
    loader = Lenient(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except (yaml.YAMLError, RecursionError) as err:  # pragma: no cover - scanned cleanly
        return None, [((), str(err))]
    finally:
        loader.dispose()
    return without_unreadable(data), [
        (path_at(node, err.line, err.column) if err.line is not None else (), str(err))
        for err in loader.problems]


def _value(loader: Loader, node: Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (LoadError, yaml.YAMLError, RecursionError):
        return None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def spelled(root: Node | None, loc: tuple[Any, ...]) -> tuple[list[str | None], str | None]:
    """How `loc` was written: each mapping key's text (None for sequence entries and what is
    not found), and the text of the plain scalar at `loc` (None when it is anything else).
    """
    keys: list[str | None] = []
    node = root
    loader = Loader("")
    try:
        for part in loc:
            if isinstance(node, MappingNode):
                keys_read = [(_value(loader, k), k, v) for k, v in node.value]
                found = next(((k, v) for value, k, v in keys_read if _same(value, part)), None)
                if found is None and type(part) is int:  # pydantic gives a key `true` as 1
                    found = next(((k, v) for value, k, v in keys_read
                                  if type(value) in (bool, float) and value == part), None)
                if found is None:
                    break
                keys.append(str(found[0].value) if isinstance(found[0], ScalarNode) else None)
                node = found[1]
            elif isinstance(node, SequenceNode) and type(part) is int and \
                    0 <= part < len(node.value):
                keys.append(None)
                node = node.value[part]
            else:
                break
        else:
            plain = isinstance(node, ScalarNode) and not node.style  # libyaml gives "" for plain
            return keys, str(node.value) if plain and node is not None else None
        return keys + [None] * (len(loc) - len(keys)), None
    finally:
        loader.dispose()


def path_at(root: Node | None, line: int, column: int = 0) -> tuple[Any, ...]:
    """The path of the deepest node at `line` and `column` (0-based), as far as it is known."""
    path: list[Any] = []
    node = root
    loader = Loader("")
    at = (line, column)

    def holds(first: Node, last: Node) -> bool:
        return (first.start_mark.line, first.start_mark.column) <= at < (
            last.end_mark.line, last.end_mark.column) or (first.start_mark.line == line == \
            last.end_mark.line == first.end_mark.line and column == 0)

    while node is not None:
        following: Node | None = None
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if holds(key, value):
                    path.append(_value(loader, key))
                    following = value
                    break
        elif isinstance(node, SequenceNode):
            for index, value in enumerate(node.value):
                if holds(value, value):
                    path.append(index)
                    following = value
                    break
        node = following
    loader.dispose()
    return tuple(path)
