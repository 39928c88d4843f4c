"""A ResourceList as text: read it, load single items, and write it back with edits.

`Document.read` decodes the input and scans its shape (`krmfn.yamlscan`). Items are loaded
one at a time, only those the function needs (`Document.load`). The output is the input text
with a few splices applied (`Document.write`): an item replaced, an item removed, an
annotation inserted, new items and the results appended. Whatever no splice touches comes out
byte for byte as it came in.

A document whose root or `items` is in flow style (JSON, or YAML written by hand) has no
lines to splice between; it is rewritten once into block style first (`krmfn.roundtrip`),
comments and quoting kept. An empty flow `items: []` needs no rewrite: it is replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from krmfn.comments import lost_comments
from krmfn.emitter import dump
from krmfn.finalbreak import with_final_break
from krmfn.loader import BREAKS, LoadError, clone, line_start, load
from krmfn.results import field_path
from krmfn.yamlscan import InputError, Item, Shape, scan

# Lines of the annotations orchestrators add (path, index, ids): not part of an object's
# content when an earlier output is compared with a new one.
_ORCHESTRATION_LINE = re.compile(
    r"^ *(config\.kubernetes\.io/(path|index)|internal\.config\.kubernetes\.io/[\w.-]+|"
    r"config\.k8s\.io/id|kustomize\.config\.k8s\.io/id): .*\n", re.MULTILINE)
# JSON writes a character past U+FFFF as an escaped UTF-16 pair ("\ud83d\ude00"), which YAML
# does not read; YAML's own escape for it is "\U0001f600". The backslashes before the pair must
# be an even number (else the first one is itself escaped, and this is no escape).
_SURROGATE_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})")
# A surrogate escape anywhere, for finding double-quoted scalars with the pairs made harmless.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ANCHOR = re.compile(r"(?:![^ \t\r\n]*[ \t]+)?&")  # a scalar's anchor, after any tag
_NEW_ITEMS = "\0new items\0"  # marks where the new items go among the splices
# The line of a block sequence entry's dash, in the text between two items.
_DASH_LINE = re.compile(r"^[ \t]*-(?=[ \t\r\n]|$)", re.MULTILINE)
RESOURCE_LIST_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1alpha1")
# Big enough for krmfn's own output of a 20,000-service package fed back (about 150 MB), and
# a bound on what a hostile input can make a run hold.
MAX_INPUT_BYTES = 256 * 1024 * 1024


class RefusedError(Exception):
    """A change to an item that would change or break other items; `field` is where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace text[start:end] with `text`."""

    start: int
    end: int
    text: str


_LINE_AFTER = re.compile("\n(?=[^\n])")  # a line break before a line that is not empty


def indent(text: str, column: int) -> str:
    """Block YAML written at column 0, moved so that its content starts at `column` (after
    a "- " there): every line but the first is padded, empty lines stay empty."""
    if not column:
        return text
    return _LINE_AFTER.sub("\n" + " " * column, text)


def as_item(obj: Any, column: int) -> str:
    """`obj` as a block sequence entry whose content starts at `column` (after "- ")."""
    return indent(dump(obj), column)


def _quote(value: str) -> str:
    """`value` double-quoted, as JSON and YAML both read it."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    import json  # noqa: PLC0415 - only unusual values need escaping

    return json.dumps(value, ensure_ascii=False)


class Document:
    """One ResourceList: its text, its shape, and the splices that make the output."""

    def __init__(self, text: str) -> None:
        raw = text
        ended = with_final_break(text)  # so that a splice after the last line never joins it
        if ended is None:
            raise InputError("input ends without a line break in a way that adding one would "
                             "change; add a line break at its end")
        text = ended
        self.text = text
        self.shape: Shape = scan(text)
        # The input, when it had to be rewritten: a run that changes nothing gives it back.
        self.original: str | None = raw if ended != raw else None
        self.rewritten = False  # in block style: positions are not the input's
        # Where `text` reads escaped UTF-16 pairs otherwise than the input wrote them:
        # (start, end, the input's own spelling), in order (see `parse` and `verbatim`).
        self.repairs: list[tuple[int, int, str]] = []
        self.lost_comments: list[str] = []  # comments the block-style rewrite could not keep
        self.lost_in_item: dict[int, list[str]] = {}  # by item index: what a rewrite dropped
        if self.shape.root_flow or (self._entry_style("items") == "flow" and self.items):
            from krmfn.roundtrip import to_block  # noqa: PLC0415 - rare: ruamel only then

            self.original = raw
            self.rewritten = True
            self.text, self.lost_comments = to_block(text)
            self.shape = scan(self.text)
        self._check_header()
        self._whole: Any = None
        for item in self.items:
            if item.aliased_header:
                try:
                    data = self.load(item)
                except LoadError:  # reported when loaded for its own sake
                    data = self.leniently(item)[0]
                _fill_header(item, data)

    @classmethod
    def read(cls, data: bytes) -> Document:
        """Decode and scan raw input; raise InputError with a one-line reason."""
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"input is more than {MAX_INPUT_BYTES} bytes, the limit")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(f"input is not UTF-8: byte 0x{data[err.start]:02x} at offset "
                             f"{err.start}") from None
        if "\x00" in text:
            raise InputError(f"input holds a NUL character at offset {text.index(chr(0))}")
        return cls.parse(text.removeprefix("\ufeff"))

    @classmethod
    def parse(cls, text: str) -> Document:
        """Scan decoded input; raise InputError with a one-line reason.

        Input that YAML refuses only for JSON's escaped UTF-16 pairs (`"\\ud83d\\ude00"`,
        as `json.dumps` writes characters past U+FFFF) is read with those pairs written as
        YAML's escape, inside double-quoted scalars only: elsewhere they are plain text.
        """
        try:
            return cls(text)
        except InputError:
            fixed, repairs = _repair_surrogates(text)
            if not repairs:
                raise
        doc = cls(fixed)
        doc.original = text  # a run that changes nothing gives back the input itself
        if not doc.rewritten:  # (in block style, only such a run keeps the input's text)
            doc.repairs = repairs
        return doc

    def _entry_style(self, key: str) -> str | None:
        entry = self.shape.entries.get(key)
        return entry.style if entry is not None else None

    def _check_header(self) -> None:
        entries = self.shape.entries
        kind = entries["kind"].value if "kind" in entries else None
        version = entries["apiVersion"].value if "apiVersion" in entries else None
        if kind != "ResourceList" or version not in RESOURCE_LIST_VERSIONS:
            raise InputError(f"input is not a ResourceList: expected apiVersion "
                             f"{RESOURCE_LIST_VERSIONS[0]} and kind ResourceList, found "
                             f"{version or '(none)'} and {kind or '(none)'}")
        items = entries.get("items")
        if items is not None and items.node == "mapping":
            raise InputError("items is not a list (found a mapping)")
        if items is not None and items.style == "scalar" and items.value not in ("", "~",
                                                                                "null", None):
            raise InputError(f"items is not a list (found {items.value!r})")
        for key in ("items", "results"):  # entries krmfn may drop and write anew
            entry = entries.get(key)
            if entry is not None and self.shape.used_anchors and _ANCHOR.match(
                    self.text, entry.value_start):
                raise InputError(f"{key} is a YAML anchor that other nodes may use: krmfn "
                                 f"writes {key} anew, which would leave their aliases "
                                 "dangling; give them values of their own")

    def verbatim(self, start: int, end: int | None = None) -> str:
        """`text[start:end]` as the input wrote it (its escaped UTF-16 pairs as they were)."""
        if not self.repairs:
            return self.text[start:end]
        stop = len(self.text) if end is None else end
        out, position = [], start
        for first, last, spelling in self.repairs:
            if first >= position and last <= stop:
                out.append(self.text[position:first])
                out.append(spelling)
                position = last
        out.append(self.text[position:stop])
        return "".join(out)

    @property
    def items(self) -> list[Item]:
        """The items, in input order."""
        return self.shape.items

    def load(self, item: Item) -> Any:
        """One item's data (plain dicts and lists); raise LoadError when it cannot be built.

        The scan built the data of the items it could; others are read here, in the context
        of the whole document when their aliases reach outside them.
        """
        if item.built:
            return item.data
        if item.borrows:
            return clone(self._in_context()["items"][item.index])
        return load(self.item_text(item))

    def leniently(self, item: Item | None) -> tuple[Any, list[tuple[tuple[Any, ...], str]]]:
        """An item's data (the functionConfig's when `item` is None) with the values that
        cannot be built left out, and the path in it of each of those, with why."""
        from krmfn.yamlpath import read_leniently  # noqa: PLC0415 - error path only

        if not (self.shape.config_borrows if item is None else item.borrows):
            return read_leniently(self.function_config_text() if item is None
                                  else self.item_text(item))
        within: tuple[Any, ...] = ("functionConfig",) if item is None else ("items", item.index)
        data, problems = read_leniently(self.text)
        for part in within:
            data = data[part] if isinstance(data, dict | list) else None
        return data, [(loc[len(within):] if loc[:len(within)] == within else (), why)
                      for loc, why in problems]

    def item_text(self, item: Item) -> str:
        """An item's own text, its first line indented as it stands (lines count from 0)."""
        return " " * item.column + self.text[item.start:item.end]

    def function_config_text(self) -> str:
        """The functionConfig's own text, as `function_config` reads it ("" when none)."""
        entry = self.shape.entries.get("functionConfig")
        if entry is None or entry.style == "scalar":
            return ""
        column = line_start(self.text, entry.value_start)
        pad = entry.value_start - column if entry.style == "block" else 0
        return " " * pad + self.text[entry.value_start:entry.end]

    def function_config(self) -> Any:
        """Build the functionConfig, or None when there is none; LoadError as `load`."""
        text = self.function_config_text()
        if not text:
            return None
        if self.shape.config_borrows:
            return clone(self._in_context()["functionConfig"])
        return load(text)

    def _in_context(self) -> Any:
        """The whole document loaded, once: for parts whose aliases point outside them."""
        if self._whole is None:
            self._whole = load(self.text)
        return self._whole

    def check_replace(self, item: Item, text: str) -> str:
        """`text` (column 0) to replace `item` with; Refused when others use its anchors."""
        if item.lends:
            raise RefusedError("this item defines a YAML anchor that other items use; krmfn will "
                          "not rewrite it (their aliases would break): give them values of "
                          "their own", "metadata")
        return text

    @property
    def new_item_column(self) -> int:
        """The column where the content of a new item starts (after its "- ")."""
        return self.shape.items_dash_column + 2

    def written_as(self, item: Item, text: str, placed: bool = False) -> bool:
        """True when `item`'s text is `text` (at column 0, or at the item's column when
        `placed`), orchestration lines aside.

        A cheap test for an unchanged earlier output; False only means "load and compare".
        """
        old = self.text[item.start:item.end]
        new = text if placed else indent(text, item.column)
        if old == new:
            return True
        return _ORCHESTRATION_LINE.sub("", old) == _ORCHESTRATION_LINE.sub("", new)

    def remove(self, item: Item) -> Splice:
        """The splice that takes `item` out, from the start of its "- " line (which may
        carry a comment) to its end; Refused when other items use its anchors."""
        if item.lends:
            raise RefusedError("this item defines a YAML anchor that other items use; krmfn will "
                          "not remove it (their aliases would break)", "metadata")
        if item.flow and self.shape.entries["items"].style == "flow":  # pragma: no cover
            raise AssertionError("flow-style items are rewritten in block style first")
        gap = self.text[item.before:item.start]
        dashes = list(_DASH_LINE.finditer(gap))
        start = item.before + dashes[-1].start() if dashes else item.start
        return Splice(start, item.end, "")

    def annotate(self, item: Item, data: Any, key: str, value: str) -> Splice | None:
        """The splice that sets one annotation of `item`, keeping the rest of its text.

        `data` is the item as loaded. Returns None when the annotation already has that value.
        """
        if item.annotations.get(key) == value:
            return None
        pair = f"{key}: {_quote(value)}"
        used = self.shape.used_anchors
        for where, path in ((item.annotations_map, "metadata.annotations"),
                            (item.metadata, "metadata")):
            if where is not None and where.anchor in used:
                raise RefusedError(f"{path} is a YAML anchor that other nodes use; marking this "
                              f"SimpleMLService {key} would change them too: give it "
                              f"{path.rpartition('.')[2]} of its own", path)
        if item.anchor in used:
            raise RefusedError(f"this item is a YAML anchor that other nodes use; marking it {key} "
                          "would change them too", "metadata")
        if item.aliased_header:  # the annotations may be shared with other nodes: rewrite
            return self._rewrite_with(item, key, value)
        if key in item.annotation_spans:
            start, end = item.annotation_spans[key]
            if item.lends and _ANCHOR.match(self.text, start):  # other items may alias it
                raise RefusedError(f"the value of {key} is a YAML anchor that other nodes use; "
                                   f"marking this SimpleMLService {key} would change them too: "
                                   "give them values of their own",
                                   field_path(("metadata", "annotations", key)))
            return Splice(start, end, _quote(value))
        where = item.annotations_map
        if where is not None:
            if where.flow:
                sep = ", " if where.first_key >= 0 else ""
                return Splice(where.start + 1, where.start + 1, pair + sep)
            if where.first_key_column >= 0:
                pad = " " * where.first_key_column
                return Splice(where.end, where.end, f"{pad}{pair}\n")
        meta = item.metadata
        if meta is not None and "annotations" not in (data.get("metadata") or {}):
            if meta.flow:
                sep = ", " if meta.first_key >= 0 else ""
                return Splice(meta.start + 1, meta.start + 1, f"annotations: {{{pair}}}{sep}")
            if meta.first_key >= 0 and meta.first_key_column >= 0:
                pad = " " * meta.first_key_column
                return Splice(meta.end, meta.end, f"{pad}annotations:\n{pad}  {pair}\n")
        return self._rewrite_with(item, key, value)

    def _rewrite_with(self, item: Item, key: str, value: str) -> Splice:
        """Any other shape: rewrite this one item with the annotation set."""
        if item.lends:
            raise RefusedError(f"this item defines a YAML anchor that other items use, and must be "
                          f"rewritten to mark it {key}: krmfn will not (their aliases would "
                          "break)", "metadata")
        data = clone(self.load(item))
        metadata = data.get("metadata") or {}
        data["metadata"] = metadata
        metadata["annotations"] = {**(metadata.get("annotations") or {}), key: value}
        splice = Splice(item.start, item.end, as_item(data, item.column))
        lost = lost_comments(self.text[item.start:item.end], splice.text)
        if lost:
            self.lost_in_item[item.index] = lost
        return splice

    def tail(self, position: int, new_items: list[str], results: list[dict[str, Any]],
             placed: bool = False) -> Iterator[str]:
        """The output from `position` (the end of the last item, or 0) to the end, in pieces:
        the new items (texts at column 0, or at `new_item_column` when `placed`) after the
        last item, the document's other entries, and the results (replacing any there were)
        at its end."""
        text = self.text
        entries = self.shape.entries
        splices: list[Splice] = []
        column = self.shape.items_dash_column
        head = ""  # what goes before the new items where they are inserted
        if new_items:
            if self.items:
                at = self.items[-1].end
                head = _after_newline(text, at)
            else:
                if "items" in entries:
                    splices.append(self._drop_entry("items"))
                at = self.shape.root_end
                head = _after_newline(text, at) + "items:\n"
            splices.append(Splice(at, at, _NEW_ITEMS))
        if "results" in entries and self.leading_results() is None:
            splices.append(self._drop_entry("results"))
        if results:
            end = self.shape.root_end
            splices.append(Splice(end, end, _after_newline(text, end) + dump({"results": results})))
        for splice in sorted(splices, key=lambda s: (s.start, s.end, s.text is not _NEW_ITEMS)):
            if splice.start < position:
                raise AssertionError(f"a splice at {splice.start} before {position}")
            yield self.verbatim(position, splice.start)
            if splice.text is _NEW_ITEMS:
                yield head
                pad = " " * column + "- "
                for new in new_items:
                    yield pad
                    yield new if placed else indent(new, column + 2)
            else:
                yield splice.text
            position = splice.end
        yield self.verbatim(position)

    def unindented(self, item: Item) -> str:
        """An item's text moved to column 0, as a document of its own."""
        text = self.text[item.start:item.end]
        if not item.column:
            return text
        pad = " " * item.column
        lines = text.splitlines(keepends=True)
        return lines[0] + "".join(
            line[item.column:] if line.startswith(pad) else line.lstrip(" ")
            for line in lines[1:])

    def leading_results(self) -> Splice | None:
        """The removal of a `results:` entry written before the items (the new results go at
        the end), or None."""
        entry = self.shape.entries.get("results")
        if entry is None or not self.items or entry.key_start > self.items[0].start:
            return None
        return self._drop_entry("results")

    def _drop_entry(self, key: str) -> Splice:
        entry = self.shape.entries[key]
        return Splice(entry.key_start, entry.end, "")


def _as_yaml_escape(match: re.Match[str]) -> str:
    high, low = int(match[2], 16), int(match[3], 16)
    return f"{match[1]}\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def _repair_surrogates(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """`text` with escaped UTF-16 pairs written as YAML escapes, in double-quoted scalars
    only, and where each repair is in the new text, with what it replaced.

    The scalars are found by scanning a copy in which every surrogate escape is replaced by
    a harmless one of the same length, so that positions agree; if that copy cannot be read
    either, nothing is repaired.
    """
    from yaml import YAMLError  # noqa: PLC0415 - only input JSON with emoji comes here
    from yaml._yaml import CParser  # noqa: PLC0415
    from yaml.events import ScalarEvent, StreamEndEvent  # noqa: PLC0415

    harmless = _SURROGATE.sub(lambda m: "\\u0041", text)
    spans = []
    try:
        parser = CParser(harmless)
        while not isinstance(event := parser.get_event(), StreamEndEvent):
            if isinstance(event, ScalarEvent) and event.style == '"':
                first, last = event.start_mark, event.end_mark
                assert first is not None and last is not None
                spans.append((first.index, last.index))
    except YAMLError:
        return text, []
    out: list[str] = []
    repairs: list[tuple[int, int, str]] = []
    position = length = 0
    for start, end in spans:
        for match in _SURROGATE_PAIR.finditer(text, start, end):
            before = text[position:match.start()]
            escape = _as_yaml_escape(match)
            out += (before, escape)
            length += len(before)
            repairs.append((length, length + len(escape), match[0]))
            length += len(escape)
            position = match.end()
    out.append(text[position:])
    return "".join(out), repairs


def header(data: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """An object's apiVersion, kind, name and namespace; each None where it is not a string."""
    data = data if isinstance(data, dict) else {}
    meta = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    return (_text(data.get("apiVersion")), _text(data.get("kind")), _text(meta.get("name")),
            _text(meta.get("namespace")))


def _fill_header(item: Item, data: Any) -> None:
    """Read an item's apiVersion, kind, name, namespace and annotations from its data."""
    if not isinstance(data, dict):
        return
    item.api_version, item.kind, item.name, item.namespace = header(data)
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    item.annotations = {k: v for k, v in annotations.items()
                        if isinstance(k, str) and isinstance(v, str)
                        } if isinstance(annotations, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _after_newline(text: str, index: int) -> str:
    return "" if index == 0 or text[index - 1] in BREAKS else "\n"
