"""Uploads: the API checks and lands the file; the worker loads it (see ingest.py)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from sqlalchemy import Connection, text

from .. import rows
from ..deps import Ctx, User, parse_id
from ..errors import ApiError, not_found
from ..formats import iso

router = APIRouter(prefix="/uploads", tags=["uploads"])

_SELECT = (
    "SELECT u.id, u.filename, u.object_key, u.created_at, lf.status, lf.rows_total,"
    " lf.rows_loaded, lf.rows_rejected, lf.rows_new, lf.rows_duplicate, lf.landed_at,"
    " lf.loaded_at, lf.error"
    " FROM uploads u LEFT JOIN landing_files lf ON lf.key = u.object_key"
    " WHERE u.user_id = :uid {where} ORDER BY u.created_at DESC, u.id DESC"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str | None) -> str:
    """The last path component with only harmless characters: it becomes part of a key."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:200]
    return base or "upload"


def upload_json(row: Any) -> dict[str, Any]:
    counts = ("rows_total", "rows_loaded", "rows_rejected", "rows_new", "rows_duplicate")
    return {
        "id": str(row.id), "filename": row.filename, "object_key": row.object_key,
        "status": row.status or "pending",
        **{name: getattr(row, name) or 0 for name in counts},
        "landed_at": iso(row.landed_at or row.created_at), "loaded_at": iso(row.loaded_at),
        "error": row.error,
    }


def _load(conn: Connection, user_id: str, upload_id: str) -> Any:
    row = conn.execute(text(_SELECT.format(where="AND u.id = :id")),
                       {"uid": user_id, "id": upload_id}).first()
    if row is None:
        raise not_found("upload")
    return row


@router.post("", status_code=202)
def create_upload(file: Annotated[UploadFile, File()], user: User,
                  ctx: Ctx) -> dict[str, Any]:
    limit = ctx.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "payload_too_large", f"the file is larger than {limit} bytes")
    filename = safe_filename(file.filename)
    fmt = rows.detect_format(filename, file.content_type)
    if fmt is None:
        raise ApiError(422, "unsupported_format",
                       "send a .csv (text/csv) or a .jsonl/.ndjson (JSON lines) file")
    try:
        rows.check_start(data, fmt)
    except rows.FileRejected as err:
        raise ApiError(422, "malformed_file", str(err)) from None
    upload_id = str(uuid.uuid4())
    key = f"uploads/{upload_id}/{filename}"
    content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
    with ctx.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO uploads (id, user_id, filename, object_key, content_type, size_bytes)"
            " VALUES (:id, :uid, :name, :key, :ctype, :size)"),
            {"id": upload_id, "uid": user.user_id, "name": filename, "key": key,
             "ctype": content_type, "size": len(data)})
        # Put inside the transaction: if the store is away, no upload row is left behind.
        ctx.storage.put(ctx.storage.landing, key, data, content_type)
    with ctx.engine.connect() as conn:
        return upload_json(_load(conn, user.user_id, upload_id))


@router.get("")
def list_uploads(user: User,
                 ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        found = conn.execute(text(_SELECT.format(where="")), {"uid": user.user_id}).all()
    return [upload_json(r) for r in found]


@router.get("/{upload_id}")
def get_upload(upload_id: str, user: User,
               ctx: Ctx) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        return upload_json(_load(conn, user.user_id, parse_id(upload_id, "upload")))


@router.get("/{upload_id}/rejections")
def get_rejections(upload_id: str, user: User,
                   ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        row = _load(conn, user.user_id, parse_id(upload_id, "upload"))
        found = conn.execute(text(
            "SELECT line, reason, raw FROM quarantine_rows WHERE file_key = :key ORDER BY line"),
            {"key": row.object_key}).all()
    return [{"line": r.line, "reason": r.reason, "raw": r.raw} for r in found]
