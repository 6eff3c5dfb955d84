"""OHLCV bars: the 1-minute bar definition and the roll-up to longer intervals (pure).

A 1-minute bar covers the trades with ``minute <= ts < minute + 1 min``: open and close are
the first and last trade by ``(ts, trade_id)``, volume the sum of quantities. Longer bars are
built from 1-minute bars, buckets aligned to the Unix epoch in UTC (so ``1d`` starts at
midnight UTC). The worker computes 1-minute bars in SQL with the same definition
(``ingest.BARS_SQL``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Bar:
    t: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int


def bucket_start(ts: datetime, seconds: int) -> datetime:
    """The start of the ``seconds``-long bucket holding ``ts`` (aware UTC)."""
    offset = (ts - _EPOCH) // timedelta(seconds=seconds)
    return _EPOCH + timedelta(seconds=offset * seconds)


def bars_from_trades(trades: Iterable[tuple[str, datetime, Decimal, Decimal]],
                     seconds: int = 60) -> list[Bar]:
    """Bars from ``(trade_id, ts, price, quantity)`` tuples, oldest first (the reference
    definition the SQL must match)."""
    buckets: dict[datetime, list[tuple[datetime, str, Decimal, Decimal]]] = {}
    for trade_id, ts, price, quantity in trades:
        buckets.setdefault(bucket_start(ts, seconds), []).append((ts, trade_id, price, quantity))
    out = []
    for start in sorted(buckets):
        rows = sorted(buckets[start])
        prices = [r[2] for r in rows]
        out.append(Bar(start, rows[0][2], max(prices), min(prices), rows[-1][2],
                       sum((r[3] for r in rows), Decimal(0)), len(rows)))
    return out


def roll_up(minute_bars: Iterable[Bar], seconds: int) -> list[Bar]:
    """Combine 1-minute bars (oldest first) into ``seconds``-long bars."""
    if seconds == 60:
        return list(minute_bars)
    out: list[Bar] = []
    for bar in minute_bars:
        start = bucket_start(bar.t, seconds)
        if out and out[-1].t == start:
            last = out[-1]
            out[-1] = Bar(start, last.open, max(last.high, bar.high), min(last.low, bar.low),
                          bar.close, last.volume + bar.volume, last.trades + bar.trades)
        else:
            out.append(Bar(start, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trades))
    return out
