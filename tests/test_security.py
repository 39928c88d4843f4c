"""Least privilege in what krmfn generates, and a real policy scanner over it.

The S3 credentials reach the downloader init container only, as a read-only file with a
restrictive mode, and appear nowhere else in the output. The generated pods mount no
service-account token and drop what a serving image does not need. checkov's kubernetes
framework scans the default output; the checks that still fail are exactly those listed,
with the reason, in tests/security/checkov-accepted.yaml (and the README).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, generated, krmfn, load

S3CFG = ("[default]\naccess_key = AKIAIOSFODNN7EXAMPLE\n"
         "secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
         "host_base = minio.storage.svc:9000\nhost_bucket = minio.storage.svc:9000\n"
         "use_https = False\n")
ENCODED = base64.b64encode(S3CFG.encode()).decode()
INPUT = f"""apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: s3-secret
    namespace: demo
    labels:
      tensorstack.dev/resource: s3
  type: Opaque
  data:
    .s3cfg: {ENCODED}
- apiVersion: tensorstack.dev/v1beta1
  kind: SimpleMLService
  metadata:
    name: mnist
    namespace: demo
  spec:
    storage:
      s3:
        secretName: s3-secret
        uri: s3://models/mnist/
    tensorflow:
      image: t9kpublic/tensorflow-serving:2.6.0
- apiVersion: tensorstack.dev/v1beta1
  kind: SimpleMLService
  metadata:
    name: resnet
    namespace: demo
  spec:
    storage:
      pvc:
        name: models
        subPath: resnet
    pytorch:
      image: pytorch/torchserve:0.12.0-cpu
"""


def _outputs() -> list[dict[str, Any]]:
    run = krmfn(stdin=INPUT)
    assert run.code == 0, run.stderr
    return generated(load(run.stdout)["items"])


def test_credentials_appear_only_in_their_secret() -> None:
    run = krmfn(stdin=INPUT)
    assert run.code == 0
    secrets = ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ENCODED]
    assert all(run.stdout.count(s) == (1 if s == ENCODED else 0) for s in secrets)
    assert all(s not in run.stderr for s in secrets)
    for obj in _outputs():
        assert not any(s in json.dumps(obj) for s in secrets)


def test_secret_reaches_the_downloader_only() -> None:
    deployment = next(o for o in _outputs() if o["metadata"]["name"] == "mnist"
                      and o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    secret_volume = next(v for v in pod["volumes"] if "secret" in v)
    assert secret_volume["secret"]["defaultMode"] == 0o440
    assert secret_volume["secret"]["items"] == [{"key": ".s3cfg", "path": ".s3cfg"}]
    downloader = pod["initContainers"][0]
    mounts = {m["name"]: m for m in downloader["volumeMounts"]}
    assert mounts[secret_volume["name"]]["readOnly"] is True
    for container in pod["containers"]:
        assert secret_volume["name"] not in {m["name"] for m in container["volumeMounts"]}
        assert all(m.get("readOnly") for m in container["volumeMounts"])
    for container in [downloader, *pod["containers"]]:
        assert "env" not in container and "envFrom" not in container
    context = downloader["securityContext"]
    assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["fsGroup"] == context["runAsGroup"]


def test_pods_mount_no_token_and_keep_the_serving_images_working() -> None:
    for deployment in (o for o in _outputs() if o["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context == {"allowPrivilegeEscalation": False,
                               "capabilities": {"drop": ["ALL"]}}


def test_custom_pod_keeps_its_own_token_choice() -> None:
    text = INPUT.replace("""    tensorflow:
      image: t9kpublic/tensorflow-serving:2.6.0
""", """    custom:
      spec:
        automountServiceAccountToken: true
        containers:
        - name: server
          image: t9kpublic/tensorflow-serving:2.6.0
""")
    run = krmfn(stdin=text)
    assert run.code == 0, run.stderr
    deployment = next(o for o in generated(load(run.stdout)["items"])
                      if o["kind"] == "Deployment" and o["metadata"]["name"] == "mnist")
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is True


def _checkov() -> str:
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    if local.exists():
        return str(local)
    found = shutil.which("checkov")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("checkov is required in CI; scripts/install-test-tools installs it")
    pytest.skip("checkov is not installed (scripts/install-test-tools installs it)")


@pytest.mark.integration
def test_checkov_findings_are_the_accepted_ones(tmp_path: Path) -> None:
    checkov = _checkov()
    manifests = tmp_path / "manifests.yaml"
    manifests.write_text("".join("---\n" + yaml.safe_dump(o, sort_keys=False)
                                 for o in _outputs()))
    done = subprocess.run([checkov, "--framework", "kubernetes", "--file", str(manifests),
                           "--output", "json", "--compact", "--skip-download"],
                          capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = {c["check_id"] for r in reports for c in r["results"]["failed_checks"]}
    passed = {c["check_id"] for r in reports for c in r["results"]["passed_checks"]}
    accepted = yaml.safe_load((ROOT / "tests" / "security" / "checkov-accepted.yaml").read_text())
    assert failed == set(accepted), f"failing checks changed: {sorted(failed)}"
    assert len(passed) >= 40, f"only {len(passed)} checks passed"
    readme = (ROOT / "README.md").read_text()
    assert all(check in readme for check in accepted), "README must list every accepted check"
