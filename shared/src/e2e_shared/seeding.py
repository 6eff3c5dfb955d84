"""``data.seed`` and ``data.reset`` against whatever stack the configuration points at.

What the baseline is belongs to the product package (``[tool.e2e] product``): this module only
asks it, through :mod:`e2e_shared.product`.
"""

from __future__ import annotations

from typing import Any

from . import E2EError
from .config import Endpoints, Settings, endpoints, load_settings


def require_endpoints(settings: Settings, *names: str) -> Endpoints:
    """The stack's endpoints, or one line naming those of ``names`` that are unknown."""
    ep = endpoints(settings)
    missing = [name for name in names if not getattr(ep, name)]
    if missing:  # no stack to seed: say so instead of failing inside the database driver
        env = [f"E2E_{name.upper()}" for name in names]
        env = ", ".join(env[:-1]) + f" and {env[-1]}" if len(env) > 1 else env[0]
        raise E2EError(f"no stack to seed: {', '.join(missing)} unknown (the stack is not up)",
                       f"run `invoke stack.up` first, or set {env}")
    return ep


def seed_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Load the product's deterministic baseline (idempotent); returns what it counted."""
    from .product import hook

    settings = settings or load_settings()
    return hook(settings, "seed")(settings)


def reset_baseline(settings: Settings | None = None) -> dict[str, Any]:
    """Remove everything that is not baseline, then ensure the baseline."""
    from .product import hook

    settings = settings or load_settings()
    return hook(settings, "reset")(settings)


def describe_counts(settings: Settings, counts: dict[str, Any]) -> str:
    """What the seed loaded, in the product's words (the ``data.seed`` summary line)."""
    from .product import describe

    return describe(settings, counts)
