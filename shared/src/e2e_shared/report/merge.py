"""Merge the suites' JUnit files into one file that CI readers understand.

Input: ``<phase>-<suite>[-<shard>].xml`` as written by pytest ``--junitxml``, and for each the
optional ``<phase>-<suite>[-<shard>].rerun.xml`` of its one rerun of failed tests. CI downloads
each job's artifact into a folder of its own, so the files may sit in sub-folders.

Output: each ``<testsuite>`` (one per phase x suite) is valid against the Maven Surefire 3.0
schema, the shape Jenkins, GitLab and the GitHub publishing actions read:

- a ``<failure>``/``<error>`` has ``message`` = the exception's type and the first line of its
  message (``AssertionError: expected 200, got 503``) and ``type`` = its class; the full text
  stays in the body. pytest's ``failed on setup with "..."`` wrapper is unwrapped into the body;
- a ``<testcase>`` holds at most one ``<failure>``/``<error>``/``<skipped>``; pytest's second
  entry for a teardown error is folded into the first, the extra result noted in its text;
- per-test output stays in the testcase's own ``<system-out>``/``<system-err>``; testcase
  properties become ``[[PROPERTY|name=value]]`` lines and attachments ``[[ATTACHMENT|path]]``
  lines there, each path relative to the output folder (``reports/``) and resolved across the
  CI artifact round trip;
- a flaky case (failed, then passed on its rerun) passes and holds ``<flakyFailure>`` (or
  ``<flakyError>``) with the first attempt's message, ``<stackTrace>`` and output (Surefire's
  convention); a case that failed both times holds its ``<failure>`` plus a ``<rerunFailure>``
  (or ``<rerunError>``). With ``strict`` a flaky case keeps its failure instead;
- the root ``<testsuites>`` carries the run's totals, wall time and a timestamp with offset;
  every merged testsuite carries the property ``e2e.merged``, so that a merged file that lands
  among the inputs (a CI job uploading its whole ``reports/``) is left out with a warning, and
  a test seen twice in the same phase, suite and shard is counted once, with a warning.

Hot path: junitparser parses each file (lxml-backed) and the cases are then read and moved as
lxml elements, not wrapped in junitparser objects: at 100,000 cases the wrappers cost more than
the parse itself.
"""

from __future__ import annotations

import heapq
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any, Literal

from junitparser import (
    JUnitXml,
    JUnitXmlError,
    Properties,
    Property,
    TestSuite,
)
from lxml import etree

from .. import E2EError
from ..masking import SECRETS
from ..masking import mask as _mask_all
from . import model as rowmodel  # every case, for the HTML report
from .model import CaseRecord, Counts, MergeResult, Outcome, SlowCase, SuiteRow, Verdict
from .render import write_outputs

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

PHASES = ("health", "smoke", "flows", "integrity", "resilience")
SUITES = ("backend", "frontend", "pipeline")
RERUN_SUFFIX = ".rerun.xml"
SLOWEST = 15
REPORT_CLASSNAME = "e2e_shared.report"
MERGED_PROPERTY = "e2e.merged"  # on every testsuite the merge writes: how a merged file is known
ROOT_NAME = "e2e"
HEADLINE_MAX = 500

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True, remove_pis=True
)
_CASE_ATTRS = frozenset({"name", "classname", "time"})
_RESULT_TAGS = frozenset({"failure", "error", "skipped"})
_OUTCOME = {"failure": "failed", "error": "error", "skipped": "skipped"}
# Surefire's order of a testcase's children; its schema is a sequence.
_CHILD_ORDER = {
    tag: i for i, tag in enumerate((
        "failure", "rerunFailure", "flakyFailure", "skipped", "error", "rerunError", "flakyError",
        "system-out", "system-err",
    ))
}
_SUREFIRE_TIME = re.compile(r"\d+(\.\d{1,3})?")  # what Surefire's schema takes
_SHARD = re.compile(r"shard(\w+)")
# pytest's crash location, ``path/test_x.py:12: AssertionError``; the last one is the crash (a
# failure bundle may follow it in the text).
_FILELOC_TYPE = re.compile(r"^\S[^\n]*?:\d+: ([A-Za-z_][\w.]*)[ \t]*$", re.MULTILINE)
_E_LINE_TYPE = re.compile(r"^E\s+([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failed|Timeout))"
                          r"(?::|\s*$)", re.MULTILINE)
# A headline that already starts with an exception class: ``AssertionError: ...``, ``Failed: ...``.
_TYPED_HEADLINE = re.compile(r"((?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*|\w*(?:Error|Exception)))(?::\s|\Z)")
_EXCEPTIONISH = re.compile(r"(Error|Exception|Exit|Interrupt|Failed|Timeout|Warning|Failure)\Z")
_STAGE_WRAPPER = re.compile(r'failed on (setup|teardown) with "(.*)"\Z', re.DOTALL)
_OWN_PROPERTIES = frozenset(
    {"phase", "suite", "shard", "flaky", "timestamp", "hostname", MERGED_PROPERTY}
)  # set by the merge itself
# pytest's junit_logging=all writes a header for every capture, empty or not.
_EMPTY_SECTION = re.compile(
    r"^-{3,} Captured [\w ]+ -{3,}\n(?:[ \t]*\n)*(?=-{3,} Captured |\Z)", re.MULTILINE
)
# Text none of whose words a masking rule looks for is left as it is (the merge's hot spot).
_MAYBE_SECRET = re.compile(r"(?i)authori|pass|secret|token|api_key|eyJ")
_ATTACHMENT_LINE = re.compile(r"\[\[ATTACHMENT\|([^\]\n]+)\]\]\n?")

Key = tuple[str, str]


class NoReportsError(E2EError):
    """No JUnit file to merge."""


@dataclass(frozen=True)
class ReportFile:
    """One input file and what its name says: ``<phase>-<suite>[-<shard>][.rerun].xml``."""

    path: Path
    phase: str
    suite: str
    shard: str
    rerun: bool
    conforms: bool = True

    @classmethod
    def from_path(cls, path: Path) -> ReportFile:
        name = path.name
        rerun = name.endswith(RERUN_SUFFIX)
        stem = name[: -len(RERUN_SUFFIX)] if rerun else name.removesuffix(".xml")
        phase, _, rest = stem.partition("-")
        suite, _, shard = rest.partition("-")
        match = _SHARD.fullmatch(shard)
        return cls(
            path=path,
            phase=phase or "unknown",
            suite=suite or "unknown",
            shard=match.group(1) if match else shard,
            rerun=rerun,
            conforms=bool(phase and suite),
        )

    @property
    def first_name(self) -> str:
        """The name of the first-attempt file this one belongs to."""
        return self.path.name.replace(RERUN_SUFFIX, ".xml") if self.rerun else self.path.name


class UnreadableReport(Exception):
    """An input file that is empty, not XML, or not JUnit."""


@dataclass
class _Parsed:
    """What a testcase element holds besides its name, once read."""

    outcome: Outcome
    result: etree._Element | None
    message: str
    type: str
    text: str
    properties: list[tuple[str, str]]
    stdout: str
    stderr: str
    attachments: list[str]


@dataclass
class _Attempt:
    """A rerun of one test."""

    element: etree._Element
    parsed: _Parsed
    time: float


@dataclass
class _Group:
    """The merged testsuite of one phase x suite while it is being built."""

    phase: str
    suite: str
    suite_xml: TestSuite
    properties_xml: Properties
    counts: Counts = field(default_factory=Counts)
    shards: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    properties: dict[tuple[str, str], None] = field(default_factory=dict)
    hostnames: list[str] = field(default_factory=list)
    intervals: list[tuple[float, float]] = field(default_factory=list)
    flaky_ids: list[str] = field(default_factory=list)
    # (shard, first, end) child positions of each input file's cases in the testsuite element
    spans: list[tuple[str, int, int]] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.phase}-{self.suite}"


class _Merger:
    def __init__(self, strict: bool, junit_dir: Path, out_dir: Path) -> None:
        self.strict = strict
        self.junit_dir = junit_dir.resolve()
        self.out_dir = out_dir.resolve()
        self.groups: dict[tuple[str, str], _Group] = {}
        self.failures: list[CaseRecord] = []
        self.flaky: list[CaseRecord] = []
        self.slow_heap: list[tuple[float, int, str, str, str, str]] = []
        self.cases: list[rowmodel.CaseRow] = []  # every case, for the HTML report
        self.warnings: list[str] = []
        self.missing_attachments: list[str] = []
        self._resolved: dict[tuple[Path, str], str] = {}

    # -- input -------------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)

    def group(self, rf: ReportFile) -> _Group:
        key = (rf.phase, rf.suite)
        group = self.groups.get(key)
        if group is None:
            suite_xml = TestSuite(f"{rf.phase}-{rf.suite}")
            properties_xml = Properties()
            suite_xml.append(properties_xml)  # the schema wants <properties> first
            group = self.groups[key] = _Group(rf.phase, rf.suite, suite_xml, properties_xml)
        if rf.shard and rf.shard not in group.shards:
            group.shards.append(rf.shard)
        return group

    def add_file(self, rf: ReportFile, rerun: ReportFile | None) -> None:
        try:
            xml: JUnitXml | None = load(rf.path)
        except UnreadableReport as exc:
            xml, why = None, str(exc)
        if xml is not None and is_merged(xml._elem, rf.path.name):
            self.warn(
                f"{self.shown(rf.path)}: left out, it is a merged report (property "
                f"{MERGED_PROPERTY}), not a suite's own JUnit file; counting it would count "
                "its tests twice"
            )
            return
        if not rf.conforms:
            self.warn(
                f"{rf.path.name}: name is not <phase>-<suite>.xml; merged as {rf.phase}-{rf.suite}"
            )
        group = self.group(rf)
        group.files.append(rf.path.name)
        first = len(group.suite_xml._elem)
        seen = self.seen_before(group, rf.shard)
        if xml is None:
            self.unreadable(group, rf, why)
        attempts: dict[Key, _Attempt] = {}
        if rerun is not None:
            group.files.append(rerun.path.name)
            try:
                attempts = self.read_attempts(rerun, group)
            except UnreadableReport as exc:
                self.unreadable(group, rerun, str(exc))
        if xml is not None:
            before = group.counts.tests
            dropped = 0
            for suite_el in xml._elem.iter("testsuite"):
                dropped += self.add_suite_element(group, rf, suite_el, attempts, seen)
            if dropped:
                self.warn(
                    f"{self.shown(rf.path)}: {dropped} test case(s) already merged from another "
                    f"file of {group.name}" + (f" shard {rf.shard}" if rf.shard else "")
                    + "; counted once"
                )
            elif group.counts.tests == before:
                self.warn(f"{rf.path.name}: contains no test cases")
                when = rf.path.stat().st_mtime
                group.intervals.append((when, when))  # still placed on the timeline
        for key, attempt in attempts.items():  # left over: reruns without a first attempt
            source = rerun.path.name if rerun is not None else rf.path.name
            self.warn(
                f"{source}: rerun of {_test_id(*key)} has no first attempt in {rf.path.name}; "
                "counted as the rerun ended"
            )
            self.add_case(group, rf, attempt.element, None, parsed=attempt.parsed)
        group.spans.append((rf.shard, first, len(group.suite_xml._elem)))

    @staticmethod
    def seen_before(group: _Group, shard: str) -> set[Key] | None:
        """The tests already merged from other files of this phase, suite and shard; None when
        there were none (the usual case, which then costs nothing per case)."""
        spans = [(a, b) for s, a, b in group.spans if s == shard]
        if not spans:
            return None
        children = group.suite_xml._elem
        return {
            (tc.get("classname", ""), tc.get("name", ""))
            for a, b in spans for tc in children[a:b]
        }

    def shown(self, path: Path) -> str:
        """A path as warnings show it: relative to the input folder."""
        try:
            return path.resolve().relative_to(self.junit_dir).as_posix()
        except ValueError:
            return str(path)

    def add_orphan_rerun(self, rerun: ReportFile) -> None:
        """A rerun file without its first-attempt file: its cases count as they ended."""
        self.warn(f"{rerun.path.name}: no {rerun.first_name} beside it; merged as a first attempt")
        self.add_file(
            ReportFile(rerun.path, rerun.phase, rerun.suite, rerun.shard, False, rerun.conforms),
            None,
        )

    def unreadable(self, group: _Group, rf: ReportFile, why: str) -> None:
        """Name the file in a warning and keep it visible in the merged file as an errored case."""
        message = f"{rf.path.name}: {why}; its results are missing from the report"
        self.warn(message)
        try:
            when = rf.path.stat().st_mtime
        except OSError:
            when = time.time()
        group.intervals.append((when, when))
        case = etree.Element("testcase", name=rf.path.name, classname=REPORT_CLASSNAME, time="0")
        etree.SubElement(case, "error", message=f"UnreadableReport: {message}",
                         type="UnreadableReport").text = f"{rf.path}: {why}"
        self.add_case(group, rf, case, None)

    def read_attempts(self, rf: ReportFile, group: _Group) -> dict[Key, _Attempt]:
        xml = load(rf.path)
        attempts: dict[Key, _Attempt] = {}
        for suite_el in xml._elem.iter("testsuite"):
            self.add_interval(group, rf, suite_el)
            for tc in suite_el.findall("testcase"):
                key = (tc.get("classname", ""), tc.get("name", ""))
                parsed = self.parse(tc, rf)
                attempts[key] = _Attempt(tc, parsed, _time(tc.get("time")))
        return attempts

    def add_interval(self, group: _Group, rf: ReportFile, suite_el: etree._Element) -> None:
        took = _time(suite_el.get("time"))
        start = _epoch(suite_el.get("timestamp"))
        if start is None:
            start = rf.path.stat().st_mtime - took
        group.intervals.append((start, start + took))
        host = suite_el.get("hostname")
        if host and host not in group.hostnames:
            group.hostnames.append(host)

    def add_suite_element(
        self,
        group: _Group,
        rf: ReportFile,
        suite_el: etree._Element,
        attempts: dict[Key, _Attempt],
        seen: set[Key] | None = None,
    ) -> int:
        """Move the cases of one testsuite element into the group; return how many were dropped
        as already merged."""
        self.add_interval(group, rf, suite_el)
        props = suite_el.find("properties")
        if props is not None:
            for prop in props.iter("property"):
                name, value = prop.get("name", ""), prop.get("value", prop.text or "")
                if name.strip():
                    group.properties[(name, value)] = None
                if name == "skipped" and not group.skip_reason:
                    group.skip_reason = value
        cases = suite_el.findall("testcase")
        keys = [(tc.get("classname", ""), tc.get("name", "")) for tc in cases]
        if len(set(keys)) < len(keys):
            cases = _fold_duplicates(cases, keys)

        # The hot loop: most cases passed and carry nothing but their three attributes.
        counts = group.counts
        append = group.suite_xml._elem.append
        heap = self.slow_heap
        dropped = 0
        for tc in cases:
            attrib = tc.attrib
            if seen is not None:  # another file of this shard came first: count each test once
                key = (attrib.get("classname", ""), attrib.get("name", ""))
                if key in seen:
                    dropped += 1
                    continue
                seen.add(key)
            if (
                len(tc) == 0
                and len(attrib) == 3
                and "time" in attrib
                and "name" in attrib
                and "classname" in attrib
                and not (attempts and (attrib["classname"], attrib["name"]) in attempts)
            ):
                raw = attrib["time"]
                took = _time(raw)
                if not _SUREFIRE_TIME.fullmatch(raw):
                    attrib["time"] = f"{took:.3f}"
                counts.tests += 1
                counts.passed += 1
                append(tc)
                self.cases.append(rowmodel.CaseRow(
                    group.phase, group.suite, attrib["classname"], attrib["name"], took, "passed"))
                if len(heap) < SLOWEST or took > heap[0][0]:
                    self.push_slow(group, took, attrib["classname"], attrib["name"])
                continue
            self.add_case(group, rf, tc, attempts)
        return dropped

    def push_slow(self, group: _Group, took: float, classname: str, name: str) -> None:
        entry = (took, len(self.slow_heap), group.phase, group.suite, classname, name)
        if len(self.slow_heap) < SLOWEST:
            heapq.heappush(self.slow_heap, entry)
        else:
            heapq.heappushpop(self.slow_heap, entry)

    def parse(self, tc: etree._Element, rf: ReportFile) -> _Parsed:
        """:func:`parse_case` with the attachment paths made relative to the output folder."""
        parsed = parse_case(tc)
        parsed.attachments = [self.attachment(rf.path, a) for a in parsed.attachments]
        return parsed

    def attachment(self, source: Path, raw: str) -> str:
        """``raw`` (as the test recorded it) as a path relative to the output folder.

        Where it was recorded, it was relative to the workspace root (``reports/artifacts/..``)
        or absolute on that machine. After a CI round trip the file sits under the artifact's
        folder (``reports/junit/<artifact>/artifacts/..``), so the part after ``reports/`` is
        looked for in every folder from the JUnit file's up to the input folder.
        """
        key = (source.parent, raw)
        if key in self._resolved:
            return self._resolved[key]
        path = PurePath(raw)
        parts = path.parts
        tail = None
        if "reports" in parts:
            index = len(parts) - 1 - parts[::-1].index("reports")
            tail = Path(*parts[index + 1:]) if index + 1 < len(parts) else None
        # A copy inside the reports first (the merged report travels as one folder), then the
        # path as it was recorded.
        candidates: list[Path] = []
        folder = source.parent.resolve()
        while True:
            if tail is not None:
                candidates.append(folder / tail)
            if not path.is_absolute():
                candidates.append(folder / raw)
            if folder == self.junit_dir or folder.parent == folder or not folder.is_relative_to(
                self.junit_dir
            ):
                break
            folder = folder.parent
        if tail is not None:
            candidates.append(self.out_dir / tail)
        candidates.append(Path(raw) if path.is_absolute() else Path.cwd() / raw)
        found = next((c for c in candidates if c.is_file()), None)
        if found is not None:
            rel = os.path.relpath(found.resolve(), self.out_dir)
        else:
            self.missing_attachments.append(raw)
            rel = str(tail) if tail is not None else raw
        rel = rel.replace(os.sep, "/")
        self._resolved[key] = rel
        return rel

    def add_case(
        self,
        group: _Group,
        rf: ReportFile,
        tc: etree._Element,
        attempts: dict[Key, _Attempt] | None,
        parsed: _Parsed | None = None,
    ) -> None:
        """Normalise one testcase element, resolve its rerun, count it and move it to the group."""
        for attr in [a for a in tc.attrib if a not in _CASE_ATTRS]:
            del tc.attrib[attr]
        classname, name = tc.get("classname", ""), tc.get("name", "")
        tc.set("classname", classname)
        tc.set("name", name)
        took = _time(tc.get("time"))
        if parsed is None:
            parsed = self.parse(tc, rf)
        first_try = rowmodel.attempt_from(parsed, took)  # before a rerun adds its attachments
        test = _test_id(classname, name)
        outcome = parsed.outcome
        flaky = False
        record_text = parsed.text
        stdout, stderr = parsed.stdout, parsed.stderr
        attachments = list(parsed.attachments)
        attempt = attempts.pop((classname, name), None) if attempts else None
        if attempt is not None:
            took += attempt.time
            again = attempt.parsed
            attachments += [a for a in again.attachments if a not in attachments]
            if outcome in ("failed", "error") and again.outcome == "passed":
                flaky = True
                group.flaky_ids.append(test)
                group.counts.flaky += 1
                if self.strict:
                    _append_text(parsed.result, "\n[flaky] passed on its rerun")
                else:
                    # Surefire: the passing case holds the first attempt as <flakyFailure>.
                    tc.remove(parsed.result)  # type: ignore[arg-type]
                    tag = "flakyFailure" if outcome == "failed" else "flakyError"
                    tc.append(_attempt_element(tag, parsed))
                    outcome = "passed"
                    stdout, stderr = again.stdout, again.stderr
            elif outcome in ("failed", "error"):
                tag = "rerunFailure" if again.outcome == "failed" else "rerunError"
                if again.outcome in ("failed", "error"):
                    tc.append(_attempt_element(tag, again))
                else:  # e.g. skipped on its rerun: say so in the text
                    _append_text(parsed.result, f"\n[rerun] second attempt {again.outcome}: "
                                                f"{again.message}")
            else:
                self.warn(f"{test} was rerun although its first attempt {outcome}")
        tc.set("time", f"{took:.3f}")

        # Per-test output in the testcase's own <system-out>/<system-err> (Surefire allows it):
        # properties and attachments first, as Jenkins' [[PROPERTY|..]]/[[ATTACHMENT|..]] lines.
        lines = [f"[[PROPERTY|{k}={v}]]" for k, v in parsed.properties]
        lines += [f"[[ATTACHMENT|{a}]]" for a in attachments]
        if stdout:
            lines.append(stdout)
        if lines:
            etree.SubElement(tc, "system-out").text = mask("\n".join(x.rstrip("\n") for x in lines)
                                                           + "\n")
        if stderr:
            etree.SubElement(tc, "system-err").text = mask(stderr)
        if len(tc) > 1:
            tc[:] = sorted(tc, key=lambda child: _CHILD_ORDER.get(child.tag, len(_CHILD_ORDER)))

        group.counts.add(outcome)
        rerun = rowmodel.attempt_from(attempt.parsed, attempt.time) if attempt is not None else None
        self.cases.append(rowmodel.case_row(
            group.phase, group.suite, classname, name, took, outcome, flaky, first_try, rerun))
        group.suite_xml._elem.append(tc)
        if len(self.slow_heap) < SLOWEST or took > self.slow_heap[0][0]:
            self.push_slow(group, took, classname, name)

        failed = outcome in ("failed", "error")
        if failed or flaky:
            record = CaseRecord(
                phase=group.phase,
                suite=group.suite,
                classname=classname,
                name=name,
                time=took,
                outcome=outcome,
                message=parsed.message,
                text=(parsed.result.text or "") if failed and parsed.result is not None
                else record_text,
                stdout=parsed.stdout,
                stderr=parsed.stderr,
                attachments=attachments,
                flaky=flaky,
                type=parsed.type,
            )
            if failed:
                self.failures.append(record)
            if flaky:
                self.flaky.append(record)

    # -- output ------------------------------------------------------------------------------

    def finish(self, phase_order: Sequence[str]) -> tuple[JUnitXml, list[SuiteRow]]:
        """Order the groups as they run, fill in each testsuite's attributes, build the rows."""
        root = JUnitXml(ROOT_NAME)
        rows: list[SuiteRow] = []
        merged_at = datetime.now(UTC).isoformat(timespec="seconds")
        for index, group in enumerate(sorted(self.groups.values(), key=_order(phase_order))):
            start = min((s for s, _ in group.intervals), default=None)
            end = max((e for _, e in group.intervals), default=None)
            duration = (end - start) if start is not None and end is not None else 0.0
            suite = group.suite_xml
            el = suite._elem
            c = group.counts
            # Only the attributes Surefire's schema declares; the rest become properties.
            for attr, value in (("tests", c.tests), ("failures", c.failed),
                                ("errors", c.errored), ("skipped", c.skipped)):
                el.set(attr, str(value))
            el.set("time", f"{duration:.3f}")
            # Properties.add_property, not TestSuite.add_property: that one searches all cases.
            props = [("phase", group.phase), ("suite", group.suite)]
            props += [("shard", shard) for shard in group.shards]
            if start is not None:
                props.append(("timestamp", iso_offset(start)))
            props += [("hostname", host) for host in group.hostnames]
            props += [p for p in group.properties if p[0] not in _OWN_PROPERTIES]
            props += [("flaky", test) for test in group.flaky_ids]
            props.append((MERGED_PROPERTY, merged_at))
            for name, value in props:
                group.properties_xml.add_property(Property(name, value))
            root.append(suite)
            rows.append(
                SuiteRow(
                    order=index,
                    phase=group.phase,
                    suite=group.suite,
                    start=start if start is not None else 0.0,
                    duration=duration,
                    counts=c,
                    shards=list(group.shards),
                    files=list(group.files),
                    skip_reason=group.skip_reason,
                )
            )
        return root, rows

    def slowest(self) -> list[SlowCase]:
        return [
            SlowCase(phase, suite, _test_id(classname, name), round(took, 3))
            for took, _, phase, suite, classname, name in sorted(self.slow_heap, reverse=True)
        ]


def mask(text: str) -> str:
    """:func:`e2e_shared.masking.mask`, skipped for text that holds nothing it would mask."""
    if not text or (not _MAYBE_SECRET.search(text) and not SECRETS.values()):
        return text
    return _mask_all(text)


def is_merged(root: etree._Element, name: str = "") -> bool:
    """Whether a parsed JUnit file is a merge's output: its testsuites carry ``e2e.merged``, or
    (written before that property existed) it is a ``junit.xml`` whose testsuites name a phase."""
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    marker = MERGED_PROPERTY if name != "junit.xml" else "phase"
    return any(s.find(f"properties/property[@name='{marker}']") is not None for s in suites)


def iso_offset(epoch: float) -> str:
    """Seconds since the epoch as ISO 8601 in UTC with its offset: ``2025-01-06T09:00:00+00:00``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _attempt_element(tag: str, parsed: _Parsed) -> etree._Element:
    """A Surefire ``<flakyFailure>``/``<rerunFailure>``/...: message, type, stack trace, output."""
    el = etree.Element(tag, message=parsed.message, type=parsed.type or "failure")
    etree.SubElement(el, "stackTrace").text = mask(parsed.text)
    out = "".join(f"[[ATTACHMENT|{a}]]\n" for a in parsed.attachments) + parsed.stdout
    if out:
        etree.SubElement(el, "system-out").text = mask(out)
    if parsed.stderr:
        etree.SubElement(el, "system-err").text = mask(parsed.stderr)
    return el


def load(path: Path) -> JUnitXml:
    """Parse one JUnit file with junitparser (lxml underneath, entities off); raise if unusable."""
    try:
        if path.stat().st_size == 0:
            raise UnreadableReport("is empty (0 bytes)")
        return JUnitXml.fromfile(str(path), parse_func=lambda p: etree.parse(p, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise UnreadableReport(f"is not well-formed XML ({exc})") from None
    except JUnitXmlError:
        raise UnreadableReport("has no <testsuites> or <testsuite> root element") from None
    except OSError as exc:
        raise UnreadableReport(f"cannot be read ({exc.strerror or exc})") from None


def parse_case(tc: etree._Element) -> _Parsed:
    """Read a testcase's children and leave it holding at most one normalised result element.

    Properties, output and earlier rerun elements are taken out (the merge writes them back in
    Surefire's shape); attachments are collected from ``attachment*`` properties and from
    ``[[ATTACHMENT|path]]`` lines of the output, paths as recorded.
    """
    results: list[etree._Element] = []
    properties: list[tuple[str, str]] = []
    attachments: list[str] = []
    out: list[str] = []
    err: list[str] = []
    notes: list[str] = []
    for child in list(tc):
        tag = child.tag
        if tag in _RESULT_TAGS:
            results.append(child)
            continue
        tc.remove(child)
        if tag == "properties":
            for prop in child.iter("property"):
                name, value = prop.get("name", ""), prop.get("value", prop.text or "")
                if name.lower().startswith("attachment"):
                    if value not in attachments:
                        attachments.append(value)
                else:
                    properties.append((name, value))
        elif tag == "system-out":
            out.append(child.text or "")
        elif tag == "system-err":
            err.append(child.text or "")
        else:  # e.g. another tool's <rerunFailure>/<flakyFailure>: keep what they say
            notes.append(f"[{tag}] {child.get('message', '')}\n{''.join(child.itertext())}")
    stdout, stderr = _drop_empty_sections("".join(out)), _drop_empty_sections("".join(err))
    if "[[ATTACHMENT|" in stdout or "[[ATTACHMENT|" in stderr:
        for text in (stdout, stderr):
            attachments.extend(a for a in _ATTACHMENT_LINE.findall(text) if a not in attachments)
        # written back once, as the merge's own lines
        stdout = _drop_empty_sections(_ATTACHMENT_LINE.sub("", stdout))
        stderr = _drop_empty_sections(_ATTACHMENT_LINE.sub("", stderr))

    # Failures and errors outrank a skip; the first of them is the case's result.
    results.sort(key=lambda r: r.tag == "skipped")
    primary = results[0] if results else None
    for extra in results[1:]:
        tc.remove(extra)
        notes.append(f"[also {extra.tag}] {extra.get('message', '')}\n{extra.text or ''}")
    if primary is None:
        return _Parsed("passed", None, "", "", "", properties, stdout, stderr, attachments)
    if len(primary):  # the schema wants text only inside a result
        flat = "".join(primary.itertext())
        for sub in list(primary):
            primary.remove(sub)
        primary.text = flat
    text = primary.text or ""
    if primary.tag == "skipped":
        message, kind = primary.get("message", ""), ""
        for attr in [a for a in primary.attrib if a != "message"]:
            del primary.attrib[attr]  # Surefire's <skipped> has a message only
    else:
        message, kind, text = headline(
            primary.get("message", ""), text, primary.get("type", ""), primary.tag
        )
        primary.attrib.clear()
        primary.set("message", message)
        primary.set("type", kind)
    if notes:
        text = text + "\n" + "\n".join(notes)
    primary.text = mask(text) if text else None
    outcome: Outcome = _OUTCOME[primary.tag]  # type: ignore[assignment]
    return _Parsed(
        outcome, primary, message, kind, primary.text or "", properties, stdout, stderr,
        attachments,
    )


def headline(message: str, text: str, given_type: str = "", tag: str = "failure"
             ) -> tuple[str, str, str]:
    """A failure's ``(message, type, text)`` as CI readers show them.

    ``message`` becomes the exception's type and the first line of its message
    (``AssertionError: expected 200, got 503``); ``type`` the exception's class, from the
    message, the ``type`` attribute, pytest's ``file.py:12: AssertionError`` last line or its
    ``E   SomeError:`` lines; pytest's ``failed on setup with "..."`` wrapper moves to the text.
    """
    message = message.strip()
    wrapper = _STAGE_WRAPPER.fullmatch(message)
    if wrapper:
        stage, message = wrapper.groups()
        text = f"failed on {stage}\n{text}"
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    given = given_type.strip() if given_type.strip() not in ("", tag) else ""
    located = _FILELOC_TYPE.findall(text)
    found = located[-1] if located else next(iter(_E_LINE_TYPE.findall(text)), "")
    other = given or found
    typed = _TYPED_HEADLINE.match(first)
    prefix = typed.group(1) if typed else ""
    if prefix and not (
        _EXCEPTIONISH.search(prefix) or prefix.rsplit(".", 1)[-1] == other.rsplit(".", 1)[-1]
    ):
        prefix = ""  # "Locator: ..." or "DB: down" is a sentence, not a class
    # A writer's own type stays as it is (the runner's ``e2e.timeout``); an exception's class is
    # shown by its name (``TimeoutError``, not ``playwright._impl._errors.TimeoutError``).
    kind = given or (prefix or other or tag).rsplit(".", 1)[-1]
    is_class = kind != tag and kind.rsplit(".", 1)[-1][:1].isupper()
    if not prefix and is_class:
        first = f"{kind.rsplit('.', 1)[-1]}: {first}" if first else kind
    elif not first:
        first = kind
    if len(first) > HEADLINE_MAX:
        first = first[: HEADLINE_MAX - 1] + "…"
    return mask(first), kind, text


def _fold_duplicates(cases: list[etree._Element], keys: list[Key]) -> list[etree._Element]:
    """pytest writes a teardown error as a second testcase of the same name: fold it into one."""
    first: dict[Key, etree._Element] = {}
    kept: list[etree._Element] = []
    for tc, key in zip(cases, keys, strict=True):
        original = first.get(key)
        if original is None:
            first[key] = tc
            kept.append(tc)
            continue
        for child in list(tc):
            original.append(child)
        original.set("time", f"{_time(original.get('time')) + _time(tc.get('time')):.3f}")
        parent = tc.getparent()
        if parent is not None:
            parent.remove(tc)
    return kept


def find_reports(junit_dir: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Every ``*.xml`` under ``junit_dir`` (CI artifacts may sit in sub-folders), sorted."""
    skip = {p.resolve() for p in exclude}
    return sorted(p for p in junit_dir.rglob("*.xml") if p.is_file() and p.resolve() not in skip)


def merge(
    junit_dir: str | Path = "reports/junit",
    out_dir: str | Path = "reports",
    strict: bool = False,
    *,
    phase_order: Sequence[str] = PHASES,
    step_summary: str | Path | None | Literal["env"] = "env",
    only: Iterable[str] | None = None,
    interrupted: bool = False,
    resources: Path | None | Literal["auto"] = "auto",
) -> MergeResult:
    """Merge every JUnit file under ``junit_dir`` and write the reports into ``out_dir``.

    Writes ``junit.xml``, ``summary.json``, ``summary.md`` and ``index.html``; appends the
    markdown to ``step_summary`` (by default the file named by ``$GITHUB_STEP_SUMMARY``, if set).
    A bad input file is named in ``warnings`` and never keeps the others out. With ``only`` (file
    names), other files are left out, each named in a warning: an e2e run merges its own reports,
    not those of a ``nox -s <suite>`` run that wrote beside them meanwhile. ``resources`` is the
    resource watch's samples file (``auto``: ``out_dir/resources.jsonl`` when a merged file
    carries its run id; None: no resources section). Raises :class:`NoReportsError` when there
    is nothing to merge.
    """
    junit_dir, out_dir = Path(junit_dir), Path(out_dir)
    paths = find_reports(junit_dir, exclude=[out_dir / "junit.xml"]) if junit_dir.is_dir() else []
    foreign: list[Path] = []
    if only is not None:
        wanted = set(only)
        foreign = [p for p in paths if p.name not in wanted]
        paths = [p for p in paths if p.name in wanted]
    if not paths:
        raise NoReportsError(
            f"no JUnit files in {junit_dir}",
            "run the suites first, e.g. `invoke e2e.all` or `nox -s backend`",
        )
    merger = _Merger(strict, junit_dir, out_dir)
    for path in foreign:
        merger.warn(f"{path.name}: left out, not written by this run")
    files = [ReportFile.from_path(p) for p in paths]
    reruns = {rf.path.with_name(rf.first_name): rf for rf in files if rf.rerun}
    for rf in files:
        if not rf.rerun:
            merger.add_file(rf, reruns.pop(rf.path, None))
    for rerun in reruns.values():
        merger.add_orphan_rerun(rerun)

    if merger.missing_attachments:
        missing = merger.missing_attachments
        merger.warn(
            f"{len(missing)} attachment(s) not found, their links are dead (e.g. {missing[0]}); "
            "in CI, upload reports/artifacts/ with the JUnit files"
        )
    root, rows = merger.finish(phase_order)
    totals = Counts()
    for row in rows:
        totals += row.counts
    starts = [row.start for row in rows]
    ends = [row.start + row.duration for row in rows]
    verdict: Verdict = "pass"
    if totals.failed or totals.errored:
        verdict = "fail"
    if totals.tests == 0:
        merger.warn("no test cases in any report")
        verdict = "fail"
    if interrupted:
        verdict = "interrupted"
    result = MergeResult(
        verdict=verdict,
        strict=strict,
        totals=totals,
        duration=(max(ends) - min(starts)) if rows else 0.0,
        started=min(starts) if rows else None,
        rows=rows,
        failures=merger.failures,
        flaky=merger.flaky,
        slowest=merger.slowest(),
        warnings=merger.warnings,
        cases=merger.cases,
    )
    # The root carries the run's totals for readers that show only the root (and for people).
    root_el = root._elem
    for attr, value in (("tests", totals.tests), ("failures", totals.failed),
                        ("errors", totals.errored), ("skipped", totals.skipped)):
        root_el.set(attr, str(value))
    root_el.set("time", f"{result.duration:.3f}")
    if result.started is not None:
        root_el.set("timestamp", iso_offset(result.started))
    result.resources = _resources(resources, out_dir, paths)
    if step_summary == "env":
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY") or None
    write_outputs(result, root, out_dir, step_summary=Path(step_summary) if step_summary else None)
    return result


def _resources(resources: Path | None | Literal["auto"], out_dir: Path, paths: list[Path]
               ) -> dict[str, Any] | None:
    """The resources section: from the file given, or (auto) from the watch's file beside the
    reports when it belongs to one of the merged runs (a CI merge job has none)."""
    from ..jobreport import run_id_of
    from ..resources import SAMPLES_FILE, summarize

    if resources is None:
        return None
    if resources == "auto":
        return summarize(out_dir / SAMPLES_FILE, (run_id_of(p) for p in paths))
    return summarize(Path(resources))


def _order(phase_order: Sequence[str]) -> Callable[[_Group], tuple[int, str, int, str]]:
    def key(group: _Group) -> tuple[int, str, int, str]:
        p = phase_order.index(group.phase) if group.phase in phase_order else len(phase_order)
        s = SUITES.index(group.suite) if group.suite in SUITES else len(SUITES)
        return (p, group.phase, s, group.suite)

    return key


def _test_id(classname: str, name: str) -> str:
    return f"{classname}::{name}" if classname else name


def _drop_empty_sections(text: str) -> str:
    if "Captured" in text:
        text = _EMPTY_SECTION.sub("", text)
    return text if text.strip() else ""


def _append_text(result: etree._Element | None, text: str) -> None:
    if result is not None:
        result.text = (result.text or "") + text


def _time(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        took = float(raw.replace(",", ""))
    except ValueError:
        return 0.0
    return took if took == took and took >= 0 else 0.0  # NaN and negatives count as 0


def _epoch(raw: str | None) -> float | None:
    """pytest's ``2024-05-01T12:00:00.123456+00:00`` (or a naive local time) as epoch seconds."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        return None
