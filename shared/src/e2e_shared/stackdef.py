"""The stack definition: services, their dependencies, readiness checks and start commands.

Read from ``[tool.e2e.services]``; both drivers use it, and ``compose/compose.yaml`` is checked
against it by the unit tests so the two cannot drift.
"""

from __future__ import annotations

import signal
import string
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from . import E2EError
from .toxiproxy import PROXY_SERVICE

READY_KINDS = ("sql", "s3", "http", "tcp", "redis", "command")
RUNTIMES = ("host", "sut")


@dataclass(frozen=True)
class ServiceDef:
    name: str
    command: tuple[str, ...]
    ready: str
    runtime: str = "host"
    port: int | None = None  # None: the service listens on no port; 0: any free port
    depends_on: tuple[str, ...] = ()
    ready_path: str = "/"
    ready_command: tuple[str, ...] = ()
    ready_timeout: float = 30.0
    init: str = ""
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: str = "SIGTERM"
    install_hint: str = ""  # the next step when the command's program is not installed
    # Behind the fault proxy: ``port`` is the proxy's listener; the service listens on an
    # internal port of its own ({port} in its command). It depends on the proxy service.
    proxy: bool = False

    @property
    def signal(self) -> signal.Signals:
        return signal.Signals[self.stop_signal]


@dataclass(frozen=True)
class StackDef:
    services: dict[str, ServiceDef]
    endpoints: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return list(self.services)

    def get(self, name: str) -> ServiceDef:
        try:
            return self.services[name]
        except KeyError:
            raise E2EError(f"unknown service {name!r}",
                           f"valid services: {', '.join(self.services)}") from None

    def waves(self, names: list[str] | None = None) -> list[list[str]]:
        """Services grouped so that each group's dependencies are all in earlier groups.

        ``names`` limits the result to those services plus everything they depend on.
        Services within one wave are independent and start at the same time.
        """
        wanted = self.closure(names) if names else set(self.services)
        placed: dict[str, int] = {}

        def level(name: str, trail: tuple[str, ...] = ()) -> int:
            if name in trail:
                raise E2EError(f"dependency cycle: {' -> '.join((*trail, name))}",
                               "fix depends_on in [tool.e2e.services]")
            if name not in placed:
                deps = self.services[name].depends_on
                placed[name] = 1 + max((level(d, (*trail, name)) for d in deps), default=-1)
            return placed[name]

        for name in self.services:
            level(name)
        out: list[list[str]] = [[] for _ in range(max(placed.values(), default=-1) + 1)]
        for name in self.services:  # definition order within a wave, for stable output
            if name in wanted:
                out[placed[name]].append(name)
        return [w for w in out if w]

    def closure(self, names: list[str]) -> set[str]:
        """``names`` and everything they transitively depend on."""
        seen: set[str] = set()
        todo = [self.get(n).name for n in names]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.services[n].depends_on)
        return seen

    @property
    def proxied(self) -> list[str]:
        """The services behind the fault proxy."""
        return [s.name for s in self.services.values() if s.proxy]

    def dependents(self, name: str) -> list[str]:
        return [s.name for s in self.services.values() if name in s.depends_on]


def parse(tool: dict[str, Any]) -> StackDef:
    """Build and validate the stack definition from ``[tool.e2e]``."""
    raw = tool.get("services") or {}
    if not raw:
        raise E2EError("[tool.e2e.services] is empty", "define at least one service")
    services: dict[str, ServiceDef] = {}
    for name, spec in raw.items():
        where = f"[tool.e2e.services.{name}]"
        env = dict(tool.get("sut_env", {})) if spec.get("runtime") == "sut" else {}
        env.update(spec.get("env", {}))
        try:
            svc = ServiceDef(
                name=name,
                command=tuple(spec["command"]),
                ready=spec["ready"],
                runtime=spec.get("runtime", "host"),
                port=int(spec["port"]) if "port" in spec else None,
                depends_on=tuple(spec.get("depends_on", ())),
                ready_path=spec.get("ready_path", "/"),
                ready_command=tuple(spec.get("ready_command", ())),
                ready_timeout=float(spec.get("ready_timeout", 30)),
                init=spec.get("init", ""),
                env=env,
                stop_signal=spec.get("stop_signal", "SIGTERM"),
                install_hint=spec.get("install_hint", ""),
                proxy=bool(spec.get("proxy", False)),
            )
        except KeyError as exc:
            raise E2EError(f"{where} lacks {exc.args[0]!r}", "see the db service for an example") from None
        if svc.ready not in READY_KINDS:
            raise E2EError(f"{where} ready = {svc.ready!r} is unknown",
                           f"use one of: {', '.join(READY_KINDS)}")
        if svc.runtime not in RUNTIMES:
            raise E2EError(f"{where} runtime = {svc.runtime!r} is unknown",
                           f"use one of: {', '.join(RUNTIMES)}")
        if svc.stop_signal not in signal.Signals.__members__:
            raise E2EError(f"{where} stop_signal = {svc.stop_signal!r} is not a signal name",
                           "use e.g. SIGTERM or SIGINT")
        if svc.proxy:
            if svc.port is None:
                raise E2EError(f"{where} proxy = true but the service has no port",
                               "give it a port, or remove proxy = true")
            if name == PROXY_SERVICE:
                raise E2EError(f"{where} proxy = true: the fault proxy cannot sit behind itself",
                               "remove proxy = true from it")
            if PROXY_SERVICE not in raw:
                raise E2EError(f"{where} proxy = true but there is no [tool.e2e.services.{PROXY_SERVICE}]",
                               "add the fault proxy service (see docs/extending.md), "
                               "or remove proxy = true")
            if PROXY_SERVICE not in svc.depends_on:  # its route lives in the proxy
                svc = replace(svc, depends_on=(*svc.depends_on, PROXY_SERVICE))
        services[name] = svc
    for svc in services.values():
        for dep in svc.depends_on:
            if dep not in services:
                raise E2EError(f"service {svc.name!r} depends on unknown service {dep!r}",
                               f"valid services: {', '.join(services)}")
    stack = StackDef(services=services, endpoints=dict(tool.get("endpoints", {})))
    stack.waves()  # raises on cycles
    return stack


class _Context(dict):
    """Template values; a missing key names itself in the error instead of a bare KeyError."""

    def __missing__(self, key: str) -> Any:
        raise E2EError(f"unknown template field {{{key}}}", f"known: {', '.join(sorted(self))}")


def render(value: Any, ctx: dict[str, Any]) -> Any:
    """Fill ``{field}`` and ``{service.port}`` templates in a string, or in each item of a list."""
    if isinstance(value, str):
        return string.Formatter().vformat(value, (), _Context(ctx))
    if isinstance(value, list | tuple):
        return [render(v, ctx) for v in value]
    return value


def template_context(ports: dict[str, int], **extra: Any) -> dict[str, Any]:
    """Context in which ``{db.port}`` resolves to the port of service ``db``."""
    ctx: dict[str, Any] = {name: SimpleNamespace(port=port) for name, port in ports.items()}
    ctx.update(extra)
    return ctx
