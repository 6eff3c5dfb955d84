"""What the pipeline should produce, computed by the test from the source rows (pure functions).

The bar definition is the contract's: a bar covers ``start <= ts < start + interval``, buckets
aligned to the Unix epoch in UTC; open and close are the first and last trade by
``(ts, trade_id)``, volume the sum of quantities, trades the count.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}


@dataclass(frozen=True, order=True)
class Trade:
    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal
    ts: datetime


@dataclass(frozen=True)
class Bar:
    t: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int


def parse_ts(value: str | datetime) -> datetime:
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def dec(value: Any) -> Decimal:
    """A JSON number, numeric text or Decimal as an exact Decimal (floats by their shortest repr)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def trade(row: Mapping[str, Any]) -> Trade:
    """A source row (factory dict) or a warehouse row (SQL mapping) as a comparable Trade."""
    return Trade(str(row["trade_id"]), str(row["symbol"]), dec(row["price"]), dec(row["quantity"]),
                 parse_ts(row["ts"]))


def trades(rows: Iterable[Mapping[str, Any]]) -> list[Trade]:
    return [trade(r) for r in rows]


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def normalised(t: Trade) -> str:
    """One line per trade, independent of how the number or the time was written."""
    return "|".join((t.trade_id, t.symbol, _plain(t.price), _plain(t.quantity),
                     t.ts.isoformat(timespec="microseconds")))


def checksum(rows: Iterable[Trade]) -> str:
    """sha256 over the sorted normalised lines."""
    lines = sorted(normalised(t) for t in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def bucket_start(ts: datetime, seconds: int) -> datetime:
    return EPOCH + ((ts - EPOCH) // timedelta(seconds=seconds)) * timedelta(seconds=seconds)


def bars(rows: Iterable[Trade], seconds: int = 60) -> list[Bar]:
    """The bars of ``rows`` (one symbol), oldest first."""
    buckets: dict[datetime, list[Trade]] = {}
    for t in rows:
        buckets.setdefault(bucket_start(t.ts, seconds), []).append(t)
    out = []
    for start in sorted(buckets):
        group = sorted(buckets[start], key=lambda t: (t.ts, t.trade_id))
        prices = [t.price for t in group]
        out.append(Bar(start, group[0].price, max(prices), min(prices), group[-1].price,
                       sum((t.quantity for t in group), Decimal(0)), len(group)))
    return out


def bars_by_symbol(rows: Iterable[Trade], seconds: int = 60) -> dict[str, list[Bar]]:
    grouped: dict[str, list[Trade]] = {}
    for t in rows:
        grouped.setdefault(t.symbol, []).append(t)
    return {symbol: bars(group, seconds) for symbol, group in grouped.items()}


def bar_from_json(b: Mapping[str, Any]) -> Bar:
    return Bar(parse_ts(b["t"]), dec(b["open"]), dec(b["high"]), dec(b["low"]), dec(b["close"]),
               dec(b["volume"]), int(b["trades"]))


def totals(bar_list: Iterable[Bar]) -> tuple[Decimal, int]:
    """(volume, trades) summed over bars."""
    volume, count = Decimal(0), 0
    for b in bar_list:
        volume += b.volume
        count += b.trades
    return volume, count


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
