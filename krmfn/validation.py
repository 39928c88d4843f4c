"""Validate a loaded SimpleMLService or options object, with pydantic-core's validators.

The validators come from `krmfn._validator`: the pydantic-core schemas of `krmfn.schema`,
frozen by `krmfn.freeze`, so that a run never imports pydantic itself (importing it costs more
than a whole small run). That module's schema format is pydantic-core's internal one, which
pydantic-core does not promise to keep: `_validator.BUILT_WITH` records the release that wrote
it. When the installed pydantic-core cannot build a frozen schema, or KRMFN_VALIDATOR=pydantic
is set, the validators are built from `krmfn.schema` with pydantic instead: a slower start,
the same answers (the tests hold both paths to the same results).

The result of a validation is the normalized plain dict, or the list of pydantic error details
for `krmfn.results` to turn into results.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from krmfn import _validator
from krmfn.core import SchemaValidator, ValidationError

FORCE_ENV = "KRMFN_VALIDATOR"  # "pydantic": build the validators with pydantic


@dataclass(frozen=True)
class Validator:
    """A ready validator, the core schema it was built from, and whether that was frozen."""

    validate_python: Callable[[Any], Any]
    schema: dict[str, Any]
    frozen: bool


@cache
def validator_for(name: str) -> Validator:
    """The validator for `name` ("SIMPLEMLSERVICE" or "OPTIONS"), built on first use."""
    if os.environ.get(FORCE_ENV) != "pydantic":
        schema: dict[str, Any] = getattr(_validator, name)
        try:
            return Validator(SchemaValidator(schema).validate_python, schema, True)
        except Exception:  # any refusal of the frozen format means: rebuild with pydantic
            pass
    return _from_pydantic(name)


def _from_pydantic(name: str) -> Validator:
    from pydantic import TypeAdapter  # noqa: PLC0415 - only when the frozen schema won't do

    from krmfn.freeze import FROZEN  # noqa: PLC0415

    adapter: TypeAdapter[Any] = TypeAdapter(FROZEN[name])
    schema: dict[str, Any] = dict(adapter.core_schema)
    return Validator(adapter.validate_python, schema, False)


def validate(name: str, data: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate `data` with the schema `name` ("SIMPLEMLSERVICE" or "OPTIONS").

    Returns (normalized dict, []) when valid, else (None, error details). What krmfn copies
    through (a custom PodSpec, a strategy, resources) keeps its keys in the order they were
    written (pydantic puts a typed dict's declared fields first): it comes out as the user
    wrote it.
    """
    try:
        valid = validator_for(name).validate_python(data)
    except ValidationError as err:
        return None, [dict(detail) for detail in err.errors(include_url=False)]
    spec, given = valid.get("spec"), data.get("spec") if isinstance(data, dict) else None
    if type(spec) is dict and type(given) is dict:
        for path in _COPIED:
            inner: Any = spec
            outer: Any = given
            for key in path[:-1]:
                inner, outer = inner.get(key), outer.get(key)
                if type(inner) is not dict or type(outer) is not dict:
                    break
            else:
                key = path[-1]
                if key in inner and type(outer.get(key)) is type(inner[key]):
                    inner[key] = _as_written(inner[key], outer[key])
    return valid, []


# Parts of a SimpleMLService's spec that the compiler copies into its outputs.
_COPIED = (("custom", "spec"), ("strategy",), ("tensorflow", "resources"),
           ("pytorch", "resources"))


def _as_written(valid: Any, given: Any) -> Any:
    """`valid` with its mappings' keys in `given`'s order; keys `given` lacks go last."""
    if type(valid) is dict and type(given) is dict:
        if list(valid) != [key for key in given if key in valid]:
            rank = {key: i for i, key in enumerate(given)}
            end = len(rank)
            valid = {key: valid[key] for key in sorted(valid, key=lambda k: rank.get(k, end))}
        for key, value in valid.items():
            if type(value) is dict or type(value) is list:
                valid[key] = _as_written(value, given.get(key))
        return valid
    if type(valid) is list and type(given) is list and len(valid) == len(given):
        for i, value in enumerate(valid):
            if type(value) is dict or type(value) is list:
                valid[i] = _as_written(value, given[i])
    return valid
