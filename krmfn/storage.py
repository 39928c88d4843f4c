"""Where the model comes from: the `model` volume, its mounts, and the S3 downloader.

`spec.storage.pvc` mounts the claim read-only (with its `subPath`) at the model directory of
every serving container. `spec.storage.s3` fills an `emptyDir` before the servers start: an
init container runs s3cmd, with the configuration file from the Secret's `.s3cfg` key mounted
read-only in that container only, and copies every object under the URI (taken as a
directory prefix) into the model directory, which the serving containers mount read-only.
Exec-form arguments only: no shell, so no quoting bugs with odd URIs.
"""

from __future__ import annotations

from krmfn.constants import (
    DEFAULT_MODEL_DIR,
    DOWNLOADER_CONTAINER,
    MODEL_VOLUME,
    S3_CONFIG_DIR,
    S3_CONFIG_VOLUME,
    Obj,
)
from krmfn.emitter import frozen

DOWNLOADER_UID = 65532
# Parts every downloader shares (never changed after this).
_DOWNLOADER_SECURITY = frozen({
    "runAsNonRoot": True,
    "runAsUser": DOWNLOADER_UID,
    "runAsGroup": DOWNLOADER_UID,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
})
_DOWNLOADER_RESOURCES = frozen({"requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"memory": "512Mi"}})
_S3_ITEMS = frozen([{"key": ".s3cfg", "path": ".s3cfg"}])


def model_dir(spec: Obj) -> str:
    """The model directory: the storage's containerPath, or the default."""
    storage = spec.get("storage") or {}
    for kind in ("s3", "pvc"):
        if kind in storage:
            return str(storage[kind]["containerPath"])
    return DEFAULT_MODEL_DIR


def add_model_volume(pod: Obj, spec: Obj, downloader_image: str) -> None:
    """Add the model volume (and for S3 its downloader) to `pod`, mounted in every container."""
    storage = spec.get("storage") or {}
    where = model_dir(spec)
    if "pvc" in storage:
        pvc = storage["pvc"]
        _mount(pod, where, {"persistentVolumeClaim": {"claimName": pvc["name"],
                                                      "readOnly": True}}, pvc.get("subPath"))
    elif "s3" in storage:
        _mount(pod, where, {"emptyDir": {}}, None)
        _add_downloader(pod, storage["s3"], where, downloader_image)


def _mount(pod: Obj, where: str, source: Obj, sub_path: str | None) -> None:
    mount: Obj = {"name": MODEL_VOLUME, "mountPath": where, "readOnly": True}
    if sub_path:
        mount["subPath"] = sub_path
    for container in pod["containers"]:
        mounts = container.get("volumeMounts") or []
        container["volumeMounts"] = [*mounts, dict(mount)]
    pod["volumes"] = [*(pod.get("volumes") or []), {"name": MODEL_VOLUME, **source}]


def _add_downloader(pod: Obj, s3: Obj, where: str, image: str) -> None:
    uri = s3["uri"] if s3["uri"].endswith("/") else s3["uri"] + "/"
    downloader = {
        "name": DOWNLOADER_CONTAINER,
        "image": image,
        "command": ["s3cmd"],
        # --no-preserve: s3cmd would restore each file's uploader's owner, which a non-root
        # container may not (s3cmd then exits 2 and the pod never starts).
        "args": [f"--config={S3_CONFIG_DIR}/.s3cfg", "--no-progress", "--no-preserve", "sync",
                 uri, where + "/"],
        "resources": _DOWNLOADER_RESOURCES,
        "volumeMounts": [
            {"name": MODEL_VOLUME, "mountPath": where},
            {"name": S3_CONFIG_VOLUME, "mountPath": S3_CONFIG_DIR, "readOnly": True},
        ],
        "securityContext": _DOWNLOADER_SECURITY,
    }
    pod["initContainers"] = [downloader, *(pod.get("initContainers") or [])]
    pod["volumes"] = [*(pod.get("volumes") or []), {"name": S3_CONFIG_VOLUME, "secret": {
        "secretName": s3["secretName"],
        "items": _S3_ITEMS,
        "defaultMode": 0o440,
    }}]
    # The Secret's file is readable by its group only: make the downloader's group the
    # pod's fsGroup, unless the pod already names one (then the downloader is in it too).
    security = pod.get("securityContext") or {}
    group = security.get("fsGroup")
    pod["securityContext"] = {**security, "fsGroup": DOWNLOADER_UID if group is None else group}
