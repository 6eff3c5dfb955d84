"""``data.seed`` and ``data.reset`` against whatever stack the configuration points at."""

from __future__ import annotations

from typing import Any

from .config import Settings, endpoints, load_settings


def _args(settings: Settings) -> tuple[str, str, dict[str, Any]]:
    ep = endpoints(settings)
    return ep.api_url, ep.database_url, ep.s3_client_kwargs()


def seed_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Load the deterministic baseline (idempotent); returns what it counted."""
    from .seed import seed

    return seed(*_args(settings or load_settings()))


def reset_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Remove everything that is not baseline, then ensure the baseline."""
    from .seed import reset

    return reset(*_args(settings or load_settings()))
