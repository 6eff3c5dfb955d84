"""Fault tests exclusive across concurrent runs of this suite against one stack.

A resilience test stops or kills services, which would break any other test running against
the same stack at that moment. Every other test holds a shared lock on one file in the
stack's state directory; the first fault test of a run converts it to an exclusive one and
keeps it to the end of the run (so a fault scenario may span a module's tests). So two runs
of the suite at once both pass: a run's fault tests wait until the other run has no test
under way, and the other run's tests wait until the faults are over. Fault tests run last in
a run (see conftest), so a process never waits for the exclusive lock while holding the
shared one, and never the other way round: no deadlock.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO


class StackLock:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: IO[str] | None = None
        self.mode = 0

    def _fd(self) -> IO[str]:
        if self._handle is None:
            self._handle = self.path.open("a")
        return self._handle

    def shared(self) -> None:
        """Hold the lock shared (a no-op when already held so)."""
        if self.mode != fcntl.LOCK_SH:
            fcntl.flock(self._fd(), fcntl.LOCK_SH)
            self.mode = fcntl.LOCK_SH

    def exclusive(self) -> None:
        """Hold it exclusively: waits until no other run holds it in any mode."""
        if self.mode != fcntl.LOCK_EX:
            # Converting drops the shared lock first: a waiting run is never blocked by us.
            fcntl.flock(self._fd(), fcntl.LOCK_EX)
            self.mode = fcntl.LOCK_EX

    def release(self) -> None:
        if self._handle is not None and self.mode:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self.mode = 0

    def close(self) -> None:
        self.release()
        if self._handle is not None:
            self._handle.close()
            self._handle = None
