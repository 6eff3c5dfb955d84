"""Processes in their own groups, and the ports they hold."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil


def spawn(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the leader of a new session (its own process group).

    Output goes to ``log`` (appended) so a service's history survives restarts. Stopping the
    group later reaches every grandchild too.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        cmd = shlex.join(argv).replace("\n", "\\n")
        out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {cmd}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
        )
    # Reap it the moment it exits: a killed service must not linger as a zombie of this process
    # (`invoke stack.up e2e.all` keeps running after starting the stack). poll() still works.
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return proc


def create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_alive(pid: int | None, started: float | None = None) -> bool:
    """Whether ``pid`` runs and, if ``started`` is given, is the same process (not a reused pid)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    out = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.info["pid"]) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(proc.info["pid"])
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return out


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    # A leader we spawned ourselves becomes a zombie until waited for.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_group(pid: int, *, sig: signal.Signals = signal.SIGTERM, grace: float = 5.0,
               leader_only: bool = False) -> bool:
    """Send ``sig`` (to the leader, or the whole group), wait up to ``grace``, then SIGKILL the group.

    Returns True when nothing of the group is left. ``pid`` is the group leader (spawned with
    :func:`spawn`), so its pid is the group id.
    """
    pgid = pid
    if leader_only:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    else:
        _signal_group(pgid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_members(pgid):
            return True
        time.sleep(0.05)  # poll
    _signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        _reap(pid)
        if not group_members(pgid):
            return True
        time.sleep(0.02)  # poll
    return not group_members(pgid)


def kill_group(pid: int, timeout: float = 5.0) -> bool:
    """SIGKILL a whole group at once, as a crash would; return once it is gone."""
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while True:
        _reap(pid)
        if not group_members(pid):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # poll


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def port_bindable(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers do: connections of a killed server lingering in TIME_WAIT must not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str:
    """Who listens on ``port``: 'pid 123 (postgres)', or 'an unknown process'."""
    try:
        for conn in psutil.net_connections(kind="inet"):
            listening = conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN
            if listening and conn.pid:
                try:
                    return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
                except psutil.Error:
                    return f"pid {conn.pid}"
    except psutil.Error:
        pass
    return "an unknown process"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
