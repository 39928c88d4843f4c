"""The model's own side of the serving tests, run with a TorchServe venv's Python:
`reference.py weights OUT` writes OUT/state_dict.pt (fixed seed);
`reference.py predict WEIGHTS JSON` prints, as JSON, the model's output for each input row
of JSON (a list of rows), computed with torch directly, without TorchServe.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch  # type: ignore[import-not-found]

# Run as a script, this file's directory is first on sys.path: model.py is found there.
from model import TinyRegressor  # type: ignore[import-not-found]

SEED = 20240513


def weights(out: Path) -> None:
    """Write a state dict of seeded random weights to OUT/state_dict.pt."""
    torch.manual_seed(SEED)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(TinyRegressor().state_dict(), out / "state_dict.pt")


def predict(state_dict: Path, rows: list[list[float]]) -> list[list[float]]:
    """The model's output for `rows`, one row at a time as the server computes them."""
    model = TinyRegressor()
    model.load_state_dict(torch.load(state_dict, map_location="cpu", weights_only=True))
    model.eval()
    with torch.no_grad():
        out: list[list[float]] = [
            model(torch.tensor([row], dtype=torch.float32)).tolist()[0] for row in rows]
    return out


def main(argv: list[str]) -> None:
    """Dispatch `weights OUT` or `predict WEIGHTS JSON`."""
    if argv[:1] == ["weights"] and len(argv) == 2:
        weights(Path(argv[1]))
    elif argv[:1] == ["predict"] and len(argv) == 3:
        print(json.dumps(predict(Path(argv[1]), json.loads(argv[2]))))
    else:
        sys.exit(f"usage: {sys.argv[0]} weights OUT | predict WEIGHTS JSON")


if __name__ == "__main__":
    main(sys.argv[1:])
