"""The worker's landing-bucket ingestion: discover new objects, load each in one transaction.

A file's load is atomic: its trades (``ON CONFLICT (trade_id) DO NOTHING``), its quarantine
rows, the recomputed 1-minute bars of the minutes it touches and its ``loaded`` mark commit
together, and the quarantine object is written before that commit. A crash anywhere before
the commit leaves the file ``pending`` and it is loaded again from scratch.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from . import db, rows, storage
from .storage import Storage

log = logging.getLogger("tradeboard.ingest")

# The 1-minute bar definition (see bars.py), for every (symbol, minute) in tb_affected.
# LATERAL: one index range scan per minute, whatever the (stale) statistics say.
BARS_SQL = """
INSERT INTO bars_1m (symbol, minute, open, high, low, close, volume, trades)
SELECT a.symbol, a.minute, b.open, b.high, b.low, b.close, b.volume, b.trades
FROM tb_affected a
CROSS JOIN LATERAL (
    SELECT (array_agg(t.price ORDER BY t.ts, t.trade_id))[1] AS open,
           max(t.price) AS high, min(t.price) AS low,
           (array_agg(t.price ORDER BY t.ts DESC, t.trade_id DESC))[1] AS close,
           sum(t.quantity) AS volume, count(*) AS trades
    FROM trades t
    WHERE t.symbol = a.symbol AND t.ts >= a.minute AND t.ts < a.minute + interval '1 minute'
) b
WHERE b.trades > 0
ON CONFLICT (symbol, minute) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, trades = EXCLUDED.trades
"""
GONE = "the object was removed before it could be loaded"
# Held for the rest of a load's transaction while it numbers its trades: concurrent loads
# (several workers) would otherwise race for the same seq, or both count a trade_id as new.
SEQ_LOCK_KEY = 7_351_202_603
# New trades numbered per symbol after the symbol's last seq, in (trade time, trade id) order;
# within one file the first occurrence of a trade_id wins (ORDER BY line).
INSERT_SQL = """
WITH fresh AS (
    SELECT DISTINCT ON (i.trade_id) i.trade_id, i.symbol, i.price, i.quantity, i.ts
    FROM tb_incoming i
    WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.trade_id = i.trade_id)
    ORDER BY i.trade_id, i.line
), numbered AS (
    SELECT f.*, s.last_seq + row_number() OVER (PARTITION BY f.symbol
                                                ORDER BY f.ts, f.trade_id) AS seq
    FROM fresh f JOIN symbol_sequences s ON s.symbol = f.symbol
), inserted AS (
    INSERT INTO trades (trade_id, symbol, price, quantity, ts, file_key, seq)
    SELECT trade_id, symbol, price, quantity, ts, %s, seq FROM numbered
    RETURNING symbol, seq, trade_id, price, quantity, ts
), bumped AS (
    UPDATE symbol_sequences s SET last_seq = m.last_seq
    FROM (SELECT symbol, max(seq) AS last_seq FROM inserted GROUP BY symbol) m
    WHERE s.symbol = m.symbol
)
SELECT symbol, seq, trade_id, price, quantity, ts FROM inserted ORDER BY symbol, seq
"""
MINUTE_SQL = "date_bin('1 minute', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')"


@dataclass(frozen=True)
class NewTrade:
    symbol: str
    seq: int
    trade_id: str
    price: Decimal
    quantity: Decimal
    ts: datetime


@dataclass(frozen=True)
class LoadResult:
    key: str
    status: str  # loaded | rejected
    rows_total: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    error: str | None = None
    # The trades this load inserted, (symbol, seq) ordered, for the live feed to publish.
    new_trades: tuple[NewTrade, ...] = ()


def quarantine_key(key: str) -> str:
    return f"quarantine/{key}.rejected.jsonl"


def scan_landing(engine: Engine, store: Storage) -> int:
    """List the landing bucket and record every object not yet in landing_files as pending;
    return how many were new. Finds objects put straight into the bucket."""
    return _record([o for o in store.list(store.landing) if not o.key.endswith("/")], engine)


def scan_uploads(engine: Engine, store: Storage, limit: int = 100) -> int:
    """Record the objects of uploads the worker has not seen yet, without listing the bucket
    (cheap, so it runs every poll even when the bucket is large). An upload whose object is
    gone is marked rejected, so that it does not stay pending forever."""
    with engine.connect() as conn:
        keys = conn.execute(text(
            "SELECT u.object_key FROM uploads u WHERE NOT EXISTS"
            " (SELECT 1 FROM landing_files lf WHERE lf.key = u.object_key)"
            " ORDER BY u.created_at LIMIT :n"), {"n": limit}).scalars().all()
    found, gone = [], []
    for key in keys:
        info = store.head(store.landing, key)
        if info is None:
            gone.append(key)
        else:
            found.append(info)
    if gone:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO landing_files (key, status, landed_at, loaded_at, error)"
                " SELECT u.object_key, 'rejected', u.created_at, clock_timestamp(), :e"
                " FROM uploads u WHERE u.object_key = ANY(:keys)"
                " ON CONFLICT (key) DO NOTHING"), {"keys": gone, "e": GONE})
        for key in gone:
            log.info("rejected %s: %s", key, GONE)
    return _record(found, engine)


def _record(objects: list[storage.ObjectInfo], engine: Engine) -> int:
    if not objects:
        return 0
    with engine.begin() as conn:
        known = set(conn.execute(text("SELECT key FROM landing_files WHERE key = ANY(:keys)"),
                                 {"keys": [o.key for o in objects]}).scalars())
        new = [{"key": o.key, "size": o.size, "landed": o.last_modified}
               for o in objects if o.key not in known]
        if new:
            conn.execute(text(
                "INSERT INTO landing_files (key, size_bytes, landed_at)"
                " VALUES (:key, :size, :landed) ON CONFLICT (key) DO NOTHING"), new)
    for item in new:
        log.info("discovered %s (%d bytes)", item["key"], item["size"])
    return len(new)


def load_next(engine: Engine, store: Storage) -> LoadResult | None:
    """Load the oldest pending file; None when there is none."""
    claimed: list[str] = []
    try:
        return _load_next(engine, store, claimed)
    except Exception as err:
        if not claimed or db.is_unavailable(err) or storage.is_unavailable(err):
            raise  # nothing claimed, or a dependency outage: the worker retries later
        # A file that breaks the loader must not block every file after it.
        log.error("loading %s failed", claimed[0], exc_info=err)
        message = f"the file could not be loaded ({type(err).__name__})"
        with engine.begin() as conn:
            conn.execute(text(
                "UPDATE landing_files SET status = 'rejected', error = :e,"
                " loaded_at = clock_timestamp() WHERE key = :k AND status = 'pending'"),
                {"e": message, "k": claimed[0]})
        return LoadResult(claimed[0], "rejected", error=message)


def _load_next(engine: Engine, store: Storage, claimed: list[str]) -> LoadResult | None:
    started = time.perf_counter()
    with engine.begin() as conn:
        # SKIP LOCKED: several workers never take the same file.
        key = conn.execute(text(
            "SELECT key FROM landing_files WHERE status = 'pending'"
            " ORDER BY landed_at, key LIMIT 1 FOR UPDATE SKIP LOCKED")).scalar()
        if key is None:
            return None
        claimed.append(key)
        try:
            data = store.get(store.landing, key)
        except Exception as err:
            if not storage.is_missing(err):
                raise
            # Removed after discovery: nothing to load, and it must not stay pending.
            conn.execute(text(
                "UPDATE landing_files SET status = 'rejected', error = :e,"
                " loaded_at = clock_timestamp() WHERE key = :k"), {"e": GONE, "k": key})
            return LoadResult(key, "rejected", error=GONE)
        fmt = rows.detect_format(key) or rows.sniff_format(data)
        symbols = set(conn.execute(text("SELECT symbol FROM symbols")).scalars())
        try:
            trades, rejections = rows.parse_file(data, fmt, symbols, datetime.now(UTC))
        except rows.FileRejected as err:
            conn.execute(text(
                "UPDATE landing_files SET status = 'rejected', error = :e,"
                " loaded_at = clock_timestamp() WHERE key = :k"), {"e": str(err), "k": key})
            return LoadResult(key, "rejected", error=str(err),
                              seconds=time.perf_counter() - started)
        new_trades = _insert_trades(conn, key, trades)
        rows_new = len(new_trades)
        qkey = None
        if rejections:
            _insert_rejections(conn, key, rejections)
            qkey = quarantine_key(key)
            body = "".join(json.dumps({"line": r.line, "reason": r.reason, "raw": r.raw}) + "\n"
                           for r in rejections).encode()
            store.put(store.quarantine, qkey, body, "application/x-ndjson")
        result = LoadResult(key, "loaded", rows_total=len(trades) + len(rejections),
                            rows_new=rows_new, rows_duplicate=len(trades) - rows_new,
                            rows_rejected=len(rejections), new_trades=new_trades)
        conn.execute(text(
            "UPDATE landing_files SET status = 'loaded', rows_total = :total,"
            " rows_loaded = :loaded, rows_rejected = :rejected, rows_new = :new,"
            " rows_duplicate = :dup, quarantine_key = :qkey, error = NULL,"
            " loaded_at = clock_timestamp() WHERE key = :k"),
            {"total": result.rows_total, "loaded": len(trades), "rejected": len(rejections),
             "new": rows_new, "dup": result.rows_duplicate, "qkey": qkey, "k": key})
    return replace(result, seconds=time.perf_counter() - started)


def _driver(conn: Connection) -> Any:
    """The psycopg connection under SQLAlchemy's, same transaction: for COPY."""
    return conn.connection.driver_connection


def _insert_trades(conn: Connection, key: str,
                   trades: list[rows.Trade]) -> tuple[NewTrade, ...]:
    """COPY into a temporary table, then one numbered INSERT of the new trades; returns them."""
    with _driver(conn).cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE tb_incoming (line integer, trade_id text, symbol text,"
            " price numeric, quantity numeric, ts timestamptz) ON COMMIT DROP")
        with cur.copy("COPY tb_incoming FROM STDIN") as copy:
            for n, t in enumerate(trades):
                copy.write_row((n, t.trade_id, t.symbol, t.price, t.quantity, t.ts))
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SEQ_LOCK_KEY,))
        cur.execute(
            "INSERT INTO symbol_sequences (symbol) SELECT DISTINCT symbol FROM tb_incoming"
            " ON CONFLICT (symbol) DO NOTHING")
        cur.execute(INSERT_SQL, (key,))
        inserted = tuple(NewTrade(*row) for row in cur.fetchall())
        cur.execute(
            f"CREATE TEMP TABLE tb_affected ON COMMIT DROP AS"
            f" SELECT DISTINCT symbol, {MINUTE_SQL} AS minute FROM tb_incoming")
        cur.execute(BARS_SQL)
    return inserted


def _insert_rejections(conn: Connection, key: str, rejections: list[rows.Rejection]) -> None:
    with _driver(conn).cursor() as cur, \
            cur.copy("COPY quarantine_rows (file_key, line, reason, raw) FROM STDIN") as copy:
        for r in rejections:
            copy.write_row((key, r.line, r.reason, r.raw))
