"""Pages a signed-in user sees: each loads its data with no console error and no failed
request, shows the right heading and title, and the main navigation reaches every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.smoke, pytest.mark.contract("web.api_config")]

NAV = [("Dashboard", "/dashboard", "Dashboard"), ("Watchlists", "/watchlists", "Watchlists"),
       ("Uploads", "/uploads", "Uploads"), ("Exports", "/exports", "Exports")]


@pytest.mark.contract("web.dashboard")
def test_dashboard_loads_cleanly(dashboard_page, browser_log, session_account):
    dashboard_page.open()
    expect(dashboard_page.heading).to_have_text("Dashboard")
    expect(dashboard_page.page).to_have_title("Dashboard · Tradeboard")
    expect(dashboard_page.signed_in_as).to_have_text(f"Signed in as {session_account.email}")
    expect(dashboard_page.watchlist_count).to_have_text(re.compile(r"^\d+$"))
    expect(dashboard_page.symbol_links).to_have_count(10)
    assert browser_log.problems() == []


@pytest.mark.contract("web.watchlists")
def test_watchlists_page_loads_cleanly(watchlists_page, browser_log):
    watchlists_page.open()
    expect(watchlists_page.heading).to_have_text("Watchlists")
    expect(watchlists_page.page).to_have_title("Watchlists · Tradeboard")
    expect(watchlists_page.counter).to_have_text(re.compile(r"^\d+ of 10 watchlists$"))
    expect(watchlists_page.name_input).to_be_editable()
    assert browser_log.problems() == []


@pytest.mark.contract("web.symbol")
def test_symbol_page_loads_cleanly(symbol_page, browser_log):
    symbol_page.open_symbol("MSFT")
    expect(symbol_page.heading).to_have_text("MSFT")
    expect(symbol_page.page).to_have_title("MSFT · Tradeboard")
    expect(symbol_page.company).to_have_text("Microsoft Corporation")
    expect(symbol_page.live_tab).to_have_attribute("aria-selected", "true")
    expect(symbol_page.live_rows).to_have_count(20)
    assert browser_log.problems() == []


@pytest.mark.contract("web.uploads")
def test_uploads_page_loads_cleanly(uploads_page, browser_log):
    uploads_page.open()
    expect(uploads_page.heading).to_have_text("Uploads")
    expect(uploads_page.page).to_have_title("Uploads · Tradeboard")
    expect(uploads_page.upload_button).to_be_enabled()
    expect(uploads_page.file_input).to_be_attached()
    expect(uploads_page.listing).to_be_visible()
    assert browser_log.problems() == []


@pytest.mark.contract("web.exports")
def test_exports_page_loads_cleanly(exports_page, browser_log):
    exports_page.open()
    expect(exports_page.heading).to_have_text("Exports")
    expect(exports_page.page).to_have_title("Exports · Tradeboard")
    expect(exports_page.symbol_options).to_have_count(11)  # the prompt + 10 symbols
    expect(exports_page.listing).to_be_visible()
    assert browser_log.problems() == []


def test_signed_in_navigation_offers_sign_out(dashboard_page, app):
    dashboard_page.open()
    expect(app.sign_out_button).to_be_visible()
    expect(app.log_in_link).to_have_count(0)
    expect(app.sign_up_link).to_have_count(0)


@pytest.mark.parametrize(("label", "path", "heading"), NAV, ids=[n[0] for n in NAV])
def test_main_navigation_reaches_the_page(app, label, path, heading):
    app.visit("/")
    app.go_to(label)
    expect(app.page).to_have_url(re.compile(rf"{re.escape(path)}$"))
    expect(app.heading).to_have_text(heading)
    expect(app.current_link).to_have_text(label)
    assert app.document_loads == 1, "moving between pages reloaded the document"


def test_home_link_and_brand_lead_back_to_the_landing_page(dashboard_page, landing_page, app):
    dashboard_page.open()
    expect(dashboard_page.symbol_links).to_have_count(10)
    app.go_to("Home")
    expect(landing_page.heading).to_have_text("Tradeboard")
    expect(app.current_link).to_have_text("Home")
    app.go_to("Exports")
    app.brand.click()
    expect(landing_page.page).to_have_url(re.compile(r"/$"))
    expect(landing_page.call_to_action).to_be_visible()


def test_dashboard_symbol_link_opens_the_symbol_page(dashboard_page, symbol_page):
    dashboard_page.open()
    dashboard_page.open_symbol("NVDA")
    expect(symbol_page.page).to_have_url(re.compile(r"/symbols/NVDA$"))
    expect(symbol_page.heading).to_have_text("NVDA")
    expect(symbol_page.company).to_have_text("NVIDIA Corporation")
