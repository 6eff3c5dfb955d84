"""Each row rule of the worker holds exactly at its edge: the value on the edge is loaded, the
next one past it is quarantined with its reason, and the rest of the file loads around it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline_e2e.quarantine.test_reasons import assert_quarantined
from pipeline_e2e.support import expected

pytestmark = [pytest.mark.flow, pytest.mark.contract("validation.edges", "pipeline.validation")]

SMALLEST = "0.00000001"  # the smallest positive value the tests send: strictly above the edge
MARGIN = timedelta(minutes=2)  # clock skew allowance between this machine and the worker


def _edge_rows(base: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(loaded, quarantined) rows: each pair sits on either side of one rule's edge."""
    ahead = datetime.now(UTC) + timedelta(days=1)

    def row(tag: str, kind: str | None = None, **values: Any) -> dict[str, Any]:
        return dict(base, trade_id=f"{base['trade_id']}-{tag}", kind=kind, **values)

    loaded = [
        row("price-min", price=SMALLEST),
        row("qty-min", quantity=SMALLEST),
        row("ts-2000", ts="2000-01-01T00:00:00Z"),
        row("ts-1d", ts=expected.iso(ahead - MARGIN)),
    ]
    refused = [
        row("price-0", "non_positive_price", price="0"),
        row("qty-0", "non_positive_quantity", quantity="0"),
        row("ts-1999", "bad_timestamp", ts="1999-12-31T23:59:59Z"),
        row("ts-1d+", "bad_timestamp", ts=expected.iso(ahead + MARGIN)),
    ]
    return loaded, refused


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_values_on_each_edge_load_and_one_step_past_is_quarantined(fmt, trade_files, loader, warehouse,
                                                                     buckets, market):
    tf = trade_files.build(30, symbols=("AMZN",), fmt=fmt)
    loaded, refused = _edge_rows(tf.rows[0])
    # Edge rows in the middle of the file: the rows after them must load too.
    middle = len(tf.rows) // 2
    tf.rows[middle:middle] = [r for pair in zip(loaded, refused, strict=True) for r in pair]
    tf.invalid += refused
    up = loader.upload(tf)
    assert up["status"] == "loaded", up
    assert_quarantined(tf, up, warehouse, buckets, market)
    assert sorted(r["reason"] for r in market.rejections(tf.upload_id)) == sorted(r["kind"] for r in refused)
