"""pydantic-core's compiled validators, loaded without the package's Python layer.

A run of the function needs three things of pydantic-core: `SchemaValidator`,
`ValidationError` and `PydanticCustomError`, all defined in its compiled module
`pydantic_core._pydantic_core`. Importing the package `pydantic_core` first runs its
`__init__`, which builds the typing-heavy `core_schema` module: about three quarters of the
package's import time, and the largest part of a one-item run's start-up after the
interpreter's own. So the compiled module is loaded on its own, under its own name, from
where the package is installed; the package, when anything imports it later (pydantic, for
the fallback validators or the schemas), re-exports these very objects. Should the layout
not be found, or the loading fail, the package is imported as usual.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

_NAME = "pydantic_core._pydantic_core"


def _compiled() -> ModuleType:
    """The compiled module, loaded alone when it can be, through the package otherwise."""
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    for entry in sys.path:
        directory = os.path.join(entry or ".", "pydantic_core")
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        found = [n for n in names if n.startswith("_pydantic_core.") and n.endswith(".so")]
        if not found:
            continue
        spec = importlib.util.spec_from_file_location(_NAME, os.path.join(directory, found[0]))
        if spec is None or spec.loader is None:
            break
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        try:
            spec.loader.exec_module(module)
        except Exception:  # an unexpected layout or build: the package's own way
            del sys.modules[_NAME]
            break
        return module
    import pydantic_core  # noqa: PLC0415

    return sys.modules.get(_NAME) or pydantic_core


_module = _compiled()
SchemaValidator = _module.SchemaValidator
ValidationError = _module.ValidationError
PydanticCustomError = _module.PydanticCustomError
