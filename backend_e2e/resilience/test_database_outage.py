"""The database crashes (SIGKILL) and restarts while an export runs: /health names it within 5 s,
calls answer 503, everything recovers by itself, and the export loses and duplicates nothing.

One crash for the module: the scenario runs once and each test checks one thing it saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from backend_e2e import faultkit
from backend_e2e.contract import error_of, leaks
from backend_e2e.faultkit import Observed
from backend_e2e.market import csv_trades, db_trades
from e2e_shared.waits import Poll

pytestmark = pytest.mark.resilience

KILL_TO_503 = 5.0  # the bound
DAY = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))  # 12,000 seeded AAPL trades
TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass
class Crash:
    health_down: Observed
    protected_down: requests.Response
    health_back: Observed
    me_after: requests.Response
    watchlist_after: requests.Response
    watchlist: dict[str, Any]
    export_end: Observed  # the export running during the crash
    retry_end: Observed | None  # a retry, when it failed
    download: requests.Response | None


def _export_end(me: Any, export_id: str) -> Any:
    def ended() -> Poll:
        resp = me.get(f"/exports/{export_id}", timeout=5)
        if resp.status_code == 503:  # the API is still reconnecting: not yet
            return Poll(False, "503")
        state = resp.json()
        return Poll(state["status"] in TERMINAL, state)
    return ended


@pytest.fixture(scope="module")
def crash(exclusive_stack: None, stack: Any, make_toolkit: Any, endpoints: Any) -> Iterator[Crash]:
    kit = make_toolkit(f"{__name__}::crash")
    faults = faultkit.module_faults(stack)
    user = kit.users.create("dbkill")
    me = kit.api.as_user(user)
    wl = kit.watchlists.create(user, symbols=["AAPL"])
    try:
        ex = kit.exports.create(user, "AAPL", *DAY)
        kit.exports.wait(user, ex["id"], statuses=("running",))
        faultkit.make_durable(endpoints.admin_database_url)
        pid = faultkit.kill(faults, stack, "db")
        killed = time.monotonic()

        def names_database() -> Poll:
            resp = kit.api.get("/health", timeout=KILL_TO_503)
            body = resp.json()
            return Poll(resp.status_code == 503 and "database" in body["failing"], body)

        health_down = faultkit.observe(names_database, what="/health to name the database",
                                       timeout=KILL_TO_503, since=killed)
        protected_down = me.get("/watchlists", timeout=10)
        faultkit.wait_reaped(pid, "db")
        faults.start("db")

        def healthy() -> Poll:
            resp = kit.api.get("/health", timeout=5)
            return Poll(resp.status_code == 200, resp.json())

        health_back = faultkit.observe(healthy, what="/health to pass again", timeout=20)
        export_end = faultkit.observe(_export_end(me, ex["id"]), what="the export to end", timeout=60)
        retry_end, final_id = None, ex["id"]
        if export_end.ok and export_end.state["status"] == "failed":
            final_id = kit.exports.create(user, "AAPL", *DAY)["id"]
            retry_end = faultkit.observe(_export_end(me, final_id), what="the retry to end", timeout=60)
        final = retry_end or export_end
        succeeded = final.ok and final.state["status"] == "succeeded"
        download = me.get(f"/exports/{final_id}/download") if succeeded else None
        yield Crash(health_down, protected_down, health_back, me.get("/auth/me"),
                    me.get(f"/watchlists/{wl['id']}"), wl, export_end, retry_end, download)
    finally:
        faults.restore()
        kit.close()


@pytest.mark.contract("health.checks")
def test_health_names_the_database_within_5_s_of_a_kill(crash: Crash) -> None:
    assert crash.health_down.ok, f"no 503 naming the database: {crash.health_down.state}"
    assert crash.health_down.seconds <= KILL_TO_503
    assert crash.health_down.state["checks"]["database"]["ok"] is False


@pytest.mark.contract("health.database_away")
def test_health_does_not_blame_the_pipeline_it_cannot_read(crash: Crash) -> None:
    body = crash.health_down.state
    assert body["failing"] == ["database"], body["failing"]
    assert body["checks"]["pipeline"]["ok"] is None


@pytest.mark.contract("errors.dependency_unavailable")
def test_protected_calls_answer_503_dependency_unavailable_while_it_is_down(crash: Crash) -> None:
    resp = crash.protected_down
    assert resp.status_code == 503, f"{resp.status_code} {resp.text[:300]}"
    assert error_of(resp)["code"] == "dependency_unavailable"


@pytest.mark.contract("errors.no_leak")
def test_answers_while_the_database_is_down_leak_no_internals(crash: Crash) -> None:
    answers = {"the 503 of a protected call": crash.protected_down.text,
               "/health": json.dumps(crash.health_down.state)}
    found = {what: leaks(text) for what, text in answers.items() if leaks(text)}
    assert not found, f"internal detail while the database is down: {found}: {answers}"


@pytest.mark.contract("health.checks")
def test_health_recovers_by_itself_after_the_database_restarts(crash: Crash) -> None:
    assert crash.health_back.ok, f"/health still failing 20 s after the restart: {crash.health_back.state}"
    assert crash.health_back.state["failing"] == []


@pytest.mark.contract("auth.tokens")
def test_tokens_and_data_outlive_the_database_restart(crash: Crash) -> None:
    assert crash.me_after.status_code == 200, crash.me_after.text[:300]
    assert crash.watchlist_after.status_code == 200, crash.watchlist_after.text[:300]
    assert crash.watchlist_after.json() == crash.watchlist


@pytest.mark.contract("pipeline.exports", "pipeline.outage_retry")
def test_export_through_the_crash_succeeds_or_fails_cleanly_and_a_retry_succeeds(crash: Crash) -> None:
    assert crash.export_end.ok, f"the export never ended: {crash.export_end.state}"
    status = crash.export_end.state["status"]
    if status == "failed":
        assert crash.export_end.state["error"], "a failed export says why"
        assert crash.retry_end is not None and crash.retry_end.ok, crash.retry_end
        status = crash.retry_end.state["status"]
    assert status == "succeeded", crash.retry_end or crash.export_end


@pytest.mark.contract("pipeline.exports")
def test_exported_file_holds_every_row_exactly_once_after_the_crash(crash: Crash, db: Any) -> None:
    assert crash.download is not None and crash.download.status_code == 200, crash.download
    rows = csv_trades(crash.download.content)
    expected = db_trades(db, "AAPL", *DAY)
    assert len({r.trade_id for r in rows}) == len(rows), "the file holds duplicated rows"
    assert rows == expected, f"the file has {len(rows)} rows, the database {len(expected)}"
