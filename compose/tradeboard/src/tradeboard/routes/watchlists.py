"""Watchlists: per user, at most ten, names unique per user, symbols sorted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, text

from ..deps import Ctx, User, parse_id
from ..errors import ApiError, not_found
from ..formats import iso

router = APIRouter(prefix="/watchlists", tags=["watchlists"])
MAX_WATCHLISTS = 10

_SELECT = (
    "SELECT w.id, w.name, w.created_at, w.updated_at,"
    " coalesce(array_agg(ws.symbol ORDER BY ws.symbol) FILTER (WHERE ws.symbol IS NOT NULL),"
    " '{{}}') AS symbols"
    " FROM watchlists w LEFT JOIN watchlist_symbols ws ON ws.watchlist_id = w.id"
    " WHERE w.user_id = :uid {where} GROUP BY w.id ORDER BY w.created_at, w.id"
)


class NameBody(BaseModel):
    name: str = Field(max_length=200)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= 64:
            raise ValueError("name must be 1 to 64 characters")
        return value


class SymbolBody(BaseModel):
    symbol: str = Field(min_length=1, max_length=32)


def _json(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "name": row.name, "symbols": list(row.symbols),
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _load(conn: Connection, user_id: str, watchlist_id: str) -> dict[str, Any]:
    row = conn.execute(text(_SELECT.format(where="AND w.id = :id")),
                       {"uid": user_id, "id": watchlist_id}).first()
    if row is None:
        raise not_found("watchlist")
    return _json(row)


def _lock_user(conn: Connection, user_id: str) -> None:
    # Serialises one user's watchlist changes: the limit and name checks cannot race.
    conn.execute(text("SELECT 1 FROM users WHERE id = :uid FOR UPDATE"), {"uid": user_id})


def _name_taken(conn: Connection, user_id: str, name: str, except_id: str | None = None) -> bool:
    return conn.execute(text(
        "SELECT 1 FROM watchlists WHERE user_id = :uid AND name = :name"
        " AND id IS DISTINCT FROM CAST(:id AS uuid)"),
        {"uid": user_id, "name": name, "id": except_id}).first() is not None


@router.get("")
def list_watchlists(user: User,
                    ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(text(_SELECT.format(where="")), {"uid": user.user_id}).all()
    return [_json(r) for r in rows]


@router.post("", status_code=201)
def create_watchlist(body: NameBody, user: User,
                     ctx: Ctx) -> dict[str, Any]:
    with ctx.engine.begin() as conn:
        _lock_user(conn, user.user_id)
        count = conn.execute(text("SELECT count(*) FROM watchlists WHERE user_id = :uid"),
                             {"uid": user.user_id}).scalar_one()
        if count >= MAX_WATCHLISTS:
            raise ApiError(409, "watchlist_limit",
                           f"a user can have at most {MAX_WATCHLISTS} watchlists")
        if _name_taken(conn, user.user_id, body.name):
            raise ApiError(409, "conflict", f"a watchlist named {body.name!r} already exists")
        new_id = conn.execute(text(
            "INSERT INTO watchlists (user_id, name) VALUES (:uid, :name) RETURNING id"),
            {"uid": user.user_id, "name": body.name}).scalar_one()
        return _load(conn, user.user_id, str(new_id))


@router.get("/{watchlist_id}")
def get_watchlist(watchlist_id: str, user: User,
                  ctx: Ctx) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        return _load(conn, user.user_id, parse_id(watchlist_id, "watchlist"))


@router.patch("/{watchlist_id}")
def rename_watchlist(watchlist_id: str, body: NameBody, user: User,
                     ctx: Ctx) -> dict[str, Any]:
    wid = parse_id(watchlist_id, "watchlist")
    with ctx.engine.begin() as conn:
        _lock_user(conn, user.user_id)
        _load(conn, user.user_id, wid)
        if _name_taken(conn, user.user_id, body.name, except_id=wid):
            raise ApiError(409, "conflict", f"a watchlist named {body.name!r} already exists")
        conn.execute(text("UPDATE watchlists SET name = :name WHERE id = :id AND name <> :name"),
                     {"name": body.name, "id": wid})
        return _load(conn, user.user_id, wid)


@router.delete("/{watchlist_id}", status_code=204)
def delete_watchlist(watchlist_id: str, user: User,
                     ctx: Ctx) -> Response:
    wid = parse_id(watchlist_id, "watchlist")
    with ctx.engine.begin() as conn:
        deleted = conn.execute(text(
            "DELETE FROM watchlists WHERE id = :id AND user_id = :uid RETURNING id"),
            {"id": wid, "uid": user.user_id}).first()
    if deleted is None:
        raise not_found("watchlist")
    return Response(status_code=204)


@router.post("/{watchlist_id}/symbols", status_code=201)
def add_symbol(watchlist_id: str, body: SymbolBody, user: User,
               ctx: Ctx) -> dict[str, Any]:
    wid = parse_id(watchlist_id, "watchlist")
    symbol = body.symbol.strip().upper()
    with ctx.engine.begin() as conn:
        _load(conn, user.user_id, wid)
        known = conn.execute(text("SELECT 1 FROM symbols WHERE symbol = :s"),
                             {"s": symbol}).first()
        if known is None:
            raise ApiError(422, "unknown_symbol", f"unknown symbol {symbol!r}")
        added = conn.execute(text(
            "INSERT INTO watchlist_symbols (watchlist_id, symbol) VALUES (:id, :s)"
            " ON CONFLICT DO NOTHING RETURNING symbol"), {"id": wid, "s": symbol}).first()
        if added is not None:  # adding twice is a no-op and does not touch updated_at
            conn.execute(text("UPDATE watchlists SET updated_at = now() WHERE id = :id"),
                         {"id": wid})
        return _load(conn, user.user_id, wid)


@router.delete("/{watchlist_id}/symbols/{symbol}", status_code=204)
def remove_symbol(watchlist_id: str, symbol: str, user: User,
                  ctx: Ctx) -> Response:
    wid = parse_id(watchlist_id, "watchlist")
    with ctx.engine.begin() as conn:
        _load(conn, user.user_id, wid)
        removed = conn.execute(text(
            "DELETE FROM watchlist_symbols WHERE watchlist_id = :id AND symbol = :s"
            " RETURNING symbol"), {"id": wid, "s": symbol.strip().upper()}).first()
        if removed is None:
            raise not_found("symbol in this watchlist")
        conn.execute(text("UPDATE watchlists SET updated_at = now() WHERE id = :id"),
                     {"id": wid})
    return Response(status_code=204)
