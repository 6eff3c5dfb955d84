"""Merge the suites' JUnit files into one report: junit.xml, summary.json, summary.md, index.html.

``merge(junit_dir, out_dir)`` is the entry point; ``python -m e2e_shared.report merge`` its CLI.
"""

from __future__ import annotations

from .generate import bench_merge, generate_cases
from .merge import PHASES, SUITES, NoReportsError, ReportFile, merge
from .model import CaseRecord, Counts, MergeResult, SlowCase, SuiteRow, summary_line
from .skipped import write_skipped

__all__ = [
    "PHASES",
    "SUITES",
    "CaseRecord",
    "Counts",
    "MergeResult",
    "NoReportsError",
    "ReportFile",
    "SlowCase",
    "SuiteRow",
    "bench_merge",
    "generate_cases",
    "merge",
    "summary_line",
    "write_skipped",
]
