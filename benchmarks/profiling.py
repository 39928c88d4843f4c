"""Where krmfn's time goes: cProfile shares per function on one benchmark input.

    python benchmarks/profiling.py [--workload services] [--items 5000] [--top 25]

krmfn runs in a child, as the function runs (stdin the generated list, stdout a file, the
cyclic GC off), under cProfile. Two tables: the functions with the most time of their own
(share of the whole run), and krmfn's own functions by cumulative time (its stages). cProfile
adds a cost to every call, so the shares of small, often-called functions are overstated;
take the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate
from benchmarks.measure import ENV, KRMFN, freeze

CHILD = """\
import cProfile, sys
from krmfn import cli
profile = cProfile.Profile()
profile.enable()
code = cli.main([])
profile.disable()
profile.dump_stats(sys.argv[1])
raise SystemExit(code)
"""

Key = tuple[str, int, str]


def where(key: Key) -> str:
    """`krmfn/emitter.py:85(scalar)`, or `~(<built-in method ...>)`."""
    path, line, name = key
    if path == "~":
        return name
    short = Path(path).resolve()
    if "site-packages" in short.parts:
        short = Path(*short.parts[short.parts.index("site-packages") + 1:])
    elif short.is_relative_to(Path(ENV["PYTHONPATH"])):  # the copy freeze() made
        short = short.relative_to(Path(ENV["PYTHONPATH"]))
    else:  # the standard library
        short = Path(*short.parts[-2:])
    return f"{short}:{line}({name})"


def profile_input(source: Path, stats_path: Path) -> pstats.Stats:
    """Run krmfn on `source` under cProfile; give its statistics."""
    with open(source, "rb") as stdin:
        done = subprocess.run([sys.executable, "-P", "-c", CHILD, str(stats_path)], stdin=stdin,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
                              check=False)
    if not stats_path.exists():
        raise SystemExit(f"krmfn failed under the profiler: {done.stderr.decode()[-500:]}")
    return pstats.Stats(str(stats_path))


def tables(stats: pstats.Stats, top: int) -> list[str]:
    """The two tables, in Markdown."""
    entries: dict[Key, tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total: float = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"total {total:.2f} s under the profiler", "",
             "| own time share | own s | calls | cumulative share | function |",
             "| ---: | ---: | ---: | ---: | --- |"]
    for key, (_, calls, own, cumulative, _) in sorted(
            entries.items(), key=lambda e: -e[1][2])[:top]:
        lines.append(f"| {own / total:.1%} | {own:.2f} | {calls:,} "
                     f"| {cumulative / total:.1%} | `{where(key)}` |")
    lines += ["", "krmfn's functions by cumulative time:", "",
              "| cumulative share | cumulative s | calls | function |",
              "| ---: | ---: | ---: | --- |"]
    copy = Path(ENV["PYTHONPATH"]) / "krmfn"
    ours = [(key, value) for key, value in entries.items()
            if copy in Path(key[0]).resolve().parents]
    for key, (_, calls, _, cumulative, _) in sorted(ours, key=lambda e: -e[1][3])[:top]:
        lines.append(f"| {cumulative / total:.1%} | {cumulative:.2f} | {calls:,} "
                     f"| `{where(key)}` |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Generate the input, profile krmfn on it, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=generate.WORKLOADS, default="services")
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="krmfn-profile-") as name:
        scratch = Path(name)
        version = freeze(scratch)
        source = scratch / "input.yaml"
        if args.workload == "rerun":
            services = scratch / "services.yaml"
            services.write_text(generate.services(args.items))
            with open(services, "rb") as stdin, open(source, "wb") as stdout:
                subprocess.run(KRMFN, stdin=stdin, stdout=stdout, env=ENV, check=True)
        else:
            source.write_text(getattr(generate, args.workload)(args.items))
        stats = profile_input(source, scratch / "krmfn.prof")
        print(f"# krmfn {version} under cProfile: {args.workload}, {args.items:,} items "
              f"({source.stat().st_size / 1e6:.1f} MB)\n")
        print("\n".join(tables(stats, args.top)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
