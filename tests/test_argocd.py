"""The Argo CD plugin, run as Argo CD's CMP server runs it, over a repository with the app
shapes GitOps teams have.

As the cmp-server does (argoproj/argo-cd `cmpserver/plugin/plugin.go`, `util/cmp/stream.go`):
the whole repository is unpacked into a fresh directory (file modes reset to 0644/0755), and
the discover and generate commands of argocd/plugin.yaml run exactly as written, in the
app's directory, with the sidecar's environment and Argo CD's variables (ARGOCD_APP_*,
ARGOCD_ENV_* for the Application's plugin env), and no container runtime on PATH: kustomize
is there (`kubectl kustomize` here), docker is not.

The repository: kustomization-examples/multi-env (a base of SimpleMLServices; dev and prod
overlays that declare krmfn as their transformer; prod-gpu on top of prod) plus an overlay
that does not declare krmfn, an unrelated kustomize app, a plain app, a Helm-style stream,
and the project's own kustomization-examples served as apps. Each overlay must give the
objects its container-mode kustomize build gives (kept in `.expected/`, which
tests/test_container.py checks against the real image).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, app_id, kustomize_apps, need, validate_object

pytestmark = pytest.mark.integration
PLUGIN = yaml.safe_load((ROOT / "argocd" / "plugin.yaml").read_text())["spec"]
APPS = kustomize_apps()
STAGING = """\
# An overlay that does not declare krmfn: the plugin compiles the base's SimpleMLServices
# after kustomize has patched them.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
namespace: ml-staging
patches:
- target:
    kind: SimpleMLService
  patch: |-
    - op: replace
      path: /spec/replicas
      value: 2
"""
UNRELATED = {
    "kustomization.yaml": "resources: [app.yaml]\ncommonLabels: {team: web}\n",
    "app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: '1'}\n",
}
PLAIN = {
    "models.yaml": "# A plain app: no kustomization, just files.\n"
                   "apiVersion: tensorstack.dev/v1beta1\nkind: SimpleMLService\n"
                   "metadata:\n  name: plain\nspec:\n  tensorflow:\n"
                   "    image: tensorflow/serving:2.16.1\n",
    "settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                     "  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/"
                     "default/Deployment/plain\ndata:\n  a: '1'  # kept as written\n",
}
HELM_STREAM = """\
---
# Source: models/templates/serving.yaml
apiVersion: tensorstack.dev/v1beta1
kind: SimpleMLService
metadata:
  name: charted
  labels:
    helm.sh/chart: models-1.0.0
spec:
  pytorch:
    image: pytorch/torchserve:0.12.0-cpu
---
# Source: models/templates/empty.yaml
---
# Source: models/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: charted-settings
data:
  a: "1"
"""


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout Argo CD would hand the plugin: unpacked afresh, modes reset."""
    source = tmp_path_factory.mktemp("git")
    shutil.copytree(ROOT / "kustomization-examples", source / "examples",
                    ignore=shutil.ignore_patterns(".expected"))
    shutil.copytree(source / "examples" / "multi-env", source / "models")
    _write(source / "models" / "overlays" / "staging", {"kustomization.yaml": STAGING})
    _write(source / "unrelated", UNRELATED)
    _write(source / "plain", PLAIN)
    _write(source / "helm", {"rendered.yaml": HELM_STREAM})
    unpacked = tmp_path_factory.mktemp("_cmp_server") / str(uuid.uuid4())
    shutil.copytree(source, unpacked)
    for path in [unpacked, *unpacked.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return unpacked


@pytest.fixture(scope="module")
def sidecar_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sidecar's PATH: krmfn and kustomize, and no container runtime."""
    directory = tmp_path_factory.mktemp("bin")
    krmfn = directory / "krmfn"
    krmfn.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m krmfn \"$@\"\n")
    krmfn.chmod(0o755)
    (directory / "kubectl").symlink_to(need("kubectl"))
    (directory / "sh").symlink_to(shutil.which("sh") or "/bin/sh")  # for the krmfn wrapper
    return str(directory)


def _cmp(step: dict[str, list[str]], repository: Path, app: str, path: str,
         **env: str) -> subprocess.CompletedProcess[str]:
    command = [*step["command"], *step.get("args", [])]
    environment = {
        "PATH": path, "HOME": str(repository.parent), "TMPDIR": str(repository.parent),
        "ARGOCD_APP_NAME": app.replace("/", "-"), "ARGOCD_APP_NAMESPACE": "ml",
        "ARGOCD_APP_PROJECT_NAME": "default", "ARGOCD_APP_REVISION": "0" * 40,
        "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/ml/models.git",
        "ARGOCD_APP_SOURCE_PATH": app, "ARGOCD_APP_SOURCE_TARGET_REVISION": "HEAD",
        "KUBE_VERSION": "1.33.0", "KUBE_API_VERSIONS": "v1,apps/v1", **env}
    return subprocess.run(command, cwd=repository / app, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def _objects(text: str) -> list[dict[str, Any]]:
    found = [o for o in yaml.safe_load_all(text) if o]

    def key(obj: dict[str, Any]) -> tuple[str, str, str]:
        meta = obj.get("metadata") or {}
        return obj["kind"], meta.get("namespace", ""), meta["name"]

    return sorted(found, key=key)


@pytest.mark.parametrize(("example", "expected"), APPS, ids=[app_id(a) for a, _ in APPS])
def test_each_example_serves_the_objects_its_kustomize_build_gives(
        example: Path, expected: Path, repository: Path, sidecar_path: str) -> None:
    app = "examples/" + app_id(example)
    found = _cmp(PLUGIN["discover"]["find"], repository, app, sidecar_path)
    assert found.returncode == 0 and found.stdout.strip(), found.stderr
    done = _cmp(PLUGIN["generate"], repository, app, sidecar_path)
    assert done.returncode == 0, done.stderr
    assert _objects(done.stdout) == _objects(expected.read_text())


def test_an_overlay_without_krmfn_gets_its_patched_base_compiled(
        repository: Path, sidecar_path: str) -> None:
    app = "models/overlays/staging"
    found = _cmp(PLUGIN["discover"]["find"], repository, app, sidecar_path)
    assert found.stdout.split() == ["../../base/models.yaml"], found.stderr
    done = _cmp(PLUGIN["generate"], repository, app, sidecar_path)
    assert done.returncode == 0, done.stderr
    objects = _objects(done.stdout)
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert set(deployments) == {"mnist", "resnet"}
    assert {d["spec"]["replicas"] for d in deployments.values()} == {2}
    assert {o["metadata"]["namespace"] for o in objects} == {"ml-staging"}
    assert "SimpleMLService" not in {o["kind"] for o in objects}
    for obj in objects:
        validate_object(obj)


def test_the_gpu_overlay_patches_what_krmfn_generated(repository: Path,
                                                      sidecar_path: str) -> None:
    done = _cmp(PLUGIN["generate"], repository, "models/overlays/prod-gpu", sidecar_path)
    assert done.returncode == 0, done.stderr
    resnet = next(o for o in _objects(done.stdout)
                  if o["kind"] == "Deployment" and o["metadata"]["name"] == "prod-resnet")
    pod = resnet["spec"]["template"]["spec"]
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu" and resnet["spec"]["replicas"] == 3
    assert pod["containers"][0]["resources"]["requests"]["cpu"] == "2"


def test_a_plain_app_keeps_its_documents_as_written(repository: Path,
                                                    sidecar_path: str) -> None:
    found = _cmp(PLUGIN["discover"]["find"], repository, "plain", sidecar_path)
    assert found.stdout.split() == ["models.yaml"]
    done = _cmp(PLUGIN["generate"], repository, "plain", sidecar_path,
                ARGOCD_ENV_KRMFN_SHUTDOWN_DELAY_SECONDS="12")
    assert done.returncode == 0, done.stderr
    assert "---\n" + PLAIN["settings.yaml"] in done.stdout  # the user's own annotation kept
    deployment = next(o for o in _objects(done.stdout) if o["kind"] == "Deployment")
    lifecycle = deployment["spec"]["template"]["spec"]["containers"][0]["lifecycle"]
    assert lifecycle["preStop"]["exec"]["command"] == ["sleep", "12"]
    for obj in _objects(done.stdout):
        assert not any(k.startswith(("config.kubernetes.io/path", "internal.config"))
                       for k in (obj["metadata"].get("annotations") or {}))


def test_a_helm_style_stream_is_compiled(repository: Path, sidecar_path: str) -> None:
    found = _cmp(PLUGIN["discover"]["find"], repository, "helm", sidecar_path)
    assert found.stdout.split() == ["rendered.yaml"]
    done = _cmp(PLUGIN["generate"], repository, "helm", sidecar_path)
    assert done.returncode == 0, done.stderr
    kinds = [(o["kind"], o["metadata"]["name"]) for o in _objects(done.stdout)]
    assert kinds == [("ConfigMap", "charted-settings"), ("ConfigMap", "charted-torchserve"),
                     ("Deployment", "charted"), ("Service", "charted")]


def test_an_unrelated_app_is_never_claimed(repository: Path, sidecar_path: str) -> None:
    found = _cmp(PLUGIN["discover"]["find"], repository, "unrelated", sidecar_path)
    assert found.returncode == 0 and found.stdout == "", found.stderr


def test_errors_reach_the_argocd_ui(repository: Path, sidecar_path: str) -> None:
    _write(repository / "broken-app", {"models.yaml": PLAIN["models.yaml"].replace(
        "tensorflow:", "tensorflw:")})
    done = _cmp(PLUGIN["generate"], repository, "broken-app", sidecar_path)
    assert done.returncode == 1, done.stdout
    assert "file models.yaml" in done.stderr and "field spec.tensorflw" in done.stderr
    assert "did you mean 'tensorflow'?" in done.stderr and "Traceback" not in done.stderr
    _write(repository / "empty-app", {"models.yaml": "# nothing but a comment\n"})
    done = _cmp(PLUGIN["generate"], repository, "empty-app", sidecar_path)
    assert done.returncode == 1 and done.stdout == "" and "nothing to apply" in done.stderr


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
    need("kubectl")
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
    pod = deployment["spec"]["template"]["spec"]
    assert {c["name"] for c in pod["containers"]} == {"krmfn", "argocd-repo-server"}
    sidecar = next(c for c in pod["containers"] if c["name"] == "krmfn")
    kustomize = next(e["value"] for e in sidecar["env"] if e["name"] == "KRMFN_KUSTOMIZE")
    copied = pod["initContainers"][0]["command"][-1]
    assert kustomize.split()[0] == copied, "the sidecar must run the kustomize copied for it"


def test_plugin_commands_need_no_shell() -> None:
    for step in (PLUGIN["discover"]["find"], PLUGIN["generate"]):
        assert step["command"][0] == "krmfn", "the krmfn image has no shell to run sh -c in"
    assert os.path.basename(PLUGIN["generate"]["command"][0]) == "krmfn"
