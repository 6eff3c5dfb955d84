"""The E2E workspace's fixtures library.

Configuration and endpoints (:mod:`.config`), the stack definition (:mod:`.stackdef`), stack
drivers (:mod:`.drivers`), waits (:mod:`.waits`) and, for the suites, clients, factories,
faults and the pytest plugin.
"""

from __future__ import annotations

__version__ = "0.1.0"


class E2EError(Exception):
    """An error the user can act on: printed as one line with the next step, never a traceback."""

    def __init__(self, cause: str, hint: str = "") -> None:
        self.cause = cause
        self.hint = hint
        super().__init__(f"{cause} ({hint})" if hint else cause)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI cancel, ``timeout``, ``docker stop``): stopped like Ctrl-C, exit status 143."""

    exit_code = 143
