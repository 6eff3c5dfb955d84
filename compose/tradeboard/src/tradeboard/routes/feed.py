"""``/ws/trades``: the live trade feed over WebSocket (compose/CONTRACT.md, feed.*)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from .. import auth, feed
from ..deps import Context, authenticate
from ..errors import ApiError
from ..livefeed import Hub, Subscriber

router = APIRouter(tags=["feed"])
log = logging.getLogger("tradeboard.feed")


def _known(ctx: Context, symbols: list[str]) -> set[str]:
    with ctx.engine.connect() as conn:
        return set(conn.execute(text("SELECT symbol FROM symbols WHERE symbol = ANY(:s)"),
                                {"s": symbols}).scalars())


def _last_seqs(ctx: Context, symbols: list[str]) -> dict[str, int]:
    with ctx.engine.connect() as conn:
        found = dict(conn.execute(text(
            "SELECT symbol, last_seq FROM symbol_sequences WHERE symbol = ANY(:s)"),
            {"s": symbols}).all())
    return {s: int(found.get(s, 0)) for s in symbols}


def _stored(ctx: Context, symbol: str, after: int, upto: int | None) -> tuple[list[Any], int]:
    """Up to MAX_BACKFILL + 1 stored trades with after < seq <= upto (None: no bound), and
    the symbol's last seq now."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT symbol, seq, trade_id, price, quantity, ts FROM trades"
            " WHERE symbol = :s AND seq > :after AND (CAST(:upto AS bigint) IS NULL"
            " OR seq <= :upto) ORDER BY seq LIMIT :n"),
            {"s": symbol, "after": after, "upto": upto, "n": feed.MAX_BACKFILL + 1}).all()
        last = conn.execute(text("SELECT last_seq FROM symbol_sequences WHERE symbol = :s"),
                            {"s": symbol}).scalar()
    return list(rows), int(last or 0)


class _Feed:
    """One connection's state: the last seq sent per symbol, and how to fill a gap."""

    def __init__(self, ws: WebSocket, ctx: Context, sent: dict[str, int]) -> None:
        self.ws = ws
        self.ctx = ctx
        self.sent = sent

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(feed.encode(message))

    async def fill(self, symbol: str, upto: int | None = None) -> None:
        """Send the stored trades after the last one sent (up to ``upto``), or a reset when
        more than MAX_BACKFILL are missing."""
        rows, last = await run_in_threadpool(_stored, self.ctx, symbol, self.sent[symbol], upto)
        if len(rows) > feed.MAX_BACKFILL:
            await self.send({"type": "reset", "symbol": symbol, "last_seq": last})
            self.sent[symbol] = last
            return
        for row in rows:
            await self.send(feed.trade_message(row))
            self.sent[symbol] = int(row.seq)

    async def deliver(self, message: dict[str, Any]) -> None:
        symbol, seq = message.get("symbol"), message.get("seq")
        if symbol not in self.sent or not isinstance(seq, int) or seq <= self.sent[symbol]:
            return  # already sent (a gap fill got there first) or not ours
        if seq > self.sent[symbol] + 1:  # a publish was lost: the database has it
            await self.fill(symbol, upto=seq - 1)
            if seq <= self.sent[symbol]:  # the fill was a reset past it
                return
        await self.send(message)
        self.sent[symbol] = seq


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        await ws.close(code=code, reason=reason)


async def _watch_client(ws: WebSocket, sub: Subscriber, gone: asyncio.Event) -> None:
    """Read (and ignore) what the client sends, to notice when it goes."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except Exception:  # noqa: BLE001, S110 - a broken connection is a disconnect
        pass
    gone.set()
    sub.close(1000, "client gone")


@router.websocket("/ws/trades")
async def trades_feed(ws: WebSocket) -> None:
    ctx: Context = ws.app.state.ctx
    hub: Hub = ws.app.state.hub
    await ws.accept()  # then validate: a browser sees close codes only after the handshake
    params = ws.query_params
    token = params.get("token")
    try:
        principal = await run_in_threadpool(authenticate, ctx, token)
        claims = auth.decode_token(ctx.settings.secret_key, token or "", expected="access")
    except (ApiError, auth.TokenError):
        await _close(ws, 4401, "unauthorized")
        return
    try:
        symbols = feed.parse_symbols(params.get("symbols"))
        since = feed.parse_since(params.get("since"), symbols)
    except feed.FeedRequestError as err:
        await _close(ws, 4400, str(err))
        return
    unknown = [s for s in symbols if s not in await run_in_threadpool(_known, ctx, symbols)]
    if unknown:
        await _close(ws, 4400, f"unknown symbol {unknown[0]}")
        return
    limiter = ws.app.state.limiter
    if await limiter.hit(principal.user_id) is not None:
        await _close(ws, 4429, "rate limited")
        return

    sub = Subscriber(symbols, principal.session_id)
    hub.add(sub)  # before reading the last seqs: nothing published after them is missed
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch_client(ws, sub, gone))
    try:
        last = await run_in_threadpool(_last_seqs, ctx, symbols)
        await ws.send_text(feed.encode({"type": "ready", "symbols": last}))
        conn = _Feed(ws, ctx, {s: since.get(s, last[s]) for s in symbols})
        for symbol in since:
            await conn.fill(symbol)
        while True:
            left = claims.exp - time.time()
            if left <= 0:
                await _close(ws, 4401, "unauthorized")  # the access token expired
                return
            try:
                kind, message = await asyncio.wait_for(sub.queue.get(), timeout=left)
            except TimeoutError:
                continue  # the loop's check closes it
            if kind == "trade":
                await conn.deliver(message)
            elif kind == "catchup":
                for symbol in symbols:
                    await conn.fill(symbol)
            else:
                if not gone.is_set() and sub.closing is not None:
                    await _close(ws, *sub.closing)
                return
    except WebSocketDisconnect:
        return
    except Exception as err:  # noqa: BLE001 - the client gets 1011, the log the detail
        if not gone.is_set():
            log.warning("feed: closing with 1011 (%s: %s)", type(err).__name__,
                        str(err).splitlines()[0][:200] if str(err) else "")
            await _close(ws, 1011, "internal error")
    finally:
        hub.remove(sub)
        watcher.cancel()
