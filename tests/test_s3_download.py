"""The model download, for real: a local S3 server (moto), and the exact s3cmd command line
that the generated init container carries, with only its mount paths mapped to temporary
directories. The files must land where TensorFlow Serving and TorchServe look for them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from krmfn.compiler import compile_service
from krmfn.constants import S3_CONFIG_DIR
from krmfn.options import Options
from krmfn.validation import validate
from tests.tools import moto_s3

pytestmark = pytest.mark.integration
MODEL = {
    "mnist/1/saved_model.pb": b"graph",
    "mnist/1/variables/variables.index": b"index",
    "mnist/1/variables/variables.data-00000-of-00001": b"data",
    "mnist-v2/1/saved_model.pb": b"other model: must not be copied",
    "team/vision/resnet-18.mar": b"archive",
    "team/vision/config.properties": b"inference_address=http://0.0.0.0:8080",
}


@pytest.fixture(scope="module")
def s3cfg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running moto S3 server on loopback holding MODEL in bucket `models`, and its .s3cfg."""
    with moto_s3(tmp_path_factory.mktemp("s3"), MODEL) as config:
        yield config


def _downloader(uri: str, model_dir: str) -> dict[str, Any]:
    sml, errors = validate("SIMPLEMLSERVICE", {
        "apiVersion": "tensorstack.dev/v1beta1", "kind": "SimpleMLService",
        "metadata": {"name": "m"},
        "spec": {"storage": {"s3": {"secretName": "s3", "uri": uri, "containerPath": model_dir}},
                 "tensorflow": {"image": "tensorflow/serving:2.16.1"}}})
    assert sml is not None, errors
    deployment = compile_service(sml, Options())[0]
    init: dict[str, Any] = deployment["spec"]["template"]["spec"]["initContainers"][0]
    return init


def _download(init: dict[str, Any], config: Path, model_dir: str, target: Path) -> None:
    """Run the init container's command, its two mounts mapped to `config` and `target`."""
    mapped = [arg.replace(S3_CONFIG_DIR + "/.s3cfg", str(config))
              .replace(model_dir, str(target)) for arg in init["args"]]
    done = subprocess.run([*init["command"], *mapped], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("uri", ["s3://models/mnist/", "s3://models/mnist"])
def test_tensorflow_layout(s3cfg: Path, tmp_path: Path, uri: str) -> None:
    init = _downloader(uri, "/var/lib/t9k/model")
    _download(init, s3cfg, "/var/lib/t9k/model", tmp_path)
    assert _files(tmp_path) == {
        "1/saved_model.pb": b"graph",
        "1/variables/variables.index": b"index",
        "1/variables/variables.data-00000-of-00001": b"data",
    }


def test_nested_prefix_for_torchserve(s3cfg: Path, tmp_path: Path) -> None:
    init = _downloader("s3://models/team/vision", "/home/model-server/model-store")
    _download(init, s3cfg, "/home/model-server/model-store", tmp_path)
    assert _files(tmp_path) == {"resnet-18.mar": b"archive",
                                "config.properties": b"inference_address=http://0.0.0.0:8080"}


def test_credentials_stay_in_the_mounted_file(s3cfg: Path) -> None:
    init = _downloader("s3://models/mnist/", "/var/lib/t9k/model")
    text = repr(init)
    assert "testing" not in text and "env" not in init
    assert any(arg.startswith("--config=") for arg in init["args"])
