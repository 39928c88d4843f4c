"""A TorchServe handler that cannot load: its `initialize` always fails, so every worker
dies at start and TorchServe keeps retrying it (for the model's maxRetryTimeoutInSec).
"""

from __future__ import annotations

from typing import Any

from ts.torch_handler.base_handler import BaseHandler  # type: ignore[import-not-found]


class BrokenHandler(BaseHandler):  # type: ignore[misc]
    """Fails where a handler would load its model."""

    def initialize(self, context: Any) -> None:
        """Refuse to load, as a handler with missing or corrupt weights would."""
        raise RuntimeError(f"cannot load model {context.model_name!r}: its weights are unusable")
