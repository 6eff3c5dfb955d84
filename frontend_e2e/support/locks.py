"""A readers-writer lock over one stack, shared by every run of this suite against it.

Ordinary browser tests hold it shared, so any number of them (two concurrent runs, xdist
workers) run side by side; a test that stops a service holds it exclusively, so no test of any
other run meets an API that was stopped on purpose. Waiting writers go first: a turnstile lock
keeps new readers out while a writer waits, so a busy run cannot starve it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class Hold:
    """One shared or exclusive hold on the lock; :meth:`release` ends it (idempotent)."""

    def __init__(self, main: Path, turnstile: Path, *, exclusive: bool) -> None:
        self.fd: int | None = os.open(main, os.O_RDWR | os.O_CREAT, 0o644)
        turn = os.open(turnstile, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(turn, fcntl.LOCK_EX)
            fcntl.flock(self.fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except BaseException:
            self.release()
            raise
        finally:
            os.close(turn)  # closing the turnstile's descriptor unlocks it

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class StackLock:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.main = folder / "frontend-e2e.lock"
        self.turnstile = folder / "frontend-e2e.turnstile.lock"

    def hold(self, *, exclusive: bool = False) -> Hold:
        """Block until the stack is ours (shared by default), then hold it until released."""
        return Hold(self.main, self.turnstile, exclusive=exclusive)
