"""The function's image, for real: built with podman, run by kpt and by kustomize.

kustomize runs container functions with the network off; kpt runs the image through podman
(KPT_FN_RUNTIME=podman). Each of kustomization-examples/ is built with `kubectl kustomize
--enable-alpha-plugins` (its `docker` is a shim to podman) and must give the build output
kept in its `.expected/build.yaml`. Note that kubectl's kustomize silently skips `exec:`
functions, which is why these examples use the image.

The image is also the default model downloader: the init container the image itself
generates is run as Kubernetes would run it (its uid, a read-only root with no writable
/tmp, its two mounts) against a real S3 server (moto on loopback). And the image stays
small: at most 100 MB, with no shell.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from krmfn import __version__
from tests.helpers import (
    ROOT,
    app_id,
    check_golden,
    kustomize_apps,
    load,
    validate_object,
)
from tests.tools import copy_package, docker_shim, image, moto_s3, podman_env, run

__all__ = ["docker_shim", "image"]
pytestmark = pytest.mark.integration
APPS = kustomize_apps()
CASE = ROOT / "tests" / "cases" / "tensorflow-s3"
MAX_IMAGE_BYTES = 100 * 1000 * 1000
SHELLS = {"sh", "ash", "bash", "dash", "ksh", "mksh", "zsh", "busybox", "toybox"}
MODEL = {  # what tests/cases/tensorflow-s3 downloads (s3://models/mnist/), and a neighbour
    "mnist/1/saved_model.pb": b"graph",
    "mnist/1/variables/variables.index": b"index",
    "mnist/1/variables/variables.data-00000-of-00001": b"data",
    "mnist-v2/1/saved_model.pb": b"another model: must not be copied",
}


def _tree(package: Path) -> dict[str, bytes]:
    return {str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("example", "expected"), APPS, ids=[app_id(a) for a, _ in APPS])
def test_kustomize_example(example: Path, expected: Path, image: str,
                           docker_shim: Path) -> None:
    env = {"PATH": f"{docker_shim}{os.pathsep}{os.environ['PATH']}", **podman_env()}
    built = run("kubectl", "kustomize", "--enable-alpha-plugins", example, env=env)
    assert built.returncode == 0, built.stderr
    check_golden(expected, built.stdout)
    objects = list(yaml.safe_load_all(built.stdout))
    assert {o["kind"] for o in objects} >= {"Deployment", "Service"}
    assert "SimpleMLService" not in {o["kind"] for o in objects}
    for obj in objects:
        if obj["kind"] in ("Deployment", "Service"):
            validate_object(obj)


def test_kpt_eval_with_the_image_matches_exec(image: str, tmp_path: Path) -> None:
    source = ROOT / "catalog" / "examples" / "tensorflow-s3"
    by_image = copy_package(source, tmp_path / "image")
    by_exec = copy_package(source, tmp_path / "exec")
    done = run("kpt", "fn", "eval", by_image, "--image", image, env={
        "KPT_FN_RUNTIME": "podman", **podman_env()})
    assert done.returncode == 0, done.stderr
    wrapper = tmp_path / "krmfn"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec python3 -m krmfn \"$@\"\n")
    wrapper.chmod(0o755)
    done = run("kpt", "fn", "eval", by_exec, "--exec", wrapper)
    assert done.returncode == 0, done.stderr
    assert _tree(by_image) == _tree(by_exec)
    again = run("kpt", "fn", "eval", by_image, "--image", image, env={
        "KPT_FN_RUNTIME": "podman", **podman_env()})
    assert again.returncode == 0, again.stderr
    assert _tree(by_image) == _tree(by_exec), "a second run changed the package"


def test_kpt_render_with_an_image_pipeline(image: str, tmp_path: Path) -> None:
    package = copy_package(ROOT / "catalog" / "examples" / "pytorch-pvc-options", tmp_path / "p")
    kptfile = load((package / "Kptfile").read_text())
    kptfile["pipeline"] = {"mutators": [{"image": image, "configMap": {
        "pytorchExtraArgs": "--ncs"}}]}
    (package / "Kptfile").write_text(yaml.safe_dump(kptfile, sort_keys=False))
    done = run("kpt", "fn", "render", package, env={"KPT_FN_RUNTIME": "podman", **podman_env()})
    assert done.returncode == 0, done.stderr
    deployment = next(yaml.safe_load_all((package / "resnet.generated.yaml").read_text()))
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-1] == "--ncs"


def test_image_runs_as_non_root_without_network_on_a_read_only_root(image: str) -> None:
    user = run("podman", "image", "inspect", "--format", "{{.Config.User}}", image,
               env=podman_env())
    assert user.stdout.strip() == "65532:65532"
    source = (ROOT / "tests" / "cases" / "tensorflow-s3" / "input.yaml").read_text()
    done = run_stdin(["podman", "run", "--rm", "-i", "--network", "none", "--read-only",
                      "--cap-drop", "ALL", "--security-opt", "no-new-privileges", image],
                     source)
    assert done[0] == 0, done[2]
    assert done[1] == (ROOT / "tests" / "cases" / "tensorflow-s3" / "expected.yaml").read_text()
    probe = run("podman", "run", "--rm", "--network", "none", "--read-only", "--entrypoint",
                "s3cmd", image, "--version", env=podman_env())
    assert probe.returncode == 0 and "s3cmd version" in probe.stdout + probe.stderr


def run_stdin(command: list[str], stdin: str) -> tuple[int, str, str]:
    """Run `command` with `stdin`; give (exit code, stdout, stderr)."""
    import subprocess  # noqa: PLC0415

    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **podman_env()}, check=False)
    return done.returncode, done.stdout, done.stderr


def test_image_prints_its_version(image: str) -> None:
    done = run("podman", "run", "--rm", "--network", "none", "--read-only", image, "--version",
               env=podman_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"krmfn {__version__}"


def _image_files(image: str) -> dict[str, tarfile.TarInfo]:
    """Every path in the image's root file system (a container's export), without the
    leading slash."""
    created = run("podman", "create", image, env=podman_env())
    assert created.returncode == 0, created.stderr
    container = created.stdout.strip()
    try:
        exported = subprocess.run(["podman", "export", container], capture_output=True,
                                  env={**os.environ, **podman_env()}, timeout=300, check=True)
    finally:
        run("podman", "rm", container, env=podman_env())
    with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as tar:
        return {m.name.removeprefix("./").rstrip("/"): m for m in tar.getmembers()}


def test_image_is_small_and_has_no_shell(image: str) -> None:
    size = run("podman", "image", "inspect", "--format", "{{.Size}}", image, env=podman_env())
    assert size.returncode == 0, size.stderr
    assert int(size.stdout) <= MAX_IMAGE_BYTES, f"the image is {int(size.stdout):,} bytes"
    files = _image_files(image)
    assert "bin/sh" not in files and "usr/bin/sh" not in files
    assert not {p for p in files if Path(p).name in SHELLS}, "the image carries a shell"
    assert not {p for p in files if Path(p).name in {"apt", "dpkg", "pip", "pip3"}}
    # What the entry point and the downloader run on is there, owned by root, not writable
    # by the user the image runs as.
    for path in ("opt/krmfn/bin/krmfn", "opt/krmfn/bin/s3cmd", "etc/passwd", "etc/group"):
        member = files[path]
        assert member.uid == 0 and not member.mode & 0o022, path
    passwd = run("podman", "run", "--rm", "--network", "none", "--read-only", "--entrypoint",
                 "/opt/krmfn/bin/python", image, "-c",
                 "import grp, pwd, os; print(pwd.getpwuid(os.getuid()).pw_name, "
                 "grp.getgrgid(os.getgid()).gr_name, os.environ['HOME'], os.environ['TMPDIR'])",
                 env=podman_env())
    assert passwd.returncode == 0, passwd.stderr
    assert passwd.stdout.split() == ["nonroot", "nonroot", "/tmp", "/tmp"]


@pytest.fixture(scope="module")
def s3_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A moto S3 server on loopback holding MODEL in bucket `models`; give a directory
    holding its `.s3cfg`, as the Secret is mounted in the init container."""
    secret = tmp_path_factory.mktemp("secret")
    secret.chmod(0o755)
    with moto_s3(secret, MODEL):
        yield secret


def _init_container(image: str) -> dict[str, Any]:
    """The model-downloader init container that the image generates for the S3 case."""
    done = run_stdin(["podman", "run", "--rm", "-i", "--network", "none", image],
                     (CASE / "input.yaml").read_text())
    assert done[0] == 0, done[2]
    deployment = next(o for o in load(done[1])["items"] if o["kind"] == "Deployment")
    init: dict[str, Any] = deployment["spec"]["template"]["spec"]["initContainers"][0]
    return init


def test_image_is_the_downloader_its_init_container_runs(image: str, s3_config: Path,
                                                         tmp_path: Path) -> None:
    init = _init_container(image)
    assert init["image"] == image, "the default downloader image is not the function's image"
    config = next(a.removeprefix("--config=") for a in init["args"]
                  if a.startswith("--config="))
    security = init["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    model = tmp_path / "model"  # the emptyDir, writable by the pod's fsGroup
    model.mkdir()
    os.chown(model, security["runAsUser"], security["runAsGroup"])
    mounts = []
    for mount in init["volumeMounts"]:
        if mount["mountPath"] == os.path.dirname(config):
            assert mount.get("readOnly") is True
            mounts += ["--volume", f"{s3_config}:{mount['mountPath']}:ro"]
        else:
            mounts += ["--volume", f"{model}:{mount['mountPath']}"]
    # As the kubelet runs it: its uid and gid, no capabilities, and a read-only root with
    # nothing writable but the model volume (podman's own tmpfs on /tmp is turned off).
    done = run("podman", "run", "--rm", "--network", "host", "--read-only",
               "--read-only-tmpfs=false", "--cap-drop", "ALL", "--security-opt",
               "no-new-privileges", "--user",
               f"{security['runAsUser']}:{security['runAsGroup']}", *mounts,
               "--entrypoint", init["command"][0], image, *init["command"][1:], *init["args"],
               env=podman_env())
    assert "Can't set owner/group" not in done.stderr, (
        "s3cmd sync restores the uploader's owner, which a non-root init container cannot: "
        f"the downloader's arguments need --no-preserve\n{done.stderr}")
    assert done.returncode == 0, done.stderr
    files = {str(p.relative_to(model)): p.read_bytes() for p in model.rglob("*") if p.is_file()}
    assert files == {name.removeprefix("mnist/"): data for name, data in MODEL.items()
                     if name.startswith("mnist/")}
