"""The function's options: what they are, and how they are read from a functionConfig.

Options come from a functionConfig that is not a SimpleMLService: either the function's own
typed kind (`SimpleMLServiceOptions`, validated like the API) or a ConfigMap whose `data`
holds the same keys as strings (what `kpt fn eval ... -- key=value` sends); list options are
then split like a shell line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from krmfn.constants import DEFAULT_DOWNLOADER_IMAGE
from krmfn.results import did_you_mean

LIST_OPTIONS = ("tensorflowExtraArgs", "pytorchExtraArgs")
TEXT_OPTIONS = ("downloaderImage",)


@dataclass(frozen=True)
class Options:
    """Settings that apply to every SimpleMLService of a run."""

    downloader_image: str = DEFAULT_DOWNLOADER_IMAGE
    tensorflow_extra_args: tuple[str, ...] = field(default_factory=tuple)
    pytorch_extra_args: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Options:
        """Build from validated option fields (camelCase keys, as users write them)."""
        return cls(
            downloader_image=fields.get("downloaderImage", DEFAULT_DOWNLOADER_IMAGE),
            tensorflow_extra_args=tuple(fields.get("tensorflowExtraArgs", ())),
            pytorch_extra_args=tuple(fields.get("pytorchExtraArgs", ())),
        )


def configmap_fields(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn a ConfigMap's `data` into option fields.

    Returns the fields and a list of problems as (key, message) pairs: unknown keys, values
    that are not strings, list values that do not split like a shell line.
    """
    fields: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    known = LIST_OPTIONS + TEXT_OPTIONS
    for key, value in data.items():
        if key not in known:
            problems.append((key, f"unknown option {key!r}; {did_you_mean(key, list(known))}"))
        elif not isinstance(value, str):
            problems.append((key, f"expected a string, found {type(value).__name__}"))
        elif key in LIST_OPTIONS:
            import shlex  # noqa: PLC0415 - only ConfigMap options need it

            try:
                fields[key] = shlex.split(value)
            except ValueError as err:
                problems.append((key, f"expected arguments as a shell line would split them: "
                                      f"{err}"))
        else:
            fields[key] = value
    return fields, problems
