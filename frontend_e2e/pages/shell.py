"""The app shell around every page: the brand, the main navigation, the account controls and
the "Cannot reach the Tradeboard API" banner with its Retry button."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Locator, Page

from ..support.accounts import ACCESS_KEY, REFRESH_KEY
from .base import open_in_tab

API_ERROR = "Cannot reach the Tradeboard API"


class AppShell:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.brand = page.get_by_role("banner").get_by_role("link", name="Tradeboard")
        self.nav = page.get_by_role("navigation", name="Main")
        self.current_link = self.nav.locator("[aria-current='page']")
        self.log_in_link = self.nav.get_by_role("link", name="Log in", exact=True)
        self.sign_up_link = self.nav.get_by_role("link", name="Sign up", exact=True)
        self.sign_out_button = self.nav.get_by_role("button", name="Sign out")
        self.heading = page.get_by_role("heading", level=1)
        self.api_error = page.get_by_role("alert").filter(has_text=API_ERROR)
        self.retry_button = page.get_by_role("button", name="Retry")
        # Full document loads since this object was made: a page that updates "without
        # reload" keeps this number.
        self.document_loads = 0
        page.on("load", self._count_load)

    def _count_load(self, _: Page) -> None:
        self.document_loads += 1

    def nav_link(self, label: str) -> Locator:
        return self.nav.get_by_role("link", name=label, exact=True)

    def visit(self, path: str) -> Self:
        open_in_tab(self.page, path)
        return self

    def go_to(self, label: str) -> None:
        """Follow a link of the main navigation."""
        self.nav_link(label).click()

    def sign_out(self) -> None:
        self.sign_out_button.click()

    def retry(self) -> None:
        self.retry_button.click()

    def stored_tokens(self) -> dict[str, str | None]:
        """The tokens this tab's app keeps in localStorage."""
        return self.page.evaluate(
            "([a, r]) => ({access: localStorage.getItem(a), refresh: localStorage.getItem(r)})",
            [ACCESS_KEY, REFRESH_KEY])
