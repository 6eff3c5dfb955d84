"""Finding and stopping what is ours without (a valid) state file, and leaving what is not.

Real processes: a tiny HTTP service stands in for a service where PostgreSQL adds nothing but
time; the corrupt-state scenarios use the real database (``driver.up(["db"])``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import psutil
import pytest

from e2e_shared import procs, reaping
from e2e_shared.config import Settings, load_tool_config
from e2e_shared.drivers.embedded import EmbeddedDriver
from e2e_shared.ownership import job_markers, owned_processes, without_markers
from e2e_shared.stackdef import parse
from e2e_shared.stackops import stack_down, status_report
from e2e_shared.state import ServiceState, StackState
from e2e_shared.waits import wait_until

# Serves HTTP from its data directory (so it holds it, as PostgreSQL does) and says which signal
# stopped it. No braces: the command is a template.
TINY = textwrap.dedent("""
    import http.server, os, signal, sys
    os.makedirs(sys.argv[2], exist_ok=True)
    os.chdir(sys.argv[2])
    def bye(sig, frame):
        print("stopped by " + signal.Signals(sig).name, flush=True)
        os._exit(0)
    signal.signal(signal.SIGINT, bye)
    signal.signal(signal.SIGTERM, bye)
    handler = http.server.SimpleHTTPRequestHandler
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
""")
TINY_SERVICE = {"command": [sys.executable, "-c", TINY, "{port}", "{data}"], "ready": "http",
                "port": 0, "stop_signal": "SIGINT"}


def _driver(root, tmp_path, *, state_root=None) -> EmbeddedDriver:
    tool = load_tool_config(root)
    services = {k: dict(v, port=0) for k, v in tool["services"].items() if k == "db"}
    tool = {**tool, "state_dir": str(tmp_path / "state"), "services": {**services, "tiny": TINY_SERVICE}}
    return EmbeddedDriver(Settings(root=state_root or root, tool=tool, profile="embedded"), parse(tool))


def _recorded(driver: EmbeddedDriver) -> StackState:
    state = StackState.load(driver.settings.state_file)
    assert state is not None
    return state


def _alive(pid: int) -> bool:
    return procs.is_alive(pid)


def _foreign_sleep(children) -> psutil.Process:
    proc = subprocess.Popen(["setsid", "sleep", "600"], env=without_markers(dict(os.environ)))
    children.append(proc)
    wait_until(lambda: psutil.Process(proc.pid).name() == "sleep", what="setsid to exec sleep", timeout=5)
    return psutil.Process(proc.pid)


def _dead_run() -> tuple[int, float]:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    started = psutil.Process(proc.pid).create_time()
    proc.communicate(b"")
    return proc.pid, started


JOB = textwrap.dedent("""
    import signal, subprocess, sys
    # Like nox under a killed invoke: it started pytest (here: a child) and runs on.
    child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
    print(child.pid, flush=True)
    while True:
        signal.pause()
""")


def _leftover_job(driver, tmp_path, children, *, live: bool) -> tuple[int, int]:
    """A suite run with the job markers; its run is this process when ``live``, else a dead one."""
    env = {**os.environ, **job_markers(driver.owner, "smoke", "backend", "run1")}
    if not live:
        pid, started = _dead_run()
        env.update(E2E_RUN_PID=str(pid), E2E_RUN_STARTED=repr(started), E2E_RUN_ID="deadrun")
    log = tmp_path / f"job-{live}.log"
    proc = procs.spawn([sys.executable, "-c", JOB], log=log, env=env)
    children.append(proc)
    child = wait_until(lambda: [int(x) for x in log.read_text().splitlines() if x.isdigit()],
                       what="the job's child pid", timeout=10)[0]
    return proc.pid, child


# --- a stale pid that now belongs to someone else ------------------------------------------------

def test_a_stale_db_pid_held_by_a_foreign_process_is_forgotten_never_killed(root, tmp_path, children):
    sleeper = _foreign_sleep(children)
    driver = _driver(root, tmp_path)
    # Recorded with the sleeper's own create time: only the marker tells it is not ours.
    stale = StackState(run_id="old", services={"db": ServiceState(
        pid=sleeper.pid, started=sleeper.create_time(), port=15432, stop_signal="SIGINT")})
    stale.save(driver.settings.state_file)
    said = "\n".join(driver.findings())
    assert f"db: pid {sleeper.pid} in the state file is no longer ours (now `sleep 600`)" in said
    assert {r.name: r.state for r in driver.status()}["db"] == "down"

    messages: list[str] = []
    driver.down(keep=True, echo=messages.append)
    assert f"db: pid {sleeper.pid} is no longer ours (now `sleep 600`); forgotten" in messages
    assert sleeper.is_running() and sleeper.status() != psutil.STATUS_ZOMBIE
    assert not driver.settings.state_file.exists()

    stale.save(driver.settings.state_file)
    messages.clear()
    try:
        driver.up(["tiny"], echo=messages.append)
        assert f"db: pid {sleeper.pid} is no longer ours (now `sleep 600`); forgotten" in messages
        assert sleeper.is_running() and sleeper.status() != psutil.STATUS_ZOMBIE
        assert all(r.ready for r in driver.status() if r.name == "tiny")
    finally:
        driver.down(echo=lambda _m: None)
    assert sleeper.is_running() and sleeper.status() != psutil.STATUS_ZOMBIE


# --- a corrupt state file over a live database -----------------------------------------------------

def _corrupt(path, how: str) -> None:
    text = path.read_text()
    data = json.loads(text)
    if how == "truncated":
        path.write_text(text[:60])
    elif how == "empty":
        path.write_text("")
    elif how == "list":
        path.write_text("[]")
    elif how == "string pid":
        data["services"]["db"]["pid"] = str(data["services"]["db"]["pid"])
        path.write_text(json.dumps(data))
    elif how == "unknown key":
        path.write_text(json.dumps({**data, "owner": "me"}))


@pytest.mark.parametrize("how", ["truncated", "empty", "list", "string pid", "unknown key"])
def test_a_corrupt_state_file_with_a_live_db_is_found_stopped_and_its_data_kept_until_then(
        root, tmp_path, how):
    driver = _driver(root, tmp_path)
    driver.up(["db"], echo=lambda _m: None)
    pid = _recorded(driver).services["db"].pid
    data = driver.data_dir("db")
    try:
        _corrupt(driver.settings.state_file, how)
        rows = {r.name: r for r in driver.status()}
        assert (rows["db"].state, rows["db"].pid) == ("orphaned", pid)
        findings = driver.findings()
        assert findings[0].startswith(f"error: {driver.settings.state_file} is corrupt (")
        assert any(f.startswith(f"db: running as pid {pid} (found by its marker)") for f in findings)
        assert "invoke stack.down" in findings[-1]
        assert "orphaned" in status_report(driver)

        # Removing the data directory under the live database is refused.
        said: list[str] = []
        assert not reaping.remove_data(driver.state_dir, said.append)
        assert data.exists() and said[0].startswith(f"kept {driver.state_dir / 'data'}: still in use by pid")

        # Each line of down, with what was true when it was said.
        events: list[tuple[str, bool, bool]] = []
        driver.down(echo=lambda m: events.append((m, _alive(pid), data.exists())))
    finally:
        if _alive(pid):
            os.killpg(pid, 9)
    lines = [m for m, _, _ in events]
    assert lines[0].startswith(f"{driver.settings.state_file} is corrupt (")
    assert any(m.startswith(f"db: found running by its marker (pid {pid}") and m.endswith("stopped")
               for m in lines)
    removed = lines.index(f"removed {driver.state_dir / 'data'}")
    assert all(exists for _, _, exists in events[:removed])  # the data lived as long as the db did
    assert not events[removed][1]  # and the db was gone when it was removed
    assert not _alive(pid) and not data.exists() and not driver.settings.state_file.exists()
    assert owned_processes(driver.owner) == []


def test_up_over_a_corrupt_state_file_stops_the_orphan_and_starts_afresh(root, tmp_path):
    driver = _driver(root, tmp_path)
    driver.up(["tiny"], echo=lambda _m: None)
    old = _recorded(driver).services["tiny"].pid
    driver.settings.state_file.write_text('{"driver": "embedded", "serv')
    messages: list[str] = []
    try:
        driver.up(["tiny"], echo=messages.append)
        assert messages[0].startswith(f"{driver.settings.state_file} is corrupt (")
        assert any(m.startswith(f"tiny: found running by its marker (pid {old}") for m in messages)
        assert not _alive(old)
        new = _recorded(driver).services["tiny"].pid
        assert new != old and _alive(new)
    finally:
        driver.down(echo=lambda _m: None)
    assert owned_processes(driver.owner) == []


# --- suite runs left behind by a killed run -------------------------------------------------------

def test_up_stops_the_suite_runs_of_a_killed_run_and_leaves_a_live_runs_alone(root, tmp_path, children):
    driver = _driver(root, tmp_path)
    dead_job, dead_child = _leftover_job(driver, tmp_path, children, live=False)
    live_job, live_child = _leftover_job(driver, tmp_path, children, live=True)
    said = driver.findings()
    assert any(f"suite run smoke-backend: running as pid {dead_job}, left by run deadrun" in f for f in said)
    assert any(f"suite run smoke-backend: running as pid {live_job}, of the live run run1" in f for f in said)
    messages: list[str] = []
    try:
        driver.up(["tiny"], echo=messages.append)
        stop = [m for m in messages if m.startswith("suite run")]
        assert len(stop) == 1
        assert stop[0].startswith(
            f"suite run smoke-backend (pid {dead_job}) left by run deadrun whose invoke")
        assert stop[0].endswith(": stopped")
        assert not _alive(dead_job) and not _alive(dead_child)
        assert _alive(live_job) and _alive(live_child)
    finally:
        messages.clear()
        driver.down(echo=messages.append)
    # down stops them all, live ones too, and says so.
    live_line = f"suite run smoke-backend (pid {live_job}) of the live run run1"
    assert any(m.startswith(live_line) for m in messages)
    assert not _alive(live_job) and not _alive(live_child)
    assert owned_processes(driver.owner) == []


def test_down_with_no_state_file_stops_a_leftover_suite_run(root, tmp_path, children):
    driver = _driver(root, tmp_path)
    job, child = _leftover_job(driver, tmp_path, children, live=False)
    messages: list[str] = []
    driver.down(echo=messages.append)
    assert messages[0].startswith(f"suite run smoke-backend (pid {job}) left by run deadrun")
    assert "nothing to stop" not in "\n".join(messages)
    assert not _alive(job) and not _alive(child)


# --- stack.down without a readable [tool.e2e] ------------------------------------------------------

@pytest.mark.parametrize("state_file", ["kept", "deleted"])
def test_down_works_from_the_state_file_and_markers_when_the_pyproject_is_broken(
        root, tmp_path, monkeypatch, state_file):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    driver = _driver(root, workspace, state_root=workspace)
    monkeypatch.setenv("E2E_ROOT", str(workspace))
    monkeypatch.setenv("E2E_STATE_DIR", str(driver.state_dir))
    driver.up(["tiny"], echo=lambda _m: None)
    pid = _recorded(driver).services["tiny"].pid
    (workspace / "pyproject.toml").write_text('[tool.e2e]\nservices = { db = \n')  # a syntax error
    if state_file == "deleted":
        driver.settings.state_file.unlink()
    messages: list[str] = []
    try:
        stack_down(None, None, keep=False, echo=messages.append)
    finally:
        if _alive(pid):
            os.killpg(pid, 9)
    assert messages[0].startswith("warning: ") and "pyproject.toml" in messages[0]
    assert messages[0].endswith("; stopping what the state file and the process markers name, "
                                "without the configuration")
    stopped = (f"tiny: stopped (pid {pid})" if state_file == "kept"
               else f"tiny: found running by its marker (pid {pid}")
    assert any(m.startswith(stopped) for m in messages)
    assert not _alive(pid)
    # The recorded (or marked) stop signal was used, not a default: no config needed for it.
    assert "stopped by SIGINT" in (driver.state_dir / "logs" / "tiny.log").read_text()
    assert not (driver.state_dir / "data").exists()


def test_commands_that_need_the_state_say_it_is_corrupt_and_how_out(root, tmp_path):
    from e2e_shared.stackops import require_up
    from e2e_shared.state import StateCorrupt

    driver = _driver(root, tmp_path)
    driver.settings.state_file.parent.mkdir(parents=True)
    driver.settings.state_file.write_text('{"driver": "embedded", "services": {"db": {"pid": "12"}}}')
    for command in (lambda: require_up(driver), lambda: driver.restart("db"), driver.endpoints):
        with pytest.raises(StateCorrupt) as info:
            command()
        assert info.value.cause == (f"{driver.settings.state_file} is corrupt "
                                    '(services.db.pid is "12", expected int)')
        assert info.value.hint == "run `invoke stack.down` to stop what this workspace started and clear it"
    assert driver.dead_services() == []  # a failure bundle must not fail on it


def test_an_entry_from_before_markers_is_ours_by_create_time_and_where_it_runs(root, tmp_path, children):
    driver = _driver(root, tmp_path)
    driver.state_dir.mkdir(parents=True)
    env = without_markers(dict(os.environ))
    old = procs.spawn([sys.executable, "-c", "import signal; signal.pause()"], log=tmp_path / "old.log",
                      env=env, cwd=driver.state_dir)
    children.append(old)
    started = psutil.Process(old.pid).create_time()
    # As main wrote it: no stop signal, no marker on the process.
    StackState(services={"tiny": ServiceState(pid=old.pid, started=started, port=0)}).save(
        driver.settings.state_file)
    assert {r.name: r.state for r in driver.status()}["tiny"] == "running"
    # Another workspace's service in the same place is not taken for an old one of ours.
    other = procs.spawn([sys.executable, "-c", "import signal; signal.pause()"], log=tmp_path / "o.log",
                        env={**env, "E2E_OWNER": str(tmp_path / "elsewhere")}, cwd=driver.state_dir)
    children.append(other)
    legacy = ServiceState(pid=other.pid, started=psutil.Process(other.pid).create_time())
    assert reaping.why_not_ours(legacy, driver.owner, root).startswith("now `")
    messages: list[str] = []
    driver.down(keep=True, echo=messages.append)
    assert messages == [f"tiny: stopped (pid {old.pid})"]
    assert old.wait(timeout=5) is not None
    assert other.poll() is None


def test_a_suite_that_takes_the_stack_down_itself_does_not_stop_its_own_run(
        root, tmp_path, children, monkeypatch):
    driver = _driver(root, tmp_path)
    job, child = _leftover_job(driver, tmp_path, children, live=True)
    monkeypatch.setenv("E2E_RUN_ID", "run1")  # as inside that run's pytest (--e2e-autostart)
    messages: list[str] = []
    driver.down(echo=messages.append)
    assert not any(m.startswith("suite run") for m in messages)
    assert _alive(job) and _alive(child)


def test_data_held_by_any_process_is_kept_and_the_holder_named(tmp_path, children):
    state_dir = tmp_path / "state"
    folder = state_dir / "data" / "db"
    folder.mkdir(parents=True)
    shell = procs.spawn([sys.executable, "-c", "import signal; signal.pause()"], log=tmp_path / "l",
                        env=without_markers(dict(os.environ)), cwd=folder)  # a shell cd'ed in there
    children.append(shell)
    wait_until(lambda: psutil.Process(shell.pid).cwd() == str(folder), what="the cwd", timeout=5)
    said: list[str] = []
    assert not reaping.remove_data(state_dir, said.append)
    assert folder.exists()
    assert said[0].startswith(f"kept {state_dir / 'data'}: still in use by pid {shell.pid} ("
                              f"{sys.executable} -c import signal")
    procs.kill_group(shell.pid, proof=procs.Proof(popen=shell))
    shell.wait(timeout=5)
    assert reaping.remove_data(state_dir, said.append) and not folder.exists()
