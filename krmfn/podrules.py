"""What the API server checks in a custom PodSpec beyond its fields' names and types.

`krmfn.podspec` holds a PodSpec to Kubernetes' field table; these are the rules of
core/v1's validation that a well-typed PodSpec can still break, found now rather than when
the Deployment is applied: one source per volume, env names and port names the API server
takes, item paths inside their volume, a hostname that is a DNS label, no ephemeral
containers at creation. Volume names and mounts are checked with the SimpleMLService
(`krmfn.checks.custom_pod`). Takes a PodSpec that `podspec.problems` passed.
"""

from __future__ import annotations

import re
from typing import Any

from krmfn.checks import DNS1123_LABEL, show

Problem = tuple[tuple[str | int, ...], str]

_LABEL = re.compile(DNS1123_LABEL)
_CONTAINER_LISTS = ("initContainers", "containers")
_WITH_ITEMS = ("configMap", "secret")


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The entries of a list that are objects, with their index (null may stand anywhere)."""
    return [(i, v) for i, v in enumerate(value or []) if isinstance(v, dict)]


def problems(pod: dict[str, Any]) -> list[Problem]:
    """The rules `pod` breaks: (path inside the PodSpec, message)."""
    out: list[Problem] = []
    if pod.get("ephemeralContainers"):
        out.append((("ephemeralContainers",), "expected no ephemeralContainers: the API server "
                    "adds them to running pods only, never when a pod is created"))
    for field in ("hostname", "subdomain"):
        value = pod.get(field)
        if isinstance(value, str) and not (_LABEL.match(value) and len(value) <= 63):
            out.append(((field,), f"expected a DNS label (lower-case letters, digits and '-', "
                        f"at most 63), found {show(value)}"))
    for field in _CONTAINER_LISTS:
        for i, container in _dicts(pod.get(field)):
            out.extend(((field, i, *path), why) for path, why in _container(container))
    for i, volume in _dicts(pod.get("volumes")):
        out.extend((("volumes", i, *path), why) for path, why in _volume(volume))
    return out


def _container(container: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for j, env in _dicts(container.get("env")):
        name = env.get("name")
        if not name or "=" in name:
            out.append((("env", j, "name"), f"expected a variable name, not empty and without "
                        f"'=', found {show(name)}"))
    seen: dict[str, int] = {}
    for j, port in _dicts(container.get("ports")):
        name = port.get("name")
        if not name:
            continue
        if name in seen:
            out.append((("ports", j, "name"), f"expected port names unique in a container, "
                        f"found {show(name)} at ports[{seen[name]}] too"))
        seen.setdefault(name, j)
    return out


def _volume(volume: dict[str, Any]) -> list[Problem]:
    sources = [key for key, value in volume.items() if key != "name" and value is not None]
    if len(sources) != 1:
        found = " and ".join(sources) if sources else "none"
        return [((), f"expected exactly one volume source (emptyDir, configMap, secret, "
                 f"persistentVolumeClaim, ...), found {found}")]
    out: list[Problem] = []
    kind = sources[0]
    if kind in _WITH_ITEMS and isinstance(volume[kind], dict):
        for j, item in _dicts(volume[kind].get("items")):
            path = item.get("path")
            if not isinstance(path, str):
                continue
            if not path or path.startswith("/") or ".." in path.split("/"):
                out.append(((kind, "items", j, "path"), f"expected a relative path inside the "
                            f"volume, without '..', found {show(path)}"))
    return out
