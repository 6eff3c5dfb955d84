"""Every view of a collection shows all of it at real sizes: hundreds of bars in the table, the
chart and the summary, dozens of uploads and exports, a full set of watchlists. Each view is
compared with the same truth (the API and the database), so a view that silently truncates to a
page or a recent window fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e_shared.clients import ApiClient
from e2e_shared.naming import Namer
from frontend_e2e.support.truth import (
    SEEDED_CLOSE,
    SEEDED_OPEN,
    SEEDED_SYMBOL,
    as_decimals,
    db_bars,
    db_counts,
    local_input,
)
from tradeboard_fixtures.factories import ExportFactory, TradeFileFactory, User, UserFactory, WatchlistFactory

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.full_collections")]

UPLOADS = 32  # more than any page or default limit of the API (20)
EXPORTS = 26
WATCHLISTS, SYMBOLS_EACH = 10, 10  # the contract's maximum, each holding every symbol
TINY_RANGE = ("2001-01-01T00:00:00Z", "2001-01-01T00:01:00Z")  # exports with no rows: quick


@dataclass
class BigAccount:
    user: User
    api: ApiClient


@pytest.fixture(scope="module")
def big(stack: Any, run_id: str, db: Any, s3: Any, _windows: Any) -> Iterator[BigAccount]:
    """One user with dozens of uploads and exports and every watchlist slot full (made through
    the API once for the module)."""
    api = ApiClient(stack.endpoints.api_url)
    namer = Namer(run_id, "frontend-big")
    users = UserFactory(api, namer, db)
    files, exports = TradeFileFactory(api, namer, s3, _windows), ExportFactory(api)
    lists = WatchlistFactory(api, namer)
    try:
        user = users.create("big")
        symbols = [s["symbol"] for s in api.as_user(user).get("/symbols", expect=200).json()][:SYMBOLS_EACH]
        for _ in range(WATCHLISTS):
            lists.create(user, symbols=symbols)
        sent = [files.build(2, symbols=("AMD",)) for _ in range(UPLOADS)]
        for tf in sent:
            files.upload(user, tf)
        made = [exports.create(user, "AMD", *TINY_RANGE)["id"] for _ in range(EXPORTS)]
        for ex_id in made:
            exports.wait(user, ex_id)
        for tf in sent:
            files.wait_loaded(user, tf)
        yield BigAccount(user, api.as_user(user))
    finally:
        lists.cleanup()
        exports.cleanup()
        files.cleanup()
        users.cleanup()


@pytest.fixture
def account(big: BigAccount) -> User:
    """The browser is signed in as the big account."""
    return big.user


def test_uploads_page_lists_every_upload(uploads_page, big):
    uploads_page.open()
    truth = big.api.get("/uploads", expect=200).json()
    assert len(truth) == UPLOADS
    expect(uploads_page.table.locator("tbody tr")).to_have_count(UPLOADS)
    assert uploads_page.shown() == [[u["filename"], u["status"], str(u["rows_total"]), str(u["rows_loaded"]),
                                     str(u["rows_rejected"])] for u in truth]


def test_exports_page_lists_every_export(exports_page, big):
    exports_page.open()
    truth = big.api.get("/exports", expect=200).json()
    assert len(truth) == EXPORTS
    expect(exports_page.items).to_have_count(EXPORTS)
    assert exports_page.shown() == [(exports_page.title(e["symbol"], e["from"], e["to"]), e["status"])
                                    for e in truth]


def test_watchlists_page_shows_every_watchlist_with_every_symbol(watchlists_page, big):
    watchlists_page.open()
    truth = [(w["name"], w["symbols"]) for w in big.api.get("/watchlists", expect=200).json()]
    assert len(truth) == WATCHLISTS and all(len(s) == SYMBOLS_EACH for _, s in truth)
    expect(watchlists_page.lists.get_by_role("heading")).to_have_count(WATCHLISTS)
    assert watchlists_page.shown() == [(n, list(s)) for n, s in truth]


def test_dashboard_counts_every_item(dashboard_page, big, db):
    dashboard_page.open()
    counts = db_counts(db, big.user.id)
    assert counts == {"watchlists": WATCHLISTS, "uploads": UPLOADS, "exports": EXPORTS}
    expect(dashboard_page.watchlist_count).to_have_text(str(WATCHLISTS))
    expect(dashboard_page.upload_count).to_have_text(str(UPLOADS))
    expect(dashboard_page.export_count).to_have_text(str(EXPORTS))


@pytest.fixture
def day_of_bars(symbol_page, db) -> list[tuple]:
    """The seeded day's 1-minute bars (390 of them) loaded on the symbol page; the database's bars."""
    expected = db_bars(db, SEEDED_SYMBOL, SEEDED_OPEN, SEEDED_CLOSE, "1m")
    assert len(expected) == 390, len(expected)
    symbol_page.open_symbol(SEEDED_SYMBOL)
    symbol_page.show_historic()
    symbol_page.load_range(local_input(SEEDED_OPEN), local_input(SEEDED_CLOSE), "1m")
    expect(symbol_page.load_status).to_have_text(f"Loaded {len(expected)} bars")
    return expected


def test_bar_table_shows_every_bar_of_a_long_range(symbol_page, day_of_bars):
    expect(symbol_page.bar_rows).to_have_count(len(day_of_bars))
    assert [as_decimals(r) for r in symbol_page.cells(symbol_page.bar_rows)] == day_of_bars


def test_chart_draws_every_bar_of_a_long_range(symbol_page, day_of_bars):
    symbol_page.show_view("Chart")
    expect(symbol_page.chart).to_have_accessible_name(f"{SEEDED_SYMBOL} price chart: {len(day_of_bars)} bars")
    expect(symbol_page.chart_candles).to_have_count(len(day_of_bars))
    expect(symbol_page.chart_volumes).to_have_count(len(day_of_bars))


def test_summary_covers_every_bar_of_a_long_range(symbol_page, day_of_bars):
    symbol_page.show_view("Summary")
    rows = day_of_bars
    expected = (len(rows), sum(r[5] for r in rows), sum(r[6] for r in rows), rows[0][1],
                max(r[2] for r in rows), min(r[3] for r in rows), rows[-1][4])
    expect(symbol_page.summary["bars"]).to_have_text(str(len(rows)))
    assert as_decimals(list(symbol_page.summary_values().values()), 0) == expected
