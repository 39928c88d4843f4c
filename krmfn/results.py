"""Results: the problems a run reports, and the turning of validation errors into them.

A `Result` is what the KRM functions specification calls a result: a message, a severity,
the resource and the field it is about, and the file the resource came from. Validation
errors from pydantic-core become results here, with messages that say what was expected and
what was found, and with the field the user probably meant when a name is misspelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from krmfn.checks import show

PATH_ANNOTATIONS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("config.kubernetes.io/index", "internal.config.kubernetes.io/index")


@dataclass(frozen=True)
class Result:
    """One entry of a ResourceList's `results`."""

    message: str
    severity: str = "error"
    resource_ref: dict[str, str] | None = None
    field_path: str | None = None
    file: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as the KRM functions specification spells it."""
        out: dict[str, Any] = {"message": self.message, "severity": self.severity}
        if self.resource_ref:
            out["resourceRef"] = self.resource_ref
        if self.field_path:
            out["field"] = {"path": self.field_path}
        if self.file:
            out["file"] = self.file
        return out

    def about(self, message: str, path: str | None = None) -> Result:
        """A result like this one (same resource and file) with another message and field."""
        return Result(message, self.severity, self.resource_ref, path, self.file)

    def line(self) -> str:
        """The result as one line of text, for stderr."""
        where = []
        if self.resource_ref:
            ref = self.resource_ref
            where.append("/".join(v for v in (ref.get("kind"), ref.get("namespace"),
                                              ref.get("name")) if v))
        if self.file:
            where.append(f"file {self.file['path']}")
        if self.field_path:
            where.append(f"field {self.field_path}")
        prefix = f"{self.severity}: " + (f"{', '.join(where)}: " if where else "")
        return " ".join((prefix + self.message).replace("\n", "\\n").split())


def resource_ref(api_version: str | None, kind: str | None, name: str | None,
                 namespace: str | None) -> dict[str, str]:
    """A resourceRef with the fields that are known."""
    ref = {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace}
    return {key: value for key, value in ref.items() if value}


def file_ref(annotations: dict[str, str]) -> dict[str, Any] | None:
    """The file a resource came from, read from its path and index annotations."""
    path = next((annotations[k] for k in PATH_ANNOTATIONS if k in annotations), None)
    if path is None:
        return None
    index = next((annotations[k] for k in INDEX_ANNOTATIONS if k in annotations), "")
    return {"path": path, "index": int(index)} if index.isascii() and index.isdigit() else {
        "path": path}


def field_path(loc: tuple[Any, ...] | list[Any],
               keys: list[str | None] | None = None) -> str:
    """`('spec', 'ports', 0, 'port')` as `spec.ports[0].port`.

    `keys`, when given, holds each part's key as the user wrote it (None for a list entry),
    so that a key YAML read as a boolean or a number reads as it was written (`labels.on`).
    A key with dots or slashes is written in brackets: `annotations[example.com/x]`.
    """
    out = ""
    for i, part in enumerate(loc):
        if part == "[key]":  # pydantic's marker for an error about a mapping key itself
            continue
        spelling = keys[i] if keys is not None and i < len(keys) else None
        if spelling is None and type(part) is int and (keys is None or i < len(keys)):
            out += f"[{part}]"
            continue
        name = spelling if spelling is not None else _spell(part)
        if not name or any(c in name for c in "./[] "):
            out += f"[{name}]"
        else:
            out += ("." if out else "") + name
    return out


def _spell(part: Any) -> str:
    """A key that is not a string, as YAML writes it."""
    if isinstance(part, str):
        return part
    if isinstance(part, bool):
        return "true" if part else "false"
    return "null" if part is None else str(part)


def did_you_mean(word: str, choices: list[str]) -> str:
    """A hint naming the closest of `choices`, or listing them when none is close."""
    import difflib  # noqa: PLC0415 - only a run with a misspelling pays for it

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "expected one of: " + ", ".join(sorted(choices))


def _known_fields(schema: dict[str, Any], loc: tuple[Any, ...]) -> list[str]:
    """Field names a frozen core schema allows at `loc` (for suggestions)."""
    refs = {d["ref"]: d for d in schema.get("definitions", [])}
    node: dict[str, Any] | None = schema.get("schema", schema)
    parts = list(loc)
    while node is not None:
        kind = node.get("type")
        if kind == "definition-ref":
            node = refs.get(node["schema_ref"])
        elif kind in ("function-after", "function-before", "function-wrap", "nullable",
                      "default"):
            node = node.get("schema")
        elif not parts:
            break
        elif kind == "typed-dict":
            field = node["fields"].get(parts.pop(0))
            node = field["schema"] if field else None
        elif kind == "list":
            parts.pop(0)
            node = node.get("items_schema")
        elif kind == "dict":
            parts.pop(0)
            node = node.get("values_schema")
        else:
            node = None
    if node is not None and node.get("type") == "typed-dict":
        return list(node["fields"])
    return []


_EXPECTED = {
    "string_type": "a string", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false",
    "float_type": "a number", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "list_type": "a list", "none_required": "null",
    "invalid_key": "a string key",
}
_READ_AS = {bool: "the boolean", int: "the number", float: "the number", type(None): ""}


def from_validation(errors: list[dict[str, Any]], schema: dict[str, Any], base: Result,
                    root: Any = None) -> list[Result]:
    """Turn pydantic-core error details into results about the resource of `base`.

    `root` is the resource's composed YAML node (`krmfn.yamlpath.compose`), when known: field
    paths then use the keys as written, and a value YAML read as a boolean or number where a
    string was expected is named as written, with the advice to quote it.
    """
    from krmfn.yamlpath import spelled  # noqa: PLC0415 - error path only

    results = []
    for error in errors:
        loc = tuple(error["loc"])
        kind = error["type"]
        given = error.get("input")
        found = show(given)
        ctx = error.get("ctx") or {}
        data_loc = tuple(p for p in loc if p != "[key]")
        if kind == "invalid_key" and data_loc:  # pydantic names the key by its repr
            data_loc = (*data_loc[:-1], given)
        keys, raw = spelled(root, data_loc) if root is not None else (None, None)
        if loc and loc[-1] == "[key]" and keys:
            raw = keys[-1] if not isinstance(given, str) else None
        if kind == "krmfn":
            message = error["msg"]
            if ctx.get("field"):
                extra = _split(ctx["field"])
                loc, data_loc = (*loc, *extra), (*data_loc, *extra)
                keys = spelled(root, data_loc)[0] if root is not None else None
        elif kind == "missing":
            message = f"required field {loc[-1]!s} is missing"
        elif kind == "extra_forbidden":
            choices = _known_fields(schema, loc[:-1])
            message = f"unknown field {_spell(loc[-1])!r}" + (
                f"; {did_you_mean(_spell(loc[-1]), choices)}" if choices else "")
        elif kind in ("greater_than_equal", "less_than_equal"):
            bound = ctx.get("ge", ctx.get("le"))
            sign = ">=" if kind == "greater_than_equal" else "<="
            message = f"expected a number {sign} {bound}, found {found}"
        elif kind in ("too_short", "string_too_short"):
            message = f"expected at least {ctx.get('min_length')} " + (
                "item" if kind == "too_short" else "character") + f"(s), found {found}"
        elif kind == "literal_error":
            message = f"expected {ctx.get('expected')}, found {found}"
        elif kind == "string_type" and raw is not None and type(given) in _READ_AS:
            what = _READ_AS[type(given)]
            message = (f"expected a string{' key' if loc[-1] == '[key]' else ''}, found {raw}, "
                       "which YAML reads as "
                       f"{what + ' ' if what else ''}{found}; to mean the text, write it in "
                       f"quotes: \"{raw}\"")
        elif kind in _EXPECTED:
            message = f"expected {_EXPECTED[kind]}, found {found}"
        else:
            expected = str(error["msg"]).replace("Input should be ", "").replace(
                "Input should have ", "")
            message = f"expected {expected}, found {found}"
        if keys is not None:
            keys = [*keys, *[None] * (len(data_loc) - len(keys))]
        results.append(Result(message, base.severity, base.resource_ref,
                              field_path(data_loc, keys), base.file))
    return results


def _split(path: str) -> list[Any]:
    """`ports[0].name` as ['ports', 0, 'name']; `[a.b/c]` as ['a.b/c']."""
    return [int(bracket) if bracket.isascii() and bracket.isdigit() else bracket or name
            for bracket, name in re.findall(r"\[([^\]]*)\]|([^.\[\]]+)", path)]
