"""Tradeboard's configuration: every ``TB_*`` environment variable, read in one place.

The table of variables and defaults is in ``compose/CONTRACT.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import __version__


class ConfigError(Exception):
    """A missing or unusable environment variable; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    s3_endpoint: str
    secret_key: str
    s3_access_key: str = "test"
    s3_secret_key: str = "test"
    s3_region: str = "us-east-1"
    bucket_landing: str = "landing"
    bucket_quarantine: str = "quarantine"
    bucket_exports: str = "exports"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 86400
    login_max_failures: int = 5
    login_window: int = 60
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Per user: at most rate_limit requests in a window of rate_window seconds (ratelimit.*).
    rate_limit: int = 600
    rate_window: int = 60
    max_upload_bytes: int = 20_000_000
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    api_public_url: str = "http://127.0.0.1:8000"
    poll_interval: float = 0.2
    export_chunk_rows: int = 500
    export_chunk_delay: float = 0.05
    heartbeat_max_age: float = 15.0
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106's second recommendation).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    version: str = __version__


# field name -> (variable, type); required ones have no default in Settings.
_VARIABLES: dict[str, tuple[str, type]] = {
    "database_url": ("TB_DATABASE_URL", str),
    "s3_endpoint": ("TB_S3_ENDPOINT", str),
    "secret_key": ("TB_SECRET_KEY", str),
    "s3_access_key": ("TB_S3_ACCESS_KEY", str),
    "s3_secret_key": ("TB_S3_SECRET_KEY", str),
    "s3_region": ("TB_S3_REGION", str),
    "bucket_landing": ("TB_BUCKET_LANDING", str),
    "bucket_quarantine": ("TB_BUCKET_QUARANTINE", str),
    "bucket_exports": ("TB_BUCKET_EXPORTS", str),
    "access_token_ttl": ("TB_ACCESS_TOKEN_TTL", int),
    "refresh_token_ttl": ("TB_REFRESH_TOKEN_TTL", int),
    "login_max_failures": ("TB_LOGIN_MAX_FAILURES", int),
    "login_window": ("TB_LOGIN_WINDOW", int),
    "redis_url": ("TB_REDIS_URL", str),
    "rate_limit": ("TB_RATE_LIMIT", int),
    "rate_window": ("TB_RATE_WINDOW", int),
    "max_upload_bytes": ("TB_MAX_UPLOAD_BYTES", int),
    "api_host": ("TB_API_HOST", str),
    "api_port": ("TB_API_PORT", int),
    "web_host": ("TB_WEB_HOST", str),
    "web_port": ("TB_WEB_PORT", int),
    "api_public_url": ("TB_API_PUBLIC_URL", str),
    "poll_interval": ("TB_POLL_INTERVAL", float),
    "export_chunk_rows": ("TB_EXPORT_CHUNK_ROWS", int),
    "export_chunk_delay": ("TB_EXPORT_CHUNK_DELAY", float),
    "heartbeat_max_age": ("TB_HEARTBEAT_MAX_AGE", float),
    "argon2_time_cost": ("TB_ARGON2_TIME_COST", int),
    "argon2_memory_kib": ("TB_ARGON2_MEMORY_KIB", int),
    "argon2_parallelism": ("TB_ARGON2_PARALLELISM", int),
    "version": ("TB_VERSION", str),
}
_REQUIRED = ("database_url", "s3_endpoint", "secret_key")
_POSITIVE = ("access_token_ttl", "refresh_token_ttl", "login_max_failures", "login_window",
             "rate_limit", "rate_window",
             "max_upload_bytes", "poll_interval", "export_chunk_rows", "heartbeat_max_age",
             "argon2_time_cost", "argon2_memory_kib", "argon2_parallelism")


def load_settings(environ: Mapping[str, str] | None = None, *,
                  require: tuple[str, ...] = _REQUIRED) -> Settings:
    """Settings from ``environ`` (default: the process environment).

    ``require`` lets a process that needs less (the web server needs no database) say so;
    missing required values become empty strings then.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, (var, kind) in _VARIABLES.items():
        raw = env.get(var, "").strip()
        if not raw:
            if name in require:
                raise ConfigError(f"{var} is required but not set")
            if name in _REQUIRED:
                values[name] = ""
            continue
        try:
            values[name] = kind(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a valid {kind.__name__}") from None
    settings = Settings(**values)  # type: ignore[arg-type]
    for name in _POSITIVE:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{_VARIABLES[name][0]} must be positive")
    if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
        raise ConfigError("TB_ARGON2_MEMORY_KIB must be at least 8 x TB_ARGON2_PARALLELISM "
                          "(argon2's minimum)")
    if settings.export_chunk_delay < 0:
        raise ConfigError("TB_EXPORT_CHUNK_DELAY must not be negative")
    return settings
