"""Inputs for the benchmarks: ResourceLists and kpt packages of a given size.

A tenth of the items are SimpleMLServices (alternating TensorFlow from S3 and TorchServe from
a PVC); the rest are ConfigMaps, Services and Deployments with comments, quoted strings and
kpt's path and index annotations, as a real package rendered by kpt would send them.
"""

from __future__ import annotations

from pathlib import Path


def _other(i: int) -> str:
    kind = ("ConfigMap", "Service", "Deployment")[i % 3]
    body = {
        "ConfigMap": '  data:\n    version: "0123" # quoted on purpose\n    mode: production\n',
        "Service": "  spec:\n    ports:\n    - port: 80 # http\n      targetPort: 8080\n",
        "Deployment": "  spec:\n    replicas: 2 # two for safety\n    selector:\n"
                      f"      matchLabels: {{app: app-{i}}}\n",
    }[kind]
    return (f"- apiVersion: {'apps/v1' if kind == 'Deployment' else 'v1'}\n  kind: {kind}\n"
            f"  metadata:\n    name: app-{i}\n    namespace: team-{i % 17}\n"
            f"    annotations:\n      config.kubernetes.io/index: '0'\n"
            f"      config.kubernetes.io/path: 'apps/app-{i}.yaml'\n{body}")


def _model(i: int) -> str:
    if i % 2:
        spec = ("    storage:\n      pvc: {name: models, subPath: torch}\n"
                "    pytorch:\n      image: pytorch/torchserve:0.12.0-cpu # pinned\n")
    else:
        spec = ("    storage:\n      s3:\n        secretName: s3-secret\n"
                f"        uri: s3://models/model-{i}/\n"
                "    tensorflow:\n      image: t9kpublic/tensorflow-serving:2.6.0\n")
    return (f"- apiVersion: tensorstack.dev/v1beta1\n  kind: SimpleMLService\n  metadata:\n"
            f"    name: model-{i}\n    namespace: team-{i % 17}\n    annotations:\n"
            f"      config.kubernetes.io/index: '0'\n"
            f"      config.kubernetes.io/path: 'models/model-{i}.yaml'\n"
            f"  spec:\n    replicas: 2 # serving pods\n{spec}")


def items(count: int) -> list[str]:
    """`count` items as block-sequence entries; every tenth is a SimpleMLService."""
    return [_model(i) if i % 10 == 0 else _other(i) for i in range(count)]


def resource_list(count: int) -> str:
    """A ResourceList of `count` items."""
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(
        items(count))


def package(count: int, root: Path) -> Path:
    """A kpt package of `count` objects, one file each, under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                  "  name: bench\n  annotations:\n"
                                  "    config.kubernetes.io/local-config: \"true\"\n")
    for i, text in enumerate(items(count)):
        lines = text.splitlines(keepends=True)
        body = [line[2:] for line in lines]
        folder, stem = ("models", "model") if i % 10 == 0 else ("apps", "app")
        path = root / folder / f"{stem}-{i}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(line for line in body
                                if "config.kubernetes.io/" not in line and
                                line.strip() != "annotations:"))
    return root
