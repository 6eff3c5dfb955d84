"""What the pages display equals its source: the API's answers and the database's rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from frontend_e2e.support.truth import (
    SEEDED_CLOSE,
    SEEDED_OPEN,
    SEEDED_SYMBOL,
    as_decimals,
    db_bars,
    db_latest_trades,
    iso,
    local_input,
)

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.symbol")]


def api_bar_rows(client, symbol: str, start: datetime, end: datetime, interval: str) -> list[tuple]:
    bars = client.get("/bars", params={"symbol": symbol, "interval": interval, "from": iso(start),
                                       "to": iso(end)}, expect=200).json()["bars"]
    return [as_decimals([b["t"], b["open"], b["high"], b["low"], b["close"], b["volume"], b["trades"]])
            for b in bars]


def file_bars(rows: list[dict]) -> list[tuple]:
    """1-minute bars of a trade file, computed here from its rows (the definition in CONTRACT.md)."""
    minutes: dict[datetime, list[tuple]] = defaultdict(list)
    for r in rows:
        ts = datetime.fromisoformat(r["ts"])
        minutes[ts.replace(second=0, microsecond=0)].append((ts, r["trade_id"], Decimal(r["price"]),
                                                             Decimal(r["quantity"])))
    out = []
    for minute in sorted(minutes):
        trades = sorted(minutes[minute])
        prices = [t[2] for t in trades]
        out.append((iso(minute), trades[0][2], max(prices), min(prices), trades[-1][2],
                    sum(t[3] for t in trades), Decimal(len(trades))))
    return out


def test_historic_bars_shown_equal_the_api_and_the_database(symbol_page, account, api, db):
    symbol_page.open_symbol(SEEDED_SYMBOL)
    symbol_page.show_historic()
    symbol_page.load_range(local_input(SEEDED_OPEN), local_input(SEEDED_CLOSE), "15m")
    expected = db_bars(db, SEEDED_SYMBOL, SEEDED_OPEN, SEEDED_CLOSE, "15m")
    expect(symbol_page.load_status).to_have_text(f"Loaded {len(expected)} bars")
    shown = [as_decimals(row) for row in symbol_page.cells(symbol_page.bar_rows)]
    assert shown == api_bar_rows(api.as_user(account), SEEDED_SYMBOL, SEEDED_OPEN, SEEDED_CLOSE, "15m")
    assert shown == expected


def test_bars_of_an_uploaded_window_equal_the_trades_in_the_file(symbol_page, trade_files, account):
    tf = trade_files.build(40, symbols=("NFLX",), spread_minutes=20)
    trade_files.upload(account, tf)
    trade_files.wait_loaded(account, tf)
    start = tf.window_start
    symbol_page.open_symbol("NFLX")
    symbol_page.show_historic()
    symbol_page.load_range(local_input(start), local_input(start + timedelta(hours=1)), "1m")
    expected = file_bars(tf.valid)
    expect(symbol_page.load_status).to_have_text(f"Loaded {len(expected)} bars")
    assert [as_decimals(row) for row in symbol_page.cells(symbol_page.bar_rows)] == expected


def test_live_trades_shown_equal_the_latest_trades_in_the_database(symbol_page, account, api, db):
    symbol_page.open_symbol("MSFT")
    expect(symbol_page.live_rows).to_have_count(20)
    shown = [as_decimals(row[:3]) + (row[3],) for row in symbol_page.cells(symbol_page.live_rows)]
    latest = api.as_user(account).get("/trades/latest", params={"symbol": "MSFT", "limit": 20},
                                      expect=200).json()["trades"]
    assert shown == [as_decimals([t["ts"], t["price"], t["quantity"]]) + (t["trade_id"],) for t in latest]
    assert shown == db_latest_trades(db, "MSFT", 20)
