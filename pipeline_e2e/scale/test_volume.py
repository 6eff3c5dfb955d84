"""Volume: a 100,000-row file and ten files at once load completely, to the row."""

from __future__ import annotations

import pytest

from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import outcome, symbols_of, valid_ids

pytestmark = [pytest.mark.integrity, pytest.mark.contract("pipeline.scan", "pipeline.file_transaction")]

BIG = 100_000


@pytest.mark.usefixtures("busy_worker")
def test_100k_row_file_loads_completely(trade_files, loader, buckets, warehouse, market):
    tf = trade_files.build(BIG, symbols=("AAPL", "MSFT", "NVDA", "TSLA"), spread_minutes=600)
    up = loader.upload(tf, timeout=120)
    assert outcome(up) == ("loaded", BIG, BIG, 0, 0), up
    assert buckets.landing_rows(tf.object_key) == BIG
    assert warehouse.count_from_file(tf.object_key) == BIG
    loaded = warehouse.trades(valid_ids(tf))
    assert len(loaded) == BIG
    assert expected.checksum(loaded) == expected.checksum(expected.trades(tf.valid))
    assert market.totals(symbols_of(tf), *tf.window)[1] == BIG


@pytest.mark.usefixtures("busy_worker")
def test_ten_files_uploaded_at_once_all_load_exactly(trade_files, loader, warehouse, market):
    files = [trade_files.build(2_000 + 100 * i, symbols=("GOOG", "AMZN")) for i in range(10)]
    loader.upload_at_once(files)
    assert len({tf.object_key for tf in files}) == 10
    for tf in files:
        up = market.wait_upload(tf.upload_id, timeout=90)
        n = len(tf.rows)
        assert outcome(up) == ("loaded", n, n, 0, 0), up
        assert warehouse.count(valid_ids(tf)) == n
        assert market.totals(("GOOG", "AMZN"), *tf.window)[1] == n
    assert sum(warehouse.count_from_file(tf.object_key) for tf in files) == sum(len(tf.rows) for tf in files)
