"""The live feed's pure parts: request parsing, the message format, the per-socket queue bound,
and the log filter that keeps tokens out of uvicorn's WebSocket lines."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeboard import feed, limits, logs
from tradeboard.livefeed import Hub, Subscriber


@dataclass
class Row:
    symbol: str = "AAPL"
    seq: int = 7
    trade_id: str = "t-1"
    price: Decimal = Decimal("101.2500")
    quantity: Decimal = Decimal("3")
    ts: datetime = datetime(2026, 11, 30, 0, 0, 0, 123456, tzinfo=UTC)


def test_trade_message_has_decimal_strings_and_a_utc_time() -> None:
    assert feed.trade_message(Row()) == {
        "type": "trade", "symbol": "AAPL", "seq": 7, "trade_id": "t-1", "price": "101.25",
        "quantity": "3", "traded_at": "2026-11-30T00:00:00.123456Z"}


def test_symbols_are_normalised_and_deduplicated_in_order() -> None:
    assert feed.parse_symbols(" msft,AAPL,msft ") == ["MSFT", "AAPL"]


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "symbols is required"), (" , ", "symbols is required"),
    (",".join(f"S{i}" for i in range(21)), "at most 20 symbols"), ("AA PL", "unknown symbol AA PL"),
])
def test_bad_symbols_are_refused_with_their_reason(raw: str | None, reason: str) -> None:
    with pytest.raises(feed.FeedRequestError, match=reason):
        feed.parse_symbols(raw)


def test_twenty_symbols_are_accepted() -> None:
    assert len(feed.parse_symbols(",".join(f"S{i}" for i in range(20)))) == 20


def test_since_gives_the_last_seq_per_symbol() -> None:
    assert feed.parse_since("aapl:12, MSFT:0", ["AAPL", "MSFT"]) == {"AAPL": 12, "MSFT": 0}
    assert feed.parse_since(None, ["AAPL"]) == {}


@pytest.mark.parametrize("raw", ["AAPL", "AAPL:x", "AAPL:-1", "NVDA:3", "AAPL:1.5"])
def test_malformed_since_is_refused(raw: str) -> None:
    with pytest.raises(feed.FeedRequestError, match="malformed since"):
        feed.parse_since(raw, ["AAPL", "MSFT"])


class FakePipe:
    def __init__(self, sink: list[tuple[str, str]]) -> None:
        self.sink = sink
        self.pending: list[tuple[str, str]] = []

    def publish(self, channel: str, message: str) -> None:
        self.pending.append((channel, message))

    def execute(self) -> None:
        self.sink.extend(self.pending)
        self.pending.clear()


class FakeRedis:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def pipeline(self, transaction: bool = True) -> FakePipe:
        return FakePipe(self.sent)


def test_publish_sends_each_trade_on_its_symbols_channel() -> None:
    client = FakeRedis()
    rows = [Row(seq=i, symbol=s) for i, s in enumerate(["AAPL", "MSFT", "AAPL"], start=1)]
    assert feed.publish_trades(client, rows, batch=2) == 3
    assert [c for c, _ in client.sent] == ["tb:trades:AAPL", "tb:trades:MSFT", "tb:trades:AAPL"]


def test_a_slow_subscriber_is_closed_1008_instead_of_queueing_without_bound() -> None:
    async def run() -> tuple[int, tuple[int, str] | None]:
        sub = Subscriber(["AAPL"], "s1", limit=3)
        for seq in range(1, 10):
            sub.offer({"type": "trade", "symbol": "AAPL", "seq": seq})
        return sub.queue.qsize(), sub.closing

    size, closing = asyncio.run(run())
    assert closing == (1008, "too slow to keep up")
    assert size == 4  # three trades and the close


def test_dispatch_fans_trades_out_by_symbol_and_logout_by_session() -> None:
    async def run() -> tuple[list[str], list[str], tuple[int, str] | None, tuple[int, str] | None]:
        hub = Hub("redis://unused")
        a, b = Subscriber(["AAPL"], "s1"), Subscriber(["MSFT"], "s2")
        hub.add(a)
        hub.add(b)
        hub._dispatch({"channel": b"tb:trades:AAPL",
                       "data": b'{"type":"trade","symbol":"AAPL","seq":1}'})
        hub._dispatch({"channel": b"tb:sessions", "data": b'{"type":"logout","session_id":"s2"}'})
        hub._dispatch({"channel": b"tb:trades:AAPL", "data": b"not json"})
        kinds_a = [a.queue.get_nowait()[0] for _ in range(a.queue.qsize())]
        kinds_b = [b.queue.get_nowait()[0] for _ in range(b.queue.qsize())]
        return kinds_a, kinds_b, a.closing, b.closing

    kinds_a, kinds_b, closing_a, closing_b = asyncio.run(run())
    assert (kinds_a, closing_a) == (["trade"], None)
    assert (kinds_b, closing_b) == (["close"], (4401, "unauthorized"))


@pytest.mark.parametrize(("ms", "seconds"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (0, 1)])
def test_retry_after_is_whole_seconds_rounded_up(ms: int, seconds: int) -> None:
    assert limits.seconds_left(ms) == seconds


def test_uvicorns_websocket_lines_with_the_token_are_dropped() -> None:
    keep = logs.NoWebSocketQuery()

    def record(msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)

    assert not keep.filter(record('%s - "WebSocket %s" [accepted]', "127.0.0.1:1",
                                  "/ws/trades?token=secret"))
    assert not keep.filter(record("connection open"))
    assert keep.filter(record("Started server process [%d]", 1))
