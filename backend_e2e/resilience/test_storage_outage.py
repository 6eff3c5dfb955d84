"""The object store goes away: /health and uploads say so (503), and both recover on their own.

One outage for the module: the scenario runs once (store stopped, observed, started again,
observed), and each test checks one thing it saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from backend_e2e import faultkit, objects
from backend_e2e.contract import error_of, leaks
from backend_e2e.faultkit import Observed
from e2e_shared.waits import Poll

pytestmark = [pytest.mark.resilience, pytest.mark.contract("errors.dependency_unavailable")]


@dataclass
class StoreOutage:
    health_down: Observed
    upload_down: requests.Response
    uploads_listed_down: list[dict[str, Any]]
    health_back: Observed
    upload_after: Observed


def _health_is(api: Any, status: int) -> Any:
    def check() -> Poll:
        resp = api.get("/health", timeout=5)
        return Poll(resp.status_code == status, (resp.status_code, resp.json()))
    return check


@pytest.fixture(scope="module")
def outage(exclusive_stack: None, stack: Any, make_toolkit: Any, s3: Any) -> Iterator[StoreOutage]:
    kit = make_toolkit(f"{__name__}::outage")
    faults = faultkit.module_faults(stack)
    user = kit.users.create("store")
    me = kit.api.as_user(user)
    # The embedded store keeps objects in memory only: put them back after, so that no other
    # test's files vanish because of this outage.
    saved = objects.snapshot(s3)
    try:
        faults.stop("objects")
        stopped = time.monotonic()
        health_down = faultkit.observe(_health_is(kit.api, 503), what="/health to fail", timeout=10,
                                       since=stopped)
        tf = kit.trade_files.build(5)
        upload_down = me.post("/uploads", files={"file": (tf.name, tf.content(), "text/csv")}, timeout=15)
        listed = me.get("/uploads", expect=200).json()
        faults.start("objects")
        started = time.monotonic()
        health_back = faultkit.observe(_health_is(kit.api, 200), what="/health to pass again", timeout=20,
                                       since=started)
        again = kit.trade_files.build(20, symbols=("META",))
        kit.trade_files.upload(user, again)

        def loaded() -> Poll:
            up = me.get(f"/uploads/{again.upload_id}", expect=200).json()
            return Poll(up["status"] == "loaded", up)

        upload_after = faultkit.observe(loaded, what="an upload after the restart to load", timeout=20)
        yield StoreOutage(health_down, upload_down, listed, health_back, upload_after)
    finally:
        faults.restore()
        objects.put_back(s3, saved)
        kit.close()


@pytest.mark.contract("health.checks")
def test_health_answers_503_naming_storage_while_the_store_is_down(outage: StoreOutage) -> None:
    assert outage.health_down.ok, f"/health did not fail within 10 s: {outage.health_down.state}"
    status, body = outage.health_down.state
    assert status == 503 and body["status"] == "fail"
    assert body["failing"] == ["storage"], body["failing"]
    assert body["checks"]["storage"]["ok"] is False and body["checks"]["storage"]["error"]


def test_upload_answers_503_with_a_clear_json_error_while_the_store_is_down(outage: StoreOutage) -> None:
    resp = outage.upload_down
    assert resp.status_code == 503, f"{resp.status_code} {resp.text[:300]}"
    assert resp.headers["content-type"].startswith("application/json")
    err = error_of(resp)
    assert err["code"] == "dependency_unavailable"
    assert "store" in err["message"] or "storage" in err["message"], err["message"]


@pytest.mark.contract("errors.no_leak")
def test_answers_while_the_store_is_down_leak_no_internals(outage: StoreOutage) -> None:
    answers = {"the 503 of an upload": outage.upload_down.text,
               "/health": json.dumps(outage.health_down.state[1])}
    found = {what: leaks(text) for what, text in answers.items() if leaks(text)}
    assert not found, f"internal detail while the store is down: {found}: {answers}"


def test_refused_upload_leaves_no_upload_behind(outage: StoreOutage) -> None:
    assert outage.uploads_listed_down == []


@pytest.mark.contract("health.checks")
def test_health_recovers_by_itself_after_the_store_restarts(outage: StoreOutage) -> None:
    assert outage.health_back.ok, f"/health still failing 20 s after the restart: {outage.health_back.state}"
    assert outage.health_back.state[1]["failing"] == []


def test_uploads_load_again_after_the_store_restarts(outage: StoreOutage) -> None:
    assert outage.upload_after.ok, f"the upload did not load: {outage.upload_after.state}"
    assert outage.upload_after.state["rows_new"] == 20
