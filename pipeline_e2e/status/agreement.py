"""/pipeline/status against the tables, at an instant when nothing moved.

Other tests (and other runs) load files all the time, so the API's answer is read between two SQL
snapshots; once two consecutive snapshots agree on every count, the API's counts must equal
them exactly and its times must lie between them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from e2e_shared.waits import Poll, wait_until
from pipeline_e2e.support.expected import parse_ts
from pipeline_e2e.support.market import Market
from pipeline_e2e.support.warehouse import StatusRow, Warehouse

LAG_SLACK_S = 1.0
LAST_RUN_SLACK = timedelta(seconds=1)  # last_run_at is recomputed (now() - age) at every heartbeat


def quiet_reading(warehouse: Warehouse, market: Market, *, timeout: float = 30.0
                  ) -> tuple[StatusRow, dict[str, Any], StatusRow]:
    def read() -> Poll:
        before = warehouse.status()
        api = market.status()
        after = warehouse.status()
        return Poll(before.counts() == after.counts(), (before, api, after))

    return wait_until(read, what="two identical SQL snapshots around one /pipeline/status answer",
                      timeout=timeout, interval=0.2)


def assert_agrees(before: StatusRow, api: dict[str, Any], after: StatusRow) -> None:
    for name in ("files_pending", "files_loaded", "rows_loaded", "rows_rejected"):
        assert api[name] == getattr(before, name), (name, api, before)
    assert before.lag() - LAG_SLACK_S <= api["lag_seconds"] <= after.lag() + LAG_SLACK_S, (api, before, after)
    if before.oldest_pending is None:
        assert api["lag_seconds"] == 0, api
    if before.heartbeat_at is not None:
        heartbeat = parse_ts(api["heartbeat_at"])
        assert before.heartbeat_at <= heartbeat <= after.heartbeat_at, (api, before, after)
    if before.last_run_at is not None:
        last_run = parse_ts(api["last_run_at"])
        assert before.last_run_at - LAST_RUN_SLACK <= last_run <= after.last_run_at + LAST_RUN_SLACK, (
            api, before, after)
