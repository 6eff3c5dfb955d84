"""Export jobs: created here, run by the worker (see exports.py), followed over SSE."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection, text
from starlette.concurrency import run_in_threadpool

from .. import db, storage
from ..deps import Ctx, SseUser, User, parse_id
from ..errors import ApiError, not_found, validation
from ..formats import iso
from .market import known_symbol, parse_time

router = APIRouter(prefix="/exports", tags=["exports"])
TERMINAL = ("succeeded", "failed", "cancelled")
_COLUMNS = ("id, symbol, from_ts, to_ts, status, progress, row_count, object_key, error,"
            " created_at, started_at, finished_at")


class ExportBody(BaseModel):
    symbol: str = Field(min_length=1, max_length=32)
    from_: str = Field(alias="from", max_length=64)
    to: str = Field(max_length=64)


def object_key(export_id: str) -> str:
    return f"exports/{export_id}.csv"


def export_json(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "symbol": row.symbol, "from": iso(row.from_ts),
            "to": iso(row.to_ts), "status": row.status, "progress": row.progress,
            "rows": row.row_count, "object_key": row.object_key, "error": row.error,
            "created_at": iso(row.created_at), "started_at": iso(row.started_at),
            "finished_at": iso(row.finished_at)}


def _load(conn: Connection, user_id: str, export_id: str, *, lock: bool = False) -> Any:
    row = conn.execute(text(
        f"SELECT {_COLUMNS} FROM exports WHERE id = :id AND user_id = :uid"
        + (" FOR UPDATE" if lock else "")), {"id": export_id, "uid": user_id}).first()
    if row is None:
        raise not_found("export")
    return row


@router.post("", status_code=202)
def create_export(body: ExportBody, user: User,
                  ctx: Ctx) -> dict[str, Any]:
    start = parse_time(body.from_, "from", "body")
    end = parse_time(body.to, "to", "body")
    if start is None or end is None:
        raise validation("from and to are required", "from")
    if start >= end:
        raise validation("from must be before to", "from")
    with ctx.engine.begin() as conn:
        symbol = known_symbol(conn, body.symbol)
        new_id = conn.execute(text(
            "INSERT INTO exports (user_id, symbol, from_ts, to_ts)"
            " VALUES (:uid, :s, :f, :t) RETURNING id"),
            {"uid": user.user_id, "s": symbol, "f": start, "t": end}).scalar_one()
        return export_json(_load(conn, user.user_id, str(new_id)))


@router.get("")
def list_exports(user: User,
                 ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        found = conn.execute(text(
            f"SELECT {_COLUMNS} FROM exports WHERE user_id = :uid"
            " ORDER BY created_at DESC, id DESC"), {"uid": user.user_id}).all()
    return [export_json(r) for r in found]


@router.get("/{export_id}")
def get_export(export_id: str, user: User,
               ctx: Ctx) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        return export_json(_load(conn, user.user_id, parse_id(export_id, "export")))


@router.get("/{export_id}/events")
def export_events(export_id: str, user: SseUser,
                  ctx: Ctx) -> StreamingResponse:
    eid = parse_id(export_id, "export")
    with ctx.engine.connect() as conn:
        _load(conn, user.user_id, eid)  # 404 before the stream starts

    def fetch() -> dict[str, Any] | None:
        with ctx.engine.connect() as conn:
            row = conn.execute(text(f"SELECT {_COLUMNS} FROM exports WHERE id = :id"),
                               {"id": eid}).first()
        return export_json(row) if row is not None else None

    async def stream() -> Any:
        last: tuple[str, int] | None = None
        quiet_since = time.monotonic()
        while True:  # Starlette cancels this generator when the client goes away
            try:
                current = await run_in_threadpool(fetch)
            except Exception as err:  # a database blip: keep the stream, try again
                if not db.is_unavailable(err):
                    raise
                await asyncio.sleep(0.5)
                continue
            if current is None:  # deleted under us (a data reset)
                return
            state = (current["status"], current["progress"])
            if state != last:
                last, quiet_since = state, time.monotonic()
                yield f"event: status\ndata: {json.dumps(current)}\n\n"
            if current["status"] in TERMINAL:
                return
            if time.monotonic() - quiet_since > 10:  # keep proxies from timing out
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.05)  # finer than the default export pacing

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/{export_id}/download")
def download_export(export_id: str, user: User,
                    ctx: Ctx) -> StreamingResponse:
    eid = parse_id(export_id, "export")
    with ctx.engine.connect() as conn:
        row = _load(conn, user.user_id, eid)
    if row.status != "succeeded":
        raise ApiError(409, "not_ready", f"the export is {row.status}, not succeeded")
    if row.object_key is None:
        raise not_found("export file (it was removed)")
    try:
        body = ctx.storage.open(ctx.storage.exports, row.object_key)
    except Exception as err:
        if storage.is_missing(err):
            raise not_found("export file") from None
        raise
    return StreamingResponse(
        body.iter_chunks(64 * 1024), media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="export-{eid}.csv"'})


@router.delete("/{export_id}")
def delete_export(export_id: str, user: User,
                  ctx: Ctx) -> dict[str, Any]:
    eid = parse_id(export_id, "export")
    with ctx.engine.begin() as conn:
        row = _load(conn, user.user_id, eid, lock=True)
        if row.status in ("queued", "running"):
            conn.execute(text(
                "UPDATE exports SET status = 'cancelled', finished_at = now(), object_key = NULL"
                " WHERE id = :id"), {"id": eid})
        else:
            conn.execute(text("UPDATE exports SET object_key = NULL WHERE id = :id"),
                         {"id": eid})
        # Inside the transaction: if the store is away, nothing changes and the client
        # gets a 503. The worker removes anything it writes after this (see exports.py).
        ctx.storage.delete(ctx.storage.exports, object_key(eid))
        return export_json(_load(conn, user.user_id, eid))
