"""Build a kustomization directory, with krmfn's own function configs run in-process.

`build(directory)` runs the user's kustomize with `--enable-alpha-plugins` and returns the
YAML stream it prints. Which kustomize: the one asked for (an argument, or the environment
variable `KRMFN_KUSTOMIZE`, e.g. `kubectl kustomize` or `/usr/local/bin/kustomize build`),
else `kustomize build` when a `kustomize` binary is on PATH (Argo CD's image carries one at
/usr/local/bin), else `kubectl kustomize` (the same build, embedded in kubectl).

A kustomization written for kustomize CLI users declares krmfn as a container function (a
`transformers:` or `generators:` entry whose config carries `config.kubernetes.io/function`
naming krmfn's image). Where no container runtime exists (an Argo CD repo-server sidecar),
the build still runs it: for the build's duration a private temporary directory comes first
on PATH, holding a `docker` that is `krmfn.dockershim` (a Python script whose interpreter is
this one, importing this krmfn, so no shell is needed), which runs krmfn's own image
in-process and passes any other image to a real docker, or fails in one line without one.

Facts relied on (kubernetes-sigs/kustomize):
- Without `--enable-alpha-plugins` a kustomization that declares a function fails to build
  ("external plugins disabled", `api/types/erronlybuiltinpluginsallowed.go`); the flag is
  `kustomize/commands/build/flagenableplugins.go`, and kubectl kustomize has it too (kubectl
  1.32 has no `--enable-exec`, `kustomize/commands/build/flagsforfunctions.go`). Exec
  functions are not enabled here: they would run programs that the repository names.
- A container function is run as the program `docker` found on PATH
  (`kyaml/fn/runtime/container/container.go`, `Filter.getCommand`), with kustomize's whole
  environment (`kyaml/fn/runtime/exec/exec.go`, `Filter.Run`); the command line is described
  in `krmfn.dockershim`.
- The function's stderr is kustomize's own stderr; a function that exits non-zero fails the
  build (`kyaml/fn/runtime/runtimeutil/runtimeutil.go`, `FunctionFilter.Filter`) with
  "couldn't execute function: exit status N" (`api/internal/plugins/fnplugin/fnplugin.go`),
  which kustomize prints as `Error: ...` and kubectl as a `"command failed"` log line, exit 1.
- `docker` runs in the kustomization's directory, and relative mount sources are resolved
  there, not in kustomize's own working directory (`api/internal/plugins/loader/loader.go`,
  `LoaderWithWorkingDir`; `kyaml/runfn/runfn.go`, `ffp`; seen with kubectl 1.32), so the
  build can be started from any directory.

Failures raise `KustomizeError`, one line carrying kustomize's own stderr: Argo CD shows a
failed generate command's stderr in its UI.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from krmfn.yamlscan import InputError

KUSTOMIZE_ENV = "KRMFN_KUSTOMIZE"
ALPHA_PLUGINS = "--enable-alpha-plugins"
# The longest stderr a message carries: kustomize's errors are short, a function's results
# can be many; the end holds kustomize's own "Error:" line.
MAX_MESSAGE = 4000


class KustomizeError(InputError):
    """A kustomize build that could not run or failed; the message is one line."""


def command(choice: str | Sequence[str] | None = None,
            environ: Mapping[str, str] | None = None) -> list[str]:
    """The kustomize command line to build with, without the flag and the directory.

    `choice` (a command line as a string or as words) wins, then `KRMFN_KUSTOMIZE`; a bare
    `kustomize` gets `build` and a bare `kubectl` gets `kustomize` added.
    """
    environ = os.environ if environ is None else environ
    chosen = choice if choice is not None else environ.get(KUSTOMIZE_ENV, "").strip() or None
    if chosen is not None:
        words = shlex.split(chosen) if isinstance(chosen, str) else list(chosen)
        if not words:
            raise KustomizeError(f"{KUSTOMIZE_ENV} names no command")
        if len(words) == 1 and Path(words[0]).name == "kustomize":
            words.append("build")
        elif len(words) == 1 and Path(words[0]).name == "kubectl":
            words.append("kustomize")
        return words
    found = shutil.which("kustomize", path=environ.get("PATH"))
    if found:
        return [found, "build"]
    return ["kubectl", "kustomize"]


def shim_script() -> str:
    """The text of the `docker` stand-in: this interpreter, this krmfn, `krmfn.dockershim`."""
    interpreter = sys.executable
    if not interpreter or any(c.isspace() for c in interpreter) or len(interpreter) > 120:
        raise KustomizeError(f"cannot write a docker stand-in for the interpreter "
                             f"{interpreter!r}: a script's first line cannot name it")
    package_parent = str(Path(__file__).resolve().parent.parent)
    return (f"#!{interpreter}\n"
            "# krmfn's docker stand-in for one kustomize build (krmfn.dockershim).\n"
            "import sys\n"
            f"if {package_parent!r} not in sys.path:\n"
            f"    sys.path.insert(0, {package_parent!r})\n"
            "from pathlib import Path\n"
            "from krmfn.dockershim import main\n"
            "raise SystemExit(main(sys.argv[1:], Path(sys.argv[0])))\n")


def write_shim(directory: Path) -> Path:
    """Write the stand-in as `directory/docker`, executable by its owner only."""
    path = directory / "docker"
    path.write_text(shim_script(), encoding="utf-8")
    path.chmod(0o700)
    return path


def build(directory: Path, choice: str | Sequence[str] | None = None, *,
          timeout: float | None = None, warn: Callable[[str], None] | None = None) -> str:
    """Build `directory` and return the YAML stream kustomize printed.

    `choice` picks the kustomize (see `command`). On success each line kustomize wrote on
    stderr (deprecation notes, the stand-in's version warning) goes to `warn`, when given.
    Raises KustomizeError when kustomize cannot be run, fails, or outlasts `timeout` seconds.
    """
    target = str(directory) if not str(directory).startswith("-") else f"./{directory}"
    argv = [*command(choice), ALPHA_PLUGINS, target]
    shown = " ".join(shlex.quote(word) for word in argv)
    with tempfile.TemporaryDirectory(prefix="krmfn-kustomize-") as private:
        write_shim(Path(private))
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(p for p in (private, env.get("PATH")) if p)
        try:
            done = subprocess.run(argv, env=env, capture_output=True, timeout=timeout,
                                  check=False)
        except FileNotFoundError:
            raise KustomizeError(
                f"cannot build {directory}: {argv[0]} is not installed (install kustomize or "
                f"kubectl, or name the command in {KUSTOMIZE_ENV})") from None
        except PermissionError as err:
            raise KustomizeError(f"cannot build {directory}: {argv[0]}: {err.strerror}"
                                 ) from None
        except subprocess.TimeoutExpired:
            raise KustomizeError(f"`{shown}` did not finish in {timeout:g} s") from None
    stderr = done.stderr.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise KustomizeError(f"`{shown}` failed (exit {done.returncode}): "
                             f"{one_line(stderr) or 'no message'}")
    if warn is not None:
        for line in stderr.splitlines():
            if line.strip():
                warn(line.strip())
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KustomizeError(f"`{shown}` printed bytes that are not UTF-8 at offset "
                             f"{err.start}") from None


def one_line(text: str) -> str:
    """Text's non-blank lines joined by " | ", its end kept when it is too long."""
    joined = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    if len(joined) > MAX_MESSAGE:
        joined = "... " + joined[-MAX_MESSAGE:]
    return joined
