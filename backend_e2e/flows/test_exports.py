"""Export jobs: queued -> running -> succeeded over server-sent events, the file, cancellation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backend_e2e import sse
from backend_e2e.contract import error_of
from backend_e2e.market import csv_trades, db_trades, sent_trades
from backend_e2e.objects import EXPORTS_BUCKET, exists

pytestmark = [pytest.mark.flow, pytest.mark.contract("exports.create", "exports.get")]

# The seeded day (read only): 12,000 trades per symbol, so an export of it takes a while.
DAY = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
MORNING = (datetime(2026, 1, 5, 14, 30, tzinfo=UTC), datetime(2026, 1, 5, 16, 30, tzinfo=UTC))


def _download(api: Any, user: Any, export_id: str) -> bytes:
    resp = api.as_user(user).get(f"/exports/{export_id}/download", expect=200)
    assert resp.headers["content-type"].startswith("text/csv")
    return resp.content


@pytest.mark.contract("exports.events", "pipeline.exports")
def test_export_goes_queued_running_succeeded_with_ordered_events(api: Any, shared_user: Any, exports: Any,
                                                                  endpoints: Any, db: Any) -> None:
    exports.create(shared_user, "AAPL", *MORNING)  # keeps the worker busy: ours is seen waiting
    created = exports.create(shared_user, "NVDA", *MORNING)
    assert created["status"] == "queued" and created["progress"] == 0
    resp, events = sse.read(f"{endpoints.api_url}/exports/{created['id']}/events", shared_user.access_token)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert events and all(e.event == "status" for e in events), events
    states = [e.json() for e in events]
    assert {s["id"] for s in states} == {created["id"]}
    statuses = [s["status"] for i, s in enumerate(states) if i == 0 or s["status"] != states[i - 1]["status"]]
    assert statuses == ["queued", "running", "succeeded"], statuses
    progress = [s["progress"] for s in states]
    assert progress == sorted(progress), f"progress went backwards: {progress}"
    pairs = [(s["status"], s["progress"]) for s in states]
    assert all(a != b for a, b in zip(pairs, pairs[1:], strict=False)), f"an event without a change: {pairs}"
    last = states[-1]
    assert (last["progress"], last["rows"]) == (100, len(db_trades(db, "NVDA", *MORNING)))
    assert last["started_at"] and last["finished_at"] and last["object_key"]


@pytest.mark.contract("exports.download", "pipeline.exports")
def test_downloaded_export_equals_the_database_rows(api: Any, shared_user: Any, exports: Any,
                                                    db: Any) -> None:
    ex = exports.create(shared_user, "MSFT", *MORNING)
    done = exports.wait(shared_user, ex["id"])
    rows = csv_trades(_download(api, shared_user, ex["id"]))
    expected = db_trades(db, "MSFT", *MORNING)
    assert len(rows) == done["rows"] == len(expected) > 0
    assert rows == expected, "the file differs from the database rows (order, values or count)"


@pytest.mark.contract("exports.download")
def test_export_of_an_upload_holds_exactly_the_uploaded_rows(api: Any, shared_user: Any, trade_files: Any,
                                                             exports: Any) -> None:
    tf = trade_files.build(300, symbols=("TSLA",), spread_minutes=90)
    trade_files.upload(shared_user, tf)
    trade_files.wait_loaded(shared_user, tf)
    ex = exports.create(shared_user, "TSLA", *tf.window)
    exports.wait(shared_user, ex["id"])
    assert csv_trades(_download(api, shared_user, ex["id"])) == sent_trades(tf.valid)


@pytest.mark.contract("exports.download")
def test_download_before_success_is_not_ready(api: Any, shared_user: Any, exports: Any) -> None:
    ex = exports.create(shared_user, "AAPL", *DAY)  # seconds of work: still queued or running just after
    resp = api.as_user(shared_user).get(f"/exports/{ex['id']}/download", expect=409)
    assert error_of(resp)["code"] == "not_ready"


@pytest.mark.contract("exports.cancel", "pipeline.exports")
def test_cancelling_a_running_export_ends_cancelled_with_no_object_left(api: Any, shared_user: Any,
                                                                         exports: Any, s3: Any) -> None:
    me = api.as_user(shared_user)
    ex = exports.create(shared_user, "AAPL", *DAY)
    exports.wait(shared_user, ex["id"], statuses=("running",))
    cancelled = me.delete(f"/exports/{ex['id']}", expect=200).json()
    assert cancelled["status"] == "cancelled" and cancelled["object_key"] is None
    # The worker runs one export at a time: once a later one has succeeded, it is done with ours.
    follower = exports.create(shared_user, "AAPL", "2026-01-05T14:30:00Z", "2026-01-05T14:31:00Z")
    exports.wait(shared_user, follower["id"])
    assert me.get(f"/exports/{ex['id']}", expect=200).json()["status"] == "cancelled"
    assert not exists(s3, EXPORTS_BUCKET, f"exports/{ex['id']}.csv"), "the cancelled export left its file"
    assert error_of(me.get(f"/exports/{ex['id']}/download", expect=409))["code"] == "not_ready"


@pytest.mark.contract("exports.events", "exports.cancel")
def test_cancelled_export_event_stream_ends_with_cancelled(api: Any, shared_user: Any, exports: Any,
                                                           endpoints: Any) -> None:
    ex = exports.create(shared_user, "AAPL", *DAY)
    api.as_user(shared_user).delete(f"/exports/{ex['id']}", expect=200)
    _resp, events = sse.read(f"{endpoints.api_url}/exports/{ex['id']}/events", shared_user.access_token)
    assert [e.json()["status"] for e in events][-1:] == ["cancelled"]


@pytest.mark.contract("exports.cancel")
def test_deleting_a_finished_export_removes_its_object(api: Any, shared_user: Any, exports: Any,
                                                       s3: Any) -> None:
    me = api.as_user(shared_user)
    ex = exports.create(shared_user, "NVDA", "2026-01-05T15:00:00Z", "2026-01-05T15:05:00Z")
    done = exports.wait(shared_user, ex["id"])
    assert exists(s3, EXPORTS_BUCKET, done["object_key"]), "a succeeded export has its file in the bucket"
    deleted = me.delete(f"/exports/{ex['id']}", expect=200).json()
    assert deleted["status"] == "succeeded" and deleted["object_key"] is None
    assert not exists(s3, EXPORTS_BUCKET, done["object_key"])
    assert error_of(me.get(f"/exports/{ex['id']}/download", expect=404))["code"] == "not_found"


@pytest.mark.contract("exports.list")
def test_exports_are_listed_newest_first(api: Any, shared_user: Any, exports: Any) -> None:
    made = [exports.create(shared_user, "AMD", "2026-01-05T14:30:00Z", "2026-01-05T14:31:00Z")["id"]
            for _ in range(3)]
    listed = [e["id"] for e in api.as_user(shared_user).get("/exports", expect=200).json()]
    assert [i for i in listed if i in made] == made[::-1]


@pytest.mark.contract("exports.events")
def test_finished_export_stream_sends_its_final_state_once_and_ends(shared_user: Any, exports: Any,
                                                                    endpoints: Any) -> None:
    ex = exports.create(shared_user, "AMD", "2026-01-05T14:30:00Z", "2026-01-05T14:31:00Z")
    done = exports.wait(shared_user, ex["id"])
    url = f"{endpoints.api_url}/exports/{ex['id']}/events"
    _resp, events = sse.read(url, shared_user.access_token, timeout=5)
    assert [e.json() for e in events] == [done]

