"""The login form; after signing in the app goes to ``?next=`` or the dashboard."""

from __future__ import annotations

from typing import Self
from urllib.parse import quote

from playwright.sync_api import Page

from .base import BasePage, open_in_tab


class LoginPage(BasePage):
    path = "/login"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.email = self.main.get_by_label("Email")
        self.password = self.main.get_by_label("Password")
        self.submit = self.main.get_by_role("button", name="Log in")
        self.create_account_link = self.main.get_by_role("link", name="Create an account")

    def open_with_next(self, next_path: str) -> Self:
        open_in_tab(self.page, f"{self.path}?next={quote(next_path, safe='/')}")
        return self

    def log_in(self, email: str, password: str) -> None:
        self.email.fill(email)
        self.password.fill(password)
        self.submit.click()
