"""The remote target: endpoints of an already deployed environment; nothing is started or stopped."""

from __future__ import annotations

from .. import E2EError
from ..config import Endpoints, endpoints
from .base import Echo, ServiceStatus, StackDriver


class RemoteDriver(StackDriver):
    name = "remote"

    def _refuse(self, what: str) -> E2EError:
        return E2EError(f"{what} is not possible on remote target {self.settings.target!r}: "
                        "the workspace never starts or stops a deployed environment",
                        "run it against a local stack (drop --target)")

    def endpoints(self) -> Endpoints:
        return endpoints(self.settings)

    def up(self, services: list[str] | None = None, *, echo: Echo = print) -> Endpoints:
        ep = self.endpoints()
        echo(f"remote target {self.settings.target}: using {ep.api_url or '(no api_url)'}; "
             "nothing started")
        return ep

    def down(self, *, keep: bool = False, echo: Echo = print) -> None:
        echo(f"remote target {self.settings.target}: nothing was started here, nothing to stop")

    def status(self) -> list[ServiceStatus]:
        import requests

        ep = self.endpoints()
        ready = False
        detail = ""
        if ep.api_url:
            try:
                resp = requests.get(ep.api_url.rstrip("/") + "/health", timeout=5)
                ready, detail = resp.status_code == 200, f"/health {resp.status_code}"
            except requests.RequestException as exc:
                detail = type(exc).__name__
        return [ServiceStatus("api", "remote", None, None, None, ready, detail)]

    def log_path(self, service: str) -> str | None:
        return None

    def stop(self, service: str) -> None:
        raise self._refuse(f"stopping {service}")

    def kill(self, service: str) -> None:
        raise self._refuse(f"killing {service}")

    def start(self, service: str, *, echo: Echo = print) -> None:
        raise self._refuse(f"starting {service}")
