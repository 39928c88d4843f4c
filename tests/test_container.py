"""The function's image, for real: built with podman, run by kpt and by kustomize.

kustomize runs container functions with the network off; kpt runs the image through podman
(KPT_FN_RUNTIME=podman). Each of kustomization-examples/ is built with `kubectl kustomize
--enable-alpha-plugins` (its `docker` is a shim to podman) and must give the build output
kept in its `.expected/build.yaml`. Note that kubectl's kustomize silently skips `exec:`
functions, which is why these examples use the image.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, check_golden, load, validate_object
from tests.tools import copy_package, docker_shim, image, podman_env, run

__all__ = ["docker_shim", "image"]
pytestmark = pytest.mark.integration
EXAMPLES = sorted(p for p in (ROOT / "kustomization-examples").iterdir() if p.is_dir())


def _tree(package: Path) -> dict[str, bytes]:
    return {str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_kustomize_example(example: Path, image: str, docker_shim: Path) -> None:
    env = {"PATH": f"{docker_shim}{os.pathsep}{os.environ['PATH']}", **podman_env()}
    built = run("kubectl", "kustomize", "--enable-alpha-plugins", example, env=env)
    assert built.returncode == 0, built.stderr
    check_golden(example / ".expected" / "build.yaml", built.stdout)
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
        "pytorchExtraArgs": "--disable-token-auth"}}]}
    (package / "Kptfile").write_text(yaml.safe_dump(kptfile, sort_keys=False))
    done = run("kpt", "fn", "render", package, env={"KPT_FN_RUNTIME": "podman", **podman_env()})
    assert done.returncode == 0, done.stderr
    deployment = next(yaml.safe_load_all((package / "resnet.generated.yaml").read_text()))
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-1] == "--disable-token-auth"


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
