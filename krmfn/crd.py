"""The published schemas: JSON schema of SimpleMLService and of the options, and a CRD.

All three are derived from the pydantic types of `krmfn.schema`, the same types that
validate, so editors, schema validators and API servers check what the function checks.
The CustomResourceDefinition's schema is the JSON schema made structural, as the API server
requires: references inlined, open objects marked `x-kubernetes-preserve-unknown-fields`,
number-or-string unions marked `x-kubernetes-int-or-string`.
`python -m krmfn.crd` rewrites the copies in `schemas/`; a test fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from krmfn import schema
from krmfn.emitter import dump

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def json_schema(model: Any = schema.SimpleMLService) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of a type of `krmfn.schema`."""
    out: dict[str, Any] = TypeAdapter(model).json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out


def json_schema_text(model: Any = schema.SimpleMLService) -> str:
    """The JSON schema as indented text."""
    return json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"


def _structural(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_structural(value, defs) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _structural(defs[node["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in node:
        types = {option.get("type") for option in node["anyOf"]}
        if types <= {"integer", "number", "string"}:
            either: dict[str, Any] = {"x-kubernetes-int-or-string": True}
            if "description" in node:
                either["description"] = node["description"]
            return either
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "default", "$schema", "$defs"):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif value is not False:
                out[key] = _structural(value, defs)
        elif key == "properties":
            out[key] = {name: _structural(prop, defs) for name, prop in value.items()}
        else:
            out[key] = _structural(value, defs)
    if out.get("type") == "object" and "properties" not in out and \
            "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def crd() -> dict[str, Any]:
    """A CustomResourceDefinition for SimpleMLService (tensorstack.dev/v1beta1)."""
    source = json_schema()
    body = _structural(source, source.get("$defs", {}))
    body["properties"]["metadata"] = {"type": "object"}
    body["properties"]["status"] = {"type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True}
    body["properties"]["apiVersion"] = {"type": "string"}
    body["properties"]["kind"] = {"type": "string"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "simplemlservices.tensorstack.dev"},
        "spec": {
            "group": "tensorstack.dev",
            "names": {"kind": "SimpleMLService", "listKind": "SimpleMLServiceList",
                      "plural": "simplemlservices", "singular": "simplemlservice",
                      "shortNames": ["smls"]},
            "scope": "Namespaced",
            "versions": [{"name": "v1beta1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": body},
                          "subresources": {"status": {}}}],
        },
    }


def crd_text() -> str:
    """The CRD as YAML."""
    return dump(crd())


def published() -> dict[str, str]:
    """File name in `schemas/` → its text."""
    return {
        "simplemlservice.schema.json": json_schema_text(),
        "simplemlserviceoptions.schema.json": json_schema_text(schema.SimpleMLServiceOptions),
        "simplemlservice-crd.yaml": crd_text(),
    }


def main() -> int:
    """Rewrite `schemas/`."""
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name, text in published().items():
        (SCHEMAS_DIR / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
