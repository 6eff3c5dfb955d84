"""The warehouse as an operator reads it: SQL over trades, landing_files, quarantine_rows, heartbeats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from e2e_shared.waits import Poll, wait_until

from .expected import Bar, Trade, trade

# Errors that mean "the database is away for a moment" while a resilience test runs.
TRANSIENT = (DBAPIError, OSError)

BARS_SQL = """
SELECT date_bin(make_interval(secs => :secs), ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS t,
       (array_agg(price ORDER BY ts, trade_id))[1] AS open, max(price) AS high, min(price) AS low,
       (array_agg(price ORDER BY ts DESC, trade_id DESC))[1] AS close,
       sum(quantity) AS volume, count(*) AS trades
FROM trades WHERE symbol = :symbol AND ts >= :start AND ts < :end
GROUP BY 1 ORDER BY 1
"""

# Pending = discovered but not loaded, or uploaded but not discovered yet (the contract's lag
# is "the age of the oldest pending file": an upload waiting for discovery is pending too).
STATUS_SQL = """
WITH pending AS (
    SELECT landed_at FROM landing_files WHERE status = 'pending'
    UNION ALL
    SELECT u.created_at FROM uploads u
    WHERE NOT EXISTS (SELECT 1 FROM landing_files lf WHERE lf.key = u.object_key)
)
SELECT now() AS now,
       (SELECT count(*) FROM pending) AS files_pending,
       (SELECT min(landed_at) FROM pending) AS oldest_pending,
       (SELECT count(*) FROM landing_files WHERE status = 'loaded') AS files_loaded,
       (SELECT count(*) FROM landing_files WHERE status = 'rejected') AS files_rejected,
       (SELECT count(*) FROM uploads) AS uploads,
       (SELECT coalesce(sum(rows_loaded), 0) FROM landing_files) AS rows_loaded,
       (SELECT coalesce(sum(rows_rejected), 0) FROM landing_files) AS rows_rejected,
       (SELECT max(last_run_at) FROM pipeline_heartbeats) AS last_run_at,
       (SELECT max(beat_at) FROM pipeline_heartbeats) AS heartbeat_at
"""
COUNT_FIELDS = ("files_pending", "files_loaded", "files_rejected", "uploads", "rows_loaded",
                "rows_rejected")


@dataclass(frozen=True)
class StatusRow:
    """The figures /pipeline/status reports, as the tables hold them at one instant."""

    now: datetime
    files_pending: int
    oldest_pending: datetime | None
    files_loaded: int
    files_rejected: int
    uploads: int
    rows_loaded: int
    rows_rejected: int
    last_run_at: datetime | None
    heartbeat_at: datetime | None

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in COUNT_FIELDS)

    def lag(self) -> float:
        return 0.0 if self.oldest_pending is None else (self.now - self.oldest_pending).total_seconds()


class Warehouse:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def _all(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).mappings())

    def _one(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).mappings().first()

    # --- trades ---------------------------------------------------------------------------
    def trades(self, ids: Iterable[str]) -> list[Trade]:
        rows = self._all("SELECT trade_id, symbol, price, quantity, ts FROM trades"
                         " WHERE trade_id = ANY(:ids)", ids=list(ids))
        return [trade(r) for r in rows]

    def count(self, ids: Iterable[str]) -> int:
        return int(self._one("SELECT count(*) AS n FROM trades WHERE trade_id = ANY(:ids)",
                             ids=list(ids))["n"])

    def count_from_file(self, key: str) -> int:
        """Trades whose first source is the object ``key``."""
        return int(self._one("SELECT count(*) AS n FROM trades WHERE file_key = :k", k=key)["n"])

    def file_keys(self, ids: Iterable[str]) -> set[str]:
        rows = self._all("SELECT DISTINCT file_key FROM trades WHERE trade_id = ANY(:ids)", ids=list(ids))
        return {r["file_key"] for r in rows}

    def sums(self, ids: Iterable[str]) -> dict[str, tuple[Any, int]]:
        """Per symbol: (sum of quantity, count) over the trades ``ids``."""
        rows = self._all("SELECT symbol, sum(quantity) AS volume, count(*) AS n FROM trades"
                         " WHERE trade_id = ANY(:ids) GROUP BY symbol", ids=list(ids))
        return {r["symbol"]: (r["volume"], int(r["n"])) for r in rows}

    def bars(self, symbol: str, start: datetime, end: datetime, seconds: int) -> list[Bar]:
        """Bars aggregated in SQL straight from the raw trades (not from bars_1m)."""
        rows = self._all(BARS_SQL, secs=seconds, symbol=symbol, start=start, end=end)
        return [Bar(r["t"], r["open"], r["high"], r["low"], r["close"], r["volume"], int(r["trades"]))
                for r in rows]

    def count_like(self, pattern: str) -> int:
        return int(self._one("SELECT count(*) AS n FROM trades WHERE trade_id LIKE :p", p=pattern)["n"])

    # --- landing files and quarantine -----------------------------------------------------
    def landing_file(self, key: str) -> Any:
        return self._one("SELECT * FROM landing_files WHERE key = :k", k=key)

    def quarantine_rows(self, key: str) -> list[Any]:
        return self._all("SELECT line, reason, raw FROM quarantine_rows WHERE file_key = :k ORDER BY line",
                         k=key)

    def wait_done(self, key: str, *, timeout: float = 30.0) -> Any:
        """The landing_files row of ``key`` once it is loaded or rejected (outages are waited out)."""
        def done() -> Poll:
            row = self.landing_file(key)
            return Poll(row is not None and row["status"] != "pending", row and dict(row))

        return wait_until(done, what=f"landing file {key} to be loaded", timeout=timeout, interval=0.1,
                          transient=TRANSIENT)

    def is_claimed(self, key: str) -> bool:
        """Pending and row-locked by a worker (its load transaction is open): the file is mid-load.

        Probed with ``FOR KEY SHARE SKIP LOCKED``: the row comes back only when nobody holds it.
        """
        with self.engine.begin() as conn:
            status = conn.execute(sa.text("SELECT status FROM landing_files WHERE key = :k"),
                                  {"k": key}).scalar()
            if status != "pending":
                return False
            free = conn.execute(sa.text("SELECT 1 FROM landing_files WHERE key = :k"
                                        " FOR KEY SHARE SKIP LOCKED"), {"k": key}).scalar()
        return free is None

    def upload_created_at(self, object_key: str) -> datetime:
        return self._one("SELECT created_at FROM uploads WHERE object_key = :k", k=object_key)["created_at"]

    def seed_object_keys(self, filenames: Sequence[str]) -> list[str]:
        rows = self._all("SELECT object_key FROM uploads WHERE filename = ANY(:f)", f=list(filenames))
        return [r["object_key"] for r in rows]

    # --- status ---------------------------------------------------------------------------
    def status(self) -> StatusRow:
        return StatusRow(**dict(self._one(STATUS_SQL)))
