"""The one place that reads configuration.

Precedence, highest first: explicit arguments (CLI options) > environment variables >
the stack's state file (what ``stack.up`` actually started) > ``[tool.e2e]`` in pyproject >
defaults. Suites and tasks ask this module; nothing else reads ``os.environ`` for endpoints.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import E2EError

PROFILES = ("embedded", "compose", "remote")

# Environment variable for each endpoint field: these override the state file and targets.
ENDPOINT_ENV = {
    "api_url": "E2E_API_URL",
    "web_url": "E2E_WEB_URL",
    "database_url": "E2E_DATABASE_URL",
    "admin_database_url": "E2E_ADMIN_DATABASE_URL",
    "s3_url": "E2E_S3_URL",
    "s3_access_key": "E2E_S3_ACCESS_KEY",
    "s3_secret_key": "E2E_S3_SECRET_KEY",
    "s3_region": "E2E_S3_REGION",
}


def find_root(start: Path | None = None) -> Path:
    """The workspace root: ``$E2E_ROOT``, else the nearest folder up with a ``[tool.e2e]`` pyproject."""
    env = os.environ.get("E2E_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pp = folder / "pyproject.toml"
        if pp.is_file() and "[tool.e2e]" in pp.read_text(encoding="utf-8"):
            return folder
    raise E2EError(f"no E2E workspace found at or above {here}",
                   "run from the workspace checkout or set E2E_ROOT")


def load_tool_config(root: Path) -> dict[str, Any]:
    """``[tool.e2e]`` of the workspace's pyproject.toml."""
    with (root / "pyproject.toml").open("rb") as f:
        data = tomllib.load(f)
    try:
        return data["tool"]["e2e"]
    except KeyError:
        raise E2EError(f"{root / 'pyproject.toml'} has no [tool.e2e] table",
                       "add the stack definition there") from None


@dataclass(frozen=True)
class Endpoints:
    """Where the stack answers. Any field may be empty when that service is not part of it."""

    api_url: str = ""
    web_url: str = ""
    database_url: str = ""
    admin_database_url: str = ""
    s3_url: str = ""
    s3_access_key: str = "test"
    s3_secret_key: str = "testtest"
    s3_region: str = "us-east-1"
    buckets: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Endpoints:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "buckets" in values:
            values["buckets"] = tuple(values["buckets"])
        return cls(**values)

    def with_env(self, environ: dict[str, str] | None = None) -> Endpoints:
        """A copy with every ``E2E_*`` endpoint variable applied."""
        env = os.environ if environ is None else environ
        changes = {name: env[var] for name, var in ENDPOINT_ENV.items() if env.get(var)}
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return Endpoints(**data)

    def s3_client_kwargs(self) -> dict[str, str]:
        return {
            "endpoint_url": self.s3_url,
            "aws_access_key_id": self.s3_access_key,
            "aws_secret_access_key": self.s3_secret_key,
            "region_name": self.s3_region,
        }


@dataclass(frozen=True)
class Settings:
    """The workspace's settings for one command."""

    root: Path
    tool: dict[str, Any] = field(repr=False)
    profile: str = "embedded"
    target: str | None = None

    @property
    def state_dir(self) -> Path:
        return self.root / os.environ.get("E2E_STATE_DIR", self.tool.get("state_dir", ".e2e"))

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def targets(self) -> dict[str, dict[str, Any]]:
        return dict(self.tool.get("targets", {}))


def load_settings(root: Path | None = None, *, profile: str | None = None,
                  target: str | None = None) -> Settings:
    """Settings from arguments, then ``E2E_PROFILE``/``E2E_TARGET``, then pyproject."""
    root = root or find_root()
    tool = load_tool_config(root)
    target = target or os.environ.get("E2E_TARGET") or None
    chosen = profile or os.environ.get("E2E_PROFILE") or ("remote" if target else None)
    if chosen is None:
        chosen = read_state(root / tool.get("state_dir", ".e2e") / "state.json").get("driver", "")
    chosen = chosen or "embedded"
    if chosen not in PROFILES:
        raise E2EError(f"unknown stack profile {chosen!r}", f"use one of: {', '.join(PROFILES)}")
    settings = Settings(root=root, tool=tool, profile=chosen, target=target)
    if target and target not in settings.targets():
        names = ", ".join(sorted(settings.targets())) or "none defined"
        raise E2EError(f"unknown target {target!r}",
                       f"valid targets: {names} (define [tool.e2e.targets.NAME] in pyproject.toml)")
    return settings


def read_state(path: Path) -> dict[str, Any]:
    """The state file's content, or ``{}`` when there is none or it is unreadable or not an object.

    Lenient on purpose: choosing a driver must not fail on a corrupt file (``stack.down`` has to
    work then). What trusts the content loads it with ``StackState.load``, which validates it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def endpoints(settings: Settings | None = None) -> Endpoints:
    """The endpoints to test against: target or state file, then environment overrides."""
    settings = settings or load_settings()
    if settings.target:
        base = dict(settings.tool.get("endpoints", {}))
        base = {k: v for k, v in base.items() if "{" not in str(v)}  # local templates don't apply
        base.update(settings.targets()[settings.target])
        return Endpoints.from_mapping(base).with_env()
    from .state import StackState

    state = StackState.load(settings.state_file, settings.root)  # a corrupt file: one line, not ''
    return Endpoints.from_mapping(state.endpoints if state else {}).with_env()
