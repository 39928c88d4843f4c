"""`krmfn render`: compile a directory of YAML files into plain manifests.

This is the way in for tools that are not KRM orchestrators: the Argo CD plugin's generate
command, and users without kpt. The files are read into one ResourceList (each object
annotated with its file, so results name it), run through the same processor as the KRM
function, and printed as one YAML stream of what should be applied: no local-config
objects, no ResourceList wrapper, no orchestration annotations.

Options come from a SimpleMLServiceOptions object among the files, a `--config` file, and
`--set key=value` pairs, later ones winning.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from krmfn.constants import OPTIONS_API_VERSION, OPTIONS_KIND
from krmfn.emitter import dump
from krmfn.options import configmap_fields
from krmfn.processor import LOCAL_CONFIG, Output, process, without_orchestration
from krmfn.resourcelist import Document
from krmfn.results import Result
from krmfn.yamlscan import InputError

SKIPPED_FILES = {"Kptfile", "kustomization.yaml", "kustomization.yml", "plugin.yaml"}


def _files(paths: Iterable[str]) -> list[tuple[Path, str]]:
    """The YAML files under `paths` (sorted, hidden directories skipped), with display names."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        root = Path(given)
        if root.is_file():
            found.append((root, root.name))
            continue
        if not root.is_dir():
            raise InputError(f"{given}: no such file or directory")
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and name not in SKIPPED_FILES:
                    path = Path(directory) / name
                    found.append((path, path.relative_to(root).as_posix()))
    return found


def _documents(path: Path, shown: str) -> list[dict[str, Any]]:
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"{shown}: not valid YAML: {err}".replace("\n", " ")) from None
    out = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise InputError(f"{shown}: document {index} is not a mapping")
        meta = doc.setdefault("metadata", {}) or {}
        doc["metadata"] = meta
        notes = meta.setdefault("annotations", {}) or {}
        meta["annotations"] = notes
        notes["config.kubernetes.io/path"] = shown
        notes["config.kubernetes.io/index"] = str(index)
        out.append(doc)
    return out


def render(paths: list[str], config: str | None = None,
           settings: list[str] | None = None) -> Output:
    """Compile the files under `paths`; the Output's text is a multi-document YAML stream."""
    items: list[dict[str, Any]] = []
    options: dict[str, Any] = {}
    for path, shown in _files(paths):
        for doc in _documents(path, shown):
            if doc.get("kind") == OPTIONS_KIND:
                options.update(_strip(doc))
            else:
                items.append(doc)
    if config:
        for doc in _documents(Path(config), config):
            options.update(_strip(doc) if doc.get("kind") == OPTIONS_KIND else
                           configmap_fields(doc.get("data") or {})[0])
    results: list[Result] = []
    if settings:
        pairs = dict(setting.partition("=")[::2] for setting in settings)
        fields, problems = configmap_fields(pairs)
        results.extend(Result(message, field_path=key) for key, message in problems)
        options.update(fields)
    resource_list: dict[str, Any] = {"apiVersion": "config.kubernetes.io/v1",
                                     "kind": "ResourceList", "items": items}
    if options:
        resource_list["functionConfig"] = {"apiVersion": OPTIONS_API_VERSION,
                                           "kind": OPTIONS_KIND, **options}
    output = process(Document(dump(resource_list)))
    rendered = yaml.load(output.text, Loader=yaml.CSafeLoader).get("items") or []
    manifests = [without_orchestration(obj) for obj in rendered
                 if ((obj.get("metadata") or {}).get("annotations") or {}).get(LOCAL_CONFIG)
                 != "true"]
    text = "".join("---\n" + dump(obj) for obj in manifests)
    return Output(text, results + output.results)


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    """An options object's fields, without its identity and the file annotations."""
    return {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
