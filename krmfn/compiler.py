"""Compile one validated SimpleMLService into its Deployment and Service.

A pure function over plain dicts: it takes the dict that `krmfn.validation` returns (both
spellings of a field already folded into one) and the run's `Options`, and gives two new
dicts. Nothing here reads or writes YAML, and the input is never changed.

What each field becomes is fixed by the contract in the project's SPEC; in short:
tensorflow and pytorch get a container `user-container` with the server's command line,
ports and readiness probe; custom keeps the user's PodSpec; `storage.pvc` mounts the claim
read-only; `storage.s3` adds an init container that copies the model with s3cmd, the Secret
reaching that container only.
"""

from __future__ import annotations

import copy
from typing import Any

from krmfn.constants import DEFAULT_MODEL_DIR, MODEL_VOLUME, S3_CONFIG_VOLUME
from krmfn.options import Options

SELECTOR_LABEL = "tensorstack.dev/simplemlservice"
QUEUE_LABEL = "scheduler.tensorstack.dev/queue"
SOURCE_ANNOTATION = "krmfn.dev/generated-from"
T9K_SCHEDULER = "t9k-scheduler"
SERVING_CONTAINER = "user-container"
DOWNLOADER_CONTAINER = "model-downloader"
S3_CONFIG_DIR = "/var/run/secrets/krmfn/s3"
DOWNLOADER_UID = 65532
HTTP_PORT = 8080
GRPC_PORT = 9090

Obj = dict[str, Any]


def source_ref(namespace: str | None, name: str) -> str:
    """The value of the annotation that ties a generated object to its SimpleMLService."""
    return f"SimpleMLService/{namespace}/{name}" if namespace else f"SimpleMLService/{name}"


def compile_service(sml: Obj, options: Options) -> tuple[Obj, Obj]:
    """Return the (Deployment, Service) for a validated SimpleMLService."""
    meta = sml["metadata"]
    spec = sml["spec"]
    name = meta["name"]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/managed-by": "krmfn",
        **meta.get("labels", {}),
        SELECTOR_LABEL: name,
    }
    out_meta: Obj = {"name": name}
    if "namespace" in meta:
        out_meta["namespace"] = meta["namespace"]
    out_meta["labels"] = labels
    out_meta["annotations"] = {SOURCE_ANNOTATION: source_ref(meta.get("namespace"), name)}

    pod_labels = dict(labels)
    queue = spec.get("scheduler", {}).get("t9kScheduler", {}).get("queue")
    if queue is not None:
        pod_labels[QUEUE_LABEL] = queue
    deployment_spec: Obj = {
        "replicas": spec.get("replicas", 1),
        "selector": {"matchLabels": {SELECTOR_LABEL: name}},
    }
    if "strategy" in spec:
        deployment_spec["strategy"] = copy.deepcopy(spec["strategy"])
    deployment_spec["template"] = {
        "metadata": {"labels": pod_labels},
        "spec": _pod_spec(name, spec, options, queue is not None),
    }
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": copy.deepcopy(out_meta), "spec": deployment_spec}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": out_meta,
               "spec": _service_spec(name, spec.get("service", {}))}
    return deployment, service


def _model_dir(spec: Obj) -> str | None:
    storage = spec.get("storage", {})
    for kind in ("s3", "pvc"):
        if kind in storage:
            return str(storage[kind]["containerPath"])
    return None


def _pod_spec(name: str, spec: Obj, options: Options, t9k: bool) -> Obj:
    model_dir = _model_dir(spec) or DEFAULT_MODEL_DIR
    if "custom" in spec:
        pod = copy.deepcopy(spec["custom"]["spec"])
        pod.setdefault("automountServiceAccountToken", False)
    else:
        pod = {
            "automountServiceAccountToken": False,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_serving_container(name, spec, options, model_dir)],
        }
    if t9k:
        pod["schedulerName"] = T9K_SCHEDULER
    storage = spec.get("storage", {})
    if "pvc" in storage:
        _add_model_volume(pod, model_dir, {"persistentVolumeClaim": {
            "claimName": storage["pvc"]["name"], "readOnly": True}}, storage["pvc"].get("subPath"))
    elif "s3" in storage:
        _add_model_volume(pod, model_dir, {"emptyDir": {}}, None)
        _add_downloader(pod, storage["s3"], model_dir, options)
    return _ordered(pod)


_POD_ORDER = ("automountServiceAccountToken", "schedulerName", "securityContext",
              "initContainers", "containers", "volumes")


def _ordered(pod: Obj) -> Obj:
    """The pod's keys in reading order: settings, init containers, containers, volumes."""
    first = {key: pod[key] for key in _POD_ORDER if key in pod}
    return {**first, **{key: value for key, value in pod.items() if key not in first}}


def _serving_container(name: str, spec: Obj, options: Options, model_dir: str) -> Obj:
    if "tensorflow" in spec:
        framework = spec["tensorflow"]
        command = ["/usr/bin/tensorflow_model_server"]
        args = [f"--port={GRPC_PORT}", f"--rest_api_port={HTTP_PORT}", f"--model_name={name}",
                f"--model_base_path={model_dir}", *options.tensorflow_extra_args]
        ports = [_port("http", HTTP_PORT), _port("grpc", GRPC_PORT)]
        probe_path = f"/v1/models/{name}"
    else:
        framework = spec["pytorch"]
        command = ["torchserve"]
        args = ["--start", f"--model-store={model_dir}", "--models",
                framework.get("modelsFlag", "all"), "--foreground", *options.pytorch_extra_args]
        ports = [_port("http", HTTP_PORT)]
        probe_path = "/ping"
    container: Obj = {
        "name": SERVING_CONTAINER,
        "image": framework["image"],
        "command": command,
        "args": args,
        "ports": ports,
        "readinessProbe": {"httpGet": {"path": probe_path, "port": HTTP_PORT}},
        # Loading a large model can take minutes: the startup probe allows ten of them
        # before the liveness probe (is the server still listening?) takes over.
        "startupProbe": {"tcpSocket": {"port": HTTP_PORT}, "periodSeconds": 10,
                         "failureThreshold": 60},
        "livenessProbe": {"tcpSocket": {"port": HTTP_PORT}, "periodSeconds": 10,
                          "failureThreshold": 3},
    }
    if "resources" in framework:
        container["resources"] = copy.deepcopy(framework["resources"])
    # The serving images need their own user and a writable root (TorchServe writes logs
    # into its working directory), so only what never breaks them is taken away here.
    container["securityContext"] = {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}
    return container


def _port(name: str, number: int) -> Obj:
    return {"name": name, "containerPort": number, "protocol": "TCP"}


def _add_model_volume(pod: Obj, model_dir: str, source: Obj, sub_path: str | None) -> None:
    mount: Obj = {"name": MODEL_VOLUME, "mountPath": model_dir, "readOnly": True}
    if sub_path:
        mount["subPath"] = sub_path
    for container in pod["containers"]:
        container.setdefault("volumeMounts", []).append(dict(mount))
    pod.setdefault("volumes", []).append({"name": MODEL_VOLUME, **source})


def _add_downloader(pod: Obj, s3: Obj, model_dir: str, options: Options) -> None:
    uri = s3["uri"] if s3["uri"].endswith("/") else s3["uri"] + "/"
    downloader = {
        "name": DOWNLOADER_CONTAINER,
        "image": options.downloader_image,
        "command": ["s3cmd"],
        "args": [f"--config={S3_CONFIG_DIR}/.s3cfg", "--no-progress", "sync", uri,
                 model_dir + "/"],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "512Mi"}},
        "volumeMounts": [
            {"name": MODEL_VOLUME, "mountPath": model_dir},
            {"name": S3_CONFIG_VOLUME, "mountPath": S3_CONFIG_DIR, "readOnly": True},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": DOWNLOADER_UID,
            "runAsGroup": DOWNLOADER_UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod["initContainers"] = [downloader, *pod.get("initContainers", [])]
    pod.setdefault("volumes", []).append({"name": S3_CONFIG_VOLUME, "secret": {
        "secretName": s3["secretName"],
        "items": [{"key": ".s3cfg", "path": ".s3cfg"}],
        "defaultMode": 0o440,
    }})
    # The Secret's file is readable by its group only: make the downloader's group the
    # pod's fsGroup, unless the pod already names one (then the downloader is in it too).
    pod.setdefault("securityContext", {}).setdefault("fsGroup", DOWNLOADER_UID)


def _service_spec(name: str, service: Obj) -> Obj:
    ports: list[Obj] = []
    for given in service.get("ports", []):
        port: Obj = {}
        if "name" in given:
            port["name"] = given["name"]
        port["port"] = given["port"]
        port["targetPort"] = given.get("targetPort", given["port"])
        port["protocol"] = given.get("protocol", "TCP")
        for key in ("nodePort", "appProtocol"):
            if key in given:
                port[key] = given[key]
        ports.append(port)
    out: Obj = {}
    if "type" in service:
        out["type"] = service["type"]
    out["selector"] = {SELECTOR_LABEL: name}
    out["ports"] = ports or [{"name": "http", "port": 80, "targetPort": HTTP_PORT,
                              "protocol": "TCP"}]
    return out
