"""Signing up and logging in through the forms (the only tests that sign in through the UI)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e_shared.masking import SECRETS
from tradeboard_fixtures.factories import User

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.login_signup")]


@pytest.fixture
def account() -> None:
    """These journeys start signed out."""
    return None


@pytest.fixture
def registered(users) -> User:
    """An account that exists, not signed in anywhere (signing in is what these tests do)."""
    return users.create("registered", login=False)


def test_signup_creates_an_account_and_signs_in(signup_page, dashboard_page, app, unique, users, api):
    email, password = unique.email("signup"), unique("pw")
    SECRETS.add(password)
    signup_page.open()
    signup_page.sign_up(email, password, display_name="Browser Signup")
    users.created.append(User(id="", email=email, password=password))  # removed after the test
    expect(dashboard_page.page).to_have_url(re.compile(r"/dashboard$"))
    expect(dashboard_page.signed_in_as).to_have_text(f"Signed in as {email}")
    expect(app.sign_out_button).to_be_visible()
    me = api.with_token(app.stored_tokens()["access"]).get("/auth/me", expect=200).json()
    assert (me["email"], me["display_name"]) == (email, "Browser Signup")


def test_signup_with_a_taken_email_shows_the_api_message(signup_page, registered):
    signup_page.open()
    signup_page.sign_up(registered.email, "another-password")
    expect(signup_page.alert).to_have_text("an account with this email already exists")
    expect(signup_page.heading).to_have_text("Sign up")


def test_login_with_valid_credentials_lands_on_the_dashboard(login_page, dashboard_page, app, registered,
                                                            api):
    login_page.open()
    login_page.log_in(registered.email, registered.password)
    expect(dashboard_page.page).to_have_url(re.compile(r"/dashboard$"))
    expect(dashboard_page.signed_in_as).to_have_text(f"Signed in as {registered.email}")
    tokens = app.stored_tokens()
    assert tokens["access"] and tokens["refresh"]
    assert api.with_token(tokens["access"]).get("/auth/me", expect=200).json()["id"] == registered.id


def test_login_with_a_wrong_password_shows_an_error(login_page, app, registered):
    login_page.open()
    login_page.log_in(registered.email, "not-the-password")
    expect(login_page.alert).to_have_text("Invalid email or password")
    expect(login_page.page).to_have_url(re.compile(r"/login$"))
    expect(login_page.password).to_have_value("")
    assert app.stored_tokens() == {"access": None, "refresh": None}


def test_login_with_an_unknown_email_shows_the_same_error(login_page, app, unique):
    login_page.open()
    login_page.log_in(unique.email("nobody"), "whatever-password")
    expect(login_page.alert).to_have_text("Invalid email or password")
    expect(app.log_in_link).to_be_visible()
