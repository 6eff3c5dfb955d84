"""The database itself refuses bad rows (each tried in a transaction that is rolled back)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.integrity, pytest.mark.contract("schema.exact")]

CHECK, UNIQUE, FOREIGN_KEY, NOT_NULL = "23514", "23505", "23503", "23502"

USER = ("INSERT INTO users (id, email, password_hash, display_name)"
        " VALUES (:uid, :email, 'x', 'Integrity')")
WATCHLIST = "INSERT INTO watchlists (id, user_id, name) VALUES (:wid, :uid, 'wl')"
# seq: past every number given so far (the feed's sequence, migration 0003), unless a case sets it.
NEXT_SEQ = "(SELECT coalesce(max(seq), 0) + 1 FROM trades)"
TRADE = ("INSERT INTO trades (trade_id, symbol, price, quantity, ts, seq)"
         " VALUES (:tid, {symbol}, {price}, {quantity}, {ts}, {seq})")
EXPORT = ("INSERT INTO exports (user_id, symbol, from_ts, to_ts, status, progress)"
          " VALUES (:uid, 'AAPL', {from_ts}, {to_ts}, {status}, {progress})")
LANDING = ("INSERT INTO landing_files (key, status, landed_at, loaded_at, rows_total, rows_loaded,"
           " rows_rejected, rows_new, rows_duplicate) VALUES (:key, {status}, now(), {loaded_at},"
           " {total}, {loaded}, {rejected}, {new}, {duplicate})")


def trade(symbol: str = "'AAPL'", price: str = "10", quantity: str = "1", ts: str = "now()",
          seq: str = NEXT_SEQ) -> str:
    return TRADE.format(symbol=symbol, price=price, quantity=quantity, ts=ts, seq=seq)


def export(from_ts: str = "now() - interval '1 day'", to_ts: str = "now()", status: str = "'queued'",
           progress: str = "0") -> str:
    return EXPORT.format(from_ts=from_ts, to_ts=to_ts, status=status, progress=progress)


def landing(status: str = "'loaded'", loaded_at: str = "now()", total: int = 3, loaded: int = 2,
            rejected: int = 1, new: int = 2, duplicate: int = 0) -> str:
    return LANDING.format(status=status, loaded_at=loaded_at, total=total, loaded=loaded,
                          rejected=rejected, new=new, duplicate=duplicate)


@dataclass(frozen=True)
class Bad:
    id: str
    bad: str
    sqlstate: str
    setup: tuple[str, ...] = field(default_factory=tuple)
    constraint: str | None = None


CASES = [
    Bad("trade-zero-price", trade(price="0"), CHECK, constraint="trades_price_check"),
    Bad("trade-negative-price", trade(price="-0.01"), CHECK, constraint="trades_price_check"),
    Bad("trade-zero-quantity", trade(quantity="0"), CHECK, constraint="trades_quantity_check"),
    Bad("trade-negative-quantity", trade(quantity="-5"), CHECK, constraint="trades_quantity_check"),
    Bad("trade-duplicate-trade-id", trade(), UNIQUE, setup=(trade(),), constraint="trades_pkey"),
    Bad("trade-id-of-a-seeded-trade", "INSERT INTO trades (trade_id, symbol, price, quantity, ts, seq)"
        f" VALUES ('seed-AAPL-1', 'AAPL', 1, 1, now(), {NEXT_SEQ})", UNIQUE, constraint="trades_pkey"),
    Bad("trade-without-seq", trade(seq="NULL"), NOT_NULL),
    Bad("trade-zero-seq", trade(seq="0"), CHECK, constraint="trades_seq_positive"),
    Bad("trade-seq-taken-in-its-symbol",
        "INSERT INTO trades (trade_id, symbol, price, quantity, ts, seq) VALUES (:tid || '-b', 'AAPL', 1, 1,"
        " now(), (SELECT max(seq) FROM trades WHERE symbol = 'AAPL'))", UNIQUE, setup=(trade(),),
        constraint="trades_symbol_seq_key"),
    Bad("trade-unknown-symbol", trade(symbol="'NOPE'"), FOREIGN_KEY, constraint="trades_symbol_fkey"),
    Bad("trade-without-timestamp", trade(ts="NULL"), NOT_NULL),
    Bad("user-duplicate-email-other-case",
        "INSERT INTO users (email, password_hash, display_name) VALUES (upper(:email), 'x', 'Dup')",
        UNIQUE, setup=(USER,), constraint="users_email_lower_key"),
    Bad("watchlist-of-no-user", WATCHLIST, FOREIGN_KEY, constraint="watchlists_user_id_fkey"),
    Bad("watchlist-duplicate-name", "INSERT INTO watchlists (user_id, name) VALUES (:uid, 'wl')", UNIQUE,
        setup=(USER, WATCHLIST), constraint="watchlists_user_name_key"),
    Bad("watchlist-empty-name", "INSERT INTO watchlists (user_id, name) VALUES (:uid, '')", CHECK,
        setup=(USER,)),
    Bad("watchlist-symbol-of-no-watchlist",
        "INSERT INTO watchlist_symbols (watchlist_id, symbol) VALUES (:wid, 'AAPL')", FOREIGN_KEY),
    Bad("watchlist-symbol-unknown",
        "INSERT INTO watchlist_symbols (watchlist_id, symbol) VALUES (:wid, 'NOPE')",
        FOREIGN_KEY, setup=(USER, WATCHLIST), constraint="watchlist_symbols_symbol_fkey"),
    Bad("session-of-no-user", "INSERT INTO sessions (user_id, refresh_jti, access_ttl, expires_at)"
        " VALUES (:uid, 'j', 60, now())", FOREIGN_KEY),
    Bad("session-zero-ttl", "INSERT INTO sessions (user_id, refresh_jti, access_ttl, expires_at)"
        " VALUES (:uid, 'j', 0, now())", CHECK, setup=(USER,), constraint="sessions_access_ttl_check"),
    Bad("export-empty-range", export(from_ts="now()", to_ts="now()"), CHECK, setup=(USER,)),
    Bad("export-unknown-status", export(status="'paused'"), CHECK, setup=(USER,),
        constraint="exports_status_check"),
    Bad("export-progress-over-100", export(progress="101"), CHECK, setup=(USER,),
        constraint="exports_progress_check"),
    Bad("landing-counts-do-not-add-up", landing(total=5), CHECK),
    Bad("landing-loaded-split-does-not-add-up", landing(new=1, duplicate=0), CHECK),
    Bad("landing-loaded-without-loaded-at", landing(loaded_at="NULL"), CHECK),
    Bad("landing-unknown-status", landing(status="'done'"), CHECK, constraint="landing_files_status_check"),
    Bad("quarantine-unknown-reason", "INSERT INTO quarantine_rows (file_key, line, reason, raw)"
        " VALUES (:key, 1, 'because', 'x')", CHECK, setup=(landing(),),
        constraint="quarantine_rows_reason_check"),
    Bad("quarantine-of-no-file", "INSERT INTO quarantine_rows (file_key, line, reason, raw)"
        " VALUES (:key, 1, 'malformed', 'x')", FOREIGN_KEY),
    Bad("bar-low-above-high", "INSERT INTO bars_1m (symbol, minute, open, high, low, close, volume, trades)"
        " VALUES ('AAPL', '2001-01-01', 10, 9, 11, 10, 1, 1)", CHECK),
    Bad("symbol-lower-case", "INSERT INTO symbols (symbol, name) VALUES ('aapl', 'lower')", CHECK,
        constraint="symbols_symbol_check"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_database_rejects_the_bad_row(case: Bad, sql: Any, unique: Any) -> None:
    params = {"uid": str(uuid.uuid4()), "wid": str(uuid.uuid4()), "email": unique.email("integrity"),
              "tid": unique("trade"), "key": f"integrity/{unique('file')}.csv"}
    for statement in case.setup:
        sql.execute(sa.text(statement), params)
    with pytest.raises(sa.exc.IntegrityError) as caught:
        sql.execute(sa.text(case.bad), params)
    diag = caught.value.orig
    assert diag.sqlstate == case.sqlstate, f"{case.id}: {diag.sqlstate} {diag}"
    if case.constraint:
        assert diag.diag.constraint_name == case.constraint, diag.diag.constraint_name
