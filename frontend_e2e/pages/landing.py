"""The landing page: what Tradeboard is and the "Get started" call to action."""

from __future__ import annotations

from playwright.sync_api import Page

from .base import BasePage


class LandingPage(BasePage):
    path = "/"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.call_to_action = self.main.get_by_role("link", name="Get started")
        self.features = self.main.get_by_role("list", name="Features").get_by_role("listitem")

    def get_started(self) -> None:
        self.call_to_action.click()
