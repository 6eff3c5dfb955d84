"""The live feed and the rate limit when the network, not a process, fails (the fault proxy in
front of ``api`` and ``redis``; compose/CONTRACT.md feed.resume, redis.fail_open).

A feed whose connection is reset resumes with ``since`` and misses nothing; with Redis
blackholed (connections accepted, never answered) reads still answer within a bound: the
limiter times out on Redis and lets the request through rather than hang.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from backend_e2e.feed import Feed, consecutive, open_feed
from e2e_shared.waits import Poll, wait_until

pytestmark = [pytest.mark.resilience]
SYMBOL = "NVDA"
READ_BOUND_S = 3.0  # a read with Redis unreachable: the limiter's timeouts, never a hang


def _has_all(ids: set[str]) -> Any:
    return lambda messages: ids <= {m.get("trade_id") for m in messages}


def _wait_landed(db: Any, key: str, timeout: float = 30.0) -> dict[str, Any]:
    """The landing_files row of ``key`` once the worker is done with it (loaded or rejected)."""
    def done() -> Poll:
        with db.connect() as conn:
            row = conn.execute(sa.text("SELECT status, rows_new FROM landing_files WHERE key = :k"),
                               {"k": key}).mappings().first()
        return Poll(row is not None and row["status"] != "pending", row and dict(row))

    return wait_until(done, what=f"landing file {key} to be loaded", timeout=timeout, interval=0.1)


def _stored(db: Any, symbol: str, after: int, upto: int) -> list[tuple[int, str]]:
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.text("SELECT seq, trade_id FROM trades WHERE symbol = :s AND seq > :a AND seq <= :u"
                    " ORDER BY seq"), {"s": symbol, "a": after, "u": upto}).all()]


@pytest.mark.contract("feed.resume")
def test_a_feed_client_sees_sequences_without_gaps_across_a_forced_reconnect(
        api: Any, users: Any, trade_files: Any, db: Any, faults: Any) -> None:
    user = users.create("feedcut")
    first = trade_files.build(20, symbols=(SYMBOL,))
    during = trade_files.build(30, symbols=(SYMBOL,))
    feed = open_feed(api.base_url, [SYMBOL], user.access_token)
    resumed: Feed | None = None
    try:
        trade_files.upload(user, first)
        feed.collect(_has_all({r["trade_id"] for r in first.valid}), timeout=30,
                     what="the first file's trades")
        faults.cut("api")
        closed = feed.wait_closed(timeout=10)
        assert closed is not None, "the feed stayed open for 10 s after its connection was reset"
        # Loaded without the API: straight into the landing bucket, as an upstream system would.
        landed = _wait_landed(db, trade_files.put(during))
        assert (landed["status"], landed["rows_new"]) == ("loaded", 30), landed
        faults.restore("api")
        last = feed.trades(SYMBOL)[-1]["seq"]
        resumed = open_feed(api.base_url, [SYMBOL], user.access_token, since={SYMBOL: last})
        resumed.collect(_has_all({r["trade_id"] for r in during.valid}), timeout=30,
                        what="the trades loaded while cut, after the reconnect")
    finally:
        feed.close()
        if resumed is not None:
            resumed.close()
    received = [(m["seq"], m["trade_id"]) for m in feed.trades(SYMBOL) + resumed.trades(SYMBOL)]
    seqs = [s for s, _ in received]
    assert len(seqs) == len(set(seqs)), f"a seq came twice across the reconnect: {seqs}"
    assert seqs[0] == feed.ready["symbols"][SYMBOL] + 1 and consecutive(seqs), seqs
    # What the client pieced together is exactly what the database numbered, in order.
    assert received == _stored(db, SYMBOL, seqs[0] - 1, seqs[-1])


@pytest.mark.contract("redis.fail_open")
def test_with_redis_blackholed_reads_still_answer_within_a_bound(api: Any, users: Any,
                                                                 faults: Any) -> None:
    me = api.as_user(users.create("blackhole"))
    assert me.get("/symbols").status_code == 200  # the limiter's pooled connection is open
    faults.blackhole("redis")
    took: dict[str, float] = {}
    for path, params in (("/symbols", None), ("/trades/latest", {"symbol": SYMBOL}), ("/auth/me", None)):
        t0 = time.monotonic()
        try:
            resp = me.get(path, params=params, timeout=READ_BOUND_S * 5)
        except requests.Timeout:
            pytest.fail(f"GET {path} hung with Redis blackholed (no answer in {READ_BOUND_S * 5:.0f} s)",
                        pytrace=False)
        took[path] = round(time.monotonic() - t0, 2)
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:200]}"
    print(f"reads with Redis blackholed: {took}")
    assert max(took.values()) < READ_BOUND_S, f"reads slower than {READ_BOUND_S} s: {took}"
    faults.restore("redis")
    t0 = time.monotonic()
    assert me.get("/symbols").status_code == 200
    assert time.monotonic() - t0 < READ_BOUND_S
