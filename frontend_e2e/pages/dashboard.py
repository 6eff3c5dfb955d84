"""The dashboard: who is signed in, counts of watchlists, uploads and exports, the symbols."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from .base import BasePage


class DashboardPage(BasePage):
    path = "/dashboard"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.signed_in_as = self.main.get_by_text("Signed in as")
        self.watchlist_count = self.main.get_by_role("region", name="Watchlists").get_by_test_id(
            "watchlist-count")
        self.upload_count = self.main.get_by_role("region", name="Uploads").get_by_test_id("upload-count")
        self.export_count = self.main.get_by_role("region", name="Exports").get_by_test_id("export-count")
        self.symbols = self.main.get_by_role("list", name="Symbols")
        self.symbol_links = self.symbols.get_by_role("link")

    def symbol_link(self, symbol: str) -> Locator:
        return self.symbols.get_by_role("link", name=symbol, exact=True)

    def open_symbol(self, symbol: str) -> None:
        self.symbol_link(symbol).click()
