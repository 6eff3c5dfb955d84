"""No secret anywhere under reports/: a failing browser probe leaks tokens and passwords every
way it can, its run is written as the runner writes one (JUnit, console log, artifacts), masked
and merged; then every file under reports/ is searched, traces unzipped."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

from e2e_shared.masking import mask_file
from e2e_shared.report import merge

PROBE = Path(__file__).parent / "data" / "masking_probe"
ROOT = Path(__file__).resolve().parents[2]
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{part({'sig': uuid.uuid4().hex})}"


def _contents(reports: Path) -> dict[str, bytes]:
    """Every file under reports/, zip members as ``path!member``."""
    out: dict[str, bytes] = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        data = path.read_bytes()
        out[str(path.relative_to(reports))] = data
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    out[f"{path.relative_to(reports)}!{name}"] = z.read(name)
    return out


def test_a_leaking_failing_probe_leaves_no_secret_under_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    reports = tmp_path / "reports"
    log = reports / "logs" / "flows-frontend.log"
    log.parent.mkdir(parents=True)
    access, refresh = _jwt({"sub": "bob", "typ": "access"}), _jwt({"sub": "bob", "typ": "refresh"})
    typed = f"typed-{uuid.uuid4().hex[:10]}"
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    # The workspace is this one: its product's baseline passwords are secrets in every process.
    monkeypatch.setenv("E2E_ROOT", str(ROOT))
    env = {**os.environ, "PROBE_ACCESS": access, "PROBE_REFRESH": refresh, "PROBE_TYPED": typed,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:  # as the runner writes a job's log
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", str(PROBE), "-p", "frontend_e2e.support.artifacts",
             "-p", "no:playwright", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
             f"--junitxml={reports / 'junit' / 'flows-frontend.xml'}", "-o", "junit_logging=all",
             "--e2e-artifacts", str(reports / "artifacts")],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False)
    raw_log = log.read_bytes()
    assert proc.returncode == 1, raw_log.decode(errors="replace")[-3000:]
    assert access.encode() in raw_log  # the raw write reached the log: masking has work to do
    monkeypatch.chdir(tmp_path)
    assert mask_file(log) is True  # the runner's step for reports/logs/
    result = merge(reports / "junit", reports, step_summary=None)
    assert result.totals.failed == 1

    files = _contents(reports)
    traces = [name for name in files if name.endswith("trace.zip")]
    assert traces and any(name.endswith(".trace") for name in files)  # a trace was kept
    assert any(name.endswith(".png") for name in files)  # and a screenshot
    tabs = [json.loads(data) for name, data in files.items() if name.endswith("/tabs.json")]
    assert [[tab["url"] for tab in kept] for kept in tabs] == [["http://probe.test/login"]]
    assert {"junit.xml", "index.html", "summary.json", "logs/flows-frontend.log"} <= set(files)
    leaks = {name: secret for name, data in files.items()
             for secret in (access, refresh, "bob-local-pw", typed)
             if secret.encode() in data}
    leaks |= {name: "a JWT" for name, data in files.items() if JWT.search(data)}
    assert leaks == {}
    # What was masked is still there, as a mask: the failure reads as it happened.
    junit = files["junit.xml"].decode()
    assert "bob (***) is not signed in; token ***" in junit, junit[:3000]
