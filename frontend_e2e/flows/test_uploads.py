"""Uploading a trade file through the page and watching the pipeline load it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.uploads")]

LOAD_TIMEOUT_MS = 30_000


def test_uploaded_file_reaches_loaded_with_its_row_counts(uploads_page, trade_files, tmp_path, account,
                                                          api, db):
    tf = trade_files.build(25, symbols=("AMZN", "TSLA"), invalid=("unknown_symbol", "non_positive_price"))
    path = tmp_path / tf.name
    path.write_bytes(tf.content())
    uploads_page.open()
    uploads_page.upload(path)
    expect(uploads_page.confirmation).to_have_text(f"Uploaded {tf.name}")
    client = api.as_user(account)
    [sent] = [u for u in client.get("/uploads", expect=200).json() if u["filename"] == tf.name]
    trade_files.objects.append(sent["object_key"])  # the factory removes it after the test
    row = uploads_page.row(tf.name)
    expect(row.status).to_have_text("loaded", timeout=LOAD_TIMEOUT_MS)
    expect(row.rows_total).to_have_text(str(len(tf.rows)))
    expect(row.rows_loaded).to_have_text(str(len(tf.valid)))
    expect(row.rows_rejected).to_have_text(str(len(tf.invalid)))

    upload = client.get(f"/uploads/{sent['id']}", expect=200).json()
    with db.connect() as conn:
        loaded = conn.execute(sa.text("SELECT count(*) FROM trades WHERE trade_id = ANY(:ids)"),
                              {"ids": [r["trade_id"] for r in tf.valid]}).scalar_one()
    assert (upload["status"], upload["rows_loaded"], upload["rows_rejected"], loaded) == (
        "loaded", len(tf.valid), len(tf.invalid), len(tf.valid))
