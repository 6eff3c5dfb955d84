"""A job's report that names every test it was to run, whatever cut it short."""

from __future__ import annotations

from lxml import etree

from e2e_shared import jobreport

MANIFEST = {
    "b/health/test_h.py::test_up": ["contract:health.checks", "health"],
    "b/health/test_h.py::test_version": ["health"],
    "b/flows/test_f.py::test_journey": ["contract:auth.login", "flow"],
}


def test_tests_not_run_keep_their_promises_and_only_the_phase_marker_selects(tmp_path):
    tests = jobreport.tests_for(MANIFEST, "health")
    assert tests == ["b/health/test_h.py::test_up", "b/health/test_h.py::test_version"]
    path = jobreport.complete(tmp_path / "health-backend.xml", "health", "backend", tests=tests,
                              status="timed out", message="timed out after 0 of 2 tests",
                              skip_reason="not run: health timed out", run_id="r1",
                              contract=jobreport.contract_ids(MANIFEST))
    root = etree.parse(str(path)).getroot()
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    assert set(cases) == {"test_up", "test_version"}  # the flows test is not this job's
    assert cases["test_up"].find("error").get("type") == "e2e.timeout"
    assert cases["test_up"].find("properties/property").get("value") == "health.checks"
    assert cases["test_version"].find("skipped").get("message") == "not run: health timed out"
    assert jobreport.run_id_of(path) == "r1"


def test_shards_of_tests_not_run_add_up_to_the_whole_without_overlap():
    many = {f"t.py::test_{i}": ["smoke"] for i in range(7)}
    parts = [set(jobreport.tests_for(many, "smoke", (i, 3))) for i in (1, 2, 3)]
    assert set().union(*parts) == set(many) and sum(map(len, parts)) == 7
