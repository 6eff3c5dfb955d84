"""The compose driver: the same stack under ``docker compose -f compose/compose.yaml``.

Readiness is compose's own: healthchecks plus ``depends_on: condition: service_healthy``, and
``up --wait``. Published ports are the stack definition's ports, so endpoints render the same.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import E2EError
from ..config import Endpoints
from ..stackdef import render, template_context
from ..state import StackState
from ..toxiproxy import PROXY_SERVICE, ToxiproxyClient
from .base import Echo, ServiceStatus, StackDriver

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; on failure show its output and raise with the command that failed."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True)
    except FileNotFoundError:
        raise E2EError(f"{argv[0]} is not installed", "install Docker, or use --driver embedded") from None
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
        raise E2EError(f"`{' '.join(argv)}` failed (exit {proc.returncode}):\n" + "\n".join(out),
                       "is a Docker engine running? otherwise use --driver embedded")
    return proc


class ComposeDriver(StackDriver):
    name = "compose"
    runner: Runner = staticmethod(run_command)

    @property
    def compose_file(self) -> Path:
        return self.settings.root / self.settings.tool.get("compose_file", "compose/compose.yaml")

    @property
    def project(self) -> str:
        return "e2e-" + self.settings.root.name.lower().replace("_", "-")

    def argv(self, *args: str) -> list[str]:
        return ["docker", "compose", "-f", str(self.compose_file), "-p", self.project, *args]

    def _ports(self) -> dict[str, int]:
        return {name: svc.port for name, svc in self.stack.services.items()}

    def proxy_client(self) -> ToxiproxyClient:
        """Toxiproxy's API, published on the faultproxy service's port."""
        port = self.stack.get(PROXY_SERVICE).port
        return ToxiproxyClient(f"http://127.0.0.1:{port}")

    def endpoints(self) -> Endpoints:
        ctx = template_context(self._ports())
        out = {}
        for key, value in self.stack.endpoints.items():
            try:
                out[key] = render(value, ctx)
            except E2EError:
                continue
        return Endpoints.from_mapping(out).with_env()

    def up(self, services: list[str] | None = None, *, echo: Echo = print) -> Endpoints:
        wanted = [n for wave in self.stack.waves(services) for n in wave]
        self.runner(self.argv("up", "--detach", "--wait", "--build", *wanted))
        ep = self.endpoints()
        StackState(driver=self.name, endpoints=ep.__dict__ | {"buckets": list(ep.buckets)}
                   ).save(self.settings.state_file)
        echo(f"compose stack up: {', '.join(wanted)}")
        return ep

    def down(self, *, keep: bool = False, echo: Echo = print) -> None:
        self.runner(self.argv("down", "--remove-orphans", *([] if keep else ["--volumes"])))
        self.settings.state_file.unlink(missing_ok=True)
        echo("compose stack down")

    def status(self) -> list[ServiceStatus]:
        proc = self.runner(self.argv("ps", "--all", "--format", "json"))
        seen = {}
        for line in proc.stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            items = json.loads(line)
            for item in items if isinstance(items, list) else [items]:
                seen[item.get("Service")] = item
        rows = []
        for name, svc in self.stack.services.items():
            item = seen.get(name)
            if not item:
                rows.append(ServiceStatus(name, "not started", None, None, None, False))
                continue
            state = item.get("State", "")
            rows.append(ServiceStatus(name, "running" if state == "running" else state, None,
                                      svc.port, None, item.get("Health") == "healthy",
                                      item.get("Status", "")))
        return rows

    def log_path(self, service: str) -> str | None:
        return None  # compose keeps logs in the engine: `docker compose logs`

    def logs_argv(self, service: str, lines: int, follow: bool) -> list[str]:
        self.stack.get(service)
        return self.argv("logs", "--tail", str(lines), *(["--follow"] if follow else []), service)

    def stop(self, service: str) -> None:
        self.runner(self.argv("stop", self.stack.get(service).name))

    def kill(self, service: str) -> None:
        self.runner(self.argv("kill", "-s", "SIGKILL", self.stack.get(service).name))

    def start(self, service: str, *, echo: Echo = print) -> None:
        self.runner(self.argv("up", "--detach", "--wait", self.stack.get(service).name))
        echo(f"{service}: started")
