"""What every page object shares: the Playwright page, its main region and its heading."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Page, Response


def open_in_tab(page: Page, url: str) -> Response | None:
    """Load ``url`` in this tab, brought to the front first, as a user looks at a tab before
    typing into its address bar. Headless Chromium runs a page that loads its data while its
    tab is behind another at one animation frame a second, so every click in it waits ~2 s for
    "stable" (measured: 1.98 s against 0.03 s); one tab's tests are unaffected."""
    page.bring_to_front()
    return page.goto(url)


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
        open_in_tab(self.page, self.path)
        return self
