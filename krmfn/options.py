"""The function's options: what they are, and how they are read from a functionConfig.

Options come from a functionConfig that is not a SimpleMLService: either the function's own
typed kind (`SimpleMLServiceOptions`, validated like the API) or a ConfigMap whose `data`
holds the same keys as strings (what `kpt fn eval ... -- key=value` sends): list options are
then split like a shell line, numbers read as decimal integers, and `torchserveProperties`
read as Java properties lines (`key=value`, one a line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from krmfn.constants import (
    DEFAULT_DOWNLOADER_IMAGE,
    DEFAULT_GRACE_SECONDS,
    DEFAULT_SHUTDOWN_DELAY_SECONDS,
)
from krmfn.results import did_you_mean

LIST_OPTIONS = ("tensorflowExtraArgs", "pytorchExtraArgs")
TEXT_OPTIONS = ("downloaderImage", "torchserveConfigMap")
INT_OPTIONS = ("terminationGracePeriodSeconds", "shutdownDelaySeconds")
PROPERTIES_OPTIONS = ("torchserveProperties",)
KNOWN = (*TEXT_OPTIONS, *LIST_OPTIONS, *INT_OPTIONS, *PROPERTIES_OPTIONS)


@dataclass(frozen=True)
class Options:
    """Settings that apply to every SimpleMLService of a run."""

    downloader_image: str = DEFAULT_DOWNLOADER_IMAGE
    tensorflow_extra_args: tuple[str, ...] = field(default_factory=tuple)
    pytorch_extra_args: tuple[str, ...] = field(default_factory=tuple)
    torchserve_properties: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    torchserve_config_map: str | None = None
    termination_grace_period_seconds: int = DEFAULT_GRACE_SECONDS
    shutdown_delay_seconds: int = DEFAULT_SHUTDOWN_DELAY_SECONDS

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Options:
        """Build from validated option fields (camelCase keys, as users write them)."""
        return cls(
            downloader_image=fields.get("downloaderImage", DEFAULT_DOWNLOADER_IMAGE),
            tensorflow_extra_args=tuple(fields.get("tensorflowExtraArgs", ())),
            pytorch_extra_args=tuple(fields.get("pytorchExtraArgs", ())),
            torchserve_properties=tuple(fields.get("torchserveProperties", {}).items()),
            torchserve_config_map=fields.get("torchserveConfigMap"),
            termination_grace_period_seconds=fields.get("terminationGracePeriodSeconds",
                                                        DEFAULT_GRACE_SECONDS),
            shutdown_delay_seconds=fields.get("shutdownDelaySeconds",
                                              DEFAULT_SHUTDOWN_DELAY_SECONDS),
        )


def configmap_fields(data: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn a ConfigMap's `data` into option fields.

    Returns the fields and a list of problems as (key as written, message) pairs: `data` not
    a mapping, keys that are not strings or not options, values that are not strings or do
    not read as their option's type.
    """
    fields: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    if data is None:
        return fields, problems
    if not isinstance(data, dict):
        return fields, [("", f"expected a mapping of option names to strings, found "
                             f"{_kind(data)}")]
    for key, value in data.items():
        if not isinstance(key, str):
            problems.append((_spelling(key), f"expected an option name, found {_kind(key)} "
                                             f"{_spelling(key)}; options are: "
                                             + ", ".join(sorted(KNOWN))))
        elif key not in KNOWN:
            problems.append((key, f"unknown option {key!r}; {did_you_mean(key, list(KNOWN))}"))
        elif not isinstance(value, str):
            problems.append((key, f"expected a string (ConfigMap data are strings), found "
                                  f"{_kind(value)}"))
        else:
            try:
                fields[key] = _read(key, value)
            except ValueError as err:
                problems.append((key, str(err)))
    return fields, problems


def _read(key: str, value: str) -> Any:
    """One ConfigMap value as its option's type; ValueError says what was expected."""
    if key in LIST_OPTIONS:
        import shlex  # noqa: PLC0415 - only ConfigMap options need it

        try:
            return shlex.split(value)
        except ValueError as err:
            raise ValueError(f"expected arguments as a shell line would split them: {err}"
                             ) from None
    if key in INT_OPTIONS:
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise ValueError(f"expected a whole number of seconds, found {value!r}")
        return int(text)
    if key in PROPERTIES_OPTIONS:
        return properties(value)
    return value


def properties(text: str) -> dict[str, str]:
    """Java-properties lines (`key=value` or `key: value`; `#` and `!` comments) as a dict."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise ValueError(f"expected key=value on line {number}, found {raw!r}")
        out[line[:cut].strip()] = line[cut + 1:].strip()
    return out


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _spelling(value: Any) -> str:
    """A non-string key as YAML spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
