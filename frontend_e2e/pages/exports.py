"""Exports: start one, follow its live progress, download the file, cancel."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page

from .base import BasePage

# Records every progress value each export's bar shows, in order (a MutationObserver sees
# each DOM change, however quickly the server-sent events arrive).
RECORD_PROGRESS = """() => {
  if (window.__tbProgress) return;
  window.__tbProgress = {};
  const main = document.getElementById('main');
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      const bar = m.target;
      if (m.attributeName !== 'aria-valuenow' || bar.getAttribute('role') !== 'progressbar') continue;
      const title = bar.closest('li').querySelector('h2').textContent;
      (window.__tbProgress[title] ||= []).push(Number(bar.getAttribute('aria-valuenow')));
    }
  }).observe(main, {subtree: true, attributes: true, attributeFilter: ['aria-valuenow']});
}"""


class ExportItem:
    """One export's card: status, progress bar, row count, and its Download or Cancel control."""

    def __init__(self, item: Locator) -> None:
        self.item = item
        self.status = item.get_by_role("status")
        self.progress = item.get_by_role("progressbar", name="Export progress")
        self.rows = item.get_by_test_id("export-rows")
        self.download_link = item.get_by_role("link", name="Download")
        self.cancel_button = item.get_by_role("button", name="Cancel")


class ExportsPage(BasePage):
    path = "/exports"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.form = self.main.get_by_role("form", name="Start an export")
        self.symbol = self.form.get_by_label("Symbol")
        self.symbol_options = self.symbol.get_by_role("option")
        self.start_input = self.form.get_by_label("From")
        self.end_input = self.form.get_by_label("To")
        self.start_button = self.form.get_by_role("button", name="Start export")
        self.list = self.main.get_by_role("list", name="Your exports")
        self.items = self.list.get_by_role("listitem")
        self.empty_message = self.main.get_by_text("No exports yet.")
        # Visible once the user's exports have loaded: the first of them, or the empty line.
        self.listing = self.items.first.or_(self.empty_message.filter(visible=True))

    @staticmethod
    def title(symbol: str, start: str, end: str) -> str:
        """An export's heading: symbol and range as the API spells them."""
        return f"{symbol} {start} → {end}"

    def item(self, symbol: str, start: str, end: str) -> ExportItem:
        return ExportItem(self.list.get_by_role("listitem", name=self.title(symbol, start, end), exact=True))

    def shown(self) -> list[tuple[str, str]]:
        """Every export as shown: (its heading, its status text), in page order."""
        shown = self.items.evaluate_all(
            "items => items.map(i => [i.querySelector('h2, h3').textContent.trim(),"
            " (i.querySelector('[role=status]') || {textContent: ''}).textContent.trim()])")
        return [(title, status) for title, status in shown]

    def record_progress(self) -> None:
        """From now on, remember each progress value every export shows."""
        self.page.evaluate(RECORD_PROGRESS)

    def progress_seen(self, symbol: str, start: str, end: str) -> list[int]:
        return self.page.evaluate("(t) => (window.__tbProgress || {})[t] || []",
                                  self.title(symbol, start, end))

    def start(self, symbol: str, start_local: str, end_local: str) -> None:
        """Start an export; the range as datetime-local values (UTC), e.g. 2026-01-05T14:30."""
        self.symbol.select_option(symbol)
        self.start_input.fill(start_local)
        self.end_input.fill(end_local)
        self.start_button.click()

    def download(self, export: ExportItem, folder: Path) -> Path:
        with self.page.expect_download() as info:
            export.download_link.click()
        download = info.value
        target = folder / download.suggested_filename
        download.save_as(target)
        return target

    def cancel(self, export: ExportItem) -> None:
        export.cancel_button.click()
