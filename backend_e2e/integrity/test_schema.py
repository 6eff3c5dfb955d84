"""The live schema is exactly what the migration files declare, aspect by aspect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backend_e2e import catalog

pytestmark = pytest.mark.integrity


@pytest.fixture(scope="module")
def migrations(stack: Any) -> Path:
    folder = Path(stack.settings.root) / "compose" / "tradeboard" / "src" / "tradeboard" / "migrations"
    assert catalog.migration_files(folder), f"no migration files in {folder}"
    return folder


@pytest.fixture(scope="module")
def scratch(endpoints: Any, run_id: str, migrations: Path) -> Iterator[Any]:
    """A fresh database holding only what the migration files make."""
    with catalog.scratch_database(endpoints.admin_database_url, run_id, migrations) as engine:
        yield engine


def _diff(live: set[tuple[Any, ...]], declared: set[tuple[Any, ...]]) -> str:
    lines = [f"  only live:     {r}" for r in sorted(live - declared, key=repr)]
    lines += [f"  only declared: {r}" for r in sorted(declared - live, key=repr)]
    return "\n".join(lines)


@pytest.mark.parametrize("aspect", list(catalog.ASPECTS))
def test_live_schema_matches_the_migrations(aspect: str, db: Any, scratch: Any) -> None:
    live, declared = catalog.describe(db, aspect), catalog.describe(scratch, aspect)
    assert declared, f"the migrations declare no {aspect}: the comparison would prove nothing"
    assert live == declared, f"{aspect} drifted from the migrations:\n{_diff(live, declared)}"


def test_every_migration_file_is_recorded_as_applied(db: Any, migrations: Path) -> None:
    with db.connect() as conn:
        applied = [tuple(r) for r in conn.execute(sa.text(
            "SELECT version, name FROM schema_migrations ORDER BY version"))]
    assert applied == [(v, n) for v, n, _ in catalog.migration_files(migrations)]


def test_reference_symbols_of_the_migrations_are_present(db: Any, scratch: Any) -> None:
    query = sa.text("SELECT symbol, name FROM symbols ORDER BY symbol")
    with scratch.connect() as conn:
        declared = conn.execute(query).all()
    with db.connect() as conn:
        live = conn.execute(query).all()
    assert declared and set(declared) <= set(live)
