"""TensorFlow Serving: the `user-container` for `spec.tensorflow`.

Facts it relies on (tensorflow/serving `tensorflow_serving/model_servers/server.cc`,
`server_core.cc`, `file_system_storage_path_source.cc`, `http_server.cc`):
- The server loads `<model_base_path>/<integer version>/` (a SavedModel). A model copied
  without a numeric version directory never loads, and the server never opens its ports.
- The REST port opens only after every model is AVAILABLE, so a TCP probe on it means
  "loaded"; `GET /v1/models/<name>` then reports the versions' states.
- It installs no SIGTERM handler: see `krmfn.servers.shutdown` for how the pod stops.
"""

from __future__ import annotations

import re
from typing import Any

from krmfn.constants import HTTP_PORT, SERVING_CONTAINER, Obj
from krmfn.emitter import frozen
from krmfn.options import Options
from krmfn.servers.shutdown import lifecycle, pid1_command

BINARY = "/usr/bin/tensorflow_model_server"
GRPC_PORT = 9090
# Parts every TensorFlow Serving container shares (never changed after this).
_PORTS = frozen([{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
                 {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"}])
# Loading a large model can take minutes: ten of them before liveness takes over.
_STARTUP = frozen({"tcpSocket": {"port": HTTP_PORT}, "periodSeconds": 10,
                   "failureThreshold": 60})
_LIVENESS = frozen({"tcpSocket": {"port": HTTP_PORT}, "periodSeconds": 10,
                    "failureThreshold": 3})
_VERSION_DIR = re.compile(r"(?:^|/)([0-9]+)/*$")


def container(name: str, framework: Obj, model_dir: str, options: Options) -> Obj:
    """The serving container for a model named `name` in `model_dir`."""
    out: Obj = {
        "name": SERVING_CONTAINER,
        "image": framework["image"],
        "command": pid1_command('kill -TERM "$child"'),
        "args": [BINARY, f"--port={GRPC_PORT}", f"--rest_api_port={HTTP_PORT}",
                 f"--model_name={name}", f"--model_base_path={model_dir}",
                 *options.tensorflow_extra_args],
        "ports": _PORTS,
        # The REST port opens once the model is loaded: then the model's own status.
        "readinessProbe": {"httpGet": {"path": f"/v1/models/{name}", "port": HTTP_PORT}},
        "startupProbe": _STARTUP,
        "livenessProbe": _LIVENESS,
    }
    stop = lifecycle(options)
    if stop is not None:
        out["lifecycle"] = stop
    return out


def layout_warnings(spec: Obj) -> list[tuple[str, str]]:
    """Storage that points at a version directory rather than the model's base: (field, why).

    TensorFlow Serving wants the base (`.../mnist/` holding `1/`, `2/`); a URI or subPath that
    ends in a number is most likely one version, whose files would land without the numeric
    directory the server looks for, and it would never load.
    """
    storage: Any = spec.get("storage") or {}
    found = []
    for kind, key in (("s3", "uri"), ("pvc", "subPath")):
        where = (storage.get(kind) or {}).get(key)
        if not isinstance(where, str):
            continue
        # In s3://bucket/prefix only the prefix is a path; the bucket is no version.
        path = where.partition("://")[2].partition("/")[2] if kind == "s3" else where
        match = _VERSION_DIR.search(path)
        if match:
            found.append((f"spec.storage.{kind}.{key}", (
                f"{where!r} ends in a version directory ({match[1]}); TensorFlow Serving loads "
                f"<model dir>/<version>/, so give the model's base directory, the one holding "
                f"{match[1]}/, or the model will never load")))
    return found
