"""The stack's state file: what was started, where it listens, and under which run id."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import E2EError

DRIVERS = ("embedded", "compose", "remote")


class StateCorrupt(E2EError):
    """The state file exists but cannot be trusted: not JSON, cut off, or of the wrong shape."""

    def __init__(self, path: Path, why: str, root: Path | None = None) -> None:
        shown = path
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = path.resolve().relative_to(root.resolve())
        self.path = path
        self.why = why
        super().__init__(f"{shown} is corrupt ({why})",
                         "run `invoke stack.down` to stop what this workspace started and clear it")


@dataclass
class ServiceState:
    pid: int = 0
    started: float = 0.0  # the process's create_time, to tell our pid from a reused one
    port: int = 0
    log: str = ""
    stop_signal: str = ""  # so `stack.down` can stop it without reading the stack definition
    # Behind the fault proxy: the port the service itself listens on (``port`` is the proxy's
    # listener, the one clients use); 0 when the service is not proxied.
    internal_port: int = 0

    @property
    def own_port(self) -> int:
        """The port the service's own process listens on."""
        return self.internal_port or self.port


@dataclass
class StackState:
    driver: str = "embedded"
    run_id: str = ""
    secret: str = ""
    # The interpreter that ran `stack.up`: host services restart with it, whoever asks
    # (a suite's environment, say, lacks the server packages).
    host_python: str = ""
    services: dict[str, ServiceState] = field(default_factory=dict)
    endpoints: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, root: Path | None = None) -> StackState | None:
        """The state at ``path``; None when there is no file.

        Raises :class:`StateCorrupt` (naming ``path`` relative to ``root``) when the file is empty,
        not JSON, or not of the shape :meth:`save` writes: wrong types, unknown keys.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateCorrupt(path, f"unreadable: {exc}", root) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateCorrupt(path, f"{exc.msg}: line {exc.lineno} column {exc.colno}", root) from None
        problem = shape_problem(data)
        if problem:
            raise StateCorrupt(path, problem, root)
        services = {k: ServiceState(**v) for k, v in data.get("services", {}).items()}
        return cls(driver=data.get("driver", "embedded"), run_id=data.get("run_id", ""),
                   secret=data.get("secret", ""), host_python=data.get("host_python", ""),
                   services=services,
                   endpoints=data.get("endpoints", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a reader never sees half a file


_TOP = {"driver": str, "run_id": str, "secret": str, "host_python": str, "services": dict,
        "endpoints": dict}
_SERVICE = {"pid": int, "started": (int, float), "port": int, "log": str, "stop_signal": str,
            "internal_port": int}


def _type_problem(where: str, value: Any, expected: type | tuple[type, ...]) -> str | None:
    # bool is an int to Python, never a pid or a port
    if isinstance(value, bool) or not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        return f"{where} is {json.dumps(value)[:40]}, expected {names}"
    return None


def shape_problem(data: Any) -> str | None:
    """What is wrong with the shape of a parsed state file, in a few words, or None."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__ if data is not None else 'null'}"
    for key, value in data.items():
        if key not in _TOP:
            return f"unknown key {key!r}"
        problem = _type_problem(key, value, _TOP[key])
        if problem:
            return problem
    if data.get("driver", "embedded") not in DRIVERS:
        return f"driver is {data['driver']!r}, expected one of {', '.join(DRIVERS)}"
    for name, svc in data.get("services", {}).items():
        if not isinstance(svc, dict):
            return f"services.{name} is {json.dumps(svc)[:40]}, expected an object"
        for key, value in svc.items():
            if key not in _SERVICE:
                return f"unknown key services.{name}.{key}"
            problem = _type_problem(f"services.{name}.{key}", value, _SERVICE[key])
            if problem:
                return problem
        if svc.get("pid", 0) < 0 or not all(0 <= svc.get(k, 0) <= 65535 for k in ("port", "internal_port")):
            return f"services.{name} has pid {svc.get('pid')} and port {svc.get('port')}, out of range"
    return None


@contextlib.contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Serialise commands that change the stack (two ``stack.up`` at once, a fault and a restart)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "state.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
