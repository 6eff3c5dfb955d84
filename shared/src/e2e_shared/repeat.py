"""The flake hunter behind ``invoke e2e.repeat``: run a selection of suites and phases N times on
one stack, then report each test's failure rate and the spread of its duration.

Each run is one pytest per suite (the phases' markers or-ed together, in the suite's own phase
order), with no rerun: a test that fails once in N runs is flaky, one that fails in all N is
broken. JUnit files go to ``reports/repeat/run-<i>/<suite>.xml``; the figures to
``reports/repeat/summary.json`` and ``reports/repeat/summary.md``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from . import E2EError

Echo = Callable[[str], None]


@dataclass
class TestStats:
    test: str
    outcomes: list[str] = field(default_factory=list)  # per run: passed | failed | skipped | missing
    durations: list[float] = field(default_factory=list)
    first_failure: str = ""

    @property
    def failures(self) -> int:
        return sum(o == "failed" for o in self.outcomes)

    @property
    def ran(self) -> int:
        return sum(o in ("passed", "failed") for o in self.outcomes)

    @property
    def verdict(self) -> str:
        """``flaky`` (failed in some runs, passed in others), ``broken`` (failed in every run), ``stable``."""
        if not self.failures:
            return "stable"
        return "broken" if self.failures == self.ran else "flaky"

    def spread(self) -> dict[str, float]:
        d = sorted(self.durations)
        if not d:
            return {}
        p95 = d[min(len(d) - 1, round(0.95 * (len(d) - 1)))]
        return {"min": d[0], "median": statistics.median(d), "p95": p95, "max": d[-1]}

    def as_dict(self) -> dict[str, Any]:
        return {"test": self.test, "verdict": self.verdict, "runs": len(self.outcomes), "ran": self.ran,
                "failures": self.failures, "failure_rate": self.failures / self.ran if self.ran else 0.0,
                "seconds": {k: round(v, 3) for k, v in self.spread().items()},
                "outcomes": self.outcomes, "first_failure": self.first_failure}


def read_junit(path: Path) -> dict[str, tuple[str, float, str]]:
    """Test id -> (outcome, seconds, failure message) from one pytest JUnit file. A test with
    two entries (a teardown error after a pass) keeps the worse outcome and the summed time."""
    rank = {"passed": 0, "skipped": 1, "failed": 2}
    out: dict[str, tuple[str, float, str]] = {}
    for tc in etree.parse(str(path)).iter("testcase"):
        test = f"{tc.get('classname', '')}::{tc.get('name', '')}"
        outcome, message = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                message = ((child.get("message") or "").splitlines() or [""])[0]
                break
            if child.tag == "skipped":
                outcome = "skipped"
        seconds = float(tc.get("time") or 0)
        if test in out:
            before, took, said = out[test]
            if rank[before] >= rank[outcome]:
                outcome, message = before, said
            seconds += took
        out[test] = (outcome, seconds, message)
    return out


def aggregate(runs: list[dict[str, tuple[str, float, str]]]) -> list[TestStats]:
    """Per test, its outcome and duration in each run (``missing`` where a run did not have it)."""
    tests: dict[str, TestStats] = {}
    for i, run in enumerate(runs):
        for test, (outcome, seconds, message) in run.items():
            stats = tests.setdefault(test, TestStats(test, ["missing"] * i))
            stats.outcomes.append(outcome)
            if outcome in ("passed", "failed"):
                stats.durations.append(seconds)
            if outcome == "failed" and not stats.first_failure:
                stats.first_failure = f"run {i + 1}: {message}"[:300]
        for stats in tests.values():
            if len(stats.outcomes) < i + 1:
                stats.outcomes.append("missing")
    return sorted(tests.values(), key=lambda s: (-s.failures, s.test))


def marker_expression(markers: Iterable[str]) -> str:
    return " or ".join(dict.fromkeys(markers))


def summary(stats: list[TestStats], runs: int, selection: str, wall: float) -> dict[str, Any]:
    flaky = [s.test for s in stats if s.verdict == "flaky"]
    broken = [s.test for s in stats if s.verdict == "broken"]
    return {"runs": runs, "selection": selection, "wall_seconds": round(wall, 1), "tests": len(stats),
            "executions": sum(s.ran for s in stats), "failures": sum(s.failures for s in stats),
            "flaky": flaky, "broken": broken, "per_test": [s.as_dict() for s in stats]}


def render_markdown(result: dict[str, Any], slowest: int = 10) -> str:
    lines = [f"# e2e.repeat: {result['selection']}, {result['runs']} runs", "",
             f"{result['tests']} tests, {result['executions']} executions, {result['failures']} failures: "
             f"**{len(result['flaky'])} flaky**, {len(result['broken'])} broken; "
             f"wall time {result['wall_seconds']:.0f} s.", ""]
    failing = [t for t in result["per_test"] if t["failures"]]
    if failing:
        lines += ["| test | failed | rate | first failure |", "| --- | --- | --- | --- |"]
        lines += [f"| `{t['test']}` | {t['failures']}/{t['ran']} | {t['failure_rate']:.0%} | "
                  f"{t['first_failure'].replace('|', '/')} |" for t in failing]
        lines.append("")
    timed = sorted((t for t in result["per_test"] if t["seconds"]), key=lambda t: -t["seconds"]["median"])
    lines += [f"Duration spread of the {slowest} slowest tests (seconds over the runs):", "",
              "| test | min | median | p95 | max |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{t['test']}` | {t['seconds']['min']:.2f} | {t['seconds']['median']:.2f} | "
              f"{t['seconds']['p95']:.2f} | {t['seconds']['max']:.2f} |" for t in timed[:slowest]]
    return "\n".join(lines) + "\n"


def run_repeat(runs: int, phases: list[str] | None = None, suites: list[str] | None = None, *,
               keyword: str | None = None, python: str = sys.executable, echo: Echo = print) -> int:
    """Run the selection ``runs`` times; 0 when no test failed in any run, else 1."""
    from .config import load_settings
    from .drivers import get_driver
    from .orchestrate import prepare_envs
    from .phases import load as load_phases
    from .seeding import seed_baseline
    from .stackops import require_up

    if runs < 1:
        raise E2EError(f"--runs must be at least 1, not {runs}", "e.g. invoke e2e.repeat --runs 20")
    settings = load_settings()
    model = load_phases(settings.tool)
    selected = model.select(phases, suites)
    destructive = [p.name for p, _ in selected if p.destructive or p.name == "resilience"]
    if destructive:
        raise E2EError(f"e2e.repeat does not repeat phases that stop services ({', '.join(destructive)})",
                       "choose phases with --phase, e.g. --phase smoke --phase flows")
    if not selected:
        raise E2EError("nothing to repeat: no phase runs the chosen suites",
                       f"phases: {', '.join(model.phases)}; suites: {', '.join(model.suites)}")
    per_suite: dict[str, list[str]] = {}
    for phase, chosen in selected:
        for suite in chosen:
            per_suite.setdefault(suite, []).append(phase.marker)
    selection = ", ".join(f"{s} ({marker_expression(m)})" for s, m in per_suite.items())
    require_up(get_driver(settings=settings), wait=15.0)
    prepare_envs(sorted({model.suites[s].session for s in per_suite}), python, echo)
    seed_baseline(settings)

    out_dir = settings.root / "reports" / "repeat"
    results: list[dict[str, tuple[str, float, str]]] = []
    t0 = time.monotonic()
    for i in range(1, runs + 1):
        merged: dict[str, tuple[str, float, str]] = {}
        for suite, markers in per_suite.items():
            junit = out_dir / f"run-{i}" / f"{suite}.xml"
            junit.parent.mkdir(parents=True, exist_ok=True)
            junit.unlink(missing_ok=True)
            argv = [python, "-m", "nox", "-R", "-s", model.suites[suite].session, "--",
                    "-m", marker_expression(markers), f"--junitxml={junit}", "-o", "junit_family=xunit1",
                    "-p", "no:randomly", "-p", "no:cacheprovider", "-q"]
            if keyword:
                argv += ["-k", keyword]
            started = time.monotonic()
            log = junit.with_suffix(".log")
            with log.open("w", encoding="utf-8") as f:
                code = subprocess.call(argv, cwd=settings.root, stdout=f, stderr=subprocess.STDOUT)
            if not junit.exists():
                raise E2EError(f"run {i}, {suite}: pytest wrote no report (exit {code})", f"see {log}")
            got = read_junit(junit)
            merged.update(got)
            failed = sum(o == "failed" for o, _, _ in got.values())
            echo(f"[run {i}/{runs}] {suite}: {len(got)} tests, {failed} failed in "
                 f"{time.monotonic() - started:.1f}s")
        results.append(merged)
    result = summary(aggregate(results), runs, selection, time.monotonic() - t0)
    (out_dir / "summary.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out_dir / "summary.md").write_text(render_markdown(result), encoding="utf-8")
    echo(f"repeat: {result['tests']} tests x {runs} runs: {result['failures']} failures, "
         f"{len(result['flaky'])} flaky, {len(result['broken'])} broken (reports/repeat/summary.md)")
    for test in result["flaky"]:
        echo(f"flaky: {test}")
    return 1 if result["failures"] else 0
