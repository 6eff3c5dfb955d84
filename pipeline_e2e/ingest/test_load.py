"""A file goes in (API upload or straight into the landing bucket) and its trades come out in the
warehouse and the bars."""

from __future__ import annotations

import pytest

from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import symbols_of, valid_ids


@pytest.mark.contract("pipeline.scan", "pipeline.file_transaction", "market.bars")
@pytest.mark.smoke
def test_small_csv_upload_is_loaded_into_warehouse_and_bars(trade_files, loader, buckets, warehouse, market):
    tf = trade_files.build(20, symbols=("AAPL",))
    up = loader.upload(tf)
    assert (up["status"], up["rows_total"], up["rows_new"], up["rows_rejected"]) == ("loaded", 20, 20, 0), up
    assert buckets.landing_rows(tf.object_key) == 20
    assert warehouse.count(valid_ids(tf)) == 20
    assert market.totals(["AAPL"], *tf.window)[1] == 20


@pytest.mark.contract("pipeline.scan")
@pytest.mark.smoke
def test_object_put_straight_into_landing_bucket_is_loaded(trade_files, loader, warehouse, market):
    tf = trade_files.build(15, symbols=("MSFT",))
    row = loader.put(tf)
    assert (row["status"], row["rows_total"], row["rows_new"]) == ("loaded", 15, 15), row
    assert warehouse.file_keys(valid_ids(tf)) == {tf.object_key}
    assert warehouse.count(valid_ids(tf)) == 15
    assert market.totals(["MSFT"], *tf.window)[1] == 15


@pytest.mark.contract("uploads.accept")
@pytest.mark.flow
def test_jsonl_upload_loads_exactly_its_source_trades(trade_files, loader, warehouse, market):
    tf = trade_files.build(120, symbols=("GOOG", "AMZN"), fmt="jsonl")
    up = loader.upload(tf)
    assert (up["status"], up["rows_new"], up["rows_rejected"]) == ("loaded", 120, 0), up
    source = expected.trades(tf.valid)
    assert expected.checksum(warehouse.trades(valid_ids(tf))) == expected.checksum(source)
    want = expected.bars_by_symbol(source)
    for symbol in symbols_of(tf):
        assert market.bars(symbol, *tf.window) == want[symbol], symbol


@pytest.mark.contract("pipeline.file_transaction")
@pytest.mark.flow
def test_repeated_trade_id_in_one_file_is_loaded_once_first_row_wins(trade_files, loader, warehouse, market):
    tf = trade_files.build(30, symbols=("TSLA",))
    first = tf.rows[0]
    tf.rows.append(dict(first, price="999.99", quantity=7))  # the same trade id, sent again
    up = loader.upload(tf)
    assert (up["rows_total"], up["rows_loaded"], up["rows_new"], up["rows_duplicate"]) == (31, 31, 30, 1), up
    stored = warehouse.trades([first["trade_id"]])
    assert stored == [expected.trade(first)]
    assert warehouse.count(valid_ids(tf)) == 30
    assert market.totals(["TSLA"], *tf.window)[1] == 30


@pytest.mark.contract("uploads.counts", "pipeline.validation")
@pytest.mark.flow
def test_unreadable_object_is_rejected_whole_and_loads_nothing(trade_files, warehouse, s3, buckets, unique):
    tf = trade_files.build(3, symbols=("META",))
    body = tf.content() + b"\xff\xfe not utf-8\n"
    key = f"direct/{unique('binary')}.csv"
    s3.put_object(Bucket=buckets.landing, Key=key, Body=body)
    trade_files.objects.append(key)
    row = warehouse.wait_done(key)
    assert row["status"] == "rejected", row
    assert "utf-8" in (row["error"] or "").lower(), row
    assert (row["rows_total"], row["rows_loaded"]) == (0, 0), row
    assert warehouse.count(valid_ids(tf)) == 0  # not even the readable lines before the bad bytes
