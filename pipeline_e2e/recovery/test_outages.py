"""The database or the object store goes away while the worker runs: it retries, then carries on
and loses or duplicates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from e2e_shared.faults import Faults
from e2e_shared.waits import wait_until
from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import outcome, symbols_of, valid_ids
from pipeline_e2e.support.objects import Buckets
from pipeline_e2e.support.warehouse import Warehouse

pytestmark = [pytest.mark.resilience, pytest.mark.contract("pipeline.outage_retry")]

ROWS = 50_000  # about a second of loading (more on a busy machine): a window for the outage
SEED_FILES = ("seed-AAPL-2026-01-05.csv", "seed-MSFT-2026-01-05.csv", "seed-NVDA-2026-01-05.csv")


def retries(lines: list[str], dependency: str) -> int:
    """How many times the ingest loop logged that ``dependency`` was away and it would retry."""
    return sum(f"ingest: {dependency} unavailable" in line and "retry" in line for line in lines)


@pytest.fixture
def seed_objects(warehouse: Warehouse, buckets: Buckets, faults: Faults) -> Iterator[None]:
    """The embedded object store keeps objects in memory: put the seeded landing objects back."""
    saved = buckets.snapshot(warehouse.seed_object_keys(SEED_FILES))
    assert len(saved) == len(SEED_FILES)
    yield
    faults.start("objects")  # the test may have failed while the store was down
    buckets.restore(saved)


@pytest.mark.usefixtures("busy_worker")
def test_database_down_mid_ingest_then_back_loads_the_file_exactly_once(trade_files, loader, warehouse,
                                                                        market, faults, worker_log):
    tf = trade_files.build(ROWS, symbols=("GOOG", "AMZN"), spread_minutes=600)
    loader.send(tf)
    wait_until(lambda: warehouse.is_claimed(tf.object_key), what=f"the worker to be mid-load of {tf.name}",
               timeout=60, interval=0.02)

    stopped_at = datetime.now(UTC)
    faults.stop("db")
    wait_until(lambda: retries(worker_log(), "database") >= 2, what="the worker to retry the database",
               timeout=30, interval=0.2)
    down = market.client.get(f"/uploads/{tf.upload_id}", expect=503).json()
    assert down["error"]["code"] == "dependency_unavailable", down

    faults.start("db")
    up = market.wait_upload(tf.upload_id, timeout=120)
    assert outcome(up) == ("loaded", ROWS, ROWS, 0, 0), up
    assert expected.parse_ts(up["loaded_at"]) > stopped_at, "the load committed before the outage"
    assert warehouse.count_from_file(tf.object_key) == ROWS
    loaded = warehouse.trades(valid_ids(tf))
    assert expected.checksum(loaded) == expected.checksum(expected.trades(tf.valid))
    assert market.totals(symbols_of(tf), *tf.window)[1] == ROWS


def test_object_store_down_makes_worker_retry_then_catch_up(seed_objects, trade_files, loader,
                                                           warehouse, market, faults, worker_log):
    faults.stop("objects")
    retrying = market.wait_status(lambda s: "storage" in (s["state"] or ""),
                                  what="/pipeline/status to show the worker retrying the store", timeout=30)
    assert retrying["state"] != "running", retrying
    # Three failed attempts: the backoff has doubled to 1.6 s, so the files below land while it waits.
    wait_until(lambda: retries(worker_log(), "storage") >= 3,
               what="the worker to retry the store with backoff", timeout=30, interval=0.2)

    faults.start("objects")
    direct = trade_files.build(500, symbols=("TSLA",))
    key = trade_files.put(direct)
    uploaded = trade_files.build(400, symbols=("META",), invalid=("malformed",))
    loader.send(uploaded)

    row = warehouse.wait_done(key, timeout=60)
    assert outcome(row) == ("loaded", 500, 500, 0, 0), row
    up = market.wait_upload(uploaded.upload_id, timeout=60)
    assert outcome(up) == ("loaded", 401, 400, 0, 1), up
    assert warehouse.count(valid_ids(direct)) == 500 and warehouse.count(valid_ids(uploaded)) == 400
    assert market.totals(["TSLA"], *direct.window)[1] == 500
    assert market.totals(["META"], *uploaded.window)[1] == 400
    market.wait_status(lambda s: s["state"] == "running", what="the worker to report running again",
                       timeout=30)
