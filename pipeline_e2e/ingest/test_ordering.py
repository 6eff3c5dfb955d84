"""Late and out-of-order trades land in the right 1-minute bars; the test recomputes the bars itself."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from pipeline_e2e.support import expected

pytestmark = [pytest.mark.flow, pytest.mark.contract("market.bars")]


def test_late_file_with_earlier_trades_is_merged_into_the_loaded_minute_bars(trade_files, loader, market):
    first = trade_files.build(150, symbols=("NFLX",), spread_minutes=20)
    assert loader.upload(first)["rows_new"] == 150
    start, end = first.window
    bars_before = market.bars("NFLX", start, end)
    assert bars_before == expected.bars(expected.trades(first.valid))

    # Trades from the first ten of those minutes arrive later, in a second file.
    late = trade_files.build(150, symbols=("NFLX",), start=start, spread_minutes=10, seed=7)
    first_trades, late_trades = expected.trades(first.valid), expected.trades(late.valid)
    assert max(t.ts for t in late_trades) < max(t.ts for t in first_trades)
    shared = {b.t for b in expected.bars(late_trades)} & {b.t for b in bars_before}
    assert shared, "the late trades must fall into minutes that already have bars"
    assert loader.upload(late)["rows_new"] == 150

    both = first_trades + late_trades
    assert market.bars("NFLX", start, end) == expected.bars(both)
    assert market.bars("NFLX", start, end, "5m") == expected.bars(both, 300)


def test_rows_in_reverse_time_order_land_in_their_own_minutes(trade_files, loader, market):
    tf = trade_files.build(200, symbols=("AMD", "INTC"), spread_minutes=30)
    tf.rows.sort(key=lambda r: expected.parse_ts(r["ts"]), reverse=True)  # newest first in the file
    assert loader.upload(tf)["rows_new"] == 200
    want = expected.bars_by_symbol(expected.trades(tf.valid))
    for symbol in ("AMD", "INTC"):
        assert market.bars(symbol, *tf.window) == want[symbol], symbol


@pytest.mark.contract("market.number_formats")
def test_timestamps_with_utc_offsets_land_in_their_utc_minutes(trade_files, loader, warehouse, market):
    tf = trade_files.build(120, symbols=("AAPL",), spread_minutes=20)
    for i, row in enumerate(tf.rows):  # the same instants, written in other zones
        zone = timezone(timedelta(hours=(i % 5) * 3 - 6, minutes=30 * (i % 2)))
        row["ts"] = expected.parse_ts(row["ts"]).astimezone(zone).isoformat()
    assert loader.upload(tf)["rows_new"] == 120
    source = expected.trades(tf.valid)
    assert expected.checksum(warehouse.trades(r["trade_id"] for r in tf.valid)) == expected.checksum(source)
    assert market.bars("AAPL", *tf.window) == expected.bars(source)
