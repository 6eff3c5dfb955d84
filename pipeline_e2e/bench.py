"""Write the pipeline suite's section of docs/benchmarks.md from one run's JUnit file.

    python -m pipeline_e2e.bench reports/junit/adhoc-pipeline.xml --wall 92.4 \\
        --row "two runs at once (wall)|183 s"

The freshness figures are the testsuite properties the freshness test records; ``--wall`` is the
wall time of the command that ran the suite, measured by the caller.
"""

from __future__ import annotations

import argparse
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from e2e_shared.bench import machine, write_section
from e2e_shared.config import find_root

SECTION = "pipeline"


def read_junit(path: Path) -> tuple[dict[str, str], dict[str, float]]:
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None, f"{path} has no testsuite"
    props = {p.get("name", ""): p.get("value", "") for p in suite.iter("property")}
    counts = {k: float(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped", "time")}
    return props, counts


def render(props: dict[str, str], counts: dict[str, float], wall: float | None, rows: list[str],
           command: str = "nox -s pipeline") -> str:
    passed = int(counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"])
    table = [
        ("tests", f"{int(counts['tests'])} ({passed} passed)"),
        (f"wall time, `{command}`", f"{wall:.0f} s" if wall is not None else "not measured"),
        ("pytest time", f"{counts['time']:.0f} s"),
        (f"freshness p50, upload call -> trades in `GET /bars` ({props.get('freshness_files', '?')} files)",
         f"{props.get('freshness_api_p50_s', '?')} s"),
        ("freshness p95, upload call -> trades in `GET /bars`", f"{props.get('freshness_api_p95_s', '?')} s"),
        ("freshness p50, `landed_at -> loaded_at` in SQL", f"{props.get('freshness_sql_p50_s', '?')} s"),
        ("freshness p95, `landed_at -> loaded_at` in SQL", f"{props.get('freshness_sql_p95_s', '?')} s"),
        *(tuple(r.split("|", 1)) for r in rows),
    ]
    return "\n".join([
        "## Pipeline suite (`nox -s pipeline`)", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, embedded driver, one stack "
        "(`invoke stack.up data.seed` first). Freshness SLA 30 s; the suite fails above a p95 of 10 s. "
        "`landed_at` is the object's Last-Modified, which the store reports to the second, so the SQL "
        "figure reads up to 1 s high.", "",
        "| figure | value |", "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in table],
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline_e2e.bench", description=__doc__.splitlines()[0])
    parser.add_argument("junit", type=Path, help="the run's JUnit file")
    parser.add_argument("--wall", type=float, default=None, help="wall time of the run, seconds")
    parser.add_argument("--command", default="nox -s pipeline", help="what --wall timed")
    parser.add_argument("--row", action="append", default=[], help="an extra 'figure|value' row")
    args = parser.parse_args(argv)
    props, counts = read_junit(args.junit)
    path = write_section(find_root(), SECTION, render(props, counts, args.wall, args.row, args.command))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
