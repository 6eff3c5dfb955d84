"""The 404 page the app shows for a path it does not know."""

from __future__ import annotations

from playwright.sync_api import Page, Response

from .base import BasePage, open_in_tab


class NotFoundPage(BasePage):
    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.home_link = self.main.get_by_role("link", name="Back to the home page")
        self.shown_path = self.main.get_by_role("code")

    def open_unknown(self, path: str) -> Response | None:
        """Visit a path the app does not know; returns the document's answer."""
        return open_in_tab(self.page, path)

    def go_home(self) -> None:
        self.home_link.click()
