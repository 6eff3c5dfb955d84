"""The API's side of the live feed: one Redis subscription per process, fanned out to the
process's WebSocket clients through a bounded queue each (compose/CONTRACT.md, feed.*).

The subscription (``tb:trades:*`` and ``tb:sessions``) reconnects by itself with backoff; each
time it is (re)established every open feed is told to catch up from the database, so trades
published while it was away are still delivered, in order, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from . import feed

log = logging.getLogger("tradeboard.feed")
QUEUE_LIMIT = 2000  # messages waiting for one client; beyond it the client is too slow: 1008


class Subscriber:
    """One open feed: what it wants and the queue its handler reads.

    Items: ``("trade", message)``, ``("catchup", None)``, ``("close", None)`` (see ``closing``).
    """

    def __init__(self, symbols: list[str], session_id: str, limit: int = QUEUE_LIMIT) -> None:
        self.symbols = frozenset(symbols)
        self.session_id = session_id
        self.limit = limit
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.closing: tuple[int, str] | None = None

    def offer(self, message: dict[str, Any]) -> None:
        if self.closing is not None:
            return
        if self.queue.qsize() >= self.limit:  # never let a slow client grow memory
            self.close(1008, "too slow to keep up")
            return
        self.queue.put_nowait(("trade", message))

    def catch_up(self) -> None:
        if self.closing is None:
            self.queue.put_nowait(("catchup", None))

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.queue.put_nowait(("close", None))


class Hub:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.subscribers: set[Subscriber] = set()
        self.connected = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="feed-subscription")

    async def stop(self) -> None:
        for sub in list(self.subscribers):
            sub.close(1012, "service restart")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # on the way out
                await self._task

    def add(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    # --- from other threads (sync routes) ------------------------------------------------------

    def logout_local(self, session_id: str) -> None:
        """Close this process's feeds of a session now, even when Redis is away (the
        broadcast reaches the other processes; repeating it here is harmless)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._logout, session_id)

    # --- the subscription ----------------------------------------------------------------------

    async def _run(self) -> None:
        import redis.asyncio as aioredis

        delay = 0.2
        while True:
            client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=2,
                                             health_check_interval=5)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(feed.TRADES_PATTERN)
                await pubsub.subscribe(feed.SESSIONS_CHANNEL)
                self.connected.set()
                log.info("feed: subscribed to %s and %s (%d open feeds catch up)",
                         feed.TRADES_PATTERN, feed.SESSIONS_CHANNEL, len(self.subscribers))
                delay = 0.2
                # Whatever was published while we were not subscribed comes from the database.
                for sub in list(self.subscribers):
                    sub.catch_up()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=1.0)
                    if message is not None:
                        self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - never crash the API: retry with backoff
                was = self.connected.is_set()
                self.connected.clear()
                (log.warning if was else log.info)(
                    "feed: Redis subscription lost (%s: %s); retrying in %.1f s",
                    type(err).__name__, str(err).splitlines()[0][:200] if str(err) else "",
                    delay)
                await asyncio.sleep(delay)  # poll: backoff between reconnect attempts
                delay = min(delay * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: BLE001, S110 - the connection is already gone
                    pass

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = _text(message.get("channel"))
        try:
            data = json.loads(_text(message.get("data")))
        except (ValueError, TypeError):
            log.warning("feed: ignored a malformed message on %s", channel)
            return
        if channel == feed.SESSIONS_CHANNEL:
            if isinstance(data, dict) and data.get("type") == "logout":
                self._logout(str(data.get("session_id")))
            return
        if not isinstance(data, dict) or data.get("type") != "trade":
            return
        symbol = data.get("symbol")
        for sub in list(self.subscribers):
            if symbol in sub.symbols:
                sub.offer(data)

    def _logout(self, session_id: str) -> None:
        for sub in list(self.subscribers):
            if sub.session_id == session_id:
                sub.close(4401, "unauthorized")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
