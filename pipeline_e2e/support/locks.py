"""A readers-writer lock between test runs on one stack: ordinary tests share it, fault tests hold
it alone, so no run measures freshness or counts while another has the database or the worker down.

Two runs of this suite (or its flow and integrity phases side by side) meet on two flock files
of their own, writer-preferring: a writer holds the gate for its whole test, so readers that
arrive meanwhile queue behind it instead of starving it. Other suites' fault locks on the same
stack (the backend suite's) are honoured too: taken shared by ordinary tests and exclusively by
fault tests, always after this suite's own, so no cycle of waits can form.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from e2e_shared.waits import wait_until

WAIT = 1200.0  # a fault test may wait until a concurrent run of another suite reaches its own fault tests


def _acquire(handle: IO[str], mode: int, what: str) -> None:
    def got() -> bool:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    wait_until(got, what=what, timeout=WAIT, interval=0.1)


@contextlib.contextmanager
def held(path: Path, mode: int, what: str) -> Iterator[None]:
    """Hold the flock ``mode`` (LOCK_SH or LOCK_EX) on ``path`` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        _acquire(handle, mode, what)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SuiteLock:
    def __init__(self, folder: Path, name: str = "pipeline-e2e", others: Sequence[Path] = ()) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.gate = folder / f"{name}.gate.lock"
        self.main = folder / f"{name}.lock"
        self.others = list(others)

    @contextlib.contextmanager
    def _hold_others(self, mode: int) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for path in self.others:
                stack.enter_context(held(path, mode, f"{path} (another suite's fault tests, or its others)"))
            yield

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self.gate.open("a") as gate, self.main.open("a") as main:
            _acquire(gate, fcntl.LOCK_EX, "the fault tests of another run to end (gate)")
            try:
                _acquire(main, fcntl.LOCK_SH, "the fault tests of another run to end")
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                with self._hold_others(fcntl.LOCK_SH):
                    yield
            finally:
                fcntl.flock(main, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.gate.open("a") as gate, self.main.open("a") as main:
            _acquire(gate, fcntl.LOCK_EX, "another run's fault test to end (gate)")
            try:
                _acquire(main, fcntl.LOCK_EX, "the tests of other runs to end")
                try:
                    with self._hold_others(fcntl.LOCK_EX):
                        yield
                finally:
                    fcntl.flock(main, fcntl.LOCK_UN)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
