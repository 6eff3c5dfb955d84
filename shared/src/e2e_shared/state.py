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

from .config import read_state


@dataclass
class ServiceState:
    pid: int = 0
    started: float = 0.0  # the process's create_time, to tell our pid from a reused one
    port: int = 0
    log: str = ""


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
    def load(cls, path: Path) -> StackState | None:
        data = read_state(path)
        if not data:
            return None
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
