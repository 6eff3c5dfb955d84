"""The source of truth for what the pages display: the database, read in SQL, and the
display form of what the API says (the app shows times and numbers exactly as the API spells
them, so a cell compares as text for times and as a decimal for numbers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

# The seeded baseline: 12,000 AAPL, MSFT and NVDA trades on 2026-01-05, 14:30-21:00 UTC.
SEEDED_SYMBOL = "AAPL"
SEEDED_OPEN = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
SEEDED_CLOSE = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}

BARS_SQL = sa.text("""
    SELECT to_timestamp(floor(extract(epoch FROM ts) / :step) * :step) AS bucket,
           (array_agg(price ORDER BY ts, trade_id))[1] AS open, max(price) AS high,
           min(price) AS low, (array_agg(price ORDER BY ts DESC, trade_id DESC))[1] AS close,
           sum(quantity) AS volume, count(*) AS trades
      FROM trades WHERE symbol = :symbol AND ts >= :start AND ts < :end
     GROUP BY 1 ORDER BY 1""")
LATEST_SQL = sa.text("""
    SELECT trade_id, price, quantity, ts FROM trades WHERE symbol = :symbol
     ORDER BY ts DESC, trade_id DESC LIMIT :n""")
EXPORT_SQL = sa.text("""
    SELECT trade_id, symbol, price, quantity, ts FROM trades
     WHERE symbol = :symbol AND ts >= :start AND ts < :end ORDER BY ts, trade_id""")
COUNTS_SQL = sa.text("""
    SELECT (SELECT count(*) FROM watchlists WHERE user_id = :u) AS watchlists,
           (SELECT count(*) FROM uploads WHERE user_id = :u) AS uploads,
           (SELECT count(*) FROM exports WHERE user_id = :u) AS exports""")


def iso(value: datetime) -> str:
    """A timestamp as the API (and so the page) spells it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_input(value: datetime) -> str:
    """A datetime-local field's value for a UTC time, to the minute."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def as_decimals(row: list[str] | tuple[Any, ...], text_columns: int = 1) -> tuple[Any, ...]:
    """A displayed (or API/CSV) row with its first ``text_columns`` kept and the rest as decimals."""
    return (*row[:text_columns], *(Decimal(str(v)) for v in row[text_columns:]))


def db_bars(db: Any, symbol: str, start: datetime, end: datetime, interval: str) -> list[tuple[Any, ...]]:
    """Bars computed straight from the trades table: (time, open, high, low, close, volume, trades)."""
    with db.connect() as conn:
        rows = conn.execute(BARS_SQL, {"step": INTERVAL_SECONDS[interval], "symbol": symbol,
                                       "start": start, "end": end}).all()
    return [(iso(r.bucket), *(Decimal(v) for v in r[1:])) for r in rows]


def db_latest_trades(db: Any, symbol: str, n: int) -> list[tuple[Any, ...]]:
    """The newest trades as the live table lays them out: (time, price, quantity, trade id)."""
    with db.connect() as conn:
        rows = conn.execute(LATEST_SQL, {"symbol": symbol, "n": n}).all()
    return [(iso(r.ts), Decimal(r.price), Decimal(r.quantity), r.trade_id) for r in rows]


def db_export_rows(db: Any, symbol: str, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """What an export of the range must hold: (trade_id, symbol, price, quantity, ts)."""
    with db.connect() as conn:
        rows = conn.execute(EXPORT_SQL, {"symbol": symbol, "start": start, "end": end}).all()
    return [(r.trade_id, r.symbol, Decimal(r.price), Decimal(r.quantity), iso(r.ts)) for r in rows]


def db_counts(db: Any, user_id: str) -> dict[str, int]:
    with db.connect() as conn:
        row = conn.execute(COUNTS_SQL, {"u": user_id}).one()
    return dict(row._mapping)
