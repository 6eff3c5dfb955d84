"""The live feed's wire format and Redis channels (compose/CONTRACT.md, feed.*), shared by the
worker (publisher) and the API (fan-out to WebSocket clients)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from .formats import decimal_text, iso

log = logging.getLogger("tradeboard.feed")

TRADES_PATTERN = "tb:trades:*"
SESSIONS_CHANNEL = "tb:sessions"
MAX_SYMBOLS = 20
MAX_BACKFILL = 1000  # per symbol; beyond it the client gets a reset and reloads by REST
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,11}$")


class TradeRow(Protocol):
    symbol: str
    seq: int
    trade_id: str
    price: Decimal
    quantity: Decimal
    ts: datetime


def trades_channel(symbol: str) -> str:
    return f"tb:trades:{symbol}"


def trade_message(row: TradeRow) -> dict[str, Any]:
    """A trade as the feed sends it: price and quantity as decimal strings."""
    return {"type": "trade", "symbol": row.symbol, "seq": int(row.seq), "trade_id": row.trade_id,
            "price": decimal_text(Decimal(row.price)),
            "quantity": decimal_text(Decimal(row.quantity)), "traded_at": iso(row.ts)}


class FeedRequestError(ValueError):
    """A bad ``symbols`` or ``since``; the message is the close reason (4400)."""


def parse_symbols(raw: str | None) -> list[str]:
    """1..MAX_SYMBOLS distinct, well-formed symbols in the order given (not yet checked as
    known)."""
    names = [s.strip().upper() for s in (raw or "").split(",") if s.strip()]
    if not names:
        raise FeedRequestError("symbols is required")
    names = list(dict.fromkeys(names))
    if len(names) > MAX_SYMBOLS:
        raise FeedRequestError(f"at most {MAX_SYMBOLS} symbols")
    for name in names:
        if not _SYMBOL.match(name):
            raise FeedRequestError(f"unknown symbol {name[:16]}")
    return names


def parse_since(raw: str | None, symbols: Iterable[str]) -> dict[str, int]:
    """``AAA:12,BBB:0`` as {symbol: seq}; every symbol named must be one of ``symbols``."""
    wanted = set(symbols)
    since: dict[str, int] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.strip().partition(":")
        name = name.strip().upper()
        if not sep or name not in wanted:
            raise FeedRequestError("malformed since")
        try:
            seq = int(value)
        except ValueError:
            raise FeedRequestError("malformed since") from None
        if seq < 0:
            raise FeedRequestError("malformed since")
        since[name] = seq
    return since


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def publish_trades(client: Any, trades: Iterable[TradeRow], batch: int = 500) -> int:
    """Publish each trade on its symbol's channel (pipelined in batches); returns how many.

    Raises what the client raises (Redis down): the caller logs it; the load stands."""
    sent = 0
    pipe = client.pipeline(transaction=False)
    for row in trades:
        pipe.publish(trades_channel(row.symbol), encode(trade_message(row)))
        sent += 1
        if sent % batch == 0:
            pipe.execute()
    pipe.execute()
    return sent
