"""Signing out ends the session everywhere: in this tab, in the API, and in other tabs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.multi_tab_sign_out")]


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
