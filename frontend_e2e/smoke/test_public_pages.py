"""Pages a signed-out visitor sees: they load cleanly, lead where they should, and every
protected page sends the visitor to log in first, then back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.smoke

PROTECTED = {"/dashboard": "Dashboard", "/watchlists": "Watchlists", "/symbols/MSFT": "MSFT",
             "/uploads": "Uploads", "/exports": "Exports"}


@pytest.fixture
def account() -> None:
    """These visits start signed out."""
    return None


@pytest.mark.contract("web.landing", "processes.web_ready")
def test_landing_page_loads_cleanly(landing_page, app, browser_log):
    landing_page.open()
    expect(landing_page.heading).to_have_text("Tradeboard")
    expect(landing_page.page).to_have_title("Home · Tradeboard")
    expect(landing_page.features).to_have_count(4)
    expect(app.current_link).to_have_text("Home")
    assert browser_log.problems() == []


@pytest.mark.contract("web.login_signup")
def test_login_page_loads_cleanly(login_page, app, browser_log):
    login_page.open()
    expect(login_page.heading).to_have_text("Log in")
    expect(login_page.page).to_have_title("Log in · Tradeboard")
    expect(login_page.email).to_be_editable()
    expect(login_page.password).to_be_editable()
    expect(app.current_link).to_have_text("Log in")
    assert browser_log.problems() == []


@pytest.mark.contract("web.login_signup")
def test_signup_page_loads_cleanly(signup_page, app, browser_log):
    signup_page.open()
    expect(signup_page.heading).to_have_text("Sign up")
    expect(signup_page.page).to_have_title("Sign up · Tradeboard")
    expect(signup_page.display_name).to_be_editable()
    expect(app.current_link).to_have_text("Sign up")
    assert browser_log.problems() == []


@pytest.mark.contract("web.landing")
def test_signed_out_navigation_offers_log_in_and_sign_up(landing_page, app):
    landing_page.open()
    expect(app.log_in_link).to_be_visible()
    expect(app.sign_up_link).to_be_visible()
    expect(app.sign_out_button).to_have_count(0)


@pytest.mark.contract("web.landing")
def test_landing_call_to_action_leads_to_signup(landing_page, signup_page, app):
    landing_page.open()
    landing_page.get_started()
    expect(signup_page.page).to_have_url(re.compile(r"/signup$"))
    expect(signup_page.heading).to_have_text("Sign up")
    assert app.document_loads == 1, "the call to action reloaded the document"


@pytest.mark.contract("web.login_signup")
def test_login_and_signup_pages_link_to_each_other(login_page, signup_page):
    login_page.open()
    login_page.create_account_link.click()
    expect(signup_page.heading).to_have_text("Sign up")
    signup_page.log_in_link.click()
    expect(login_page.heading).to_have_text("Log in")


@pytest.mark.contract("web.not_found")
def test_unknown_path_shows_the_not_found_page(not_found_page, browser_log, base_url):
    path = "/no/such/page"
    response = not_found_page.open_unknown(path)
    assert response is not None and response.status == 404
    expect(not_found_page.heading).to_have_text("Page not found")
    expect(not_found_page.page).to_have_title("Page not found · Tradeboard")
    expect(not_found_page.shown_path).to_have_text(path)
    assert browser_log.problems(expected_status={base_url + path: 404}) == []


@pytest.mark.contract("web.not_found")
def test_not_found_page_leads_back_home(not_found_page, landing_page, browser_log, base_url):
    not_found_page.open_unknown("/missing")
    # The 404 page first (a failure here says the app never rendered, not that the link was
    # unclickable), then its link; the browser's own log says why if either never happens.
    expect(not_found_page.heading).to_have_text("Page not found")
    not_found_page.go_home()
    expect(landing_page.page).to_have_url(re.compile(r"/$"))
    expect(landing_page.heading).to_have_text("Tradeboard")
    assert browser_log.problems(expected_status={base_url + "/missing": 404}) == []


@pytest.mark.contract("web.protected_redirect", "web.login_signup")
@pytest.mark.parametrize("path", PROTECTED)
def test_protected_page_sends_a_signed_out_visitor_to_login_and_back(app, login_page, path, session_account):
    app.visit(path)
    expect(login_page.page).to_have_url(re.compile(rf"/login\?next={re.escape(path)}$"))
    expect(login_page.heading).to_have_text("Log in")
    login_page.log_in(session_account.email, session_account.password)
    expect(app.page).to_have_url(re.compile(rf"{re.escape(path)}$"))
    expect(app.heading).to_have_text(PROTECTED[path])
    expect(app.sign_out_button).to_be_visible()
