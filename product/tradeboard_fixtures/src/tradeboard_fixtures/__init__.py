"""Tradeboard's side of the seam: the hooks the engine asks for by ``[tool.e2e] product``.

``seed``/``reset`` load and restore the baseline (:mod:`.seed`), ``describe`` words the seed
summary line, ``SECRETS`` are masked in every report; :mod:`.plugin` holds the suites' fixtures
(users, watchlists, trade files, exports), :mod:`.factories` the factories behind them.
Importing this module stays cheap (masking reads ``SECRETS`` in every process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from e2e_shared.config import Settings

# The seeded users' passwords (.seed.USERS), known to every process so that no report shows them.
SECRETS = ("alice-local-pw", "bob-local-pw")


def _args(settings: Settings) -> tuple[str, str, dict[str, Any]]:
    from e2e_shared.seeding import require_endpoints

    ep = require_endpoints(settings, "api_url", "database_url", "s3_url")
    return ep.api_url, ep.database_url, ep.s3_client_kwargs()


def seed(settings: Settings) -> dict[str, Any]:
    """Two users, ten symbols, one day of trades of three symbols (idempotent)."""
    from .seed import seed as load

    return load(*_args(settings))


def reset(settings: Settings) -> dict[str, Any]:
    """Everything the tests created removed, then the baseline ensured."""
    from .seed import reset as restore

    return restore(*_args(settings))


def describe(counts: dict[str, Any]) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in ("symbols", "users", "trades") if k in counts)
