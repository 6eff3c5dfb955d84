"""``data.seed`` and ``data.reset`` against whatever stack the configuration points at."""

from __future__ import annotations

from typing import Any

from . import E2EError
from .config import Settings, endpoints, load_settings


def _args(settings: Settings) -> tuple[str, str, dict[str, Any]]:
    ep = endpoints(settings)
    missing = [name for name, value in (("api_url", ep.api_url), ("database_url", ep.database_url),
                                        ("s3_url", ep.s3_url)) if not value]
    if missing:  # no stack to seed: say so instead of failing inside the database driver
        raise E2EError(f"no stack to seed: {', '.join(missing)} unknown (the stack is not up)",
                       "run `invoke stack.up` first, or set E2E_API_URL, E2E_DATABASE_URL and E2E_S3_URL")
    return ep.api_url, ep.database_url, ep.s3_client_kwargs()


def seed_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Load the deterministic baseline (idempotent); returns what it counted."""
    from .seed import seed

    return seed(*_args(settings or load_settings()))


def reset_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Remove everything that is not baseline, then ensure the baseline."""
    from .seed import reset

    return reset(*_args(settings or load_settings()))
