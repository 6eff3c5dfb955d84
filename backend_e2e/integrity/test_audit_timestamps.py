"""Audit timestamps come from the database: created_at by default, updated_at by trigger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.integrity, pytest.mark.contract("schema.exact")]

PARENT_USER = ("INSERT INTO users (id, email, password_hash, display_name)"
               " VALUES (:uid, :email, 'x', 'Audit')")
# table -> (parent rows, insert of a minimal row without any timestamp, its WHERE clause)
ROWS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "users": ((), PARENT_USER, "id = :uid"),
    "sessions": ((PARENT_USER,), "INSERT INTO sessions (id, user_id, refresh_jti, access_ttl, expires_at)"
                 " VALUES (:rid, :uid, 'j', 60, now() + interval '1 hour')", "id = :rid"),
    "login_failures": ((), "INSERT INTO login_failures (email_key, failures, window_started_at)"
                       " VALUES (:email, 1, now())", "email_key = :email"),
    "watchlists": ((PARENT_USER,), "INSERT INTO watchlists (id, user_id, name) VALUES (:rid, :uid, 'wl')",
                   "id = :rid"),
    "uploads": ((PARENT_USER,), "INSERT INTO uploads (id, user_id, filename, object_key, size_bytes)"
                " VALUES (:rid, :uid, 'f.csv', :key, 1)", "id = :rid"),
    "exports": ((PARENT_USER,), "INSERT INTO exports (id, user_id, symbol, from_ts, to_ts)"
                " VALUES (:rid, :uid, 'AAPL', now() - interval '1 day', now())", "id = :rid"),
    "landing_files": ((), "INSERT INTO landing_files (key, landed_at) VALUES (:key, now())", "key = :key"),
    "symbols": ((), "INSERT INTO symbols (symbol, name) VALUES (:symbol, 'Audit')", "symbol = :symbol"),
}
OLD = datetime.fromisoformat("2001-02-03T04:05:06+00:00")


@pytest.fixture
def params(unique: Any) -> dict[str, str]:
    return {"uid": str(uuid.uuid4()), "rid": str(uuid.uuid4()), "email": unique.email("audit"),
            "key": f"audit/{unique('file')}.csv", "symbol": "Z" + uuid.uuid4().hex[:8].upper()}


def _insert(sql: Any, table: str, params: dict[str, str]) -> Any:
    parents, insert, where = ROWS[table]
    for statement in parents:
        sql.execute(sa.text(statement), params)
    sql.execute(sa.text(insert), params)
    return sql.execute(sa.text(f"SELECT created_at, updated_at, now() AS now FROM {table} WHERE {where}"),
                       params).one()


@pytest.mark.parametrize("table", list(ROWS))
def test_created_at_and_updated_at_default_to_the_database_time(table: str, sql: Any,
                                                                params: dict[str, str]) -> None:
    row = _insert(sql, table, params)
    assert row.created_at == row.now and row.updated_at == row.now


@pytest.mark.parametrize("table", list(ROWS))
def test_updated_at_is_set_by_the_trigger_whatever_the_update_says(table: str, sql: Any,
                                                                   params: dict[str, str]) -> None:
    _insert(sql, table, params)
    where = ROWS[table][2]
    row = sql.execute(sa.text(f"UPDATE {table} SET updated_at = :old WHERE {where}"
                              " RETURNING created_at, updated_at, now() AS now"),
                      {**params, "old": OLD}).one()
    assert row.updated_at == row.now != OLD, "the trigger did not overwrite an explicit updated_at"
    assert row.created_at == row.now


def test_bars_updated_at_is_set_by_the_trigger(sql: Any) -> None:
    row = sql.execute(sa.text(
        "UPDATE bars_1m SET updated_at = :old WHERE (symbol, minute) ="
        " (SELECT symbol, minute FROM bars_1m WHERE symbol = 'AAPL' ORDER BY minute LIMIT 1)"
        " RETURNING updated_at, now() AS now"), {"old": OLD}).one()
    assert row.updated_at == row.now != OLD


@pytest.mark.contract("watchlists.shape")
def test_a_rename_through_the_api_moves_updated_at_and_keeps_created_at(api: Any, shared_user: Any,
                                                                        watchlists: Any, db: Any,
                                                                        unique: Any) -> None:
    wl = watchlists.create(shared_user)
    query = sa.text("SELECT created_at, updated_at, clock_timestamp() AS now FROM watchlists WHERE id = :id")
    with db.connect() as conn:
        before = conn.execute(query, {"id": wl["id"]}).one()
    api.as_user(shared_user).patch(f"/watchlists/{wl['id']}", json={"name": unique("renamed")}, expect=200)
    with db.connect() as conn:
        after = conn.execute(query, {"id": wl["id"]}).one()
    assert after.created_at == before.created_at
    assert before.now < after.updated_at <= after.now, "updated_at is not the database time of the rename"
