"""The deterministic baseline data set of a Tradeboard stack, and the reset back to it.

It reaches the app only as a user or an operator would: HTTP (requests) for sign-up, login
and uploads, SQL (SQLAlchemy + psycopg) for what the API does not offer (symbols, counting,
clean-up), S3 (boto3) for objects. It never imports ``tradeboard``.

Baseline:

- ten symbols: AAPL MSFT GOOG AMZN TSLA NVDA META NFLX AMD INTC (with names);
- two users, signed up through the API:

  ========================  ==================
  email                     password
  ========================  ==================
  ``alice@tradeboard.test``  ``alice-local-pw``
  ``bob@tradeboard.test``    ``bob-local-pw``
  ========================  ==================

  (local test credentials only; they exist in no deployed environment);
- one day of historic trades, 2026-01-05 14:30-21:00 UTC, for AAPL, MSFT and NVDA:
  12,000 trades each, trade ids ``seed-<SYMBOL>-<n>`` (n = 1..12000), pseudo-random from a
  fixed seed, loaded through the product path: uploaded by alice as
  ``seed-<SYMBOL>-2026-01-05.csv`` and loaded by the pipeline worker.

:func:`seed` makes sure the baseline is there (idempotent: a second run changes nothing).
:func:`reset` deletes everything else (other users and everything they own, alice's and
bob's watchlists and exports, non-seed trades, quarantine rows, landing files other than the
three seed uploads, their objects, all quarantine and export objects, lockouts), recomputes
the 1-minute bars from the remaining trades, then ensures the baseline.

``s3`` is a mapping of boto3 client keywords (``endpoint_url``, ``aws_access_key_id``,
``aws_secret_access_key``, ``region_name``), as ``Endpoints.s3_client_kwargs()`` gives, plus
optional ``buckets`` (``{"landing": ..., "quarantine": ..., "exports": ...}``).
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests
import sqlalchemy as sa

SYMBOLS: dict[str, str] = {
    "AAPL": "Apple Inc.",
    "MSFT": "Microsoft Corporation",
    "GOOG": "Alphabet Inc.",
    "AMZN": "Amazon.com, Inc.",
    "TSLA": "Tesla, Inc.",
    "NVDA": "NVIDIA Corporation",
    "META": "Meta Platforms, Inc.",
    "NFLX": "Netflix, Inc.",
    "AMD": "Advanced Micro Devices, Inc.",
    "INTC": "Intel Corporation",
}


@dataclass(frozen=True)
class BaselineUser:
    email: str
    password: str
    display_name: str


USERS = (
    BaselineUser("alice@tradeboard.test", "alice-local-pw", "Alice"),
    BaselineUser("bob@tradeboard.test", "bob-local-pw", "Bob"),
)
UPLOADER = USERS[0]
SEED_DAY = datetime(2026, 1, 5, tzinfo=UTC)
SESSION_OPEN = SEED_DAY + timedelta(hours=14, minutes=30)
SESSION_SECONDS = 6 * 3600 + 30 * 60
SEED_SYMBOLS = ("AAPL", "MSFT", "NVDA")
START_PRICES = {"AAPL": 185.0, "MSFT": 375.0, "NVDA": 495.0}
TRADES_PER_SYMBOL = 12_000
SEED_TRADE_PATTERN = r"^seed-(AAPL|MSFT|NVDA)-[0-9]+$"
LOAD_TIMEOUT = 180.0
DEFAULT_BUCKETS = {"landing": "landing", "quarantine": "quarantine", "exports": "exports"}

# The pipeline worker's 1-minute bar definition (compose/tradeboard: bars.py, ingest.py):
# open/close are the first/last trade by (ts, trade_id), minutes aligned with date_bin.
_REBUILD_BARS = """
INSERT INTO bars_1m (symbol, minute, open, high, low, close, volume, trades)
SELECT symbol, date_bin('1 minute', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       (array_agg(price ORDER BY ts, trade_id))[1], max(price), min(price),
       (array_agg(price ORDER BY ts DESC, trade_id DESC))[1], sum(quantity), count(*)
FROM trades
GROUP BY 1, 2
"""


# --- the data -------------------------------------------------------------------------------

def seed_filename(symbol: str) -> str:
    return f"seed-{symbol}-{SEED_DAY:%Y-%m-%d}.csv"


def seed_trades(symbol: str) -> list[tuple[str, str, int, str]]:
    """``(trade_id, price, quantity, ts)`` of one symbol's seed day, oldest first.

    Deterministic: a string seed gives the same sequence on every run and platform.
    """
    rng = random.Random(f"tradeboard-seed-{symbol}")
    offsets = sorted(round(rng.uniform(0, SESSION_SECONDS), 3) for _ in range(TRADES_PER_SYMBOL))
    price = START_PRICES[symbol]
    out: list[tuple[str, str, int, str]] = []
    for n, offset in enumerate(offsets, start=1):
        price = max(0.01, price * math.exp(rng.gauss(0.0, 0.0004)))  # a small random walk
        ts = SESSION_OPEN + timedelta(milliseconds=round(offset * 1000))
        out.append((f"seed-{symbol}-{n}", f"{price:.2f}", rng.randint(1, 500),
                    ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")))
    return out


def seed_csv(symbol: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("trade_id", "symbol", "price", "quantity", "ts"))
    for trade_id, price, quantity, ts in seed_trades(symbol):
        writer.writerow((trade_id, symbol, price, quantity, ts))
    return buffer.getvalue().encode()


# --- clients --------------------------------------------------------------------------------

def _s3(s3: Mapping[str, Any]) -> tuple[Any, dict[str, str]]:
    known = ("endpoint_url", "aws_access_key_id", "aws_secret_access_key", "region_name")
    client = boto3.client("s3", **{k: s3[k] for k in known if s3.get(k)})
    return client, {**DEFAULT_BUCKETS, **dict(s3.get("buckets") or {})}


class _Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()

    def call(self, method: str, path: str, *, expect: tuple[int, ...], token: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, self.base + path, headers=headers, timeout=30,
                                     **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"seed: {method} {path} answered {response.status_code}, "
                               f"expected {expect}: {response.text[:300]}")
        return response


# --- steps ----------------------------------------------------------------------------------

def _ensure_symbols(conn: sa.Connection) -> None:
    conn.execute(sa.text(
        "INSERT INTO symbols (symbol, name) VALUES (:symbol, :name)"
        " ON CONFLICT (symbol) DO UPDATE SET name = EXCLUDED.name"
        " WHERE symbols.name IS DISTINCT FROM EXCLUDED.name"),
        [{"symbol": s, "name": n} for s, n in SYMBOLS.items()])


def _ensure_users(api: _Api, engine: sa.Engine) -> str:
    """Sign the baseline users up (409 means they exist), clear their lockouts, and return
    an access token of the uploader."""
    for user in USERS:
        api.call("POST", "/auth/signup", expect=(201, 409),
                 json={"email": user.email, "password": user.password,
                       "display_name": user.display_name})
    with engine.begin() as conn:  # a test may have locked an account on purpose
        conn.execute(sa.text("DELETE FROM login_failures WHERE email_key = ANY(:keys)"),
                     {"keys": [u.email for u in USERS]})
    tokens = api.call("POST", "/auth/login", expect=(200,),
                      json={"email": UPLOADER.email, "password": UPLOADER.password}).json()
    return str(tokens["access_token"])


def _missing_symbols(engine: sa.Engine) -> list[str]:
    """Seed symbols whose trades are incomplete or whose loaded upload by alice is missing."""
    missing = []
    with engine.connect() as conn:
        for symbol in SEED_SYMBOLS:
            trades = conn.execute(sa.text(
                "SELECT count(*) FROM trades WHERE symbol = :s AND trade_id LIKE :pattern"),
                {"s": symbol, "pattern": f"seed-{symbol}-%"}).scalar_one()
            upload = conn.execute(sa.text(
                "SELECT 1 FROM uploads u JOIN users us ON us.id = u.user_id"
                " JOIN landing_files lf ON lf.key = u.object_key AND lf.status = 'loaded'"
                " WHERE lower(us.email) = :email AND u.filename = :name LIMIT 1"),
                {"email": UPLOADER.email, "name": seed_filename(symbol)}).first()
            if trades != TRADES_PER_SYMBOL or upload is None:
                missing.append(symbol)
    return missing


def _upload_and_wait(api: _Api, token: str, symbols: list[str]) -> None:
    ids = {}
    for symbol in symbols:
        body = api.call("POST", "/uploads", expect=(202,), token=token,
                        files={"file": (seed_filename(symbol), seed_csv(symbol), "text/csv")})
        ids[symbol] = body.json()["id"]
    deadline = time.monotonic() + LOAD_TIMEOUT
    for symbol, upload_id in ids.items():
        while True:
            upload = api.call("GET", f"/uploads/{upload_id}", expect=(200,), token=token).json()
            if upload["status"] == "loaded":
                break
            if upload["status"] == "rejected":
                raise RuntimeError(f"seed: the {symbol} file was rejected: {upload['error']}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"seed: upload {upload_id} ({seed_filename(symbol)}) not "
                                   f"loaded within {LOAD_TIMEOUT:.0f} s; is the pipeline up?")
            time.sleep(0.2)  # poll


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM symbols) AS symbols,"
            " (SELECT count(*) FROM users) AS users,"
            " (SELECT count(*) FROM trades) AS trades,"
            " (SELECT count(*) FROM trades WHERE trade_id ~ :pattern) AS seed_trades,"
            " (SELECT count(*) FROM bars_1m) AS bars,"
            " (SELECT count(*) FROM uploads) AS uploads"),
            {"pattern": SEED_TRADE_PATTERN}).one()
    return dict(row._mapping)


def seed(api_url: str, database_url: str, s3: Mapping[str, Any]) -> dict[str, Any]:
    """Ensure the baseline; returns counts (symbols, users, trades, seed_trades, bars, uploads,
    and ``uploaded``: how many seed files this run had to load)."""
    engine = sa.create_engine(database_url, pool_pre_ping=True)
    try:
        with engine.begin() as conn:
            _ensure_symbols(conn)
        api = _Api(api_url)
        token = _ensure_users(api, engine)
        missing = _missing_symbols(engine)
        if missing:
            _upload_and_wait(api, token, missing)
        left = _missing_symbols(engine)
        if left:
            raise RuntimeError(f"seed: the baseline trades of {', '.join(left)} are incomplete")
        return {**_counts(engine), "uploaded": len(missing)}
    finally:
        engine.dispose()


def _baseline_keys(conn: sa.Connection) -> list[str]:
    """The landing keys of the seed uploads: alice's oldest upload of each seed file."""
    return list(conn.execute(sa.text(
        "SELECT DISTINCT ON (u.filename) u.object_key FROM uploads u"
        " JOIN users us ON us.id = u.user_id"
        " WHERE lower(us.email) = :email AND u.filename = ANY(:names)"
        " ORDER BY u.filename, u.created_at"),
        {"email": UPLOADER.email, "names": [seed_filename(s) for s in SEED_SYMBOLS]}).scalars())


def _delete_objects(client: Any, bucket: str, keep: set[str]) -> int:
    removed = 0
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        doomed = [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] not in keep]
        for start in range(0, len(doomed), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start:start + 1000]})
        removed += len(doomed)
    return removed


def reset(api_url: str, database_url: str, s3: Mapping[str, Any]) -> dict[str, Any]:
    """Delete everything that is not baseline, recompute bars, ensure the baseline; returns
    what was deleted plus the counts of :func:`seed`."""
    engine = sa.create_engine(database_url, pool_pre_ping=True)
    client, buckets = _s3(s3)
    deleted: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            keep = set(_baseline_keys(conn))
        # Objects first: an object whose row is gone would be loaded again by the worker.
        deleted["landing_objects"] = _delete_objects(client, buckets["landing"], keep)
        deleted["quarantine_objects"] = _delete_objects(client, buckets["quarantine"], set())
        deleted["export_objects"] = _delete_objects(client, buckets["exports"], set())
        emails = [u.email for u in USERS]
        params = {"keep": sorted(keep), "emails": emails, "pattern": SEED_TRADE_PATTERN,
                  "symbols": list(SYMBOLS)}
        statements = {
            # The landing_files rows first: this waits for a file the worker is loading.
            "landing_files": "DELETE FROM landing_files WHERE NOT (key = ANY(:keep))",
            "users": "DELETE FROM users WHERE NOT (lower(email) = ANY(:emails))",
            "uploads": "DELETE FROM uploads WHERE NOT (object_key = ANY(:keep))",
            "watchlists": "DELETE FROM watchlists",
            "exports": "DELETE FROM exports",
            "quarantine_rows": "DELETE FROM quarantine_rows",
            "login_failures": "DELETE FROM login_failures",
            "trades": "DELETE FROM trades WHERE NOT (trade_id ~ :pattern)",
            "bars": "DELETE FROM bars_1m",
            # The feed's counters (migration 0003) of symbols about to go; the others keep
            # counting on: a client's last seq stays valid across a reset.
            "symbol_sequences": "DELETE FROM symbol_sequences WHERE NOT (symbol = ANY(:symbols))",
            "symbols": "DELETE FROM symbols WHERE NOT (symbol = ANY(:symbols))",
        }
        with engine.begin() as conn:
            for name, sql in statements.items():
                deleted[name] = conn.execute(sa.text(sql), params).rowcount
            conn.execute(sa.text(_REBUILD_BARS))
    finally:
        engine.dispose()
    return {"deleted": deleted, **seed(api_url, database_url, s3)}
