"""A symbol's page. Live mode: the latest trades, pushed by the live feed (a WebSocket) without
reload, with its state (Live, Reconnecting…, Polling) shown above them. Historic mode: bars for
a chosen range, shown as a table, a chart or a summary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from playwright.sync_api import Locator, Page

from .base import BasePage, open_in_tab

SUMMARY_FIELDS = ("bars", "volume", "trades", "open", "high", "low", "close")
LIVE, RECONNECTING, POLLING = "Live", "Reconnecting…", "Polling"


@dataclass(frozen=True)
class LiveRow:
    """One row of the live table as the page holds it: what it shows and when it arrived."""

    trade_id: str
    seq: int | None
    received_at: float  # ms since the epoch (performance.timeOrigin + performance.now())
    cells: tuple[str, ...]


class SymbolPage(BasePage):
    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.company = self.main.locator("p.lead")
        modes = self.main.get_by_role("tablist", name="Mode")
        self.live_tab = modes.get_by_role("tab", name="Live")
        self.historic_tab = modes.get_by_role("tab", name="Historic")
        # Live mode.
        self.live_table = self.main.get_by_role("table", name="Latest trades")
        self.live_rows = self.live_table.locator("tbody").get_by_role("row")
        self.live_status = self.main.get_by_test_id("live-status")
        # Historic mode.
        self.range_form = self.main.get_by_role("form", name="Range")
        self.start_input = self.range_form.get_by_label("From")
        self.end_input = self.range_form.get_by_label("To")
        self.interval = self.range_form.get_by_label("Interval")
        self.load_button = self.range_form.get_by_role("button", name="Load")
        self.load_status = self.main.get_by_role("status")
        views = self.main.get_by_role("tablist", name="View")
        self.table_tab = views.get_by_role("tab", name="Table")
        self.chart_tab = views.get_by_role("tab", name="Chart")
        self.summary_tab = views.get_by_role("tab", name="Summary")
        self.bars_table = self.main.get_by_role("table", name="Bars")
        self.bar_rows = self.bars_table.locator("tbody").get_by_role("row")
        self.chart = self.main.get_by_role("img", name="price chart")
        self.chart_candles = self.chart.locator("rect.body")
        self.chart_volumes = self.chart.locator("rect.volume")
        self.summary = {name: self.main.get_by_test_id(f"summary-{name}") for name in SUMMARY_FIELDS}

    def open_symbol(self, symbol: str) -> Self:
        open_in_tab(self.page, f"/symbols/{symbol}")
        return self

    def live_row(self, trade_id: str) -> Locator:
        return self.live_rows.filter(has=self.page.get_by_role("cell", name=trade_id, exact=True))

    def wait_for_status(self, text: str, timeout: float = 15_000) -> None:
        """Wait until the live status reads ``text`` (LIVE, RECONNECTING or POLLING)."""
        self.live_status.filter(has_text=re.compile(f"^{re.escape(text)}$")).wait_for(timeout=timeout)

    def live_trade_ids(self) -> list[str]:
        """The trade ids of the live table's rows, top (newest) to bottom."""
        return [row.trade_id for row in self.live_table_rows()]

    def live_table_rows(self) -> list[LiveRow]:
        """Every row of the live table, top to bottom, read in one go."""
        raw = self.live_rows.evaluate_all("""rows => rows.filter(r => r.dataset.tradeId).map(r => ({
            id: r.dataset.tradeId, seq: r.dataset.seq, at: r.dataset.receivedAt,
            cells: [...r.cells].map(c => c.textContent.trim())}))""")
        return [LiveRow(r["id"], int(r["seq"]) if r["seq"] else None, float(r["at"]), tuple(r["cells"]))
                for r in raw]

    def show_live(self) -> None:
        self.live_tab.click()

    def show_historic(self) -> None:
        self.historic_tab.click()

    def load_range(self, start_local: str, end_local: str, interval: str = "1m") -> None:
        """Load bars for a range given as datetime-local values (read as UTC)."""
        self.start_input.fill(start_local)
        self.end_input.fill(end_local)
        self.interval.select_option(interval)
        self.load_button.click()

    def show_view(self, name: str) -> None:
        """Switch the historic view: "Table", "Chart" or "Summary"."""
        {"Table": self.table_tab, "Chart": self.chart_tab, "Summary": self.summary_tab}[name].click()

    @staticmethod
    def cells(rows: Locator) -> list[list[str]]:
        """The text of every cell of ``rows``, row by row (read once the table has settled)."""
        return rows.evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")

    def summary_values(self) -> dict[str, str]:
        return {name: loc.inner_text().strip() for name, loc in self.summary.items()}
