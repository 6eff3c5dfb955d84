"""The one place that reads configuration.

Precedence, highest first: explicit arguments (CLI options) > environment variables >
the stack's state file (what ``stack.up`` actually started) > ``[tool.e2e]`` in pyproject >
defaults. Suites and tasks ask this module; nothing else reads ``os.environ`` for endpoints.
"""

from __future__ import annotations

import json
import os
import re
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
    "redis_url": "E2E_REDIS_URL",
}


def extra_env_var(key: str) -> str:
    """The variable that overrides a product's own endpoint: ``api2_url`` -> ``E2E_API2_URL``."""
    return "E2E_" + key.upper()


def find_root(start: Path | None = None) -> Path:
    """The workspace root: ``$E2E_ROOT``, else the nearest folder up with a ``[tool.e2e]`` pyproject."""
    env = os.environ.get("E2E_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / "pyproject.toml").is_file():
            raise E2EError(f"E2E_ROOT={env} has no pyproject.toml",
                           "point E2E_ROOT at the workspace checkout, or unset it")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pp = folder / "pyproject.toml"
        if pp.is_file() and "[tool.e2e]" in pp.read_text(encoding="utf-8"):
            return folder
    raise E2EError(f"no E2E workspace found at or above {here}",
                   "run from the workspace checkout or set E2E_ROOT")


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter to read)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def read_pyproject(path: Path) -> dict[str, Any]:
    """A pyproject.toml parsed; a TOML mistake becomes one line with ``file:line:col``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise E2EError(f"cannot read {shown_path(path)}: {getattr(exc, 'strerror', None) or exc}",
                       "check the file and its permissions") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r" \(at line (\d+), column (\d+)\)$", message)
        if where:
            line, col = int(where[1]), int(where[2])
        else:  # "(at end of document)"
            lines = text.split("\n")
            line, col = len(lines), len(lines[-1]) + 1
        cause = re.sub(r" \(at (line \d+, column \d+|end of document)\)$", "", message)
        raise E2EError(f"{shown_path(path)}:{line}:{col}: TOML syntax error: {cause}",
                       "fix the TOML at that line (the file cannot be read until then)") from None


def load_tool_config(root: Path, *, validate: bool = True) -> dict[str, Any]:
    """``[tool.e2e]`` of the workspace's pyproject.toml, checked against its schema.

    ``validate=False`` only parses it: for commands that must work with a wrong stack definition
    (taking down what the state file says is running).
    """
    path = root / "pyproject.toml"
    data = read_pyproject(path)
    try:
        tool = data["tool"]["e2e"]
    except (KeyError, TypeError):
        raise E2EError(f"{shown_path(path)} has no [tool.e2e] table",
                       "add the stack definition there") from None
    if not isinstance(tool, dict):
        raise E2EError(f"[tool.e2e] in {shown_path(path)} is not a table", "make it a table: [tool.e2e]")
    if validate:
        from .configschema import validate as check

        check(tool, shown_path(path))
    return tool


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
    redis_url: str = ""
    buckets: tuple[str, ...] = ()
    # The product's own ``*_url`` endpoints (a second API process, say), by key.
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Endpoints:
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        if "buckets" in values:
            values["buckets"] = tuple(values["buckets"])
        extra = {k: str(v) for k, v in data.items() if k not in known and k.endswith("_url")}
        return cls(**values, extra=extra)

    def url(self, key: str) -> str:
        """A named endpoint, built-in or the product's own: ``endpoints.url("api2_url")``."""
        if key in self.extra:
            return self.extra[key]
        value = getattr(self, key, None) if key != "extra" else None
        if not isinstance(value, str) or not key.endswith("_url"):
            known = sorted([*(f for f in ENDPOINT_ENV if f.endswith("_url")), *self.extra])
            raise E2EError(f"no endpoint {key!r}", f"known: {', '.join(known)}; add it to "
                           "[tool.e2e.endpoints]")
        return value

    def with_env(self, environ: dict[str, str] | None = None) -> Endpoints:
        """A copy with every ``E2E_*`` endpoint variable applied."""
        env = os.environ if environ is None else environ
        changes = {name: env[var] for name, var in ENDPOINT_ENV.items() if env.get(var)}
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        data["extra"] = {k: env.get(extra_env_var(k)) or v for k, v in self.extra.items()}
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
        """``$E2E_REPORTS_DIR``; else beside a state directory moved by ``$E2E_STATE_DIR`` (two
        stacks in one clone never share reports); else ``reports/``."""
        if os.environ.get("E2E_REPORTS_DIR"):
            return self.root / os.environ["E2E_REPORTS_DIR"]
        if os.environ.get("E2E_STATE_DIR"):
            return self.state_dir / "reports"
        return self.root / "reports"

    def targets(self) -> dict[str, dict[str, Any]]:
        return dict(self.tool.get("targets", {}))


def load_settings(root: Path | None = None, *, profile: str | None = None,
                  target: str | None = None, validate: bool = True) -> Settings:
    """Settings from arguments, then ``E2E_PROFILE``/``E2E_TARGET``, then pyproject.

    ``validate=False`` skips the schema check of ``[tool.e2e]`` (see :func:`load_tool_config`).
    """
    root = root or find_root()
    tool = load_tool_config(root, validate=validate)
    target = target or os.environ.get("E2E_TARGET") or None
    from_env = not profile and os.environ.get("E2E_PROFILE")
    chosen = profile or os.environ.get("E2E_PROFILE") or ("remote" if target else None)
    settings = Settings(root=root, tool=tool, profile=chosen or "embedded", target=target)
    check_state_dir(settings)
    if chosen is None:
        chosen = read_state(settings.state_file).get("driver", "")
    chosen = chosen or "embedded"
    if chosen not in PROFILES:
        where = f"E2E_PROFILE={chosen}: " if from_env else ""
        raise E2EError(f"{where}unknown stack profile {chosen!r}", f"use one of: {', '.join(PROFILES)}")
    settings = Settings(root=root, tool=tool, profile=chosen, target=target)
    if target and target not in settings.targets():
        names = ", ".join(sorted(settings.targets())) or "none defined"
        where = f"E2E_TARGET={target}: " if target == os.environ.get("E2E_TARGET") else ""
        raise E2EError(f"{where}unknown target {target!r}",
                       f"valid targets: {names} (define [tool.e2e.targets.NAME] in pyproject.toml)")
    return settings


def check_state_dir(settings: Settings) -> None:
    """The state folder (``E2E_STATE_DIR`` or ``state_dir``) must be a folder, if it exists."""
    folder = settings.state_dir
    blocker = _non_folder(folder)
    if blocker is not None:
        origin = "E2E_STATE_DIR" if os.environ.get("E2E_STATE_DIR") else "state_dir"
        raise E2EError(f"the state folder {shown_path(folder)} ({origin}) cannot be used: "
                       f"{shown_path(blocker)} is a file, not a folder",
                       f"point {origin} at a folder, or move {shown_path(blocker)} away")


def _non_folder(path: Path) -> Path | None:
    """The first part of ``path`` that exists and is not a folder, if any."""
    for part in (*reversed(path.parents), path):
        if part.exists() and not part.is_dir():
            return part
    return None


def check_writable_dir(path: Path, what: str, *, create: bool = True) -> Path:
    """Make sure ``path`` is a folder this process can write; one-line error if not.

    Checked before anything runs, so that hours of tests never end on an unwritable report.
    Mode bits alone do not tell (root ignores them): a file is really created and removed.
    With ``create=False`` a missing folder is not made: its nearest existing parent is checked.
    """
    blocker = _non_folder(path)
    if blocker is not None:
        raise E2EError(f"{what} {shown_path(path)} cannot be written: {shown_path(blocker)} is a file, "
                       "not a folder", f"move {shown_path(blocker)} away, or remove it")
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        folder = next(p for p in (path, *path.parents) if p.exists())
        probe = folder / f".write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise E2EError(f"{what} {shown_path(path)} cannot be written: {reason}",
                       f"make {shown_path(path)} a writable folder") from None
    return path


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
