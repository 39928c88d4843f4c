"""Turn a flow-style ResourceList into block style, keeping its comments and quoting.

Text splices (`krmfn.resourcelist`) need items laid out in block style, one per `- ` line.
A ResourceList written in flow style (`{... items: [{...}, {...}]}`) is therefore rewritten
once, before anything else. ruamel.yaml's round-trip mode does it: every collection is
switched to block style, and comments, quotes, key order, anchors and aliases stay as they
were. Plain scalars are read as the text they are (but the empty one, null) and written
back as that text: ruamel.yaml's own numbers would rewrite `1e400` as `.inf` or `1_0e1` as
`100e0`, and some valid spellings (`-0e0`, `+_`) make it fail. Block-style input, which
every orchestrator sends, never comes here.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.resolver import VersionedResolver

from krmfn.comments import lost_comments
from krmfn.yamlscan import InputError, invalid_yaml

_ONLY_NULL = {"": [("tag:yaml.org,2002:null", re.compile(r"^$"))]}


class _AsWritten(VersionedResolver):
    """Every plain scalar a string of its own text, but the empty one (null)."""

    @property
    def versioned_resolver(self) -> Any:
        return _ONLY_NULL


def to_block(text: str) -> tuple[str, list[str]]:
    """`text`, one YAML document, with every collection in block style; and the comments
    that could not be kept (ruamel.yaml drops some written inside flow collections).

    An empty `items` is dropped (new items are appended as a fresh block sequence).
    """
    yaml = YAML(typ="rt")
    yaml.Resolver = _AsWritten
    yaml.preserve_quotes = True
    yaml.width = 2**31 - 1  # never re-wrap a long string
    yaml.indent(mapping=2, sequence=2, offset=0)  # as kpt and kustomize write
    try:
        data = yaml.load(text)
    except DuplicateKeyError as err:
        # Two keys that YAML 1.1 (the scan, the loader) tells apart and YAML 1.2 does not:
        # `on` and `'on'`. Rewriting would lose one of them.
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError("input is a flow-style ResourceList with two keys that YAML 1.2 "
                         f"reads as one{where}, so it cannot be rewritten in block style "
                         "without losing one: send the ResourceList in block style, or "
                         "quote both keys alike") from None
    except YAMLError as err:  # pragma: no cover - the scan read the same text cleanly
        raise invalid_yaml(err) from None
    if isinstance(data, dict) and "items" in data and not data["items"]:
        del data["items"]
    _block(data)
    out = io.StringIO()
    yaml.dump(data, out)
    block = out.getvalue()
    return block, lost_comments(text, block)


def _block(node: Any) -> None:
    """Switch `node` and everything under it to block style (empty ones stay `{}`, `[]`)."""
    stack, seen = [node], set()
    while stack:  # a loop, not recursion: the scan allows nesting up to its depth limit
        current = stack.pop()
        if id(current) in seen:  # an alias: the same node again
            continue
        seen.add(id(current))
        if isinstance(current, CommentedBase) and current:
            current.fa.set_block_style()
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
