"""Watchlists: create, rename, delete, add and remove symbols; one alert for the page."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from .base import BasePage


class WatchlistsPage(BasePage):
    path = "/watchlists"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.create_form = self.main.get_by_role("form", name="Create a watchlist")
        self.name_input = self.create_form.get_by_label("Watchlist name")
        self.create_button = self.create_form.get_by_role("button", name="Create")
        self.counter = self.main.get_by_test_id("watchlist-counter")
        self.lists = self.main.get_by_role("list", name="Your watchlists")
        self.empty_message = self.main.get_by_text("You have no watchlists yet.")

    def card(self, name: str) -> Locator:
        """One watchlist's card, found by its name."""
        return self.lists.get_by_role("listitem", name=name, exact=True)

    def card_heading(self, name: str) -> Locator:
        return self.lists.get_by_role("heading", name=name, exact=True)

    def symbols_of(self, name: str) -> Locator:
        """The symbol links of one watchlist, in the order shown."""
        return self.card(name).get_by_role("list", name=f"Symbols in {name}").get_by_role("link")

    def shown(self) -> list[tuple[str, list[str]]]:
        """Every watchlist card as shown: (name, its symbols), in page order."""
        shown = self.lists.locator(":scope > li").evaluate_all(
            "cards => cards.map(c => [c.querySelector('h2').textContent.trim(),"
            " [...c.querySelectorAll('.chips a')].map(a => a.textContent.trim())])")
        return [(name, list(symbols)) for name, symbols in shown]

    def create(self, name: str) -> None:
        self.name_input.fill(name)
        self.create_button.click()

    def rename(self, name: str, new_name: str) -> None:
        card = self.card(name)
        card.get_by_role("button", name="Rename").click()
        card.get_by_label("New name").fill(new_name)
        card.get_by_role("button", name="Save").click()

    def add_symbol(self, name: str, symbol: str) -> None:
        card = self.card(name)
        card.get_by_label("Add symbol").select_option(symbol)
        card.get_by_role("button", name="Add", exact=True).click()

    def remove_symbol(self, name: str, symbol: str) -> None:
        self.card(name).get_by_role("button", name=f"Remove {symbol}").click()

    def delete(self, name: str) -> None:
        self.card(name).get_by_role("button", name="Delete").click()
