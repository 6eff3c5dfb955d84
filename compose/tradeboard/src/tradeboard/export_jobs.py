"""The worker's export jobs: claim one, write its CSV in paced chunks, honour cancellation.

Claiming uses ``FOR UPDATE SKIP LOCKED`` so that concurrent workers never run the same job.
A job left ``running`` by a worker whose heartbeat went stale (or by this worker after a
dependency outage) is claimed again and starts over.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from .formats import decimal_text, iso
from .storage import Storage

log = logging.getLogger("tradeboard.exports")
HEADER = ("trade_id", "symbol", "price", "quantity", "ts")


@dataclass(frozen=True)
class Job:
    id: str
    symbol: str
    from_ts: datetime
    to_ts: datetime


class Cancelled(Exception):
    """The job was cancelled by its owner while we ran it."""


class Lost(Exception):
    """Another worker took the job over (ours looked dead): leave everything to it."""


def object_key(export_id: str) -> str:
    return f"exports/{export_id}.csv"


def claim(engine: Engine, worker_id: str, stale_after: float) -> Job | None:
    with engine.begin() as conn:
        row = conn.execute(text("""
            WITH picked AS (
                SELECT e.id, e.status AS previous, e.worker_id AS previous_worker
                FROM exports e
                WHERE e.status = 'queued'
                   OR (e.status = 'running' AND (e.worker_id = :me OR NOT EXISTS (
                        SELECT 1 FROM pipeline_heartbeats h WHERE h.worker_id = e.worker_id
                        AND h.beat_at > now() - make_interval(secs => :stale))))
                ORDER BY e.created_at, e.id LIMIT 1 FOR UPDATE SKIP LOCKED)
            UPDATE exports x SET status = 'running', worker_id = :me, progress = 0,
                row_count = 0, started_at = now(), error = NULL
            FROM picked WHERE x.id = picked.id
            RETURNING x.id, x.symbol, x.from_ts, x.to_ts, picked.previous, picked.previous_worker
        """), {"me": worker_id, "stale": stale_after}).first()
    if row is None:
        return None
    if row.previous == "queued":
        log.info("export %s: queued -> running (%s %s .. %s)", row.id, row.symbol,
                 iso(row.from_ts), iso(row.to_ts))
    else:  # left running by a worker that died or lost a dependency: start over
        log.info("export %s: running -> running (taken over from %s, starting over)", row.id,
                 row.previous_worker)
    return Job(str(row.id), row.symbol, row.from_ts, row.to_ts)


def _report(engine: Engine, job: Job, worker_id: str, progress: int, done: int) -> None:
    """Record progress; raise Cancelled when the job is no longer running for us."""
    with engine.begin() as conn:
        still = conn.execute(text(
            "UPDATE exports SET progress = :p, row_count = :n"
            " WHERE id = :id AND status = 'running' AND worker_id = :me RETURNING id"),
            {"p": progress, "n": done, "id": job.id, "me": worker_id}).first()
    if still is None:
        _not_ours(engine, job)


def _not_ours(engine: Engine, job: Job) -> None:
    """Raise Cancelled or Lost for a job whose conditional update matched nothing."""
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM exports WHERE id = :id"),
                              {"id": job.id}).scalar()
    if status in (None, "cancelled"):
        raise Cancelled(job.id)
    raise Lost(job.id)


def run(engine: Engine, store: Storage, job: Job, worker_id: str, *, chunk_rows: int,
        chunk_delay: float, stop: threading.Event) -> str:
    """Run one claimed job to its end; returns the final status."""
    key = object_key(job.id)
    try:
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
            done = _write_csv(engine, job, worker_id, spool, chunk_rows=chunk_rows,
                              chunk_delay=chunk_delay, stop=stop)
            spool.seek(0)
            store.put(store.exports, key, spool, "text/csv")
        with engine.begin() as conn:
            finished = conn.execute(text(
                "UPDATE exports SET status = 'succeeded', progress = 100, row_count = :n,"
                " object_key = :key, finished_at = now()"
                " WHERE id = :id AND status = 'running' AND worker_id = :me RETURNING id"),
                {"n": done, "key": key, "id": job.id, "me": worker_id}).first()
        if finished is None:
            _not_ours(engine, job)
    except Lost:
        log.warning("export %s: taken over by another worker; leaving it", job.id)
        return "lost"
    except Cancelled:
        # Cancelled while we wrote: whatever we put must not stay behind.
        store.delete(store.exports, key)
        log.info("export %s: running -> cancelled (object removed)", job.id)
        return "cancelled"
    log.info("export %s: running -> succeeded (%d rows)", job.id, done)
    return "succeeded"


def _write_csv(engine: Engine, job: Job, worker_id: str, spool: tempfile.SpooledTemporaryFile,
               *, chunk_rows: int, chunk_delay: float, stop: threading.Event) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    done = 0
    # One snapshot for the count and every chunk: the file matches the count exactly even
    # while files are being loaded.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as reader:
        params = {"s": job.symbol, "f": job.from_ts, "t": job.to_ts}
        total = reader.execute(text(
            "SELECT count(*) FROM trades WHERE symbol = :s AND ts >= :f AND ts < :t"),
            params).scalar_one()
        last: tuple[datetime, str] | None = None
        while True:
            if stop.is_set():
                raise InterruptedError("worker stopping")
            chunk = reader.execute(text(
                "SELECT trade_id, symbol, price, quantity, ts FROM trades"
                " WHERE symbol = :s AND ts >= :f AND ts < :t"
                + (" AND (ts, trade_id) > (:lts, :lid)" if last else "")
                + " ORDER BY ts, trade_id LIMIT :n"),
                {**params, "n": chunk_rows,
                 **({"lts": last[0], "lid": last[1]} if last else {})}).all()
            for r in chunk:
                writer.writerow((r.trade_id, r.symbol, decimal_text(r.price),
                                 decimal_text(r.quantity), iso(r.ts)))
            spool.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
            done += len(chunk)
            if chunk:
                last = (chunk[-1].ts, chunk[-1].trade_id)
            if len(chunk) < chunk_rows:
                break
            # Between chunks: report progress (and find out about a cancellation), then pace.
            _report(engine, job, worker_id, min(99, done * 100 // max(total, 1)), done)
            if chunk_delay:
                time.sleep(chunk_delay)
        reader.rollback()
    return done


def fail(engine: Engine, job: Job, worker_id: str, message: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE exports SET status = 'failed', error = :e, finished_at = now()"
            " WHERE id = :id AND status = 'running' AND worker_id = :me"),
            {"e": message[:500], "id": job.id, "me": worker_id})
    log.info("export %s: running -> failed (%s)", job.id, message)


def requeue(engine: Engine, job: Job, worker_id: str) -> None:
    """On a clean stop: hand the job back so another worker starts it at once."""
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE exports SET status = 'queued', worker_id = NULL, progress = 0,"
            " row_count = 0, started_at = NULL WHERE id = :id AND status = 'running'"
            " AND worker_id = :me"), {"id": job.id, "me": worker_id})
    log.info("export %s: running -> queued (worker stopping)", job.id)
