"""``GET /health`` (open) and ``GET /pipeline/status`` (protected)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from .. import db
from ..deps import Context, Ctx, User
from ..formats import iso

router = APIRouter(tags=["status"])
log = logging.getLogger("tradeboard.api")
CHECK_TIMEOUT = 2.0
# Checks run side by side so that /health answers within CHECK_TIMEOUT even when both the
# database and the store hang; a hung check keeps its thread until its own timeout ends it.
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def _failed(check: str, err: BaseException) -> str:
    """What /health says about a failed check: no driver text (it names hosts, ports, SQL);
    the detail goes to the API's log."""
    first = (str(err).strip().splitlines() or [""])[0]
    log.warning("health check %s failed: %s: %s", check, type(err).__name__, first[:300])
    return f"the {check} cannot be reached"


def _check_database(ctx: Context) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The database check and, when it is up, the pipeline check (which reads from it)."""
    started = time.perf_counter()
    try:
        with db.check_connection(ctx.settings.database_url, CHECK_TIMEOUT) as conn:
            conn.execute("SELECT 1")
            latency = round((time.perf_counter() - started) * 1000, 1)
            if not ctx.schema_ready.is_set():
                return {"ok": False, "latency_ms": latency,
                        "error": "the schema is not migrated yet"}, None
            age = conn.execute(
                "SELECT extract(epoch FROM now() - max(beat_at)) FROM pipeline_heartbeats"
            ).fetchone()
    except Exception as err:  # noqa: BLE001 - any failure is the check's answer
        return {"ok": False, "latency_ms": None, "error": _failed("database", err)}, None
    heartbeat_age = round(float(age[0]), 2) if age and age[0] is not None else None
    pipeline: dict[str, Any]
    if heartbeat_age is None:
        pipeline = {"ok": False, "heartbeat_age_s": None, "error": "no heartbeat yet"}
    elif heartbeat_age > ctx.settings.heartbeat_max_age:
        pipeline = {"ok": False, "heartbeat_age_s": heartbeat_age,
                    "error": f"the last heartbeat is {heartbeat_age:.1f} s old"}
    else:
        pipeline = {"ok": True, "heartbeat_age_s": heartbeat_age, "error": None}
    return {"ok": True, "latency_ms": latency, "error": None}, pipeline


def _timed(name: str, probe: Callable[[], object]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as err:  # noqa: BLE001 - any failure is the check's answer
        return {"ok": False, "latency_ms": None, "error": _failed(name, err)}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "error": None}


def _check_storage(ctx: Context) -> dict[str, Any]:
    return _timed("object store", ctx.health_storage.check)


def _check_redis(ctx: Context) -> dict[str, Any]:
    """Redis holds the lockout and the rate limit and carries the live feed (redis.health)."""
    return _timed("redis", ctx.health_redis.ping)


@router.get("/health")
def health(ctx: Ctx) -> JSONResponse:
    database_future = _pool.submit(_check_database, ctx)
    storage_future = _pool.submit(_check_storage, ctx)
    redis_future = _pool.submit(_check_redis, ctx)
    deadline = time.monotonic() + CHECK_TIMEOUT + 0.3
    timed_out = {"ok": False, "latency_ms": None, "error": "timed out"}
    try:
        database, pipeline = database_future.result(max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        database, pipeline = timed_out, None
    try:
        storage = storage_future.result(max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        storage = timed_out
    try:
        redis_check = redis_future.result(max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        redis_check = timed_out
    if pipeline is None:  # cannot be read without the database: not counted as failing
        pipeline = {"ok": None, "heartbeat_age_s": None,
                    "error": "unknown: the database is unavailable"}
    checks = {"database": database, "storage": storage, "redis": redis_check,
              "pipeline": pipeline}
    failing = [name for name, check in checks.items() if check["ok"] is False]
    body = {"status": "fail" if failing else "ok", "version": ctx.settings.version,
            "time": iso(datetime.now(UTC)), "failing": failing, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/pipeline/status")
def pipeline_status(_: User,
                    ctx: Ctx) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = conn.execute(text("""
            WITH unseen AS (  -- uploads whose object the worker has not discovered yet
                SELECT u.created_at AS landed_at FROM uploads u
                WHERE NOT EXISTS (SELECT 1 FROM landing_files lf WHERE lf.key = u.object_key)
            ), pending AS (
                SELECT landed_at FROM landing_files WHERE status = 'pending'
                UNION ALL SELECT landed_at FROM unseen
            ), beat AS (
                SELECT beat_at, state FROM pipeline_heartbeats ORDER BY beat_at DESC LIMIT 1
            )
            SELECT
                (SELECT max(last_run_at) FROM pipeline_heartbeats) AS last_run_at,
                (SELECT beat_at FROM beat) AS heartbeat_at,
                (SELECT state FROM beat) AS state,
                extract(epoch FROM now() - (SELECT beat_at FROM beat)) AS heartbeat_age,
                (SELECT count(*) FROM pending) AS files_pending,
                coalesce(extract(epoch FROM now() - (SELECT min(landed_at) FROM pending)), 0)
                    AS lag_seconds,
                (SELECT count(*) FROM landing_files WHERE status = 'loaded') AS files_loaded,
                (SELECT coalesce(sum(rows_loaded), 0) FROM landing_files) AS rows_loaded,
                (SELECT coalesce(sum(rows_rejected), 0) FROM landing_files) AS rows_rejected
        """)).one()
    state = row.state or "stopped"
    if row.heartbeat_age is not None and row.heartbeat_age > ctx.settings.heartbeat_max_age:
        state = "stale"
    return {"last_run_at": iso(row.last_run_at), "lag_seconds": max(0.0, float(row.lag_seconds)),
            "files_pending": row.files_pending, "files_loaded": row.files_loaded,
            "rows_loaded": int(row.rows_loaded), "rows_rejected": int(row.rows_rejected),
            "heartbeat_at": iso(row.heartbeat_at), "state": state}
