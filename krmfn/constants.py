"""Names fixed by the API and the function: versions, kinds, defaults, volume names.

Kept apart from `krmfn.schema` so that a run can use them without importing pydantic, and
apart from the compiler so that the modules it calls (`krmfn.storage`, `krmfn.servers`) need
not import it back.
"""

from typing import Any

from krmfn import __version__

Obj = dict[str, Any]  # a Kubernetes object, or a part of one, as plain data

API_VERSION = "tensorstack.dev/v1beta1"
KIND = "SimpleMLService"
OPTIONS_API_VERSION = "fn.krmfn.dev/v1alpha1"
OPTIONS_KIND = "SimpleMLServiceOptions"
IMAGE_REPOSITORY = "ghcr.io/krmfn/krmfn"
DEFAULT_DOWNLOADER_IMAGE = f"{IMAGE_REPOSITORY}:{__version__}"
DEFAULT_MODEL_DIR = "/var/lib/t9k/model"
MODEL_VOLUME = "model"
S3_CONFIG_VOLUME = "model-s3-config"
S3_CONFIG_DIR = "/var/run/secrets/krmfn/s3"
TORCHSERVE_CONFIG_VOLUME = "torchserve-config"
TORCHSERVE_CONFIG_DIR = "/etc/krmfn/torchserve"
# Directories krmfn mounts volumes of its own at: the model directory must stay clear of them.
RESERVED_DIRS = (S3_CONFIG_DIR, TORCHSERVE_CONFIG_DIR)
RESERVED_VOLUMES = (MODEL_VOLUME, S3_CONFIG_VOLUME, TORCHSERVE_CONFIG_VOLUME)
SERVING_CONTAINER = "user-container"
DOWNLOADER_CONTAINER = "model-downloader"
FRAMEWORKS = ("tensorflow", "pytorch", "custom")
HTTP_PORT = 8080
# How a built-in server's pod stops by default (see krmfn.servers.shutdown).
DEFAULT_GRACE_SECONDS = 30
DEFAULT_SHUTDOWN_DELAY_SECONDS = 5
