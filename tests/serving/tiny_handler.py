"""The TorchServe handler that serves tests/serving/model.py.

A request body is JSON: `{"inputs": [four numbers], "sleep": seconds}`; the answer is the
model's output row. `sleep` (optional) holds the request in the handler that long before
inference, so that a test can have a request in flight while the server is told to stop.
"""

from __future__ import annotations

import json
import time
from typing import Any

import torch  # type: ignore[import-not-found]
from ts.torch_handler.base_handler import BaseHandler  # type: ignore[import-not-found]


def _body(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of one request, whether TorchServe decoded it already or not."""
    body = request.get("body")
    if body is None:
        body = request.get("data")
    if isinstance(body, bytes | bytearray):
        body = json.loads(body)
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


class TinyHandler(BaseHandler):  # type: ignore[misc]
    """BaseHandler's model loading and inference, with JSON rows in and out."""

    def preprocess(self, data: list[dict[str, Any]]) -> torch.Tensor:
        """One tensor row per request; sleeps first when a request asks to."""
        bodies = [_body(request) for request in data]
        delay = max(float(body.get("sleep", 0)) for body in bodies)
        if delay > 0:
            time.sleep(delay)
        return torch.tensor([body["inputs"] for body in bodies], dtype=torch.float32)

    def postprocess(self, data: torch.Tensor) -> list[list[float]]:
        """One output row per request."""
        rows: list[list[float]] = data.tolist()
        return rows
