"""One version: `[project] version` in pyproject.toml, and every place that repeats it.

The version is written once, in pyproject.toml. `krmfn.__version__` repeats it (start-up
never pays for reading package metadata), and so does every reference to the image with a
tag, `ghcr.io/krmfn/krmfn:TAG`: the default `downloaderImage`, the README, the kpt catalog,
the Argo CD plugin, the kustomize examples, the published schemas and the golden cases; so
does a copy in another registry tagged with a version, `krmfn==VERSION` for pip, and
`krmfn VERSION` as `krmfn --version` prints it. The newest release of CHANGELOG.md is this
version too. A bump that misses one fails here, with the file and line of each place left
behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import krmfn
from krmfn import constants
from tests.helpers import ROOT

VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "project"]["version"]
IMAGE = "ghcr.io/krmfn/krmfn"
# The image with a tag: not a digest (`@sha256:`), not a variable (`:$VERSION`, `:${{ }}`).
IMAGE_WITH_TAG = re.compile(re.escape(IMAGE) + r":([A-Za-z0-9_][A-Za-z0-9_.-]*)")
# A copy in another registry tagged with a version (`registry.example.com/krmfn:0.1.0`; not
# `localhost/krmfn:dev`), the package pinned for pip, and the version as `krmfn --version`
# prints it.
OTHER_REGISTRY = re.compile(r"(?<!ghcr\.io/krmfn)/krmfn:(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)")
PIP_PIN = re.compile(r"(?<![\w.-])krmfn==([A-Za-z0-9_][A-Za-z0-9_.+!-]*)")
PRINTED = re.compile(r"(?<![\w./-])krmfn (\d+\.\d+\.\d+[0-9A-Za-z.+-]*)")
PATTERNS = (IMAGE_WITH_TAG, OTHER_REGISTRY, PIP_PIN, PRINTED)
# Each of these names the image at this version at least once: the scan below would pass
# without a word if one of them had moved away.
PLACES = ["README.md", "catalog", "argocd", "kustomization-examples"]
CHANGELOG = ROOT / "CHANGELOG.md"
# Not part of the project's text: version control, environments, caches, build output, and
# the tests' own scratch files (a test of version handling names other versions on purpose).
SKIPPED_DIRS = {"__pycache__", "build", "dist", "wheelhouse", "node_modules", "tests"}
KEPT_HIDDEN_DIRS = {".github", ".ci", ".expected"}


def _text_files(root: Path) -> Iterator[Path]:
    """The project's text files under `root` (a file or a directory)."""
    if root.is_file():
        yield root
        return
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and (not d.startswith(".") or d in KEPT_HIDDEN_DIRS))
        for name in sorted(filenames):
            path = Path(directory) / name
            if path.is_file() and path.stat().st_size < 4_000_000:
                yield path


def _references(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, what was found, the version it names) for each image tag or pin."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return
    for number, line in enumerate(text.splitlines(), 1):
        for pattern in PATTERNS:
            for match in pattern.finditer(line):
                named = match.group(1).rstrip(".")  # a tag that ends a sentence
                yield number, match.group(0).rstrip("."), named


def _top_release() -> tuple[str, str]:
    """The newest release of CHANGELOG.md (not `Unreleased`): its version and its text."""
    sections = re.split(r"^## ", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    for section in sections[1:]:
        heading = re.match(r"\[([^\]]+)\]", section)
        assert heading, f"CHANGELOG.md: a heading is not '## [VERSION] ...': {section[:40]!r}"
        if heading.group(1) != "Unreleased":
            return heading.group(1), section
    pytest.fail("CHANGELOG.md names no release")


def test_the_version_is_semantic() -> None:
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([-+][0-9A-Za-z.-]+)?",
                        VERSION), VERSION


def test_the_package_version_is_pyprojects() -> None:
    assert krmfn.__version__ == VERSION


def test_krmfn_version_prints_it() -> None:
    done = subprocess.run([sys.executable, "-m", "krmfn", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"krmfn {VERSION}\n", "")


def test_the_default_downloader_image_is_this_versions_image() -> None:
    assert f"{IMAGE}:{VERSION}" == constants.DEFAULT_DOWNLOADER_IMAGE


def test_the_newest_changelog_release_is_this_version() -> None:
    version, section = _top_release()
    assert version == VERSION, f"CHANGELOG.md's newest release is {version}, not {VERSION}"
    stale = [found for line in section.splitlines() for pattern in PATTERNS
             for found in pattern.findall(line) if found.rstrip(".") != VERSION]
    assert not stale, f"CHANGELOG.md's {VERSION} section names other versions: {stale}"
    link = re.search(rf"^\[{re.escape(VERSION)}\]: (\S+)$", CHANGELOG.read_text("utf-8"),
                     flags=re.MULTILINE)
    assert link, f"CHANGELOG.md has no link for [{VERSION}]"
    assert f"v{VERSION}" in link.group(1), f"CHANGELOG.md's [{VERSION}] link: {link.group(1)}"


def test_every_image_tag_and_pin_is_this_version() -> None:
    stale = []
    for path in _text_files(ROOT):
        if path in (CHANGELOG, Path(__file__).resolve()):
            continue  # older releases keep their own versions; this file names none
        for number, found, named in _references(path):
            if named != VERSION:
                stale.append(f"{path.relative_to(ROOT)}:{number}: {found}")
    assert not stale, f"not version {VERSION} (pyproject.toml):\n" + "\n".join(stale)


@pytest.mark.parametrize("place", PLACES)
def test_each_place_names_the_image_at_this_version(place: str) -> None:
    found = [f for path in _text_files(ROOT / place) for _, f, named in _references(path)
             if named == VERSION and f.startswith(IMAGE)]
    assert found, f"{place} no longer names {IMAGE}:{VERSION}"
