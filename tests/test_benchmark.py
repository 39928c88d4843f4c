"""The benchmark runs end to end and reports every figure: a smoke test of its shape.

Only the shape is checked (sections, one row per workload and size, one PASS or FAIL line
per target, the JSON figures): timings belong in the benchmark itself, never in a test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks import generate
from benchmarks.run import parse_args
from tests.helpers import ROOT, need

RUN = ROOT / "benchmarks" / "run.py"
SECTIONS = ("## Workloads", "## Growth (krmfn)", "## Start-up (a one-item list)", "## kpt",
            "## Targets")
TARGET_LINE = re.compile(r"^(PASS|FAIL|SKIP)  \S.*\(target <= [\d.]+( MB| ms| s|x)\)$")


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    figures = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(RUN), "--quick", "--json", str(figures), *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          check=False)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(figures.read_text())
    assert report["passed"] is (done.returncode == 0)
    assert report["passed"] is all(t["status"] != "FAIL" for t in report["targets"])
    return done, report


def _check_series(series: dict[str, Any]) -> None:
    assert series["ok"] is True, series
    assert len(series["times_s"]) >= 1
    assert series["median_s"] > 0
    assert series["peak_rss_bytes"] > 0


def test_quick_report_shape(tmp_path: Path) -> None:
    done, report = _run(tmp_path, "--skip-kpt")
    lines = done.stdout.splitlines()
    for section in SECTIONS:
        assert section in lines
    rows = [line for line in lines if re.match(r"^\| (mixed|services|rerun) \| [\d,]+ \| ", line)]
    cells = [(row.split(" | ")[0].strip("| "), row.split(" | ")[1]) for row in rows]
    sizes = [f"{size:,}" for size in parse_args(["--quick"]).sizes]
    assert cells == [(w, s) for w in generate.WORKLOADS for s in sizes]
    assert all(len(row.split("|")) == 12 for row in rows), rows
    assert "kpt fn eval: not run (--skip-kpt)" in lines
    target_lines = [line for line in lines if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert target_lines and all(TARGET_LINE.match(line) for line in target_lines), target_lines
    assert [line[:4] for line in target_lines] == [t["status"] for t in report["targets"]]
    failed = sum(line.startswith("FAIL") for line in target_lines)
    checked = len(target_lines) - 1  # the peak memory at 5,000 items is not run
    assert lines[lines.index(target_lines[-1]) + 2] == (
        f"{failed} of {checked} targets failed" if failed else f"all {checked} targets met"
    ) + ", 1 skipped (not run)"

    assert report["runs"] == 1
    assert [(c["workload"], c["items"]) for c in report["cases"]] == [
        (w, s) for w in generate.WORKLOADS for s in parse_args(["--quick"]).sizes]
    for case in report["cases"]:
        for tool in ("krmfn", "baseline", "floor"):
            _check_series(case[tool])
        assert case["input_bytes"] > 0
        assert case["ratio"] > 0
        assert case["floor_ratio"] > 0
        assert case["rerun_unchanged"] is (True if case["workload"] == "rerun" else None)
    assert [g["workload"] for g in report["growth"]] == list(generate.WORKLOADS)
    startup = report["startup"]
    for name in ("krmfn", "baseline", "python_c_pass"):
        _check_series(startup[name])
    if startup["reference"] is not None:  # None in a checkout without that history
        _check_series(startup["reference"])
    assert report["kpt"]["skipped"] == "--skip-kpt"
    names = [t["name"] for t in report["targets"]]
    assert sum(name.endswith("krmfn / baseline") for name in names) == 6
    assert sum(name.endswith((": time", ": memory")) for name in names) == 6
    assert {"name": "services, 5,000 items: krmfn peak RSS", "value": None, "limit": 90e6,
            "status": "SKIP", "why": "services at 5,000 items not among the workloads and "
            "sizes run"} in report["targets"]
    at = f" / at {startup['reference_revision']}" if startup["reference"] is not None else ""
    assert {f"start-up, one item: wall time{at}", f"start-up, one item: peak RSS{at}"} <= set(
        names)


@pytest.mark.integration
def test_quick_with_kpt(tmp_path: Path) -> None:
    need("kpt")
    done, report = _run(tmp_path, "--workloads", "mixed", "--sizes", "20")
    assert report["kpt"]["skipped"] is None, report["kpt"]
    assert report["kpt"]["error"] is None, report["kpt"]
    assert report["kpt"]["ratio"] > 0
    assert any(line.startswith("kpt fn eval on 100 objects: --exec krmfn ")
               for line in done.stdout.splitlines())
    assert any(t["name"] == "kpt fn eval, 100 objects: krmfn / cat" for t in report["targets"])


@pytest.mark.parametrize("workload", generate.WORKLOADS[:2])
def test_workloads_are_deterministic_resource_lists(workload: str) -> None:
    make = getattr(generate, workload)
    text = make(30)
    assert text == make(30)
    loaded = yaml.safe_load(text)
    assert loaded["kind"] == "ResourceList"
    kinds = [item["kind"] for item in loaded["items"]]
    assert len(kinds) == 30
    services = kinds.count("SimpleMLService")
    assert services == (30 if workload == "services" else 3)
    if workload == "services":
        frameworks = [next(k for k in ("tensorflow", "pytorch", "custom") if k in item["spec"])
                      for item in loaded["items"]]
        assert frameworks.count("tensorflow") == frameworks.count("pytorch") == 12
        assert frameworks.count("custom") == 6


def test_bad_options_are_usage_errors() -> None:
    for args in (["--workloads", "bogus"], ["--sizes", "ten"], ["--runs", "0"]):
        with pytest.raises(SystemExit) as stopped:
            parse_args(args)
        assert stopped.value.code == 2
