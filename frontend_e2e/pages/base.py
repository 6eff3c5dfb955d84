"""What every page object shares: the Playwright page, its main region and its heading."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Page


class BasePage:
    """One page of the web app. Subclasses add their locators in ``__init__`` and verbs."""

    path = "/"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.main = page.get_by_role("main")
        self.heading = page.get_by_role("heading", level=1)
        # The page's own message line (the API banner is outside <main>).
        self.alert = self.main.get_by_role("alert")

    def open(self) -> Self:
        self.page.goto(self.path)
        return self
