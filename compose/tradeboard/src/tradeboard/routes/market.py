"""Market data: symbols, latest trades, bars (1-minute bars rolled up to the interval)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import Connection, text

from ..bars import INTERVALS, Bar, roll_up
from ..deps import Ctx, User
from ..errors import ApiError, validation
from ..formats import iso, number, parse_iso

router = APIRouter(tags=["market"])


def known_symbol(conn: Connection, symbol: str) -> str:
    """The normalised symbol, or 422 unknown_symbol."""
    symbol = symbol.strip().upper()
    if conn.execute(text("SELECT 1 FROM symbols WHERE symbol = :s"), {"s": symbol}).first() is None:
        raise ApiError(422, "unknown_symbol", f"unknown symbol {symbol!r}")
    return symbol


def parse_time(value: str | None, name: str, location: str = "query") -> datetime | None:
    if value is None or value == "":
        return None
    parsed = parse_iso(value)
    if parsed is None:
        raise validation(f"{name} must be an ISO 8601 timestamp", name, location)
    return parsed


@router.get("/symbols")
def symbols(_: User,
            ctx: Ctx) -> list[dict[str, str]]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT symbol, name FROM symbols ORDER BY symbol")).all()
    return [{"symbol": r.symbol, "name": r.name} for r in rows]


@router.get("/trades/latest")
def latest_trades(symbol: Annotated[str, Query(max_length=32)], _: User, ctx: Ctx,
                  limit: Annotated[int, Query(ge=1, le=500)] = 20) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        symbol = known_symbol(conn, symbol)
        # Where the live feed continues (feed.*): a client opens /ws/trades with since=last_seq.
        # Read first, and only trades up to it listed: a load committing in between is then
        # wholly the feed's to send, never half here and missed there.
        last_seq = int(conn.execute(text(
            "SELECT last_seq FROM symbol_sequences WHERE symbol = :s"),
            {"s": symbol}).scalar() or 0)
        rows = conn.execute(text(
            "SELECT trade_id, price, quantity, ts, seq FROM trades"
            " WHERE symbol = :s AND seq <= :last"
            " ORDER BY ts DESC, trade_id DESC LIMIT :n"),
            {"s": symbol, "n": limit, "last": last_seq}).all()
    return {"symbol": symbol, "last_seq": last_seq, "trades": [
        {"trade_id": r.trade_id, "price": number(r.price), "quantity": number(r.quantity),
         "ts": iso(r.ts), "seq": r.seq} for r in rows]}


@router.get("/bars")
def bars(symbol: Annotated[str, Query(max_length=32)], _: User, ctx: Ctx,
         interval: str = "1m", from_: Annotated[str | None, Query(alias="from")] = None,
         to: str | None = None) -> dict[str, Any]:
    if interval not in INTERVALS:
        raise validation(f"interval must be one of {', '.join(INTERVALS)}", "interval", "query")
    end = parse_time(to, "to") or datetime.now(UTC)
    start = parse_time(from_, "from") or end - timedelta(days=1)
    if start >= end:
        raise validation("from must be before to", "from", "query")
    with ctx.engine.connect() as conn:
        symbol = known_symbol(conn, symbol)
        # A 1-minute bar belongs to the range when its minute is in [from, to).
        rows = conn.execute(text(
            "SELECT minute, open, high, low, close, volume, trades FROM bars_1m"
            " WHERE symbol = :s AND minute >= :start AND minute < :end ORDER BY minute"),
            {"s": symbol, "start": start, "end": end}).all()
    minute_bars = (Bar(r.minute, r.open, r.high, r.low, r.close, r.volume, r.trades)
                   for r in rows)
    return {"symbol": symbol, "interval": interval, "bars": [
        {"t": iso(b.t), "open": number(b.open), "high": number(b.high), "low": number(b.low),
         "close": number(b.close), "volume": number(b.volume), "trades": b.trades}
        for b in roll_up(minute_bars, INTERVALS[interval])]}
