"""Stack drivers: embedded (local processes), compose (docker compose) and remote (nothing to run)."""

from __future__ import annotations

import shutil
import subprocess

from .. import E2EError
from ..config import Settings, load_settings
from ..stackdef import parse
from .base import ServiceStatus, StackDriver

DRIVERS = ("embedded", "compose", "remote")

__all__ = ["DRIVERS", "ServiceStatus", "StackDriver", "docker_engine_answers", "get_driver"]


def docker_engine_answers(timeout: float = 3.0) -> bool:
    """True when a Docker engine answers and the compose plugin is there."""
    if not shutil.which("docker"):
        return False
    try:
        for argv in (["docker", "info", "--format", "{{.ServerVersion}}"],
                     ["docker", "compose", "version"]):
            if subprocess.run(argv, capture_output=True, timeout=timeout).returncode != 0:
                return False
    except (OSError, subprocess.TimeoutExpired):
        return False
    return True


def resolve_driver_name(settings: Settings, requested: str | None) -> str:
    if settings.target:
        return "remote"
    name = requested or ("" if settings.profile == "embedded" else settings.profile)
    name = name or settings.tool.get("default_driver", "auto")
    if name == "auto":
        name = "compose" if docker_engine_answers() else "embedded"
    if name not in DRIVERS:
        raise E2EError(f"unknown driver {name!r}", f"use one of: {', '.join(DRIVERS)}")
    return name


def get_driver(requested: str | None = None, *, settings: Settings | None = None,
               target: str | None = None) -> StackDriver:
    """The driver for this workspace: ``requested``, else the state file's, else auto-detected."""
    settings = settings or load_settings(target=target)
    name = resolve_driver_name(settings, requested)
    stack = parse(settings.tool)
    if name == "embedded":
        from .embedded import EmbeddedDriver

        return EmbeddedDriver(settings, stack)
    if name == "compose":
        from .compose import ComposeDriver

        return ComposeDriver(settings, stack)
    from .remote import RemoteDriver

    return RemoteDriver(settings, stack)
