"""Merge the suites' JUnit files into one file valid against the Ant JUnit schema.

Input: ``<phase>-<suite>[-<shard>].xml`` as written by pytest ``--junitxml``, and for each the
optional ``<phase>-<suite>[-<shard>].rerun.xml`` of its one rerun of failed tests.

The Ant schema (``shared/tests/schemas/JUnit.xsd``) is stricter than what pytest writes, so each
case is normalised on the way through:

- a ``<testcase>`` holds at most one of ``<failure>``, ``<error>``, ``<skipped>`` and nothing else;
  pytest's second entry for a teardown error is folded into the first, the extra result noted in
  its text; ``<failure>``/``<error>`` get the ``type`` pytest leaves out;
- testcase ``<properties>``, ``<system-out>`` and ``<system-err>`` are not allowed, so they move to
  the testsuite's ``<system-out>``/``<system-err>`` under a ``===== classname::name =====`` header:
  properties as ``[[PROPERTY|name=value]]``, attachments as ``[[ATTACHMENT|path]]`` (the Jenkins
  convention), then the captured output of cases that did not pass;
- a flaky case (failed, then passed on its rerun) passes, is listed as a testsuite property
  ``flaky`` = ``classname::name``, and its first failure goes to the testsuite's ``<system-err>``
  after a ``[flaky] first attempt failed:`` line. With ``strict`` it keeps its failure instead.

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
from datetime import datetime
from pathlib import Path
from typing import Literal

from junitparser import (
    JUnitXml,
    JUnitXmlError,
    Properties,
    Property,
    SystemErr,
    SystemOut,
    TestSuite,
)
from lxml import etree

from .. import E2EError
from . import model as rowmodel  # every case, for the HTML report
from .model import CaseRecord, Counts, MergeResult, Outcome, SlowCase, SuiteRow, Verdict, iso_utc
from .render import write_outputs

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

PHASES = ("health", "smoke", "flows", "integrity", "resilience")
SUITES = ("backend", "frontend", "pipeline")
RERUN_SUFFIX = ".rerun.xml"
SLOWEST = 15
REPORT_CLASSNAME = "e2e_shared.report"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True, remove_pis=True
)
_CASE_ATTRS = frozenset({"name", "classname", "time"})
_RESULT_TAGS = frozenset({"failure", "error", "skipped"})
_OUTCOME = {"failure": "failed", "error": "error", "skipped": "skipped"}
_DECIMAL = re.compile(r"-?\d+(\.\d*)?")
_SHARD = re.compile(r"shard(\w+)")
_LAST_LINE_TYPE = re.compile(r":\d+: ([A-Za-z_][\w.]*)\s*\Z")
_MESSAGE_TYPE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failed|Timeout)):")
_OWN_PROPERTIES = frozenset({"phase", "suite", "shard", "flaky"})  # set by the merge itself
# pytest's junit_logging=all writes a header for every capture, empty or not.
_EMPTY_SECTION = re.compile(
    r"^-{3,} Captured [\w ]+ -{3,}\n(?:[ \t]*\n)*(?=-{3,} Captured |\Z)", re.MULTILINE
)
_ATTACHMENT_LINE = re.compile(r"\[\[ATTACHMENT\|([^\]\n]+)\]\]")

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
    out_blocks: list[str] = field(default_factory=list)
    err_blocks: list[str] = field(default_factory=list)
    flaky_ids: list[str] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.phase}-{self.suite}"


class _Merger:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.groups: dict[tuple[str, str], _Group] = {}
        self.failures: list[CaseRecord] = []
        self.flaky: list[CaseRecord] = []
        self.slow_heap: list[tuple[float, int, str, str, str, str]] = []
        self.cases: list[rowmodel.CaseRow] = []  # every case, for the HTML report
        self.warnings: list[str] = []

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
        group = self.group(rf)
        group.files.append(rf.path.name)
        attempts: dict[Key, _Attempt] = {}
        if rerun is not None:
            group.files.append(rerun.path.name)
            try:
                attempts = self.read_attempts(rerun, group)
            except UnreadableReport as exc:
                self.unreadable(group, rerun, str(exc))
        try:
            xml = load(rf.path)
        except UnreadableReport as exc:
            self.unreadable(group, rf, str(exc))
            xml = None
        if xml is not None:
            before = group.counts.tests
            for suite_el in xml._elem.iter("testsuite"):
                self.add_suite_element(group, rf, suite_el, attempts)
            if group.counts.tests == before:
                self.warn(f"{rf.path.name}: contains no test cases")
                when = rf.path.stat().st_mtime
                group.intervals.append((when, when))  # still placed on the timeline
        for key, attempt in attempts.items():  # left over: reruns without a first attempt
            source = rerun.path.name if rerun is not None else rf.path.name
            self.warn(
                f"{source}: rerun of {_test_id(*key)} has no first attempt in {rf.path.name}; "
                "counted as the rerun ended"
            )
            self.add_case(group, attempt.element, None)

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
        etree.SubElement(case, "error", message=message, type="UnreadableReport").text = (
            f"{rf.path}: {why}"
        )
        self.add_case(group, case, None)

    def read_attempts(self, rf: ReportFile, group: _Group) -> dict[Key, _Attempt]:
        xml = load(rf.path)
        attempts: dict[Key, _Attempt] = {}
        for suite_el in xml._elem.iter("testsuite"):
            self.add_interval(group, rf, suite_el)
            for tc in suite_el.findall("testcase"):
                key = (tc.get("classname", ""), tc.get("name", ""))
                attempts[key] = _Attempt(tc, parse_case(tc), _time(tc.get("time")))
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
        self, group: _Group, rf: ReportFile, suite_el: etree._Element, attempts: dict[Key, _Attempt]
    ) -> None:
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
        for tc in cases:
            attrib = tc.attrib
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
                if not _DECIMAL.fullmatch(raw):
                    attrib["time"] = f"{took:.3f}"
                counts.tests += 1
                counts.passed += 1
                append(tc)
                self.cases.append(rowmodel.CaseRow(
                    group.phase, group.suite, attrib["classname"], attrib["name"], took, "passed"))
                if len(heap) < SLOWEST or took > heap[0][0]:
                    self.push_slow(group, took, attrib["classname"], attrib["name"])
                continue
            self.add_case(group, tc, attempts)

    def push_slow(self, group: _Group, took: float, classname: str, name: str) -> None:
        entry = (took, len(self.slow_heap), group.phase, group.suite, classname, name)
        if len(self.slow_heap) < SLOWEST:
            heapq.heappush(self.slow_heap, entry)
        else:
            heapq.heappushpop(self.slow_heap, entry)

    def add_case(
        self, group: _Group, tc: etree._Element, attempts: dict[Key, _Attempt] | None
    ) -> None:
        """Normalise one testcase element, resolve its rerun, count it and move it to the group."""
        for attr in [a for a in tc.attrib if a not in _CASE_ATTRS]:
            del tc.attrib[attr]
        classname, name = tc.get("classname", ""), tc.get("name", "")
        tc.set("classname", classname)
        tc.set("name", name)
        took = _time(tc.get("time"))
        parsed = parse_case(tc)
        first_try = rowmodel.attempt_from(parsed, took)  # before a rerun adds its attachments
        test = _test_id(classname, name)
        outcome = parsed.outcome
        flaky = False
        attempt = attempts.pop((classname, name), None) if attempts else None
        if attempt is not None:
            took += attempt.time
            again = attempt.parsed
            if outcome in ("failed", "error") and again.outcome == "passed":
                flaky = True
                group.flaky_ids.append(test)
                group.counts.flaky += 1
                if self.strict:
                    _append_text(parsed.result, "\n[flaky] passed on its rerun")
                else:
                    tc.remove(parsed.result)  # type: ignore[arg-type]
                    outcome = "passed"
                    first = f"[flaky] first attempt failed: {parsed.message}"
                    group.err_blocks.append(_block(test, first, parsed.text, parsed.stderr))
            elif outcome in ("failed", "error"):
                _append_text(
                    parsed.result,
                    f"\n[rerun] second attempt {again.outcome}: {again.message}\n{again.text}",
                )
            else:
                self.warn(f"{test} was rerun although its first attempt {outcome}")
            parsed.attachments.extend(
                a for a in again.attachments if a not in parsed.attachments
            )
        tc.set("time", f"{took:.3f}")
        group.counts.add(outcome)
        rerun = rowmodel.attempt_from(attempt.parsed, attempt.time) if attempt is not None else None
        self.cases.append(rowmodel.case_row(
            group.phase, group.suite, classname, name, took, outcome, flaky, first_try, rerun))
        group.suite_xml._elem.append(tc)
        if len(self.slow_heap) < SLOWEST or took > self.slow_heap[0][0]:
            self.push_slow(group, took, classname, name)

        # What the schema does not allow inside <testcase> goes to the testsuite's output.
        failed = outcome in ("failed", "error")
        stdout = parsed.stdout if failed or flaky else ""
        lines = [f"[[PROPERTY|{k}={v}]]" for k, v in parsed.properties]
        lines += [
            line for line in (f"[[ATTACHMENT|{a}]]" for a in parsed.attachments)
            if line not in stdout
        ]
        if stdout:
            lines.append(stdout)
        if lines:
            group.out_blocks.append(_block(test, *lines))
        if failed and parsed.stderr:
            group.err_blocks.append(_block(test, parsed.stderr))
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
                else parsed.text,
                stdout=parsed.stdout,
                stderr=parsed.stderr,
                attachments=list(parsed.attachments),
                flaky=flaky,
            )
            if failed:
                self.failures.append(record)
            if flaky:
                self.flaky.append(record)

    # -- output ------------------------------------------------------------------------------

    def finish(self, phase_order: Sequence[str]) -> tuple[JUnitXml, list[SuiteRow]]:
        """Order the groups as they run, fill in each testsuite's attributes, build the rows."""
        root = JUnitXml()
        rows: list[SuiteRow] = []
        for index, group in enumerate(sorted(self.groups.values(), key=_order(phase_order))):
            start = min((s for s, _ in group.intervals), default=None)
            end = max((e for _, e in group.intervals), default=None)
            duration = (end - start) if start is not None and end is not None else 0.0
            suite = group.suite_xml
            el = suite._elem
            suite.timestamp = iso_utc(start if start is not None else 0.0)
            suite.hostname = " ".join(group.hostnames) or "localhost"
            c = group.counts
            suite.tests, suite.failures, suite.errors, suite.skipped = (
                c.tests, c.failed, c.errored, c.skipped,
            )
            el.set("time", f"{duration:.3f}")
            el.set("package", group.name)
            el.set("id", str(index))
            # Properties.add_property, not TestSuite.add_property: that one searches all cases.
            props = [("phase", group.phase), ("suite", group.suite)]
            props += [("shard", shard) for shard in group.shards]
            props += [p for p in group.properties if p[0] not in _OWN_PROPERTIES]
            props += [("flaky", test) for test in group.flaky_ids]
            for name, value in props:
                group.properties_xml.add_property(Property(name, value))
            suite.append(SystemOut("".join(group.out_blocks) or None))
            suite.append(SystemErr("".join(group.err_blocks) or None))
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
    """Read a testcase's children and leave it holding at most one schema-valid result element."""
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
                    attachments.append(value)
                else:
                    properties.append((name, value))
        elif tag == "system-out":
            out.append(child.text or "")
        elif tag == "system-err":
            err.append(child.text or "")
        else:  # e.g. surefire's <rerunFailure>/<flakyFailure>: keep what they say
            notes.append(f"[{tag}] {child.get('message', '')}\n{''.join(child.itertext())}")
    stdout, stderr = _drop_empty_sections("".join(out)), _drop_empty_sections("".join(err))
    for text in (stdout, stderr):
        if "[[ATTACHMENT|" in text:
            attachments.extend(a for a in _ATTACHMENT_LINE.findall(text) if a not in attachments)

    # Failures and errors outrank a skip; the first of them is the case's result.
    results.sort(key=lambda r: r.tag == "skipped")
    primary = results[0] if results else None
    for extra in results[1:]:
        tc.remove(extra)
        notes.append(f"[also {extra.tag}] {extra.get('message', '')}\n{extra.text or ''}")
    if primary is None:
        return _Parsed("passed", None, "", "", properties, stdout, stderr, attachments)
    if len(primary):  # the schema wants text only inside a result
        flat = "".join(primary.itertext())
        for sub in list(primary):
            primary.remove(sub)
        primary.text = flat
    message = primary.get("message", "")
    if primary.tag != "skipped":
        for attr in [a for a in primary.attrib if a not in ("message", "type")]:
            del primary.attrib[attr]
        if not primary.get("type"):
            primary.set("type", _infer_type(primary.tag, message, primary.text or ""))
    if notes:
        _append_text(primary, "\n" + "\n".join(notes))
    outcome: Outcome = _OUTCOME[primary.tag]  # type: ignore[assignment]
    return _Parsed(
        outcome, primary, message, primary.text or "", properties, stdout, stderr, attachments
    )


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
) -> MergeResult:
    """Merge every JUnit file under ``junit_dir`` and write the reports into ``out_dir``.

    Writes ``junit.xml``, ``summary.json``, ``summary.md`` and ``index.html``; appends the
    markdown to ``step_summary`` (by default the file named by ``$GITHUB_STEP_SUMMARY``, if set).
    A bad input file is named in ``warnings`` and never keeps the others out. With ``only`` (file
    names), other files are left out, each named in a warning: an e2e run merges its own reports,
    not those of a ``nox -s <suite>`` run that wrote beside them meanwhile. Raises
    :class:`NoReportsError` when there is nothing to merge.
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
    merger = _Merger(strict)
    for path in foreign:
        merger.warn(f"{path.name}: left out, not written by this run")
    files = [ReportFile.from_path(p) for p in paths]
    for rf in files:
        if not rf.conforms:
            merger.warn(
                f"{rf.path.name}: name is not <phase>-<suite>.xml; merged as {rf.phase}-{rf.suite}"
            )
    reruns = {rf.path.with_name(rf.first_name): rf for rf in files if rf.rerun}
    for rf in files:
        if not rf.rerun:
            merger.add_file(rf, reruns.pop(rf.path, None))
    for rerun in reruns.values():
        merger.add_orphan_rerun(rerun)

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
    if step_summary == "env":
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY") or None
    write_outputs(result, root, out_dir, step_summary=Path(step_summary) if step_summary else None)
    return result


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


def _block(test: str, *parts: str) -> str:
    body = "\n".join(p.rstrip("\n") for p in parts if p)
    return f"===== {test} =====\n{body}\n"


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


def _infer_type(tag: str, message: str, text: str) -> str:
    """The exception type pytest leaves out: from ``file.py:12: AssertionError``, or the message."""
    match = _LAST_LINE_TYPE.search(text) or _MESSAGE_TYPE.match(message)
    return match.group(1) if match else tag
