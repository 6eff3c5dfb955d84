"""Bar bucketing and roll-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tradeboard.bars import INTERVALS, Bar, bars_from_trades, bucket_start, roll_up

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(("ts", "seconds", "start"), [
    (datetime(2026, 1, 5, 14, 30, 59, 999999, tzinfo=UTC), 60,
     datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
    (datetime(2026, 1, 5, 14, 34, 0, tzinfo=UTC), 300, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
    (datetime(2026, 1, 5, 14, 44, 59, tzinfo=UTC), 900, datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
    (datetime(2026, 1, 5, 14, 59, tzinfo=UTC), 3600, datetime(2026, 1, 5, 14, tzinfo=UTC)),
    (datetime(2026, 1, 5, 23, 59, tzinfo=UTC), 86400, datetime(2026, 1, 5, tzinfo=UTC)),
    (datetime(1999, 12, 31, 23, 59, 30, tzinfo=UTC), 60,
     datetime(1999, 12, 31, 23, 59, tzinfo=UTC)),
])
def test_bucket_start(ts: datetime, seconds: int, start: datetime) -> None:
    assert bucket_start(ts, seconds) == start


def test_bucket_start_of_another_zone_is_utc_aligned() -> None:
    from datetime import timezone

    ts = datetime(2026, 1, 5, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 23:00 UTC the day before
    assert bucket_start(ts, 86400) == datetime(2026, 1, 4, tzinfo=UTC)


def test_minute_bars_open_close_by_ts_then_trade_id() -> None:
    trades = [
        ("b", T0 + timedelta(seconds=10), D(11), D(2)),
        ("a", T0 + timedelta(seconds=10), D(10), D(1)),  # same ts: "a" comes first
        ("c", T0 + timedelta(seconds=50), D(9), D(3)),
        ("d", T0 + timedelta(seconds=60), D(12), D(4)),  # the next minute
    ]
    assert bars_from_trades(trades) == [
        Bar(T0, D(10), D(11), D(9), D(9), D(6), 3),
        Bar(T0 + timedelta(minutes=1), D(12), D(12), D(12), D(12), D(4), 1),
    ]


def test_roll_up_matches_bars_from_trades() -> None:
    trades = [(f"t{i}", T0 + timedelta(seconds=37 * i), D(100 + (i * 7) % 13), D(1 + i % 5))
              for i in range(500)]
    minute = bars_from_trades(trades)
    for seconds in INTERVALS.values():
        assert roll_up(minute, seconds) == bars_from_trades(trades, seconds)


def test_roll_up_of_1m_is_identity_and_empty_is_empty() -> None:
    bar = Bar(T0, D(1), D(2), D(1), D(2), D(5), 2)
    assert roll_up([bar], 60) == [bar]
    assert roll_up([], 3600) == []
