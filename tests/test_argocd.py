"""The Argo CD plugin, run as Argo CD's CMP server runs it: the discover and generate
commands of argocd/plugin.yaml, exactly as written, in an application's directory, with the
environment the server gives (ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, ARGOCD_ENV_*)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, generated, validate_object

PLUGIN = yaml.safe_load((ROOT / "argocd" / "plugin.yaml").read_text())["spec"]


def _cmp(step: dict[str, list[str]], app: Path, bin_dir: Path,
         **env: str) -> subprocess.CompletedProcess[str]:
    command = [*step["command"], *step.get("args", [])]
    environment = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                   "ARGOCD_APP_NAME": "models", "ARGOCD_APP_NAMESPACE": "demo",
                   "ARGOCD_APP_SOURCE_PATH": app.name, **env}
    return subprocess.run(command, cwd=app, env=environment, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    wrapper = directory / "krmfn"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m krmfn \"$@\"\n")
    wrapper.chmod(0o755)
    return directory


@pytest.fixture
def app(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    shutil.copytree(ROOT / "kustomization-examples" / "pytorch-pvc", directory,
                    ignore=shutil.ignore_patterns(".expected", "kustomization.yaml",
                                                  "krmfn.yaml"))
    (directory / "secret.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: '1'\n")
    return directory


def test_discover_finds_simplemlservices(app: Path, bin_dir: Path, tmp_path: Path) -> None:
    found = _cmp(PLUGIN["discover"]["find"], app, bin_dir)
    assert found.returncode == 0 and "simplemlservice.yaml" in found.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "cm.yaml").write_text("kind: ConfigMap\n")
    assert _cmp(PLUGIN["discover"]["find"], empty, bin_dir).stdout == ""


def test_generate_prints_plain_manifests(app: Path, bin_dir: Path) -> None:
    done = _cmp(PLUGIN["generate"], app, bin_dir,
                ARGOCD_ENV_KRMFN_PYTORCH_EXTRA_ARGS="--disable-token-auth --ncs",
                ARGOCD_ENV_KRMFN_DOWNLOADER_IMAGE="registry.example.com/s3cmd:2.4.0")
    assert done.returncode == 0, done.stderr
    objects = [o for o in yaml.safe_load_all(done.stdout) if o]
    assert sorted(o["kind"] for o in objects) == ["ConfigMap", "ConfigMap", "Deployment", "Service"]
    for obj in objects:
        notes = obj["metadata"].get("annotations", {})
        assert not any(k.startswith(("config.kubernetes.io", "internal.config")) for k in notes)
    for obj in generated(objects):
        validate_object(obj)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-2:] == ["--disable-token-auth", "--ncs"]


def test_generate_fails_with_the_field_on_bad_input(app: Path, bin_dir: Path) -> None:
    path = app / "simplemlservice.yaml"
    path.write_text(path.read_text().replace("subPath: torchserve/resnet", "subPath: /abs"))
    done = _cmp(PLUGIN["generate"], app, bin_dir)
    assert done.returncode == 1
    assert "field spec.storage.pvc.subPath" in done.stderr
    assert "file simplemlservice.yaml" in done.stderr
    assert "Traceback" not in done.stderr


REPO_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v2.13.0
        volumeMounts:
        - {name: var-files, mountPath: /var/run/argocd}
        - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}
      volumes:
      - {name: var-files, emptyDir: {}}
      - {name: plugins, emptyDir: {}}
"""


def test_install_files_build(tmp_path: Path) -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    built = subprocess.run(["kubectl", "kustomize", str(ROOT / "argocd")], capture_output=True,
                           text=True, check=False)
    assert built.returncode == 0, built.stderr
    configmap = yaml.safe_load(built.stdout)
    validate_object(configmap)
    assert yaml.safe_load(configmap["data"]["plugin.yaml"])["kind"] == "ConfigManagementPlugin"
    (tmp_path / "repo-server.yaml").write_text(REPO_SERVER)
    shutil.copy(ROOT / "argocd" / "repo-server-patch.yaml", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [repo-server.yaml]\npatches:\n- path: repo-server-patch.yaml\n")
    patched = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True,
                             text=True, check=False)
    assert patched.returncode == 0, patched.stderr
    deployment = yaml.safe_load(patched.stdout)
    validate_object(deployment)
    names = [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert set(names) == {"krmfn", "argocd-repo-server"}
