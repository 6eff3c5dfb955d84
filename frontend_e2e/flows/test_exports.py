"""Exports through the page: live progress to success, the downloaded file, cancellation."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from frontend_e2e.support.truth import (
    SEEDED_CLOSE,
    SEEDED_OPEN,
    SEEDED_SYMBOL,
    as_decimals,
    db_export_rows,
    iso,
    local_input,
)

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.exports")]

EXPORT_TIMEOUT_MS = 30_000


@pytest.fixture
def account(own_account):
    """A user of its own: the page lists only this test's exports."""
    return own_account


def csv_rows(text: str) -> list[tuple]:
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["trade_id", "symbol", "price", "quantity", "ts"]
    return [(t, s, *as_decimals([p, q], 0), ts) for t, s, p, q, ts in rows[1:]]


def test_export_shows_live_progress_until_it_succeeds(exports_page, exports, account, api, db):
    start, end = iso(SEEDED_OPEN), iso(SEEDED_CLOSE)
    exports_page.open()
    exports_page.record_progress()
    exports_page.start(SEEDED_SYMBOL, local_input(SEEDED_OPEN), local_input(SEEDED_CLOSE))
    export = exports_page.item(SEEDED_SYMBOL, start, end)
    expect(export.status).to_have_text(re.compile(r"^(queued|running|succeeded)$"))
    [made] = api.as_user(account).get("/exports", expect=200).json()
    exports.created.append((account, made["id"]))  # its file is removed after the test
    expect(export.status).to_have_text("succeeded", timeout=EXPORT_TIMEOUT_MS)
    expect(export.progress).to_have_attribute("aria-valuenow", "100")
    expect(export.download_link).to_be_visible()
    expected_rows = len(db_export_rows(db, SEEDED_SYMBOL, SEEDED_OPEN, SEEDED_CLOSE))
    expect(export.rows).to_have_text(str(expected_rows))
    seen = exports_page.progress_seen(SEEDED_SYMBOL, start, end)
    assert any(0 < p < 100 for p in seen), f"no progress between 0 and 100 was shown: {seen}"
    assert seen == sorted(seen) and seen[-1] == 100, f"progress went backwards or stopped: {seen}"
    done = api.as_user(account).get(f"/exports/{made['id']}", expect=200).json()
    assert (done["status"], done["rows"]) == ("succeeded", expected_rows)


def test_downloaded_export_holds_the_rows_of_the_database(exports_page, exports, account, api, db, tmp_path):
    start, end = SEEDED_OPEN + timedelta(hours=1), SEEDED_OPEN + timedelta(hours=2)
    created = exports.create(account, SEEDED_SYMBOL, start, end)
    exports.wait(account, created["id"])
    exports_page.open()
    export = exports_page.item(SEEDED_SYMBOL, iso(start), iso(end))
    expect(export.status).to_have_text("succeeded")
    saved = exports_page.download(export, tmp_path)
    from_page = csv_rows(saved.read_text(encoding="utf-8"))
    from_api = csv_rows(api.as_user(account).get(f"/exports/{created['id']}/download", expect=200).text)
    from_db = db_export_rows(db, SEEDED_SYMBOL, start, end)
    assert len(from_db) > 0
    assert from_page == from_db
    assert from_page == from_api


def test_cancel_a_running_export(exports_page, account, api, s3):
    start, end = iso(SEEDED_OPEN), iso(SEEDED_CLOSE)
    exports_page.open()
    exports_page.start(SEEDED_SYMBOL, local_input(SEEDED_OPEN), local_input(SEEDED_CLOSE))
    export = exports_page.item(SEEDED_SYMBOL, start, end)
    expect(export.status).to_have_text(re.compile(r"^(queued|running)$"))
    exports_page.cancel(export)
    expect(export.status).to_have_text("cancelled", timeout=EXPORT_TIMEOUT_MS)
    expect(export.cancel_button).to_have_count(0)
    expect(export.download_link).to_have_count(0)
    [saved] = api.as_user(account).get("/exports", expect=200).json()
    assert saved["status"] == "cancelled"
    listing = s3.list_objects_v2(Bucket="exports", Prefix=f"exports/{saved['id']}")
    assert listing.get("KeyCount", 0) == 0, "a cancelled export left its file behind"
