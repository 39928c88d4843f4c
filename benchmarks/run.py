"""Measure krmfn against baselines taken in the same run, and check the targets.

    python benchmarks/run.py [--runs N] [--skip-kpt]

Each comparison alternates the two commands N times and compares medians; peak memory is
the child's maximum resident set. Targets (exit code 1 when one is missed):
1. 10,000 items: krmfn wall <= 1.0 x PyYAML-libyaml load + dump of the same list;
   krmfn peak memory <= 150 MB.
2. 50,000 items take <= 5.5 x the time of 10,000.
3. `kpt fn eval --exec krmfn` on a 10,000-object package <= 1.2 x `kpt fn eval --exec cat`
   (steady state: the package already holds the outputs of an earlier run).
4. One SimpleMLService: krmfn <= 3 x `python3 -c "import sys, yaml; yaml.safe_load(sys.stdin)"`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import package, resource_list

ROOT = Path(__file__).resolve().parent.parent
KRMFN = [sys.executable, "-m", "krmfn"]
LOAD_DUMP = [sys.executable, "-c", "import sys, yaml\n"
             "data = yaml.load(sys.stdin, Loader=yaml.CSafeLoader)\n"
             "yaml.dump(data, sys.stdout, Dumper=yaml.CSafeDumper)"]
SAFE_LOAD = [sys.executable, "-c", "import sys, yaml; yaml.safe_load(sys.stdin)"]


def measure(command: list[str], stdin: Path | None, cwd: Path | None = None) -> tuple[float, int]:
    """Run once; give (wall seconds, peak resident memory in bytes) of the child."""
    with open(stdin or os.devnull, "rb") as source, open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdin=source, stdout=sink, stderr=subprocess.PIPE,
                                 cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode()}"
                         if child.stderr else f"{command} failed")
    return wall, usage.ru_maxrss * 1024


def compare(a: list[str], b: list[str], stdin_a: Path | None, stdin_b: Path | None,
            runs: int) -> tuple[float, float, int]:
    """Alternate a and b `runs` times; give (median a, median b, peak memory of a)."""
    times_a, times_b, memory = [], [], 0
    for _ in range(runs):
        wall, peak = measure(a, stdin_a)
        times_a.append(wall)
        memory = max(memory, peak)
        times_b.append(measure(b, stdin_b)[0])
    return statistics.median(times_a), statistics.median(times_b), memory


def report(name: str, figure: str, ratio: float, target: float, misses: list[str]) -> None:
    """Print one line; note a missed target."""
    ok = ratio <= target
    print(f"{'PASS' if ok else 'MISS'}  {name:<44} {figure:<40} ratio {ratio:5.2f} "
          f"(target <= {target})")
    if not ok:
        misses.append(name)


def kpt_eval(fn: str, pkg: Path) -> float:
    """Wall seconds of one `kpt fn eval PKG --exec FN`."""
    start = time.perf_counter()
    done = subprocess.run(["kpt", "fn", "eval", str(pkg), "--exec", fn],
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kpt fn eval --exec {fn} failed: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - start


def main() -> int:
    """Generate the inputs, run every comparison, print figures; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-kpt", action="store_true")
    args = parser.parse_args()
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        small, large, one = tmp / "10k.yaml", tmp / "50k.yaml", tmp / "1.yaml"
        small.write_text(resource_list(10_000))
        large.write_text(resource_list(50_000))
        one.write_text(resource_list(1))
        print(f"inputs: 10,000 items = {small.stat().st_size / 1e6:.1f} MB, "
              f"50,000 items = {large.stat().st_size / 1e6:.1f} MB; {args.runs} runs each")

        ours, base, memory = compare(KRMFN, LOAD_DUMP, small, small, args.runs)
        report("1. 10k items vs libyaml load+dump", f"{ours:.2f} s vs {base:.2f} s",
               ours / base, 1.0, misses)
        report("1. 10k items peak memory", f"{memory / 1e6:.0f} MB vs 150 MB limit",
               memory / 150e6, 1.0, misses)

        ours_large, ours_small, _ = compare(KRMFN, KRMFN, large, small, args.runs)
        report("2. 50k items vs 10k items", f"{ours_large:.2f} s vs {ours_small:.2f} s",
               ours_large / ours_small, 5.5, misses)

        if args.skip_kpt or not shutil.which("kpt"):
            print("SKIP  3. kpt fn eval (kpt not installed or --skip-kpt)")
        else:
            wrapper = tmp / "krmfn"
            wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m krmfn\n")
            wrapper.chmod(0o755)
            pkg = package(10_000, tmp / "pkg")
            kpt_eval(str(wrapper), pkg)  # first run writes the outputs: steady state after
            with_fn, with_cat = [], []
            for _ in range(max(3, args.runs // 2)):
                with_fn.append(kpt_eval(str(wrapper), pkg))
                with_cat.append(kpt_eval(shutil.which("cat") or "/bin/cat", pkg))
            fn_time, cat_time = statistics.median(with_fn), statistics.median(with_cat)
            report("3. kpt fn eval --exec krmfn vs --exec cat",
                   f"{fn_time:.2f} s vs {cat_time:.2f} s", fn_time / cat_time, 1.2, misses)

        ours, base, _ = compare(KRMFN, SAFE_LOAD, one, one, max(args.runs, 10))
        report("4. cold start, one SimpleMLService", f"{ours * 1000:.0f} ms vs "
               f"{base * 1000:.0f} ms", ours / base, 3.0, misses)
    print("all targets met" if not misses else f"missed: {', '.join(misses)}")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
