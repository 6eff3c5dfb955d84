"""Fault injection through the stack driver and the fault proxy, always undone after the test.

Process faults (stop, kill, restart) go through the driver. Wire faults (latency, cut, blackhole,
bandwidth) act on the fault proxy in front of a service with ``proxy = true``: Toxiproxy's
toxics, on the real Toxiproxy (compose) or on the embedded ``e2e_shared.services.faultproxy``.
Every fault is recorded (time, service, what) for the failure bundle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import E2EError
from .drivers import StackDriver
from .stackops import require_up
from .toxiproxy import ToxiproxyClient

# Our toxics' names, so a second latency() replaces the first instead of failing with 409.
LATENCY, BLACKHOLE, BANDWIDTH = "e2e_latency", "e2e_blackhole", "e2e_bandwidth"


@dataclass(frozen=True)
class FaultEvent:
    at: float  # time.time()
    service: str
    what: str  # "latency 300 ms", "cut", "blackhole", "restored", "stopped", ...

    def render(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at)) + f".{int(self.at % 1 * 1000):03d}"
        return f"{stamp} {self.service}: {self.what}"


class Faults:
    """Stop, kill or restart one service, or disturb its traffic on the wire; :meth:`restore`
    undoes everything and checks the stack answers its readiness checks."""

    def __init__(self, driver: StackDriver) -> None:
        self.driver = driver
        self.touched: list[str] = []  # stopped, killed or restarted
        self.wired: list[str] = []  # given a wire fault
        self.events: list[FaultEvent] = []
        self._client: ToxiproxyClient | None = None

    def _record(self, service: str, what: str) -> None:
        self.events.append(FaultEvent(time.time(), service, what))

    def _touch(self, service: str) -> None:
        self.driver.stack.get(service)
        if service not in self.touched:
            self.touched.append(service)

    # --- process faults -----------------------------------------------------------------
    def stop(self, service: str) -> None:
        self._touch(service)
        self.driver.stop(service)
        self._record(service, "stopped")

    def kill(self, service: str) -> None:
        self._touch(service)
        self.driver.kill(service)
        self._record(service, "killed (SIGKILL)")

    def start(self, service: str) -> None:
        self.driver.start(service, echo=lambda _m: None)
        self._record(service, "started")

    def restart(self, service: str) -> None:
        self._touch(service)
        self.driver.restart(service, echo=lambda _m: None)
        self._record(service, "restarted")

    # --- wire faults (the fault proxy) ----------------------------------------------------
    def _proxy(self, service: str) -> ToxiproxyClient:
        if not self.driver.stack.get(service).proxy:
            raise E2EError(f"service {service} is not behind the fault proxy "
                           f"(set proxy = true in [tool.e2e.services.{service}])")
        if self._client is None:
            self._client = self.driver.proxy_client()
        if service not in self.wired:
            self.wired.append(service)
        return self._client

    def _toxic(self, service: str, name: str, kind: str, attributes: dict, stream: str) -> None:
        client = self._proxy(service)
        if any(t["name"] == name for t in client.toxics(service)):
            client.remove_toxic(service, name)
        client.add_toxic(service, kind, attributes, stream=stream, name=name)

    def latency(self, service: str, ms: int, jitter: int = 0) -> None:
        """Delay what ``service`` sends back by ``ms`` (+/- ``jitter``) milliseconds."""
        self._toxic(service, LATENCY, "latency", {"latency": int(ms), "jitter": int(jitter)}, "downstream")
        self._record(service, f"latency {ms} ms" + (f" +/- {jitter} ms" if jitter else ""))

    def cut(self, service: str) -> None:
        """Reset the open connections to ``service`` and refuse new ones."""
        self._proxy(service).set_enabled(service, False)
        self._record(service, "cut (connections reset, new ones refused)")

    def blackhole(self, service: str) -> None:
        """Accept connections to ``service`` but never answer: what clients send is dropped."""
        self._toxic(service, BLACKHOLE, "timeout", {"timeout": 0}, "upstream")
        self._record(service, "blackhole (accepts, never answers)")

    def bandwidth(self, service: str, kbps: int) -> None:
        """Limit what ``service`` sends back to ``kbps`` kilobytes a second (Toxiproxy's rate)."""
        self._toxic(service, BANDWIDTH, "bandwidth", {"rate": int(kbps)}, "downstream")
        self._record(service, f"bandwidth {kbps} KB/s")

    # --- undo ---------------------------------------------------------------------------------
    def restore(self, service: str | None = None) -> None:
        """Undo the faults of ``service`` (its wire faults, and start it if this handle stopped
        it); without a service, undo every fault and check the whole stack answers its
        readiness checks."""
        wired = [service] if service is not None else list(self.wired)
        for name in wired:
            if name in self.wired:
                self._proxy(name).restore(name)
                self.wired.remove(name)
                self._record(name, "restored (toxics removed, enabled)")
        touched = [service] if service is not None else list(self.touched)
        for name in touched:
            if name in self.touched:
                self.driver.start(name, echo=lambda _m: None)
                self.touched.remove(name)
                self._record(name, "started again")
        if service is None:
            require_up(self.driver)
