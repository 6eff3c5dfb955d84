"""Expected market data, computed independently from the rows a test sent or the database holds.

Bars follow the contract: a bar of ``seconds`` covers ``[t, t + seconds)`` with buckets aligned
to the Unix epoch in UTC; open and close are the first and last trade by ``(ts, trade_id)``;
volume is the sum of quantities.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Trade:
    """One trade, normalised so that a CSV row, a JSON row and a database row compare equal."""

    ts: datetime
    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal

    @classmethod
    def of(cls, row: dict[str, Any]) -> Trade:
        return cls(ts=parse_ts(row["ts"]), trade_id=str(row["trade_id"]), symbol=str(row["symbol"]),
                   price=Decimal(str(row["price"])), quantity=Decimal(str(row["quantity"])))


def parse_ts(value: Any) -> datetime:
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def expected_bars(trades: Iterable[Trade], interval: str = "1m") -> list[dict[str, Any]]:
    """The bars of ``trades`` for ``interval``, oldest first, as the API should answer them."""
    seconds = INTERVALS[interval]
    buckets: dict[datetime, list[Trade]] = {}
    for t in trades:
        start = EPOCH + timedelta(seconds=(t.ts - EPOCH) // timedelta(seconds=seconds) * seconds)
        buckets.setdefault(start, []).append(t)
    out = []
    for start in sorted(buckets):
        rows = sorted(buckets[start])
        prices = [r.price for r in rows]
        out.append({"t": start, "open": rows[0].price, "high": max(prices), "low": min(prices),
                    "close": rows[-1].price, "volume": sum((r.quantity for r in rows), Decimal(0)),
                    "trades": len(rows)})
    return out


def api_bars(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``bars`` of a ``GET /bars`` answer (parsed with ``parse_float=Decimal``), normalised."""
    return [{"t": parse_ts(b["t"]), **{k: Decimal(str(b[k])) for k in ("open", "high", "low", "close",
                                                                      "volume")},
             "trades": int(b["trades"])} for b in body["bars"]]


def csv_trades(content: bytes) -> list[Trade]:
    """The rows of an export file (header ``trade_id,symbol,price,quantity,ts``), in file order."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert reader.fieldnames == ["trade_id", "symbol", "price", "quantity", "ts"], reader.fieldnames
    return [Trade.of(row) for row in reader]


def db_trades(engine: Any, symbol: str, start: datetime, end: datetime) -> list[Trade]:
    """The warehouse rows of ``symbol`` in ``[start, end)``, ordered by ``(ts, trade_id)``."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT trade_id, symbol, price, quantity, ts FROM trades"
            " WHERE symbol = :s AND ts >= :f AND ts < :t ORDER BY ts, trade_id"),
            {"s": symbol, "f": start, "t": end}).mappings().all()
    return [Trade.of(dict(r)) for r in rows]


def sent_trades(rows: Iterable[dict[str, Any]]) -> list[Trade]:
    """The valid rows a test sent, in ``(ts, trade_id)`` order."""
    return sorted(Trade.of(r) for r in rows)
