"""The distributions as a user gets them: built, checked, installed and run apart from the checkout.

`python -m build` makes the sdist and, from the sdist, the wheel (offline: `--no-isolation`,
with this environment's locked setuptools), and `twine check --strict` passes both. The sdist
must carry what a user needs and none of the tests' scratch. The wheel is installed in a fresh
virtual environment the way the image installs it (the locked dependencies of
`requirements/image.txt` with hashes, then the wheel with `--no-deps`), and that
environment's `krmfn`, run outside the checkout, must print its version and render a bundled
example to the objects the checkout renders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.helpers import ROOT

pytestmark = pytest.mark.integration
VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "project"]["version"]
EXAMPLE = ROOT / "kustomization-examples" / "pytorch-pvc"
# The example's SimpleMLService and its options, given as files: what `krmfn render` reads.
EXAMPLE_FILES = [EXAMPLE / "simplemlservice.yaml", EXAMPLE / "krmfn.yaml"]
# Scratch of tests, tools and builds: never in a distribution.
SCRATCH_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache",
                ".git", ".cache", "build", "dist", "wheelhouse", "node_modules"}
SCRATCH_SUFFIXES = (".pyc", ".pyo", ".orig", ".rej", ".swp", "~")


@dataclass(frozen=True)
class Dists:
    """The built sdist and wheel."""

    sdist: Path
    wheel: Path


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
         timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout, check=False)


def _away_from_the_checkout(venv: Path) -> dict[str, str]:
    """An environment that finds the venv's `krmfn` and cannot import the checkout's."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT,
                 cwd=ROOT)
    assert built.returncode == 0, built.stdout + built.stderr
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert [p.name for p in sdists] == [f"krmfn-{VERSION}.tar.gz"]
    assert [p.name for p in wheels] == [f"krmfn-{VERSION}-py3-none-any.whl"]
    return Dists(sdists[0], wheels[0])


@pytest.fixture(scope="module")
def venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel and the image's locked dependencies."""
    path = tmp_path_factory.mktemp("venv") / "krmfn"
    made = _run(sys.executable, "-m", "venv", path)
    assert made.returncode == 0, made.stderr
    pip = path / "bin" / "pip"
    env = _away_from_the_checkout(path)
    locked = _run(pip, "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
                  "-r", ROOT / "requirements" / "image.txt", env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    wheel = _run(pip, "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                 dists.wheel, env=env)
    assert wheel.returncode == 0, wheel.stdout + wheel.stderr
    return path


def _sdist_names(sdist: Path) -> list[PurePosixPath]:
    """The sdist's members, relative to its top directory `krmfn-VERSION/`."""
    top = PurePosixPath(f"krmfn-{VERSION}")
    with tarfile.open(sdist) as archive:
        members = [PurePosixPath(m.name) for m in archive.getmembers()]
    assert all(m == top or top in m.parents for m in members), "members outside krmfn-VERSION/"
    return [m.relative_to(top) for m in members if m != top]


def test_twine_check_strict_passes_both(dists: Dists) -> None:
    checked = _run(sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_the_sdist_carries_what_a_user_needs(dists: Dists) -> None:
    names = set(_sdist_names(dists.sdist))
    needed = {PurePosixPath(p) for p in ("PKG-INFO", "pyproject.toml", "README.md",
                                         "krmfn/py.typed")}
    needed |= {PurePosixPath(p.relative_to(ROOT).as_posix())
               for p in (ROOT / "krmfn").rglob("*.py") if "__pycache__" not in p.parts}
    needed |= {PurePosixPath(p.name) for p in ROOT.glob("LICEN[CS]E*") if p.is_file()}
    assert not needed - names, f"missing from the sdist: {sorted(map(str, needed - names))}"


def test_the_sdist_carries_no_scratch(dists: Dists) -> None:
    scratch = [str(name) for name in _sdist_names(dists.sdist)
               if SCRATCH_DIRS & set(name.parts) or name.name.endswith(SCRATCH_SUFFIXES)
               or any(part.startswith(".venv") for part in name.parts)]
    assert not scratch, f"scratch in the sdist: {scratch}"


def test_the_wheel_holds_the_package_and_its_metadata_only(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        entry_points = wheel.read(f"krmfn-{VERSION}.dist-info/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"krmfn", f"krmfn-{VERSION}.dist-info"}
    assert "krmfn/py.typed" in names
    assert not [n for n in names if n.endswith(SCRATCH_SUFFIXES) or "__pycache__" in n]
    assert "krmfn = krmfn.cli:main" in entry_points


def test_the_fresh_venv_runs_the_wheel_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    env = _away_from_the_checkout(venv)
    where = _run(venv / "bin" / "python", "-c", "import krmfn; print(krmfn.__file__)",
                 cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    consistent = _run(venv / "bin" / "pip", "check", cwd=tmp_path, env=env)
    assert consistent.returncode == 0, consistent.stdout + consistent.stderr


def test_krmfn_version_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    done = _run(venv / "bin" / "krmfn", "--version", cwd=tmp_path,
                env=_away_from_the_checkout(venv))
    assert (done.returncode, done.stdout, done.stderr) == (0, f"krmfn {VERSION}\n", "")


def _kinds_and_names(stream: str) -> list[tuple[str, str]]:
    objects = [o for o in yaml.safe_load_all(stream) if o is not None]
    return sorted((o["kind"], o["metadata"]["name"]) for o in objects)


def test_krmfn_render_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    from_wheel = _run(venv / "bin" / "krmfn", "render", *EXAMPLE_FILES, cwd=tmp_path,
                      env=_away_from_the_checkout(venv), timeout=120)
    assert from_wheel.returncode == 0, from_wheel.stderr
    rendered = _kinds_and_names(from_wheel.stdout)
    assert {("Deployment", "resnet"), ("Service", "resnet")} <= set(rendered), rendered
    kinds = {kind for kind, _ in rendered}
    assert not kinds & {"SimpleMLService", "SimpleMLServiceOptions"}, rendered
    # The same objects as the checkout renders (the wheel is built from it).
    from_checkout = _run(sys.executable, "-m", "krmfn", "render", *EXAMPLE_FILES, cwd=ROOT,
                         timeout=120)
    assert from_checkout.returncode == 0, from_checkout.stderr
    assert rendered == _kinds_and_names(from_checkout.stdout)
