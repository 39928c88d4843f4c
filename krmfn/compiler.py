"""Compile one validated SimpleMLService into its Deployment, Service and server config.

A pure function over plain dicts: it takes the dict that `krmfn.validation` returns (both
spellings of a field already folded into one) and the run's `Options`, and gives new dicts.
Nothing here reads or writes YAML, and the input is never changed.

What each field becomes is fixed by the contract in the project's SPEC; in short:
tensorflow and pytorch get a container `user-container` from their server's module
(`krmfn.servers`: command line, ports, probes, how the pod stops), and pytorch a ConfigMap
`<name>-torchserve` with TorchServe's configuration; custom keeps the user's PodSpec; the
model volume comes from `krmfn.storage` (a PVC mounted read-only, or S3 copied in by an init
container, the Secret reaching that container only). Every output carries the same labels
and the annotation naming its source.
"""

from __future__ import annotations

from krmfn.constants import Obj
from krmfn.emitter import frozen
from krmfn.loader import clone
from krmfn.options import Options
from krmfn.servers import tensorflow, torchserve
from krmfn.storage import add_model_volume, model_dir

SELECTOR_LABEL = "tensorstack.dev/simplemlservice"
QUEUE_LABEL = "scheduler.tensorstack.dev/queue"
SOURCE_ANNOTATION = "krmfn.dev/generated-from"
T9K_SCHEDULER = "t9k-scheduler"
_POD_SECURITY = frozen({"seccompProfile": {"type": "RuntimeDefault"}})
# The serving images need their own user and a writable root (TorchServe writes logs into
# its working directory), so only what never breaks them is taken away here.
_SERVING_SECURITY = frozen({"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}})
_POD_ORDER = ("terminationGracePeriodSeconds", "automountServiceAccountToken", "schedulerName",
              "securityContext", "initContainers", "containers", "volumes")


def source_ref(namespace: str | None, name: str) -> str:
    """The value of the annotation that ties a generated object to its SimpleMLService."""
    return f"SimpleMLService/{namespace}/{name}" if namespace else f"SimpleMLService/{name}"


def compile_service(sml: Obj, options: Options) -> list[Obj]:
    """The objects a validated SimpleMLService becomes: Deployment, Service, [ConfigMap]."""
    meta = sml["metadata"]
    spec = sml["spec"]
    name = meta["name"]
    ref = source_ref(meta.get("namespace"), name)
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
    out_meta["annotations"] = {SOURCE_ANNOTATION: ref}

    template_meta: Obj = {"labels": dict(labels)}
    queue = spec.get("scheduler", {}).get("t9kScheduler", {}).get("queue")
    if queue is not None:
        template_meta["labels"][QUEUE_LABEL] = queue
    pod = _pod_spec(name, spec, options, queue is not None)
    extra: list[Obj] = []
    if "pytorch" in spec and not options.torchserve_config_map:
        properties = torchserve.config_properties(options)
        template_meta["annotations"] = {
            torchserve.CONFIG_HASH_ANNOTATION: torchserve.config_hash(properties)}
        extra.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {**clone(out_meta),
                                   "name": torchserve.config_map_name(name)},
                      "data": {torchserve.CONFIG_KEY: properties}})
    deployment_spec: Obj = {
        "replicas": spec.get("replicas", 1),
        "selector": {"matchLabels": {SELECTOR_LABEL: name}},
    }
    if "strategy" in spec:
        deployment_spec["strategy"] = clone(spec["strategy"])
    deployment_spec["template"] = {"metadata": template_meta, "spec": pod}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": clone(out_meta), "spec": deployment_spec}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": out_meta,
               "spec": _service_spec(name, spec.get("service", {}))}
    return [deployment, service, *extra]


def warnings(sml: Obj) -> list[tuple[str, str]]:
    """What compiles but will likely not serve as meant: (field path, message) pairs."""
    spec = sml["spec"]
    return tensorflow.layout_warnings(spec) if "tensorflow" in spec else []


def _pod_spec(name: str, spec: Obj, options: Options, t9k: bool) -> Obj:
    if "custom" in spec:
        # The user's PodSpec, as written: what krmfn adds goes after the user's keys.
        pod: Obj = clone(spec["custom"]["spec"])
        if pod.get("automountServiceAccountToken") is None:
            pod["automountServiceAccountToken"] = False
        if t9k:
            pod["schedulerName"] = T9K_SCHEDULER
        add_model_volume(pod, spec, options.downloader_image)
        return pod
    where = model_dir(spec)
    pod = {
        "terminationGracePeriodSeconds": options.termination_grace_period_seconds,
        "automountServiceAccountToken": False,
        "securityContext": _POD_SECURITY,
    }
    if t9k:
        pod["schedulerName"] = T9K_SCHEDULER
    if "tensorflow" in spec:
        framework = spec["tensorflow"]
        server = tensorflow.container(name, framework, where, options)
    else:
        framework = spec["pytorch"]
        server = torchserve.container(framework, where, options)
        pod["volumes"] = [torchserve.config_volume(name, options)]
    if "resources" in framework:
        server["resources"] = clone(framework["resources"])
    server["securityContext"] = _SERVING_SECURITY
    pod["containers"] = [_ordered_container(server)]
    add_model_volume(pod, spec, options.downloader_image)
    return _ordered(pod)


def _ordered_container(container: Obj) -> Obj:
    """The serving container with its mounts last, as people read containers."""
    mounts = container.pop("volumeMounts", None)
    if mounts is not None:
        container["volumeMounts"] = mounts
    return container


def _ordered(pod: Obj) -> Obj:
    """The pod's keys in reading order: settings, init containers, containers, volumes."""
    first = {key: pod[key] for key in _POD_ORDER if key in pod}
    return {**first, **{key: value for key, value in pod.items() if key not in first}}


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
    out["ports"] = ports or [{"name": "http", "port": 80, "targetPort": 8080,
                              "protocol": "TCP"}]
    return out


