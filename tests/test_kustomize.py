"""krmfn.kustomize and krmfn.dockershim: kustomize builds that run krmfn's functions in-process.

The integration tests build for real with `kubectl kustomize --enable-alpha-plugins`, with
no container runtime: the stand-in `docker` runs krmfn's own image in-process, hands other
images to a real docker when there is one (a recording script here), and fails in one line
without one. The rest reads command lines as kustomize writes them (kubernetes-sigs/kustomize
`kyaml/fn/runtime/container/container.go`) and runs the stand-in itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from krmfn import __version__
from krmfn.dockershim import (
    ShimError,
    is_krmfn_image,
    parse_run,
    real_docker,
    split_image,
    version_warning,
)
from krmfn.kustomize import KustomizeError, build, command, one_line, shim_script, write_shim
from krmfn.sources import read
from tests.helpers import ROOT, app_id, kustomize_apps, load, need, validate_object

IMAGE = f"ghcr.io/krmfn/krmfn:{__version__}"
# What kustomize v5.5 (kubectl 1.32) runs for a function without mounts or envs.
KUSTOMIZE_RUN = ["run", "--rm", "-i", "-a", "STDIN", "-a", "STDOUT", "-a", "STDERR",
                 "--network", "none", "--user", "nobody", "--security-opt=no-new-privileges",
                 "-e", "LOG_TO_STDERR=true", "-e", "STRUCTURED_RESULTS=true"]
EXAMPLES = [app for app, _ in kustomize_apps()]
GITOPS = ROOT / "tests" / "discover" / "gitops" / "repo"
SERVICE = """\
apiVersion: tensorstack.dev/v1beta1
kind: SimpleMLService
metadata: {name: sample, namespace: demo}
spec:
  storage: {pvc: {name: models, subPath: mnist}}
  tensorflow: {image: t9kpublic/tensorflow-serving:2.6.0}
"""


def _script(path: Path, body: str) -> Path:
    """An executable Python script (no shell needed)."""
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


# Reading docker's command line ----------------------------------------------------------

def test_the_command_line_kustomize_writes() -> None:
    argv = [*KUSTOMIZE_RUN[:14], "--mount", "type=bind,source=/src,target=/src,readonly",
            "-e", "A=1", "-e", "B=x=y", *KUSTOMIZE_RUN[14:], "-e", "HOME", IMAGE]
    run = parse_run(argv)
    assert run.image == IMAGE and run.args == []
    assert run.env == {"A": "1", "B": "x=y", "LOG_TO_STDERR": "true",
                       "STRUCTURED_RESULTS": "true"}


@pytest.mark.parametrize(("argv", "image", "args", "env"), [
    (["run", "-it", "--env=A=1", "img", "x", "-e"], "img", ["x", "-e"], {"A": "1"}),
    (["run", "--rm=true", "--network=host", "-u", "1:2", "img"], "img", [], {}),
])
def test_other_spellings_of_run(argv: list[str], image: str, args: list[str],
                                env: dict[str, str]) -> None:
    run = parse_run(argv)
    assert (run.image, run.args, run.env) == (image, args, env)


@pytest.mark.parametrize(("argv", "message"), [
    (["pull", IMAGE], "only `docker run` is handled"),
    ([], "only `docker run` is handled"),
    (["run", "--rm", "--entrypoint", "sh", IMAGE], "unknown docker run flag --entrypoint"),
    (["run", "--rm"], "names no image"),
    (["run", "-e"], "needs a value"),
])
def test_command_lines_the_stand_in_does_not_run(argv: list[str], message: str) -> None:
    with pytest.raises(ShimError, match=message):
        parse_run(argv)


@pytest.mark.parametrize(("image", "parts"), [
    ("ghcr.io/krmfn/krmfn:0.1.0", ("ghcr.io/krmfn/krmfn", "0.1.0", None)),
    ("ghcr.io/krmfn/krmfn@sha256:ab", ("ghcr.io/krmfn/krmfn", None, "sha256:ab")),
    ("ghcr.io/krmfn/krmfn:1@sha256:ab", ("ghcr.io/krmfn/krmfn", "1", "sha256:ab")),
    ("localhost:5000/krmfn", ("localhost:5000/krmfn", None, None)),
    ("krmfn/krmfn:v1", ("docker.io/krmfn/krmfn", "v1", None)),
    ("index.docker.io/library/nginx", ("docker.io/library/nginx", None, None)),
    ("nginx", ("docker.io/library/nginx", None, None)),
])
def test_image_references(image: str, parts: tuple[str, str | None, str | None]) -> None:
    assert split_image(image) == parts


def test_which_images_are_krmfn() -> None:
    assert is_krmfn_image("ghcr.io/krmfn/krmfn", {})
    assert is_krmfn_image("GHCR.io/krmfn/krmfn@sha256:00", {})
    assert not is_krmfn_image("ghcr.io/krmfn/krmfn-other:0.1.0", {})
    assert not is_krmfn_image("mirror.example.com/krmfn:0.1.0", {})
    mirrors = {"KRMFN_FUNCTION_IMAGES": " mirror.example.com/krmfn:9, krmfn/krmfn"}
    assert is_krmfn_image("mirror.example.com/krmfn:0.1.0", mirrors)
    assert is_krmfn_image("docker.io/krmfn/krmfn:0.1.0", mirrors)


def test_a_tag_naming_another_version_warns() -> None:
    assert version_warning(IMAGE, __version__) is None
    assert version_warning("ghcr.io/krmfn/krmfn:latest", __version__) is None
    assert version_warning("ghcr.io/krmfn/krmfn@sha256:00", __version__) is None
    assert version_warning(f"ghcr.io/krmfn/krmfn:v{__version__}", __version__) is None
    line = version_warning("ghcr.io/krmfn/krmfn:9.9.9", __version__)
    assert line == (f"krmfn: ghcr.io/krmfn/krmfn:9.9.9 asks for krmfn 9.9.9; krmfn "
                    f"{__version__} ran it in-process (the krmfn that runs `krmfn render`)")


def test_the_real_docker_is_the_next_one_on_path(tmp_path: Path) -> None:
    own, other, empty = tmp_path / "own", tmp_path / "other", tmp_path / "empty"
    for directory in (own, other, empty):
        directory.mkdir()
    shim = write_shim(own)
    docker = _script(other / "docker", "")
    path = os.pathsep.join(map(str, (own, empty, other)))
    assert real_docker(shim, {"PATH": path}) == docker
    assert real_docker(shim, {"PATH": str(own)}) is None


# Choosing kustomize ---------------------------------------------------------------------

def test_which_kustomize(tmp_path: Path) -> None:
    assert command("kubectl kustomize", {}) == ["kubectl", "kustomize"]
    assert command(["/opt/kustomize"], {}) == ["/opt/kustomize", "build"]
    assert command(None, {"KRMFN_KUSTOMIZE": "kubectl", "PATH": ""}) == ["kubectl",
                                                                         "kustomize"]
    assert command(None, {"PATH": str(tmp_path)}) == ["kubectl", "kustomize"]
    found = _script(tmp_path / "kustomize", "")
    assert command(None, {"PATH": str(tmp_path)}) == [str(found), "build"]
    with pytest.raises(KustomizeError, match="names no command"):
        command("  ", {})


def test_the_stand_in_runs_with_this_interpreter_and_this_krmfn() -> None:
    script = shim_script()
    assert script.startswith(f"#!{sys.executable}\n")
    assert repr(str(ROOT)) in script


def test_failures_are_one_line(tmp_path: Path) -> None:
    fake = _script(tmp_path / "fake", "import sys\nsys.stderr.write('first\\n\\n  second\\n')\n"
                   "raise SystemExit(3)\n")
    with pytest.raises(KustomizeError) as caught:
        build(tmp_path, [str(fake)])
    assert str(caught.value) == (f"`{fake} --enable-alpha-plugins {tmp_path}` failed (exit 3): "
                                 "first | second")
    with pytest.raises(KustomizeError, match="is not installed"):
        build(tmp_path, [str(tmp_path / "none")])
    slow = _script(tmp_path / "slow", "import time\ntime.sleep(30)\n")
    with pytest.raises(KustomizeError, match=r"did not finish in 0\.5 s"):
        build(tmp_path, [str(slow)], timeout=0.5)
    assert one_line("x" * 5000).startswith("... x")


def test_a_build_returns_stdout_and_passes_warnings_on(tmp_path: Path) -> None:
    fake = _script(tmp_path / "fake", "import sys\nsys.stderr.write('note\\n')\n"
                   "print('kind: A')\nprint(sys.argv[1:])\n")
    notes: list[str] = []
    out = build(tmp_path, str(fake), warn=notes.append)
    assert out == f"kind: A\n['--enable-alpha-plugins', '{tmp_path}']\n"
    assert notes == ["note"]


# The stand-in, run as kustomize runs it ----------------------------------------------

def _run_shim(tmp_path: Path, argv: list[str], stdin: str, path: str
              ) -> subprocess.CompletedProcess[str]:
    directory = tmp_path / "shim"
    directory.mkdir(exist_ok=True)
    shim = write_shim(directory)
    env = {**os.environ, "PATH": os.pathsep.join((str(directory), path))}
    return subprocess.run([str(shim), *argv], input=stdin, capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, check=False)


def _resource_list(*items: str) -> str:
    listed = "".join("- " + item.replace("\n", "\n  ").rstrip(" ") for item in items)
    return f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{listed}"


def test_the_stand_in_runs_krmfn_in_process(tmp_path: Path) -> None:
    done = _run_shim(tmp_path, [*KUSTOMIZE_RUN, IMAGE], _resource_list(SERVICE), "")
    assert done.returncode == 0, done.stderr
    kinds = [i["kind"] for i in load(done.stdout)["items"]]
    assert kinds == ["SimpleMLService", "Deployment", "Service"]
    again = _run_shim(tmp_path, [*KUSTOMIZE_RUN, "ghcr.io/krmfn/krmfn:9.9.9"],
                      _resource_list(SERVICE), "")
    assert again.returncode == 0
    assert again.stdout == done.stdout
    assert again.stderr.splitlines() == [version_warning("ghcr.io/krmfn/krmfn:9.9.9",
                                                         __version__)]


def test_the_stand_in_passes_the_variables_and_the_exit_code(tmp_path: Path) -> None:
    bad = SERVICE.replace("subPath: mnist", "subPath: /abs")
    done = _run_shim(tmp_path, [*KUSTOMIZE_RUN, IMAGE], _resource_list(bad), "")
    assert done.returncode == 1
    assert "spec.storage.pvc.subPath" in done.stderr
    assert "Traceback" not in done.stderr


def test_other_images_go_to_the_real_docker(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    _script(real / "docker", "import json, sys\n"
            f"open({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
            "sys.stdout.write(sys.stdin.read())\n")
    argv = [*KUSTOMIZE_RUN, "example.com/fn:v1"]
    done = _run_shim(tmp_path, argv, "kind: X\n", str(real))
    assert (done.returncode, done.stdout) == (0, "kind: X\n")
    assert json.loads((tmp_path / "argv.json").read_text()) == argv
    missing = _run_shim(tmp_path, argv, "kind: X\n", str(tmp_path / "empty"))
    assert missing.returncode == 1
    assert missing.stderr == (
        "krmfn: `krmfn render` runs krmfn's own functions in-process; example.com/fn:v1 needs "
        "a container runtime, and no docker is on PATH (a mirror of krmfn's image can be named "
        "in KRMFN_FUNCTION_IMAGES)\n")


# Real builds ---------------------------------------------------------------------------

@pytest.fixture
def kubectl_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with kubectl and nothing else: no kustomize binary, no docker."""
    kubectl = need("kubectl")
    directory = tmp_path / "bin"
    directory.mkdir()
    (directory / "kubectl").symlink_to(kubectl)
    monkeypatch.setenv("PATH", str(directory))
    monkeypatch.delenv("KRMFN_KUSTOMIZE", raising=False)
    return directory


def _objects(text: str) -> list[dict[str, object]]:
    return [o for o in yaml.safe_load_all(text) if o]


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES, ids=[app_id(e) for e in EXAMPLES])
def test_examples_build_as_with_the_image(example: Path, kubectl_only: Path,
                                          tmp_path: Path) -> None:
    """In-process gives what kustomize gets from the function run as its image would run."""
    built = build(example)
    objects = _objects(built)
    assert {"Deployment", "Service"} <= {o["kind"] for o in objects}
    assert "SimpleMLService" not in {o["kind"] for o in objects}
    for obj in objects:
        if obj["kind"] in ("Deployment", "Service"):
            validate_object(obj)
    reference = tmp_path / "reference"
    reference.mkdir()
    _script(reference / "docker", f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
            "from krmfn.cli import main\nraise SystemExit(main([]))\n")
    env = {**os.environ, "PATH": os.pathsep.join((str(reference), os.environ["PATH"]))}
    expected = subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(example)],
                              capture_output=True, text=True, env=env, timeout=120,
                              check=False)
    assert expected.returncode == 0, expected.stderr
    assert built == expected.stdout


@pytest.mark.integration
def test_an_overlay_declaring_krmfn_sees_its_own_patches(kubectl_only: Path) -> None:
    objects = _objects(build(GITOPS / "overlays" / "dev"))
    deployments = {o["metadata"]["name"]: o for o in objects  # type: ignore[index]
                   if o["kind"] == "Deployment"}
    assert sorted(deployments) == ["dev-mnist", "dev-resnet"]
    assert deployments["dev-mnist"]["spec"]["replicas"] == 3  # type: ignore[index]
    assert {o["metadata"]["namespace"] for o in objects} == {"dev"}  # type: ignore[index]


@pytest.mark.integration
def test_an_overlay_without_krmfn_builds_to_simplemlservices(kubectl_only: Path) -> None:
    objects = _objects(build(GITOPS / "overlays" / "prod"))
    assert [o["kind"] for o in objects] == ["SimpleMLService", "SimpleMLService"]


@pytest.mark.integration
def test_an_unrelated_container_function_fails_in_one_line(kubectl_only: Path,
                                                           tmp_path: Path) -> None:
    for name in ("deployment.yaml", "labels.yaml"):
        shutil.copy(GITOPS / "unrelated" / name, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [deployment.yaml]\ntransformers: [labels.yaml]\n")
    with pytest.raises(KustomizeError) as caught:
        build(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert ("`krmfn render` runs krmfn's own functions in-process; "
            "ghcr.io/example/set-labels:v1 needs a container runtime") in message


@pytest.mark.integration
def test_a_function_error_reaches_the_message(kubectl_only: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(ROOT / "kustomization-examples" / "pytorch-pvc", app,
                    ignore=shutil.ignore_patterns(".expected"))
    path = app / "simplemlservice.yaml"
    path.write_text(path.read_text().replace("subPath: torchserve/resnet", "subPath: /abs"))
    with pytest.raises(KustomizeError, match=r"failed \(exit 1\): .*spec\.storage\.pvc\.subPath"):
        build(app)


@pytest.mark.integration
def test_kustomize_errors_reach_the_message(kubectl_only: Path, tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(KustomizeError, match=r"missing\.yaml"):
        build(tmp_path)


@pytest.mark.integration
def test_the_flags_kustomize_passes_to_docker(kubectl_only: Path, tmp_path: Path) -> None:
    """The upstream fact the stand-in relies on, seen: kustomize's `docker run` line."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: [cm.yaml]\ntransformers: [fn.yaml]\n")
    (app / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (app / "fn.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: fn\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      container:\n"
        "        image: example.com/fn:v1\n        envs: [B=2, A=1, HOME]\n"
        "        mounts: [{type: bind, src: ., dst: /src}]\n")
    _script(kubectl_only / "docker", "import json, sys\n"
            f"open({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
            "sys.stdout.write(sys.stdin.read())\n")
    assert _objects(build(app))[0]["kind"] == "ConfigMap"
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        *KUSTOMIZE_RUN[:14], "--mount", f"type=bind,source={app},target=/src,readonly",
        "-e", "A=1", "-e", "B=2", *KUSTOMIZE_RUN[14:], "-e", "HOME", "example.com/fn:v1"]


@pytest.mark.integration
def test_sources_read_a_kustomization_through_its_build(kubectl_only: Path) -> None:
    app = GITOPS / "overlays" / "prod"
    source = read([str(app)])
    assert {o.file for o in source.origins} == {f"kustomize build {app.as_posix()}"}
    assert [o.index for o in source.origins] == [0, 1]
    document = source.document()
    assert [document.load(i)["metadata"]["namespace"] for i in document.items] == ["prod"] * 2
