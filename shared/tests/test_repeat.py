"""The flake hunter's arithmetic: JUnit per run -> each test's failure rate and duration spread."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_shared import E2EError
from e2e_shared.repeat import aggregate, read_junit, render_markdown, run_repeat, summary


def _junit(path: Path, cases: str) -> Path:
    path.write_text(f'<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>')
    return path


def test_read_junit_keeps_the_worse_outcome_of_a_teardown_error(tmp_path: Path) -> None:
    got = read_junit(_junit(tmp_path / "a.xml",
                            '<testcase classname="m" name="t" time="1.0"/>'
                            '<testcase classname="m" name="t" time="0.5">'
                            '<error message="boom&#10;more"/></testcase>'
                            '<testcase classname="m" name="s" time="0"><skipped/></testcase>'))
    assert got == {"m::t": ("failed", 1.5, "boom"), "m::s": ("skipped", 0.0, "")}


def test_a_test_failing_in_some_runs_is_flaky_and_in_all_runs_broken() -> None:
    runs = [{"m::a": ("passed", 1.0, ""), "m::b": ("failed", 2.0, "x"), "m::c": ("failed", 1.0, "late")},
            {"m::a": ("passed", 3.0, ""), "m::b": ("failed", 2.0, "x"), "m::c": ("passed", 1.0, "")},
            {"m::a": ("passed", 2.0, ""), "m::b": ("failed", 2.0, "x")}]
    stats = {s.test: s for s in aggregate(runs)}
    assert stats["m::a"].verdict == "stable" and stats["m::a"].spread() == {
        "min": 1.0, "median": 2.0, "p95": 3.0, "max": 3.0}
    assert stats["m::b"].verdict == "broken"
    assert stats["m::c"].verdict == "flaky" and stats["m::c"].outcomes == ["failed", "passed", "missing"]
    assert stats["m::c"].first_failure == "run 1: late"
    result = summary(list(stats.values()), 3, "frontend (smoke or flow)", 12.0)
    assert (result["flaky"], result["broken"], result["failures"]) == (["m::c"], ["m::b"], 4)
    md = render_markdown(result)
    assert "**1 flaky**" in md and "| `m::c` | 1/2 | 50% | run 1: late |" in md


def test_phases_that_stop_services_are_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_ROOT", str(Path(__file__).resolve().parents[2]))
    with pytest.raises(E2EError, match="resilience"):
        run_repeat(2, ["resilience"], ["backend"])
    with pytest.raises(E2EError, match="at least 1"):
        run_repeat(0)
