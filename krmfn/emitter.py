"""Write generated objects as block YAML, byte for byte as PyYAML's dumper would, faster.

Generated objects are small trees of dicts, lists and scalars, and most of their strings
(keys, names, images, paths) are plain words. PyYAML decides the style of every scalar with
a costly analysis; here a word made only of safe characters that YAML would read back as a
string is written plain at once, and anything else is asked of PyYAML itself, once per
distinct value. The layout (two-space indent, sequences not indented under their key, `{}`
and `[]` for empty collections) is PyYAML's; a property test holds the two to the same
bytes. Multi-line strings are written double-quoted on one line, so that no scalar ever
spans lines and text can be re-indented safely.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_SAFE = re.compile(r"(?!---|\.\.\.)(?!-\Z)[A-Za-z0-9_./=+-][A-Za-z0-9_./:=@+-]*(?<!:)\Z")
_STR_TAG = "tag:yaml.org,2002:str"
_resolve: Any = Resolver().resolve
_scalars: dict[Any, str] = {}


class Dumper(yaml.CSafeDumper):
    """libyaml's emitter, never writing anchors and aliases (kpt rejects them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _pyyaml(value: Any, style: str | None = None) -> str:
    text: str = yaml.dump(value, Dumper=Dumper, default_style=style, allow_unicode=True,
                          width=2**31 - 1)
    return text.removesuffix("\n...\n").removesuffix("\n")


def scalar(value: Any) -> str:
    """One scalar as it appears after `key: ` or `- `."""
    kind = type(value)
    if kind is str:
        if _SAFE.match(value) and _resolve(ScalarNode, value, (True, False)) == _STR_TAG:
            return value  # type: ignore[no-any-return]
    elif kind is bool:
        return "true" if value else "false"
    elif kind is int:
        return str(value)
    elif value is None:
        return "null"
    # -0.0 == 0.0 and NaN != NaN, so floats are cached by their spelling, not their value.
    key = (kind, repr(value) if kind is float else value)
    text = _scalars.get(key)
    if text is None:
        text = _pyyaml(value)
        if "\n" in text:
            text = _pyyaml(value, '"')
        _scalars[key] = text
    return text


def _mapping(obj: dict[Any, Any], pad: str, out: list[str]) -> None:
    for key, value in obj.items():
        head = f"{pad}{scalar(key)}:"
        if isinstance(value, dict) and value:
            out.append(head + "\n")
            _mapping(value, pad + "  ", out)
        elif isinstance(value, list) and value:
            out.append(head + "\n")
            _sequence(value, pad, out)
        else:
            out.append(f"{head} {_leaf(value)}\n")


def _sequence(items: list[Any], pad: str, out: list[str]) -> None:
    for value in items:
        if isinstance(value, dict | list) and value:
            nested: list[str] = []
            if isinstance(value, dict):
                _mapping(value, pad + "  ", nested)
            else:
                _sequence(value, pad + "  ", nested)
            nested[0] = f"{pad}- " + nested[0][len(pad) + 2:]
            out.extend(nested)
        else:
            out.append(f"{pad}- {_leaf(value)}\n")


def _leaf(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump(obj: Any) -> str:
    """Block-style YAML for a generated object, keys in the order they were built."""
    if isinstance(obj, dict) and obj:
        out: list[str] = []
        _mapping(obj, "", out)
        return "".join(out)
    return _pyyaml(obj) + "\n"
