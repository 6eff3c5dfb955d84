"""The notes product's hooks, asked for by the engine through ``[tool.e2e] product``."""

from __future__ import annotations

from typing import Any

# Shared test data: the baseline every test may read and none may change.
BASELINE = (("welcome", "Notes keeps what you write."), ("shortcuts", "n: new note, d: delete"))
SECRETS = ("notes-pw",)  # the app role's password: masked in every report


def _engine(settings: Any) -> Any:
    import sqlalchemy as sa

    from e2e_shared.seeding import require_endpoints

    return sa, sa.create_engine(require_endpoints(settings, "database_url").database_url)


def seed(settings: Any) -> dict[str, Any]:
    """The baseline notes, present once each (idempotent)."""
    sa, engine = _engine(settings)
    with engine.begin() as conn:
        for title, body in BASELINE:
            conn.execute(sa.text("insert into notes (title, body) values (:t, :b) "
                                 "on conflict (title) do nothing"), {"t": title, "b": body})
        count = conn.execute(sa.text("select count(*) from notes")).scalar_one()
    engine.dispose()
    return {"notes": count}


def reset(settings: Any) -> dict[str, Any]:
    """Every note but the baseline removed, then the baseline ensured."""
    sa, engine = _engine(settings)
    with engine.begin() as conn:
        deleted = conn.execute(sa.text("delete from notes where not (title = any(:keep))"),
                               {"keep": [t for t, _ in BASELINE]}).rowcount
    engine.dispose()
    return {"deleted": deleted, **seed(settings)}


def describe(counts: dict[str, Any]) -> str:
    return f"{counts['notes']} notes"
