"""The phase scheduler, with fake suite sessions instead of nox (fast, deterministic)."""

from __future__ import annotations

import json
import sys
import textwrap
import time

import pytest

from e2e_shared.phases import load
from e2e_shared.runner import FAILED, FLAKY, NO_TESTS, PASSED, SKIPPED, TIMEOUT, Options, Runner

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
    assert "needs health" in jobs["smoke/frontend"].reason
    assert (tmp_path / "reports" / "junit" / "smoke-frontend.xml").exists()  # skip record written


def test_a_non_blocking_failure_skips_only_what_needs_it(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/frontend": {"fail": True}})
    assert jobs["flows/frontend"].status == FAILED
    assert jobs["integrity/pipeline"].status == PASSED
    assert jobs["resilience/backend"].status == SKIPPED
    assert "needs flows" in jobs["resilience/backend"].reason


def test_a_blocking_failure_stops_phases_not_yet_started(tmp_path):
    tool = json.loads(json.dumps(TOOL))
    tool["phases"]["late"] = {"suites": ["backend"], "needs": ["flows"]}
    jobs, _lines, _ = _run(tmp_path, {"integrity/pipeline": {"fail": True},
                                      "flows/backend": {"sleep": 0.8}}, tool=tool)
    assert jobs["late/backend"].status == SKIPPED
    assert "blocked" in jobs["late/backend"].reason or "needs" in jobs["late/backend"].reason


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
    assert any("timed out" in ln for ln in lines)
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
    assert by_label["health/backend"].status == FAILED
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
    assert job.status == FAILED
    assert job.reason.startswith("pytest ended before any test ran (exit 4): the stack is not up")
    assert "RunError" in job.junit.read_text() and "api not ready" in job.junit.read_text()
    assert jobs["resilience/backend"].status == SKIPPED  # resilience needs flows


def test_a_run_that_writes_no_junit_is_recorded_as_an_error(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"integrity/pipeline": {"no_junit": True}})
    job = jobs["integrity/pipeline"]
    assert job.status == FAILED and "no JUnit written (exit 3)" in job.reason
    assert "RunError" in job.junit.read_text()


def test_an_empty_selection_is_no_tests_not_a_failure(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/frontend": {"tests": 0}})
    assert jobs["flows/frontend"].status == NO_TESTS
    assert jobs["resilience/backend"].status == PASSED


def test_a_rerun_stopped_by_a_down_stack_names_the_cause_and_keeps_the_failure(tmp_path):
    jobs, _lines, _ = _run(tmp_path, {"flows/backend": {"fail": True, "rerun_stack_down": True}})
    job = jobs["flows/backend"]
    assert job.status == FAILED
    assert "ran none (exit 4: the stack is not up (api not ready)" in job.reason
