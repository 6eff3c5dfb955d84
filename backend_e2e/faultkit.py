"""Fault scenarios: kill a service so it can start again at once, and record what was seen meanwhile.

A SIGKILLed process whose parent is gone (a service started by an earlier ``invoke stack.up``)
stays a zombie until init reaps it, and PostgreSQL refuses to start while the pid in its
``postmaster.pid`` still exists. So after a kill we wait, on that condition, until the killed
process is gone for good; only then may the test, or the ``faults`` restore, start it again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
import requests
import sqlalchemy as sa

from e2e_shared.faults import Faults
from e2e_shared.state import StackState
from e2e_shared.waits import WaitTimeout, wait_until


def module_faults(stack: Any) -> Faults:
    """A ``Faults`` handle for a scenario shared by a module's tests (the plugin's is per test)."""
    if stack.settings.profile == "remote":
        pytest.fail("fault injection is refused on a remote target", pytrace=False)
    return Faults(stack.driver)


def service_pid(stack: Any, service: str) -> int:
    state = StackState.load(stack.settings.state_file)
    assert state is not None and service in state.services, f"{service} is not part of the stack"
    return state.services[service].pid


def kill(faults: Faults, stack: Any, service: str) -> int:
    """SIGKILL ``service`` (its whole process group); returns the killed pid."""
    pid = service_pid(stack, service)
    faults.kill(service)
    return pid


def wait_reaped(pid: int, service: str, timeout: float = 15.0) -> None:
    def gone() -> bool:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # ours when a restore of this run started it: reap it
        return not psutil.pid_exists(pid)

    wait_until(gone, what=f"the killed {service} (pid {pid}) to be reaped", timeout=timeout, interval=0.1)


def kill_and_restart(faults: Faults, stack: Any, service: str) -> None:
    """Kill ``service`` as a crash would, then start it again and wait until it is ready."""
    wait_reaped(kill(faults, stack, service), service)
    faults.start(service)


@dataclass
class Observed:
    """What a scenario saw while waiting for a condition: tests assert on it afterwards."""

    ok: bool
    seconds: float
    state: Any


def observe(condition: Callable[[], Any], *, what: str, timeout: float, since: float | None = None,
            interval: float = 0.1) -> Observed:
    """Wait for ``condition`` like ``wait_until``, but record a timeout instead of raising.

    ``seconds`` counts from ``since`` (a ``time.monotonic()`` value, e.g. the moment of a kill).
    """
    start = time.monotonic() if since is None else since
    try:
        state = wait_until(condition, what=what, timeout=max(0.0, start + timeout - time.monotonic()),
                           interval=interval, transient=(requests.RequestException,))
    except WaitTimeout as exc:
        return Observed(False, time.monotonic() - start, exc.last)
    return Observed(True, time.monotonic() - start, state)


def make_durable(admin_url: str) -> None:
    """CHECKPOINT: flush what is committed to disk before a crash is simulated.

    The embedded PostgreSQL runs with ``synchronous_commit=off`` for speed, so a SIGKILL could
    lose the last fraction of a second of acknowledged commits, which a production database
    (synchronous commits) would keep. Without this, a kill test would measure that setting.
    """
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    finally:
        engine.dispose()
