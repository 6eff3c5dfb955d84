"""Signing out ends the session everywhere: in this tab, in the API, in other tabs, and in
every live feed of the session (the API closes them; the page then signs out)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from frontend_e2e.pages import SymbolPage
from frontend_e2e.pages.symbol import LIVE
from frontend_e2e.support.accounts import signed_in_state
from frontend_e2e.support.feed import FeedSockets, newest_trades

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.multi_tab_sign_out")]

LIVE_SYMBOL = "INTC"


@pytest.fixture
def account(own_account):
    """Signing out revokes the session: each test signs out a user of its own."""
    return own_account


def test_sign_out_clears_the_session(dashboard_page, login_page, app, account, api):
    dashboard_page.open()
    expect(dashboard_page.signed_in_as).to_have_text(f"Signed in as {account.email}")
    app.sign_out()
    expect(login_page.page).to_have_url(re.compile(r"/login$"))
    expect(app.log_in_link).to_be_visible()
    assert app.stored_tokens() == {"access": None, "refresh": None}
    revoked = api.as_user(account).get("/auth/me", expect=401).json()
    assert revoked["error"]["code"] == "token_revoked"
    app.visit("/dashboard")
    expect(login_page.page).to_have_url(re.compile(r"/login\?next=/dashboard$"))


def test_sign_out_in_one_tab_signs_out_the_other_on_its_next_action(app, second_tab, dashboard_page):
    second_tab.visit("/watchlists")
    expect(second_tab.heading).to_have_text("Watchlists")
    dashboard_page.open()
    app.sign_out()
    expect(app.heading).to_have_text("Log in")
    second_tab.go_to("Uploads")
    expect(second_tab.page).to_have_url(re.compile(r"/login\?next=/"))
    expect(second_tab.heading).to_have_text("Log in")
    expect(second_tab.log_in_link).to_be_visible()


@pytest.mark.contract("web.live.sign_out")
def test_signing_out_in_one_tab_closes_the_other_tabs_feed(
        app, symbol_page, context, account, session_account, trade_files):
    # This test's own user signs out; someone else's upload then shows whether a feed is left.
    other_page = context.new_page()
    other = SymbolPage(other_page)
    sockets = FeedSockets(other_page)
    other.open_symbol(LIVE_SYMBOL)
    other.wait_for_status(LIVE)
    symbol_page.open_symbol(LIVE_SYMBOL)
    symbol_page.wait_for_status(LIVE)
    assert sockets.open_count() == 1

    app.sign_out()
    expect(app.heading).to_have_text("Log in")
    expect(other_page).to_have_url(re.compile(r"/login\?next=/symbols/" + LIVE_SYMBOL + "$"))
    expect(other.heading).to_have_text("Log in")
    sockets.wait_all_closed()
    opened = len(sockets.sockets)

    tf = newest_trades(trade_files, 2, LIVE_SYMBOL)
    trade_files.upload(session_account, tf)
    trade_files.wait_loaded(session_account, tf)
    expect(other.live_rows).to_have_count(0)
    assert len(sockets.sockets) == opened and sockets.open_count() == 0, "a feed reopened after sign-out"


@pytest.mark.contract("web.live.sign_out")
def test_a_feed_closed_by_the_api_after_sign_out_elsewhere_ends_signed_out(
        app, new_context, base_url, account):
    # Another browser on the same session: its own storage, so no storage event tells it; only
    # the API closing its feed (4401) and the refresh that then fails.
    elsewhere = SymbolPage(new_context(storage_state=signed_in_state(base_url, account)).new_page())
    elsewhere.open_symbol(LIVE_SYMBOL)
    elsewhere.wait_for_status(LIVE)
    app.visit("/dashboard")
    app.sign_out()
    expect(app.heading).to_have_text("Log in")
    expect(elsewhere.page).to_have_url(re.compile(r"/login\?next=/symbols/" + LIVE_SYMBOL + "$"))
    expect(elsewhere.heading).to_have_text("Log in")
