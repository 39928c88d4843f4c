"""Generate `krmfn/_podfields.py`: the field names and value kinds of a core/v1 PodSpec.

A custom SimpleMLService carries a whole PodSpec of the user's. The API server refuses a
misspelt field or a value of the wrong type in it, but only at sync time; `krmfn.podspec`
reports them at once. It needs to know every object type a PodSpec can hold, their field
names and what each field takes, and nothing else: that table is generated here, once, from
the OpenAPI-derived JSON schemas that kubernetes-validate carries, and written as a small
Python module, so that a run loads a few kilobytes instead of a 100 MB test dependency.

`python -m krmfn.podtable` rewrites the module; a test fails when it is stale. This module
imports kubernetes_validate only in `main` (tests pass it in): it is a tool, never loaded by
a run.

The kinds written into the table (see `kind`):

    s      a string               b      a boolean
    i32    an int32 integer       i64    an int64 integer
    n      a number               ios    an integer or a string (IntOrString)
    q      a quantity             any    anything (a free-form object)
    Name   an object of the type `Name` of the table
    [K     a list of K            {K     a map from strings to K
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

TARGET = Path(__file__).with_name("_podfields.py")
KUBERNETES_VERSION = "1.33.0"
ROOT_DEFINITION = "io.k8s.api.core.v1.PodSpec"
# Definitions that are values, not objects: how the API server reads them.
_LEAVES = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "q",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "ios",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "s",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "s",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "any",
}
_SCALARS = {"string": "s", "boolean": "b", "number": "n"}

Definitions = dict[str, dict[str, Any]]


def definitions(package: ModuleType, version: str = KUBERNETES_VERSION) -> Definitions:
    """The `$defs` of the schemas for Kubernetes `version` that `package` (kubernetes_validate)
    carries."""
    folder = resources.files(package) / "kubernetes-json-schema" / f"v{version}-local"
    text = (folder / "_definitions.json").read_text(encoding="utf-8")
    defs: Definitions = json.loads(text)["$defs"]
    return defs


def generate(package: ModuleType) -> str:
    """The text of `krmfn/_podfields.py` from the schemas of `package` (kubernetes_validate)."""
    return source(definitions(package), KUBERNETES_VERSION, str(package.__version__))


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return str(ref).rpartition("/")[2] if ref else None


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows, null left out."""
    declared = schema.get("type", [])
    return ({declared} if isinstance(declared, str) else set(declared)) - {"null"}


def short_names(names: set[str]) -> dict[str, str]:
    """Each definition's last dotted part (`Container`), or its full name where two clash."""
    tails: dict[str, int] = {}
    for name in names:
        tail = name.rpartition(".")[2]
        tails[tail] = tails.get(tail, 0) + 1
    return {name: name.rpartition(".")[2] if tails[name.rpartition(".")[2]] == 1 else name
            for name in names}


def kind(schema: dict[str, Any], defs: Definitions, names: dict[str, str]) -> str:
    """The table's code for what a property of `schema` takes (see the module's legend)."""
    ref = _ref(schema)
    if ref is not None:
        if ref in _LEAVES:
            return _LEAVES[ref]
        target = defs[ref]
        return names[ref] if "properties" in target else kind(target, defs, names)
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        found = set().union(*(_types(option) for option in alternatives))
        if found == {"string", "integer"}:
            return "ios"
        if found == {"string", "number"}:
            return "q"
        return "any"
    types = _types(schema)
    if len(types) != 1:
        return "any"
    (json_type,) = types
    if json_type == "integer":
        return "i32" if schema.get("format") == "int32" else "i64"
    if json_type == "array":
        return "[" + kind(schema.get("items", {}), defs, names)
    if json_type == "object":
        if "properties" in schema:
            raise ValueError(f"an inline object type is not supported: {schema}")
        values = schema.get("additionalProperties")
        return "{" + kind(values, defs, names) if isinstance(values, dict) else "any"
    return _SCALARS[json_type]


def reachable(defs: Definitions, root: str = ROOT_DEFINITION) -> set[str]:
    """Every object definition that a `root` can hold, `root` included."""
    found: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in found or name in _LEAVES or "properties" not in defs[name]:
            continue
        found.add(name)
        todo.extend(_refs(defs[name]))
    return found


def _refs(node: Any) -> list[str]:
    """The definitions a schema refers to, anywhere inside it."""
    out: list[str] = []
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            ref = _ref(item)
            if ref is not None:
                out.append(ref)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return out


def table(defs: Definitions, root: str = ROOT_DEFINITION) -> dict[str, dict[str, str]]:
    """{type: {field: kind}} for every object type a `root` can hold, sorted."""
    found = reachable(defs, root)
    names = short_names(found)
    return {names[name]: {field: kind(schema, defs, names)
                          for field, schema in sorted(defs[name]["properties"].items())}
            for name in sorted(found, key=names.__getitem__)}


def source(defs: Definitions, kubernetes: str, release: str) -> str:
    """The text of `krmfn/_podfields.py` for these definitions."""
    fields = table(defs)
    root = short_names(reachable(defs))[ROOT_DEFINITION]
    lines = [
        '"""Field table of a core/v1 PodSpec: written by `python -m krmfn.podtable`, do not '
        'edit.\n\n'
        "For every object type a PodSpec can hold: its field names and what each takes, in the\n"
        "codes that `krmfn.podtable` explains. `krmfn.podspec` reads it to check a custom pod.\n"
        '"""\n',
        "# ruff: noqa: E501\n",
        "# What wrote this table: the Kubernetes version of its schemas, and the\n"
        "# kubernetes-validate release that carried them.\n",
        f"KUBERNETES = {kubernetes!r}\n",
        f"KUBERNETES_VALIDATE = {release!r}\n",
        f"ROOT = {root!r}\n\n",
        "FIELDS: dict[str, dict[str, str]] = {\n",
    ]
    for name, props in fields.items():
        body = ", ".join(f"{field!r}: {code!r}" for field, code in props.items())
        lines.append(f"    {name!r}: {{{body}}},\n")
    lines.append("}\n")
    return "".join(lines)


def main() -> int:
    """Write the table from the installed kubernetes-validate; print its path."""
    import kubernetes_validate  # noqa: PLC0415 - a test-only dependency, needed here alone

    TARGET.write_text(generate(kubernetes_validate), encoding="utf-8")
    print(TARGET, file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
