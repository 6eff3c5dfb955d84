"""Readiness kinds that need no client library (tcp, redis), and a service whose program is missing."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from e2e_shared import E2EError, checks
from e2e_shared.drivers.embedded import _require_program
from e2e_shared.stackdef import ServiceDef


def _one_shot_server(answer: bytes) -> tuple[int, threading.Thread]:
    """A listener that answers the first connection with ``answer`` and closes."""
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve() -> None:
        with srv:
            conn, _ = srv.accept()
            with conn:
                conn.recv(64)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def test_tcp_ready_is_true_once_something_listens_and_raises_while_nothing_does() -> None:
    port, thread = _one_shot_server(b"")
    assert checks.tcp_ready(port).ok
    thread.join(5)
    with pytest.raises(ConnectionRefusedError):
        checks.tcp_ready(port)


def test_redis_ready_wants_pong_not_just_a_listener() -> None:
    port, _ = _one_shot_server(b"-LOADING Redis is loading the dataset in memory\r\n")
    poll = checks.redis_ready(port)
    assert not poll.ok
    assert "LOADING" in poll.state


def test_redis_ready_answers_for_a_real_redis_server(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             str(tmp_path), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL)
    try:
        from e2e_shared.waits import wait_until

        wait_until(lambda: checks.redis_ready(port), what="redis to answer PING",
                   timeout=10, interval=0.05, transient=(OSError,))
        assert checks.redis_ready(port).state == "PING -> +PONG"
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_service_whose_program_is_missing_names_it_and_the_install_hint() -> None:
    svc = ServiceDef(name="cache", command=("no-such-server-xyz",), ready="tcp",
                     install_hint="apt-get install -y no-such-server")
    with pytest.raises(E2EError) as err:
        _require_program(svc, "no-such-server-xyz", {"PATH": "/usr/bin:/bin"})
    assert str(err.value).startswith("service cache: 'no-such-server-xyz' is not installed")
    assert err.value.hint == "apt-get install -y no-such-server"
