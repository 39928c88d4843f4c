"""Write generated objects as block YAML, byte for byte as PyYAML's dumper would, faster.

Generated objects are small trees of dicts, lists and scalars, and most of their strings
(keys, names, images, paths) are plain words. PyYAML decides the style of every scalar with
a costly analysis; here each distinct scalar is decided once and remembered: a word made only
of safe characters that no YAML reader would take for anything but a string is written plain
at once, and anything else is asked of PyYAML itself. The layout (two-space indent, sequences
not indented under their key, `{}` and `[]` for empty collections) is PyYAML's; a property
test holds the two to the same bytes.

Which strings are quoted: every one that some reader in the pipeline would not read back as
the same string. PyYAML's resolver knows YAML 1.1 without `y`/`n`; Go's readers (kubectl,
kustomize, kpt) also read `y`, `n`, `1e3`, `08`, `0o17` or `1_000` as booleans and numbers.
`STRICT` is the union, and PyYAML quotes what it resolves (`Dumper` uses it too).

Multi-line strings are written as literal blocks (`|`) where YAML allows it (PyYAML decides),
else double-quoted on one line; a literal block's lines are indented under their key, so text
can still be re-indented safely as a whole.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_SAFE = re.compile(r"(?!---|\.\.\.)(?!-\Z)[A-Za-z0-9_./=+-][A-Za-z0-9_./:=@+-]*(?<!:)\Z")
_STR_TAG = "tag:yaml.org,2002:str"
_MULTILINE = re.compile("[\n\r\x85\u2028\u2029]")
_ODD_BREAK = re.compile("[\r\x85\u2028\u2029]")
_NUMBER_START = "-+0123456789"
# What Go's strconv (base 0) and go-yaml's float pattern read, once the `_`s are gone.
_GO_NUMBER = re.compile(r"[-+]?(?:0[bB][01]+|0[oO]?[0-7]+|0[xX][0-9a-fA-F]+|[0-9]+"
                        r"|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)\Z")


class StrictResolver(Resolver):
    """PyYAML's resolver, plus what YAML 1.1 and Go's YAML readers take for non-strings."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        # Go's readers drop every `_` of a scalar that starts like a number before reading it
        # as one: `0_x1` is 0x1, `-_1` is -1.
        if (tag == _STR_TAG and kind is ScalarNode and implicit[0] and "_" in value
                and value[:1] in _NUMBER_START):
            plain = value.replace("_", "")
            if plain[:1] in _NUMBER_START and _GO_NUMBER.match(plain):
                return "tag:yaml.org,2002:int"
        return tag


for _tag, _pattern, _first in (
    ("bool", r"^(?:y|Y|n|N)$", "yYnN"),
    # Go parses integers with base prefixes and underscores, and YAML 1.2's floats.
    ("int", r"^[-+]?(?:0[bB][01_]+|0[oO]?[0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$",
     "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9_]+)?$",
     "-+.0123456789"),
):
    StrictResolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern),
                                         list(_first))

STRICT = StrictResolver()
_resolve: Any = STRICT.resolve


class Dumper(yaml.CSafeDumper, StrictResolver):
    """libyaml's emitter with the strict resolver, never writing anchors (kpt rejects them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _pyyaml(value: Any, style: str | None = None) -> str:
    text: str = yaml.dump(value, Dumper=Dumper, default_style=style, allow_unicode=True,
                          width=2**31 - 1)
    if text.endswith("\n...\n"):  # the end marker PyYAML puts after a lone plain scalar
        text = text[:-4]
    return text.removesuffix("\n")


CACHED = 32768  # one-line strings remembered at once; names and paths seldom recur
_strings: dict[str, str] = {}  # a string's text as a value, when it is one line
_blocks: dict[str, str] = {}  # a string's text as a value, when it is a literal block
_keys: dict[str, str] = {}  # a string's text as a mapping key (always one line)
_others: dict[tuple[type, Any], str] = {}


def literal_style(value: str) -> bool:
    """True when a multi-line value may be written as a literal block.

    Only plain line feeds, and no final line break kept (`|+`): a block that keeps final
    line breaks makes PyYAML end the document with `...`, which no item may hold.
    """
    keep = value.endswith("\n") and (len(value) == 1 or value[-2] == "\n")  # PyYAML's rule
    return "\n" in value and not keep and not _ODD_BREAK.search(value)


def _decide(value: str, key: bool) -> str:
    if _SAFE.match(value) and _resolve(ScalarNode, value, (True, False)) == _STR_TAG:
        return value
    if _MULTILINE.search(value):
        if not key and literal_style(value):
            block = _pyyaml(value, "|")
            if block.startswith("|"):
                return block
        return _pyyaml(value, '"')
    text = _pyyaml(value)
    return _pyyaml(value, '"') if "\n" in text else text


def scalar(value: Any) -> str:
    """One scalar as it appears after `key: ` or `- ` (a literal block spans lines)."""
    kind = type(value)
    if kind is str:
        text = _strings.get(value)
        if text is None:
            text = _blocks.get(value)
            if text is None:
                text = _decide(value, False)
                if len(_strings) >= CACHED:  # names and paths seldom recur: start afresh
                    _strings.clear()
                (_blocks if "\n" in text else _strings)[value] = text
        return text
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    # -0.0 == 0.0 and NaN != NaN, so floats are kept by their spelling, not their value.
    cache_key = (kind, repr(value) if kind is float else value)
    text = _others.get(cache_key)
    if text is None:
        text = _pyyaml(value)
        if "\n" in text:
            text = _pyyaml(value, '"')
        _others[cache_key] = text
    return text


def _key(value: Any) -> str:
    if type(value) is str:
        text = _keys.get(value)
        if text is None:
            text = _keys[value] = _decide(value, True)
        return text
    return scalar(value)


def _value(value: Any, pad: str) -> str:
    """A leaf's text after `key: ` or `- ` at `pad`: a literal block's lines under `pad`."""
    if type(value) is dict:
        return "{}"
    if type(value) is list:
        return "[]"
    text = scalar(value)
    if pad and type(value) is str and value in _blocks:
        return _INDENT_LINES.sub("\n" + pad, text)
    return text


_INDENT_LINES = re.compile("\n(?=[^\n])")  # a line break before a line that is not empty


_frozen: dict[int, tuple[Any, dict[tuple[str, bool], str]]] = {}


def frozen(obj: Any) -> Any:
    """Mark `obj` (a dict or list never changed again) so that its text, once written at an
    indent, is reused: generated objects share such parts (probes, scripts, security
    settings), and writing them once a run is most of what makes emitting cheap."""
    _frozen[id(obj)] = (obj, {})
    return obj


def _cached(value: Any, pad: str, in_sequence: bool) -> str:
    """The text of a frozen collection at `pad` (as a mapping's value or a list entry)."""
    texts = _frozen[id(value)][1]
    key = (pad, in_sequence)
    text = texts.get(key)
    if text is None:
        out: list[str] = []
        if in_sequence:
            _entry(value, pad, out)
        elif isinstance(value, dict):
            _mapping(value, pad + "  ", out)
        else:
            _sequence(value, pad, out)
        text = texts[key] = "".join(out)
    return text


def _mapping(obj: dict[Any, Any], pad: str, out: list[str]) -> None:
    keys, strings, frozen_ids = _keys, _strings, _frozen
    for key, value in obj.items():
        head = keys.get(key) if type(key) is str else None
        if head is None:
            head = _key(key)
        kind = type(value)
        if kind is str:  # the common case, kept short: a one-line string seen before
            text = strings.get(value)
            out.append(f"{pad}{head}: {text if text is not None else _value(value, pad)}\n")
        elif (kind is dict or kind is list) and value:
            out.append(f"{pad}{head}:\n")
            if id(value) in frozen_ids:
                out.append(_cached(value, pad, False))
            elif isinstance(value, dict):
                _mapping(value, pad + "  ", out)
            else:
                _sequence(value, pad, out)
        else:
            out.append(f"{pad}{head}: {_value(value, pad)}\n")


def _sequence(items: list[Any], pad: str, out: list[str]) -> None:
    strings, frozen_ids = _strings, _frozen
    for value in items:
        kind = type(value)
        if kind is str:
            text = strings.get(value)
            out.append(f"{pad}- {text if text is not None else _value(value, pad)}\n")
        elif (kind is dict or kind is list) and value:
            if id(value) in frozen_ids:
                out.append(_cached(value, pad, True))
            else:
                _entry(value, pad, out)
        else:
            out.append(f"{pad}- {_value(value, pad)}\n")


def _entry(value: dict[Any, Any] | list[Any], pad: str, out: list[str]) -> None:
    """A non-empty collection as an entry of a sequence at `pad`."""
    nested: list[str] = []
    if isinstance(value, dict):
        _mapping(value, pad + "  ", nested)
    else:
        _sequence(value, pad + "  ", nested)
    first = nested[0]
    nested[0] = f"{pad}- " + first[len(pad) + 2:]
    out.extend(nested)


def dump(obj: Any, column: int = 0) -> str:
    """Block-style YAML for a generated object, keys in the order they were built.

    With `column`, the text is written to stand after a "- " whose content starts there:
    every line but the first is indented by `column` (empty lines stay empty).
    """
    if isinstance(obj, dict) and obj:
        out: list[str] = []
        _mapping(obj, " " * column, out)
        out[0] = out[0][column:]
        return "".join(out)
    return _pyyaml(obj) + "\n"
