"""Giving a YAML text the line feed it ends without, while keeping what it says.

A splice after the last line, or a document joined to the next, needs that line feed; added
plainly it would change a block scalar that ends the text (`key: |` clips to the one line
break there is, `|+` keeps all of them). Such a scalar's header is then made to strip (`|-`),
or a final NEL becomes the line feed (libyaml reads NEL as one in block scalars), whichever
libyaml reads as the same nodes and values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

from yaml import YAMLError
from yaml._yaml import CParser

_BLOCK_HEADER = re.compile(r"(?:[!&]\S*\s+)*([|>])([1-9]?)([+-]?)([1-9]?)")


def with_final_break(text: str) -> str | None:
    """`text` ending with a line feed, every value kept; None when no such text is found
    (a keep-chomping block scalar ending on LS or PS)."""
    if not text or text.endswith("\n"):
        return text
    if text.endswith("\r") or ("|" not in text and ">" not in text):
        return text + "\n"
    candidates = [text + "\n"]
    if text.endswith("\x85"):
        candidates.append(text[:-1] + "\n")
    header = _last_block_scalar(text)
    match = _BLOCK_HEADER.match(text, header) if header is not None else None
    if match is not None:
        digit = match[2] or match[4]
        candidates.append(f"{text[:match.start(1)]}{match[1]}{digit}-{text[match.end():]}\n")
    for candidate in candidates:
        if _same(text, candidate):
            return candidate
    return None


def _events(text: str) -> Iterator[tuple[Any, ...]]:
    """What libyaml reads in `text`, event by event; nothing more when it cannot read on."""
    parser = CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield (type(event), getattr(event, "value", None), getattr(event, "anchor", None),
                   getattr(event, "tag", None))
            if event.__class__.__name__ == "StreamEndEvent":
                return
    except YAMLError:
        yield ("error",)


def _same(text: str, other: str) -> bool:
    """True when libyaml reads the same nodes and scalars in both texts."""
    return all(a == b for a, b in zip_longest(_events(text), _events(other)))


def _last_block_scalar(text: str) -> int | None:
    """Where the last block scalar (`|` or `>`) of `text` starts, properties included."""
    parser = CParser(text)
    found = None
    try:
        while True:
            event: Any = parser.get_event()
            name = event.__class__.__name__
            if name == "ScalarEvent" and event.style in ("|", ">"):
                found = event.start_mark.index
            elif name == "StreamEndEvent":
                return found
    except YAMLError:
        return None
