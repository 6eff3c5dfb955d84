"""The engine on a second product: a throwaway workspace driven through the real command line.

``data/second_product`` is a whole workspace for "notes" (a small HTTP service on the host's
Python with the embedded PostgreSQL, its product package, one suite in two phases). Copied into a
temporary folder with the engine (``shared/``) and this repo's ``tasks.py`` unchanged, it runs
``invoke stack.up``, ``invoke e2e.all``, ``invoke report.merge`` and ``invoke stack.down``; then
the verdict, the merged report and the imported modules are checked: no Tradeboard module in
the host's commands nor in the suite's pytest processes (each records ``sys.modules`` at exit).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).parent / "data" / "second_product"
TRADEBOARD = {"tradeboard", "tradeboard_fixtures"}
COMMAND_TIMEOUT = 120.0


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(TEMPLATE, ws)
    # What a team's clone holds of the engine: shared/ and tasks.py, as they are here.
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "tests")
    shutil.copytree(ROOT / "shared", ws / "shared", ignore=skip)
    shutil.copy(ROOT / "tasks.py", ws / "tasks.py")
    return ws


# invoke, recording at exit every module the command imported (importlib.import_module included,
# which ``-X importtime`` would not show): the host side of the check.
RUN_INVOKE = """
import atexit, json, sys
atexit.register(lambda: open(sys.argv.pop(1), "w").write(json.dumps(sorted(sys.modules))))
from invoke.main import program
program.run([sys.argv[0], *sys.argv[2:]])
"""


def _invoke(ws: Path, env: dict[str, str], *task: str) -> subprocess.CompletedProcess[str]:
    record = ws / ".e2e-host-modules.json"
    record.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", RUN_INVOKE, str(record), *task], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    proc.modules = {name.split(".")[0] for name in json.loads(record.read_text())} \
        if record.is_file() else set()
    return proc


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture
def notes_workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    if shutil.which("uv") is None and not (Path(sys.executable).parent / "uv").exists():
        pytest.fail("uv is not installed in this environment (the workspace's suite env needs it)")
    ws = _workspace(tmp_path)
    # Only this workspace: no state dir, target or root of the developer's shell leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2E_", "NOX_", "GITHUB_"))}
    env.update(E2E_ROOT=str(ws), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    yield ws, env
    down = _invoke(ws, env, "stack.down")  # always: no process of this test outlives it
    assert down.returncode == 0, _output(down)


def test_a_second_product_runs_green_through_the_command_line_without_tradeboard(notes_workspace):
    ws, env = notes_workspace
    t0 = time.monotonic()
    host: dict[str, set[str]] = {}

    up = _invoke(ws, env, "stack.up")
    assert up.returncode == 0, _output(up)
    assert "db: ready" in up.stdout and "api: ready" in up.stdout
    host["stack.up"] = up.modules

    run = _invoke(ws, env, "e2e.all")
    assert run.returncode == 0, _output(run)
    # The product's own words on the seed line: its describe(), reached through [tool.e2e] product.
    assert "data.seed: baseline ready in" in run.stdout and "(2 notes)" in run.stdout, run.stdout
    assert "smoke/notes" in run.stdout and "flows/notes" in run.stdout
    assert "summary: 3 passed, 0 failed, 0 skipped (0 flaky)" in run.stdout, run.stdout
    host["e2e.all"] = run.modules
    assert "notes_fixtures" in host["e2e.all"]  # data.seed asked the notes product, by name

    merge = _invoke(ws, env, "report.merge")
    assert merge.returncode == 0, _output(merge)
    host["report.merge"] = merge.modules
    summary = json.loads((ws / "reports" / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    assert summary["totals"]["passed"] == 3 and summary["totals"]["failed"] == 0
    merged = (ws / "reports" / "junit.xml").read_text()
    for name in ("test_health_answers", "test_the_baseline_is_seeded",
                 "test_a_note_round_trips_and_is_gone_after_delete"):
        assert name in merged
    assert (ws / "reports" / "index.html").is_file()
    assert {p.name for p in (ws / "reports" / "junit").glob("*.xml")} >= {"smoke-notes.xml",
                                                                          "flows-notes.xml"}

    # The suite side: every pytest run loaded the notes product's plugin and nothing of Tradeboard.
    records = [json.loads(p.read_text()) for p in (ws / ".e2e" / "imported").glob("*.json")]
    assert len(records) >= 2, "each phase's pytest run records its modules"
    for tops in records:
        assert "notes_fixtures" in tops and "e2e_shared" in tops
        assert not TRADEBOARD & set(tops), f"a suite process imported {TRADEBOARD & set(tops)}"
    for command, tops in host.items():
        assert "e2e_shared" in tops, f"{command}: no modules recorded"
        assert not TRADEBOARD & tops, f"invoke {command} imported {TRADEBOARD & tops}"
    print(f"second product: stack.up, e2e.all and report.merge in {time.monotonic() - t0:.1f}s")
