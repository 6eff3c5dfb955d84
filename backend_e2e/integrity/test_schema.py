"""The live schema is exactly the one written down in ``expected_schema.py``, aspect by aspect.

Not compared with a database built from the migrations: a wrong migration would agree with
itself there. The expected schema is reviewed against compose/CONTRACT.md instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backend_e2e import catalog
from backend_e2e.integrity.expected_schema import EXPECTED, REFERENCE_SYMBOLS

pytestmark = pytest.mark.integrity


@pytest.fixture(scope="module")
def migrations(stack: Any) -> Path:
    folder = Path(stack.settings.root) / "compose" / "tradeboard" / "src" / "tradeboard" / "migrations"
    assert catalog.migration_files(folder), f"no migration files in {folder}"
    return folder


def _diff(live: set[tuple[Any, ...]], expected: set[tuple[Any, ...]]) -> str:
    lines = [f"  only live:     {r}" for r in sorted(live - expected, key=repr)]
    lines += [f"  only expected: {r}" for r in sorted(expected - live, key=repr)]
    return "\n".join(lines)


def test_every_aspect_of_the_schema_is_written_down() -> None:
    assert set(EXPECTED) == set(catalog.ASPECTS)
    assert all(EXPECTED.values()), "an empty expectation would prove nothing"


@pytest.mark.contract("schema.exact")
@pytest.mark.parametrize("aspect", list(catalog.ASPECTS))
def test_live_schema_equals_the_expected_schema(aspect: str, db: Any) -> None:
    live, expected = catalog.describe(db, aspect), EXPECTED[aspect]
    assert live == expected, f"{aspect} differ from expected_schema.py:\n{_diff(live, expected)}"


@pytest.mark.contract("schema.migrations_recorded")
def test_every_migration_file_is_recorded_as_applied(db: Any, migrations: Path) -> None:
    with db.connect() as conn:
        applied = [tuple(r) for r in conn.execute(sa.text(
            "SELECT version, name FROM schema_migrations ORDER BY version"))]
    assert applied == [(v, n) for v, n, _ in catalog.migration_files(migrations)]


@pytest.mark.contract("market.symbols")
def test_reference_symbols_are_present(db: Any) -> None:
    with db.connect() as conn:
        live = conn.execute(sa.text("SELECT symbol, name FROM symbols ORDER BY symbol")).all()
    assert set(REFERENCE_SYMBOLS) <= {tuple(r) for r in live}
