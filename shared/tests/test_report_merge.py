"""The report merger's JUnit side: totals, Surefire rules, headlines, flaky reruns, shards,
duplicates, bad inputs.

``data/report/run`` is one run's reports/junit: ``smoke-backend.xml`` is real pytest 9 output
(``-o junit_logging=all``, a teardown error written as a second testcase, ``record_property``);
the others follow the same shape: a flaky rerun (frontend), two shards (pipeline), a
timezone-shifted timestamp.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from lxml import etree
from surefire_rules import surefire_errors

from e2e_shared.report import NoReportsError, generate_cases, merge, write_skipped
from e2e_shared.report.merge import MERGED_PROPERTY, headline

DATA = Path(__file__).parent / "data" / "report" / "run"


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def junit_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA, tmp_path / "junit"))


def assert_valid(path: Path) -> etree._ElementTree:
    """Every testsuite of a merged file follows the Surefire 3.0 rules."""
    doc = etree.parse(str(path))
    assert doc.getroot().tag == "testsuites"
    for suite in doc.getroot():
        assert surefire_errors(suite) == []
    return doc


def not_about_attachments(warnings: list[str]) -> list[str]:
    """The warnings other than the fixture's attachments missing on disk."""
    return [w for w in warnings if "attachment(s) not found" not in w]


def suite_named(doc: etree._ElementTree, name: str) -> etree._Element:
    (suite,) = doc.xpath("/testsuites/testsuite[@name=$n]", n=name)
    return suite


def case_named(suite: etree._Element, name: str) -> etree._Element:
    (case,) = suite.xpath("testcase[@name=$n]", n=name)
    return case


def props(suite: etree._Element, name: str) -> list[str]:
    return suite.xpath("properties/property[@name=$n]/@value", n=name)


def test_totals_are_recomputed_from_the_cases(junit_dir: Path, tmp_path: Path) -> None:
    result = merge(junit_dir, tmp_path / "out")
    doc = etree.parse(str(tmp_path / "out" / "junit.xml"))
    for suite in doc.getroot():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)  # pytest wrote tests="8" over 9 elements
        assert int(suite.get("failures")) == sum(len(c.findall("failure")) for c in cases)
        assert int(suite.get("errors")) == sum(len(c.findall("error")) for c in cases)
        assert int(suite.get("skipped")) == sum(len(c.findall("skipped")) for c in cases)
    t = result.totals
    assert (t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky) == (18, 11, 3, 1, 3, 2)
    assert t.tests == len(doc.findall(".//testcase")) == t.passed + t.failed + t.errored + t.skipped
    assert result.verdict == "fail"


@pytest.mark.parametrize("strict", [False, True])
def test_every_testsuite_follows_the_surefire_rules(
    junit_dir: Path, tmp_path: Path, strict: bool
) -> None:
    write_skipped(junit_dir, "flows", "backend", "needs smoke: smoke-backend failed")
    result = merge(junit_dir, tmp_path / "out", strict=strict)
    doc = assert_valid(tmp_path / "out" / "junit.xml")
    root = doc.getroot()
    t = result.totals
    assert root.attrib == {
        "name": "e2e", "tests": str(t.tests), "failures": str(t.failed),
        "errors": str(t.errored), "skipped": str(t.skipped), "time": f"{result.duration:.3f}",
        "timestamp": "2025-01-06T09:00:00+00:00",  # the run's start, with its offset
    }
    # per-test output stays with its test
    assert doc.xpath("//testcase/system-out") and not doc.xpath("/testsuites/testsuite/system-out")


def test_the_fixture_itself_breaks_the_rules() -> None:
    """Guards the test above: pytest's own output breaks Surefire's rules, so validity is earned."""
    suite = etree.parse(str(DATA / "smoke-backend.xml")).getroot()[0]
    errors = surefire_errors(suite)
    assert any("attribute timestamp not allowed" in e for e in errors)
    assert any("<properties> not allowed" in e for e in errors)  # a testcase's properties


def test_one_testsuite_per_phase_and_suite_in_running_order(
    junit_dir: Path, tmp_path: Path
) -> None:
    result = merge(junit_dir, tmp_path / "out")
    doc = etree.parse(str(tmp_path / "out" / "junit.xml"))
    suites = doc.getroot().findall("testsuite")
    names = ["health-backend", "smoke-backend", "smoke-frontend", "smoke-pipeline"]
    assert [s.get("name") for s in suites] == names
    assert [row.name for row in result.rows] == names
    pipeline = suite_named(doc, "smoke-pipeline")
    assert props(pipeline, "phase") == ["smoke"] and props(pipeline, "suite") == ["pipeline"]
    assert props(pipeline, "shard") == ["1", "2"]
    assert len(pipeline.findall("testcase")) == 4  # both shards in one testsuite
    assert props(pipeline, "hostname") == ["runner-3", "runner-4"]
    assert props(suite_named(doc, "health-backend"), "sut_version") == ["1.4.2"]
    # pytest's 2025-01-06T09:00:00.000000+00:00 as a property (the schema has no attribute)
    assert props(suite_named(doc, "health-backend"), "timestamp") == ["2025-01-06T09:00:00+00:00"]
    assert all(len(props(s, MERGED_PROPERTY)) == 1 for s in suites)
    # smoke-frontend ran 09:00:10.5 to 09:00:13 (first attempt is 10 s) then rerun 25 to 28
    assert suite_named(doc, "smoke-frontend").get("time") == "17.500"


def test_timestamps_become_utc_with_their_offset(tmp_path: Path) -> None:
    shutil.copy(DATA / "smoke-pipeline-shard2.xml", tmp_path / "smoke-pipeline.xml")  # +02:00
    result = merge(tmp_path, tmp_path / "out")
    doc = etree.parse(str(tmp_path / "out" / "junit.xml"))
    assert props(doc.find("testsuite"), "timestamp") == ["2025-01-06T09:00:12+00:00"]
    assert doc.getroot().get("timestamp") == "2025-01-06T09:00:12+00:00"
    assert result.as_dict()["started"] == "2025-01-06T09:00:12Z"


def test_flaky_case_passes_and_holds_its_first_attempt_as_flaky_failure(
    junit_dir: Path, tmp_path: Path
) -> None:
    result = merge(junit_dir, tmp_path / "out")
    frontend = suite_named(etree.parse(str(tmp_path / "out" / "junit.xml")), "smoke-frontend")
    login = case_named(frontend, "test_login[chromium]")
    upload = case_named(frontend, "test_upload[chromium]")
    assert [c.tag for c in login] == ["flakyFailure", "system-out"]  # passed: no <failure>
    assert [c.tag for c in upload] == ["flakyError"]  # a setup error the first time
    assert login.get("time") == "4.000"  # both attempts
    flaky = login.find("flakyFailure")
    assert flaky.get("message") == "AssertionError: Locator expected to be visible"
    assert flaky.get("type") == "AssertionError"
    assert "E       AssertionError: Locator expected to be visible" in flaky.findtext("stackTrace")
    assert "navigating to /login" in flaky.findtext("system-out")  # the first attempt's output
    assert flaky.findtext("system-err") == "web.log tail:\nGET /login 200\n"
    first_error = upload.find("flakyError")
    assert first_error.get("message") == "ConnectionError: api not ready"
    assert first_error.findtext("stackTrace").startswith("failed on setup\n")
    assert props(frontend, "flaky") == [
        "frontend_e2e.smoke.test_pages::test_login[chromium]",
        "frontend_e2e.smoke.test_pages::test_upload[chromium]",
    ]
    assert [c.name for c in result.flaky] == ["test_login[chromium]", "test_upload[chromium]"]
    assert frontend.get("failures") == "1" and frontend.get("errors") == "0"


def test_case_failing_in_both_attempts_holds_failure_and_rerun_failure(
    junit_dir: Path, tmp_path: Path
) -> None:
    result = merge(junit_dir, tmp_path / "out")
    frontend = suite_named(etree.parse(str(tmp_path / "out" / "junit.xml")), "smoke-frontend")
    case = case_named(frontend, "test_dashboard[chromium]")
    assert [c.tag for c in case] == ["failure", "rerunFailure", "system-out", "system-err"]
    failure, rerun = case.find("failure"), case.find("rerunFailure")
    assert failure.get("message").startswith("TimeoutError: waiting for")  # the first attempt's
    assert (rerun.get("message"), rerun.get("type")) == ("TimeoutError: waiting again",
                                                         "TimeoutError")
    assert rerun.findtext("stackTrace") == "frontend_e2e/smoke/test_pages.py:22: TimeoutError"
    assert "test_dashboard[chromium]" in [c.name for c in result.failures]
    assert "test_dashboard[chromium]" not in [c.name for c in result.flaky]


def test_strict_counts_flaky_as_failed_and_keeps_the_failure(
    junit_dir: Path, tmp_path: Path
) -> None:
    result = merge(junit_dir, tmp_path / "out", strict=True)
    frontend = suite_named(etree.parse(str(tmp_path / "out" / "junit.xml")), "smoke-frontend")
    login = case_named(frontend, "test_login[chromium]").find("failure")
    assert login is not None and login.text.endswith("[flaky] passed on its rerun")
    assert case_named(frontend, "test_upload[chromium]").find("error") is not None
    t = result.totals
    assert (t.passed, t.failed, t.errored, t.flaky) == (9, 4, 2, 2)
    assert props(frontend, "flaky") != []


def _flaky_only(folder: Path) -> Path:
    """A run whose only failure passed on its rerun."""
    folder.mkdir()
    first = (DATA / "smoke-frontend.xml").read_text(encoding="utf-8")
    (folder / "smoke-frontend.xml").write_text(first, encoding="utf-8")
    rerun = (DATA / "smoke-frontend.rerun.xml").read_text(encoding="utf-8")
    dashboard_failure = rerun[rerun.index("<failure") : rerun.index("</failure>") + 10]
    (folder / "smoke-frontend.rerun.xml").write_text(
        rerun.replace(dashboard_failure, ""), encoding="utf-8"
    )
    return folder


def test_verdict_passes_with_flaky_tests_unless_strict(tmp_path: Path) -> None:
    junit = _flaky_only(tmp_path / "junit")
    lenient = merge(junit, tmp_path / "a")
    assert lenient.verdict == "pass" and lenient.totals.flaky == 3
    assert (lenient.totals.passed, lenient.totals.failed, lenient.totals.errored) == (4, 0, 0)
    strict = merge(junit, tmp_path / "b", strict=True)
    assert strict.verdict == "fail" and strict.totals.failed + strict.totals.errored == 3


def test_properties_attachments_and_output_stay_in_the_testcase(
    junit_dir: Path, tmp_path: Path
) -> None:
    result = merge(junit_dir, tmp_path / "out")
    doc = etree.parse(str(tmp_path / "out" / "junit.xml"))
    passing = case_named(suite_named(doc, "smoke-backend"), "test_pass")
    assert passing.findtext("system-out") == (
        "[[PROPERTY|trace=reports/traces/x.zip]]\n"
        "[[ATTACHMENT|screens/a.png]]\n"  # relative to the output folder, reports/
        "--------------------------------- Captured Out ---------------------------------\n"
        "hello out\n"
    )
    assert "hello err" in passing.findtext("system-err")
    frontend = suite_named(doc, "smoke-frontend")
    login_out = case_named(frontend, "test_login[chromium]").findtext("system-out")
    assert "[[PROPERTY|browser=chromium]]" in login_out
    assert login_out.count("[[ATTACHMENT|artifacts/test_login/trace.zip]]") == 1
    # printed by the test itself, and recorded: kept once
    assert login_out.count("[[ATTACHMENT|artifacts/test_login/screenshot.png]]") == 1
    (login,) = [c for c in result.flaky if c.name == "test_login[chromium]"]
    assert login.attachments == [
        "artifacts/test_login/trace.zip",
        "artifacts/test_login/screenshot.png",
    ]


def test_teardown_error_entry_folds_into_one_case_with_a_typed_result(
    junit_dir: Path, tmp_path: Path
) -> None:
    merge(junit_dir, tmp_path / "out")
    backend = suite_named(etree.parse(str(tmp_path / "out" / "junit.xml")), "smoke-backend")
    assert len(backend.xpath("testcase[@name='test_fail_teardown']")) == 1
    case = case_named(backend, "test_fail_teardown")
    (failure,) = list(case)
    assert failure.tag == "failure" and failure.get("type") == "AssertionError"
    assert failure.get("message") == "AssertionError: assert False"
    assert '[also error] failed on teardown with "RuntimeError: teardown boom"' in failure.text
    error = case_named(backend, "test_error").find("error")
    assert (error.get("message"), error.get("type")) == ("RuntimeError: db down", "RuntimeError")
    assert error.text.startswith("failed on setup\n")
    assert all(r.get("type") for r in backend.xpath("testcase/failure | testcase/error"))
    # pytest's empty "Captured Log/Err" headers are dropped, real output stays
    out = case_named(backend, "test_fail").findtext("system-out")
    assert "Captured Log" not in out and "some output" in out
    assert case_named(backend, "test_error").find("system-out") is None  # only empty headers


def test_write_skipped_names_each_test(tmp_path: Path) -> None:
    path = write_skipped(
        tmp_path,
        "resilience",
        "backend",
        "needs flows, integrity: integrity-backend failed",
        ["backend_e2e/resilience/test_db.py::TestOutage::test_db_restart", "test_plain"],
    )
    assert path == tmp_path / "resilience-backend.xml"
    cases = etree.parse(str(path)).findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("backend_e2e.resilience.test_db.TestOutage", "test_db_restart"),
        ("resilience-backend", "test_plain"),
    ]
    assert {c.find("skipped").get("message") for c in cases} == {
        "needs flows, integrity: integrity-backend failed"
    }
    result = merge(tmp_path, tmp_path / "out")
    (row,) = result.rows
    assert (row.status, row.counts.skipped, row.counts.tests) == ("skipped", 2, 2)
    assert row.skip_reason == "needs flows, integrity: integrity-backend failed"
    assert result.verdict == "pass"
    assert_valid(tmp_path / "out" / "junit.xml")


def test_write_skipped_without_tests_writes_one_case_for_the_phase(tmp_path: Path) -> None:
    path = write_skipped(tmp_path / "flows-frontend.xml", "flows", "frontend", "needs smoke")
    (case,) = etree.parse(str(path)).findall(".//testcase")
    assert case.get("name") == "flows-frontend"
    assert case.find("skipped").get("message") == "needs smoke"


def test_malformed_and_empty_files_are_named_and_the_others_still_merge(
    junit_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (junit_dir / "flows-backend.xml").write_text("<testsuites><testsuite name='x'><testcase")
    (junit_dir / "flows-pipeline.xml").write_text("")
    (junit_dir / "integrity-backend.xml").write_text("<html><body>502</body></html>")
    with caplog.at_level(logging.WARNING, logger="e2e_shared.report"):
        result = merge(junit_dir, tmp_path / "out")
    for name, why in [
        ("flows-backend.xml", "not well-formed XML"),
        ("flows-pipeline.xml", "empty"),
        ("integrity-backend.xml", "no <testsuites> or <testsuite> root"),
    ]:
        assert any(w.startswith(f"{name}: ") and why in w for w in result.warnings), name
        assert name in caplog.text
    assert len(not_about_attachments(result.warnings)) == 3
    # every good case is still there; each bad file shows as one errored case in its testsuite
    assert result.totals.tests == 18 + 3 and result.totals.errored == 1 + 3
    doc = assert_valid(tmp_path / "out" / "junit.xml")
    bad = case_named(suite_named(doc, "flows-pipeline"), "flows-pipeline.xml")
    assert bad.find("error").get("type") == "UnreadableReport"
    assert result.verdict == "fail"


def test_unreadable_rerun_keeps_the_first_attempts_failures(
    junit_dir: Path, tmp_path: Path
) -> None:
    (junit_dir / "smoke-frontend.rerun.xml").write_text("not xml at all")
    result = merge(junit_dir, tmp_path / "out")
    assert any(w.startswith("smoke-frontend.rerun.xml: ") for w in result.warnings)
    assert result.totals.flaky == 0
    failed = {c.name for c in result.failures}
    assert {"test_login[chromium]", "test_dashboard[chromium]", "test_upload[chromium]"} <= failed


def test_odd_names_and_orphan_reruns_are_merged_with_a_warning(tmp_path: Path) -> None:
    shutil.copy(DATA / "health-backend.xml", tmp_path / "notes.xml")
    shutil.copy(DATA / "smoke-frontend.rerun.xml", tmp_path / "flows-frontend.rerun.xml")
    result = merge(tmp_path, tmp_path / "out")
    assert any("notes.xml: name is not <phase>-<suite>.xml" in w for w in result.warnings)
    assert any("flows-frontend.rerun.xml: no flows-frontend.xml" in w for w in result.warnings)
    assert [row.name for row in result.rows] == ["flows-frontend", "notes-unknown"]
    assert result.totals.tests == 2 + 3


def test_reruns_pair_with_the_first_attempt_in_their_own_folder(tmp_path: Path) -> None:
    """CI downloads each job's artifacts into a folder of its own: same names, other folders."""
    for job in ("job-a", "job-b"):
        (tmp_path / job).mkdir()
    shutil.copy(DATA / "smoke-frontend.xml", tmp_path / "job-a" / "smoke-frontend-shard1.xml")
    for name in ("smoke-frontend-shard2.xml", "smoke-frontend-shard2.rerun.xml"):
        shutil.copy(DATA / name.replace("-shard2", ""), tmp_path / "job-b" / name)
    result = merge(tmp_path, tmp_path / "out")  # job-a was not rerun
    assert result.totals.tests == 8 and result.totals.flaky == 2
    assert result.rows[0].files == [
        "smoke-frontend-shard1.xml", "smoke-frontend-shard2.xml", "smoke-frontend-shard2.rerun.xml"
    ]


def test_a_test_seen_twice_in_the_same_shard_counts_once_with_a_warning(tmp_path: Path) -> None:
    for job in ("job-a", "job-b"):  # the same job's report downloaded twice
        (tmp_path / job).mkdir()
        shutil.copy(DATA / "smoke-pipeline-shard1.xml", tmp_path / job)
    result = merge(tmp_path, tmp_path / "out")
    single = merge(tmp_path / "job-a", tmp_path / "single")
    assert result.totals == single.totals and result.totals.tests == 2
    (warning,) = result.warnings
    assert warning == (
        "job-b/smoke-pipeline-shard1.xml: 2 test case(s) already merged from another file of "
        "smoke-pipeline shard 1; counted once"
    )


def test_a_merged_report_among_the_inputs_is_left_out(junit_dir: Path, tmp_path: Path) -> None:
    first = merge(junit_dir, tmp_path / "first")
    job = junit_dir / "reports-backend-1"  # a CI job that uploaded its whole reports/
    job.mkdir()
    shutil.copy(tmp_path / "first" / "junit.xml", job / "junit.xml")
    shutil.copy(tmp_path / "first" / "junit.xml", job / "smoke-backend-shard9.xml")  # renamed
    old = etree.parse(str(tmp_path / "first" / "junit.xml"))  # as merged before e2e.merged
    for prop in old.xpath(f"//property[@name='{MERGED_PROPERTY}']"):
        prop.getparent().remove(prop)
    (junit_dir / "reports-backend-2").mkdir()
    old.write(str(junit_dir / "reports-backend-2" / "junit.xml"))
    again = merge(junit_dir, tmp_path / "again")
    assert again.totals == first.totals
    left_out = [w for w in again.warnings if "it is a merged report" in w]
    assert [w.split(":")[0] for w in left_out] == [
        "reports-backend-1/junit.xml", "reports-backend-1/smoke-backend-shard9.xml",
        "reports-backend-2/junit.xml",
    ]


def test_only_the_named_files_are_merged_and_the_others_are_named(junit_dir: Path, tmp_path: Path) -> None:
    shutil.copy(junit_dir / "health-backend.xml", junit_dir / "adhoc-backend.xml")
    result = merge(junit_dir, tmp_path / "out",
                   only=["health-backend.xml", "smoke-frontend.xml", "smoke-frontend.rerun.xml"])
    doc = etree.parse(str(tmp_path / "out" / "junit.xml"))
    assert sorted(s.get("name") for s in doc.getroot()) == ["health-backend", "smoke-frontend"]
    left_out = sorted(w.split(":")[0] for w in result.warnings if "not written by this run" in w)
    assert left_out == ["adhoc-backend.xml", "smoke-backend.xml", "smoke-pipeline-shard1.xml",
                        "smoke-pipeline-shard2.xml"]
    assert result.totals.flaky == 2  # the rerun file paired with its first attempt


def test_no_input_files_raise_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(NoReportsError, match="no JUnit files in .*invoke e2e.all"):
        merge(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoReportsError):
        merge(tmp_path / "empty", tmp_path / "out")


def test_generated_run_merges_every_case(tmp_path: Path) -> None:
    paths = generate_cases(tmp_path / "junit", 3000, 15, fail_ratio=0.05, seed=7)
    firsts = [p for p in paths if not p.name.endswith(".rerun.xml")]
    assert len(firsts) == 15 and len(paths) > 15
    result = merge(tmp_path / "junit", tmp_path / "out")
    doc = assert_valid(tmp_path / "out" / "junit.xml")
    assert result.totals.tests == 3000 == len(doc.findall(".//testcase"))
    assert result.totals.flaky > 0 and result.totals.failed + result.totals.errored > 0
    assert len(result.rows) == 11  # the phase x suite pairs of DESIGN.md
    assert sum(1 for row in result.rows if row.shards) == 4  # 15 files over 11 pairs
    assert not_about_attachments(result.warnings) == []  # generated traces are not on disk


def test_generate_cases_is_deterministic(tmp_path: Path) -> None:
    a = generate_cases(tmp_path / "a", 200, 3, fail_ratio=0.1, seed=3)
    b = generate_cases(tmp_path / "b", 200, 3, fail_ratio=0.1, seed=3)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


@pytest.mark.parametrize(
    ("message", "text", "given", "expected"),
    [
        # what the plugin writes: kept
        ("AssertionError: expected 200, got 503", "", "", "AssertionError: expected 200, got 503"),
        # plain pytest: the rewritten assert without its class, several lines
        ("assert 503 == 200\n + where 503 = r.status", "x.py:3: AssertionError", "",
         "AssertionError: assert 503 == 200"),
        # pytest's setup wrapper, unwrapped
        ('failed on setup with "TimeoutError: waiting"', "", "", "TimeoutError: waiting"),
        # Playwright's TimeoutError, type from the crash line though a bundle follows it
        ("Timeout 5000ms exceeded.", "t.py:9: TimeoutError\n\n--- e2e failure bundle ---\n  x",
         "", "TimeoutError: Timeout 5000ms exceeded."),
        # a sentence with a colon is not a class
        ("Locator: not visible", "t.py:9: AssertionError", "", "AssertionError: Locator: not visible"),
        # a type given by the writer (the runner's records)
        ("timed out after 300s", "", "Timeout", "Timeout: timed out after 300s"),
        # nothing to go by: the tag stands in, the message is kept
        ("something odd", "", "", "something odd"),
        # a writer's own type that is no class: kept as the type, the message as it is
        ("stopped by Ctrl-C", "", "e2e.interrupted", "stopped by Ctrl-C"),
    ],
)
def test_headline_is_the_exception_type_and_first_line(
    message: str, text: str, given: str, expected: str
) -> None:
    headline_, kind, _ = headline(message, text, given, "failure")
    assert headline_ == expected
    assert kind == given or kind == (expected.split(":")[0] if ":" in expected else "failure")


def test_headline_keeps_the_setup_stage_in_the_text() -> None:
    _, kind, text = headline('failed on teardown with "RuntimeError: boom"', "trace", "", "error")
    assert (kind, text) == ("RuntimeError", "failed on teardown\ntrace")
