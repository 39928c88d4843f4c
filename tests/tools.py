"""Fixtures that put the real tools in reach: the function as an executable, and its image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, need

IMAGE = "ghcr.io/krmfn/krmfn:0.1.0"
CONTAINERS_CONF = ROOT / "containers" / "containers.conf"


@pytest.fixture(scope="session")
def krmfn_exec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An executable that runs this checkout's krmfn, for `kpt fn eval --exec`."""
    path = tmp_path_factory.mktemp("bin") / "krmfn"
    path.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m krmfn \"$@\"\n")
    path.chmod(0o755)
    return path


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def podman_env() -> dict[str, str]:
    """The environment podman needs on these machines."""
    return {"CONTAINERS_CONF": str(CONTAINERS_CONF)}


@pytest.fixture(scope="session")
def image() -> Iterator[str]:
    """The function's image, built from this checkout's Dockerfile with podman."""
    need("podman")
    need("debootstrap")
    built = run(ROOT / "scripts" / "build-image", "localhost/krmfn:test", IMAGE, cwd=ROOT,
                env=podman_env(), timeout=1500)
    assert built.returncode == 0, built.stderr
    yield IMAGE


@pytest.fixture(scope="session")
def docker_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose `docker` runs podman, for kustomize's container functions."""
    need("podman")
    directory = tmp_path_factory.mktemp("shim")
    shim = directory / "docker"
    shim.write_text(f"#!/bin/sh\nCONTAINERS_CONF={CONTAINERS_CONF} exec podman \"$@\"\n")
    shim.chmod(0o755)
    return directory


def copy_package(source: Path, target: Path) -> Path:
    """Copy an example package, without its .expected folder."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".expected"))
    return target
