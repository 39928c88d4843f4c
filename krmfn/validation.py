"""Validate a loaded SimpleMLService or options object against the frozen schemas.

The validators are pydantic-core's, built on first use from `krmfn._validator` (see
`krmfn.freeze`), so a run never imports pydantic itself. The result is the normalized plain
dict, or the list of pydantic error details for `krmfn.results` to turn into results.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic_core import SchemaValidator, ValidationError

from krmfn import _validator


@cache
def _validator_for(name: str) -> SchemaValidator:
    return SchemaValidator(getattr(_validator, name))


def validate(name: str, data: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate `data` with the frozen schema `name` ("SIMPLEMLSERVICE" or "OPTIONS").

    Returns (normalized dict, []) when valid, else (None, error details).
    """
    try:
        return _validator_for(name).validate_python(data), []
    except ValidationError as err:
        return None, [dict(detail) for detail in err.errors(include_url=False)]
