"""GET /pipeline/status agrees with the database: counts, last run, heartbeat and lag."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline_e2e.status.agreement import assert_agrees, quiet_reading
from pipeline_e2e.support.expected import parse_ts


@pytest.mark.contract("status.pipeline")
@pytest.mark.smoke
def test_pipeline_status_answers_and_agrees_with_database(warehouse, market):
    before, api, after = quiet_reading(warehouse, market)
    assert set(api) >= {"last_run_at", "lag_seconds", "files_pending", "files_loaded", "rows_loaded",
                        "rows_rejected", "heartbeat_at", "state"}, api
    assert api["state"] == "running", api
    assert_agrees(before, api, after)
    # A running worker beats every second and scans the landing bucket continuously.
    assert after.now - parse_ts(api["heartbeat_at"]) < timedelta(seconds=5), (api, after.now)
    assert after.now - parse_ts(api["last_run_at"]) < timedelta(seconds=30), (api, after.now)


@pytest.mark.contract("status.pipeline")
@pytest.mark.integrity
def test_status_counts_include_a_loaded_file_and_its_rejections(trade_files, loader, warehouse, market):
    start = market.status()
    tf = trade_files.build(90, symbols=("AMD",), invalid=("bad_timestamp", "unknown_symbol"))
    up = loader.upload(tf)
    assert (up["rows_loaded"], up["rows_rejected"]) == (90, 2), up
    before, api, after = quiet_reading(warehouse, market)
    assert_agrees(before, api, after)
    assert api["files_loaded"] >= start["files_loaded"] + 1, (start, api)
    assert api["rows_loaded"] >= start["rows_loaded"] + 90, (start, api)
    assert api["rows_rejected"] >= start["rows_rejected"] + 2, (start, api)
