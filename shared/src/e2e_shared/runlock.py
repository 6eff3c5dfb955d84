"""One e2e run per workspace (state directory and reports) at a time.

Two runs against one stack would stop each other's services in the resilience phase and
delete, write and merge the same report files. The second is refused in one line naming the
first; a lock held by a process that is gone is released by the kernel, so a killed run never
blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from . import E2EError


def holder(path: Path) -> dict:
    """What the lock file says of the run that holds it (``{}`` when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def run_lock(state_dir: Path, run_id: str, command: str | None = None) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "run.lock"
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = holder(path)
            since = f", started {time.time() - other['started']:.0f}s ago" if "started" in other else ""
            raise E2EError(
                f"another run is using this workspace: pid {other.get('pid', '?')} "
                f"(`{other.get('command', '?')}`){since}",
                "wait for it to end, or give this run a stack and reports of its own: "
                "E2E_STATE_DIR=.e2e-2 invoke stack.up e2e.all") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id, "started": time.time(),
                                 "command": command or " ".join(["invoke", *sys.argv[1:]])}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
