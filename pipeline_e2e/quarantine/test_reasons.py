"""Every invalid row is rejected with its reason, recorded in the quarantine object (S3) and the
quarantine table (SQL), and nothing is silently dropped: received = loaded + rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import invalid_ids, valid_ids
from tradeboard_fixtures.factories import INVALID_KINDS, TradeFile

pytestmark = [
    pytest.mark.flow,
    pytest.mark.contract(
        "pipeline.validation", "pipeline.quarantine_object", "uploads.rejections",
    ),
]


def rejected_lines(tf: TradeFile) -> list[dict]:
    """Where each invalid row sits in the file as sent: its 1-based line, reason and raw text."""
    lines = tf.content().decode().split("\n")
    out = []
    for row in tf.invalid:
        number = next(i for i, text in enumerate(lines, start=1) if text.startswith(f"{row['trade_id']},")
                      or f'"{row["trade_id"]}"' in text)
        out.append({"line": number, "reason": row["kind"], "raw": lines[number - 1]})
    return sorted(out, key=lambda r: r["line"])


def assert_quarantined(tf: TradeFile, up: dict, warehouse, buckets, market) -> None:
    want = rejected_lines(tf)
    received = buckets.landing_rows(tf.object_key)
    assert received == len(tf.rows)
    assert (up["rows_total"], up["rows_loaded"], up["rows_rejected"]) == (
        received, len(tf.valid), len(tf.invalid)), up
    assert [dict(r) for r in warehouse.quarantine_rows(tf.object_key)] == want
    assert sorted(buckets.quarantined(tf.object_key), key=lambda r: r["line"]) == want
    assert market.rejections(tf.upload_id) == want
    assert warehouse.count(valid_ids(tf)) == len(tf.valid)
    assert warehouse.count(invalid_ids(tf)) == 0


@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_invalid_row_is_quarantined_with_its_reason(kind, trade_files, loader, warehouse, buckets, market):
    tf = trade_files.build(40, symbols=("AAPL",), invalid=(kind,))
    up = loader.upload(tf)
    assert up["status"] == "loaded", up
    assert_quarantined(tf, up, warehouse, buckets, market)
    assert [r["reason"] for r in market.rejections(tf.upload_id)] == [kind]


def test_every_kind_in_one_jsonl_file_is_quarantined_once(trade_files, loader, warehouse, buckets, market):
    tf = trade_files.build(60, symbols=("MSFT", "GOOG"), invalid=INVALID_KINDS, fmt="jsonl")
    up = loader.upload(tf)
    assert_quarantined(tf, up, warehouse, buckets, market)
    assert sorted(r["reason"] for r in market.rejections(tf.upload_id)) == sorted(INVALID_KINDS)


def test_timestamps_before_2000_or_days_ahead_are_bad_timestamps(trade_files, loader, warehouse, buckets,
                                                                  market):
    tf = trade_files.build(25, symbols=("NVDA",))
    too_old = dict(tf.rows[0], trade_id=f"{tf.rows[0]['trade_id']}-old", ts="1999-12-31T23:59:59Z",
                   kind="bad_timestamp")
    ahead = expected.iso(datetime.now(UTC) + timedelta(days=3))
    too_new = dict(tf.rows[1], trade_id=f"{tf.rows[1]['trade_id']}-new", ts=ahead, kind="bad_timestamp")
    tf.rows += [too_old, too_new]
    tf.invalid += [too_old, too_new]
    up = loader.upload(tf)
    assert_quarantined(tf, up, warehouse, buckets, market)
