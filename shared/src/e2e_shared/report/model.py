"""What a merge found: counts per phase x suite, the failed, flaky and slowest cases, warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
# pass only when every selected job ran to completion and passed; interrupted: Ctrl-C or SIGTERM.
Verdict = Literal["pass", "fail", "interrupted"]


@dataclass
class Counts:
    """Test cases by final outcome. ``failed`` excludes errors; ``flaky`` overlaps the others."""

    tests: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    flaky: int = 0

    def add(self, outcome: Outcome) -> None:
        self.tests += 1
        if outcome == "passed":
            self.passed += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "error":
            self.errored += 1
        else:
            self.skipped += 1

    def __iadd__(self, other: Counts) -> Counts:
        for name in ("tests", "passed", "failed", "errored", "skipped", "flaky"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class CaseRecord:
    """One failed, errored or flaky test case with what is needed to show it."""

    phase: str
    suite: str
    classname: str
    name: str
    time: float
    outcome: Outcome
    message: str = ""
    text: str = ""
    stdout: str = ""
    stderr: str = ""
    attachments: list[str] = field(default_factory=list)  # relative to the output folder
    flaky: bool = False
    type: str = ""  # the exception's class, e.g. AssertionError

    @property
    def test(self) -> str:
        """``classname::name``: how a test is named in properties, summaries and warnings."""
        return f"{self.classname}::{self.name}" if self.classname else self.name

    def brief(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "suite": self.suite,
            "test": self.test,
            "kind": self.outcome,
            "message": self.message,
            "type": self.type,
            "time": round(self.time, 3),
            "attachments": list(self.attachments),
        }


@dataclass
class Attempt:
    """One run of a test: the first, or its rerun; with that run's own output and attachments."""

    outcome: Outcome
    message: str = ""
    text: str = ""
    stdout: str = ""
    stderr: str = ""
    attachments: list[str] = field(default_factory=list)
    time: float = 0.0


@dataclass
class CaseRow:
    """Every test case of the run, as the HTML report lists it (passing ones carry no attempts)."""

    phase: str
    suite: str
    classname: str
    name: str
    time: float
    outcome: Outcome
    flaky: bool = False
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def test(self) -> str:
        return f"{self.classname}::{self.name}" if self.classname else self.name

    @property
    def status(self) -> str:
        """``passed``, ``failed`` (errors too), ``skipped`` or ``flaky``: the report's filters."""
        if self.flaky and self.outcome == "passed":
            return "flaky"
        return "failed" if self.outcome in ("failed", "error") else self.outcome


def attempt_from(parsed: Any, took: float) -> Attempt:
    """An :class:`Attempt` from the merge's reading of one testcase element."""
    return Attempt(parsed.outcome, parsed.message, parsed.text, parsed.stdout, parsed.stderr,
                   list(parsed.attachments), took)


def case_row(phase: str, suite: str, classname: str, name: str, took: float, outcome: Outcome,
             flaky: bool, first: Attempt | None = None, rerun: Attempt | None = None) -> CaseRow:
    """A :class:`CaseRow`; the merge calls this for every case it counts."""
    attempts = [a for a in (first, rerun) if a is not None]
    return CaseRow(phase, suite, classname, name, took, outcome, flaky,
                   attempts if rerun is not None or outcome != "passed" else [])


@dataclass(frozen=True)
class SlowCase:
    phase: str
    suite: str
    test: str
    time: float


@dataclass
class SuiteRow:
    """One phase x suite of the run: one ``<testsuite>`` of the merged file."""

    order: int
    phase: str
    suite: str
    start: float  # epoch seconds
    duration: float
    counts: Counts
    shards: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.phase}-{self.suite}"

    @property
    def status(self) -> str:
        c = self.counts
        if c.failed or c.errored:
            return "failed"
        if c.tests == 0:
            return "empty"
        if c.skipped == c.tests:
            return "skipped"
        return "flaky" if c.flaky else "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "name": self.name,
            "phase": self.phase,
            "suite": self.suite,
            "status": self.status,
            "started": iso_utc(self.start) + "Z",
            "duration": round(self.duration, 3),
            **asdict(self.counts),
            "shards": list(self.shards),
            "files": list(self.files),
            "reason": self.skip_reason,
        }


@dataclass
class MergeResult:
    """The outcome of :func:`e2e_shared.report.merge` and the paths it wrote."""

    verdict: Verdict
    strict: bool
    totals: Counts
    duration: float
    started: float | None
    rows: list[SuiteRow]
    failures: list[CaseRecord]
    flaky: list[CaseRecord]
    slowest: list[SlowCase]
    warnings: list[str]
    outputs: dict[str, Path] = field(default_factory=dict)
    cases: list[CaseRow] = field(default_factory=list)  # every case, for the HTML report
    environment: dict[str, str] = field(default_factory=dict)  # filled when the report is written
    # The resource watch's section (e2e_shared.resources.summarize); None: no samples file.
    resources: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    def as_dict(self) -> dict[str, Any]:
        """The content of summary.json."""
        return {
            "verdict": self.verdict,
            "strict": self.strict,
            "summary": summary_line(self),
            "totals": asdict(self.totals),
            "duration": round(self.duration, 3),
            "started": iso_utc(self.started) + "Z" if self.started is not None else None,
            "suites": [row.as_dict() for row in self.rows],
            "failures": [case.brief() for case in self.failures],
            "flaky": [case.brief() for case in self.flaky],
            "slowest": [asdict(slow) for slow in self.slowest],
            "warnings": list(self.warnings),
            "environment": dict(self.environment),
            "resources": self.resources if self.resources is not None else {
                "watched": False, "why": "no resource samples for this run"},
        }


def summary_line(result: MergeResult) -> str:
    """``summary: N passed, N failed, N skipped (N flaky) in N.Ns``; failed includes errors."""
    t = result.totals
    return (
        f"summary: {t.passed} passed, {t.failed + t.errored} failed, {t.skipped} skipped "
        f"({t.flaky} flaky) in {result.duration:.1f}s"
    )


def iso_utc(epoch: float) -> str:
    """Seconds since the epoch as ``YYYY-MM-DDTHH:MM:SS`` in UTC, the form the Ant schema takes."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")
