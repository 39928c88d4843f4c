"""kpt, for real: `kpt fn eval --exec` and `kpt fn render` over packages on disk.

The catalog's example packages are the cases: each is run as its `.expected/config.yaml`
says (as many times as `runCount`), and the change to the package must equal
`.expected/diff.patch`; a second run must change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, check_golden, load, need, validate_object
from tests.tools import copy_package, krmfn_exec, run

__all__ = ["krmfn_exec"]
EXAMPLES = sorted(p for p in (ROOT / "catalog" / "examples").iterdir() if p.is_dir())


def _git(*args: str, cwd: Path) -> str:
    done = run("git", "-c", "user.name=t", "-c", "user.email=t@t", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _snapshot(package: Path) -> dict[str, bytes]:
    return {str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


def _eval(package: Path, fn: Path, config: dict[str, Any]) -> tuple[int, str]:
    args = [f"{k}={v}" for k, v in (config.get("args") or {}).items()]
    done = run("kpt", "fn", "eval", package, "--exec", fn, "--truncate-output=false",
               *(["--", *args] if args else []))
    return done.returncode, done.stdout + done.stderr


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_catalog_example(example: Path, krmfn_exec: Path, tmp_path: Path) -> None:
    need("kpt")
    config = yaml.safe_load((example / ".expected" / "config.yaml").read_text())
    package = copy_package(example, tmp_path / example.name)
    _git("init", "-q", cwd=package)
    _git("add", "-A", cwd=package)
    _git("commit", "-qm", "before", cwd=package)
    snapshots = []
    for _ in range(config.get("runCount", 1)):
        code, output = _eval(package, krmfn_exec, config)
        assert code == config.get("exitCode", 0), output
        snapshots.append(_snapshot(package))
    assert all(s == snapshots[0] for s in snapshots), "a second run changed the package"
    _git("add", "-A", cwd=package)
    check_golden(example / ".expected" / "diff.patch", _git("diff", "--cached", cwd=package))
    for path in package.glob("*.generated.yaml"):
        for obj in yaml.safe_load_all(path.read_text()):
            validate_object(obj)


@pytest.mark.integration
def test_eval_keeps_user_files_and_places_outputs_beside_them(
        krmfn_exec: Path, tmp_path: Path) -> None:
    need("kpt")
    package = copy_package(ROOT / "catalog" / "examples" / "tensorflow-s3", tmp_path / "pkg")
    before = (package / "simplemlservice.yaml").read_text()
    configmap = (package / "configmap.yaml").read_bytes()
    code, output = _eval(package, krmfn_exec, {})
    assert code == 0, output
    after = (package / "simplemlservice.yaml").read_text()
    assert "# The MNIST model server of the demo team." in after
    assert "replicas: 2 # two pods, so a rollout never drops the service" in after
    assert 'config.kubernetes.io/local-config: "true"' in after
    assert (package / "configmap.yaml").read_bytes() == configmap
    kinds = [o["kind"] for o in yaml.safe_load_all((package / "mnist.generated.yaml").read_text())]
    assert kinds == ["Deployment", "Service"]
    assert before != after


@pytest.mark.integration
def test_render_with_an_exec_pipeline(krmfn_exec: Path, tmp_path: Path) -> None:
    need("kpt")
    package = copy_package(ROOT / "catalog" / "examples" / "tensorflow-s3", tmp_path / "pkg")
    kptfile = load((package / "Kptfile").read_text())
    kptfile["pipeline"] = {"mutators": [{"exec": str(krmfn_exec)}]}
    (package / "Kptfile").write_text(yaml.safe_dump(kptfile, sort_keys=False))
    first = run("kpt", "fn", "render", package, "--allow-exec", "--truncate-output=false")
    assert first.returncode == 0, first.stderr
    snapshot = _snapshot(package)
    assert "mnist.generated.yaml" in snapshot
    second = run("kpt", "fn", "render", package, "--allow-exec")
    assert second.returncode == 0, second.stderr
    assert _snapshot(package) == snapshot


@pytest.mark.integration
def test_errors_reach_the_results_file(krmfn_exec: Path, tmp_path: Path) -> None:
    need("kpt")
    package = copy_package(ROOT / "catalog" / "examples" / "errors", tmp_path / "pkg")
    source = (package / "simplemlservice.yaml").read_bytes()
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    done = run("kpt", "fn", "eval", package, "--exec", krmfn_exec, "--results-dir", results_dir)
    assert done.returncode != 0
    assert (package / "simplemlservice.yaml").read_bytes() == source
    report = load((results_dir / "results.yaml").read_text())
    found = [r for item in report["items"] for r in item.get("results", [])]
    fields = {r["field"]["path"] for r in found}
    assert fields == {"spec.pytroch", "spec.storage.pvc.subPath"}
    assert all(r["file"]["path"] == "simplemlservice.yaml" for r in found)
    assert "did you mean 'pytorch'?" in done.stdout + done.stderr
