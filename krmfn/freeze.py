"""Freeze the pydantic validators of `krmfn.schema` into a module that needs no pydantic.

Importing pydantic costs more than a whole small run of the function, so the validators are
built once, here, and written as pydantic-core schemas to `krmfn/_validator.py`; at run time
`krmfn.validation` hands them to `pydantic_core.SchemaValidator`. The frozen schemas call the
rules of `krmfn.checks` by name. The module records the pydantic and pydantic-core releases
that wrote it (`BUILT_WITH`): the format is pydantic-core's internal one, so another release
may refuse it, and `krmfn.validation` then builds the validators with pydantic instead.
`python -m krmfn.freeze` rewrites the module; a test fails when it is stale.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core
from pydantic import TypeAdapter

from krmfn import checks, schema

TARGET = Path(__file__).with_name("_validator.py")
FROZEN = {"SIMPLEMLSERVICE": schema.SimpleMLService, "OPTIONS": schema.SimpleMLServiceOptions}
_DROPPED = {"cls", "metadata", "serialization", "json_schema_input_schema"}


class _Ref:
    """A rule of `krmfn.checks`, printed as `checks.<name>` in the frozen source."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"checks.{self.name}"


def _clean(node: Any, names: bool = False) -> Any:
    """Strip what only pydantic itself uses; `names` marks a mapping of field names."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _DROPPED and not names:
                continue
            renamed = value.rpartition(".")[2].partition(":")[0] if (
                key in ("ref", "schema_ref") and not names) else value
            out[key] = _clean(renamed, key == "fields" and not names)
        return out
    if isinstance(node, list | tuple):
        return [_clean(value) for value in node]
    if callable(node):
        name = str(getattr(node, "__name__", ""))
        if getattr(checks, name, None) is not node:
            raise TypeError(f"frozen schemas may only call krmfn.checks, found {node!r}")
        return _Ref(name)
    return node


def source() -> str:
    """The text of `krmfn/_validator.py` for the current schema."""
    parts = ['"""Frozen pydantic-core schemas of krmfn.schema: written by `python -m '
             'krmfn.freeze`, do not edit."""\n',
             "# ruff: noqa: E501\n", "from typing import Any\n\n", "from krmfn import checks\n\n",
             "# The releases that wrote this module; krmfn.validation falls back to building the\n"
             "# validators with pydantic when the installed pydantic-core refuses these schemas.\n",
             f"BUILT_WITH = {{'pydantic': {pydantic.VERSION!r}, "
             f"'pydantic-core': {pydantic_core.__version__!r}}}\n"]
    for name, model in FROZEN.items():
        frozen = pprint.pformat(_clean(TypeAdapter(model).core_schema), width=100,
                                sort_dicts=True)
        parts.append(f"\n{name}: dict[str, Any] = {frozen}\n")
    return "".join(parts)


def main() -> int:
    """Write the frozen module; print its path."""
    TARGET.write_text(source(), encoding="utf-8")
    print(TARGET, file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
