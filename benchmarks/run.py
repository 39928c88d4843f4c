"""Measure krmfn against a naive KRM function in the same run, and check the targets.

    python benchmarks/run.py [--runs N] [--sizes 1000,5000,20000]
                             [--workloads mixed,services,rerun] [--skip-kpt]
                             [--kpt-items N] [--quick] [--json FILE] [--container IMAGE]

Workloads (benchmarks/generate.py): ``mixed`` (a tenth SimpleMLServices, the rest commented
ConfigMaps), ``services`` (every item a SimpleMLService: TensorFlow+S3, PyTorch+PVC, custom,
40/40/20) and ``rerun`` (the output of ``services`` fed back: the steady state under kpt).

Every input is run by krmfn, by the baseline and by the floor (benchmarks/baseline.py):

- baseline: the fastest naive Python KRM function: the whole list loaded with PyYAML's
  CSafeLoader and dumped with CSafeDumper, with the cyclic GC off, as krmfn runs;
- floor: a Python loop pulling every libyaml event of the input, the least any reader that
  looks at every event does; shown with its own ratio to the baseline.

The N rounds alternate the three commands on every input (the order flips each round), so
that a busy machine slows all of them alike; a figure is the median of its N wall times, and
peak memory the largest resident set of the command (os.wait4 in a small launcher, which
keeps the benchmark's own memory out of it: see benchmarks/launcher.py). Growth compares the two
largest sizes (20k and 5k by default). Then: start-up (a one-item list), `kpt fn eval --exec
krmfn` against `--exec cat` on a package (krmfn's outputs already in it), and, with
--container IMAGE, the container start of the image (benchmarks/container_start.py).

Targets, one PASS or FAIL line each; the exit code is 1 when one fails:
- krmfn / baseline at every size: mixed <= 0.50x, services <= 0.80x, rerun <= 0.30x;
- services, 5,000 items: krmfn peak memory <= 90 MB;
- growth from the second largest size to the largest, time and memory, each workload:
  <= 1.05x the ratio of the sizes (4.2x from 5k to 20k);
- start-up, a one-item list: <= 0.09 s and <= 19 MB;
- kpt fn eval --exec krmfn / --exec cat <= 1.2x;
- with --container: the targets of benchmarks/container_start.py (the container start
  against the image's `python -c pass`, and the image's size).
MB are 10^6 bytes. Where krmfn's time goes: benchmarks/profiling.py.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate
from benchmarks.container_start import (
    RATIO_TARGET,
    SIZE_TARGET,
    ContainerStart,
    measure_container_start,
)
from benchmarks.measure import (
    BASELINE,
    ENV,
    FLOOR,
    KRMFN,
    PYTHON_PASS,
    Series,
    freeze,
    reference,
    run_once,
)

DEFAULT_SIZES = (1_000, 5_000, 20_000)
QUICK_SIZES = (50, 200)
RATIO_TARGETS = {"mixed": 0.50, "services": 0.80, "rerun": 0.30}
MEMORY_TARGET = ("services", 5_000, 90e6)  # workload, items, bytes
GROWTH_SLACK = 1.05  # growth may exceed the ratio of the sizes by this factor
STARTUP_TARGET = (0.09, 19e6)  # seconds, bytes: the figures, when no reference runs
# Start-up must be unchanged or better than krmfn before the serving and GitOps work
# (measured in the same run); the slack is the noise of these machines.
STARTUP_REFERENCE = "d0ecbf8"
STARTUP_SLACK = (1.05, 1.02)  # time, memory
KPT_TARGET = 1.2
CONTAINER_RATIO_TARGET, CONTAINER_SIZE_TARGET = RATIO_TARGET, SIZE_TARGET  # container_start.py
KPT_ITEMS, QUICK_KPT_ITEMS = 10_000, 100
TOOLS = ("krmfn", "baseline", "floor")
COMMANDS = {"krmfn": KRMFN, "baseline": BASELINE, "floor": FLOOR}


def mb(value: float) -> str:
    """Bytes as MB (10^6)."""
    return f"{value / 1e6:.0f} MB" if value >= 10e6 else f"{value / 1e6:.1f} MB"


def seconds(value: float) -> str:
    """Seconds, to a useful precision."""
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


@dataclass
class Case:
    """One workload at one size: its input and the runs of each command on it."""

    workload: str
    size: int
    input: Path
    series: dict[str, Series] = field(default_factory=lambda: {t: Series() for t in TOOLS})
    missing: str = ""  # why there is no input (the rerun needs krmfn's output)
    unchanged: bool | None = None  # rerun: krmfn's output is its input, byte for byte

    @property
    def name(self) -> str:
        """`workload, N items`."""
        return f"{self.workload}, {self.size:,} items"

    def ratio(self, tool: str = "krmfn") -> float | None:
        """Median of `tool` over the baseline's, when both ran."""
        mine, base = self.series[tool], self.series["baseline"]
        return mine.median / base.median if mine.ok and base.ok else None

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"workload": self.workload, "items": self.size,
                "input_bytes": self.input.stat().st_size if self.input.exists() else None,
                "missing": self.missing or None, "ratio": self.ratio(),
                "floor_ratio": self.ratio("floor"), "rerun_unchanged": self.unchanged,
                **{tool: s.as_json() for tool, s in self.series.items()}}


@dataclass
class Target:
    """One target: what was measured against its limit."""

    name: str
    value: float | None  # None: could not be measured
    limit: float
    show: Callable[[float], str]
    why: str = ""  # when value is None: what failed
    skip: str = ""  # why it was not asked for (a subset of the workloads or sizes)

    @property
    def status(self) -> str:
        """PASS, FAIL (also when it could not be measured) or SKIP."""
        if self.skip:
            return "SKIP"
        return "PASS" if self.value is not None and self.value <= self.limit else "FAIL"

    @property
    def failed(self) -> bool:
        """Whether it makes the exit code 1."""
        return self.status == "FAIL"

    def line(self) -> str:
        """`PASS|FAIL|SKIP  name  value (target <= limit)`."""
        figure = (self.show(self.value) if self.value is not None else
                  f"not run: {self.skip}" if self.skip else f"not measured: {self.why}")
        return (f"{self.status}  {self.name:<44} {figure:<14} "
                f"(target <= {self.show(self.limit)})")

    def as_json(self) -> dict[str, Any]:
        """The target, for --json."""
        return {"name": self.name, "value": self.value, "limit": self.limit,
                "status": self.status, "why": self.why or self.skip or None}


def ratio_text(value: float) -> str:
    """A ratio as `0.45x`."""
    return f"{value:.2f}x"


def progress(text: str) -> None:
    """A progress note on stderr, so that stdout holds the report only."""
    print(text, file=sys.stderr, flush=True)


def _krmfn_output(source: Path, target: Path) -> str:
    """Run krmfn on `source` into `target`; give the error, or "" when it succeeded."""
    done = run_once(KRMFN, source, target)
    return f"krmfn failed on the services list: {done.error}" if done.code else ""


def make_cases(workloads: list[str], sizes: list[int], scratch: Path) -> list[Case]:
    """Write every input (the rerun's by running krmfn on the services list)."""
    warm_up = scratch / "warm-up.yaml"
    warm_up.write_text(generate.mixed(11))
    for command in COMMANDS.values():  # krmfn's copy compiles its bytecode here
        run_once(command, warm_up, scratch / "out-warm-up.yaml")
    cases = []
    for workload in workloads:
        for size in sizes:
            path = scratch / f"{workload}-{size}.yaml"
            case = Case(workload, size, path)
            if workload == "rerun":
                source = scratch / f"services-{size}.yaml"
                if not source.exists():
                    source.write_text(generate.services(size))
                progress(f"writing the rerun input: krmfn on {size:,} SimpleMLServices")
                case.missing = _krmfn_output(source, path)
            else:
                path.write_text(getattr(generate, workload)(size))
            cases.append(case)
    return cases


def run_rounds(cases: list[Case], runs: int, scratch: Path) -> None:
    """`runs` rounds; each runs every command on every input, the order flipping each round."""
    for round_ in range(runs):
        order = TOOLS if round_ % 2 == 0 else TOOLS[::-1]
        for case in cases:
            if case.missing:
                continue
            progress(f"round {round_ + 1}/{runs}: {case.name}")
            for tool in order:
                series = case.series[tool]
                if series.runs and not series.ok:
                    continue  # it failed once: its figures are void
                out = scratch / f"out-{case.workload}-{case.size}-{tool}.yaml"
                series.runs.append(run_once(COMMANDS[tool], case.input, out))
    for case in cases:
        out = scratch / f"out-{case.workload}-{case.size}-krmfn.yaml"
        if case.workload == "rerun" and case.series["krmfn"].ok:
            case.unchanged = filecmp.cmp(case.input, out, shallow=False)


def cases_table(cases: list[Case]) -> list[str]:
    """The figures of every case, as a Markdown table."""
    lines = ["| workload | items | input | krmfn | baseline | ratio | floor (ratio) "
             "| krmfn peak RSS | baseline peak RSS | output |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for case in cases:
        size = mb(case.input.stat().st_size) if case.input.exists() else "-"
        if case.missing:
            lines.append(f"| {case.workload} | {case.size:,} | {size} | {case.missing} "
                         "| | | | | | |")
            continue
        cells = []
        for tool in TOOLS:
            series = case.series[tool]
            cells.append(seconds(series.median) if series.ok else f"failed: {series.error}")
        ours, base = case.series["krmfn"], case.series["baseline"]
        ratio, floor_ratio = case.ratio(), case.ratio("floor")
        floor = cells[2] + (f" ({floor_ratio:.2f}x)" if floor_ratio is not None else "")
        lines.append(
            f"| {case.workload} | {case.size:,} | {size} | {cells[0]} | {cells[1]} "
            f"| {ratio_text(ratio) if ratio is not None else '-'} | {floor} "
            f"| {mb(ours.peak_rss) if ours.ok else '-'} "
            f"| {mb(base.peak_rss) if base.ok else '-'} "
            f"| {mb(ours.output_bytes) if ours.ok else '-'} |")
    return lines


@dataclass
class Growth:
    """krmfn from one size of a workload to a larger one."""

    workload: str
    small: int
    large: int
    time: float | None
    memory: float | None
    why: str

    @property
    def limit(self) -> float:
        """The target: the ratio of the sizes, with a little slack."""
        return GROWTH_SLACK * self.large / self.small

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"workload": self.workload, "from_items": self.small, "to_items": self.large,
                "time": self.time, "memory": self.memory, "limit": self.limit,
                "why": self.why or None}


def growths(cases: list[Case]) -> list[Growth]:
    """Growth of each workload from its second largest size to its largest."""
    found = []
    for workload in dict.fromkeys(c.workload for c in cases):
        mine = sorted((c for c in cases if c.workload == workload), key=lambda c: c.size)
        if len(mine) < 2:
            continue
        small, large = mine[-2], mine[-1]
        a, b = small.series["krmfn"], large.series["krmfn"]
        if a.ok and b.ok:
            found.append(Growth(workload, small.size, large.size, b.median / a.median,
                                b.peak_rss / a.peak_rss, ""))
        else:
            bad = large if not b.ok else small
            why = bad.missing or f"krmfn failed at {bad.size:,}: {bad.series['krmfn'].error}"
            found.append(Growth(workload, small.size, large.size, None, None, why))
    return found


@dataclass
class Startup:
    """A one-item list: krmfn, krmfn as it was (the reference), the baseline and a bare
    interpreter."""

    krmfn: Series
    baseline: Series
    python: Series
    reference: Series
    revision: str
    missing: str = ""  # why the reference could not run

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"krmfn": self.krmfn.as_json(), "baseline": self.baseline.as_json(),
                "python_c_pass": self.python.as_json(),
                "reference": self.reference.as_json() if not self.missing else None,
                "reference_revision": self.revision}


def startup(runs: int, scratch: Path, revision: str) -> Startup:
    """Alternate krmfn, krmfn at `revision`, the baseline and `python -c pass` on a
    one-SimpleMLService list."""
    one = scratch / "one.yaml"
    one.write_text(generate.services(1))
    figures = Startup(Series(), Series(), Series(), Series(), revision)
    then = reference(scratch, revision)
    if then is None:
        figures.missing = f"krmfn at {revision} is not in this checkout's history"
    progress(f"start-up: {runs} runs")
    for _ in range(runs):
        for name, command, stdin in (("krmfn", KRMFN, one), ("baseline", BASELINE, one),
                                     ("python", PYTHON_PASS, None)):
            getattr(figures, name).runs.append(
                run_once(command, stdin, scratch / f"out-one-{name}.yaml"))
        if then is not None:
            figures.reference.runs.append(
                run_once(KRMFN, one, scratch / "out-one-reference.yaml", then))
    return figures


@dataclass
class Kpt:
    """`kpt fn eval --exec krmfn` against `--exec cat`."""

    items: int
    krmfn: list[float] = field(default_factory=list)
    cat: list[float] = field(default_factory=list)
    skipped: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        """Median with krmfn over median with cat."""
        if self.error or self.skipped or not self.krmfn:
            return None
        return statistics.median(self.krmfn) / statistics.median(self.cat)

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"items": self.items, "skipped": self.skipped or None,
                "error": self.error or None, "krmfn_s": self.krmfn, "cat_s": self.cat,
                "ratio": self.ratio}


def _kpt_eval(fn: str, pkg: Path) -> tuple[float, str]:
    """Wall seconds of one `kpt fn eval PKG --exec FN`, and its error if it failed."""
    start = time.perf_counter()
    done = subprocess.run(["kpt", "fn", "eval", str(pkg), "--exec", fn],
                          capture_output=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode == 0:
        return wall, ""
    said = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
    return wall, said[-1].strip() if said else f"exit code {done.returncode}"


def kpt(items: int, runs: int, scratch: Path, skip: bool) -> Kpt:
    """The kpt figure, on a package of `items` mixed objects holding krmfn's outputs."""
    figures = Kpt(items)
    if skip:
        figures.skipped = "--skip-kpt"
        return figures
    if not shutil.which("kpt"):
        figures.skipped = "kpt is not installed"
        return figures
    wrapper = scratch / "krmfn-exec"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(ENV['PYTHONPATH'])} exec "
                       f"{shlex.join(KRMFN)}\n")
    wrapper.chmod(0o755)
    pkg = generate.package(items, scratch / "pkg")
    cat = shutil.which("cat") or "/bin/cat"
    progress(f"kpt: a package of {items:,} objects, first run (writes krmfn's outputs)")
    _, figures.error = _kpt_eval(str(wrapper), pkg)
    for round_ in range(runs):
        if figures.error:
            break
        progress(f"kpt: round {round_ + 1}/{runs}")
        wall, figures.error = _kpt_eval(str(wrapper), pkg)
        figures.krmfn.append(wall)
        wall, error = _kpt_eval(cat, pkg)
        figures.error = figures.error or error
        figures.cat.append(wall)
    return figures


@dataclass
class Container:
    """The container start of an image (benchmarks/container_start.py), or why it is not."""

    image: str
    figures: ContainerStart | None = None
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"image": self.image, "error": self.error or None,
                **(self.figures.as_dict() if self.figures else {})}


def container_start(image: str, runs: int) -> Container:
    """`podman run` of the image against the same image running `python3 -c pass`."""
    progress(f"container start: {image}, {runs} runs")
    try:
        return Container(image, measure_container_start(image, runs))
    except RuntimeError as err:
        return Container(image, error=str(err))


@dataclass
class Figures:
    """Everything measured in one run of the benchmark."""

    cases: list[Case]
    growth: list[Growth]
    startup: Startup
    kpt: Kpt
    container: Container | None

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {"cases": [c.as_json() for c in self.cases],
                "growth": [g.as_json() for g in self.growth],
                "startup": self.startup.as_json(), "kpt": self.kpt.as_json(),
                "container_start": self.container.as_json() if self.container else None}


def targets(figures: Figures, sizes: list[int]) -> list[Target]:
    """Every target, with what was measured."""
    cases, found, start, kpt_figures = (figures.cases, figures.growth, figures.startup,
                                        figures.kpt)
    checks = []
    for case in cases:
        why = case.missing or case.series["krmfn"].error or case.series["baseline"].error
        checks.append(Target(f"{case.name}: krmfn / baseline", case.ratio(),
                             RATIO_TARGETS[case.workload], ratio_text, why))
    workload, items, limit = MEMORY_TARGET
    memory_case = next((c for c in cases if c.workload == workload and c.size == items), None)
    name = f"{workload}, {items:,} items: krmfn peak RSS"
    if memory_case is None:
        skip = f"{workload} at {items:,} items not among the workloads and sizes run"
        checks.append(Target(name, None, limit, mb, skip=skip))
    else:
        series = memory_case.series["krmfn"]
        checks.append(Target(name, series.peak_rss if series.ok else None, limit, mb,
                             memory_case.missing or series.error))
    for growth in found:
        span = f"{growth.large:,}/{growth.small:,} items"
        checks.append(Target(f"{growth.workload}, {span}: time", growth.time, growth.limit,
                             ratio_text, growth.why))
        checks.append(Target(f"{growth.workload}, {span}: memory", growth.memory,
                             growth.limit, ratio_text, growth.why))
    if len(sizes) < 2:
        checks.append(Target("growth", None, GROWTH_SLACK * 4, ratio_text,
                             skip="one size only"))
    ours, then = start.krmfn, start.reference
    if start.missing or not then.ok:
        checks.append(Target("start-up, one item: wall time", ours.median if ours.ok else None,
                             STARTUP_TARGET[0], seconds, ours.error))
        checks.append(Target("start-up, one item: peak RSS", ours.peak_rss if ours.ok else None,
                             STARTUP_TARGET[1], mb, ours.error))
    else:  # "unchanged or better": against krmfn as it was, measured in this run
        checks.append(Target(f"start-up, one item: wall time / at {start.revision}",
                             ours.median / then.median if ours.ok else None,
                             STARTUP_SLACK[0], ratio_text, ours.error))
        checks.append(Target(f"start-up, one item: peak RSS / at {start.revision}",
                             ours.peak_rss / then.peak_rss if ours.ok else None,
                             STARTUP_SLACK[1], ratio_text, ours.error))
    if not kpt_figures.skipped:
        checks.append(Target(f"kpt fn eval, {kpt_figures.items:,} objects: krmfn / cat",
                             kpt_figures.ratio, KPT_TARGET, ratio_text, kpt_figures.error))
    if figures.container is not None:
        measured, error = figures.container.figures, figures.container.error
        checks.append(Target("container start: krmfn / python -c pass",
                             measured.ratio if measured else None, CONTAINER_RATIO_TARGET,
                             ratio_text, error))
        checks.append(Target("container image size", measured.image_bytes if measured else None,
                             CONTAINER_SIZE_TARGET, mb, error))
    return checks


def load_average() -> str:
    """The 1-minute load average, as a measure of how busy the machine is."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def report(figures: Figures, checks: list[Target]) -> list[str]:
    """The report's lines after the header."""
    cases, found, start, kpt_figures, container = (
        figures.cases, figures.growth, figures.startup, figures.kpt, figures.container)
    lines = ["", "## Workloads", "", *cases_table(cases), "",
             "ratio: krmfn / baseline (the GC-off CSafeLoader + CSafeDumper round trip); floor: "
             "the libyaml event scan alone, and its ratio to the baseline; output: what krmfn "
             "wrote."]
    reruns = [c for c in cases if c.unchanged is not None]
    if reruns:
        same = [f"{c.size:,}" for c in reruns if c.unchanged]
        differ = [f"{c.size:,}" for c in reruns if not c.unchanged]
        lines.append("rerun: krmfn's output is its input, byte for byte, at "
                     f"{', '.join(same) or 'no size'} items"
                     + (f"; it DIFFERS at {', '.join(differ)} items" if differ else "") + ".")
    lines += ["", "## Growth (krmfn)", "", "| workload | sizes | time | memory | target |",
              "| --- | --- | ---: | ---: | ---: |"]
    for growth in found:
        cells = (f"{ratio_text(growth.time)} | {ratio_text(growth.memory)}"
                 if growth.time is not None and growth.memory is not None
                 else f"not measured: {growth.why} |")
        lines.append(f"| {growth.workload} | {growth.small:,} to {growth.large:,} items "
                     f"| {cells} | <= {ratio_text(growth.limit)} |")
    lines += ["", "## Start-up (a one-item list)", "",
              "| command | wall (median) | fastest run | peak RSS |",
              "| --- | ---: | ---: | ---: |"]
    rows = [("krmfn", start.krmfn)]
    if not start.missing:
        rows.append((f"krmfn at {start.revision} (before)", start.reference))
    rows += [("baseline", start.baseline), ("python -c pass", start.python)]
    for label, series in rows:
        lines.append(f"| {label} | {seconds(series.median) if series.ok else series.error} "
                     f"| {seconds(series.fastest) if series.ok else '-'} "
                     f"| {mb(series.peak_rss) if series.ok else '-'} |")
    lines += ["", "## kpt", ""]
    if kpt_figures.skipped:
        lines.append(f"kpt fn eval: not run ({kpt_figures.skipped})")
    elif kpt_figures.ratio is None:
        lines.append(f"kpt fn eval failed: {kpt_figures.error}")
    else:
        lines.append(f"kpt fn eval on {kpt_figures.items:,} objects: --exec krmfn "
                     f"{seconds(statistics.median(kpt_figures.krmfn))}, --exec cat "
                     f"{seconds(statistics.median(kpt_figures.cat))}, "
                     f"ratio {ratio_text(kpt_figures.ratio)} ({len(kpt_figures.krmfn)} runs)")
    if container is not None:
        lines += ["", f"## Container start ({container.image})", ""]
        lines += container.figures.lines() if container.figures else [
            f"container start failed: {container.error}"]
    lines += ["", "## Targets", "", *(check.line() for check in checks)]
    failed = [c.name for c in checks if c.failed]
    skipped = sum(c.status == "SKIP" for c in checks)
    checked = len(checks) - skipped
    summary = (f"all {checked} targets met" if not failed else
               f"{len(failed)} of {checked} targets failed")
    lines += ["", summary + (f", {skipped} skipped (not run)" if skipped else "")]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, with --quick's defaults filled in."""
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, help="rounds per input (default 3; --quick: 1)")
    parser.add_argument("--sizes", help="items per workload, e.g. 1000,5000 "
                        "(default 1000,5000,20000; --quick: 50,200)")
    parser.add_argument("--workloads", default=",".join(generate.WORKLOADS),
                        help="a comma-separated subset of mixed,services,rerun")
    parser.add_argument("--skip-kpt", action="store_true", help="leave out the kpt figure")
    parser.add_argument("--kpt-items", type=int,
                        help=f"objects in the kpt package (default {KPT_ITEMS:,}; "
                        f"--quick: {QUICK_KPT_ITEMS})")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, one run: a smoke test, not figures")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures here")
    parser.add_argument("--startup-reference", default=STARTUP_REFERENCE, metavar="REV",
                        help="the revision whose start-up krmfn's must match or beat "
                        f"(default {STARTUP_REFERENCE})")
    parser.add_argument("--container", metavar="IMAGE",
                        help="also measure the container start of IMAGE (podman; build it "
                        "with scripts/build-image)")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    sizes = args.sizes.split(",") if args.sizes else (QUICK_SIZES if args.quick
                                                      else DEFAULT_SIZES)
    try:
        args.sizes = sorted({int(s) for s in sizes})
    except ValueError:
        parser.error(f"--sizes: not a list of integers: {args.sizes}")
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in args.workloads if w not in generate.WORKLOADS]
    if unknown or not args.workloads:
        parser.error(f"--workloads: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {','.join(generate.WORKLOADS)}")
    if args.kpt_items is None:
        args.kpt_items = QUICK_KPT_ITEMS if args.quick else KPT_ITEMS
    if args.runs < 1 or args.kpt_items < 1 or any(s < 1 for s in args.sizes):
        parser.error("--runs, --sizes and --kpt-items must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the inputs, run every comparison, print the report; 1 when a target fails."""
    args = parse_args(argv)
    import yaml._yaml  # noqa: PLC0415 - only for its version

    with tempfile.TemporaryDirectory(prefix="krmfn-bench-") as name:
        scratch = Path(name)
        version = freeze(scratch)
        print(f"# krmfn benchmark: {args.runs} run(s), median wall time, peak RSS of the "
              f"command\n\nkrmfn {version} (copied at the start), Python "
              f"{platform.python_version()}, libyaml {yaml._yaml.get_version_string()}, "
              f"{os.cpu_count()} CPUs, load average {load_average()} at the start", flush=True)
        cases = make_cases(args.workloads, args.sizes, scratch)
        run_rounds(cases, args.runs, scratch)
        start = startup(3 if args.quick else max(10, args.runs), scratch,
                        args.startup_reference)
        kpt_figures = kpt(args.kpt_items, 1 if args.quick else max(3, args.runs), scratch,
                          args.skip_kpt)
        container = (container_start(args.container, 3 if args.quick else max(10, args.runs))
                     if args.container else None)
        figures = Figures(cases, growths(cases), start, kpt_figures, container)
        checks = targets(figures, args.sizes)
        print("\n".join(report(figures, checks)))
        print(f"load average {load_average()} at the end")
        if args.json:
            args.json.write_text(json.dumps({
                "krmfn": version, "runs": args.runs, "sizes": args.sizes,
                "workloads": args.workloads,
                "python": platform.python_version(), "cpus": os.cpu_count(),
                **figures.as_json(), "targets": [c.as_json() for c in checks],
                "passed": not any(c.failed for c in checks)}, indent=2) + "\n")
    return 1 if any(c.failed for c in checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
