"""Argo CD plugin discovery: does an application need krmfn? Decided without building anything.

`discover(app_dir)` returns the files (relative to the app directory) that make it a krmfn
app; the caller prints them, and prints nothing for any other app. It claims:
- a plain app (no kustomization): when a YAML file that `krmfn render` would read holds a
  SimpleMLService (kind SimpleMLService, any version of the group tensorstack.dev);
- a kustomize app: when following its kustomization's `resources`, `components`, `bases`,
  `generators` and `transformers` (local files and directories; URLs and remote bases
  ignored; each directory's kustomization followed in turn, each once, at most `MAX_DEPTH`
  deep, never outside the repository) reaches a SimpleMLService or a krmfn function config
  (kind SimpleMLServiceOptions, or a `config.kubernetes.io/function` annotation naming
  krmfn's image, see `krmfn.dockershim.is_krmfn_image`).
A Helm chart (a Chart.yaml beside) is left to Argo CD: `krmfn render` does not template.
Every file is read as `krmfn render` reads it (`krmfn.sources`: the same size limit over
all files read, the same checks) and its items are known from `krmfn.yamlscan`; a file that
cannot be read is claimed only when a line of it is `kind: SimpleMLService`, so that the
app's own error shows where the user looks.

Facts relied on (argoproj/argo-cd):
- `cmpserver/plugin/plugin.go` (`matchRepository`): `discover.find.command` runs in the
  app's path inside the unpacked copy of the whole repository, with the sidecar's environment
  plus the request's, which carries `ARGOCD_APP_SOURCE_PATH`, the app's path in the
  repository (`reposerver/repository/repository.go`, `newEnv`); the plugin matches when the
  command exits 0 and prints something. So a base outside the app directory is there to
  read, and the repository's root is the app directory less `ARGOCD_APP_SOURCE_PATH`.
- `util/app/discovery/discovery.go` (`cmpSupports`): a plugin with a discovery rule must
  match even when the Application names it; plugins are asked before Argo CD's own
  kustomize and Helm support, so a broad rule would take plain kustomize apps from it.
- kustomize's file names and inline configs (kubernetes-sigs/kustomize
  `api/konfig/general.go`, `api/internal/target/kusttarget.go`): a kustomization is
  `kustomization.yaml`, `kustomization.yml` or `Kustomization`; a `generators:` or
  `transformers:` entry that reads as YAML objects is an inline config, else a path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from krmfn.constants import KIND, OPTIONS_KIND
from krmfn.dockershim import is_krmfn_image
from krmfn.resourcelist import Document
from krmfn.sources import Budget, Source, files, kustomization, read_file, split, stream
from krmfn.yamlscan import InputError, Item

SOURCE_PATH_ENV = "ARGOCD_APP_SOURCE_PATH"
GROUP = "tensorstack.dev"
FIELDS = ("resources", "components", "bases", "generators", "transformers")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
MAX_DEPTH = 20
# Text that every claimed file holds; a file without any of it is not scanned at all.
_HINTS = (KIND, OPTIONS_KIND, *FUNCTION_ANNOTATIONS)
_KIND_LINE = re.compile(r"^kind:[ \t]*(['\"]?)SimpleMLService\1[ \t]*(?:#.*)?\r?$", re.M)
_REMOTE = re.compile(r"\A(?:[a-z][a-z0-9+.-]*://|git@|git::)", re.I)


def discover(app_dir: Path, root: Path | None = None,
             environ: Mapping[str, str] | None = None) -> list[str]:
    """The files that make `app_dir` a krmfn app, relative to it; empty for any other app.

    `root` is the repository's root (by default the app directory less
    ARGOCD_APP_SOURCE_PATH, else the closest directory holding `.git`, else the app itself):
    nothing outside it is read.
    """
    app = app_dir.resolve()
    if (app / "Chart.yaml").is_file():
        return []
    top = (root if root is not None else repository_root(app, environ)).resolve()
    walk = _Walk(app, top)
    if kustomization(app) is not None:
        walk.kustomization(app, 0)
    else:
        for path, _ in files(app):
            walk.file(path, configs=False)
    return walk.found


def repository_root(app: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The repository's root for the app directory `app` (see `discover`)."""
    environ = os.environ if environ is None else environ
    parts = [p for p in PurePosixPath(environ.get(SOURCE_PATH_ENV, "")).parts
             if p not in ("/", ".")]
    if parts and ".." not in parts and len(parts) < len(app.parts) \
            and list(app.parts[-len(parts):]) == parts:
        return app.parents[len(parts) - 1]
    if not parts and SOURCE_PATH_ENV in environ:
        return app
    for directory in (app, *app.parents):
        if (directory / ".git").exists():
            return directory
    return app


@dataclass
class _Walk:
    """One discovery: what was read, what was found."""

    app: Path
    root: Path
    budget: Budget = field(default_factory=Budget)
    seen: set[Path] = field(default_factory=set)
    found: list[str] = field(default_factory=list)

    def kustomization(self, directory: Path, depth: int) -> None:
        """Follow the kustomization of `directory`."""
        path = kustomization(directory)
        if path is None or depth > MAX_DEPTH or directory in self.seen:
            return
        self.seen.add(directory)
        data = self._load_kustomization(path)
        for name in FIELDS:
            entries = data.get(name)
            for number, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, str):
                    continue
                if _inline(entry):
                    self._inline(entry, f"{self._shown(path)}: {name}[{number}]")
                    continue
                target = self._local(directory, entry)
                if target is not None and target.is_dir():
                    self.kustomization(target, depth + 1)
                elif target is not None and target.is_file():
                    self.file(target, configs=True)

    def file(self, path: Path, configs: bool) -> None:
        """Claim `path` when it holds a SimpleMLService (or, with `configs`, a krmfn config)."""
        if path in self.seen:
            return
        self.seen.add(path)
        shown = self._shown(path)
        try:
            text = read_file(path, shown, self.budget)
        except InputError:
            return
        if _claims(text, shown, configs):
            self.found.append(shown)

    def _inline(self, text: str, shown: str) -> None:
        if _claims(text, shown, configs=True):
            self.found.append(shown)

    def _load_kustomization(self, path: Path) -> dict[Any, Any]:
        """The kustomization's data; empty when it cannot be read as one mapping."""
        try:
            document = Source(split(read_file(path, self._shown(path), self.budget),
                                    self._shown(path))).document()
            data = _load(document, document.items[0]) if len(document.items) == 1 else None
        except InputError:
            return {}
        return data if isinstance(data, dict) else {}

    def _local(self, directory: Path, entry: str) -> Path | None:
        """The local file or directory a kustomization entry names, inside the repository."""
        if _REMOTE.match(entry):
            return None
        try:
            target = (directory / entry).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return target if target.is_relative_to(self.root) else None

    def _shown(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.app)).as_posix()


def _inline(entry: str) -> bool:
    """True for a kustomization entry that is YAML text rather than a path."""
    return "\n" in entry or ": " in entry or entry.lstrip().startswith("{")


def _claims(text: str, shown: str, configs: bool) -> bool:
    """True when `text` holds a SimpleMLService, or with `configs` a krmfn function config."""
    if not any(hint in text for hint in _HINTS):
        return False
    try:
        document = stream(text, shown).document()
    except InputError:
        return bool(_KIND_LINE.search(text))
    for item in document.items:
        if _is_simplemlservice(item) or (configs and _is_krmfn_config(item)):
            return True
    return False


def _is_simplemlservice(item: Item) -> bool:
    group, slash, _ = (item.api_version or "").partition("/")
    return item.kind == KIND and group == GROUP and bool(slash)


def _is_krmfn_config(item: Item) -> bool:
    if item.kind == OPTIONS_KIND:
        return True
    for key in FUNCTION_ANNOTATIONS:
        image = _function_image(item.annotations.get(key))
        if image is not None and is_krmfn_image(image, os.environ):
            return True
    return False


def _function_image(spec: str | None) -> str | None:
    """The container image that a function annotation's value names, if any."""
    if not spec or "image" not in spec:
        return None
    try:
        document = Source(split(spec, "function annotation")).document()
        data = _load(document, document.items[0]) if len(document.items) == 1 else None
    except InputError:
        return None
    container = data.get("container") if isinstance(data, dict) else None
    image = container.get("image") if isinstance(container, dict) else None
    return image if isinstance(image, str) else None


def _load(document: Document, item: Item) -> Any:
    """One item's data; None when YAML's constructors refuse a value (a date like 2024-02-30)."""
    try:
        return document.load(item)
    except (ValueError, OverflowError, TypeError):
        return None
