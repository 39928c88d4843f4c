"""Assemble the image's runtime in a staging root, which a `FROM scratch` stage copies whole.

    python3 containers/assemble_runtime.py STAGE VENV

Run by the base image's own interpreter in the build stage, after the virtual environment
VENV is installed. Nothing is assumed about the architecture or the base: every path is
found from the running interpreter. STAGE receives, each at its own path:

- the interpreter (its real path, and the links that lead to it from VENV/bin/python);
- its standard library (sysconfig's stdlib and platstdlib) without what krmfn and s3cmd never
  import: tests, IDLE, tkinter, ensurepip, lib2to3, pydoc's topics, distutils, venv, sqlite3,
  curses, dbm, the interactive readline, the test extension modules, and so on;
- VENV, without pip, the activation scripts and the installed documentation;
- bytecode for all of it (the root file system is read-only at run time, so nothing could be
  cached later), compiled for the paths the files keep;
- the shared libraries that `ldd` lists for the interpreter and for every extension module
  kept (lib-dynload, pydantic_core, PyYAML's _yaml, ...), and a loader cache naming them;
- the CA bundle where OpenSSL looks by default (s3cmd over https);
- a minimal /etc/passwd, /etc/group and /etc/nsswitch.conf naming root, nobody (kpt and
  kustomize run functions as `--user nobody`) and nonroot (uid and gid 65532, the image's
  user), and an empty /tmp.

Symlinks on the way to a file (/lib -> usr/lib, python3 -> python3.11) are copied as symlinks,
so that every path the programs use resolves in the staged root as it did in the build stage.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

# Top-level names in the standard library that neither krmfn nor s3cmd imports.
STDLIB_UNUSED = {
    "__hello__.py", "__phello__", "_pydecimal.py", "antigravity.py", "crypt.py", "curses",
    "dbm", "distutils", "doctest.py", "ensurepip", "idlelib", "lib2to3", "pydoc_data",
    "sitecustomize.py", "site-packages", "dist-packages", "sqlite3", "test", "this.py",
    "tkinter", "turtle.py", "turtledemo", "unittest", "venv", "EXTERNALLY-MANAGED",
}
# Directories of build configuration (config-3.11-x86_64-linux-gnu: Makefile, static library).
STDLIB_UNUSED_PATTERN = re.compile(r"config-\d+\.\d+.*")
# Extension modules (by name before the first dot) that nothing imports, or only the
# interactive interpreter or the removed packages do.
DYNLOAD_UNUSED = {
    "_crypt", "_ctypes_test", "_curses", "_curses_panel", "_dbm", "_gdbm", "_sqlite3",
    "_testbuffer", "_testcapi", "_testclinic", "_testimportmultiple", "_testinternalcapi",
    "_testmultiphase", "_testsinglephase", "_tkinter", "_xxsubinterpreters", "_xxtestfuzz",
    "audioop", "nis", "ossaudiodev", "readline", "spwd", "xxlimited", "xxlimited_35",
}
# The virtual environment keeps lib/, pyvenv.cfg and in bin/ the interpreter's links and
# the commands; not the activation scripts, nor s3cmd's manual and documents (share/).
VENV_UNUSED = {"include", "share"}
VENV_BIN_UNUSED = re.compile(r"(activate.*|Activate\.ps1|pip[0-9.]*)")
# The image runs as nonroot; kpt and kustomize run functions with `--user nobody`.
UID = GID = 65532
ETC = {
    "passwd": f"root:x:0:0:root:/root:/sbin/nologin\n"
              f"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
              f"nonroot:x:{UID}:{GID}:nonroot:/tmp:/sbin/nologin\n",
    "group": f"root:x:0:\nnogroup:x:65534:\nnonroot:x:{GID}:\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
}
ELF_MAGIC = b"\x7fELF"


class Stager:
    """Copies paths of this root into the staging root, at the same place."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage

    def at(self, path: str | Path) -> Path:
        """Where the absolute `path` lands in the staging root."""
        return self.stage / Path(path).relative_to("/")

    def install(self, path: str | Path) -> Path:
        """Copy the file `path` (absolute) and every symlink met on the way to it; give the
        real path of the file."""
        parts = Path(os.path.normpath(path)).parts
        current = Path("/")
        for index, part in enumerate(parts[1:], start=1):
            current = current / part
            if current.is_symlink():
                target = self.at(current)
                if not target.is_symlink():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(os.readlink(current))
                rest = Path(*parts[index + 1:]) if index + 1 < len(parts) else Path()
                return self.install(current.parent / os.readlink(current) / rest)
        target = self.at(current)
        if current.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(current, target)
        return current

    def tree(self, source: Path, skip: set[str] | None = None) -> list[Path]:
        """Copy the directory `source` (its links as links), leaving out top-level names in
        `skip`; give the regular files copied."""
        copied: list[Path] = []
        self.install(source)
        for entry in sorted(source.iterdir()):
            if entry.name == "__pycache__" or (skip and entry.name in skip):
                continue
            copied += self._copy(entry)
        return copied

    def _copy(self, entry: Path) -> list[Path]:
        target = self.at(entry)
        if entry.is_symlink():
            if not target.is_symlink():
                target.symlink_to(os.readlink(entry))
            return []
        if entry.is_dir():
            target.mkdir(exist_ok=True)
            shutil.copystat(entry, target)
            return [f for child in sorted(entry.iterdir()) if child.name != "__pycache__"
                    for f in self._copy(child)]
        shutil.copy2(entry, target)
        return [entry]


def stdlib_dirs() -> list[Path]:
    """The interpreter's standard library directories (one on most builds)."""
    paths = sysconfig.get_paths()
    return sorted({Path(paths["stdlib"]), Path(paths["platstdlib"])})


def copy_stdlib(stager: Stager, directory: Path) -> list[Path]:
    """Copy one standard library directory without what is never imported."""
    skip = {e.name for e in directory.iterdir()
            if e.name in STDLIB_UNUSED or STDLIB_UNUSED_PATTERN.fullmatch(e.name)}
    copied = stager.tree(directory, skip=skip)
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or directory / "lib-dynload")
    for path in list(copied):
        if path.parent == dynload and path.name.split(".")[0] in DYNLOAD_UNUSED:
            stager.at(path).unlink()
            copied.remove(path)
    return copied


def copy_venv(stager: Stager, venv: Path) -> list[Path]:
    """Copy the virtual environment; install the targets of its links that leave it."""
    copied = stager.tree(venv, skip=VENV_UNUSED)
    for link in venv.rglob("*"):
        if link.is_symlink() and not link.resolve().is_relative_to(venv):
            stager.install(link.parent / os.readlink(link))
    for entry in (venv / "bin").iterdir():
        if VENV_BIN_UNUSED.fullmatch(entry.name):
            stager.at(entry).unlink()
            if entry in copied:
                copied.remove(entry)
    return copied


def is_elf(path: Path) -> bool:
    """Whether `path` is an ELF file (an executable or a shared library)."""
    with path.open("rb") as handle:
        return handle.read(4) == ELF_MAGIC


def needed_libraries(binary: Path) -> set[str]:
    """The shared libraries the loader would map for `binary`, as `ldd` lists them."""
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if "not a dynamic executable" in done.stdout + done.stderr:
            return set()
        raise SystemExit(f"ldd {binary} failed: {done.stderr.strip()}")
    found: set[str] = set()
    for line in done.stdout.splitlines():
        if "not found" in line:
            raise SystemExit(f"{binary} needs a library that is not installed: {line.strip()}")
        match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if match:
            found.add(match.group(1))
    return found


def copy_libraries(stager: Stager, binaries: list[Path]) -> set[str]:
    """Copy the ldd closure of `binaries`; give the libraries' paths."""
    libraries: set[str] = set()
    for binary in binaries:
        if binary.is_file() and not binary.is_symlink() and is_elf(binary):
            libraries |= needed_libraries(binary)
    for library in sorted(libraries):
        stager.install(library)
    return libraries


def loader_cache(stager: Stager) -> None:
    """Write a loader cache that names only the staged libraries (for libraries outside the
    loader's default directories, e.g. /usr/local/lib)."""
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    if not ldconfig:
        return
    for conf in [Path("/etc/ld.so.conf"), *sorted(Path("/etc/ld.so.conf.d").glob("*.conf"))]:
        if conf.is_file():
            stager.install(conf)
    subprocess.run([ldconfig, "-X", "-r", str(stager.stage)], check=True)


def ca_bundle(stager: Stager) -> None:
    """Copy the CA bundle that OpenSSL (so ssl.create_default_context) loads by default."""
    cafile = ssl.get_default_verify_paths().openssl_cafile
    if not Path(cafile).is_file():
        raise SystemExit(f"no CA bundle at {cafile}: install ca-certificates in the build stage")
    stager.install(cafile)


def compile_bytecode(stager: Stager, directory: Path) -> None:
    """Compile the staged copy of `directory`, naming the files by their real paths."""
    if not compileall.compile_dir(stager.at(directory), ddir=directory, quiet=1,
                                  workers=0):
        raise SystemExit(f"could not compile {directory}")


def copy_bytecode(stager: Stager, sources: list[Path]) -> None:
    """Copy the base's own bytecode for the sources kept (compileall fills any gap)."""
    for source in sources:
        if source.suffix == ".py":
            cached = Path(importlib.util.cache_from_source(str(source)))
            if cached.is_file():
                stager.at(cached).parent.mkdir(exist_ok=True)
                shutil.copy2(cached, stager.at(cached))


def check_links(stage: Path) -> None:
    """Fail if a staged symlink points at nothing in the staged root."""
    broken = []
    for link in stage.rglob("*"):
        if link.is_symlink():
            target = Path(os.readlink(link))
            inside = (stage / target.relative_to("/") if target.is_absolute()
                      else link.parent / target)
            if not os.path.lexists(inside):
                broken.append(f"/{link.relative_to(stage)} -> {target}")
    if broken:
        raise SystemExit("links to nothing in the image:\n" + "\n".join(broken))


def etc_and_tmp(stager: Stager) -> None:
    """The accounts of uid and gid 65532, the name service order, and an empty /tmp."""
    etc = stager.at("/etc")
    etc.mkdir(parents=True, exist_ok=True)
    for name, text in ETC.items():
        (etc / name).write_text(text)
        (etc / name).chmod(0o644)
    tmp = stager.at("/tmp")
    tmp.mkdir(exist_ok=True)
    tmp.chmod(stat.S_ISVTX | 0o777)


def main(argv: list[str]) -> None:
    """Assemble the runtime of `argv[2]` (a virtual environment) in `argv[1]`."""
    if len(argv) != 3:
        raise SystemExit(__doc__)
    stage, venv = Path(argv[1]), Path(argv[2])
    stager = Stager(stage)
    interpreter = stager.install(os.path.realpath(sys.executable))
    stager.install(sys.executable)
    sources: list[Path] = []
    for directory in stdlib_dirs():
        sources += copy_stdlib(stager, directory)
    venv_files = copy_venv(stager, venv)
    copy_bytecode(stager, sources + venv_files)
    for directory in [*stdlib_dirs(), venv]:
        compile_bytecode(stager, directory)
    copy_libraries(stager, [interpreter, *sources, *venv_files])
    loader_cache(stager)
    ca_bundle(stager)
    etc_and_tmp(stager)
    check_links(stage)


if __name__ == "__main__":
    main(sys.argv)
