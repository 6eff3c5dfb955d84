"""index.html as a reader uses it: every test, filters, attempts, screenshots, traces, groups."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from e2e_shared.report import merge

DATA = Path(__file__).parent / "data" / "report" / "run"


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(DATA, tmp_path / "junit")
    merge(tmp_path / "junit", tmp_path / "reports")
    return (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(f"id='{start}'") : page.index(f"id='{end}'")]


def test_every_test_is_listed_with_its_status_and_duration(page: str) -> None:
    tests = _section(page, "tests-section", "slowest")
    statuses = re.findall(r"<tr data-s='(\w+)'>", tests)
    assert len(statuses) == 18  # 11 passed (2 of them flaky) + 4 failed + 3 skipped
    assert statuses.count("failed") == 4 and statuses.count("flaky") == 2
    assert statuses.count("skipped") == 3 and statuses.count("passed") == 9
    assert "backend_e2e.health.test_health::test_health_ok" in tests
    assert re.search(r"<td class=n>\d+\.\d\ds<td", tests)
    for status in ("all", "failed", "flaky", "passed", "skipped"):
        assert f"data-f='{status}'" in tests
    assert "<input id='q' type='search'" in tests


def test_failed_and_flaky_rows_link_to_their_attempts(page: str) -> None:
    tests = _section(page, "tests-section", "slowest")
    anchors = re.findall(r"<a href='#(case-\d+)'>", tests)
    assert len(anchors) == 6
    for anchor in anchors:
        assert f"<details id='{anchor}'>" in page


def test_a_rerun_test_has_one_section_per_attempt_with_its_own_attachments(page: str) -> None:
    flaky = _section(page, "flaky", "tests-section")
    login = flaky[flaky.index("test_login[chromium]") :].split("</details>")[0]
    first, rerun = login.split("<b>attempt 1</b>")[1].split("<b>attempt 2</b>")
    assert "(first attempt): failed" in first and "(rerun): passed" in rerun
    assert "<img src='artifacts/test_login/screenshot.png'" in first  # shown inline
    assert "<img" not in rerun


def test_a_trace_comes_with_the_command_that_opens_it(page: str) -> None:
    failures = _section(page, "failures", "flaky")
    assert ("playwright show-trace reports/artifacts/test_dashboard/trace.zip</code>"
            in failures)


def test_the_environment_section_names_versions(page: str) -> None:
    env = page[page.index("id='environment'") :]
    assert "<th>python</th>" in env and "<th>junitparser</th>" in env


def test_identical_failures_are_grouped_by_headline(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "junit"
    junit.mkdir()
    cases = "".join(
        f'<testcase classname="backend_e2e.health.test_health" name="test_{i}" time="0.1">'
        '<failure message="AssertionError: expected 200, got 503">text</failure></testcase>'
        for i in range(8))
    cases += ('<testcase classname="backend_e2e.health.test_health" name="test_other" time="0.1">'
              '<failure message="AssertionError: something else">text</failure></testcase>')
    (junit / "health-backend.xml").write_text(
        f'<testsuites><testsuite name="pytest" tests="9">{cases}</testsuite></testsuites>')
    merge(junit, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    failures = _section(page, "failures", "flaky")
    assert "Failures (9, 2 distinct)" in failures
    assert failures.count("<div class='group'>") == 1
    assert "<span class='count'>8×</span> <span class='msg'>AssertionError: expected 200, got 503" \
        in failures


def test_the_headline_is_the_raised_exception_not_a_source_line(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "junit"
    junit.mkdir()
    text = ("api = &lt;e2e_shared.clients.ApiClient object at 0x7f&gt;&#10;&gt;  assert 1 == 2&#10;"
            "E       AssertionError: expected 200, got 503&#10;E       assert 1 == 2")
    (junit / "health-backend.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="1"><testcase classname="m" name="t" time="1">'
        f'<failure message="api = &lt;e2e_shared.clients.ApiClient object at 0x7f&gt;">{text}'
        '</failure></testcase></testsuite></testsuites>')
    merge(junit, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    row = re.search(r"<tr data-s='failed'>.*?</tr>", page).group(0)
    assert "<td class=msg>AssertionError: expected 200, got 503</tr>" in row


def test_the_environment_hides_passwords_in_endpoint_urls(tmp_path: Path) -> None:
    from e2e_shared.report.environment import collect

    state = tmp_path / "state.json"
    state.write_text('{"driver": "embedded", "secret": "s3cr3t-value", "endpoints": {'
                     '"database_url": "postgresql+psycopg://tb:pa55word@127.0.0.1:15432/tb",'
                     '"api_url": "http://127.0.0.1:18000"}}')
    env = collect(tmp_path, state)
    assert env["driver"] == "embedded" and env["api endpoint"] == "http://127.0.0.1:18000"
    assert env["database endpoint"] == "postgresql+psycopg://tb:***@127.0.0.1:15432/tb"
    assert "pa55word" not in str(env) and "s3cr3t-value" not in str(env)


def test_failures_that_differ_only_by_ids_and_ports_are_one_group(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "junit"
    junit.mkdir()
    ids = ["d3c20bda-bf00-45dd-9081-a24a09fc535e", "26d1632c-e474-42aa-960c-de3519b893a1"]
    cases = "".join(
        f'<testcase classname="m" name="t{i}" time="1"><failure message="AssertionError: '
        f'expected 201, got POST http://127.0.0.1:{55687 + i}/watchlists/{wl}/symbols -&gt; 422">'
        "x</failure></testcase>" for i, wl in enumerate(ids))
    (junit / "flows-backend.xml").write_text(
        f'<testsuites><testsuite name="pytest" tests="2">{cases}</testsuite></testsuites>')
    merge(junit, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Failures (2, 1 distinct)" in page and "<span class='count'>2×</span>" in page


def test_attachments_relative_to_reports_resolve_there(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "reports" / "junit"
    junit.mkdir(parents=True)
    (junit / "flows-frontend.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="1"><testcase classname="m" name="t" time="1">'
        '<properties><property name="attachment" value="artifacts/t/trace.zip"/>'
        '<property name="attachment" value="artifacts/t/screenshot-1.png"/></properties>'
        '<failure message="AssertionError: x">x</failure></testcase></testsuite></testsuites>')
    merge(junit, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "href='artifacts/t/trace.zip'" in page and "<img src='artifacts/t/screenshot-1.png'" in page
    assert "playwright show-trace reports/artifacts/t/trace.zip</code>" in page
