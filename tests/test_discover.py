"""krmfn.discover: which Argo CD apps the plugin claims, decided without building anything.

Each folder of tests/discover holds `repo/` (a repository as Argo CD's cmp-server unpacks
it) and `expected.yaml`: for app directories of the repository, the paths discovery must
print (an empty list: the app is not krmfn's, and discovery prints nothing).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from krmfn.discover import discover, repository_root
from tests.helpers import ROOT

CASES = sorted(p for p in (ROOT / "tests" / "discover").iterdir() if (p / "repo").is_dir())
APPS = [(case, app) for case in CASES
        for app in yaml.safe_load((case / "expected.yaml").read_text())]


@pytest.mark.parametrize(("case", "app"), APPS, ids=[f"{c.name}:{a}" for c, a in APPS])
def test_discover(case: Path, app: str) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text())[app]
    assert discover(case / "repo" / app, root=case / "repo") == expected


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "_cmp_server" / "0f3a"
    shutil.copytree(ROOT / "tests" / "discover" / "gitops" / "repo", target)
    return target


def test_the_root_is_the_app_path_less_argocd_app_source_path(repo: Path) -> None:
    app = repo / "overlays" / "prod"
    environ = {"ARGOCD_APP_SOURCE_PATH": "overlays/prod"}
    assert repository_root(app, environ) == app.parent.parent
    assert discover(app, environ=environ) == ["../../base/models.yaml"]
    # Without the variable nor a checkout, nothing above the app is read.
    assert repository_root(app, {}) == app
    assert discover(app, environ={}) == []
    (repo / ".git").mkdir()
    assert discover(app, environ={}) == ["../../base/models.yaml"]
    # A root app, and a path that does not match the directory.
    assert repository_root(repo, {"ARGOCD_APP_SOURCE_PATH": "."}) == repo
    assert repository_root(app, {"ARGOCD_APP_SOURCE_PATH": "elsewhere/prod"}) == repo


def test_a_mirrored_image_is_krmfn_when_listed(repo: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    config = repo / "overlays" / "dev" / "krmfn.yaml"
    config.write_text(config.read_text()
                      .replace("SimpleMLServiceOptions", "ConfigMap")
                      .replace("ghcr.io/krmfn/krmfn", "registry.example.com/mirror/krmfn"))
    (repo / "base" / "models.yaml").write_text("kind: ConfigMap\n")
    app = repo / "overlays" / "dev"
    monkeypatch.delenv("KRMFN_FUNCTION_IMAGES", raising=False)
    assert discover(app, root=repo) == []
    monkeypatch.setenv("KRMFN_FUNCTION_IMAGES", "quay.io/x/y, registry.example.com/mirror/krmfn")
    assert discover(app, root=repo) == ["krmfn.yaml"]


def test_symlinks_out_of_the_repository_are_not_followed(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "serving.yaml").write_text((repo / "plain" / "simplemlservice.yaml").read_text())
    app = repo / "linked"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: [serving.yaml]\n")
    (app / "serving.yaml").symlink_to(outside / "serving.yaml")
    assert discover(app, root=repo) == []


def test_hostile_files_are_read_within_the_limits(repo: Path) -> None:
    app = repo / "hostile"
    app.mkdir()
    bomb = ["kind: SimpleMLService", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]"
             for n in range(9)]
    (app / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (app / "deep.yaml").write_text("kind: SimpleMLService\nspec: " + "[" * 5000 + "]" * 5000)
    (app / "binary.yaml").write_bytes(b"kind: SimpleMLService\n\xff\x00")
    started = time.monotonic()
    found = discover(app, root=repo)
    assert time.monotonic() - started < 5
    # Each is unreadable as YAML; a `kind: SimpleMLService` line still claims the app, so
    # that krmfn render reports the file's error where the user looks.
    assert found == ["bomb.yaml", "deep.yaml"]


def test_an_unreadable_kustomization_claims_nothing(repo: Path) -> None:
    app = repo / "bad-kustomization"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: [a\n")
    assert discover(app, root=repo) == []
