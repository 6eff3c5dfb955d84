"""The CI round trip: suite jobs on other machines, each artifact downloaded into a folder of its
own, then one merge. It must count every test once and keep every link working.

The layout is what ``actions/download-artifact`` (v4, ``pattern:`` without ``merge-multiple``)
makes of the workflow's uploads (``reports/junit/`` and ``reports/artifacts/`` of each job):
``reports/junit/reports-<suite>-<shard>/{junit,artifacts}/...``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from junitparser import JUnitXml
from lxml import etree
from surefire_rules import surefire_errors

from e2e_shared.report import merge, summary_line

ROOT = Path(__file__).resolve().parents[2]
JOB_ROOT = "/home/runner/work/e2e/e2e"  # where the suite jobs ran: absolute paths from there
RUN = "20250106T090000-ab12"
SUITES = ("backend", "frontend")
SHARDS = (1, 2)
PHASES = ("smoke", "flows")


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _case(suite_el: etree._Element, suite: str, phase: str, name: str, **kind: str) -> None:
    case = etree.SubElement(suite_el, "testcase", classname=f"{suite}_e2e.{phase}.test_x",
                            name=name, time="0.250")
    attachments = kind.get("attachments", "").split()
    if attachments:
        props = etree.SubElement(case, "properties")
        for path in attachments:
            etree.SubElement(props, "property", name="attachment", value=path)
    if kind.get("fails"):
        el = etree.SubElement(case, "failure", message=kind["fails"])
        el.text = f"E   {kind['fails']}\n\n{suite}_e2e/{phase}/test_x.py:9: AssertionError"
        etree.SubElement(case, "system-out").text = f"output of {name}\n"


def _job_reports(base: Path, suite: str, shard: int) -> list[Path]:
    """One suite job's ``reports/``: its JUnit files per phase, a rerun, and the failure artifacts
    they link to, recorded as the plugin and the browser suite record them on that machine."""
    written = []
    for phase in PHASES:
        root = etree.Element("testsuites", name="pytest tests")
        suite_el = etree.SubElement(root, "testsuite", name="pytest", tests="0", errors="0",
                                    failures="0", skipped="0", time="5.000",
                                    timestamp=f"2025-01-06T09:0{PHASES.index(phase)}:00+00:00",
                                    hostname=f"runner-{suite}-{shard}")
        for k in range(5):
            _case(suite_el, suite, phase, f"test_{phase}_{shard}_{k}")
        stem = f"{phase}-{suite}-shard{shard}"
        if phase == "flows" and shard == 1:  # fails twice, and a flaky one
            for name, rerun_fails in ((f"test_{stem}_fails", True), (f"test_{stem}_flaky", False)):
                if suite == "backend":
                    bundle = f"artifacts/{RUN}/{name}.call.bundle.txt"
                    attachment = f"{JOB_ROOT}/reports/{bundle}"  # the plugin: absolute
                else:
                    bundle = f"artifacts/frontend/{RUN}/{name}/trace.zip"
                    attachment = f"reports/{bundle}"  # the browser suite: relative to its root
                (base / bundle).parent.mkdir(parents=True, exist_ok=True)
                (base / bundle).write_text("evidence\n")
                _case(suite_el, suite, phase, name, fails="AssertionError: expected 200, got 503",
                      attachments=attachment)
                rerun_root = etree.Element("testsuites")
                rerun_el = etree.SubElement(rerun_root, "testsuite", name="pytest", tests="1",
                                            errors="0", failures="0", skipped="0", time="1")
                _case(rerun_el, suite, phase, name,
                      **({"fails": "AssertionError: expected 200, got 502"} if rerun_fails else {}))
                rerun_path = base / "junit" / f"{stem}.rerun.xml"
                if rerun_path.exists():  # both reruns in one file
                    existing = etree.parse(str(rerun_path)).getroot()
                    existing[0].append(rerun_el[0])
                    rerun_root = existing
                rerun_path.parent.mkdir(parents=True, exist_ok=True)
                rerun_path.write_bytes(etree.tostring(rerun_root))
        path = base / "junit" / f"{stem}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(etree.tostring(root))
        written.append(path)
    return written


def _links(out: Path) -> list[str]:
    xml = (out / "junit.xml").read_text(encoding="utf-8")
    page = (out / "index.html").read_text(encoding="utf-8")
    hrefs = [unquote(h) for h in re.findall(r"href='([^'#][^']*)'", page)]
    return re.findall(r"\[\[ATTACHMENT\|([^\]]+)\]\]", xml) + hrefs


def test_ci_download_layout_merges_to_the_single_run_totals_with_working_links(
    tmp_path: Path,
) -> None:
    # The reference: every job's files in one machine's reports/, merged there.
    local = tmp_path / "local" / "reports"
    for suite in SUITES:
        for shard in SHARDS:
            _job_reports(local, suite, shard)
    single = merge(local / "junit", local, step_summary=None)

    # CI: each job's reports/ (its own merge included, as the old workflow uploaded it) in an
    # artifact of its own, downloaded into reports/junit/<artifact>/.
    reports = tmp_path / "ci" / "reports"
    for suite in SUITES:
        for shard in SHARDS:
            job = tmp_path / "jobs" / f"{suite}-{shard}" / "reports"
            _job_reports(job, suite, shard)
            merge(job / "junit", job, step_summary=None)  # the job's own e2e run merges too
            shutil.copytree(job, reports / "junit" / f"reports-{suite}-{shard}")
    ci = merge(reports / "junit", reports, step_summary=None)

    assert ci.totals == single.totals
    t = ci.totals
    assert (t.tests, t.passed, t.failed, t.flaky) == (2 * 2 * 2 * 5 + 2 * 2, 40 + 2, 2, 2)
    assert summary_line(ci).split(" in ")[0] == summary_line(single).split(" in ")[0]
    left_out = [w for w in ci.warnings if "it is a merged report" in w]
    assert len(left_out) == 4 and all("/junit.xml: left out" in w for w in left_out)
    assert [w for w in ci.warnings if w not in left_out] == []

    # Every link in junit.xml and index.html resolves to a file, relative to reports/.
    links = _links(reports)
    assert len([x for x in links if "artifacts/" in x]) >= 4
    for link in links:
        assert (reports / link).is_file(), link
    bundles = [x for x in links if x.endswith(".bundle.txt")]
    assert bundles and all(x.startswith("junit/reports-backend-1/artifacts/") for x in bundles)
    for link in _links(local):
        assert (local / link).is_file(), link

    # What readers see: junitparser's totals are the summary's, every testsuite is Surefire's.
    doc = etree.parse(str(reports / "junit.xml"))
    assert all(surefire_errors(s) == [] for s in doc.getroot())
    xml = JUnitXml.fromfile(str(reports / "junit.xml"))
    cases = [case for suite in xml for case in suite]
    failed = sum(1 for c in cases if c.result and c.result[0]._tag in ("failure", "error"))
    assert (len(cases), failed) == (t.tests, t.failed + t.errored)
    assert int(doc.getroot().get("tests")) == t.tests
    assert len(doc.xpath("//testcase/flakyFailure")) == t.flaky
    assert len(doc.xpath("//testcase/rerunFailure")) == 2


def test_the_workflow_uploads_raw_reports_and_the_merged_report_with_its_attachments() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "e2e.yml").read_text())
    jobs = workflow["jobs"]

    def uploads(job: str) -> list[dict[str, str]]:
        return [s["with"] for s in jobs[job]["steps"]
                if str(s.get("uses", "")).startswith("actions/upload-artifact")]

    (suite_upload,) = uploads("suite")
    paths = suite_upload["path"].split()
    # the job's own JUnit files and artifacts, not its merged junit.xml, summary or index.html
    assert paths == ["reports/junit/", "reports/artifacts/"]
    (download,) = [s["with"] for s in jobs["merge"]["steps"]
                   if str(s.get("uses", "")).startswith("actions/download-artifact")]
    assert download["path"] == "reports/junit" and not download.get("merge-multiple")
    assert suite_upload["name"].startswith(download["pattern"].rstrip("*"))
    (merged,) = uploads("merge")
    assert merged["name"] == "merged-report"
    assert merged["path"].split() == ["reports/"]  # the attachments the links point to as well
