"""The rules a SimpleMLService must follow beyond its field types.

Each function takes an already type-checked value and returns it (possibly normalized), or
raises a `PydanticCustomError` whose message says what was expected and what was found. The
schema in `krmfn.schema` attaches them to fields; they live apart from it, free of pydantic
itself, so that the frozen validator (`krmfn._validator`) can call them without importing
pydantic at run time. Where a rule is about a child of the value it checks, the error's
context carries that child's name under `field`, and `krmfn.results` extends the path.
"""

from __future__ import annotations

import math
import re
from typing import Any

from krmfn.constants import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_MODEL_DIR,
    DEFAULT_SHUTDOWN_DELAY_SECONDS,
    DOWNLOADER_CONTAINER,
    FRAMEWORKS,
    MODEL_VOLUME,
    RESERVED_VOLUMES,
    S3_CONFIG_DIR,
    S3_CONFIG_VOLUME,
    TORCHSERVE_CONFIG_DIR,
)
from krmfn.core import PydanticCustomError

DNS1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
LABEL_NAME = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$"
S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"  # the JSON schema's rough pattern
IANA_SVC_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
_SPACE = re.compile(r"\s")



def show(value: Any) -> str:
    """Render a found value for an error message: JSON-like, cut at 80 characters."""
    try:
        import json  # noqa: PLC0415 - only a message pays for it

        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # pragma: no cover - defensive: default=str covers all
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def fail(message: str, field: str | None = None) -> PydanticCustomError:
    """Build the error for a broken rule; `field` names the child the rule is about."""
    return PydanticCustomError("krmfn", message, {"field": field} if field else None)


def _matches(pattern: str, value: str, max_len: int) -> bool:
    """The whole of `value` matches (a `$` alone would also match before a final newline)."""
    return len(value) <= max_len and re.fullmatch(pattern, value) is not None


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
    if not value or _SPACE.search(value):
        raise fail(f"expected a container image reference, found {show(value)}")
    return value


def quantity(value: Any) -> int | float | str:
    """A resource quantity: a number, or a string such as `500m` or `1Gi`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise fail(f"expected a quantity such as 1, 0.5, \"500m\" or \"1Gi\", found {show(value)}")
    if isinstance(value, str) and not re.fullmatch(QUANTITY, value):
        raise fail(f"expected a quantity such as 1, 0.5, \"500m\" or \"1Gi\", found {show(value)}")
    if not isinstance(value, str) and not math.isfinite(value):
        raise fail(f"expected a finite quantity, found {show(value)}")
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
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value):
        return value
    raise fail(f"expected a number >= 0 or a percentage such as \"25%\", found {show(value)}")


def _is_zero(bound: Any) -> bool:
    return bound in (0, "0%") or (isinstance(bound, str) and bound.strip("0") == "%")


def strategy(value: dict[str, Any]) -> dict[str, Any]:
    """A Deployment strategy the API server takes: rollingUpdate only for RollingUpdate,
    not both bounds 0, maxUnavailable at most 100%."""
    rolling = value.get("rollingUpdate")
    if rolling is None:
        return value
    if value.get("type") == "Recreate":
        raise fail("expected no rollingUpdate with type Recreate (the API server refuses it)",
                   "rollingUpdate")
    unavailable = rolling.get("maxUnavailable")
    if _is_zero(rolling.get("maxSurge")) and _is_zero(unavailable):
        raise fail("expected maxSurge or maxUnavailable above 0: with both 0 a rollout could "
                   "never replace a pod", "rollingUpdate.maxUnavailable")
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        raise fail(f"expected a maxUnavailable of at most 100%, found {show(unavailable)}",
                   "rollingUpdate.maxUnavailable")
    return value


def normal_path(value: str) -> str:
    """A path as the kubelet resolves it: repeated slashes and `.` parts gone."""
    parts = [part for part in value.split("/") if part and part != "."]
    return ("/" if value.startswith("/") else "") + "/".join(parts)


def absolute_path(value: str) -> str:
    """A directory in the container: absolute, not the root, given back normalized."""
    if not value.startswith("/"):
        raise fail(f"expected an absolute path (starting with '/'), found {show(value)}")
    if any((c.isspace() and c != " ") or ord(c) < 32 for c in value):
        raise fail(f"expected a path without control characters, found {show(value)}")
    normal = normal_path(value)
    if ".." in normal.split("/") or normal == "/" or ":" in value:
        raise fail(f"expected an absolute directory other than '/', without '..' or ':', "
                   f"found {show(value)}")
    return normal


def sub_path(value: str) -> str:
    """A path inside a volume: relative, without `..`."""
    if value.startswith("/"):
        raise fail(f"expected a relative path (not starting with '/'), found {show(value)}")
    if ".." in value.split("/"):
        raise fail(f"expected a path without '..' components, found {show(value)}")
    if any(ord(c) < 32 for c in value):
        raise fail(f"expected a path without control characters, found {show(value)}")
    return value


def label_value(value: str) -> str:
    """A value krmfn copies into a label: what Kubernetes accepts there."""
    if not _matches(LABEL_VALUE, value, 63):
        raise fail("expected a label value (at most 63 letters, digits, '-', '_' or '.', "
                   f"starting and ending with a letter or digit), found {show(value)}")
    return value


def s3_uri(value: str) -> str:
    """An S3 location: `s3://bucket/prefix`; the prefix is taken as a directory.

    The bucket must follow S3's naming rules; the message names the rule it breaks.
    """
    scheme, sep, rest = value.partition("://")
    if scheme != "s3" or not sep:
        raise fail(f"expected an S3 URI of the form s3://bucket/path/, found {show(value)}")
    bucket, _, prefix = rest.partition("/")
    problem = bucket_problem(bucket)
    if problem:
        raise fail(f"expected an S3 bucket name in {show(value)}: {problem}")
    if any(ord(c) < 32 for c in prefix):
        raise fail(f"expected an S3 key prefix without control characters, found {show(value)}")
    return value


def bucket_problem(bucket: str) -> str | None:
    """Which of S3's bucket naming rules `bucket` breaks, or None."""
    if not 3 <= len(bucket) <= 63:
        return f"{show(bucket)} has {len(bucket)} characters, and a bucket name has 3 to 63"
    bad = sorted({c for c in bucket if not (c.isascii() and (c.islower() or c.isdigit()))}
                 - {".", "-"})
    if bad:
        return (f"{show(bucket)} has {', '.join(map(repr, bad))}; a bucket name has only "
                "lower-case letters, digits, '.' and '-'")
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return f"{show(bucket)} must start and end with a letter or a digit"
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return f"{show(bucket)} has two periods, or a period and a hyphen, side by side"
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", bucket):
        return f"{show(bucket)} is written like an IP address, which a bucket name may not be"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if bucket.startswith(prefix):
            return f"{show(bucket)} starts with {prefix!r}, which S3 reserves"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if bucket.endswith(suffix):
            return f"{show(bucket)} ends with {suffix!r}, which S3 reserves"
    return None


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


def _names(entries: list[dict[str, Any]] | None) -> list[str]:
    return [entry.get("name", "") for entry in entries or []]


def custom_pod(value: dict[str, Any]) -> dict[str, Any]:
    """Container names unique across init and app containers; volume names unique and free
    of krmfn's; each container's mounts of volumes the pod has (or krmfn adds), at distinct
    paths."""
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for i, name in enumerate(_names(value.get(field))):
            if name in seen:
                raise fail(f"expected unique container names (init containers included), "
                           f"found {show(name)} twice", f"{field}[{i}].name")
            seen.add(name)
    volumes: set[str] = set()
    for i, name in enumerate(_names(value.get("volumes"))):
        if name in RESERVED_VOLUMES:
            raise fail(f"expected no volume named {show(name)}: krmfn adds that volume for the "
                       "model", f"volumes[{i}].name")
        if name in volumes:
            raise fail(f"expected unique volume names, found {show(name)} twice",
                       f"volumes[{i}].name")
        volumes.add(name)
    for field in ("initContainers", "containers"):
        for i, container in enumerate(value.get(field) or []):
            _mounts(container.get("volumeMounts") or [], volumes, f"{field}[{i}].volumeMounts")
    return value


def _mounts(mounts: list[dict[str, Any]], volumes: set[str], where: str) -> None:
    """One container's mounts: each of a volume the pod has or krmfn adds, each path once."""
    paths: dict[str, tuple[int, object]] = {}
    for j, mount in enumerate(mounts):
        name = mount.get("name", "")
        if name not in volumes and name not in RESERVED_VOLUMES:
            known = ", ".join(show(v) for v in sorted(volumes)) or "none"
            raise fail(f"expected a mount of one of the pod's volumes ({known}), found "
                       f"{show(name)}", f"{where}[{j}].name")
        path = normal_path(str(mount.get("mountPath", "")))
        if path in paths:
            k, first = paths[path]
            raise fail(f"expected each of a container's mounts at a path of its own, found "
                       f"{show(mount.get('mountPath'))}, the path of volumeMounts[{k}] "
                       f"({show(first)}) too", f"{where}[{j}].mountPath")
        paths[path] = (j, mount.get("mountPath"))


def _overlap(one: str, other: str) -> bool:
    """True when two directories are the same, or one holds the other."""
    return one == other or one.startswith(other + "/") or other.startswith(one + "/")


# When krmfn adds each of its volumes to a custom pod: a mount of one needs that storage.
_ADDED_WITH = {MODEL_VOLUME: ("pvc", "s3"), S3_CONFIG_VOLUME: ("s3",)}
_ADDED_FOR = {MODEL_VOLUME: "with spec.storage", S3_CONFIG_VOLUME: "with spec.storage.s3"}


def _krmfn_mounts(pod: dict[str, Any], kind: str | None) -> None:
    """A custom pod's mounts of krmfn's volumes, each of one that krmfn adds to this pod."""
    for field in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(field) or []):
            for j, mount in enumerate(container.get("volumeMounts") or []):
                name = mount.get("name")
                if name in RESERVED_VOLUMES and kind not in _ADDED_WITH.get(name, ()):
                    raise fail(f"expected a mount of one of the pod's volumes, found "
                               f"{show(name)}, a volume krmfn adds only "
                               f"{_ADDED_FOR.get(name, 'to PyTorch pods')}",
                               f"custom.spec.{field}[{i}].volumeMounts[{j}].name")


def spec(value: dict[str, Any]) -> dict[str, Any]:
    """Exactly one framework, and a model directory that krmfn can mount where it must:
    clear of krmfn's own mounts, and, in a custom pod, of the pod's mounts and names."""
    found = [name for name in FRAMEWORKS if name in value]
    if len(found) != 1:
        raise fail("expected exactly one of tensorflow, pytorch or custom, found "
                   + (" and ".join(found) if found else "none"))
    storage_ = value.get("storage", {})
    kind = next(iter(storage_), None)
    if "custom" in value:
        _krmfn_mounts(value["custom"]["spec"], kind)
    if kind is None:
        return value
    model_dir = storage_[kind]["containerPath"]
    where = f"storage.{kind}.containerPath"
    mine = [(S3_CONFIG_DIR, "the S3 configuration")] if kind == "s3" else []
    if "pytorch" in value:
        mine.append((TORCHSERVE_CONFIG_DIR, "the TorchServe configuration"))
    for reserved, what in mine:
        if _overlap(model_dir, reserved):
            raise fail(f"expected a model directory apart from {reserved}, where krmfn mounts "
                       f"{what}, found {show(model_dir)}", where)
    if "custom" not in value:
        return value
    pod = value["custom"]["spec"]
    if kind == "s3":
        for field in ("initContainers", "containers"):
            for i, name in enumerate(_names(pod.get(field))):
                if name == DOWNLOADER_CONTAINER:
                    raise fail(f"expected no container named {show(name)}: krmfn adds the "
                               "init container that downloads the model under that name",
                               f"custom.spec.{field}[{i}].name")
    for i, container in enumerate(pod["containers"]):
        for j, mount in enumerate(container.get("volumeMounts") or []):
            path = normal_path(str(mount.get("mountPath", "")))
            if path == model_dir or path.startswith(model_dir + "/"):
                inside = "" if path == model_dir else " inside it (the model volume is read-only)"
                raise fail(
                    f"expected the model directory {show(model_dir)} to be free for the "
                    f"model volume, found {show(mount.get('name'))} mounted{inside} at "
                    f"{show(mount.get('mountPath'))}",
                    f"custom.spec.containers[{i}].volumeMounts[{j}].mountPath",
                )
    return value


def properties(value: dict[str, str]) -> dict[str, str]:
    """TorchServe properties: keys and values that fit on one `key=value` line."""
    for key, val in value.items():
        if not key or not (key.isascii() and key.isprintable()) or any(
                c.isspace() or c in "=:#!\\" for c in key):
            raise fail(f"expected a property name of printable ASCII without spaces, '=', ':', "
                       f"'#', '!' or '\\', found {show(key)}", f"[{key}]")
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
