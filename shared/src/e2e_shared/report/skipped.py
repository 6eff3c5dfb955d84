"""A JUnit file for a phase that did not run, so that it still shows in the reports."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from junitparser import JUnitXml, Skipped, TestCase, TestSuite

from ..jobreport import split_nodeid

SKIP_TYPE = "e2e.phase-not-run"


def write_skipped(
    path: str | Path, phase: str, suite: str, reason: str, tests: list[str] | None = None
) -> Path:
    """Write a JUnit file whose cases are all skipped with ``reason``; return its path.

    One case per entry of ``tests`` (pytest node ids or plain names), else one case named
    ``<phase>-<suite>``. ``path`` is the file, or a folder to write ``<phase>-<suite>.xml`` in.
    """
    target = Path(path)
    if target.is_dir():
        target = target / f"{phase}-{suite}.xml"
    name = f"{phase}-{suite}"
    ts = TestSuite(name)
    ts.timestamp = datetime.now(UTC).isoformat(timespec="seconds")
    ts.hostname = socket.gethostname() or "localhost"
    ts.add_property("phase", phase)
    ts.add_property("suite", suite)
    ts.add_property("skipped", reason)
    cases = []
    for test in tests or [name]:
        classname, case_name = split_nodeid(test, name)
        case = TestCase(case_name, classname, 0.0)
        case.result = [Skipped(reason, SKIP_TYPE)]
        cases.append(case)
    ts.add_testcases(cases)
    xml = JUnitXml()
    xml.add_testsuite(ts)
    target.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(target))
    return target
