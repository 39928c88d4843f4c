"""Read the shape of a ResourceList from libyaml's event stream, in one pass.

The function never re-serializes what it does not change: items travel from input to output
as the very text they came in, which keeps every comment, quote and line break, and costs a
fraction of loading them. This module finds where that text is: one pass over libyaml's
events (C speed, real YAML, no guessing at indentation) records the top-level keys of the
ResourceList, the span of every item, and of each item just what the function needs to know
(apiVersion, kind, name, namespace, annotations, and where metadata and annotations sit).
The same pass builds the data of the items the function will compile (SimpleMLServices and
near misses: see `krmfn.kinds`), so those are parsed once; an item that uses anchors,
aliases, merge keys or tags is left for `krmfn.loader` to read in full.

The pass also guards against hostile input: several documents, duplicate keys, nesting past
`MAX_DEPTH`, and alias expansion past `ALIAS_BUDGET` (a "billion laughs") raise `InputError`.
Aliases are YAML, so they are allowed: an item whose alias reaches outside it, or whose
apiVersion, kind or metadata come from an alias, is marked so that it is loaded in context,
and an item whose anchors other items use is marked so that it is never rewritten whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from yaml import YAMLError
from yaml._yaml import CParser
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from krmfn.kinds import is_candidate
from krmfn.loader import BREAK, BREAKS, KubeResolver, line_start, problem

MAX_DEPTH = 100
ALIAS_BUDGET = 100_000
HEADER_KEYS = ("apiVersion", "kind", "metadata", "<<")  # item keys the scan reads or merges
# The annotations the function reads of an item (of any kind), and the kinds it may have
# generated, of which it keeps all (a rewrite carries the orchestrator's over).
KEPT = frozenset({"config.kubernetes.io/path", "config.kubernetes.io/index",
                  "internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index",
                  "internal.config.kubernetes.io/package-path",
                  "config.kubernetes.io/local-config", "krmfn.dev/generated-from"})
KEEP_ALL = frozenset({"Deployment", "Service", "ConfigMap"})
# Annotations whose value the function may rewrite in place: the scan keeps where they are.
SPANNED = frozenset({"config.kubernetes.io/local-config"})
PLAIN_CACHE = 8192  # plain scalars remembered at once (the common ones recur; names do not)


class InputError(Exception):
    """The input is not a ResourceList the function can read; the message is one line."""


def invalid_yaml(err: Exception) -> InputError:
    """The error for text a YAML reader (PyYAML's or ruamel.yaml's) refused, on one line."""
    return InputError(" ".join(f"input is not valid YAML: {err}".split()))


def too_deep(line: int | None) -> InputError:
    """The error for input nested past `MAX_DEPTH`; `line` counts from 0."""
    where = f" (line {line + 1})" if line is not None else ""
    return InputError(f"input is nested deeper than {MAX_DEPTH} levels{where}")


@dataclass(slots=True)
class MapInfo:
    """Where a mapping sits: its first character, style, first key, and its anchor if any."""

    start: int
    flow: bool
    first_key: int = -1
    first_key_column: int = 0
    end: int = 0
    anchor: int = -1  # the anchor's definition number, or -1


@dataclass(slots=True)
class Item:
    """One entry of `items`: its text span and what the function reads of it."""

    index: int
    start: int
    end: int = 0
    line: int = 0
    column: int = 0
    flow: bool = False
    before: int = 0  # where the text between the previous entry and this one starts
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    annotation_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    metadata: MapInfo | None = None
    annotations_map: MapInfo | None = None
    borrows: bool = False  # uses an alias whose anchor is outside the item
    lends: bool = False  # defines an anchor that something outside the item uses
    aliased_header: bool = False  # apiVersion, kind or metadata come (partly) from an alias
    anchor: int = -1  # the anchor on the item's own mapping, or -1
    data: Any = None  # the item's data, when the scan built it
    built: bool = False


@dataclass(slots=True)
class Entry:
    """A top-level key of the ResourceList: where its key starts and its value ends."""

    key_start: int
    value_start: int
    end: int = 0
    style: str = "scalar"  # "scalar", "block", or "flow"
    node: str = "scalar"  # "scalar", "mapping" or "sequence"
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
    used_anchors: set[int] = field(default_factory=set)  # definitions some alias refers to


# Roles of the mappings and sequences the scan looks into; deeper nodes are OTHER.
ROOT, ITEMS, ITEM, META, ANNOTATIONS, OTHER = range(6)
# The slots of a frame (one per open mapping or sequence), a list for speed.
IS_MAP, FLOW, ROLE, WANT_KEY, KEY, SEEN, INFO, NODE, BUILT_KEY = range(9)
_STR = "tag:yaml.org,2002:str"


class _Values:
    """Plain scalars as PyYAML's safe loader reads them (timestamps kept as strings), cached."""

    def __init__(self) -> None:
        self._resolve: Any = KubeResolver().resolve
        self._construct = SafeConstructor()
        self.cache: dict[str, Any] = {}
        self.ids: dict[str, Any] = {}  # plain keys' identities, as `key_id` gives them

    def plain(self, text: str) -> Any:
        """The value of a plain scalar; raise _UnbuildableError for a merge key `<<`."""
        try:
            return self.cache[text]
        except KeyError:
            pass
        if len(self.cache) >= PLAIN_CACHE:
            self.cache.clear()
        tag = self._resolve(ScalarNode, text, (True, False))
        value: Any = text
        if tag.endswith((":null", ":bool", ":int", ":float")):
            value = SafeConstructor.yaml_constructors[tag](self._construct, ScalarNode(tag, text))
        elif tag.endswith(":merge"):
            raise _UnbuildableError
        self.cache[text] = value
        return value


    def key_id(self, event: Any) -> Any:
        """What makes a mapping key the same as another: the value the loader builds for it.

        `on` and `'on'` are two keys (true and "on"), `~` and `null` one. Only strings stand
        for themselves; other values go with their type, which keeps 1, 1.0 and true apart.
        """
        raw, tag = event.value, event.tag
        if event.implicit[0]:  # plain and untagged, or tagged `!`: resolved as plain
            if raw[:1] not in _RESOLVABLE:
                return raw
            found = self.ids.get(raw)
            if found is None:
                try:
                    value = self.plain(raw)
                except _UnbuildableError:
                    value = _MERGE
                found = value if type(value) is str else (type(value), value)
                if len(self.ids) >= PLAIN_CACHE:
                    self.ids.clear()
                self.ids[raw] = found
            return found
        if tag is None or tag == _STR:
            return raw
        if tag.startswith(_STANDARD) and tag.endswith((":null", ":bool", ":int", ":float")):
            try:
                value = SafeConstructor.yaml_constructors[tag](self._construct,
                                                               ScalarNode(tag, raw))
            except (ValueError, TypeError, KeyError, OverflowError):  # `!!int abc`
                return (tag, raw)
            return (type(value), value)
        return (tag, raw)


_MERGE = ("<<",)  # the identity of a merge key
_BLOCK_TAIL = " \t\r\n\x85\u2028\u2029"


def _value_span(text: str, event: Any) -> tuple[int, int]:
    """Where a scalar's text starts and ends; a block scalar's (`|`, `>`) ends with its last
    character, before the line break that libyaml counts in it."""
    start, end = event.start_mark.index, event.end_mark.index
    if event.style in ("|", ">"):
        end = start + len(text[start:end].rstrip(_BLOCK_TAIL))
    return start, end
# The first characters of plain scalars that may resolve to something else than a string.
_RESOLVABLE = frozenset(KubeResolver.yaml_implicit_resolvers)
_STANDARD = "tag:yaml.org,2002:"


class _UnbuildableError(Exception):
    """An item the scan leaves for the full loader (anchors, aliases, tags, merge keys)."""


def _line_end(text: str, index: int) -> int:
    """The index after the end of the line that `index` is on (a block node's true end),
    for text whose line breaks are LF or CRLF."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _any_line_end(text: str, index: int) -> int:
    """`_line_end` for text with any of YAML 1.1's line breaks (CR, NEL, LS, PS too)."""
    if index > 0 and text[index - 1] in BREAKS and not (
            text[index - 1] == "\r" and text.startswith("\n", index)):
        return index
    found = BREAK.search(text, index)
    return len(text) if found is None else found.end()


_ODD_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _key_column(text: str, event: Any) -> int:
    """The column of a block mapping's first key; -1 when something comes before it on
    its line (`? name`, an explicit key), which leaves no column to write keys at."""
    start = event.start_mark.index
    line = line_start(text, start)
    return event.start_mark.column if text[line:start].strip(" ") == "" else -1


def _map_info(text: str, event: Any) -> MapInfo:
    """Where a mapping starts: at its `{` in flow style, past any anchor, tag and comment."""
    start = event.start_mark.index
    if not event.flow_style:
        return MapInfo(start, False)
    blank = False
    while text[start] != "{":
        if blank and text[start] == "#":  # a comment between the properties and the `{`
            start = BREAK.search(text, start).start()  # type: ignore[union-attr]
        blank = text[start] in " \t" + BREAKS
        start += 1
    return MapInfo(start, True)


def scan(text: str) -> Shape:
    """Scan one ResourceList document; raise InputError when it cannot be read."""
    try:
        return _Scan(text).run()
    except YAMLError as err:
        what, line, column = problem(err, text)
        if "nesting" in what:
            # libyaml 0.2.6 and later stop at a nesting depth of their own, above ours, while
            # scanning ahead: one wording for too deep, whichever reader saw it first.
            raise too_deep(line) from None
        where = f" at line {line + 1}, column {column + 1}" if line is not None else ""
        raise InputError(f"input is not valid YAML: {what}{where}") from None
    except RecursionError:  # pragma: no cover - the depth limit stops nesting first
        raise too_deep(None) from None


class _Scan:
    """The state of one scan; `run` is the loop."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: dict[str, Entry] = {}
        self.items: list[Item] = []
        self.anchors: dict[str, tuple[int, int]] = {}  # name -> (definition, expansion size)
        self.owners: dict[int, tuple[int | None, str | None]] = {}  # definition -> where
        self.used: set[int] = set()
        self.config_borrows = False
        self.values = _Values()

    def run(self) -> Shape:  # noqa: PLR0915 - one loop over the events, kept flat for speed
        text = self.text
        get = CParser(text).get_event
        line_end = _any_line_end if _ODD_BREAK.search(text) else _line_end
        stack: list[list[Any]] = []
        entries, items = self.entries, self.items
        anchored: list[tuple[str, int, int, int]] = []  # (name, definition, depth, count)
        count = documents = 0
        root_flow = False
        dash_column = 0
        root_end = len(text)
        previous_end = 0  # where the last item (or the items sequence) ended or began
        values = self.values
        plain = values.cache  # plain scalars already read (itself marks "not seen")
        known_id = values.ids.get
        resolvable = _RESOLVABLE
        names: dict[str, str] = {}
        item: Item | None = None
        last: Any = None  # the last scalar, alias or flow end seen: where content ends
        while True:
            event: Any = get()
            etype = type(event)
            count += 1
            if etype is ScalarEvent and stack:
                top = stack[-1]
                if top[ROLE] == OTHER:
                    node = top[NODE]
                    if node is None:
                        # The common case, kept short: a scalar deep inside an item not built.
                        if top[IS_MAP]:
                            if top[WANT_KEY]:
                                key = event.value
                                if event.implicit[0] and key[:1] not in resolvable:
                                    pass  # a plain string for sure: its own identity
                                elif event.tag is not None or event.implicit[0]:
                                    key = known_id(key) or values.key_id(event)
                                seen = top[SEEN]
                                if key in seen:
                                    raise self._duplicate(event.value, event)
                                seen.add(key)
                                top[WANT_KEY] = False
                            else:
                                top[WANT_KEY] = True
                        if event.anchor is not None:
                            self._define(event.anchor, 1, item, stack)
                            if item is not None:
                                self._unbuild(item, stack)
                        last = event
                        continue
                    if event.anchor is None and event.tag is None:
                        # A scalar of an item being built, without anchor or tag.
                        raw = event.value
                        if event.implicit[0]:
                            value = plain.get(raw, plain)
                            if value is plain:
                                try:
                                    value = values.plain(raw)
                                except _UnbuildableError:  # a merge key `<<`
                                    value = None
                                    if item is not None:
                                        self._unbuild(item, stack)
                        else:
                            value = raw
                        if top[IS_MAP]:
                            if top[WANT_KEY]:
                                key = raw
                                if event.implicit[0] and raw[:1] not in resolvable:
                                    pass  # a plain string for sure: its own identity
                                elif event.implicit[0]:
                                    key = known_id(raw) or values.key_id(event)
                                seen = top[SEEN]
                                if key in seen:
                                    raise self._duplicate(raw, event)
                                seen.add(key)
                                top[WANT_KEY] = False
                                top[BUILT_KEY] = value
                            else:
                                top[WANT_KEY] = True
                                if top[NODE] is not None:
                                    node[top[BUILT_KEY]] = value
                        elif top[NODE] is not None:
                            node.append(value)
                        last = event
                        continue
            elif (etype is MappingStartEvent or etype is SequenceStartEvent) and stack:
                top = stack[-1]
                if top[ROLE] == OTHER and top[NODE] is None and event.anchor is None and not (
                        top[IS_MAP] and top[WANT_KEY]):
                    # A collection deep inside an item not built, as a value or an entry.
                    if top[IS_MAP]:
                        top[WANT_KEY] = True
                    if len(stack) >= MAX_DEPTH:
                        raise too_deep(event.start_mark.line)
                    flow = bool(event.flow_style)
                    if etype is MappingStartEvent:
                        stack.append([True, flow, OTHER, True, None, set(), None, None, None])
                    else:
                        stack.append([False, flow, OTHER, True, None, None, None, None, None])
                    if flow:
                        last = event
                    continue
            elif etype is MappingEndEvent or etype is SequenceEndEvent:
                frame = stack[-1]
                if frame[ROLE] == OTHER and len(stack) > 2 and (
                        not anchored or anchored[-1][2] != len(stack) - 1):
                    # The end of a collection deep inside an item (or the functionConfig),
                    # not a top-level entry's, not an anchor's.
                    stack.pop()
                    if frame[FLOW]:
                        last = event
                    continue
            if etype is ScalarEvent or etype is AliasEvent or etype is MappingStartEvent \
                    or etype is SequenceStartEvent:
                if etype is AliasEvent:
                    count = self._alias(event, count, item, stack)
                if not stack:
                    if etype is not MappingStartEvent:
                        raise InputError("input is not a ResourceList: expected a YAML mapping, "
                                         f"found a {_what(etype)}")
                    root_flow = bool(event.flow_style)
                    stack.append([True, root_flow, ROOT, True, None, set(), None, None, None])
                    continue
                top = stack[-1]
                parent_role = top[ROLE]
                role = OTHER
                if top[IS_MAP] and top[WANT_KEY]:
                    # A mapping key.
                    top[WANT_KEY] = False
                    if etype is ScalarEvent:
                        key = event.value
                        identity = values.key_id(event)
                        if identity in top[SEEN]:
                            raise self._duplicate(key, event)
                        top[SEEN].add(identity)
                        top[KEY] = key
                        if parent_role == ROOT:
                            entries[key] = Entry(event.start_mark.index, event.end_mark.index)
                        elif top[INFO] is not None and top[INFO].first_key < 0:
                            top[INFO].first_key = event.start_mark.index
                            top[INFO].first_key_column = _key_column(text, event)
                        if top[NODE] is not None:
                            top[BUILT_KEY] = self._key(event, item, stack)
                        if event.anchor is not None:
                            self._define(event.anchor, 1, item, stack)
                            if item is not None:
                                self._unbuild(item, stack)
                        if item is not None and key == "<<" and parent_role in (
                                ITEM, META, ANNOTATIONS):
                            item.aliased_header = True
                        last = event
                        continue
                    # A key that is an alias or a collection: nothing the scan reads.
                    top[KEY] = None
                    if item is not None:
                        self._unbuild(item, stack)
                else:
                    # A value: of a mapping (under its key) or an entry of a sequence.
                    if top[IS_MAP]:
                        top[WANT_KEY] = True
                    key = top[KEY] if top[IS_MAP] else None
                    if parent_role == ROOT:
                        entry = entries.get(key) if key is not None else None
                        if entry is not None:
                            entry.value_start = event.start_mark.index
                            if etype is ScalarEvent or etype is AliasEvent:
                                entry.value = getattr(event, "value", None)
                                entry.end = line_end(text, event.end_mark.index)
                            else:
                                entry.style = "flow" if event.flow_style else "block"
                                entry.node = "mapping" if etype is MappingStartEvent \
                                    else "sequence"
                        if key == "items" and etype is SequenceStartEvent:
                            role = ITEMS
                            previous_end = event.start_mark.index
                    elif parent_role == ITEMS:
                        if etype is not MappingStartEvent:
                            raise InputError(f"items[{len(items)}] is not a mapping (found a "
                                             f"{_what(etype)} at line {event.start_mark.line + 1})")
                        item = Item(len(items), event.start_mark.index,
                                    line=event.start_mark.line, column=event.start_mark.column,
                                    flow=bool(event.flow_style), before=previous_end)
                        if not items:
                            dash_column = max(event.start_mark.column - 2, 0)
                        items.append(item)
                        role = ITEM
                        item.data = {}
                        item.built = True
                    elif item is not None and etype is ScalarEvent:
                        if parent_role == ITEM:
                            if key == "apiVersion":
                                item.api_version = event.value
                            elif key == "kind":
                                item.kind = event.value
                                if item.built and not is_candidate(item.api_version, event.value):
                                    self._unbuild(item, stack)
                        elif parent_role == META:
                            if key == "name":
                                item.name = event.value
                            elif key == "namespace":
                                item.namespace = event.value
                        elif parent_role == ANNOTATIONS and key is not None and (
                                key in KEPT or item.kind in KEEP_ALL or item.kind is None):
                            key = names.setdefault(key, key)  # kpt's, on every item: one copy
                            item.annotations[key] = event.value
                            if key in SPANNED:
                                item.annotation_spans[key] = _value_span(text, event)
                    elif item is not None and etype is AliasEvent and (
                            parent_role in (META, ANNOTATIONS)
                            or (parent_role == ITEM and key in HEADER_KEYS)):
                        item.aliased_header = True
                    elif item is not None and etype is MappingStartEvent:
                        if parent_role == ITEM and key == "metadata":
                            role = META
                            item.metadata = _map_info(text, event)
                        elif parent_role == META and key == "annotations":
                            role = ANNOTATIONS
                            item.annotations_map = _map_info(text, event)
                if etype is ScalarEvent or etype is AliasEvent:
                    last = event
                    if etype is ScalarEvent:
                        if event.anchor is not None:
                            self._define(event.anchor, 1, item, stack)
                            if item is not None:
                                self._unbuild(item, stack)
                        node = top[NODE]
                        if node is not None:
                            self._add(top, self._scalar(event, item, stack))
                    elif item is not None:
                        self._unbuild(item, stack)
                    continue
                # The start of a mapping or a sequence.
                if len(stack) >= MAX_DEPTH:
                    raise too_deep(event.start_mark.line)
                definition = -1
                if event.anchor is not None:
                    definition = self._define(event.anchor, 0, item, stack)
                    anchored.append((event.anchor, definition, len(stack), count))
                payload = None
                if role == META and item is not None:
                    payload = item.metadata
                elif role == ANNOTATIONS and item is not None:
                    payload = item.annotations_map
                if payload is not None:
                    payload.anchor = definition
                elif role == ITEM and item is not None:
                    item.anchor = definition
                is_map = etype is MappingStartEvent
                child: Any = None
                if role == ITEM:
                    child = item.data if item is not None else None
                elif top[NODE] is not None:
                    if (event.tag is not None and event.tag != "!") or definition >= 0:
                        if item is not None:
                            self._unbuild(item, stack)
                    else:
                        child = {} if is_map else []
                        self._add(top, child)
                stack.append([is_map, bool(event.flow_style), role, True, None,
                              set() if is_map else None, payload, child, None])
                if event.flow_style:
                    last = event
            elif etype is MappingEndEvent or etype is SequenceEndEvent:
                frame = stack.pop()
                if frame[FLOW]:
                    last = event
                end = last.end_mark.index if last is not None else event.start_mark.index
                if frame[INFO] is not None:
                    frame[INFO].end = end if frame[FLOW] else line_end(text, end)
                if anchored and anchored[-1][2] == len(stack):
                    name, definition, _, started = anchored.pop()
                    if self.anchors.get(name, (None,))[0] == definition:
                        self.anchors[name] = (definition, count - started)
                role = frame[ROLE]
                if role == ITEM and item is not None:
                    item.end = line_end(text, end)
                    previous_end = item.end
                    if not item.built:
                        item.data = None
                    item = None
                elif stack and stack[-1][ROLE] == ROOT and stack[-1][KEY] in entries:
                    entries[stack[-1][KEY]].end = line_end(text, end)
                if role == ROOT:
                    root_end = line_end(text, end) if not root_flow else end
            elif etype is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise InputError("input holds several YAML documents; expected one "
                                     "ResourceList")
            elif etype is StreamEndEvent:
                break
        if documents == 0:
            raise InputError("input is empty; expected a ResourceList")
        for one in items:
            if one.built and not is_candidate(one.api_version, one.kind):
                one.data, one.built = None, False
        return Shape(root_flow, entries, items, root_end, dash_column, self.config_borrows,
                     self.used)

    def _define(self, name: str, size: int, item: Item | None, stack: list[list[Any]]) -> int:
        """Record an anchor's definition; give its number."""
        definition = len(self.owners)
        self.anchors[name] = (definition, size)
        self.owners[definition] = _owner(stack, item)
        return definition

    def _alias(self, event: Any, count: int, item: Item | None, stack: list[list[Any]]) -> int:
        """Account for an alias: its expansion against the budget, and who it borrows from."""
        found = self.anchors.get(event.anchor)
        if found is None:
            raise InputError(f"input uses an unknown alias *{event.anchor} at line "
                             f"{event.start_mark.line + 1}")
        definition, size = found
        count += size
        if count > 10 * (event.end_mark.index + 1) + ALIAS_BUDGET:
            raise InputError("input expands YAML aliases past the limit (a \"billion "
                             f"laughs\"?) at line {event.start_mark.line + 1}")
        self.used.add(definition)
        at = _owner(stack, item)
        origin = self.owners[definition]
        if at != origin:
            if item is not None:
                item.borrows = True
            elif at[1] == "functionConfig":
                self.config_borrows = True
            if origin[0] is not None:
                self.items[origin[0]].lends = True
        return count

    def _unbuild(self, item: Item, stack: list[list[Any]]) -> None:
        """Stop building `item`: it is left for the full loader, or not needed."""
        if item.built:
            item.built = False
            item.data = None
            for frame in stack:
                if frame[ROLE] != ROOT and frame[ROLE] != ITEMS:
                    frame[NODE] = None

    def _scalar(self, event: Any, item: Item | None, stack: list[list[Any]]) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if event.implicit[0]:  # `! 1` is read as plain `1` is
                try:
                    return self.values.plain(event.value)
                except _UnbuildableError:
                    pass
            else:
                return event.value
        elif tag == _STR:
            return event.value
        if item is not None:
            self._unbuild(item, stack)
        return None

    def _key(self, event: Any, item: Item | None, stack: list[list[Any]]) -> Any:
        if event.value == "<<" and event.tag is None and event.implicit[0]:
            if item is not None:
                self._unbuild(item, stack)
            return None
        return self._scalar(event, item, stack)

    @staticmethod
    def _add(frame: list[Any], value: Any) -> None:
        """Put a built value into the frame's container, under the pending key for a map."""
        node = frame[NODE]
        if node is None:
            return
        if frame[IS_MAP]:
            node[frame[BUILT_KEY]] = value
        else:
            node.append(value)

    @staticmethod
    def _duplicate(key: str, event: Any) -> InputError:
        return InputError(f"input has a duplicate key {key!r} at line "
                          f"{event.start_mark.line + 1}, column {event.start_mark.column + 1}")


def _owner(stack: list[list[Any]], item: Item | None) -> tuple[int | None, str | None]:
    """Where an event is: (item index or None, the top-level key it is under)."""
    return (item.index if item is not None else None), (stack[0][KEY] if stack else None)


def _what(etype: type) -> str:
    return {ScalarEvent: "scalar", SequenceStartEvent: "sequence", AliasEvent: "alias"}.get(
        etype, "mapping")
