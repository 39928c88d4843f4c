"""What a kustomize build started by krmfn executes as `docker`: krmfn's own functions in-process.

kustomize runs a container function (a `transformers:` or `generators:` entry whose config
carries the `config.kubernetes.io/function` annotation) by executing `docker run ...` with the
ResourceList on stdin. `krmfn.kustomize` puts a directory first on the build's PATH holding a
`docker` script that calls `main` here: when the image is krmfn's own, the function runs in
this process (`krmfn.cli.main([])`, as the image's entrypoint would), so a build needs no
container runtime; any other image goes to the next real `docker` on PATH, or fails with one
line that says why.

Facts relied on (kubernetes-sigs/kustomize, read at kustomize/v5.5.0 and at master):
- `kyaml/fn/runtime/container/container.go` (`Filter.getCommand`): the program is the bare
  name `docker`, looked up on PATH; its arguments are `run --rm -i -a STDIN -a STDOUT -a STDERR
  --network none|host --user nobody|UID:GID --security-opt=no-new-privileges`, then one
  `--mount type=T,source=ABS,target=DST[,readonly]` per declared mount, then the `-e` flags,
  then the image, and no arguments after the image.
- `kyaml/fn/runtime/runtimeutil/functiontypes.go` (`ContainerEnv.GetDockerFlags`,
  `NewContainerEnv`, `StorageMount.String`): the `-e` flags are `-e KEY=VALUE` for
  `LOG_TO_STDERR=true`, `STRUCTURED_RESULTS=true` and the function's own `envs`, sorted by
  key, then `-e KEY` for names whose value docker copies from its own environment. Seen with
  kubectl 1.32 (kustomize v5.5.0) for a function declaring `envs: [B=2, A=1, HOME]` and one
  mount: `run --rm -i -a STDIN -a STDOUT -a STDERR --network none --user nobody
  --security-opt=no-new-privileges --mount type=bind,source=DIR,target=/src,readonly -e A=1
  -e B=2 -e LOG_TO_STDERR=true -e STRUCTURED_RESULTS=true -e HOME IMAGE`.
- `kyaml/fn/runtime/exec/exec.go` (`Filter.Run`): the command gets kustomize's whole
  environment, the ResourceList on stdin, and kustomize's own stderr as its stderr; kustomize
  reads the ResourceList back from stdout and fails the build on a non-zero exit.

An image is krmfn's when its repository is `ghcr.io/krmfn/krmfn` (any tag or digest) or one
listed in `KRMFN_FUNCTION_IMAGES` (comma-separated, for mirrors). Flags that only shape a
container (network, user, mounts, security options) mean nothing in-process and are ignored;
an unknown flag, or another docker command than `run`, goes to the real docker.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KRMFN_REPOSITORY = "ghcr.io/krmfn/krmfn"
IMAGES_ENV = "KRMFN_FUNCTION_IMAGES"
# `docker run` flags, as docker's own command line spells them: those taking a value, and
# those that stand alone. kustomize uses few of them; the rest are here so that a command
# line written by hand for krmfn's image is read the same way.
_VALUE_FLAGS = frozenset({
    "-a", "--attach", "--network", "--net", "--user", "-u", "--security-opt", "--mount",
    "-v", "--volume", "-e", "--env", "--name", "-w", "--workdir", "--platform", "--pull",
    "--label", "-l", "--cap-add", "--cap-drop", "--tmpfs", "--ulimit", "--memory", "-m",
    "--cpus", "--hostname", "-h", "--log-driver", "--add-host"})
_BOOL_FLAGS = frozenset({
    "--rm", "-i", "--interactive", "-t", "--tty", "--init", "--read-only", "--privileged",
    "-q", "--quiet"})
_VERSION_TAG = re.compile(r"v?(\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.+-]*)?)\Z")


class ShimError(Exception):
    """A `docker` command line the stand-in cannot run in-process; the message is one line."""


@dataclass
class Run:
    """A `docker run` command line, read: the variables it sets, the image, its arguments."""

    image: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def parse_run(argv: Sequence[str]) -> Run:
    """Read `docker run [FLAGS] IMAGE [ARGS]`; raise ShimError for anything else."""
    if not argv or argv[0] != "run":
        raise ShimError(f"only `docker run` is handled, not `docker {' '.join(argv[:1])}`")
    env: dict[str, str] = {}
    position = 1
    while position < len(argv) and argv[position].startswith("-"):
        flag, given, value = argv[position].partition("=")
        position += 1
        if flag in _BOOL_FLAGS or _bool_shorts(flag):
            continue  # `--rm` or `--rm=true`: nothing to do in-process
        if flag not in _VALUE_FLAGS:
            raise ShimError(f"unknown docker run flag {flag}")
        if not given:
            if position >= len(argv):
                raise ShimError(f"the docker run flag {flag} needs a value")
            value = argv[position]
            position += 1
        if flag in ("-e", "--env"):
            name, has_value, setting = value.partition("=")
            if has_value:
                env[name] = setting
            # `-e NAME` copies docker's own variable: in-process it is already there.
    if position >= len(argv):
        raise ShimError("docker run names no image")
    return Run(argv[position], list(argv[position + 1:]), env)


def _bool_shorts(flag: str) -> bool:
    """True for combined one-letter switches such as `-it`."""
    return (len(flag) > 2 and flag[0] == "-" and flag[1] != "-"
            and all(f"-{letter}" in _BOOL_FLAGS for letter in flag[1:]))


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """An image reference's repository (normalised as docker does), tag and digest."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    return _normalise(name), tag, digest or None


def _normalise(repository: str) -> str:
    """`krmfn/krmfn` and `docker.io/krmfn/krmfn` are one repository, as docker reads them."""
    repository = repository.lower()
    first, _, rest = repository.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        first, rest = "docker.io", repository
    if first == "index.docker.io":
        first = "docker.io"
    if first == "docker.io" and "/" not in rest:
        rest = f"library/{rest}"
    return f"{first}/{rest}"


def krmfn_repositories(environ: Mapping[str, str]) -> frozenset[str]:
    """The repositories whose images are krmfn: its own and those in KRMFN_FUNCTION_IMAGES."""
    listed = (entry.strip() for entry in environ.get(IMAGES_ENV, "").split(","))
    return frozenset({_normalise(KRMFN_REPOSITORY)} | {split_image(e)[0] for e in listed if e})


def is_krmfn_image(image: str, environ: Mapping[str, str]) -> bool:
    """True when `image` (any tag or digest) is krmfn's own function image."""
    return split_image(image.strip())[0] in krmfn_repositories(environ)


def version_warning(image: str, version: str) -> str | None:
    """The warning line when `image`'s tag names another krmfn version than `version`."""
    tag = split_image(image)[1]
    match = _VERSION_TAG.match(tag or "")
    if match is None or match[1] == version:
        return None
    return (f"krmfn: {image} asks for krmfn {match[1]}; krmfn {version} ran it in-process "
            "(the krmfn that runs `krmfn render`)")


def real_docker(shim: Path, environ: Mapping[str, str]) -> Path | None:
    """The first `docker` on PATH that is not this stand-in, nor in its directory."""
    own = shim.resolve()
    for entry in environ.get("PATH", "").split(os.pathsep):
        if not entry or Path(entry).resolve() == own.parent:
            continue
        candidate = Path(entry) / "docker"
        if (candidate.is_file() and os.access(candidate, os.X_OK)
                and candidate.resolve() != own):
            return candidate
    return None


def main(argv: Sequence[str], shim: Path) -> int:
    """Run `docker ARGV` as kustomize asked; `shim` is the stand-in's own path."""
    try:
        command = parse_run(argv)
    except ShimError as err:
        return _delegate(argv, shim, str(err))
    if not is_krmfn_image(command.image, os.environ):
        return _delegate(argv, shim, None, command.image)
    from krmfn import __version__  # noqa: PLC0415 - krmfn's own, after the command is read
    from krmfn.cli import main as krmfn_main  # noqa: PLC0415

    warning = version_warning(command.image, __version__)
    if warning:
        sys.stderr.write(warning + "\n")
    os.environ.update(command.env)
    return krmfn_main(command.args)


def _delegate(argv: Sequence[str], shim: Path, problem: str | None,
              image: str | None = None) -> int:
    """Hand the command to the real docker; without one, say in one line why it cannot run."""
    docker = real_docker(shim, os.environ)
    if docker is not None:
        os.execv(docker, [str(docker), *argv])
    if image is None:
        sys.stderr.write(f"krmfn: docker stand-in: {problem}, and no docker is on PATH\n")
    else:
        sys.stderr.write(
            f"krmfn: `krmfn render` runs krmfn's own functions in-process; {image} needs a "
            f"container runtime, and no docker is on PATH (a mirror of krmfn's image can be "
            f"named in {IMAGES_ENV})\n")
    return 1
