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
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Proof:
    """What makes a pid ours *now*, checked right before each signal.

    Either we hold the ``Popen`` of a child we spawned and it has not exited (its pid cannot be
    reused while it runs), or the process's create time equals ``started`` (as recorded when it
    started) AND its environment carries ``E2E_OWNER=owner``.
    """

    owner: str = ""
    started: float | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, compare=False)
    # For entries written before services carried markers: the create time plus a cwd under,
    # or a command line naming, one of these folders (the workspace, its state directory).
    legacy: tuple[str, ...] = ()

    def fails(self, pid: int) -> str | None:
        """Why ``pid`` is not (or no longer) ours, or None when the proof holds."""
        from .ownership import SAME_PROCESS, carries, describe

        if self.popen is not None and self.popen.pid == pid and self.popen.poll() is None:
            return None
        if self.started is None or not self.owner:
            return "nothing proves it is ours"
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return "it is gone"
            created = proc.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return "it is gone"
        except psutil.AccessDenied:
            return "it may not be inspected"
        if abs(created - self.started) >= SAME_PROCESS:
            return f"now `{describe(pid)}`"
        if not carries(pid, self.owner) and not (self.legacy and _lives_in(proc, self.legacy)):
            return f"now `{describe(pid)}`"
        return None


def _lives_in(proc: psutil.Process, folders: tuple[str, ...]) -> bool:
    """A process with no workspace's marker at all whose cwd or command line is in ``folders``."""
    from .ownership import OWNER_ENV

    try:
        if OWNER_ENV in proc.environ():
            return False  # it belongs to a workspace: the marker says which, and it is not ours
        cwd, cmdline = proc.cwd(), " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return False
    return any(cwd == f or cwd.startswith(f.rstrip("/") + "/") or f in cmdline for f in folders if f)


def refusal(target: int, *, group: bool) -> str | None:
    """Why ``target`` (a pid, or a group id when ``group``) must never be signalled, or None."""
    what = "group" if group else "pid"
    if target <= 1:
        return f"{what} {target} is never signalled"
    if group:
        own = {os.getpgid(0)}
        with contextlib.suppress(OSError):
            own.add(os.getpgid(os.getppid()))
        if target in own:
            return f"group {target} is the caller's own"
    elif target in (os.getpid(), os.getppid()):
        return f"pid {target} is the caller or its parent"
    return None


def signal_proven(pid: int, sig: signal.Signals, *, proof: Proof, group: bool = False) -> bool:
    """Send ``sig`` to ``pid`` (to its whole group when ``group``) only when it may be touched and
    ``proof`` holds now; with ``group``, ``pid`` must also lead its group. Returns whether it was sent.

    Every signal the stack drivers send goes through here or through :func:`_signal_group_of`.
    """
    if refusal(pid, group=False) or (group and refusal(pid, group=True)):
        return False
    if proof.fails(pid) is not None:
        return False
    try:
        if group:
            if os.getpgid(pid) != pid:
                return False
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group_of(pgid: int, sig: signal.Signals) -> bool:
    """Signal a group already proven ours whose leader may have exited since.

    Safe because Linux does not reuse a pid while a process group still bears it as its id:
    while the group has members, ``pgid`` is the group we proved ours.
    """
    if refusal(pgid, group=True) or not group_members(pgid):
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def marked_leftovers(pgid: int, owner: str) -> list[int]:
    """Members of group ``pgid`` carrying ``E2E_OWNER=owner``: what a dead leader of ours left."""
    from .ownership import carries

    return [p for p in group_members(pgid) if carries(p, owner)]


def _reap(pid: int) -> None:
    # A leader we spawned ourselves becomes a zombie until waited for.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_group_gone(pgid: int, timeout: float, interval: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(pgid)
        if not group_members(pgid):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)  # poll


def stop_group(pid: int, *, proof: Proof, sig: signal.Signals = signal.SIGTERM, grace: float = 5.0,
               leader_only: bool = False) -> bool:
    """Send ``sig`` (to the leader, or the whole group), wait up to ``grace``, then SIGKILL the group.

    ``pid`` leads its group (spawned with :func:`spawn`). Nothing is sent unless ``proof`` holds for
    it now; when the leader is gone, only a group whose remaining members carry our marker
    (``proof.owner``) is stopped. Returns True when nothing of the group is left.
    """
    pgid = pid
    if refusal(pid, group=True):
        return False  # never ours to stop, whatever the proof says
    if signal_proven(pid, sig, proof=proof, group=not leader_only):
        pass
    elif proof.owner and proof.fails(pid) == "it is gone" and marked_leftovers(pgid, proof.owner):
        _signal_group_of(pgid, sig)  # the leader died; its children still hold on
    else:
        return not group_members(pgid)  # nothing of ours to stop (a foreign group counts as left)
    if _wait_group_gone(pgid, grace, 0.05):
        return True
    _signal_group_of(pgid, signal.SIGKILL)
    return _wait_group_gone(pgid, 2.0, 0.02)


def kill_group(pid: int, *, proof: Proof, timeout: float = 5.0) -> bool:
    """SIGKILL a whole group at once, as a crash would, if ``proof`` holds; return once it is gone."""
    if refusal(pid, group=True):
        return False
    if not signal_proven(pid, signal.SIGKILL, proof=proof, group=True):
        return not group_members(pid)
    return _wait_group_gone(pid, timeout, 0.02)


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
