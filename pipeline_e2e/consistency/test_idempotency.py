"""Sending the same trades again adds nothing: the trade id is the idempotency key."""

from __future__ import annotations

import pytest

from pipeline_e2e.support.expected import totals
from pipeline_e2e.support.loading import valid_ids

pytestmark = [pytest.mark.integrity, pytest.mark.contract("pipeline.file_transaction", "uploads.counts")]


def test_same_file_uploaded_twice_adds_nothing(trade_files, loader, warehouse, market):
    tf = trade_files.build(200, symbols=("MSFT", "NVDA"))
    first = loader.upload(tf)
    assert first["rows_new"] == 200
    first_key = tf.object_key
    bars_after_first = {s: market.bars(s, *tf.window) for s in ("MSFT", "NVDA")}
    assert sum(totals(b)[1] for b in bars_after_first.values()) == 200

    again = loader.upload(tf)  # a new upload id and object key, the same content
    assert tf.object_key != first_key
    assert (again["status"], again["rows_loaded"], again["rows_new"], again["rows_duplicate"]) == (
        "loaded", 200, 0, 200), again
    assert warehouse.count(valid_ids(tf)) == 200
    assert warehouse.file_keys(valid_ids(tf)) == {first_key}
    assert {s: market.bars(s, *tf.window) for s in ("MSFT", "NVDA")} == bars_after_first


def test_same_rows_under_another_object_name_add_nothing(trade_files, loader, warehouse, market, unique):
    tf = trade_files.build(180, symbols=("AAPL",))
    assert loader.upload(tf)["rows_new"] == 180
    uploaded_key = tf.object_key
    bars_after_upload = market.bars("AAPL", *tf.window)
    assert totals(bars_after_upload)[1] == 180

    row = loader.put(tf, key=f"direct/{unique('resent')}.csv")
    assert (row["status"], row["rows_total"], row["rows_new"], row["rows_duplicate"]) == (
        "loaded", 180, 0, 180), row
    assert warehouse.count_from_file(row["key"]) == 0
    assert warehouse.count(valid_ids(tf)) == 180
    assert warehouse.file_keys(valid_ids(tf)) == {uploaded_key}
    assert market.bars("AAPL", *tf.window) == bars_after_upload
