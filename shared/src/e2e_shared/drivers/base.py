"""The interface every stack driver offers to tasks, fixtures and fault injection."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

from .. import E2EError
from ..config import Endpoints, Settings
from ..stackdef import StackDef
from ..toxiproxy import ToxiproxyClient

Echo = Callable[[str], None]


@dataclass
class ServiceStatus:
    name: str
    state: str  # running | down | not started | exited
    pid: int | None
    port: int | None
    uptime: float | None
    ready: bool
    detail: str = ""
    internal_port: int | None = None  # behind the fault proxy: the service's own port


class StackDriver(abc.ABC):
    name: str = ""

    def __init__(self, settings: Settings, stack: StackDef) -> None:
        self.settings = settings
        self.stack = stack

    # --- lifecycle -------------------------------------------------------------------
    @abc.abstractmethod
    def up(self, services: list[str] | None = None, *, echo: Echo = print) -> Endpoints:
        """Start what is not running (reusing what is healthy) and wait until all are ready."""

    @abc.abstractmethod
    def down(self, *, keep: bool = False, echo: Echo = print) -> None:
        """Stop what this workspace started; remove data unless ``keep``."""

    @abc.abstractmethod
    def status(self) -> list[ServiceStatus]:
        """One row per service."""

    @abc.abstractmethod
    def log_path(self, service: str) -> str | None:
        """The service's log file, when the driver keeps one on this machine."""

    @abc.abstractmethod
    def endpoints(self) -> Endpoints:
        """Where the running stack answers."""

    # --- single services (restart, and the faults the resilience tests inject) ---------
    @abc.abstractmethod
    def stop(self, service: str) -> None:
        """Stop one service gracefully."""

    @abc.abstractmethod
    def kill(self, service: str) -> None:
        """SIGKILL one service, as a crash would."""

    @abc.abstractmethod
    def start(self, service: str, *, echo: Echo = print) -> None:
        """Start one stopped service and wait until it is ready."""

    def proxy_client(self) -> ToxiproxyClient:
        """A client on the fault proxy's API (``faults.latency``, ``cut``, ``blackhole``)."""
        raise E2EError(f"the {self.name} driver has no fault proxy", "use the embedded or compose driver")

    def dead_services(self) -> list[str]:
        """Services this driver started that are no longer running (cheap: no network)."""
        return []

    def restart(self, service: str, *, echo: Echo = print) -> None:
        self.stack.get(service)
        self.stop(service)
        self.start(service, echo=echo)

    def is_up(self) -> bool:
        rows = self.status()
        return bool(rows) and all(r.ready for r in rows)
