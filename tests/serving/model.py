"""The eager-mode PyTorch model the serving tests archive and serve: one `nn.Module` class,
as TorchServe's base handler requires of a `--model-file`. Its weights (state_dict.pt) are
made at test time by tests/serving/reference.py.
"""

from __future__ import annotations

import torch  # type: ignore[import-not-found]
from torch import nn

INPUTS = 4
OUTPUTS = 3


class TinyRegressor(nn.Module):  # type: ignore[misc]
    """Four inputs, a tanh hidden layer of eight, three outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(INPUTS, 8)
        self.out = nn.Linear(8, OUTPUTS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model's output for a batch of rows of INPUTS numbers."""
        return self.out(torch.tanh(self.hidden(x)))
