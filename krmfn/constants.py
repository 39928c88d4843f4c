"""Names fixed by the API and the function: versions, kinds, defaults, volume names.

Kept apart from `krmfn.schema` so that a run can use them without importing pydantic.
"""

API_VERSION = "tensorstack.dev/v1beta1"
KIND = "SimpleMLService"
OPTIONS_API_VERSION = "fn.krmfn.dev/v1alpha1"
OPTIONS_KIND = "SimpleMLServiceOptions"
DEFAULT_DOWNLOADER_IMAGE = "ghcr.io/krmfn/krmfn:0.1.0"
DEFAULT_MODEL_DIR = "/var/lib/t9k/model"
MODEL_VOLUME = "model"
S3_CONFIG_VOLUME = "model-s3-config"
FRAMEWORKS = ("tensorflow", "pytorch", "custom")
