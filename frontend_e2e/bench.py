"""Benchmark of the browser suite, written to the "frontend" section of docs/benchmarks.md.

Run it from the workspace root with the suite's environment, against a seeded stack::

    .nox/frontend/bin/python -m frontend_e2e.bench --runs 2 [--xdist]

It times Chromium's launch, then runs the whole suite ``--runs`` times through its nox session
(serially, and with ``-n 2`` when ``--xdist`` is given and pytest-xdist is installed, runs
alternating so that both meet the same machine load), and takes the median and p95 time per
test from each run's JUnit file. The machine's load average is recorded with each run: on a
shared 2-core machine it moves the numbers more than anything in the suite.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from e2e_shared.bench import machine, write_section
from e2e_shared.browser import find_chromium, launch_args
from e2e_shared.config import find_root

TARGET_MEDIAN_S = 1.5


@dataclass
class Run:
    mode: str
    wall: float
    times: list[float]
    failures: int
    load: float

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.times, n=20, method="inclusive")[-1]


def time_launches(n: int) -> list[float]:
    """Seconds from ``chromium.launch`` to a browser that has opened a blank page."""
    args = launch_args(find_chromium())
    times = []
    with sync_playwright() as p:
        for _ in range(n):
            t0 = time.perf_counter()
            browser = p.chromium.launch(**args)
            browser.new_page().close()
            times.append(time.perf_counter() - t0)
            browser.close()
    return times


def junit_times(path: Path) -> tuple[list[float], int]:
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    return [float(c.get("time", "0")) for c in cases], failed


def run_suite(root: Path, mode: str, out: Path) -> Run:
    junit = out / f"{mode}-{len(list(out.iterdir()))}.xml"
    extra = ["-n", "2"] if mode == "xdist" else []
    t0 = time.perf_counter()
    subprocess.run(["nox", "-R", "-s", "frontend", "--", "-q", *extra, f"--junitxml={junit}"],
                   cwd=root, check=False, capture_output=True)
    wall = time.perf_counter() - t0
    times, failed = junit_times(junit)
    return Run(mode, wall, times, failed, os.getloadavg()[0])


def render(runs: list[Run], launches: list[float]) -> str:
    lines = [
        "## Browser suite (`nox -s frontend`)", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {machine()}, embedded stack, Chromium "
        "(system) headless. Wall time is the whole `nox -R -s frontend` command; per-test times "
        "are the JUnit `time` of each test (setup + call + teardown). Target: median per test "
        f"at most {TARGET_MEDIAN_S} s.", "",
        "| run | mode | tests | failed | wall (s) | median/test (s) | p95/test (s) | load avg after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(f"| {i} | {r.mode} | {len(r.times)} | {r.failures} | {r.wall:.1f} | {r.median:.2f} "
                     f"| {r.p95:.2f} | {r.load:.1f} |")
    lines += ["", f"Chromium launch (to a first blank page), {len(launches)} launches: median "
              f"{statistics.median(launches):.2f} s, max {max(launches):.2f} s.", ""]
    modes = sorted({r.mode for r in runs})
    if len(modes) > 1:
        walls = {m: statistics.median(r.wall for r in runs if r.mode == m) for m in modes}
        lines.append("Median wall by mode: " + ", ".join(f"{m} {w:.1f} s" for m, w in walls.items()) + ".")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="suite runs per mode (default 2)")
    parser.add_argument("--launches", type=int, default=5, help="browser launches to time")
    parser.add_argument("--xdist", action="store_true", help="also run with pytest-xdist -n 2")
    parser.add_argument("--notes", default="", help="a paragraph appended to the section")
    args = parser.parse_args()
    root = find_root()
    launches = time_launches(args.launches)
    modes = ["serial"]
    if args.xdist:
        if importlib.util.find_spec("xdist") is None:
            parser.error("--xdist needs pytest-xdist in the suite's environment")
        modes.append("xdist")
    runs = []
    with tempfile.TemporaryDirectory(prefix="frontend-bench-") as tmp:
        for i in range(args.runs):
            for mode in modes if i % 2 == 0 else modes[::-1]:
                runs.append(run_suite(root, mode, Path(tmp)))
                r = runs[-1]
                print(f"{r.mode}: {len(r.times)} tests, {r.failures} failed, wall {r.wall:.1f}s, "
                      f"median {r.median:.2f}s, p95 {r.p95:.2f}s, load {r.load:.1f}")
    body = render(runs, launches) + (f"\n\n{args.notes}" if args.notes else "")
    print(f"written to {write_section(root, 'frontend', body)}")
    return 0 if all(r.failures == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
