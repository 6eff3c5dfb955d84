"""Apply ``migrations/NNNN_name.sql`` in order, once, under a PostgreSQL advisory lock.

The api and the worker both call :func:`apply_migrations` at start; the lock makes the one
that comes second wait and then find nothing left to do.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

# An arbitrary, fixed key: "tradeboard migrations".
LOCK_KEY = 7_351_202_601
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover() -> list[Migration]:
    """The packaged migrations, ordered by version; refuses gaps and duplicates."""
    found: list[Migration] = []
    for entry in resources.files("tradeboard").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..N without gaps, found {versions}")
    return found


def apply_migrations(engine: Engine) -> list[str]:
    """Apply what is missing; return the names applied now."""
    applied_now: list[str] = []
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection  # the psycopg connection
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in discover():
                if migration.version in done:
                    continue
                # One transaction per file: a failed migration leaves no half-applied schema.
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                label = f"{migration.version:04d}_{migration.name}"
                log.info("applied migration %s", label)
                applied_now.append(label)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            conn.autocommit = False
    finally:
        raw.close()
    return applied_now
