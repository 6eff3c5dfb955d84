"""The schema as PostgreSQL's catalog describes it, and a scratch database built from the migrations.

Black box: the migrations are read as SQL files (never imported) and applied, in order, to a
fresh database made with the superuser connection; both databases are then described by the
same catalog queries, so any difference is drift between the migrations and the live schema.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

MIGRATION = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# The migration runner's own bookkeeping: created by the runner, not by the files.
RUNNER_TABLES = ("schema_migrations",)

ASPECTS: dict[str, str] = {
    "tables": """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'""",
    "column types": """
        SELECT table_name, column_name, data_type, udt_name, character_maximum_length,
               numeric_precision, numeric_scale, datetime_precision
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "nullability": """
        SELECT table_name, column_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public'""",
    "defaults and identity": """
        SELECT table_name, column_name, column_default, is_identity, identity_generation
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "primary keys": "{constraints}'p'",
    "foreign keys": "{constraints}'f'",
    "unique constraints": "{constraints}'u'",
    "check constraints": "{constraints}'c'",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'""",
}
_CONSTRAINTS = """
    SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND k.contype = """


def describe(engine: Any, aspect: str) -> set[tuple[Any, ...]]:
    """One aspect of the public schema, as a set of rows (runner tables left out)."""
    query = ASPECTS[aspect].replace("{constraints}", _CONSTRAINTS)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(query)).all()
    return {tuple(r) for r in rows if r[0] not in RUNNER_TABLES}


def migration_files(folder: Path) -> list[tuple[int, str, Path]]:
    """``(version, name, path)`` of each ``NNNN_name.sql``, in version order."""
    found = []
    for path in folder.iterdir():
        match = MIGRATION.match(path.name)
        if match:
            found.append((int(match[1]), match[2], path))
    return sorted(found)


@contextmanager
def scratch_database(admin_url: str, label: str, migrations: Path) -> Iterator[Any]:
    """A new database with the migration files applied in order; dropped afterwards."""
    name = f"scratch_{re.sub(r'[^a-z0-9]', '', label.lower())[:30]}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine = sa.create_engine(make_url(admin_url).set(database=name), poolclass=sa.pool.NullPool)
        try:
            for _version, _name, path in migration_files(migrations):
                with engine.begin() as conn:  # one transaction per file, as a runner would
                    conn.exec_driver_sql(path.read_text(encoding="utf-8"))
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
