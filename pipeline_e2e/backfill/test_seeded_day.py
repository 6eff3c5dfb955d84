"""The seeded historic day (2026-01-05, AAPL/MSFT/NVDA) is queryable, and its bars agree with the raw
trades: SQL aggregation straight from the trades table against the API's bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline_e2e.support.expected import INTERVALS, totals

pytestmark = [pytest.mark.integrity, pytest.mark.contract("market.bars")]

DAY = datetime(2026, 1, 5, tzinfo=UTC)
NEXT_DAY = DAY + timedelta(days=1)
SEEDED = ("AAPL", "MSFT", "NVDA")
TRADES_PER_SYMBOL = 12_000


@pytest.mark.parametrize("symbol", SEEDED)
def test_seeded_day_1m_bars_equal_sql_aggregation_of_raw_trades(symbol, warehouse, market):
    assert warehouse.count_like(f"seed-{symbol}-%") == TRADES_PER_SYMBOL
    from_sql = warehouse.bars(symbol, DAY, NEXT_DAY, 60)
    from_api = market.bars(symbol, DAY, NEXT_DAY, "1m")
    assert len(from_api) > 300, "the seeded session spans 6.5 hours of minutes"
    assert from_api == from_sql
    assert totals(from_api)[1] >= TRADES_PER_SYMBOL


@pytest.mark.parametrize("interval", ["15m", "1h", "1d"])
def test_seeded_day_coarse_bars_equal_sql_aggregation_of_raw_trades(interval, warehouse, market):
    for symbol in SEEDED:
        from_sql = warehouse.bars(symbol, DAY, NEXT_DAY, INTERVALS[interval])
        from_api = market.bars(symbol, DAY, NEXT_DAY, interval)
        assert from_api, symbol
        assert from_api == from_sql, symbol
