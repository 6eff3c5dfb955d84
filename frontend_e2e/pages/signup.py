"""The sign-up form: creates the account, signs in and goes on to the dashboard."""

from __future__ import annotations

from playwright.sync_api import Page

from .base import BasePage


class SignupPage(BasePage):
    path = "/signup"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.email = self.main.get_by_label("Email")
        self.password = self.main.get_by_label("Password")
        self.display_name = self.main.get_by_label("Display name (optional)")
        self.submit = self.main.get_by_role("button", name="Sign up")
        self.log_in_link = self.main.get_by_role("link", name="I already have an account")

    def sign_up(self, email: str, password: str, display_name: str | None = None) -> None:
        self.email.fill(email)
        self.password.fill(password)
        if display_name:
            self.display_name.fill(display_name)
        self.submit.click()
