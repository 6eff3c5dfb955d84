"""With the worker stopped, /pipeline/status shows the waiting file and its growing lag, as the
tables do; after a restart the file loads and the status says running again."""

from __future__ import annotations

import pytest

from pipeline_e2e.status.agreement import assert_agrees, quiet_reading


@pytest.mark.contract("status.pipeline")
@pytest.mark.resilience
def test_stopped_worker_shows_pending_file_and_lag_that_agree_with_database(trade_files, loader, warehouse,
                                                                            market, faults):
    faults.stop("pipeline")
    tf = trade_files.build(50, symbols=("INTC",))
    loader.send(tf)
    created = warehouse.upload_created_at(tf.object_key)

    market.wait_status(lambda s: s["lag_seconds"] >= 2 and s["state"] != "running",
                       what="the status to show a lag of 2 s and a worker that is not running", timeout=30)
    before, api, after = quiet_reading(warehouse, market)
    assert_agrees(before, api, after)
    assert api["files_pending"] >= 1, api
    assert api["lag_seconds"] >= (before.now - created).total_seconds() - 1, (api, created)
    assert api["state"] in ("stopped", "stale"), api
    assert market.upload(tf.upload_id)["status"] == "pending"

    faults.start("pipeline")
    up = market.wait_upload(tf.upload_id, timeout=60)
    assert (up["status"], up["rows_new"]) == ("loaded", 50), up
    market.wait_status(lambda s: s["state"] == "running", what="the worker to report running", timeout=30)
    before, api, after = quiet_reading(warehouse, market)
    assert_agrees(before, api, after)
