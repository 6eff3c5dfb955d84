"""Signal handling shared by the tasks, the runner and the drivers."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """SIGINT and SIGTERM noted but not acted on while cleanup runs (it takes a few seconds at
    most): a second Ctrl-C must not cut short the stopping of what a command started, or its report."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: None)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
