"""Running one command as a child: its wall time, its peak memory, what it wrote.

The child is started by a small launcher (benchmarks/launcher.py, which says why): the wall
time runs from before the launcher spawns the command until ``os.wait4`` reaps it; the peak
memory is the command's maximum resident set as the kernel counts it (``ru_maxrss``). Standard
output goes to a file, so that its size can be read and, when wanted, its text compared.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
# -P: the krmfn run is the one on PYTHONPATH, never a krmfn/ in the current directory.
KRMFN = (sys.executable, "-P", "-m", "krmfn")
BASELINE = (sys.executable, str(BENCHMARKS / "baseline.py"), "roundtrip")
FLOOR = (sys.executable, str(BENCHMARKS / "baseline.py"), "scan")
PYTHON_PASS = (sys.executable, "-c", "pass")
LAUNCHER = BENCHMARKS / "launcher.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # freeze() points it at a copy


def freeze(scratch: Path) -> str:
    """Copy krmfn/ into `scratch` and run that copy from now on; describe the version.

    A run of the benchmark takes minutes; edits to the working tree meanwhile must not
    change the code measured halfway through.
    """
    target = scratch / "krmfn-src"
    shutil.copytree(ROOT / "krmfn", target / "krmfn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # Compiled once, as an installed package is: no run pays for compiling krmfn's modules.
    compileall.compile_dir(target / "krmfn", quiet=1)
    ENV["PYTHONPATH"] = str(target)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "krmfn"],
                             capture_output=True, text=True, check=False).stdout.splitlines()
    version = head or "(not a git checkout)"
    return f"{version} with {len(changed)} changed files in krmfn/" if changed else version


@dataclass(frozen=True)
class Run:
    """One run of a command."""

    wall: float  # seconds
    peak_rss: int  # bytes
    output_bytes: int
    code: int
    error: str  # the end of its stderr when it failed


def reference(scratch: Path, revision: str) -> dict[str, str] | None:
    """The environment that runs krmfn as it was at `revision` (compiled), or None when the
    checkout cannot give it (no git history, an unknown revision)."""
    target = scratch / f"krmfn-{revision}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "krmfn"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        return None
    unpacked = subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout,
                              capture_output=True, check=False)
    if unpacked.returncode != 0:
        return None
    compileall.compile_dir(target / "krmfn", quiet=1)
    return {**ENV, "PYTHONPATH": str(target)}


def run_once(command: tuple[str, ...], stdin: Path | None, stdout: Path,
             env: dict[str, str] | None = None) -> Run:
    """Run `command` once through the launcher, stdin from `stdin` (or nothing), stdout into
    `stdout`; `env` instead of the measured checkout's environment."""
    errors = stdout.with_name(stdout.name + ".stderr")
    done = subprocess.run(
        [sys.executable, "-S", "-I", str(LAUNCHER), str(stdin or os.devnull), str(stdout),
         str(errors), *command], capture_output=True, text=True, env=env or ENV, check=False)
    try:
        wall, peak_kib, code = done.stdout.split()
    except ValueError:
        raise RuntimeError(f"the launcher failed: {done.stderr.strip()}") from None
    error = ""
    if int(code) != 0:
        text = errors.read_text(errors="replace").strip().splitlines()
        error = text[-1] if text else f"exit code {code}"
    return Run(float(wall), int(peak_kib) * 1024, stdout.stat().st_size, int(code), error)


@dataclass
class Series:
    """The runs of one command on one input."""

    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every run succeeded (and there was one)."""
        return bool(self.runs) and all(r.code == 0 for r in self.runs)

    @property
    def error(self) -> str:
        """Why a run failed, if one did."""
        return next((r.error for r in self.runs if r.code != 0), "")

    @property
    def median(self) -> float:
        """Median wall seconds."""
        return statistics.median(r.wall for r in self.runs)

    @property
    def fastest(self) -> float:
        """The shortest wall time: less sensitive than the median to a busy machine."""
        return min(r.wall for r in self.runs)

    @property
    def peak_rss(self) -> int:
        """The largest peak resident set of any run, in bytes."""
        return max(r.peak_rss for r in self.runs)

    @property
    def output_bytes(self) -> int:
        """Bytes written to stdout (the last run's)."""
        return self.runs[-1].output_bytes

    def as_json(self) -> dict[str, object]:
        """The figures, for --json."""
        if not self.runs:
            return {"ok": False, "error": "not run"}
        if not self.ok:
            return {"ok": False, "error": self.error}
        return {"ok": True, "median_s": self.median, "times_s": [r.wall for r in self.runs],
                "peak_rss_bytes": self.peak_rss, "output_bytes": self.output_bytes}
