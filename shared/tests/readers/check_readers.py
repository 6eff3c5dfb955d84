"""Acceptance of the merged JUnit file by outside readers (not part of the default test run).

Builds three runs from real pytest runs of small throwaway suites through the e2e plugin (one
job per suite, each in a workspace of its own, as CI machines are): (a) green; (b) a failing
backend test, a failing browser test (Playwright, Chromium) and a flaky test; (c) a health
phase that fails, so the later phases are not run and recorded one skipped case per test. Each
run is merged twice: on one machine, and in CI's download layout (each job's ``reports/junit``
and ``reports/artifacts`` in ``reports/junit/<artifact>/``, the job workspaces gone).

Every merged junit.xml is then read back by junitparser and junit2html (PyPI), junit2json,
junit-report-merger and xunit-viewer (npm), and checked: the readers' totals equal the summary
line's; the same number of tests in every run; the failing backend test's message starts with
``AssertionError:``; the flaky test carries ``<flakyFailure>``; every ``<testsuite>`` is valid
against the Surefire 3.0 schema (when ``--xsd`` is given); no token or password printed by a test
is anywhere under ``reports/``; every attachment link resolves to a file.

Usage (tools installed outside the repository)::

    npm install --prefix /tmp/junit-npm junit2json junit-report-merger xunit-viewer
    python -m venv /tmp/junit-readers && /tmp/junit-readers/bin/pip install junit2html
    python shared/tests/readers/check_readers.py --npm /tmp/junit-npm \\
        --junit2html /tmp/junit-readers/bin/junit2html \\
        --xsd ../shared/schemas/surefire-test-report-3.0.xsd

Needs pytest-playwright in this interpreter and a Chromium (``e2e_shared.browser``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

from junitparser import JUnitXml
from lxml import etree

from e2e_shared.report import merge, write_skipped

HERE = Path(__file__).resolve().parent
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY2NlcHQifQ.YWNjZXB0YW5jZS1zaWduYXR1cmU"
PASSWORD = "accept-pw-Zq81"
PHASES = {"health": ["backend"], "smoke": ["backend", "frontend", "pipeline"],
          "flows": ["backend", "frontend"]}

CONFTEST = '''
from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e_shared.masking import SECRETS

SECRETS.add(os.environ["ACCEPT_PASSWORD"])  # as the factories register seeded passwords
MODE = os.environ.get("ACCEPT_MODE", "green")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from e2e_shared.browser import find_chromium, launch_args
    return {**launch_args(find_chromium()), **browser_type_launch_args}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when == "call" and page is not None:
        # what the browser suite keeps of a failed test: a screenshot, linked as an attachment
        folder = Path("reports/artifacts/frontend") / item.name
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "screenshot-1.png"))
        item.user_properties.append(("attachment", str(folder / "screenshot-1.png")))
'''

TESTS = {
    "backend": '''
import os
from pathlib import Path

import pytest

MODE = os.environ.get("ACCEPT_MODE", "green")


@pytest.mark.health
def test_api_health():
    status = 503 if MODE == "health" else 200
    assert status == 200, f"expected 200, got {status}"


@pytest.mark.health
def test_db_health():
    assert 1 + 1 == 2


@pytest.mark.smoke
def test_login_returns_tokens():
    print(f"login answered access_token={os.environ['ACCEPT_JWT']}")
    print(f"typed password {os.environ['ACCEPT_PASSWORD']}")
    status = 503 if MODE == "fail" else 200
    assert status == 200, f"expected 200, got {status}"


@pytest.mark.smoke
def test_symbols():
    assert ["AAPL", "MSFT"]


@pytest.mark.flow
def test_watchlist_flow():
    assert True


@pytest.mark.flow
def test_export_flow():
    assert True
''',
    "frontend": '''
import os

import pytest
from playwright.sync_api import expect

MODE = os.environ.get("ACCEPT_MODE", "green")


@pytest.mark.smoke
def test_landing(page):
    page.set_content("<h1>Tradeboard</h1>")
    expect(page.get_by_role("heading")).to_have_text("Tradeboard")


@pytest.mark.smoke
def test_dashboard(page):
    page.set_content("<h1>Watchlists</h1><input type=password id=pw>")
    page.fill("#pw", os.environ["ACCEPT_PASSWORD"])
    wanted = "Dashboard" if MODE == "fail" else "Watchlists"
    expect(page.get_by_role("heading")).to_have_text(wanted, timeout=1000)


@pytest.mark.flow
def test_symbol_page(page):
    page.set_content("<h1>AAPL</h1>")
    expect(page.get_by_role("heading")).to_have_text("AAPL")
''',
    "pipeline": '''
import os
from pathlib import Path

import pytest

MODE = os.environ.get("ACCEPT_MODE", "green")


@pytest.mark.smoke
def test_ingest():
    marker = Path(os.environ["ACCEPT_STATE"]) / "flaky-once"
    if MODE == "fail" and not marker.exists():  # fails once, passes on its rerun
        marker.write_text("failed once")
        raise ConnectionError("object store reset the connection")
    assert sum([1, 2]) == 3


@pytest.mark.smoke
def test_bars():
    assert max([1, 2]) == 2
''',
}

PYPROJECT = '''
[tool.pytest.ini_options]
markers = ["health: h", "smoke: s", "flow: f"]
junit_family = "xunit1"
junit_logging = "all"
junit_log_passing_tests = false
'''


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=600)


def marker(phase: str) -> str:
    return "flow" if phase == "flows" else phase


def run_job(job: Path, suite: str, mode: str, state: Path) -> dict[str, str]:
    """One CI job: every phase of one suite, a rerun of its failures, records of what did not
    run. Returns phase -> how it ended."""
    job.mkdir(parents=True)
    (job / "pyproject.toml").write_text(PYPROJECT)
    (job / "conftest.py").write_text(CONFTEST)
    (job / f"test_{suite}.py").write_text(textwrap.dedent(TESTS[suite]))
    env = {**os.environ, "ACCEPT_MODE": mode, "ACCEPT_JWT": JWT, "ACCEPT_PASSWORD": PASSWORD,
           "ACCEPT_STATE": str(state), "PYTHONDONTWRITEBYTECODE": "1"}
    ended: dict[str, str] = {}
    junit = job / "reports" / "junit"
    for phase, suites in PHASES.items():
        if suite not in suites:
            continue
        out = junit / f"{phase}-{suite}.xml"
        blocked = next((p for p, how in ended.items() if how.startswith("failed")), None)
        if blocked or (mode == "health" and phase != "health" and "health" not in ended):
            # what the runner records for a phase it did not run: each test skipped, with the
            # root cause
            listed = run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-m",
                          marker(phase), "-p", "no:cacheprovider"], job, env)
            ids = [x for x in listed.stdout.splitlines() if "::" in x]
            write_skipped(out, phase, suite, f"not run: {blocked or 'health'} failed", ids)
            ended[phase] = "skipped"
            continue
        base = [sys.executable, "-m", "pytest", "-m", marker(phase), "-o",
                f"cache_dir={job / '.cache' / phase}", "-p", "no:randomly"]
        first = run([*base, f"--junitxml={out}"], job, env)
        ended[phase] = "passed" if first.returncode == 0 else "failed"
        if first.returncode == 1:
            rerun = run([*base, f"--junitxml={out.with_suffix('.rerun.xml')}", "--last-failed",
                         "--last-failed-no-failures", "none"], job, env)
            ended[phase] = "flaky" if rerun.returncode == 0 else "failed"
        elif first.returncode not in (0, 5):
            raise SystemExit(f"{suite}/{phase}: pytest exited {first.returncode}\n{first.stdout}")
    return ended


def build_run(work: Path, mode: str) -> tuple[Path, Path]:
    """Run the jobs of one scenario; merge on one machine and in CI's layout. Returns both
    reports folders."""
    jobs = work / "jobs"
    state = work / "state"
    state.mkdir(parents=True)
    health_failed = False
    for suite in ("backend", "frontend", "pipeline"):
        ended = run_job(jobs / suite, suite, "health" if mode == "health" else mode, state)
        health_failed |= ended.get("health") == "failed"
    local = work / "local" / "reports"
    for job in sorted(jobs.iterdir()):
        shutil.copytree(job / "reports", local, dirs_exist_ok=True)
    ci = work / "ci" / "reports"
    for job in sorted(jobs.iterdir()):
        for part in ("junit", "artifacts"):
            if (job / "reports" / part).is_dir():
                shutil.copytree(job / "reports" / part, ci / "junit" / f"reports-{job.name}-1" / part)
    cwd = Path.cwd()
    try:
        os.chdir(local.parent)
        merge(local / "junit", local, step_summary=None)
        jobs.rename(work / "jobs.gone")  # CI's merge machine has no job workspace
        os.chdir(ci.parent)
        merge(ci / "junit", ci, step_summary=None)
    finally:
        os.chdir(cwd)
    return local, ci


# --- the readers --------------------------------------------------------------------------------

Totals = dict[str, int]


def by_junitparser(path: Path) -> Totals:
    t = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            t["tests"] += 1
            kinds = {r._tag for r in case.result}
            t["failures"] += "failure" in kinds
            t["errors"] += "error" in kinds
            t["skipped"] += "skipped" in kinds
    return t


def by_junit2html(path: Path, exe: str, out: Path) -> Totals:
    html = run([exe, str(path), str(out / "junit2html.html")], out)
    assert html.returncode == 0, html.stderr
    matrix = run([exe, "--summary-matrix", str(path)], out)
    assert matrix.returncode in (0, 1), matrix.stderr
    # its footer: "Test Results:" then "  Failed : 2", "  Passed : 6", "  Skipped : 3"
    footer = matrix.stdout[matrix.stdout.rindex("Test Results:"):]
    numbers = {k.lower(): int(v) for k, v in re.findall(r"^\s+(\w+)\s*:\s*(\d+)", footer, re.M)}
    failed = numbers.get("failed", 0) + numbers.get("error", 0) + numbers.get("errors", 0)
    passed, skipped = numbers.get("passed", 0), numbers.get("skipped", 0)
    return {"tests": passed + failed + skipped, "failed+errors": failed, "skipped": skipped}


def npm_bin(npm: Path, name: str) -> str:
    return str(npm / "node_modules" / ".bin" / name)


def by_junit2json(path: Path, npm: Path) -> Totals:
    proc = run([npm_bin(npm, "junit2json"), str(path)], npm)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    t = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "root_tests": int(data["tests"])}
    for suite in data.get("testsuite", []):
        for case in suite.get("testcase", []):
            t["tests"] += 1
            t["failures"] += bool(case.get("failure"))
            t["errors"] += bool(case.get("error"))
            t["skipped"] += bool(case.get("skipped"))
    return t


def by_jrm(path: Path, npm: Path, out: Path) -> Totals:
    target = out / "jrm.xml"
    proc = run([npm_bin(npm, "jrm"), str(target), str(path)], out)
    assert proc.returncode == 0, proc.stderr
    root = etree.parse(str(target)).getroot()
    return {k: int(root.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped")}


def by_xunit_viewer(path: Path, npm: Path, out: Path) -> Totals:
    page = out / "xunit-viewer.html"
    proc = run([npm_bin(npm, "xunit-viewer"), "-r", str(path), "-o", str(page)], out)
    assert proc.returncode == 0 and page.is_file(), proc.stderr
    # -o as well: with -c alone it writes index.html into its working folder (ours, reports/)
    console = run([npm_bin(npm, "xunit-viewer"), "-r", str(path), "-c", "-n", "-C", "false",
                   "-o", str(out / "xunit-viewer-console.html")], out)
    assert console.returncode == 0, console.stderr
    # its last line counts the cases by status: "3 skipped, 5 passed, 2 failure, 1 flakyFailure"
    # (a Surefire flaky case, which passed, gets a status of its own: "?" in the list)
    last = [x for x in console.stdout.splitlines() if re.fullmatch(r"\d+ \w+(, \d+ \w+)*", x)][-1]
    by_status = {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", last)}
    flaky = by_status.get("flakyFailure", 0) + by_status.get("flakyError", 0)
    return {"passed": by_status.get("passed", 0) + flaky,
            "failed+errors": by_status.get("failure", 0) + by_status.get("error", 0),
            "skipped": by_status.get("skipped", 0), "shown_as_flaky": flaky}


def summary_totals(reports: Path) -> dict[str, Any]:
    data = json.loads((reports / "summary.json").read_text())
    return {"line": data["summary"], **data["totals"]}


def secrets_under(reports: Path) -> list[str]:
    found = []
    for path in reports.rglob("*"):
        if not path.is_file():
            continue
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                blobs += [z.read(n) for n in z.namelist()]
        for blob in blobs:
            for secret in (JWT, PASSWORD):
                if secret.encode() in blob:
                    found.append(f"{path.relative_to(reports)}: {secret[:12]}…")
    return found


def check(name: str, reports: Path, args: argparse.Namespace, xsd: etree.XMLSchema | None
          ) -> dict[str, Any]:
    junit = reports / "junit.xml"
    out = reports.parent / "readers"
    out.mkdir(exist_ok=True)
    s = summary_totals(reports)
    failed = s["failed"] + s["errored"]
    readers: dict[str, Totals] = {
        "junitparser": by_junitparser(junit),
        "junit2html": by_junit2html(junit, args.junit2html, out),
        "junit2json": by_junit2json(junit, args.npm),
        "junit-report-merger": by_jrm(junit, args.npm, out),
        "xunit-viewer": by_xunit_viewer(junit, args.npm, out),
    }
    problems = []
    for reader, t in readers.items():
        got_failed = t.get("failed+errors", t.get("failures", 0) + t.get("errors", 0))
        got_tests = t.get("tests", t.get("passed", 0) + got_failed + t.get("skipped", 0))
        if (got_tests, got_failed, t.get("skipped")) != (s["tests"], failed, s["skipped"]):
            problems.append(f"{reader}: {t} vs summary {s['line']}")
    doc = etree.parse(str(junit))
    invalid = []
    if xsd is not None:
        for suite in doc.getroot():
            if not xsd.validate(etree.ElementTree(etree.fromstring(etree.tostring(suite)))):
                invalid.append(f"{suite.get('name')}: {xsd.error_log.last_error}")
    backend = doc.xpath("//testcase[@name='test_login_returns_tokens']/failure/@message")
    flaky = doc.xpath("//testcase[@name='test_ingest']/flakyFailure")
    links = re.findall(r"\[\[ATTACHMENT\|([^\]]+)\]\]", junit.read_text())
    dead = [x for x in links if not (reports / x).is_file()]
    return {
        "run": name, "summary": s["line"], "tests": s["tests"], "readers": readers,
        "reader_mismatches": problems, "invalid_testsuites": invalid,
        "testsuites": len(doc.getroot()), "backend_message": backend[0] if backend else None,
        "flakyFailure": len(flaky), "attachments": len(links), "dead_links": dead,
        "secrets": secrets_under(reports),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm", type=Path, required=True, help="npm prefix holding the readers")
    parser.add_argument("--junit2html", default=shutil.which("junit2html") or "junit2html")
    parser.add_argument("--xsd", type=Path, help="surefire-test-report-3.0.xsd, to validate with")
    parser.add_argument("--keep", type=Path, help="build the runs here and keep them")
    args = parser.parse_args(argv)
    xsd = etree.XMLSchema(etree.parse(str(args.xsd))) if args.xsd else None
    work = args.keep or Path(tempfile.mkdtemp(prefix="junit-readers-"))
    results = []
    for name, mode in (("green", "green"), ("failing", "fail"), ("health-fails", "health")):
        local, ci = build_run(work / name, mode)
        for layout, reports in (("local", local), ("ci", ci)):
            results.append(check(f"{name}/{layout}", reports, args, xsd))
    print(json.dumps(results, indent=2))
    ok = True
    totals = {r["tests"] for r in results}
    ok &= len(totals) == 1
    for r in results:
        ok &= not (r["reader_mismatches"] or r["invalid_testsuites"] or r["dead_links"]
                   or r["secrets"])
        if r["run"].startswith("failing"):
            ok &= bool(r["backend_message"] and r["backend_message"].startswith("AssertionError:"))
            ok &= r["flakyFailure"] == 1
    pairs = {}
    for r in results:
        pairs.setdefault(r["run"].split("/")[0], []).append(r["summary"].split(" in ")[0])
    ok &= all(len(set(v)) == 1 for v in pairs.values())  # CI layout = single machine
    print(f"\n{'OK' if ok else 'FAILED'}: tests per run {sorted(totals)}; "
          + "; ".join(f"{r['run']}: {r['summary']}" for r in results), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
