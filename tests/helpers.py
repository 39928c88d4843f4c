"""Shared test helpers: run the real `krmfn` command; check objects as an API server would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES_VERSION = "1.33.0"
UPDATE = os.environ.get("KRMFN_UPDATE_GOLDEN") == "1"
EXAMPLES_SCALE = int(os.environ.get("KRMFN_EXAMPLES_SCALE", "1"))


def kustomize_apps() -> list[tuple[Path, Path]]:
    """Every buildable app of kustomization-examples/, with the file its build must equal.

    An example that is a kustomization is an app (`.expected/build.yaml`); one that is not
    holds overlays, each an app (`<example>/.expected/<overlay>.yaml`).
    """
    apps = []
    for example in sorted(p for p in (ROOT / "kustomization-examples").iterdir() if p.is_dir()):
        if (example / "kustomization.yaml").is_file():
            apps.append((example, example / ".expected" / "build.yaml"))
            continue
        for overlay in sorted(p for p in (example / "overlays").iterdir() if p.is_dir()):
            apps.append((overlay, example / ".expected" / f"{overlay.name}.yaml"))
    return apps


def app_id(app: Path) -> str:
    """A short name for an app of kustomization-examples/."""
    return app.relative_to(ROOT / "kustomization-examples").as_posix()


def examples(count: int) -> int:
    """A property test's example count, times KRMFN_EXAMPLES_SCALE (see tests/conftest.py)."""
    return count * EXAMPLES_SCALE


@dataclass
class Run:
    """What one run of the command gave."""

    code: int
    stdout: str
    stderr: str


def krmfn(*args: str, stdin: bytes | str = b"", cwd: Path | None = None,
          env: dict[str, str] | None = None) -> Run:
    """Run `python -m krmfn ARGS` with `stdin`, as an orchestrator runs the function."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([sys.executable, "-m", "krmfn", *args], input=data,
                          capture_output=True, cwd=cwd, env=env, timeout=120, check=False)
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def load(text: str) -> Any:
    """Parse YAML text."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def validate_object(obj: dict[str, Any]) -> None:
    """Fail unless `obj` passes strict schema validation for a current Kubernetes."""
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        meta = obj.get("metadata", {})
        pytest.fail(f"{obj.get('kind')}/{meta.get('name')} is not a valid object: {err}")


def generated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects krmfn generated among `items` (they name their source)."""
    return [i for i in items if "krmfn.dev/generated-from" in (
        (i.get("metadata") or {}).get("annotations") or {})]


def check_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; with KRMFN_UPDATE_GOLDEN=1 rewrite it and fail."""
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
        pytest.fail(f"rewrote {path.relative_to(ROOT)}; run again without KRMFN_UPDATE_GOLDEN")
    assert path.exists(), f"{path} is missing: run with KRMFN_UPDATE_GOLDEN=1 to write it"
    assert actual == path.read_bytes().decode("utf-8"), f"output differs from {path}"


def need(tool: str) -> str:
    """The path of `tool`; skip without it on a laptop, fail without it in CI."""
    found = shutil.which(tool)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is required in CI; .ci/run installs it")
    pytest.skip(f"{tool} is not installed")
