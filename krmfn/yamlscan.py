"""Read the shape of a ResourceList from libyaml's event stream, without building it.

The function never re-serializes what it does not change: items travel from input to output
as the very text they came in, which keeps every comment, quote and line break, and costs a
fraction of loading them. This module finds where that text is: one pass over libyaml's
events (C speed, real YAML, no guessing at indentation) records the top-level keys of the
ResourceList, the span of every item, and of each item just what the function needs to know
(apiVersion, kind, name, namespace, annotations, and where metadata and annotations sit).

The same pass guards against hostile input: several documents, duplicate keys, nesting past
`MAX_DEPTH`, and alias expansion past `ALIAS_BUDGET` (a "billion laughs") raise `InputError`.
Aliases are YAML, so they are allowed: an item whose alias reaches outside it, or whose
apiVersion, kind or metadata come from an alias, is marked so that it is loaded in context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaml import MarkedYAMLError
from yaml._yaml import CParser
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

MAX_DEPTH = 100
ALIAS_BUDGET = 100_000
Owner = tuple[int | None, str | None]  # (item index, top-level key) where an event lies
HEADER_KEYS = ("apiVersion", "kind", "metadata", "<<")  # item keys the scan reads or merges


class InputError(Exception):
    """The input is not a ResourceList the function can read; the message is one line."""


def invalid_yaml(err: Exception) -> InputError:
    """The error for text a YAML reader (PyYAML's or ruamel.yaml's) refused, on one line."""
    return InputError(f"input is not valid YAML: {err}".replace("\n", " "))


@dataclass(slots=True)
class MapInfo:
    """Where a mapping sits: its first character, style, and first key (block style)."""

    start: int
    flow: bool
    first_key: int = -1
    first_key_column: int = 0
    end: int = 0


@dataclass(slots=True)
class Item:
    """One entry of `items`: its text span and what the function reads of it."""

    index: int
    start: int
    end: int = 0
    line: int = 0
    column: int = 0
    flow: bool = False
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    annotation_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    metadata: MapInfo | None = None
    annotations_map: MapInfo | None = None
    borrows: bool = False  # uses an alias whose anchor is outside the item
    aliased_header: bool = False  # apiVersion, kind or metadata come (partly) from an alias


@dataclass(slots=True)
class Entry:
    """A top-level key of the ResourceList: where its key starts and its value ends."""

    key_start: int
    value_start: int
    end: int = 0
    style: str = "scalar"  # "scalar", "block", or "flow"
    value: str | None = None


@dataclass
class Shape:
    """The shape of a whole ResourceList document."""

    root_flow: bool
    entries: dict[str, Entry]
    items: list[Item]
    root_end: int
    items_dash_column: int = 0
    config_borrows: bool = False  # the functionConfig uses an anchor from outside it


# Roles of the mappings and sequences the scan looks into; deeper nodes are OTHER.
ROOT, ITEMS, ITEM, META, ANNOTATIONS, OTHER = range(6)


def _line_end(text: str, index: int) -> int:
    """The index after the end of the line that `index` is on (a block node's true end)."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def scan(text: str) -> Shape:
    """Scan one ResourceList document; raise InputError when it cannot be read."""
    try:
        return _scan(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "malformed YAML"
        if "nesting" in problem:
            # libyaml 0.2.6 and later stop at a nesting depth of their own, above ours, while
            # scanning ahead: one wording for too deep, whichever reader saw it first.
            raise too_deep(mark.line if mark else None) from None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"input is not valid YAML: {problem}{where}") from None
    except RecursionError:  # pragma: no cover - the depth limit stops nesting first
        raise too_deep(None) from None


def too_deep(line: int | None) -> InputError:
    """The error for input nested past `MAX_DEPTH`; `line` counts from 0."""
    where = f" (line {line + 1})" if line is not None else ""
    return InputError(f"input is nested deeper than {MAX_DEPTH} levels{where}")


def _scan(text: str) -> Shape:  # noqa: PLR0915 - one loop over the events, kept flat for speed
    parser = CParser(text)
    get = parser.get_event
    # A frame: [is_mapping, flow, role, expecting_key, key, keys_seen, payload]
    stack: list[list[Any]] = []
    entries: dict[str, Entry] = {}
    items: list[Item] = []
    anchors: dict[str, int] = {}
    owners: dict[str, Owner] = {}  # where each anchor is: items are read one at a time
    anchored: list[tuple[str, int, int]] = []  # (anchor, depth, count at start)
    count = 0
    documents = 0
    config_borrows = False
    root_flow = False
    dash_column = 0
    last_end = 0
    root_end = len(text)
    item: Item | None = None
    while True:
        event: Any = get()
        etype = type(event)
        count += 1
        if etype is ScalarEvent and stack:
            # The common case, kept short: a scalar deep inside an item.
            top = stack[-1]
            if top[2] == OTHER:
                if top[0]:
                    if top[3]:
                        key = event.value
                        if key in top[5]:
                            raise InputError(
                                f"input has a duplicate key {key!r} at line "
                                f"{event.start_mark.line + 1}, column "
                                f"{event.start_mark.column + 1}")
                        top[5].add(key)
                        top[3] = False
                    else:
                        top[3] = True
                if event.anchor is not None:
                    anchors[event.anchor] = 1
                    owners[event.anchor] = _owner(stack, item)
                last_end = event.end_mark.index
                continue
        if etype is ScalarEvent or etype is AliasEvent or etype is MappingStartEvent \
                or etype is SequenceStartEvent:
            if etype is AliasEvent:
                size = anchors.get(event.anchor)
                if size is None:
                    raise InputError(f"input uses an unknown alias *{event.anchor} at line "
                                     f"{event.start_mark.line + 1}")
                count += size
                if count > 10 * (event.end_mark.index + 1) + ALIAS_BUDGET:
                    raise InputError("input expands YAML aliases past the limit (a "
                                     f"\"billion laughs\"?) at line {event.start_mark.line + 1}")
                at = _owner(stack, item)
                if at != owners[event.anchor]:
                    if item is not None:
                        item.borrows = True
                    elif at[1] == "functionConfig":
                        config_borrows = True
            if not stack:
                if etype is not MappingStartEvent:
                    raise InputError("input is not a ResourceList: expected a YAML mapping, "
                                     f"found a {_what(etype)}")
                root_flow = bool(event.flow_style)
                stack.append([True, root_flow, ROOT, True, None, set(), None])
                continue
            top = stack[-1]
            parent_role = top[2]
            if top[0] and top[3]:
                # A mapping key.
                top[3] = False
                if etype is ScalarEvent:
                    key = event.value
                    if key in top[5]:
                        raise InputError(
                            f"input has a duplicate key {key!r} at line "
                            f"{event.start_mark.line + 1}, column {event.start_mark.column + 1}")
                    top[5].add(key)
                    top[4] = key
                    if parent_role == ROOT:
                        entries[key] = Entry(event.start_mark.index, event.end_mark.index)
                    elif top[6] is not None and top[6].first_key < 0:
                        top[6].first_key = event.start_mark.index
                        top[6].first_key_column = event.start_mark.column
                    last_end = event.end_mark.index
                    continue
                top[4] = None
                role = OTHER
            else:
                # A value: of a mapping (under top[4]) or an entry of a sequence.
                if top[0]:
                    top[3] = True
                key = top[4] if top[0] else None
                role = OTHER
                if parent_role == ROOT:
                    entry = entries.get(key) if key is not None else None
                    if entry is not None:
                        entry.value_start = event.start_mark.index
                        if etype is ScalarEvent or etype is AliasEvent:
                            entry.value = getattr(event, "value", None)
                            entry.end = _line_end(text, event.end_mark.index)
                        else:
                            entry.style = "flow" if event.flow_style else "block"
                    if key == "items" and etype is SequenceStartEvent:
                        role = ITEMS
                elif parent_role == ITEMS:
                    if etype is not MappingStartEvent:
                        raise InputError(f"items[{len(items)}] is not a mapping (found a "
                                         f"{_what(etype)} at line {event.start_mark.line + 1})")
                    item = Item(len(items), event.start_mark.index,
                                line=event.start_mark.line, column=event.start_mark.column,
                                flow=bool(event.flow_style))
                    if not items:
                        dash_column = max(event.start_mark.column - 2, 0)
                    items.append(item)
                    role = ITEM
                elif item is not None and etype is ScalarEvent:
                    if parent_role == ITEM:
                        if key == "apiVersion":
                            item.api_version = event.value
                        elif key == "kind":
                            item.kind = event.value
                    elif parent_role == META:
                        if key == "name":
                            item.name = event.value
                        elif key == "namespace":
                            item.namespace = event.value
                    elif parent_role == ANNOTATIONS and key is not None:
                        item.annotations[key] = event.value
                        item.annotation_spans[key] = (event.start_mark.index,
                                                      event.end_mark.index)
                elif item is not None and (etype is AliasEvent or key == "<<") and (
                        parent_role in (META, ANNOTATIONS)
                        or (parent_role == ITEM and key in HEADER_KEYS)):
                    item.aliased_header = True
                elif item is not None and etype is MappingStartEvent:
                    if parent_role == ITEM and key == "metadata":
                        role = META
                        item.metadata = MapInfo(event.start_mark.index, bool(event.flow_style))
                    elif parent_role == META and key == "annotations":
                        role = ANNOTATIONS
                        item.annotations_map = MapInfo(event.start_mark.index,
                                                       bool(event.flow_style))
            if etype is ScalarEvent or etype is AliasEvent:
                last_end = event.end_mark.index
                if etype is ScalarEvent and event.anchor is not None:
                    anchors[event.anchor] = 1
                    owners[event.anchor] = _owner(stack, item)
                continue
            # The start of a mapping or a sequence.
            if len(stack) >= MAX_DEPTH:
                raise too_deep(event.start_mark.line)
            if event.anchor is not None:
                anchored.append((event.anchor, len(stack), count))
                owners[event.anchor] = _owner(stack, item)
            payload = None
            if role == META:
                payload = item.metadata if item is not None else None
            elif role == ANNOTATIONS:
                payload = item.annotations_map if item is not None else None
            stack.append([etype is MappingStartEvent, bool(event.flow_style), role, True, None,
                          set() if etype is MappingStartEvent else None, payload])
            if event.flow_style:
                last_end = event.end_mark.index
        elif etype is MappingEndEvent or etype is SequenceEndEvent:
            frame = stack.pop()
            if frame[1]:
                last_end = event.end_mark.index
            if frame[6] is not None:
                frame[6].end = last_end if frame[1] else _line_end(text, last_end)
            if anchored and anchored[-1][1] == len(stack):
                anchor, _, started = anchored.pop()
                anchors[anchor] = count - started
            role = frame[2]
            if role == ITEM and item is not None:
                item.end = _line_end(text, last_end)
                item = None
            elif stack and stack[-1][2] == ROOT and stack[-1][4] in entries:
                entries[stack[-1][4]].end = _line_end(text, last_end)
            if role == ROOT:
                root_end = _line_end(text, last_end) if not root_flow else last_end
        elif etype is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise InputError("input holds several YAML documents; expected one ResourceList")
        elif etype is DocumentEndEvent:
            continue
        elif etype is StreamEndEvent:
            break
    if documents == 0:
        raise InputError("input is empty; expected a ResourceList")
    return Shape(root_flow, entries, items, root_end, dash_column, config_borrows)


def _owner(stack: list[list[Any]], item: Item | None) -> Owner:
    """Where an event is: (item index or None, the top-level key it is under)."""
    return (item.index if item is not None else None), (stack[0][4] if stack else None)


def _what(etype: type) -> str:
    return {ScalarEvent: "scalar", SequenceStartEvent: "sequence", AliasEvent: "alias"}.get(
        etype, "mapping")
