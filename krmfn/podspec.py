"""Check a custom PodSpec against Kubernetes' own field names and types, and flag what opens
the node.

A custom SimpleMLService carries a whole core/v1 PodSpec of the user's, passed through as
written. The API server refuses a misspelt field or a value of the wrong JSON type in it, but
only when the Deployment is applied; `problems` finds them at once, from the generated table
of `krmfn._podfields` (no schema library at run time), and names the field a misspelling
probably meant. `warnings` names the settings that give the pod power over its node.

Both take any value at all (lists where maps belong, keys that are not strings, deep nesting,
huge lists) and never raise. Paths are inside the PodSpec, as the user wrote them: a
non-string key keeps its value (`1`), and a key neither string nor integer is written as
YAML spells it (`null`, `true`, `1.5`). `null` is accepted anywhere, as the API server
accepts it. The walk is iterative, over lookups built once at import.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeGuard

from krmfn._podfields import FIELDS, ROOT
from krmfn.checks import QUANTITY, show
from krmfn.results import did_you_mean

Path = tuple[str | int, ...]
Problem = tuple[Path, str]
# What a field takes: (tag, payload). An object carries its type's name and decoded fields,
# a list or a map the kind of its elements, an integer its bounds, other scalars their check.
Kind = tuple[int, Any]

LIMIT = 100  # problems reported before the walk stops: a broken pod says enough by then
_STR, _BOOL, _INT, _QUANTITY, _OTHER, _ANY, _OBJECT, _LIST, _MAP = range(9)
_QUANTITY_RE = re.compile(QUANTITY)
# Quantities already matched: the few a pod uses (`500m`, `1Gi`) recur, and a lookup costs a
# tenth of the match. Bounded, so that no input can make it grow without end.
_QUANTITIES: set[str] = set()
_QUANTITIES_KEPT = 512
_SHOWN_ITEMS = 20  # a list or map longer than this is printed in part
_PRINTABLE_BITS = 14_000  # about 4200 decimal digits


# --- scalars ---------------------------------------------------------------------------


def _is_integer(value: object) -> TypeGuard[int | float]:
    """An integer in JSON's sense: `3` or `3.0`, never `true`."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _fits(value: object, bounds: tuple[int, int, int]) -> str | None:
    """None when `value` is an integer within `bounds` (low, high, bits), else what was due."""
    if not _is_integer(value):
        return "an integer"
    low, high, bits = bounds
    return None if low <= value <= high else f"an integer from {low} to {high} (int{bits})"


def _number(value: object) -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else "a finite number"
    return None if isinstance(value, int) and not isinstance(value, bool) else "a finite number"


def _int_or_str(value: object) -> str | None:
    if isinstance(value, str) or _fits(value, _INT32) is None:
        return None
    return "an integer (int32) or a string"


def _quantity(value: object) -> str | None:
    if isinstance(value, str):
        if _QUANTITY_RE.fullmatch(value) is None:
            return "a quantity (a number, or a string such as 500m or 1Gi)"
        if len(_QUANTITIES) < _QUANTITIES_KEPT:
            _QUANTITIES.add(value)
        return None
    return None if _number(value) is None else (
        "a quantity (a number, or a string such as 500m or 1Gi)")


_INT32 = (-(2**31), 2**31 - 1, 32)
_INT64 = (-(2**63), 2**63 - 1, 64)
_CODES: dict[str, Kind] = {
    "s": (_STR, None), "b": (_BOOL, None), "i32": (_INT, _INT32), "i64": (_INT, _INT64),
    "n": (_OTHER, _number), "ios": (_OTHER, _int_or_str), "q": (_QUANTITY, _quantity),
    "any": (_ANY, None)}
_FREE = _CODES["any"]


def _expected(kind: Kind, value: object) -> str | None:
    """What `kind` takes, when `value` is not that; None when it is."""
    tag, payload = kind
    if tag == _INT:
        return _fits(value, payload)
    if tag in (_OTHER, _QUANTITY):
        check: Callable[[object], str | None] = payload
        return check(value)
    if tag == _OBJECT:
        return f"an object ({payload[0]})"
    return {_STR: "a string", _BOOL: "a boolean", _LIST: "a list", _MAP: "a map"}.get(tag)


# --- the table -------------------------------------------------------------------------


def _decode(code: str, types: dict[str, dict[str, Kind]]) -> Kind:
    """The `Kind` of a table code (see `krmfn.podtable`)."""
    if code[0] == "[":
        return (_LIST, _decode(code[1:], types))
    if code[0] == "{":
        return (_MAP, _decode(code[1:], types))
    return _CODES.get(code) or (_OBJECT, (code, types[code]))


def _build() -> dict[str, dict[str, Kind]]:
    """Every type of the table with its fields decoded; object kinds share the types' dicts."""
    types: dict[str, dict[str, Kind]] = {name: {} for name in FIELDS}
    for name, fields in FIELDS.items():
        types[name].update((field, _decode(code, types)) for field, code in fields.items())
    return types


_TYPES = _build()


# --- messages --------------------------------------------------------------------------


def part(key: object) -> str | int:
    """A mapping key as a path element: strings and integers as they are, others as YAML
    writes them (`null`, `true`, `1.5`)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        # Python refuses to print an integer of more than 4300 digits; no reader makes one.
        bits = key.bit_length()
        return int(key) if bits < _PRINTABLE_BITS else f"<a {bits}-bit integer>"
    if key is None:
        return "null"
    try:
        return str(key)
    except Exception:  # a key whose str() fails still gets a place in the path
        return type(key).__name__


def _pruned(value: object, depth: int = 3) -> object:
    """`value` cut to a few levels and items, so that printing it costs little."""
    if isinstance(value, dict):
        if depth == 0:
            return "..."
        kept = {part(k): _pruned(v, depth - 1)
                for k, v in itertools.islice(value.items(), _SHOWN_ITEMS)}
        return {**kept, "...": "..."} if len(value) > _SHOWN_ITEMS else kept
    if isinstance(value, list):
        if depth == 0:
            return "..."
        items = [_pruned(v, depth - 1) for v in value[:_SHOWN_ITEMS]]
        return [*items, "..."] if len(value) > _SHOWN_ITEMS else items
    return value


def found(value: object) -> str:
    """A found value for a message: JSON-like and cut short, whatever its size or depth."""
    try:
        return show(_pruned(value))
    except Exception:  # show() itself falls back to repr(), which a foreign object may break
        return f"a value of type {type(value).__name__}"


_KEY_KINDS = {bool: "a boolean", int: "an integer", float: "a number", type(None): "a null"}


def _unknown(type_name: str, key: object) -> str:
    """The message for an unknown field `key` of the type `type_name`."""
    if isinstance(key, str):
        return _misspelt(type_name, key[:200])  # cut, so that the cache holds no huge key
    what = next((name for kind, name in _KEY_KINDS.items() if isinstance(key, kind)),
                f"a {type(key).__name__}")
    return f"unknown field {part(key)} ({what} key; field names are strings)"


@lru_cache(maxsize=512)
def _misspelt(type_name: str, key: str) -> str:
    """The message for an unknown field name, with the one it probably meant (cached:
    misspellings repeat, and the lookup is the walk's dearest step)."""
    hint = did_you_mean(key, list(FIELDS[type_name]))
    shown = repr(key) if len(key) <= 80 else repr(key[:77]) + "..."
    return f"unknown field {shown}; {hint}"


# --- the walk --------------------------------------------------------------------------

# An open level of the walk: the name of an object's type (or ""), that type's fields (None
# for a list or a map), the kind of a list's or a map's elements, and the entries left. The
# path parts of the open levels are kept apart, and a path is built only for a problem.
_Frame = tuple[str, dict[str, Kind] | None, Kind, Iterator[tuple[Any, Any]]]


def problems(pod: object, limit: int = LIMIT) -> list[Problem]:  # noqa: PLR0915 - one hot loop
    """Unknown fields and wrongly typed values of a PodSpec: (path inside it, message).

    The walk stops at `limit` problems and then adds one at the path `()` saying so.
    """
    if pod is None:
        return []
    if not isinstance(pod, dict):
        return [((), f"expected an object ({ROOT}), found {found(pod)}")]
    out: list[Problem] = []
    names: list[str | int] = []
    stack: list[_Frame] = [(ROOT, _TYPES[ROOT], _FREE, iter(pod.items()))]
    while stack:
        type_name, fields, kind, entries = stack[-1]
        for key, value in entries:
            if fields is not None:
                known = fields.get(key)
                if known is None:
                    out.append(((*names, part(key)), _unknown(type_name, key)))
                    if len(out) < limit:
                        continue
                    break
                kind = known
            if value is None:
                continue
            tag, payload = kind
            if tag == _STR:
                if isinstance(value, str):
                    continue
            elif tag == _OBJECT:
                if isinstance(value, dict):
                    stack.append((payload[0], payload[1], _FREE, iter(value.items())))
                    names.append(key if type(key) is str or type(key) is int else part(key))
                    break
            elif tag == _LIST:
                if isinstance(value, list):
                    stack.append(("", None, payload, iter(enumerate(value))))
                    names.append(key if type(key) is str or type(key) is int else part(key))
                    break
            elif tag == _BOOL:
                if isinstance(value, bool):
                    continue
            elif tag == _INT:
                if type(value) is int and payload[0] <= value <= payload[1]:
                    continue
            elif tag == _QUANTITY:
                if type(value) is str and value in _QUANTITIES:
                    continue
            elif tag == _MAP:
                if isinstance(value, dict):
                    stack.append(("", None, payload, iter(value.items())))
                    names.append(key if type(key) is str or type(key) is int else part(key))
                    break
            elif tag == _ANY:
                continue
            expected = _expected(kind, value)
            if expected is None:
                continue
            out.append(((*names, part(key)), f"expected {expected}, found {found(value)}"))
            if len(out) >= limit:
                break
        else:
            stack.pop()
            if names:
                names.pop()
            continue
        if len(out) >= limit:
            out.append(((), f"stopped after the first {limit} problems: fix these and look "
                            "again"))
            break
    return out


# --- settings that open the node -------------------------------------------------------

_POD_FLAGS = {
    "hostNetwork": "hostNetwork: true puts the pod in the node's network namespace, where it "
    "can reach every service bound to the node's loopback and see the node's traffic",
    "hostPID": "hostPID: true shares the node's process namespace with the pod, whose "
    "containers can then see, signal and inspect every process on the node",
    "hostIPC": "hostIPC: true shares the node's IPC namespace with the pod, whose containers "
    "can then read and write the shared memory of processes on the node",
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_PRIVILEGED = ("privileged: true gives the container every capability and all of the node's "
               "devices, so that a process in it is root on the node")
_ESCALATION = ("allowPrivilegeEscalation: true lets a process in the container gain more "
               "privileges than its parent (through setuid binaries or file capabilities), "
               "a step on the way from the container to the node")
_HOST_PROCESS = ("windowsOptions.hostProcess: true runs the container as a process of the "
                 "Windows node itself, with the node's network and file system")
_POD_HOST_PROCESS = ("windowsOptions.hostProcess: true runs every container of the pod as a "
                     "process of the Windows node itself, with the node's network and file "
                     "system")


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _entries(value: object) -> Iterator[tuple[int, object]]:
    return enumerate(value if isinstance(value, list) else ())


def _added(names: list[Any]) -> str:
    shown = [name for name in names if isinstance(name, str)][:10]
    listed = (", ".join(shown) + (", ..." if len(names) > len(shown) else "")) if shown else (
        "capabilities")
    return (f"capabilities.add gives the container {listed[:200]} beyond the runtime's "
            "defaults, each a power over the node's kernel that a serving process does not need")


def _container(path: Path, context: object) -> list[Problem]:
    """The warnings of one container's securityContext, at `path`."""
    out: list[Problem] = []
    if _get(context, "privileged") is True:
        out.append(((*path, "privileged"), _PRIVILEGED))
    if _get(context, "allowPrivilegeEscalation") is True:
        out.append(((*path, "allowPrivilegeEscalation"), _ESCALATION))
    added = _get(_get(context, "capabilities"), "add")
    if isinstance(added, list) and added:
        out.append(((*path, "capabilities", "add"), _added(added)))
    if _get(_get(context, "windowsOptions"), "hostProcess") is True:
        out.append(((*path, "windowsOptions", "hostProcess"), _HOST_PROCESS))
    return out


def _host_path(volume: object) -> str:
    where = _get(_get(volume, "hostPath"), "path")
    shown = f" {found(where)}" if isinstance(where, str) else ""
    return (f"a hostPath volume mounts the node's own directory{shown} into the pod, which "
            "can then read and change the node's files there")


def warnings(pod: object) -> list[Problem]:
    """Settings that give the pod power over its node: (path inside the PodSpec, why)."""
    out: list[Problem] = []
    if not isinstance(pod, dict):
        return out
    out.extend(((flag,), why) for flag, why in _POD_FLAGS.items() if pod.get(flag) is True)
    if _get(_get(pod.get("securityContext"), "windowsOptions"), "hostProcess") is True:
        out.append((("securityContext", "windowsOptions", "hostProcess"), _POD_HOST_PROCESS))
    for field in _CONTAINER_LISTS:
        for i, container in _entries(pod.get(field)):
            out.extend(_container((field, i, "securityContext"),
                                  _get(container, "securityContext")))
    for i, volume in _entries(pod.get("volumes")):
        if _get(volume, "hostPath") is not None:
            out.append((("volumes", i, "hostPath"), _host_path(volume)))
    return out
