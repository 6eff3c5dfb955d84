"""kill -9 of the worker in the middle of a file: after a restart the file is loaded once, exactly."""

from __future__ import annotations

import pytest

from e2e_shared.waits import wait_until
from pipeline_e2e.support import expected
from pipeline_e2e.support.loading import outcome, symbols_of, valid_ids

pytestmark = [pytest.mark.resilience, pytest.mark.contract("pipeline.kill_safe")]
# The killed worker's heartbeat row says "running" until it is stale (TB_HEARTBEAT_MAX_AGE, 15 s):
# the status tests that stop the worker and wait for "stopped" would wait that out after this one.
RUN_LAST_IN_PHASE = True

ROWS = 50_000  # about a second of loading (more on a busy machine): a window to kill it in


@pytest.mark.usefixtures("busy_worker")
def test_worker_killed_mid_file_leaves_exact_counts_after_restart(trade_files, loader, warehouse, market,
                                                                  faults, worker_log):
    tf = trade_files.build(ROWS, symbols=("AAPL", "MSFT", "NVDA"), spread_minutes=600)
    loader.send(tf)
    wait_until(lambda: warehouse.is_claimed(tf.object_key), what=f"the worker to be mid-load of {tf.name}",
               timeout=60, interval=0.02)

    faults.kill("pipeline")
    row = warehouse.landing_file(tf.object_key)
    assert row["status"] == "pending", f"the kill came after the load committed: {dict(row)}"
    assert warehouse.count_from_file(tf.object_key) == 0  # nothing of a half-loaded file is visible

    faults.start("pipeline")
    up = market.wait_upload(tf.upload_id, timeout=120)
    assert outcome(up) == ("loaded", ROWS, ROWS, 0, 0), up
    assert warehouse.count_from_file(tf.object_key) == ROWS
    loaded = warehouse.trades(valid_ids(tf))
    assert expected.checksum(loaded) == expected.checksum(expected.trades(tf.valid))
    assert market.totals(symbols_of(tf), *tf.window)[1] == ROWS
    assert sum(f"loaded {tf.object_key}:" in line for line in worker_log()) == 1
