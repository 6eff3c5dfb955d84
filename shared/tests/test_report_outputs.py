"""The report merger's other outputs: summary.json, summary.md, index.html, the line, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_shared.report import merge, summary_line
from e2e_shared.report.__main__ import main

DATA = Path(__file__).parent / "data" / "report" / "run"
SRC = Path(__file__).resolve().parents[1] / "src"
LINE = re.compile(r"summary: \d+ passed, \d+ failed, \d+ skipped \(\d+ flaky\) in \d+\.\ds")


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def junit_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA, tmp_path / "junit"))


def test_summary_line_format(junit_dir: Path, tmp_path: Path) -> None:
    lenient = merge(junit_dir, tmp_path / "a")
    assert summary_line(lenient) == "summary: 11 passed, 4 failed, 3 skipped (2 flaky) in 28.0s"
    strict = merge(junit_dir, tmp_path / "b", strict=True)
    assert summary_line(strict) == "summary: 9 passed, 6 failed, 3 skipped (2 flaky) in 28.0s"
    assert LINE.fullmatch(summary_line(strict))


def test_summary_json(junit_dir: Path, tmp_path: Path) -> None:
    result = merge(junit_dir, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "fail" and data["strict"] is False
    assert data["totals"] == {
        "tests": 18, "passed": 11, "failed": 3, "errored": 1, "skipped": 3, "flaky": 2,
    }
    assert data["duration"] == 28.0 and data["started"] == "2025-01-06T09:00:00Z"
    assert data["summary"] == summary_line(result)
    rows = data["suites"]
    assert [(r["order"], r["name"], r["status"]) for r in rows] == [
        (0, "health-backend", "passed"),
        (1, "smoke-backend", "failed"),
        (2, "smoke-frontend", "failed"),
        (3, "smoke-pipeline", "passed"),
    ]
    pipeline = rows[3]
    assert (pipeline["tests"], pipeline["skipped"], pipeline["duration"]) == (4, 1, 3.0)
    assert pipeline["shards"] == ["1", "2"]
    assert sorted(pipeline["files"]) == ["smoke-pipeline-shard1.xml", "smoke-pipeline-shard2.xml"]
    failures = {(f["phase"], f["suite"], f["test"], f["kind"]): f for f in data["failures"]}
    assert len(failures) == 4
    dashboard = failures[
        ("smoke", "frontend", "frontend_e2e.smoke.test_pages::test_dashboard[chromium]", "failed")
    ]
    assert dashboard["message"] == 'TimeoutError: waiting for get_by_text("Watchlists") <5s>'
    assert dashboard["type"] == "TimeoutError"
    assert dashboard["attachments"] == ["artifacts/test_dashboard/trace.zip"]  # relative to out
    assert ("smoke", "backend", "backend_e2e.smoke.test_api::test_error", "error") in failures
    assert [f["test"] for f in data["flaky"]] == [
        "frontend_e2e.smoke.test_pages::test_login[chromium]",
        "frontend_e2e.smoke.test_pages::test_upload[chromium]",
    ]
    slowest = data["slowest"]
    assert len(slowest) == 15
    assert [s["time"] for s in slowest] == sorted((s["time"] for s in slowest), reverse=True)
    assert slowest[0]["time"] == 4.0 and slowest[0]["suite"] == "frontend"
    # the fixture's attachments are not on disk: said once, with an example
    (warning,) = data["warnings"]
    assert warning.startswith("4 attachment(s) not found, their links are dead (e.g. ")


def test_summary_markdown(junit_dir: Path, tmp_path: Path) -> None:
    result = merge(junit_dir, tmp_path / "out")
    md = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("## E2E: ❌ fail\n")
    assert f"`{summary_line(result)}`" in md
    assert "| 1 | health | backend | ✅ passed | 2 | 2 | 0 | 0 | 0 | 0 | 2.0s |" in md
    assert "| 3 | smoke | frontend | ❌ failed | 4 | 3 | 1 | 0 | 0 | 2 | 17.5s |" in md
    assert "### Failures (4)" in md and "### Flaky (2, passed on rerun)" in md
    assert "### Slowest 15" in md
    # GitHub renders HTML in markdown: a message's <5s> must not become a tag
    assert 'get_by_text("Watchlists") &lt;5s&gt; |' in md
    assert "`backend_e2e.smoke.test_api::test_param[\\xe9\\x01]`" in md  # code span untouched


def test_markdown_is_appended_to_the_github_step_summary(
    junit_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = tmp_path / "step_summary.md"
    step.write_text("## Earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    merge(junit_dir, tmp_path / "out")
    md = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert step.read_text(encoding="utf-8") == "## Earlier step\n" + md
    merge(junit_dir, tmp_path / "out", step_summary=None)  # explicitly off
    assert step.read_text(encoding="utf-8") == "## Earlier step\n" + md


def test_index_html(junit_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # attachments are recorded relative to the workspace root
    merge(junit_dir, tmp_path / "reports")
    page = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    timeline = page[page.index("id='timeline'") : page.index("id='suites'")]
    assert timeline.count("class='bar ") == 2 + 4  # the phases health and smoke, four suites
    assert "class='bar s-failed' style='left:37.50%;width:62.50%'" in timeline  # 10.5s, 17.5s of 28
    failures = page[page.index("id='failures'") : page.index("id='flaky'")]
    assert failures.count("<details id='case-") == 4
    assert "test_dashboard[chromium]" in failures
    assert "GET /watchlists 500 &lt;boom&gt;" in failures and "<boom>" not in page  # escaped
    assert "dashboard first attempt output &amp; more" in failures  # its system-out
    assert "href='artifacts/test_dashboard/trace.zip'" in failures  # relative to reports/
    flaky = page[page.index("id='flaky'") : page.index("id='slowest'")]
    assert "test_login[chromium]" in flaky and "test_upload[chromium]" in flaky
    assert "href='artifacts/test_login/screenshot.png'" in flaky
    slowest = page[page.index("id='slowest'") : page.index("id='environment'")]
    assert slowest.count("<tr>") == 1 + 15


def test_index_html_is_self_contained(junit_dir: Path, tmp_path: Path) -> None:
    merge(junit_dir, tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<style>" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\ssrc|<link|@import|url\(|fetch\(|XMLHttpRequest", page,
                         re.IGNORECASE)
    assert page.count("<script>") == 1 and len(page.split("<script>")[1].split("</script>")[0]) < 3000
    assert "http://127.0.0.1:8080/login" in page  # URLs inside failure text are text, not links


def test_cli_exit_codes(
    junit_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", "--junit-dir", str(junit_dir), "--out", str(tmp_path / "a")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "summary: 11 passed, 4 failed, 3 skipped (2 flaky) in 28.0s"

    passing = tmp_path / "passing"
    passing.mkdir()
    shutil.copy(DATA / "health-backend.xml", passing)
    (passing / "smoke-backend.xml").write_text("")  # a bad file: warned, and it fails the run
    assert main(["merge", "--junit-dir", str(passing), "--out", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "warning: smoke-backend.xml: is empty" in err

    (passing / "smoke-backend.xml").unlink()
    assert main(["merge", "--junit-dir", str(passing), "--out", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("summary: 2 passed, 0 failed")


def test_cli_strict_fails_a_run_whose_only_failures_were_flaky(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit"
    junit.mkdir()
    shutil.copy(DATA / "smoke-frontend.xml", junit)
    rerun = (DATA / "smoke-frontend.rerun.xml").read_text(encoding="utf-8")
    (junit / "smoke-frontend.rerun.xml").write_text(
        re.sub(r"<failure.*?</failure>", "", rerun, flags=re.DOTALL), encoding="utf-8"
    )
    args = ["merge", "--junit-dir", str(junit), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1
    assert "(3 flaky)" in capsys.readouterr().out


def test_cli_without_input_exits_2_saying_what_to_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "e2e_shared.report", "merge", "--junit-dir", str(tmp_path / "none"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "no JUnit files in" in line and "invoke e2e.all" in line
    assert not (tmp_path / "out").exists()
