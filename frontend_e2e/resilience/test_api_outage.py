"""When the API cannot be reached the page says so, and Retry recovers it once the API is back.

These tests stop the API (the ``faults`` fixture restores it), so they belong to the resilience
phase, whose suites take turns: in flows they would break the other suites running at the same
time. The suite's stack lock keeps every other test of this suite's concurrent runs out meanwhile.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.resilience, pytest.mark.contract("web.api_unreachable")]


def test_unreachable_api_shows_an_error_banner(dashboard_page, watchlists_page, app, faults):
    dashboard_page.open()
    expect(dashboard_page.watchlist_count).to_have_text(re.compile(r"^\d+$"))
    expect(app.api_error).to_be_hidden()
    faults.stop("api")
    app.go_to("Watchlists")
    expect(app.api_error).to_be_visible()
    expect(app.api_error).to_contain_text("Cannot reach the Tradeboard API")
    expect(app.retry_button).to_be_enabled()
    expect(watchlists_page.counter).to_be_empty()


def test_retry_recovers_the_page_once_the_api_is_back(dashboard_page, app, faults, account):
    faults.stop("api")
    dashboard_page.open()
    expect(app.api_error).to_be_visible()
    expect(dashboard_page.watchlist_count).to_have_text("—")
    faults.start("api")
    app.retry()
    expect(app.api_error).to_be_hidden()
    expect(dashboard_page.signed_in_as).to_have_text(f"Signed in as {account.email}")
    expect(dashboard_page.watchlist_count).to_have_text(re.compile(r"^\d+$"))
    expect(dashboard_page.symbol_links).to_have_count(10)
