"""How long the function's image takes to run once, against the same image doing nothing.

    python benchmarks/container_start.py [--image IMAGE] [--runs N]

Two commands, alternated N times (after one unmeasured run of each, so that both find the
image's files in the page cache), medians compared:

- the function: `podman run --rm -i IMAGE` with one SimpleMLService on stdin
  (tests/cases/tensorflow-s3/input.yaml), as `kpt fn eval --image` and kustomize run it;
- the floor: `podman run --rm --entrypoint /opt/krmfn/bin/python IMAGE -c pass`, the same
  container start with the image's own interpreter doing nothing;
- for reference, not held to a target: the floor with `-i` and the same stdin, which shows
  what podman's attaching of stdin costs by itself (part of what the function pays).

Both run with `--network none`, as kpt and kustomize run functions. The target is a ratio
function / floor of at most 1.3: what krmfn adds to a container start is its imports and its
work on one object. The image's size (podman image inspect's Size, uncompressed) is reported
beside it (target: at most 100 MB). Build the image first with scripts/build-image (its
default tag, localhost/krmfn:dev, is the default here).

`measure_container_start()` gives a `ContainerStart`; `measure(image, runs)` gives the same
figures as a plain mapping, for benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IMAGE = "localhost/krmfn:dev"
DEFAULT_INPUT = ROOT / "tests" / "cases" / "tensorflow-s3" / "input.yaml"
INTERPRETER = "/opt/krmfn/bin/python"
RATIO_TARGET = 1.3
SIZE_TARGET = 100 * 1000 * 1000  # bytes
RUN_OPTIONS = ("--rm", "--network", "none")


@dataclass(frozen=True)
class ContainerStart:
    """The figures of one measurement. Times are medians of wall seconds, sizes bytes."""

    image: str
    runs: int  # measured runs of each command
    function_seconds: float  # `podman run --rm -i IMAGE` < one SimpleMLService
    floor_seconds: float  # `podman run --rm --entrypoint INTERPRETER IMAGE -c pass`
    image_bytes: int  # podman image inspect's Size (uncompressed)
    # The fastest run of each: less sensitive than the medians to other load on the machine.
    function_best_seconds: float
    floor_best_seconds: float
    # The floor run with `-i` and the function's stdin (None when not measured).
    floor_stdin_seconds: float | None = None
    ratio_target: float = RATIO_TARGET
    size_target: int = SIZE_TARGET

    @property
    def ratio(self) -> float:
        """function_seconds / floor_seconds."""
        return self.function_seconds / self.floor_seconds

    @property
    def best_ratio(self) -> float:
        """function_best_seconds / floor_best_seconds (reported, not held to the target)."""
        return self.function_best_seconds / self.floor_best_seconds

    @property
    def ratio_ok(self) -> bool:
        """Whether the ratio is within its target."""
        return self.ratio <= self.ratio_target

    @property
    def size_ok(self) -> bool:
        """Whether the image's size is within its target."""
        return self.image_bytes <= self.size_target

    def as_dict(self) -> dict[str, str | int | float | bool]:
        """Every figure, the derived ones included, as plain values (e.g. for JSON)."""
        return {**asdict(self), "ratio": round(self.ratio, 3),
                "best_ratio": round(self.best_ratio, 3), "ratio_ok": self.ratio_ok,
                "size_ok": self.size_ok}

    def lines(self) -> list[str]:
        """The figures as report lines, PASS or MISS against each target."""
        return [
            f"{'PASS' if self.ratio_ok else 'MISS'}  container start: krmfn on one "
            f"SimpleMLService {self.function_seconds * 1000:.0f} ms, the image's python -c "
            f"pass {self.floor_seconds * 1000:.0f} ms (medians of {self.runs}), ratio "
            f"{self.ratio:.2f} (target <= {self.ratio_target}); fastest runs "
            f"{self.function_best_seconds * 1000:.0f} ms and "
            f"{self.floor_best_seconds * 1000:.0f} ms, ratio {self.best_ratio:.2f}",
            *([] if self.floor_stdin_seconds is None else [
                f"      for reference: the image's python -c pass with -i and the same stdin "
                f"{self.floor_stdin_seconds * 1000:.0f} ms (podman attaching stdin)"]),
            f"{'PASS' if self.size_ok else 'MISS'}  image size: {self.image_bytes / 1e6:.1f} MB "
            f"(target <= {self.size_target / 1e6:.0f} MB)",
        ]


def podman_env() -> dict[str, str]:
    """The environment for podman: the project's containers.conf unless one is chosen."""
    conf = os.environ.get("CONTAINERS_CONF") or str(ROOT / "containers" / "containers.conf")
    return {**os.environ, "CONTAINERS_CONF": conf}


def image_size(image: str, podman: str = "podman") -> int:
    """The image's uncompressed size in bytes, as podman image inspect gives it."""
    done = subprocess.run([podman, "image", "inspect", "--format", "{{.Size}}", image],
                          capture_output=True, text=True, env=podman_env(), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"no image {image} (build it with scripts/build-image): "
                           f"{done.stderr.strip()}")
    return int(done.stdout)


def _timed(command: list[str], stdin: bytes) -> float:
    """Wall seconds of one run of `command`, which must succeed."""
    start = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, env=podman_env(),
                          timeout=300, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-500:]}")
    return wall


def measure_container_start(image: str = DEFAULT_IMAGE, runs: int = 10,
                            source: Path = DEFAULT_INPUT, podman: str = "podman",
                            interpreter: str = INTERPRETER, *,
                            stdin_floor: bool = True) -> ContainerStart:
    """Alternate the function and the floor (and, with `stdin_floor`, the floor with -i)
    `runs` times each on `image`; give the medians, the fastest runs and the image's size.
    Raises RuntimeError when the image is missing or a run fails."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    size = image_size(image, podman)
    stdin = source.read_bytes()
    function = [podman, "run", *RUN_OPTIONS, "-i", image]
    floor = [podman, "run", *RUN_OPTIONS, "--entrypoint", interpreter, image, "-c", "pass"]
    floor_stdin = [podman, "run", *RUN_OPTIONS, "-i", "--entrypoint", interpreter, image, "-c",
                   "import sys; sys.stdin.buffer.read()"]
    _timed(function, stdin)
    _timed(floor, b"")
    function_times: list[float] = []
    floor_times: list[float] = []
    stdin_times: list[float] = []
    for _ in range(runs):
        function_times.append(_timed(function, stdin))
        floor_times.append(_timed(floor, b""))
        if stdin_floor:
            stdin_times.append(_timed(floor_stdin, stdin))
    return ContainerStart(image=image, runs=runs,
                          function_seconds=statistics.median(function_times),
                          floor_seconds=statistics.median(floor_times), image_bytes=size,
                          function_best_seconds=min(function_times),
                          floor_best_seconds=min(floor_times),
                          floor_stdin_seconds=statistics.median(stdin_times) if stdin_times
                          else None)


def measure(image: str, runs: int) -> dict[str, str | int | float | bool]:
    """`measure_container_start(image, runs)` as a plain mapping (see ContainerStart.as_dict)."""
    return measure_container_start(image, runs).as_dict()


def main(argv: list[str] | None = None) -> int:
    """Measure and print; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description="Time podman run of the function's image against its python -c pass.")
    parser.add_argument("--image", default=DEFAULT_IMAGE,
                        help=f"the image to measure (default {DEFAULT_IMAGE})")
    parser.add_argument("--runs", type=int, default=10,
                        help="measured runs of each command (default 10)")
    args = parser.parse_args(argv)
    try:
        figures = measure_container_start(args.image, args.runs)
    except RuntimeError as err:
        print(f"container_start: {err}", file=sys.stderr)
        return 1
    print("\n".join(figures.lines()))
    return 0 if figures.ratio_ok and figures.size_ok else 1


if __name__ == "__main__":
    sys.exit(main())
