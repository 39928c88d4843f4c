"""The benchmark's inputs: ResourceLists as kpt sends them, and kpt packages; deterministic.

Workloads (every function here gives the same text for the same count, on every machine):

- ``mixed``: a tenth of the items are SimpleMLServices, the rest commented ConfigMaps (labels,
  quoted values, an embedded properties file), the common package krmfn copies through.
- ``services``: every item a SimpleMLService: TensorFlow from S3, TorchServe from a PVC and a
  custom multi-container PodSpec, 40/40/20, each with comments, labels and resources.
- ``rerun``: the output of ``services`` fed back, the steady state under kpt (nothing to
  change); krmfn itself writes it, when benchmarks/run.py starts.

Each item carries the annotations kpt adds to every object it sends a function (path, index,
ids, sequence indent), and the list ends with kpt's empty functionConfig.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
FUNCTION_CONFIG = ("functionConfig:\n  metadata:\n    name: function-input\n  data: {}\n"
                   "  kind: ConfigMap\n  apiVersion: v1\n")
WORKLOADS = ("mixed", "services", "rerun")
_MODELS = ("mnist", "resnet", "bert", "yolo", "whisper", "vit", "t5", "clip", "gpt2", "unet")
_PARTS = ("vision", "speech", "search", "ranking", "fraud", "ads", "maps")
_TEAMS = 23


def _annotations(path: str, index: int, indent: str = "      ") -> str:
    """The annotations kpt gives an object it reads from `path` (the `index`-th sent)."""
    return "".join(f"{indent}{key}: '{value}'\n" for key, value in (
        ("config.kubernetes.io/index", "0"),
        ("config.kubernetes.io/path", path),
        ("internal.config.kubernetes.io/index", "0"),
        ("internal.config.kubernetes.io/path", path),
        ("internal.config.kubernetes.io/seqindent", "compact"),
        ("internal.config.kubernetes.io/annotations-migration-resource-id", str(index)),
        ("internal.config.kubernetes.io/id", str(index + 1)),
        ("config.k8s.io/id", str(index + 1))))


def _metadata(name: str, namespace: str, labels: dict[str, str], path: str, index: int) -> str:
    label_text = "".join(f"      {key}: {value}\n" for key, value in labels.items())
    return (f"  metadata:\n    name: {name}\n    namespace: {namespace}\n"
            f"    labels:\n{label_text}    annotations:\n{_annotations(path, index)}")


def config_map(i: int) -> str:
    """The `i`-th ConfigMap: settings of one application, as people write them."""
    app = f"{_PARTS[i % len(_PARTS)]}-api-{i}"
    team = f"team-{i % _TEAMS}"
    replicas = 2 + i % 3
    return (
        f"- # Settings of {app}, read at start-up.\n"
        "  apiVersion: v1\n  kind: ConfigMap\n"
        + _metadata(f"{app}-config", team, {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/part-of": _PARTS[i % len(_PARTS)],
            "app.kubernetes.io/managed-by": "kpt"}, f"apps/{app}/configmap.yaml", i)
        + "  data:\n"
        "    # Logging: info in production, debug when chasing a bug.\n"
        "    LOG_LEVEL: info\n"
        f'    WORKERS: "{replicas * 4}" # four per pod\n'
        f'    ZIP_PREFIX: "0{i % 1000:03d}" # quoted: a leading zero\n'
        "    FEATURE_FLAGS: 'checkout,search,recommendations'\n"
        f"    DATABASE_HOST: db-{i % _TEAMS}.{team}.svc.cluster.local\n"
        "    TIMEOUT: 30s\n"
        "    ENABLE_TRACING: 'true'\n"
        "    application.properties: |\n"
        "      server.port=8080\n"
        f"      spring.datasource.url=jdbc:postgresql://db-{i % _TEAMS}:5432/{app}\n"
        "      spring.datasource.hikari.maximum-pool-size=10\n"
        f"      cache.ttl={300 + i % 60}\n"
        "      management.endpoints.web.exposure.include=health,prometheus\n")


def _service_head(i: int, kind: str, index: int) -> tuple[str, str]:
    """The first lines of the `i`-th SimpleMLService of `kind`, and its model's name."""
    model = _MODELS[i % len(_MODELS)]
    name = f"{model}-{kind}-{i}"
    team = f"team-{i % _TEAMS}"
    part = _PARTS[i % len(_PARTS)]
    head = (f"- # The {model} model server of {team} ({part}).\n"
            "  apiVersion: tensorstack.dev/v1beta1\n  kind: SimpleMLService\n"
            + _metadata(name, team, {"app.kubernetes.io/part-of": part, "team": team},
                        f"models/{team}/{name}.yaml", index))
    return head, model


def tensorflow_s3(i: int, index: int) -> str:
    """TensorFlow Serving with its model synced from S3."""
    head, model = _service_head(i, "tf", index)
    team = i % _TEAMS
    return (head + "  spec:\n"
            f"    replicas: {2 + i % 2} # two pods at least: a rollout never drops the model\n"
            "    storage:\n      s3:\n"
            f"        secretName: s3-credentials-{team}\n"
            f"        uri: s3://models-team-{team}/{model}/v{i % 7 + 1}/\n"
            + ("        containerPath: /var/lib/t9k/model\n" if i % 3 == 0 else "")
            + "    tensorflow:\n"
            f"      image: t9kpublic/tensorflow-serving:2.{6 + i % 3}.0\n"
            "      resources:\n        requests:\n          cpu: 1\n          memory: 1Gi\n"
            "        limits:\n          memory: 2Gi # headroom for the warm-up batch\n")


def pytorch_pvc(i: int, index: int) -> str:
    """TorchServe with its model archive on a PersistentVolumeClaim."""
    head, model = _service_head(i, "torch", index)
    strategy = ("    strategy:\n      type: RollingUpdate\n      rollingUpdate:\n"
                "        maxSurge: 1\n        maxUnavailable: 0\n") if i % 2 else ""
    scheduler = (f"    scheduler:\n      t9kScheduler:\n        queue: gpu-{i % 4}\n"
                 if i % 4 == 0 else "")
    return (head + "  spec:\n"
            f"    replicas: {1 + i % 3}\n" + strategy + scheduler
            + "    storage:\n      pvc:\n"
            f"        name: model-store-{i % _TEAMS}\n"
            f"        subPath: torchserve/{model}/{i}\n"
            "    pytorch:\n"
            "      image: pytorch/torchserve:0.12.0-cpu # pinned: 0.13 changed the config\n"
            f'      modelsFlag: "{model}={model}-{i}.mar"\n'
            "      resources:\n        limits:\n          cpu: \"2\"\n          memory: 4Gi\n")


def custom(i: int, index: int) -> str:
    """Triton with a metrics sidecar and a warm-up init container: a custom PodSpec."""
    head, model = _service_head(i, "triton", index)
    team = i % _TEAMS
    storage = (f"    storage:\n      pvc:\n        name: model-repo-{team}\n"
               "        containerPath: /models\n") if i % 2 else (
        f"    storage:\n      s3:\n        secretName: s3-credentials-{team}\n"
        f"        uri: s3://models-team-{team}/triton/{model}/\n        containerPath: /models\n")
    return (head + "  spec:\n    replicas: 2\n" + storage
            + "    custom:\n      spec:\n"
            "        securityContext:\n          runAsUser: 1000\n          runAsGroup: 1000\n"
            "        initContainers:\n"
            "        - name: warmup\n          image: busybox:1.36\n"
            '          command: [sh, -c, "cp /models/warmup/* /cache/ || true"]\n'
            "          volumeMounts:\n          - name: cache\n            mountPath: /cache\n"
            "        containers:\n"
            "        - name: server\n"
            "          image: nvcr.io/nvidia/tritonserver:24.08-py3\n"
            "          args:\n          - tritonserver\n          - --model-repository=/models\n"
            "          - --http-port=8000\n          - --grpc-port=8001\n"
            "          - --metrics-port=8002\n"
            f"          - --model-control-mode=explicit # load {model} only\n"
            f"          - --load-model={model}\n"
            "          env:\n          - name: CUDA_VISIBLE_DEVICES\n            value: \"0\"\n"
            f"          - name: MODEL_NAME\n            value: {model}\n"
            "          ports:\n          - name: http\n            containerPort: 8000\n"
            "          - name: grpc\n            containerPort: 8001\n"
            "          - name: metrics\n            containerPort: 8002\n"
            "          readinessProbe:\n            httpGet:\n"
            "              path: /v2/health/ready\n              port: http\n"
            "            periodSeconds: 5\n"
            "          resources:\n            requests:\n              cpu: \"4\"\n"
            "              memory: 8Gi\n            limits:\n              memory: 16Gi\n"
            "              nvidia.com/gpu: 1\n"
            "          volumeMounts:\n          - name: cache\n            mountPath: /cache\n"
            "        - name: metrics-exporter # scraped by the cluster's Prometheus\n"
            "          image: prom/statsd-exporter:v0.26.1\n"
            "          args: [--statsd.listen-udp=:9125, --web.listen-address=:9102]\n"
            "          ports:\n          - name: prom\n            containerPort: 9102\n"
            "          resources:\n            requests:\n              cpu: 50m\n"
            "              memory: 64Mi\n"
            "        volumes:\n        - name: cache\n          emptyDir:\n"
            "            sizeLimit: 2Gi\n"
            "    service:\n      ports:\n"
            "      - name: http\n        port: 8000\n"
            "      - name: grpc\n        port: 8001\n"
            "      - name: metrics\n        port: 8002\n        targetPort: metrics\n")


_SERVICE_KINDS: tuple[Callable[[int, int], str], ...] = (
    tensorflow_s3, tensorflow_s3, pytorch_pvc, pytorch_pvc, custom)


def service(i: int, index: int | None = None) -> str:
    """The `i`-th SimpleMLService: TensorFlow+S3, TensorFlow+S3, PyTorch+PVC twice, custom."""
    return _SERVICE_KINDS[i % len(_SERVICE_KINDS)](i, i if index is None else index)


def mixed_items(count: int) -> list[str]:
    """`count` items, every tenth a SimpleMLService (the 40/40/20 mix), the rest ConfigMaps."""
    return [service(i // 10, i) if i % 10 == 0 else config_map(i) for i in range(count)]


def service_items(count: int) -> list[str]:
    """`count` SimpleMLServices."""
    return [service(i) for i in range(count)]


def resource_list(items: list[str]) -> str:
    """A ResourceList of the given block-sequence entries, as kpt sends it."""
    return HEADER + "".join(items) + FUNCTION_CONFIG


def mixed(count: int) -> str:
    """Workload (a): a package of ConfigMaps, a tenth SimpleMLServices."""
    return resource_list(mixed_items(count))


def services(count: int) -> str:
    """Workload (b): every item a SimpleMLService."""
    return resource_list(service_items(count))


def package(count: int, root: Path) -> Path:
    """A kpt package of the `count` items of the mixed workload, one file each, under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                  "  name: bench\n  annotations:\n"
                                  "    config.kubernetes.io/local-config: \"true\"\n")
    for text in mixed_items(count):
        lines = text.splitlines(keepends=True)
        path = next(line.split("'")[1] for line in lines
                    if "config.kubernetes.io/path:" in line)
        body = "".join(line[2:] for line in lines
                       if "config.k" not in line and line.strip() != "annotations:")
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    return root
