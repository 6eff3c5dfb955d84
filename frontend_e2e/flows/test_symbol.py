"""A symbol's page: live trades that update without reload, historic bars for a chosen range,
and table, chart and summary views of the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from frontend_e2e.support.truth import SEEDED_OPEN, SEEDED_SYMBOL, as_decimals, iso, local_input

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.symbol")]

LIVE_SYMBOL = "INTC"  # no seeded trades: the newest trades are the ones tests send now
RANGE = (SEEDED_OPEN + timedelta(minutes=30), SEEDED_OPEN + timedelta(hours=2, minutes=30))


def test_live_mode_shows_new_trades_without_reload(symbol_page, app, trade_files, account):
    symbol_page.open_symbol(LIVE_SYMBOL)
    expect(symbol_page.live_tab).to_have_attribute("aria-selected", "true")
    expect(symbol_page.live_rows.first).to_be_visible()
    tf = trade_files.build(3, symbols=(LIVE_SYMBOL,), start=datetime.now(UTC), spread_minutes=1)
    expect(symbol_page.live_row(tf.rows[0]["trade_id"])).to_have_count(0)

    trade_files.upload(account, tf)
    for row in tf.rows:
        expect(symbol_page.live_row(row["trade_id"])).to_be_visible(timeout=20_000)
    shown = {cells[3]: cells for cells in symbol_page.cells(symbol_page.live_rows)}
    ours = sorted(tf.rows, key=lambda r: (datetime.fromisoformat(r["ts"]), r["trade_id"]), reverse=True)
    assert [t for t in shown if t in {r["trade_id"] for r in ours}] == [r["trade_id"] for r in ours]
    assert [as_decimals(shown[r["trade_id"]][1:3], 0) for r in ours] == [
        as_decimals([r["price"], r["quantity"]], 0) for r in ours]
    assert app.document_loads == 1, "the page reloaded to show the new trades"


def test_historic_mode_shows_the_bars_of_the_chosen_range(symbol_page, account, api):
    start, end = RANGE
    symbol_page.open_symbol(SEEDED_SYMBOL)
    symbol_page.show_historic()
    symbol_page.load_range(local_input(start), local_input(end), "15m")
    bars = api.as_user(account).get("/bars", params={"symbol": SEEDED_SYMBOL, "interval": "15m",
                                                     "from": iso(start), "to": iso(end)}, expect=200).json()
    expect(symbol_page.load_status).to_have_text(f"Loaded {len(bars['bars'])} bars")
    expect(symbol_page.bar_rows).to_have_count(len(bars["bars"]))
    shown_times = [row[0] for row in symbol_page.cells(symbol_page.bar_rows)]
    assert shown_times == [iso(start + timedelta(minutes=15 * i)) for i in range(len(shown_times))]
    assert len(shown_times) == 8


def test_switching_views_keeps_the_same_data(symbol_page, browser_log):
    start, end = RANGE
    symbol_page.open_symbol(SEEDED_SYMBOL)
    symbol_page.show_historic()
    symbol_page.load_range(local_input(start), local_input(end), "5m")
    expect(symbol_page.load_status).to_have_text("Loaded 24 bars")
    table = symbol_page.cells(symbol_page.bar_rows)
    fetches = browser_log.requests_to("/bars?")

    symbol_page.show_view("Chart")
    expect(symbol_page.chart).to_have_accessible_name(f"{SEEDED_SYMBOL} price chart: {len(table)} bars")
    expect(symbol_page.bars_table).to_be_hidden()

    symbol_page.show_view("Summary")
    rows = [as_decimals(r) for r in table]
    expected = {"bars": len(rows), "volume": sum(r[5] for r in rows), "trades": sum(r[6] for r in rows),
                "open": rows[0][1], "high": max(r[2] for r in rows), "low": min(r[3] for r in rows),
                "close": rows[-1][4]}
    expect(symbol_page.summary["bars"]).to_have_text(str(len(rows)))
    assert as_decimals(list(symbol_page.summary_values().values()), 0) == tuple(expected.values())

    symbol_page.show_view("Table")
    expect(symbol_page.bar_rows).to_have_count(len(table))
    assert symbol_page.cells(symbol_page.bar_rows) == table
    assert browser_log.requests_to("/bars?") == fetches, "switching views fetched the bars again"
