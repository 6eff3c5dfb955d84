from __future__ import annotations

import json
import subprocess

from e2e_shared.config import load_settings
from e2e_shared.drivers.compose import ComposeDriver
from e2e_shared.stackdef import parse


def _driver(root, tmp_path, monkeypatch, stdout=""):
    monkeypatch.setenv("E2E_STATE_DIR", str(tmp_path / "state"))
    settings = load_settings(root, profile="compose")
    driver = ComposeDriver(settings, parse(settings.tool))
    calls = []

    def runner(argv):
        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, stdout, "")

    driver.runner = runner  # type: ignore[method-assign]
    return driver, calls


def test_up_waits_for_health_and_names_the_services(root, tmp_path, monkeypatch):
    driver, calls = _driver(root, tmp_path, monkeypatch)
    ep = driver.up(echo=lambda _m: None)
    argv = calls[0]
    assert argv[:3] == ["docker", "compose", "-f"]
    assert argv[3].endswith("compose/compose.yaml")
    assert "--wait" in argv and "db" in argv and "objects" in argv
    assert ep.s3_url == "http://127.0.0.1:19000"


def test_down_removes_volumes_unless_kept(root, tmp_path, monkeypatch):
    driver, calls = _driver(root, tmp_path, monkeypatch)
    driver.down(echo=lambda _m: None)
    driver.down(keep=True, echo=lambda _m: None)
    assert "--volumes" in calls[0] and "--volumes" not in calls[1]


def test_status_reads_compose_ps_json(root, tmp_path, monkeypatch):
    lines = "\n".join(json.dumps(x) for x in [
        {"Service": "db", "State": "running", "Health": "healthy", "Status": "Up 3s"},
        {"Service": "objects", "State": "exited", "Health": "", "Status": "Exited (1)"},
    ])
    driver, _ = _driver(root, tmp_path, monkeypatch, stdout=lines)
    rows = {r.name: r for r in driver.status()}
    assert rows["db"].ready and rows["db"].state == "running"
    assert not rows["objects"].ready and rows["objects"].state == "exited"


def test_faults_map_to_compose_commands(root, tmp_path, monkeypatch):
    driver, calls = _driver(root, tmp_path, monkeypatch)
    driver.kill("db")
    driver.stop("objects")
    assert calls[0][-3:] == ["-s", "SIGKILL", "db"]
    assert calls[1][-2:] == ["stop", "objects"]


def test_wire_faults_drive_toxiproxy_on_the_published_api_port(root, tmp_path, monkeypatch):
    driver, _calls = _driver(root, tmp_path, monkeypatch)
    assert driver.proxy_client().base_url == "http://127.0.0.1:8474"
    assert driver.endpoints().api_url == "http://127.0.0.1:18000"  # Toxiproxy's listener for api
