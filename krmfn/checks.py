"""The rules a SimpleMLService must follow beyond its field types.

Each function takes an already type-checked value and returns it (possibly normalized), or
raises a `PydanticCustomError` whose message says what was expected and what was found. The
schema in `krmfn.schema` attaches them to fields; they live apart from it, free of pydantic
itself, so that the frozen validator (`krmfn._validator`) can call them without importing
pydantic at run time. Where a rule is about a child of the value it checks, the error's
context carries that child's name under `field`, and `krmfn.results` extends the path.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from pydantic_core import PydanticCustomError

from krmfn.constants import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_MODEL_DIR,
    DEFAULT_SHUTDOWN_DELAY_SECONDS,
    FRAMEWORKS,
    MODEL_VOLUME,
    S3_CONFIG_VOLUME,
)

DNS1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
LABEL_NAME = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$"
S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"
IANA_SVC_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"



def show(value: Any) -> str:
    """Render a found value for an error message: JSON-like, cut at 80 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # pragma: no cover - defensive: default=str covers all
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def fail(message: str, field: str | None = None) -> PydanticCustomError:
    """Build the error for a broken rule; `field` names the child the rule is about."""
    return PydanticCustomError("krmfn", message, {"field": field} if field else None)


def _matches(pattern: str, value: str, max_len: int) -> bool:
    return len(value) <= max_len and re.match(pattern, value) is not None


def _name(value: str, pattern: str, max_len: int, expected: str) -> str:
    """`value` when it matches `pattern` within `max_len` characters, else the error."""
    if not _matches(pattern, value, max_len):
        raise fail(f"expected {expected}, at most {max_len} characters), found {show(value)}")
    return value


def dns1035_label(value: str) -> str:
    """A Service name: what `metadata.name` must be, since the Service takes that name."""
    return _name(value, DNS1035_LABEL, 63, "a DNS-1035 label (lower-case letters, digits and "
                 "'-', starting with a letter, ending with a letter or digit")


def dns1123_label(value: str) -> str:
    """A namespace or container name."""
    return _name(value, DNS1123_LABEL, 63, "a DNS-1123 label (lower-case letters, digits and "
                 "'-', starting and ending with a letter or digit")


def dns1123_subdomain(value: str) -> str:
    """A Secret or PersistentVolumeClaim name."""
    return _name(value, DNS1123_SUBDOMAIN, 253, "a DNS-1123 subdomain (lower-case letters, "
                 "digits, '-' and '.'")


def labels(value: dict[str, str]) -> dict[str, str]:
    """Label keys (`[prefix/]name`) and values as Kubernetes accepts them."""
    for key, val in value.items():
        prefix, _, name = key.rpartition("/")
        if not _matches(LABEL_NAME, name, 63) or (prefix and not _matches(
                DNS1123_SUBDOMAIN, prefix, 253)):
            raise fail(f"expected a label key of the form [prefix/]name, found {show(key)}",
                       f"[{key}]")
        if not _matches(LABEL_VALUE, val, 63):
            raise fail(
                "expected a label value (at most 63 letters, digits, '-', '_' or '.', starting "
                f"and ending with a letter or digit), found {show(val)}",
                f"[{key}]",
            )
    return value


def image(value: str) -> str:
    """A container image reference: not empty, no white space."""
    if not value or any(c.isspace() for c in value):
        raise fail(f"expected a container image reference, found {show(value)}")
    return value


def quantity(value: Any) -> int | float | str:
    """A resource quantity: a number, or a string such as `500m` or `1Gi`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise fail(f"expected a quantity such as 1, 0.5, \"500m\" or \"1Gi\", found {show(value)}")
    if isinstance(value, str) and not re.match(QUANTITY, value):
        raise fail(f"expected a quantity such as 1, 0.5, \"500m\" or \"1Gi\", found {show(value)}")
    if not isinstance(value, str) and value < 0:
        raise fail(f"expected a quantity >= 0, found {show(value)}")
    return value


def int_or_port_name(value: Any) -> int | str:
    """A `targetPort`: a port number 1-65535 or a named container port."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    if isinstance(value, str) and _matches(IANA_SVC_NAME, value, 15) and re.search("[a-z]", value):
        return value
    raise fail(f"expected a port number 1-65535 or a port name, found {show(value)}")


def int_or_percent(value: Any) -> int | str:
    """A rolling-update bound: a whole number or a percentage such as `25%`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and re.match(r"^[0-9]+%$", value):
        return value
    raise fail(f"expected a number >= 0 or a percentage such as \"25%\", found {show(value)}")


def absolute_path(value: str) -> str:
    """A directory in the container: absolute, normalized, not the root."""
    if not value.startswith("/"):
        raise fail(f"expected an absolute path (starting with '/'), found {show(value)}")
    if ".." in value.split("/") or posixpath.normpath(value) == "/" or ":" in value:
        raise fail(f"expected an absolute directory other than '/', without '..' or ':', "
                   f"found {show(value)}")
    return posixpath.normpath(value)


def sub_path(value: str) -> str:
    """A path inside a volume: relative, without `..`."""
    if value.startswith("/"):
        raise fail(f"expected a relative path (not starting with '/'), found {show(value)}")
    if ".." in value.split("/"):
        raise fail(f"expected a path without '..' components, found {show(value)}")
    return value


def s3_uri(value: str) -> str:
    """An S3 location: `s3://bucket/prefix`; the prefix is taken as a directory."""
    if not re.match(S3_URI, value):
        raise fail(f"expected an S3 URI of the form s3://bucket/path/, found {show(value)}")
    return value


def _one_spelling(value: dict[str, Any], canonical: str, legacy: str) -> Any:
    """Take a field that has two spellings; both at once is an error."""
    if canonical in value and legacy in value:
        raise fail(f"set {canonical} or {legacy}, not both (they are two spellings of one "
                   "field)", legacy)
    return value.pop(legacy) if legacy in value else value.get(canonical)


def s3_storage(value: dict[str, Any]) -> dict[str, Any]:
    """Fold `secretRef.name` into `secretName` and `mountPath` into `containerPath`."""
    ref = value.get("secretRef")
    if "secretName" in value and ref is not None:
        raise fail("set secretName or secretRef, not both (they are two spellings of one "
                   "field)", "secretRef")
    if ref is not None:
        value["secretName"] = value.pop("secretRef")["name"]
    if "secretName" not in value:
        raise fail("expected secretName (the Secret holding the .s3cfg key), found none",
                   "secretName")
    value["containerPath"] = _one_spelling(value, "containerPath", "mountPath") or \
        DEFAULT_MODEL_DIR
    return value


def pvc_storage(value: dict[str, Any]) -> dict[str, Any]:
    """Fold `mountPath` into `containerPath`."""
    value["containerPath"] = _one_spelling(value, "containerPath", "mountPath") or \
        DEFAULT_MODEL_DIR
    return value


def storage(value: dict[str, Any]) -> dict[str, Any]:
    """At most one kind of model storage."""
    if "s3" in value and "pvc" in value:
        raise fail("expected at most one of s3 or pvc, found both", "pvc")
    return value


def service(value: dict[str, Any]) -> dict[str, Any]:
    """Port names and numbers as the Service API requires them."""
    ports = value.get("ports", [])
    names: set[str] = set()
    numbers: set[tuple[int, str]] = set()
    for i, port in enumerate(ports):
        name = port.get("name")
        if len(ports) > 1 and not name:
            raise fail("expected a name on every port when there are several, found none",
                       f"ports[{i}].name")
        if name in names:
            raise fail(f"expected unique port names, found {show(name)} twice", f"ports[{i}].name")
        names.add(name)
        key = (port["port"], port.get("protocol", "TCP"))
        if key in numbers:
            raise fail(f"expected unique ports, found {key[0]}/{key[1]} twice", f"ports[{i}].port")
        numbers.add(key)
        if "nodePort" in port and value.get("type", "ClusterIP") == "ClusterIP":
            raise fail("expected nodePort only with type NodePort or LoadBalancer, found type "
                       "ClusterIP", f"ports[{i}].nodePort")
    return value


def _names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry.get("name", "") for entry in entries]


def custom_pod(value: dict[str, Any]) -> dict[str, Any]:
    """Container names unique; the volume names the function adds not taken."""
    for field in ("containers", "initContainers"):
        seen: set[str] = set()
        for i, name in enumerate(_names(value.get(field, []))):
            if name in seen:
                raise fail(f"expected unique container names, found {show(name)} twice",
                           f"{field}[{i}].name")
            seen.add(name)
    for i, name in enumerate(_names(value.get("volumes", []))):
        if name in (MODEL_VOLUME, S3_CONFIG_VOLUME):
            raise fail(f"expected no volume named {show(name)}: krmfn adds that volume for the "
                       "model", f"volumes[{i}].name")
    return value


def spec(value: dict[str, Any]) -> dict[str, Any]:
    """Exactly one framework; the model directory not already mounted in a custom pod."""
    found = [name for name in FRAMEWORKS if name in value]
    if len(found) != 1:
        raise fail("expected exactly one of tensorflow, pytorch or custom, found "
                   + (" and ".join(found) if found else "none"))
    storage_ = value.get("storage", {})
    kind = next(iter(storage_), None)
    if "custom" in value and kind is not None:
        model_dir = storage_[kind]["containerPath"]
        for i, container in enumerate(value["custom"]["spec"]["containers"]):
            for j, mount in enumerate(container.get("volumeMounts", [])):
                if posixpath.normpath(str(mount.get("mountPath", ""))) == model_dir:
                    raise fail(
                        f"expected the model directory {show(model_dir)} to be free for the "
                        f"model volume, found it mounted from {show(mount.get('name'))}",
                        f"custom.spec.containers[{i}].volumeMounts[{j}].mountPath",
                    )
    return value


def properties(value: dict[str, str]) -> dict[str, str]:
    """TorchServe properties: keys and values that fit on one `key=value` line."""
    for key, val in value.items():
        if not key or any(c.isspace() or c in "=:#!" for c in key):
            raise fail(f"expected a property name without spaces, '=', ':', '#' or '!', "
                       f"found {show(key)}", f"[{key}]")
        if "\n" in val or "\r" in val:
            raise fail(f"expected a one-line value, found {show(val)}", f"[{key}]")
    return value


def options(value: dict[str, Any]) -> dict[str, Any]:
    """Options that must agree with each other."""
    if "torchserveConfigMap" in value and "torchserveProperties" in value:
        raise fail("set torchserveProperties or torchserveConfigMap, not both (properties "
                   "go into the generated configuration, which your ConfigMap replaces)",
                   "torchserveProperties")
    grace = value.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    delay = value.get("shutdownDelaySeconds", DEFAULT_SHUTDOWN_DELAY_SECONDS)
    if delay and delay >= grace:
        raise fail(f"expected shutdownDelaySeconds ({delay}) below terminationGracePeriodSeconds "
                   f"({grace}): the server needs time to stop after the delay",
                   "shutdownDelaySeconds")
    return value
