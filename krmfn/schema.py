"""The SimpleMLService API and the function's own options, as pydantic types.

These `TypedDict`s are the single definition of what users may write. From them come the
validator (frozen into `krmfn._validator` so that a run needs only `pydantic_core`), the
published JSON schema and CustomResourceDefinition (`krmfn.crd`), and the field table of the
README. Validation turns a loaded SimpleMLService into a plain dict with both spellings of a
field folded into one (`secretRef.name` into `secretName`, `mountPath` into `containerPath`);
`krmfn.compiler` takes that dict. Run-time rules beyond types live in `krmfn.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, ConfigDict, Field, PlainValidator, WithJsonSchema, with_config
from typing_extensions import TypedDict

from krmfn import checks
from krmfn.constants import (
    DEFAULT_DOWNLOADER_IMAGE,
    DEFAULT_GRACE_SECONDS,
    DEFAULT_MODEL_DIR,
    DEFAULT_SHUTDOWN_DELAY_SECONDS,
)

_CLOSED = ConfigDict(extra="forbid", strict=True)
_OPEN = ConfigDict(extra="allow", strict=True)


ServiceName = Annotated[str, AfterValidator(checks.dns1035_label), Field(
    description="Name of the SimpleMLService, and of the Deployment and Service made from it.",
    json_schema_extra={"pattern": checks.DNS1035_LABEL, "maxLength": 63})]
Label = Annotated[str, AfterValidator(checks.dns1123_label), Field(
    description="A DNS-1123 label.",
    json_schema_extra={"pattern": checks.DNS1123_LABEL, "maxLength": 63})]
Subdomain = Annotated[str, AfterValidator(checks.dns1123_subdomain), Field(
    description="A DNS-1123 subdomain.",
    json_schema_extra={"pattern": checks.DNS1123_SUBDOMAIN, "maxLength": 253})]
Image = Annotated[str, AfterValidator(checks.image), Field(
    description="Container image reference.", json_schema_extra={"minLength": 1})]
ModelDir = Annotated[str, AfterValidator(checks.absolute_path), Field(
    description="Directory of the model in the serving container "
    f"(default {DEFAULT_MODEL_DIR}).", json_schema_extra={"pattern": "^/"})]
Quantity = Annotated[Any, PlainValidator(checks.quantity), WithJsonSchema(
    {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": checks.QUANTITY}]})]
IntOrPortName = Annotated[Any, PlainValidator(checks.int_or_port_name), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string"}]})]
IntOrPercent = Annotated[Any, PlainValidator(checks.int_or_percent), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+%$"}]})]
Port = Annotated[int, Field(ge=1, le=65535)]


@with_config(_OPEN)
class ObjectMeta(TypedDict):
    """Standard object metadata; fields other than these are kept as they are."""

    name: ServiceName
    namespace: NotRequired[Annotated[Label, Field(description="Namespace of the outputs too.")]]
    labels: NotRequired[Annotated[dict[str, str], AfterValidator(checks.labels), Field(
        description="Copied to the Deployment, its pods and the Service.")]]
    annotations: NotRequired[dict[str, str]]


@with_config(_CLOSED)
class RollingUpdate(TypedDict):
    """Bounds of a rolling update."""

    maxSurge: NotRequired[IntOrPercent]
    maxUnavailable: NotRequired[IntOrPercent]


@with_config(_CLOSED)
class DeploymentStrategy(TypedDict):
    """An apps/v1 DeploymentStrategy, copied to the Deployment."""

    type: NotRequired[Literal["RollingUpdate", "Recreate"]]
    rollingUpdate: NotRequired[RollingUpdate]


@with_config(_CLOSED)
class T9kScheduler(TypedDict):
    """The T9k scheduler and the queue the pods wait in."""

    queue: Annotated[str, Field(
        min_length=1, description="Queue of the T9k scheduler (it becomes a label value).",
        json_schema_extra={"pattern": checks.LABEL_VALUE, "maxLength": 63}),
        AfterValidator(checks.label_value)]


@with_config(_CLOSED)
class Scheduler(TypedDict):
    """Which scheduler places the pods; absent means the Kubernetes default scheduler."""

    t9kScheduler: NotRequired[T9kScheduler]


@with_config(_CLOSED)
class SecretRef(TypedDict):
    """A reference to a Secret by name."""

    name: Subdomain


@with_config(_CLOSED)
class S3Storage(TypedDict):
    """A model in S3, downloaded into the model directory before the server starts."""

    secretName: NotRequired[Annotated[Subdomain, Field(
        description="Secret whose `.s3cfg` key holds an s3cmd configuration.")]]
    secretRef: NotRequired[Annotated[SecretRef, Field(
        description="Other spelling of secretName: `{name: ...}`.")]]
    uri: Annotated[str, AfterValidator(checks.s3_uri), Field(
        description="Where the model is: s3://bucket/path/ (a directory prefix).",
        json_schema_extra={"pattern": checks.S3_URI})]
    containerPath: NotRequired[ModelDir]
    mountPath: NotRequired[Annotated[ModelDir, Field(description="Other spelling of "
                                                     "containerPath.")]]


@with_config(_CLOSED)
class PVCStorage(TypedDict):
    """A model on a PersistentVolumeClaim, mounted read-only."""

    name: Annotated[Subdomain, Field(description="The PersistentVolumeClaim.")]
    subPath: NotRequired[Annotated[str, AfterValidator(checks.sub_path), Field(
        description="Directory of the model inside the volume: relative, without `..`.")]]
    containerPath: NotRequired[ModelDir]
    mountPath: NotRequired[Annotated[ModelDir, Field(description="Other spelling of "
                                                     "containerPath.")]]


@with_config(_CLOSED)
class Storage(TypedDict):
    """Where the model comes from: at most one of s3 or pvc."""

    s3: NotRequired[Annotated[S3Storage, AfterValidator(checks.s3_storage)]]
    pvc: NotRequired[Annotated[PVCStorage, AfterValidator(checks.pvc_storage)]]


@with_config(_CLOSED)
class ResourceRequirements(TypedDict):
    """Compute resources of the serving container, copied as given."""

    limits: NotRequired[dict[str, Quantity]]
    requests: NotRequired[dict[str, Quantity]]
    claims: NotRequired[list[dict[str, str]]]


@with_config(_CLOSED)
class TensorFlow(TypedDict):
    """Serve with TensorFlow Serving (`tensorflow_model_server`)."""

    image: Image
    resources: NotRequired[ResourceRequirements]


@with_config(_CLOSED)
class PyTorch(TypedDict):
    """Serve with TorchServe (`torchserve`)."""

    image: Image
    modelsFlag: NotRequired[Annotated[str, Field(min_length=1, description=(
        "Value of torchserve's --models, e.g. `resnet-18=resnet-18.mar` (default `all`)."))]]
    resources: NotRequired[ResourceRequirements]


@with_config(_OPEN)
class VolumeMount(TypedDict):
    """A container's volume mount (other fields kept as they are)."""

    name: str
    mountPath: str


@with_config(_OPEN)
class Container(TypedDict):
    """A container of a custom pod (other fields kept as they are)."""

    name: Label
    image: Image
    volumeMounts: NotRequired[list[VolumeMount] | None]


@with_config(_OPEN)
class Volume(TypedDict):
    """A volume of a custom pod (other fields kept as they are)."""

    name: Label


@with_config(_OPEN)
class PodSpec(TypedDict):
    """A core/v1 PodSpec; the model volume and its mounts are added to it."""

    containers: Annotated[list[Container], Field(min_length=1)]
    initContainers: NotRequired[list[Container] | None]
    volumes: NotRequired[list[Volume] | None]


@with_config(_CLOSED)
class Custom(TypedDict):
    """Serve with a pod of your own; without spec.service it must listen on 8080."""

    spec: Annotated[PodSpec, AfterValidator(checks.custom_pod)]


@with_config(_CLOSED)
class ServicePort(TypedDict):
    """A core/v1 ServicePort; targetPort defaults to port, protocol to TCP."""

    name: NotRequired[Label]
    port: Port
    targetPort: NotRequired[IntOrPortName]
    protocol: NotRequired[Literal["TCP", "UDP", "SCTP"]]
    nodePort: NotRequired[Port]
    appProtocol: NotRequired[str]


@with_config(_CLOSED)
class Service(TypedDict):
    """The Service in front of the pods (default: port 80 to the pods' 8080)."""

    type: NotRequired[Literal["ClusterIP", "NodePort", "LoadBalancer"]]
    ports: NotRequired[Annotated[list[ServicePort], Field(min_length=1)]]


@with_config(_CLOSED)
class SimpleMLServiceSpec(TypedDict):
    """What to serve and how; exactly one of tensorflow, pytorch or custom."""

    replicas: NotRequired[Annotated[int, Field(
        ge=0, le=2**31 - 1, description="Number of pods (default 1).",
        json_schema_extra={"default": 1})]]
    strategy: NotRequired[Annotated[DeploymentStrategy, AfterValidator(checks.strategy)]]
    scheduler: NotRequired[Scheduler]
    storage: NotRequired[Annotated[Storage, AfterValidator(checks.storage)]]
    tensorflow: NotRequired[TensorFlow]
    pytorch: NotRequired[PyTorch]
    custom: NotRequired[Custom]
    service: NotRequired[Annotated[Service, AfterValidator(checks.service)]]


@with_config(_CLOSED)
class SimpleMLService(TypedDict):
    """A machine-learning model server, compiled by krmfn into a Deployment and a Service."""

    apiVersion: Literal["tensorstack.dev/v1beta1"]
    kind: Literal["SimpleMLService"]
    metadata: ObjectMeta
    spec: Annotated[SimpleMLServiceSpec, AfterValidator(checks.spec)]
    status: NotRequired[dict[str, Any]]


@with_config(_OPEN)
class OptionsMeta(TypedDict):
    """Metadata of the options object (any fields)."""

    name: NotRequired[str]


@with_config(_CLOSED)
class _SimpleMLServiceOptions(TypedDict):
    """Options of the krmfn function, as its typed functionConfig."""

    apiVersion: Literal["fn.krmfn.dev/v1alpha1"]
    kind: Literal["SimpleMLServiceOptions"]
    metadata: NotRequired[OptionsMeta]
    downloaderImage: NotRequired[Annotated[Image, Field(description=(
        "Image of the model-downloader init container; it must have s3cmd on its PATH "
        f"(default {DEFAULT_DOWNLOADER_IMAGE})."))]]
    tensorflowExtraArgs: NotRequired[Annotated[list[str], Field(description=(
        "Arguments appended to tensorflow_model_server's."))]]
    pytorchExtraArgs: NotRequired[Annotated[list[str], Field(description=(
        "Arguments appended to torchserve's, e.g. --ncs."))]]
    torchserveProperties: NotRequired[Annotated[dict[str, str], AfterValidator(
        checks.properties), Field(description=(
            "TorchServe configuration properties added to the generated config.properties, or "
            "overriding its own (e.g. default_workers_per_model: \"2\"). In a ConfigMap: "
            "key=value lines."))]]
    torchserveConfigMap: NotRequired[Annotated[Subdomain, Field(description=(
        "A ConfigMap of your own, in the SimpleMLService's namespace, whose config.properties "
        "key TorchServe reads instead of the generated one (then no ConfigMap is generated)."
    ))]]
    terminationGracePeriodSeconds: NotRequired[Annotated[int, Field(
        ge=0, le=2**63 - 1, description=(
            f"The pods' grace period for built-in servers (default {DEFAULT_GRACE_SECONDS})."))]]
    shutdownDelaySeconds: NotRequired[Annotated[int, Field(ge=0, le=2**63 - 1, description=(
        "Seconds a stopping built-in server keeps answering before it is sent SIGTERM, "
        "while the pod leaves the Service's endpoints (a preStop sleep; 0: none; default "
        f"{DEFAULT_SHUTDOWN_DELAY_SECONDS})."))]]


SimpleMLServiceOptions = Annotated[_SimpleMLServiceOptions, AfterValidator(checks.options)]
