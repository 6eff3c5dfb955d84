"""Test data factories. Each records what it creates and removes it after the test.

Every name is unique per run and per test (:class:`~e2e_shared.naming.Namer`), so two runs of a
suite against one stack never see each other's data. Trades get their own time window per
test (:class:`WindowAllocator`), so bars computed over that window hold only that test's trades.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from e2e_shared.clients import ApiClient
from e2e_shared.masking import SECRETS
from e2e_shared.naming import Namer
from e2e_shared.waits import Poll, wait_until

SYMBOLS = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX", "AMD", "INTC")
FIELDS = ("trade_id", "symbol", "price", "quantity", "ts")
WINDOW_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
WINDOW_SLOTS = 9000  # one day each: 2001-01-01 .. 2025-08, clear of the seeded 2026 day


# --- users ---------------------------------------------------------------------------------

@dataclass
class User:
    id: str
    email: str
    password: str
    access_token: str = ""
    refresh_token: str = ""


class UserFactory:
    def __init__(self, api: ApiClient, namer: Namer, engine: Any | None = None) -> None:
        self.api = api
        self.namer = namer
        self.engine = engine
        self.created: list[User] = []

    def create(self, prefix: str = "user", *, password: str | None = None, login: bool = True,
               ttl_seconds: int | None = None) -> User:
        email = self.namer.email(prefix)
        password = password or f"pw-{self.namer('secret')}"
        SECRETS.add(password)
        body = self.api.post("/auth/signup", json={"email": email, "password": password},
                             expect=201).json()
        user = User(id=str(body["id"]), email=email, password=password)
        self.created.append(user)
        if login:
            self.login(user, ttl_seconds=ttl_seconds)
        return user

    def login(self, user: User, *, ttl_seconds: int | None = None) -> User:
        payload: dict[str, Any] = {"email": user.email, "password": user.password}
        if ttl_seconds is not None:
            payload["ttl_seconds"] = ttl_seconds
        tokens = self.api.post("/auth/login", json=payload, expect=200).json()
        user.access_token, user.refresh_token = tokens["access_token"], tokens["refresh_token"]
        SECRETS.add(user.access_token, user.refresh_token)
        return user

    def cleanup(self) -> None:
        # There is no account deletion in the API: remove accounts as an operator would, in SQL.
        if not self.created or self.engine is None:
            return
        import sqlalchemy as sa

        with contextlib.suppress(Exception), self.engine.begin() as conn:
            conn.execute(sa.text("delete from users where email = any(:emails)"),
                         {"emails": [u.email for u in self.created]})


# --- watchlists ------------------------------------------------------------------------------

class WatchlistFactory:
    def __init__(self, api: ApiClient, namer: Namer) -> None:
        self.api = api
        self.namer = namer
        self.created: list[tuple[User, str]] = []

    def create(self, user: User, name: str | None = None, symbols: Iterable[str] = ()) -> dict:
        client = self.api.as_user(user)
        wl = client.post("/watchlists", json={"name": name or self.namer("wl")}, expect=201).json()
        self.created.append((user, str(wl["id"])))
        for symbol in symbols:
            wl = client.post(f"/watchlists/{wl['id']}/symbols", json={"symbol": symbol},
                             expect=201).json()
        return wl

    def cleanup(self) -> None:
        for user, wl_id in self.created:
            with contextlib.suppress(Exception):
                self.api.as_user(user).delete(f"/watchlists/{wl_id}")


# --- trade files -----------------------------------------------------------------------------

class WindowAllocator:
    """Hands out one-day time windows, never the same twice on this machine until it wraps.

    A counter file under a lock: concurrent runs on one stack get distinct windows.
    """

    def __init__(self, counter: Path | None) -> None:
        self.counter = counter

    def next(self) -> datetime:
        if self.counter is None:
            return WINDOW_EPOCH + timedelta(days=random.randrange(WINDOW_SLOTS))
        self.counter.parent.mkdir(parents=True, exist_ok=True)
        with self.counter.open("a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            text = f.read().strip()
            slot = (int(text) + 1) % WINDOW_SLOTS if text.isdigit() else random.randrange(WINDOW_SLOTS)
            f.seek(0)
            f.truncate()
            f.write(str(slot))
        return WINDOW_EPOCH + timedelta(days=slot)


INVALID_KINDS = ("unknown_symbol", "non_positive_price", "non_positive_quantity", "bad_timestamp",
                 "malformed")


@dataclass
class TradeFile:
    name: str
    rows: list[dict[str, Any]]
    invalid: list[dict[str, Any]] = field(default_factory=list)  # rows meant to be rejected
    fmt: str = "csv"
    window_start: datetime = WINDOW_EPOCH
    upload_id: str = ""
    object_key: str = ""

    @property
    def valid(self) -> list[dict[str, Any]]:
        ids = {id(r) for r in self.invalid}
        return [r for r in self.rows if id(r) not in ids]

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.window_start, self.window_start + timedelta(days=1)

    def content(self) -> bytes:
        if self.fmt == "jsonl":
            lines = [r["_raw"] if "_raw" in r else json.dumps({k: r[k] for k in FIELDS})
                     for r in self.rows]
            return ("\n".join(lines) + "\n").encode()
        out = io.StringIO()
        out.write(",".join(FIELDS) + "\n")
        writer = csv.writer(out, lineterminator="\n")
        for r in self.rows:
            if "_raw" in r:
                out.write(r["_raw"] + "\n")
            else:
                writer.writerow([r[k] for k in FIELDS])
        return out.getvalue().encode()


class TradeFileFactory:
    def __init__(self, api: ApiClient, namer: Namer, s3: Any, windows: WindowAllocator,
                 landing_bucket: str = "landing") -> None:
        self.api = api
        self.namer = namer
        self.s3 = s3
        self.windows = windows
        self.bucket = landing_bucket
        self.objects: list[str] = []

    def build(self, n: int = 100, *, symbols: Iterable[str] = ("AAPL",), invalid: Iterable[str] = (),
              fmt: str = "csv", seed: int | None = None, start: datetime | None = None,
              spread_minutes: int = 60) -> TradeFile:
        """``n`` valid trades in a fresh window plus one row per kind named in ``invalid``."""
        rng = random.Random(seed if seed is not None else self.namer.key)
        start = start or self.windows.next()
        name = self.namer("trades")
        symbols = list(symbols)
        rows: list[dict[str, Any]] = []
        for i in range(n):
            ts = start + timedelta(seconds=rng.randrange(spread_minutes * 60), milliseconds=i % 1000)
            rows.append({"trade_id": f"{name}-{i}", "symbol": symbols[i % len(symbols)],
                         "price": str(Decimal(rng.randrange(1000, 50000)) / 100),
                         "quantity": rng.randrange(1, 500), "ts": ts.isoformat().replace("+00:00", "Z")})
        tf = TradeFile(name=f"{name}.{fmt}", rows=rows, fmt=fmt, window_start=start)
        for j, kind in enumerate(invalid):
            bad = self._invalid_row(kind, f"{name}-bad{j}", start)
            tf.rows.append(bad)
            tf.invalid.append(bad)
        return tf

    @staticmethod
    def _invalid_row(kind: str, trade_id: str, start: datetime) -> dict[str, Any]:
        ts = (start + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        row: dict[str, Any] = {"trade_id": trade_id, "symbol": "AAPL", "price": "10.00",
                               "quantity": 1, "ts": ts, "kind": kind}
        if kind == "unknown_symbol":
            row["symbol"] = "NOPE"
        elif kind == "non_positive_price":
            row["price"] = "-1.50"
        elif kind == "non_positive_quantity":
            row["quantity"] = 0
        elif kind == "bad_timestamp":
            row["ts"] = "not-a-time"
        elif kind == "malformed":
            row["_raw"] = f"{trade_id},AAPL,not-a-number"
        else:
            raise ValueError(f"unknown invalid kind {kind!r}; known: {', '.join(INVALID_KINDS)}")
        return row

    def upload(self, user: User, tf: TradeFile, *, expect: int = 202) -> dict:
        mime = "text/csv" if tf.fmt == "csv" else "application/x-ndjson"
        body = self.api.as_user(user).post("/uploads", files={"file": (tf.name, tf.content(), mime)},
                                           expect=expect).json()
        if expect == 202:
            tf.upload_id, tf.object_key = str(body["id"]), body["object_key"]
            self.objects.append(tf.object_key)
        return body

    def put(self, tf: TradeFile, key: str | None = None) -> str:
        """Drop the file straight into the landing bucket, as an upstream system would."""
        key = key or f"direct/{tf.name}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=tf.content())
        tf.object_key = key
        self.objects.append(key)
        return key

    def wait_loaded(self, user: User, tf: TradeFile, *, timeout: float = 30.0) -> dict:
        client = self.api.as_user(user)

        def loaded() -> Poll:
            up = client.get(f"/uploads/{tf.upload_id}", expect=200).json()
            return Poll(up["status"] in ("loaded", "rejected"), up)

        return wait_until(loaded, what=f"upload {tf.upload_id} ({tf.name}) to be loaded",
                          timeout=timeout, interval=0.1)

    def cleanup(self) -> None:
        # The warehouse is append-only (its rows carry this run's ids; `data.reset` clears them);
        # the objects this test put into the landing bucket are removed.
        for key in self.objects:
            with contextlib.suppress(Exception):
                self.s3.delete_object(Bucket=self.bucket, Key=key)


# --- exports ---------------------------------------------------------------------------------

class ExportFactory:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.created: list[tuple[User, str]] = []

    def create(self, user: User, symbol: str, start: datetime | str, end: datetime | str,
               *, expect: int = 202) -> dict:
        def iso(v: datetime | str) -> str:
            return v if isinstance(v, str) else v.isoformat().replace("+00:00", "Z")

        body = self.api.as_user(user).post(
            "/exports", json={"symbol": symbol, "from": iso(start), "to": iso(end)},
            expect=expect).json()
        if expect == 202:
            self.created.append((user, str(body["id"])))
        return body

    def wait(self, user: User, export_id: str, statuses: Iterable[str] = ("succeeded",),
             timeout: float = 30.0) -> dict:
        wanted = set(statuses)
        client = self.api.as_user(user)

        def reached() -> Poll:
            ex = client.get(f"/exports/{export_id}", expect=200).json()
            return Poll(ex["status"] in wanted, ex)

        return wait_until(reached, what=f"export {export_id} to reach {'/'.join(sorted(wanted))}",
                          timeout=timeout, interval=0.1)

    def cleanup(self) -> None:
        for user, ex_id in self.created:
            with contextlib.suppress(Exception):
                self.api.as_user(user).delete(f"/exports/{ex_id}")
