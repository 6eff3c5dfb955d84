"""The live feed's handshake: a valid one gets ``ready`` with the symbols' last seq; a bad token or
a bad request is closed with its code (compose/CONTRACT.md feed.handshake)."""

from __future__ import annotations

from typing import Any

import pytest

from backend_e2e import tokens
from backend_e2e.feed import close_of, open_feed

pytestmark = [pytest.mark.smoke, pytest.mark.contract("feed.handshake")]


def _token(kind: str, world: Any, expired_token: str) -> str | None:
    return {"missing": None, "malformed": tokens.MALFORMED,
            "forged": tokens.forged(world.user.access_token, exp=2_000_000_000),
            "refresh": world.fresh_login()["refresh_token"],
            "expired": expired_token}[kind]


@pytest.mark.parametrize("kind", ["missing", "malformed", "forged", "refresh", "expired"])
def test_feed_without_a_valid_access_token_is_closed_4401(kind: str, world: Any, api: Any,
                                                          expired_token: str) -> None:
    closed = close_of(api.base_url, ["AAPL"], _token(kind, world, expired_token))
    assert (closed.code, closed.reason) == (4401, "unauthorized")


def test_feed_of_a_logged_out_session_is_closed_4401(world: Any, api: Any) -> None:
    token = world.fresh_login()["access_token"]
    api.with_token(token).post("/auth/logout", expect=204)
    closed = close_of(api.base_url, ["AAPL"], token)
    assert (closed.code, closed.reason) == (4401, "unauthorized")


@pytest.mark.parametrize(("symbols", "extra", "reason"), [
    ([], {}, "symbols is required"),
    (["NOPE"], {}, "unknown symbol NOPE"),
    (["AAPL", "NOPE"], {}, "unknown symbol NOPE"),
    ([f"S{i}" for i in range(21)], {}, "at most 20 symbols"),
    (["AAPL"], {"since": "AAPL:x"}, "malformed since"),
    (["AAPL"], {"since": "MSFT:3"}, "malformed since"),
    (["AAPL"], {"since": "AAPL:-1"}, "malformed since"),
], ids=["no-symbols", "unknown", "one-unknown", "21-symbols", "since-not-a-number",
        "since-other-symbol", "since-negative"])
def test_feed_with_a_bad_request_is_closed_4400_naming_it(symbols: list[str], extra: dict[str, str],
                                                          reason: str, world: Any, api: Any) -> None:
    closed = close_of(api.base_url, symbols, world.user.access_token, **extra)
    assert (closed.code, closed.reason) == (4400, reason)


@pytest.mark.contract("feed.order", "market.trades_latest")
def test_feed_is_ready_with_the_last_seq_that_trades_latest_gives(world: Any, api: Any) -> None:
    me = api.as_user(world.user)
    before = {s: me.get("/trades/latest", params={"symbol": s, "limit": 1}, expect=200).json()["last_seq"]
              for s in ("AAPL", "MSFT")}
    feed = open_feed(api.base_url, ["AAPL", "MSFT"], world.user.access_token)
    try:
        ready = feed.ready["symbols"]
    finally:
        feed.close()
    assert set(ready) == {"AAPL", "MSFT"}
    # Other runs may load trades meanwhile: the feed's view is never older than the REST one.
    assert all(ready[s] >= before[s] >= 0 for s in before), (ready, before)
    latest = me.get("/trades/latest", params={"symbol": "AAPL", "limit": 500}, expect=200).json()
    assert all(t["seq"] <= latest["last_seq"] for t in latest["trades"])
    assert len({t["seq"] for t in latest["trades"]}) == len(latest["trades"])
