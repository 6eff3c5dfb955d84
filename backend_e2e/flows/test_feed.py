"""The live feed end to end: uploads reach open feeds in seq order without gaps, a reconnect with
``since`` gets exactly what it missed, logout and token expiry close feeds, and many clients see
the same stream (compose/CONTRACT.md feed.*). Other runs load trades meanwhile: each test checks
the whole stream of its symbols and finds its own trades by id."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from backend_e2e.feed import Feed, consecutive, open_feed

pytestmark = [pytest.mark.flow]


@pytest.fixture
def api2_url(endpoints: Any) -> str:
    return endpoints.url("api2_url")


def _has_all(ids: set[str]) -> Any:
    return lambda messages: ids <= {m.get("trade_id") for m in messages}


def _seqs(feed: Feed, symbol: str) -> list[int]:
    return [m["seq"] for m in feed.trades(symbol)]


@pytest.mark.contract("feed.order", "feed.seq")
def test_uploaded_trades_arrive_in_seq_order_without_gaps(api: Any, users: Any, trade_files: Any,
                                                         db: Any) -> None:
    user = users.create("feed")
    symbols = ("AMD", "NFLX")
    feed = open_feed(api.base_url, symbols, user.access_token)
    try:
        tf = trade_files.build(60, symbols=symbols)
        trade_files.upload(user, tf)
        mine = {r["trade_id"] for r in tf.valid}
        feed.collect(_has_all(mine), timeout=30, what="the uploaded trades to arrive on the feed")
    finally:
        feed.close()
    sent = {r["trade_id"]: r for r in tf.valid}
    for symbol in symbols:
        seqs = _seqs(feed, symbol)
        assert seqs[0] == feed.ready["symbols"][symbol] + 1, (feed.ready, seqs[:5])
        assert consecutive(seqs), seqs
        got = [m for m in feed.trades(symbol) if m["trade_id"] in sent]
        # One load's trades of a symbol are one block, numbered in (time, trade id) order.
        assert consecutive([m["seq"] for m in got]), [m["seq"] for m in got]
        assert [m["trade_id"] for m in got] == [
            r["trade_id"] for r in sorted((sent[m["trade_id"]] for m in got),
                                          key=lambda r: (r["ts"], r["trade_id"]))]
        for m in got:
            row = sent[m["trade_id"]]
            assert (Decimal(m["price"]), Decimal(m["quantity"])) == \
                (Decimal(row["price"]), Decimal(row["quantity"])), m
    with db.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT trade_id, seq FROM trades WHERE trade_id = ANY(:ids)"),
                                   {"ids": sorted(mine)}).all())
    assert {m["trade_id"]: m["seq"] for m in feed.trades() if m["trade_id"] in mine} == stored


@pytest.mark.contract("feed.resume")
def test_reconnecting_with_since_gets_exactly_the_missed_trades_once(api: Any, users: Any,
                                                                    trade_files: Any) -> None:
    user = users.create("resume")
    symbol = "INTC"
    first = trade_files.build(20, symbols=(symbol,))
    missed = trade_files.build(30, symbols=(symbol,))
    feed = open_feed(api.base_url, [symbol], user.access_token)
    try:
        trade_files.upload(user, first)
        feed.collect(_has_all({r["trade_id"] for r in first.valid}), timeout=30,
                     what="the first file's trades")
    finally:
        feed.close()
    last = _seqs(feed, symbol)[-1]
    trade_files.upload(user, missed)  # while no feed is open
    trade_files.wait_loaded(user, missed)
    again = open_feed(api.base_url, [symbol], user.access_token, since={symbol: last})
    try:
        again.collect(_has_all({r["trade_id"] for r in missed.valid}), timeout=30,
                      what="the missed trades after reconnecting with since")
    finally:
        again.close()
    seqs = _seqs(again, symbol)
    assert seqs[0] == last + 1 and consecutive(seqs), (last, seqs)
    ids = [m["trade_id"] for m in again.trades()]
    assert len(ids) == len(set(ids)), "a trade was sent twice"
    assert not {r["trade_id"] for r in first.valid} & set(ids), "a trade the client had came again"


@pytest.mark.contract("feed.logout", "auth.logout")
def test_logout_closes_every_feed_of_the_session_on_both_api_processes(api: Any, users: Any,
                                                                      api2_url: str) -> None:
    user = users.create("logout")
    token = user.access_token
    on_api = open_feed(api.base_url, ["AAPL"], token)
    on_api2 = open_feed(api2_url, ["AAPL"], token)
    second = api.post("/auth/login", json={"email": user.email, "password": user.password},
                      expect=200).json()["access_token"]
    other = open_feed(api2_url, ["AAPL"], second)  # another session of the same user
    try:
        api.with_token(token).post("/auth/logout", expect=204)
        closed = [on_api.wait_closed(10), on_api2.wait_closed(10)]
        assert [(c.code, c.reason) if c else None for c in closed] == [(4401, "unauthorized")] * 2
        assert other.closed is None and other.receive(0.5) is None and other.closed is None, \
            f"the other session's feed was closed: {other.closed}"
    finally:
        for feed in (on_api, on_api2, other):
            feed.close()


@pytest.mark.contract("feed.token_expiry")
def test_feed_is_closed_4401_when_its_access_token_expires(api: Any, users: Any) -> None:
    user = users.create("expiry", login=False)
    token = api.post("/auth/login", json={"email": user.email, "password": user.password,
                                          "ttl_seconds": 3}, expect=200).json()["access_token"]
    opened = time.monotonic()
    feed = open_feed(api.base_url, ["MSFT"], token)
    try:
        closed = feed.wait_closed(15)
    finally:
        feed.close()
    assert closed is not None and (closed.code, closed.reason) == (4401, "unauthorized"), closed
    assert time.monotonic() - opened >= 1.5, "closed long before the token expired"


@pytest.mark.contract("feed.fanout")
def test_fifty_clients_at_once_get_the_same_trades_in_the_same_order(api: Any, users: Any, trade_files: Any,
                                                                    api2_url: str) -> None:
    user = users.create("flood")
    symbols = ("TSLA", "GOOG")
    urls = [api.base_url, api2_url]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        feeds = list(pool.map(lambda i: open_feed(urls[i % 2], symbols, user.access_token, timeout=30),
                              range(50)))
        try:
            opened = time.monotonic() - started
            tf = trade_files.build(40, symbols=symbols)
            trade_files.upload(user, tf)
            mine = {r["trade_id"] for r in tf.valid}
            list(pool.map(lambda f: f.collect(_has_all(mine), timeout=45, what="the trades on every feed"),
                          feeds))
        finally:
            for feed in feeds:
                feed.close()
    took = time.monotonic() - started
    streams = [[(m["symbol"], m["seq"], m["trade_id"]) for m in f.trades() if m["trade_id"] in mine]
               for f in feeds]
    assert all(s == streams[0] for s in streams), "the feeds disagree"
    assert len(streams[0]) == len(mine)
    for feed in feeds:
        for symbol in symbols:
            assert consecutive(_seqs(feed, symbol)), _seqs(feed, symbol)
    assert opened < 30 and took < 75, f"50 feeds opened in {opened:.1f} s, all served in {took:.1f} s"
