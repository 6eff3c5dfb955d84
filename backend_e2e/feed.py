"""A small client of the live feed (``/ws/trades``, compose/CONTRACT.md feed.*) for the tests:
open a feed, read its messages with deadlines, and see how the server closed it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


def feed_url(api_url: str, symbols: Iterable[str], token: str | None,
             since: dict[str, int] | str | None = None) -> str:
    """The feed's URL; ``since`` as {symbol: seq}, or as raw text (to send a malformed one)."""
    params: dict[str, str] = {"symbols": ",".join(symbols)}
    if token is not None:
        params["token"] = token
    if isinstance(since, str):
        params["since"] = since
    elif since:
        params["since"] = ",".join(f"{s}:{n}" for s, n in since.items())
    base = api_url.replace("https://", "wss://").replace("http://", "ws://").rstrip("/")
    return f"{base}/ws/trades?{urlencode(params, safe=',:')}"


@dataclass
class Closed:
    code: int | None
    reason: str


@dataclass
class Feed:
    """An open feed. ``messages`` keeps everything received after ``ready``."""

    conn: ClientConnection
    ready: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    closed: Closed | None = None

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when none came within ``timeout`` or the feed closed."""
        if self.closed is not None:
            return None
        try:
            raw = self.conn.recv(timeout=max(0.0, timeout))
        except TimeoutError:
            return None
        except ConnectionClosed as err:
            self.closed = _closed(err)
            return None
        message = json.loads(raw)
        self.messages.append(message)
        return message

    def collect(self, done: Callable[[list[dict[str, Any]]], bool], *, timeout: float,
                what: str) -> list[dict[str, Any]]:
        """Receive until ``done(messages)``; AssertionError naming ``what`` at the deadline."""
        deadline = time.monotonic() + timeout
        while not done(self.messages):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed is not None:
                raise AssertionError(f"{what}: not within {timeout} s (closed: {self.closed}; "
                                     f"{len(self.messages)} messages, last "
                                     f"{self.messages[-3:]})")
            self.receive(min(left, 1.0))
        return self.messages

    def wait_closed(self, timeout: float) -> Closed | None:
        """How the server closed the feed, or None if it stayed open for ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self.closed is None and time.monotonic() < deadline:
            self.receive(deadline - time.monotonic())
        return self.closed

    def trades(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "trade"
                and (symbol is None or m["symbol"] == symbol)]

    def close(self) -> None:
        self.conn.close()


def _closed(err: ConnectionClosed) -> Closed:
    frame = err.rcvd
    return Closed(frame.code if frame else None, frame.reason if frame else "")


def open_feed(api_url: str, symbols: Iterable[str], token: str | None, *,
              since: dict[str, int] | None = None, timeout: float = 10.0) -> Feed:
    """Open a feed and wait for its ``ready``; AssertionError when it closes instead."""
    # Entered by hand: a Feed outlives this call and is closed by its owner (websockets 17
    # warns about a connection that was never entered).
    conn = connect(feed_url(api_url, symbols, token, since), open_timeout=timeout,
                   close_timeout=2, max_size=2**22).__enter__()
    try:
        first = json.loads(conn.recv(timeout=timeout))
    except ConnectionClosed as err:
        conn.close()
        raise AssertionError(f"the feed closed instead of getting ready: {_closed(err)}") from None
    except TimeoutError:
        conn.close()
        raise AssertionError(f"no ready message within {timeout} s") from None
    assert first.get("type") == "ready", first
    return Feed(conn, first)


def close_of(api_url: str, symbols: Iterable[str], token: str | None, *,
             since: str | None = None, timeout: float = 10.0) -> Closed:
    """Open a feed that the server must refuse: how it closed it (AssertionError when it sent
    a message instead, or stayed open)."""
    with connect(feed_url(api_url, symbols, token, since), open_timeout=timeout,
                 close_timeout=2) as conn:
        try:
            message = conn.recv(timeout=timeout)
        except ConnectionClosed as err:
            return _closed(err)
        except TimeoutError:
            raise AssertionError(f"the feed stayed open for {timeout} s") from None
    raise AssertionError(f"the feed was not refused; it sent {message[:200]}")


def consecutive(seqs: list[int]) -> bool:
    return all(b == a + 1 for a, b in zip(seqs, seqs[1:], strict=False))
