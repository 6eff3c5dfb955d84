"""The phase scheduler, with fake suite sessions instead of nox (fast, deterministic)."""

from __future__ import annotations

import json
import sys
import textwrap
import time

import pytest

from e2e_shared.phases import load
from e2e_shared.runner import ERRORED, FAILED, FLAKY, NO_TESTS, PASSED, SKIPPED, TIMEOUT, Options, Runner

# A stand-in for `nox -s <suite> -- ...`: behaves as the behaviour file says for its job.
FAKE = textwrap.dedent('''
    import json, sys, time
    label, junit, rerun, behaviours, log = sys.argv[1:6]
    b = json.load(open(behaviours)).get(label, {})
    if rerun == "1" and b.get("rerun_refused"):
        sys.exit(4)  # no JUnit at all
    if b.get("no_junit"):
        sys.exit(3)
    # The plugin's pytest.exit before the first test (the stack is down): an empty report.
    if b.get("early_exit") or (rerun == "1" and b.get("rerun_stack_down")):
        print("! _pytest.outcomes.Exit: the stack is not up (api not ready); run `invoke stack.up` first !")
        open(junit, "w").write('<testsuite name="x" tests="0" failures="0" errors="0" skipped="0" time="0"/>')
        sys.exit(4)
    with open(log, "a") as f:
        f.write(f"{label} start {time.time()}\\n")
    import os
    progress = os.environ.get("E2E_PROGRESS")  # as the plugin's jobwatch writes it
    if progress and b.get("progress"):
        os.makedirs(os.path.dirname(progress), exist_ok=True)
        json.dump([f"t.py::c{i}" for i in range(b.get("tests", 2))], open(progress + ".selected", "w"))
        open(progress, "w").write("t.py::c1")
    if b.get("partial"):  # pytest stopped by a signal from elsewhere: a report of what it finished
        open(junit, "w").write('<testsuite name="x" tests="1" failures="0" errors="0" skipped="0" '
                               'time="0.1"><testcase classname="t" name="c0" time="0.01"/>'
                               '<testcase time="0.2"/></testsuite>')  # as pytest leaves the cut one
        sys.exit(2)
    time.sleep(b.get("sleep", 0.05))  # the fake suite's simulated run time, not a wait
    tests = b.get("tests", 2)
    fail = b.get("fail", False) and not (rerun == "1" and b.get("flaky"))
    cases = "".join(
        f'<testcase classname="t" name="c{i}" time="0.01">'
        + ('<failure message="boom">boom</failure>' if fail and i == 0 else "") + "</testcase>"
        for i in range(tests))
    open(junit, "w").write(
        f'<testsuite name="x" tests="{tests}" failures="{1 if fail and tests else 0}" errors="0" '
        f'skipped="0" time="0.1">{cases}</testsuite>')
    with open(log, "a") as f:
        f.write(f"{label} end {time.time()}\\n")
    sys.exit(1 if fail and tests else (5 if not tests else 0))
''')

TOOL = {
    "suites": {"backend": {}, "frontend": {}, "pipeline": {}},
    "phases": {
        "health": {"suites": ["backend"], "blocking": True, "seed": False},
        "smoke": {"suites": ["backend", "frontend", "pipeline"], "needs": ["health"]},
        "flows": {"suites": ["backend", "frontend"], "needs": ["smoke"], "blocking": False},
        "integrity": {"suites": ["backend", "pipeline"], "needs": ["smoke"], "blocking": True},
        "resilience": {"suites": ["backend", "pipeline"], "needs": ["flows", "integrity"],
                       "parallel": False, "timeout": 30},
    },
}


class FakeRunner(Runner):
    behaviours = None
    timeline = None

    def job_env(self, job):
        return {**super().job_env(job), "E2E_RUN_PID": ""}  # no run watch in the fakes

    def argv(self, job, *, rerun):
        return [sys.executable, str(self.root / "fake.py"), job.label,
                str(job.rerun_junit if rerun else job.junit), "1" if rerun else "0",
                str(self.behaviours), str(self.timeline)]


def _run(tmp_path, behaviours, tool=TOOL, options=None):
    (tmp_path / "fake.py").write_text(FAKE)
    model = load(tool)
    FakeRunner.behaviours = tmp_path / "behaviours.json"
    FakeRunner.timeline = tmp_path / "timeline.log"
    FakeRunner.behaviours.write_text(json.dumps(behaviours))
    seeds = []
    lines: list[str] = []
    runner = FakeRunner(tmp_path, model, options or Options(), echo=lines.append,
                        seed=lambda: seeds.append(time.time()))
    jobs = runner.run(runner.plan(model.select()))
    return {j.label: j for j in jobs}, lines, seeds


def _spans(tmp_path):
    spans: dict[str, list[float]] = {}
    for line in (tmp_path / "timeline.log").read_text().splitlines():
        label, _what, t = line.split()
        spans.setdefault(label, []).append(float(t))
    return spans


def test_all_green_runs_every_job_and_seeds_once_before_the_first_phase_needing_data(tmp_path):
    jobs, lines, seeds = _run(tmp_path, {})
    assert {j.status for j in jobs.values()} == {PASSED}
    assert len(seeds) == 1
    spans = _spans(tmp_path)
    assert spans["health/backend"][1] <= spans["smoke/backend"][0]  # needs are respected
    assert any("smoke/frontend" in ln and "passed in" in ln for ln in lines)


def test_a_failed_blocking_need_skips_everything_after_it_with_the_reason(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"health/backend": {"fail": True}})
    assert jobs["health/backend"].status == FAILED
    skipped = [j for j in jobs.values() if j.status == SKIPPED]
    assert len(skipped) == len(jobs) - 1
    assert jobs["smoke/frontend"].reason == "not run: health failed (1 failed)"
    # The root cause, not a chain: resilience needs flows, which needs smoke, which needs health.
    assert jobs["resilience/backend"].reason.startswith("not run: health failed (1 failed)")
    assert (tmp_path / "reports" / "junit" / "smoke-frontend.xml").exists()  # skip record written


def test_a_non_blocking_failure_skips_only_what_needs_it(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/frontend": {"fail": True}})
    assert jobs["flows/frontend"].status == FAILED
    assert jobs["integrity/pipeline"].status == PASSED
    assert jobs["resilience/backend"].status == SKIPPED
    assert jobs["resilience/backend"].reason == "not run: flows failed (1 failed)"


def test_a_blocking_failure_stops_phases_not_yet_started(tmp_path):
    tool = json.loads(json.dumps(TOOL))
    tool["phases"]["late"] = {"suites": ["backend"], "needs": ["flows"]}
    jobs, _lines, _ = _run(tmp_path, {"integrity/pipeline": {"fail": True},
                                      "flows/backend": {"sleep": 0.8}}, tool=tool)
    assert jobs["late/backend"].status == SKIPPED
    assert jobs["late/backend"].reason.startswith("not run: integrity failed (1 failed)")


def test_suites_of_a_parallel_phase_overlap_and_of_a_serial_one_take_turns(tmp_path):
    slow = {"sleep": 0.6}
    jobs, _lines, _ = _run(tmp_path, {"smoke/backend": slow, "smoke/frontend": slow,
                                      "resilience/backend": slow, "resilience/pipeline": slow})
    s = _spans(tmp_path)
    assert s["smoke/frontend"][0] < s["smoke/backend"][1]  # overlap
    serial = sorted([s["resilience/backend"], s["resilience/pipeline"]])
    assert serial[0][1] <= serial[1][0]  # one after the other


def test_a_test_that_passes_on_its_rerun_is_flaky_and_strict_makes_it_a_failure(tmp_path):
    flaky = {"flows/backend": {"fail": True, "flaky": True}}
    jobs, lines, _ = _run(tmp_path, flaky)
    assert jobs["flows/backend"].status == FLAKY
    assert jobs["flows/backend"].rerun_junit.exists()
    assert any("rerun" in ln for ln in lines)
    # The job's line shows the counts after the rerun, not the first attempt's failure.
    line = next(ln for ln in lines if "flows/backend" in ln and " flaky in " in ln)
    assert "(2 passed, 0 failed, 0 skipped)" in line and "log: " in line
    jobs, _lines, _ = _run(tmp_path, flaky, options=Options(strict=True))
    assert jobs["flows/backend"].status == FAILED


def test_a_suite_with_no_tests_for_the_marker_is_reported_as_such(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"integrity/pipeline": {"tests": 0}})
    assert jobs["integrity/pipeline"].status == NO_TESTS
    record = jobs["integrity/pipeline"].junit.read_text()
    assert "<skipped" in record and "no tests marked" in record
    assert jobs["resilience/pipeline"].status == PASSED


def test_a_timeout_stops_the_whole_tree_within_about_two_seconds(tmp_path):
    tool = {"suites": {"backend": {}}, "phases": {"p": {"suites": ["backend"], "timeout": 0.5}}}
    t0 = time.monotonic()
    jobs, lines, _ = _run(tmp_path, {"p/backend": {"sleep": 30}}, tool=tool)
    assert jobs["p/backend"].status == TIMEOUT
    assert time.monotonic() - t0 < 4.0
    assert any("timed out" in ln.lower() for ln in lines)
    assert jobs["p/backend"].proc.poll() is not None
    record = jobs["p/backend"].junit.read_text()
    assert "<error" in record and "timed out after" in record  # the merged report shows it


@pytest.fixture(autouse=True)
def _no_nox(monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


def test_a_failed_seed_stops_the_suites_already_running_and_skips_the_rest(tmp_path):
    tool = {"suites": {"backend": {}, "pipeline": {}},
            "phases": {"health": {"suites": ["backend"], "seed": False},
                       "load": {"suites": ["pipeline"]},  # needs nothing, so it starts with health
                       "after": {"suites": ["backend"], "needs": ["health", "load"]}}}
    (tmp_path / "fake.py").write_text(FAKE)
    FakeRunner.behaviours = tmp_path / "behaviours.json"
    FakeRunner.timeline = tmp_path / "timeline.log"
    FakeRunner.behaviours.write_text(json.dumps({"health/backend": {"sleep": 30}}))

    def broken_seed():
        raise RuntimeError("seed refused")

    model = load(tool)
    runner = FakeRunner(tmp_path, model, Options(), echo=lambda _line: None, seed=broken_seed)
    jobs = runner.plan(model.select())
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="seed refused"):
        runner.run(jobs)
    by_label = {j.label: j for j in jobs}
    assert time.monotonic() - started < 10  # the 30 s health run was stopped, not waited for
    assert by_label["health/backend"].status == ERRORED
    assert by_label["health/backend"].proc.poll() is not None
    assert by_label["after/backend"].status == SKIPPED
    assert "seed refused" in by_label["after/backend"].reason


def test_a_rerun_that_writes_no_junit_keeps_the_failure_and_says_why(tmp_path):
    jobs, lines, _ = _run(tmp_path, {"flows/backend": {"fail": True, "rerun_refused": True}})
    job = jobs["flows/backend"]
    assert job.status == FAILED
    assert "the rerun of the failed tests ran none (exit 4: see " in job.reason
    assert any("flows/backend" in line and "the first run's failures stand" in line for line in lines)


def test_pytest_stopping_before_its_first_test_is_a_failure_recorded_in_the_report(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/frontend": {"early_exit": True}})
    job = jobs["flows/frontend"]
    assert job.status == ERRORED
    assert job.reason.startswith("pytest ended before any test ran (exit 4): the stack is not up")
    assert "e2e.run-error" in job.junit.read_text() and "api not ready" in job.junit.read_text()
    assert jobs["resilience/backend"].status == SKIPPED  # resilience needs flows


def test_a_run_that_writes_no_junit_is_recorded_as_an_error(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"integrity/pipeline": {"no_junit": True}})
    job = jobs["integrity/pipeline"]
    assert job.status == ERRORED and "no JUnit written (exit 3)" in job.reason
    assert "e2e.run-error" in job.junit.read_text()


def test_an_empty_selection_is_no_tests_not_a_failure(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/frontend": {"tests": 0}})
    assert jobs["flows/frontend"].status == NO_TESTS
    assert jobs["resilience/backend"].status == PASSED


def test_a_rerun_stopped_by_a_down_stack_names_the_cause_and_keeps_the_failure(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/backend": {"fail": True, "rerun_stack_down": True}})
    job = jobs["flows/backend"]
    assert job.status == FAILED
    assert "ran none (exit 4: the stack is not up (api not ready)" in job.reason


def _cases(path):
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    return {(tc.get("classname"), tc.get("name")): tc for tc in root.iter("testcase")}


def test_a_timed_out_job_names_how_far_it_got_and_lists_every_test_it_did_not_run(tmp_path):
    from e2e_shared.report import merge

    tool = {"suites": {"backend": {}}, "phases": {"p": {"suites": ["backend"], "timeout": 0.5}}}
    jobs, _lines, _ = _run(tmp_path, {"p/backend": {"sleep": 30, "tests": 4, "progress": True}}, tool=tool)
    cases = _cases(jobs["p/backend"].junit)
    assert sorted(n for _c, n in cases) == ["c0", "c1", "c2", "c3"]  # one by one, none lost
    error = cases[("t", "c1")].find("error")  # the test that was running carries the error
    assert error.get("type") == "e2e.timeout"
    assert error.get("message").startswith("timed out after 0 of 4 tests, while running t.py::c1")
    assert cases[("t", "c3")].find("skipped").get("message") == "not run: p/backend timed out"
    result = merge(tmp_path / "reports" / "junit", tmp_path / "reports", step_summary=None)
    assert result.verdict == "fail" and result.totals.errored == 1 and result.totals.tests == 4


def test_a_partial_pytest_report_is_an_error_not_a_pass(tmp_path):
    from e2e_shared.report import merge

    tool = {"suites": {"backend": {}}, "phases": {"p": {"suites": ["backend"]}}}
    jobs, _lines, _ = _run(tmp_path, {"p/backend": {"partial": True, "tests": 3, "progress": True}},
                           tool=tool)
    job = jobs["p/backend"]
    assert job.status == ERRORED and job.reason.startswith("pytest stopped early (exit 2)")
    cases = _cases(job.junit)
    assert len(cases) == 3  # pytest's nameless case of the test it was running is not a fourth
    assert cases[("t", "c0")].find("error") is None  # what pytest finished keeps its result
    assert cases[("t", "c1")].find("error").get("type") == "e2e.run-error"
    assert cases[("t", "c2")].find("skipped") is not None
    result = merge(tmp_path / "reports" / "junit", tmp_path / "reports", step_summary=None)
    assert result.verdict == "fail"


def test_ctrl_c_stops_running_jobs_records_pending_ones_and_the_verdict_is_interrupted(tmp_path):
    import os
    import signal
    import threading

    from e2e_shared.report import merge

    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, {"health/backend": {"sleep": 30, "progress": True}})
    timer.cancel()
    assert time.monotonic() - t0 < 6
    files = sorted(p.name for p in (tmp_path / "reports" / "junit").glob("*.xml"))
    assert "health-backend.xml" in files and "resilience-pipeline.xml" in files  # every job
    health = _cases(tmp_path / "reports" / "junit" / "health-backend.xml")
    assert health[("t", "c1")].find("error").get("type") == "e2e.interrupted"
    result = merge(tmp_path / "reports" / "junit", tmp_path / "reports", step_summary=None,
                   interrupted=True)
    assert result.verdict == "interrupted"
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["verdict"] == "interrupted"
