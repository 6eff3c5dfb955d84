"""Wait on named conditions with a deadline, never on fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import E2EError


def tail(path: Path | str | None, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of a (log) file; empty when there is no such file."""
    if path is None:
        return []
    p = Path(path)
    if not p.is_file():
        return []
    # Read only the end: service logs can grow large during a long run.
    with p.open("rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 64 * 1024))
        data = f.read().decode("utf-8", "replace")
    return data.splitlines()[-lines:]


class WaitTimeout(E2EError):
    """A condition was not met by its deadline."""

    def __init__(self, what: str, timeout: float, last: Any, log: Path | str | None = None,
                 log_lines: int = 20, reason: str = "") -> None:
        self.what = what
        self.timeout = timeout
        self.last = last
        self.log_tail = tail(log, log_lines)
        head = reason or f"timed out after {timeout:.1f}s waiting for {what}"
        msg = f"{head}; last observed: {last!r}"
        if self.log_tail:
            msg += f"\n--- last {len(self.log_tail)} lines of {log} ---\n" + "\n".join(self.log_tail)
        E2EError.__init__(self, msg)


@dataclass
class Poll:
    """One observation: ``ok`` says whether the condition holds, ``state`` what was seen."""

    ok: bool
    state: Any = None


def wait_until(
    condition: Callable[[], Any],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
    log: Path | str | None = None,
    alive: Callable[[], bool] | None = None,
    transient: tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll ``condition`` until it is truthy (or a :class:`Poll` with ``ok``) and return it.

    ``transient`` names the exceptions that mean "not yet" (a refused connection, say);
    any other exception propagates at once. ``alive`` is asked before each poll: when the
    thing being waited for has already exited there is no point waiting out the deadline.
    On timeout a :class:`WaitTimeout` names ``what``, the last observed state and the tail
    of ``log``.
    """
    deadline = clock() + timeout
    last: Any = None
    while True:
        if alive is not None and not alive():
            raise WaitTimeout(what, timeout, last, log,
                              reason=f"gave up waiting for {what}: the process has exited")
        try:
            result = condition()
        except transient as exc:  # the thing is not up yet: note it and poll again
            last = f"{type(exc).__name__}: {exc}"
        else:
            if isinstance(result, Poll):
                last = result.state
                if result.ok:
                    return result.state
            else:
                last = result
                if result:
                    return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(what, timeout, last, log)
        sleep(min(interval, remaining))  # poll
