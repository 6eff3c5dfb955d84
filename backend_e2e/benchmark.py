"""Write the backend suite's section of docs/benchmarks.md from a pytest run's output.

    nox -R -s backend -- --durations=10 | tee reports/backend-run.txt
    python -m backend_e2e.benchmark reports/backend-run.txt [--note "two runs at once"]

It takes the final summary line (counts and wall time) and the ``slowest N durations`` block.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from e2e_shared.bench import machine, write_section
from e2e_shared.config import find_root

SUMMARY = re.compile(r"=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s(?: \([\d:]+\))? =+")
DURATION = re.compile(r"^(?P<sec>[\d.]+)s (?P<when>call|setup|teardown)\s+(?P<test>\S.*)$")


def parse(text: str) -> tuple[str, float, list[tuple[float, str, str]]]:
    summaries = list(SUMMARY.finditer(text))
    if not summaries:
        raise SystemExit("no pytest summary line found in the output")
    last = summaries[-1]
    block = text.split("slowest", 1)[1] if "slowest" in text else ""
    slowest = [(float(m["sec"]), m["when"], m["test"]) for line in block.splitlines()
               if (m := DURATION.match(line.strip()))]
    return last["counts"], float(last["seconds"]), slowest


def render(counts: str, seconds: float, slowest: list[tuple[float, str, str]], note: str) -> str:
    lines = ["## Backend suite (`nox -s backend`)", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, embedded stack, one run of the whole "
             "suite. Target: at most 60 s.", "",
             f"Result: {counts}; pytest wall time **{seconds:.1f} s**.", "",
             *([note, ""] if note else []),
             f"The {len(slowest)} slowest test phases (`--durations`). A `setup` row of a resilience test "
             "is its module's fault scenario: the fault and the recovery happen once, in a module-scoped "
             "fixture, and the tests check what it saw.", "",
             "| seconds | phase | test |", "| ---: | --- | --- |"]
    lines += [f"| {sec:.2f} | {when} | `{test}` |" for sec, when, test in slowest]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="a file holding the pytest run's console output")
    parser.add_argument("--note", default="", help="a sentence about the conditions of the run")
    args = parser.parse_args()
    counts, seconds, slowest = parse(args.output.read_text(encoding="utf-8"))
    path = write_section(find_root(), "backend", render(counts, seconds, slowest, args.note))
    print(f"backend: {counts} in {seconds:.1f}s; written to {path}")


if __name__ == "__main__":
    main()
