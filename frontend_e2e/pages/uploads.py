"""Uploads: send a trade file, then watch its status and row counts as the pipeline loads it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page

from .base import BasePage


class UploadRow:
    """One upload's row in the table."""

    def __init__(self, row: Locator) -> None:
        self.row = row
        self.status = row.get_by_test_id("upload-status")
        self.rows_total = row.get_by_test_id("rows-total")
        self.rows_loaded = row.get_by_test_id("rows-loaded")
        self.rows_rejected = row.get_by_test_id("rows-rejected")


class UploadsPage(BasePage):
    path = "/uploads"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.form = self.main.get_by_role("form", name="New upload")
        self.file_input = self.form.get_by_label("Trade file")
        self.upload_button = self.form.get_by_role("button", name="Upload")
        self.confirmation = self.main.get_by_role("status")
        self.table = self.main.get_by_role("table", name="Your uploads")
        self.empty_message = self.main.get_by_text("No uploads yet.")
        # Visible once the user's uploads have loaded: their table, or the empty line.
        self.listing = self.table.or_(self.empty_message.filter(visible=True))

    def shown(self) -> list[list[str]]:
        """Every upload row as shown: filename, status, rows total, loaded, rejected."""
        return self.table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].slice(0, 5).map(c => c.textContent.trim()))")

    def row(self, filename: str) -> UploadRow:
        cell = self.page.get_by_role("cell", name=filename, exact=True)
        return UploadRow(self.table.get_by_role("row").filter(has=cell))

    def upload(self, path: Path) -> None:
        self.file_input.set_input_files(path)
        self.upload_button.click()
