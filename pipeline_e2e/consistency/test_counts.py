"""One uploaded file, counted in every place it leaves a trace: S3, SQL and the API agree."""

from __future__ import annotations

import pytest

from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import invalid_ids, symbols_of, valid_ids
from tradeboard_fixtures.factories import INVALID_KINDS

pytestmark = [pytest.mark.integrity, pytest.mark.contract("uploads.counts", "pipeline.file_transaction")]


def test_landing_object_rows_equal_accepted_plus_rejected(trade_files, loader, buckets, warehouse):
    tf = trade_files.build(300, symbols=("AAPL", "MSFT"), invalid=INVALID_KINDS)
    up = loader.upload(tf)
    received = buckets.landing_rows(tf.object_key)
    assert received == len(tf.rows) == 305
    assert up["rows_loaded"] + up["rows_rejected"] == received, up
    assert (up["rows_loaded"], up["rows_rejected"]) == (300, 5), up
    row = warehouse.landing_file(tf.object_key)
    assert (row["rows_total"], row["rows_loaded"], row["rows_rejected"]) == (received, 300, 5)
    assert len(warehouse.quarantine_rows(tf.object_key)) == 5


def test_warehouse_rows_for_the_file_equal_its_accepted_rows(trade_files, loader, warehouse):
    tf = trade_files.build(250, symbols=("NVDA", "META", "AMD"), invalid=("unknown_symbol", "malformed"))
    up = loader.upload(tf)
    assert warehouse.count(valid_ids(tf)) == up["rows_loaded"] == 250
    assert warehouse.count(invalid_ids(tf)) == 0
    assert warehouse.count_from_file(tf.object_key) == up["rows_new"] == 250


def test_api_bar_totals_equal_the_sums_over_warehouse_rows(trade_files, loader, warehouse, market):
    tf = trade_files.build(400, symbols=("GOOG", "AMZN", "TSLA"), spread_minutes=90)
    loader.upload(tf)
    sums = warehouse.sums(valid_ids(tf))
    assert sorted(sums) == symbols_of(tf)
    for symbol, (volume, count) in sums.items():
        api_volume, api_trades = expected.totals(market.bars(symbol, *tf.window))
        assert (api_volume, api_trades) == (volume, count), symbol
    assert sum(n for _, n in sums.values()) == 400


def test_checksum_of_loaded_trades_equals_checksum_of_source_rows(trade_files, loader, warehouse):
    tf = trade_files.build(500, symbols=("AAPL", "NFLX", "INTC"), invalid=("non_positive_price",))
    loader.upload(tf)
    loaded = warehouse.trades(valid_ids(tf) + invalid_ids(tf))
    assert len(loaded) == 500
    assert expected.checksum(loaded) == expected.checksum(expected.trades(tf.valid))
