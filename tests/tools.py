"""Fixtures that put the real tools in reach: the function as an executable, and its image."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
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


@contextlib.contextmanager
def moto_s3(root: Path, objects: dict[str, bytes]) -> Iterator[Path]:
    """A moto S3 server on loopback holding `objects` in bucket `models`; give the path of
    an s3cmd configuration for it (`root/.s3cfg`), readable by anyone."""
    need("moto_server")
    need("s3cmd")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        config = root / ".s3cfg"
        config.write_text(f"[default]\naccess_key = testing\nsecret_key = testing\n"
                          f"host_base = 127.0.0.1:{port}\nhost_bucket = 127.0.0.1:{port}\n"
                          "bucket_location = us-east-1\nuse_https = False\n"
                          "signature_v2 = False\n")
        config.chmod(0o644)
        upload = root / "upload"
        for name, data in objects.items():
            (upload / name).parent.mkdir(parents=True, exist_ok=True)
            (upload / name).write_bytes(data)
        s3cmd = ["s3cmd", "-c", str(config)]
        for command in (["mb", "s3://models"], ["put", "--recursive", f"{upload}/", "s3://models/"]):
            done = subprocess.run([*s3cmd, *command], capture_output=True, text=True,
                                  check=False)
            assert done.returncode == 0, done.stderr
        yield config
    finally:
        server.terminate()
        server.wait(timeout=10)


def copy_package(source: Path, target: Path) -> Path:
    """Copy an example package, without its .expected folder."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".expected"))
    return target
