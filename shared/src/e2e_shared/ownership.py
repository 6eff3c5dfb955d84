"""Which processes are ours, proven by a marker in their environment rather than by a pid alone.

Every process the workspace starts carries:

- ``E2E_OWNER``: the resolved state directory (which workspace and stack it belongs to);
- ``E2E_ROLE``: ``service:<name>`` for stack services, ``job:<phase>-<suite>`` for suite runs;
- services: ``E2E_STACK_ID`` (the stack's run id) and ``E2E_STOP_SIGNAL`` (so ``stack.down``
  needs no configuration to stop them);
- suite runs: ``E2E_RUN_ID``, ``E2E_RUN_PID`` and ``E2E_RUN_STARTED`` (the pid and create time
  of the ``invoke`` process that runs them, to tell a live run from a killed one).

A pid, even with its create time, is only half a proof; the marker is the other half. This is
what lets ``stack.down`` find what is ours when the state file is missing or corrupt, and leave
alone a process that merely inherited a stale pid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

OWNER_ENV = "E2E_OWNER"
ROLE_ENV = "E2E_ROLE"
STACK_ENV = "E2E_STACK_ID"
STOP_SIGNAL_ENV = "E2E_STOP_SIGNAL"
RUN_ID_ENV = "E2E_RUN_ID"
RUN_PID_ENV = "E2E_RUN_PID"
RUN_STARTED_ENV = "E2E_RUN_STARTED"
MARKERS = (OWNER_ENV, ROLE_ENV, STACK_ENV, STOP_SIGNAL_ENV, RUN_ID_ENV, RUN_PID_ENV, RUN_STARTED_ENV)

SERVICE = "service:"
JOB = "job:"
SAME_PROCESS = 1.0  # seconds: create times within this are the same process (psutil rounds)


def owner_id(state_dir: Path) -> str:
    """The value of ``E2E_OWNER`` for a stack kept in ``state_dir``."""
    return str(Path(state_dir).resolve())


def service_markers(owner: str, name: str, stack_id: str, stop_signal: str) -> dict[str, str]:
    """The environment a stack service is started with, on top of its own."""
    return {OWNER_ENV: owner, ROLE_ENV: f"{SERVICE}{name}", STACK_ENV: stack_id,
            STOP_SIGNAL_ENV: stop_signal}


def job_markers(owner: str, phase: str, suite: str, run_id: str) -> dict[str, str]:
    """The environment of a suite run started by this process (the ``invoke`` that runs it)."""
    me = psutil.Process()
    return {OWNER_ENV: owner, ROLE_ENV: f"{JOB}{phase}-{suite}", RUN_ID_ENV: run_id,
            RUN_PID_ENV: str(me.pid), RUN_STARTED_ENV: repr(me.create_time())}


def without_markers(env: dict[str, str]) -> dict[str, str]:
    """``env`` minus inherited markers: a service started from a suite must not pose as the suite."""
    return {k: v for k, v in env.items() if k not in MARKERS}


@dataclass(frozen=True)
class Owned:
    """A live process carrying this workspace's marker."""

    pid: int
    create_time: float
    role: str
    pgid: int
    cmdline: str
    stack_id: str = ""
    run_id: str = ""
    run_pid: int | None = None
    run_started: float | None = None
    stop_signal: str = ""

    @property
    def kind(self) -> str:
        return self.role.split(":", 1)[0]

    @property
    def name(self) -> str:
        return self.role.split(":", 1)[1] if ":" in self.role else self.role

    @property
    def leads_group(self) -> bool:
        return self.pgid == self.pid

    def run_live(self) -> bool:
        """For a suite run: whether the ``invoke`` process that started it still runs."""
        return run_is_live(self.run_pid, self.run_started)


def run_is_live(run_pid: int | None, run_started: float | None) -> bool:
    """Whether ``run_pid`` runs and is the process created at ``run_started`` (not a reused pid)."""
    if not run_pid or run_started is None:
        return False
    try:
        proc = psutil.Process(run_pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(proc.create_time() - run_started) < SAME_PROCESS
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def environ(pid: int) -> dict[str, str] | None:
    """A process's environment, or None when it is gone or unreadable."""
    try:
        return psutil.Process(pid).environ()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return None


def carries(pid: int, owner: str) -> bool:
    """Whether ``pid`` carries ``E2E_OWNER=owner`` now."""
    env = environ(pid)
    return bool(env) and env.get(OWNER_ENV) == owner


def describe(pid: int) -> str:
    """A short name for whatever runs as ``pid`` now: its command line, cut, or 'nothing'."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return "nothing (a zombie)"
        cmd = " ".join(proc.cmdline()) or proc.name()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return "nothing"
    except psutil.AccessDenied:
        return "a process we may not inspect"
    return cmd if len(cmd) <= 60 else cmd[:57] + "..."


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def owned_processes(owner: Path | str, role_prefix: str | None = None) -> list[Owned]:
    """Every live process whose environment says ``E2E_OWNER=owner`` (and a role starting with
    ``role_prefix``), oldest first. Processes that vanish or may not be read are skipped."""
    owner = owner if isinstance(owner, str) else owner_id(owner)
    me = os.getpid()
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        pid = proc.info["pid"]
        if pid == me or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        env = environ(pid)
        if not env or env.get(OWNER_ENV) != owner:
            continue
        role = env.get(ROLE_ENV, "")
        if role_prefix and not role.startswith(role_prefix):
            continue
        try:
            created = proc.create_time()
            cmdline = " ".join(proc.cmdline())
            pgid = os.getpgid(pid)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
        found.append(Owned(
            pid=pid, create_time=created, role=role, pgid=pgid, cmdline=cmdline,
            stack_id=env.get(STACK_ENV, ""), run_id=env.get(RUN_ID_ENV, ""),
            run_pid=_int(env.get(RUN_PID_ENV)), run_started=_float(env.get(RUN_STARTED_ENV)),
            stop_signal=env.get(STOP_SIGNAL_ENV, ""),
        ))
    return sorted(found, key=lambda o: (o.create_time, o.pid))


def group_heads(found: list[Owned]) -> list[Owned]:
    """One entry per process group: its leader when it is among ``found``, else its oldest member."""
    heads: dict[int, Owned] = {}
    for o in found:
        best = heads.get(o.pgid)
        if best is None or (o.leads_group and not best.leads_group):
            heads[o.pgid] = o
    return list(heads.values())


def holders(folder: Path) -> list[str]:
    """Live processes whose cwd or an open file is under ``folder``, one 'pid N (cmd)' each."""
    folder = folder.resolve()
    me = os.getpid()
    out = []
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.info["pid"] == me or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            paths = [proc.cwd()] + [f.path for f in proc.open_files()]
        except (psutil.Error, OSError):
            continue
        if any(_under(Path(p), folder) for p in paths if p):
            out.append(f"pid {proc.info['pid']} ({describe(proc.info['pid'])})")
    return out


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
