"""The symbol page's live mode on the live feed: trades pushed over a WebSocket as they are
loaded, the same in every tab, and REST polling only while the socket cannot be opened (signing
out closes the feed: ``test_sign_out.py``).

Each test's trades are timed now (``newest_trades``), so they are the symbol's newest and stay
on top of the table whatever other suites load meanwhile (their files are timed in the past).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import BrowserContext, expect

from frontend_e2e.pages import SymbolPage
from frontend_e2e.pages.symbol import LIVE, POLLING, LiveRow
from frontend_e2e.support.accounts import ACCESS_KEY, signed_in_state
from frontend_e2e.support.feed import FeedGate, FeedSockets, newest_trades

pytestmark = [pytest.mark.flow]

LIVE_SYMBOL = "INTC"
LOADED_MS = 20_000  # upload -> loaded -> shown, on a busy 2-core machine


def ours(rows: list[LiveRow], tf) -> list[LiveRow]:
    ids = {r["trade_id"] for r in tf.rows}
    return [row for row in rows if row.trade_id in ids]


def wait_shown(symbol_page: SymbolPage, tf) -> None:
    for row in tf.rows:
        expect(symbol_page.live_row(row["trade_id"])).to_be_visible(timeout=LOADED_MS)


@pytest.mark.contract("web.live.feed")
def test_live_page_shows_an_uploaded_files_trades_in_seq_order_without_reload(
        symbol_page, app, trade_files, account, browser_log):
    symbol_page.open_symbol(LIVE_SYMBOL)
    symbol_page.wait_for_status(LIVE)
    rest_loads = browser_log.requests_to("/trades/latest?")
    tf = newest_trades(trade_files, 4, LIVE_SYMBOL)

    trade_files.upload(account, tf)
    wait_shown(symbol_page, tf)
    shown = ours(symbol_page.live_table_rows(), tf)
    # Newest on top: the file's last trade first; seqs consecutive, one load numbers its trades.
    assert [r.trade_id for r in shown] == [r["trade_id"] for r in reversed(tf.rows)]
    seqs = [r.seq for r in shown]
    assert seqs == list(range(seqs[0], seqs[0] - len(seqs), -1)), f"not in seq order: {seqs}"
    # They arrived in seq order (the oldest first), each row made once.
    arrivals = [r.received_at for r in reversed(shown)]
    assert arrivals == sorted(arrivals)
    assert [(Decimal(r.cells[1]), Decimal(r.cells[2])) for r in shown] == [
        (Decimal(row["price"]), Decimal(row["quantity"])) for row in reversed(tf.rows)]
    expect(symbol_page.live_status).to_have_text(LIVE)
    assert browser_log.requests_to("/trades/latest?") == rest_loads, "the trades came by polling"
    assert app.document_loads == 1, "the page reloaded to show the new trades"


@pytest.mark.contract("web.live.tabs")
def test_two_tabs_of_one_user_see_the_same_live_trades_in_the_same_order(
        symbol_page, context: BrowserContext, trade_files, account):
    other = SymbolPage(context.new_page())
    for tab in (symbol_page, other):
        tab.open_symbol(LIVE_SYMBOL)
        tab.wait_for_status(LIVE)
    tf = newest_trades(trade_files, 5, LIVE_SYMBOL)

    trade_files.upload(account, tf)
    for tab in (symbol_page, other):
        wait_shown(tab, tf)
    first, second = (ours(tab.live_table_rows(), tf) for tab in (symbol_page, other))
    assert [(r.trade_id, r.seq, r.cells) for r in first] == [(r.trade_id, r.seq, r.cells) for r in second]
    assert [r.trade_id for r in first] == [r["trade_id"] for r in reversed(tf.rows)]


@pytest.mark.contract("web.live.polling")
def test_page_polls_while_the_feed_cannot_be_opened_and_goes_live_when_it_can(
        symbol_page, page, trade_files, account, browser_log):
    gate = FeedGate(page)
    symbol_page.open_symbol(LIVE_SYMBOL)
    symbol_page.wait_for_status(POLLING)
    assert gate.refused >= 3
    polled = newest_trades(trade_files, 2, LIVE_SYMBOL)
    trade_files.upload(account, polled)
    wait_shown(symbol_page, polled)
    expect(symbol_page.live_status).to_have_text(POLLING)

    gate.open()
    symbol_page.wait_for_status(LIVE, timeout=15_000)
    polls_at_live = browser_log.requests_to("/trades/latest?")
    pushed = newest_trades(trade_files, 2, LIVE_SYMBOL)
    trade_files.upload(account, pushed)
    wait_shown(symbol_page, pushed)
    ids = symbol_page.live_trade_ids()
    expected = [r["trade_id"] for tf in (pushed, polled) for r in reversed(tf.rows)]
    assert [i for i in ids if i in set(expected)] == expected
    # One poll may have been under way when the socket opened; none after it.
    assert browser_log.requests_to("/trades/latest?") <= polls_at_live + 1, "still polling while Live"


@pytest.mark.contract("web.live.token_refresh")
def test_feed_closed_when_the_access_token_expires_refreshes_it_and_goes_on(
        new_context, base_url, users, trade_files, account):
    # A user whose access token lasts 3 s: the API closes the feed with 4401 when it expires.
    short = users.create("browser", ttl_seconds=3)
    page = new_context(storage_state=signed_in_state(base_url, short)).new_page()
    tab = SymbolPage(page)
    sockets = FeedSockets(page)
    tab.open_symbol(LIVE_SYMBOL)
    tab.wait_for_status(LIVE)
    page.wait_for_function("([key, old]) => localStorage.getItem(key) !== old",
                           arg=[ACCESS_KEY, short.access_token], timeout=15_000)
    tab.wait_for_status(LIVE)
    tf = newest_trades(trade_files, 2, LIVE_SYMBOL)

    trade_files.upload(account, tf)
    wait_shown(tab, tf)
    expect(page).to_have_url(re.compile(r"/symbols/" + LIVE_SYMBOL + "$"))
    expect(tab.live_status).to_have_text(LIVE)
    assert len(sockets.sockets) >= 2, "the feed was never closed and opened again"
