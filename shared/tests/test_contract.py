"""Contract traceability: promise ids in the contract, markers in the suites, outcomes from junit.xml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e_shared import E2EError, contract

ROOT = Path(__file__).resolve().parents[2]
SUITES = [ROOT / "backend_e2e", ROOT / "frontend_e2e", ROOT / "pipeline_e2e"]

CONTRACT = """# Shop contract

## Carts
- A cart holds at most 10 items. {#carts.limit}

| method, path | answer |
| --- | --- |
| `GET /carts` | 200, oldest first {#carts.list} |
"""


def test_promises_are_read_with_their_text_and_line() -> None:
    promises = contract.parse(CONTRACT)
    assert [(p.id, p.line) for p in promises] == [("carts.limit", 4), ("carts.list", 8)]
    assert promises[0].text == "A cart holds at most 10 items."
    assert promises[1].text == "`GET /carts` | 200, oldest first"


def test_a_repeated_id_is_refused_with_both_lines() -> None:
    with pytest.raises(E2EError, match=r"contract:2: .* line 1"):
        contract.parse("x {#a.b}\ny {#a.b}\n")


def test_a_contract_without_ids_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.md").write_text("# nothing promised\n")
    with pytest.raises(E2EError, match="names no promise"):
        contract.load(tmp_path / "c.md")


def test_marker_ids_must_look_like_ids() -> None:
    assert contract.marker_ids(["carts.limit"]) == ["carts.limit"]
    with pytest.raises(E2EError):
        contract.marker_ids(["Carts limit"])


def test_markers_are_found_statically_in_test_sources(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        "import pytest\npytestmark = [pytest.mark.smoke, pytest.mark.contract('carts.limit')]\n"
        "@pytest.mark.contract('carts.list', 'carts.limit')\ndef test_x(): pass\n")
    found = contract.guards_in_sources([tmp_path])
    assert set(found) == {"carts.limit", "carts.list"}
    promises = contract.parse(CONTRACT + "- x {#carts.empty}\n")
    assert contract.unguarded(promises, found) == ["carts.empty"]
    assert contract.unknown(promises, ["carts.limit", "carts.typo"]) == ["carts.typo"]


def _junit(path: Path, in_output: bool) -> Path:
    moved = ("<system-out>===== t.m::test_ok =====\n[[PROPERTY|contract=carts.limit carts.list]]\n"
             "===== t.m::test_bad =====\n[[PROPERTY|contract=carts.limit]]\n</system-out>")

    def props(ids: str) -> str:
        return "" if in_output else f'<properties><property name="contract" value="{ids}"/></properties>'

    path.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="smoke-backend">'
        '<properties><property name="flaky" value="t.m::test_flaky"/></properties>'
        f'<testcase classname="t.m" name="test_ok">{props("carts.limit carts.list")}</testcase>'
        f'<testcase classname="t.m" name="test_bad">{props("carts.limit")}<failure message="x"/></testcase>'
        f'<testcase classname="t.m" name="test_flaky">{props("carts.list")}</testcase>'
        f"{moved if in_output else ''}</testsuite></testsuites>")
    return path


@pytest.mark.parametrize("in_output", [True, False], ids=["ant-moved-to-output", "testcase-properties"])
def test_report_lists_each_promise_with_its_tests_and_the_unguarded(tmp_path: Path, in_output: bool) -> None:
    promises = contract.parse(CONTRACT + "- x {#carts.empty}\n")
    rep = contract.report(promises, _junit(tmp_path / "junit.xml", in_output), "c.md")
    by_id = {p["id"]: p for p in rep["promises"]}
    assert by_id["carts.limit"]["status"] == "failed"
    assert {g["test"]: g["outcome"] for g in by_id["carts.limit"]["tests"]} == {
        "t.m::test_ok": "passed", "t.m::test_bad": "failed"}
    assert by_id["carts.empty"]["status"] == "unguarded"
    assert rep["unguarded"] == ["carts.empty"]
    assert rep["totals"] == {"promises": 3, "passed": 1, "failed": 1, "skipped": 0, "unguarded": 1}


def test_write_report_adds_contract_json_the_summary_section_and_the_summary_key(tmp_path: Path) -> None:
    _junit(tmp_path / "junit.xml", in_output=True)
    (tmp_path / "summary.md").write_text("# E2E\n")
    (tmp_path / "summary.json").write_text(json.dumps({"verdict": "pass"}))
    (tmp_path / "c.md").write_text(CONTRACT)
    step = tmp_path / "step.md"
    contract.write_report(tmp_path, tmp_path / "c.md", step)
    assert json.loads((tmp_path / "contract.json").read_text())["totals"]["promises"] == 2
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    assert [p["id"] for p in summary["contract"]["promises"]] == ["carts.limit", "carts.list"]
    assert "## Contract" in (tmp_path / "summary.md").read_text()
    assert "`carts.limit` | ❌ failed" in step.read_text()


def test_without_a_contract_nothing_is_written(tmp_path: Path) -> None:
    assert contract.write_report(tmp_path, tmp_path / "missing.md") is None
    assert not (tmp_path / "contract.json").exists()


# --- this workspace's own contract -----------------------------------------------------------------

def test_the_workspace_names_its_contract() -> None:
    path = contract.contract_path(ROOT)
    assert path is not None and path.is_file(), path


def test_every_promise_of_the_contract_has_a_guarding_test() -> None:
    promises = contract.load(contract.contract_path(ROOT))  # type: ignore[arg-type]
    missing = contract.unguarded(promises, contract.guards_in_sources(SUITES))
    assert not missing, "promises no test guards (add @pytest.mark.contract(id)): " + ", ".join(missing)


def test_every_contract_id_a_test_declares_is_in_the_contract() -> None:
    promises = contract.load(contract.contract_path(ROOT))  # type: ignore[arg-type]
    guards = contract.guards_in_sources(SUITES)
    bad = {i: guards[i] for i in contract.unknown(promises, guards)}
    assert not bad, f"ids not in the contract: {bad}"


# --- the plugin: the marker, the JUnit property, unknown ids -------------------------------------

pytest_plugins = ["pytester"]


@pytest.fixture
def workspace(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    (pytester.path / "pyproject.toml").write_text(
        '[tool.e2e]\ncontract = "C.md"\n[tool.e2e.services.db]\ncommand = ["x"]\nready = "sql"\nport = 1\n')
    (pytester.path / "C.md").write_text(CONTRACT)
    monkeypatch.setenv("E2E_ROOT", str(pytester.path))
    return pytester


def test_the_plugin_records_the_ids_as_a_junit_property(workspace: pytest.Pytester) -> None:
    workspace.makepyfile("""
        import pytest
        pytestmark = pytest.mark.contract("carts.list")
        @pytest.mark.contract("carts.limit")
        def test_x():
            pass
    """)
    result = workspace.runpytest("--strict-markers", "--junitxml=out.xml", "-p", "no:playwright")
    result.assert_outcomes(passed=1)
    xml = (workspace.path / "out.xml").read_text()
    assert '<property name="contract" value="carts.limit carts.list"' in xml


def test_an_id_the_contract_lacks_stops_the_run_in_one_line(workspace: pytest.Pytester) -> None:
    workspace.makepyfile("""
        import pytest
        @pytest.mark.contract("carts.limt")
        def test_x():
            pass
    """)
    result = workspace.runpytest("-p", "no:playwright")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*contract ids not in C.md: carts.limt*"])


def test_ids_survive_the_real_merge_into_each_tests_own_output(tmp_path: Path) -> None:
    """The merge moves a test's properties into its own <system-out>; the report still finds them."""
    from e2e_shared.report import merge

    junit = tmp_path / "junit"
    junit.mkdir()
    (junit / "smoke-backend.xml").write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="smoke-backend" tests="2" failures="1" '
        'errors="0" skipped="0" time="1">'
        '<testcase classname="t.m" name="test_ok" time="0.1"><properties>'
        '<property name="contract" value="carts.limit carts.list"/></properties></testcase>'
        '<testcase classname="t.m" name="test_bad" time="0.1"><properties>'
        '<property name="contract" value="carts.limit"/></properties>'
        '<failure message="AssertionError: no">AssertionError: no</failure></testcase>'
        '</testsuite></testsuites>')
    merge(junit, tmp_path / "out", step_summary=None)
    rep = contract.report(contract.parse(CONTRACT), tmp_path / "out" / "junit.xml", "c.md")
    by_id = {p["id"]: p for p in rep["promises"]}
    assert by_id["carts.list"]["status"] == "passed"
    assert by_id["carts.limit"]["status"] == "failed"
    assert rep["unguarded"] == []
