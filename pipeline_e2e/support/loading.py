"""Sending trade files into the pipeline and waiting for them: by upload (API) or straight into S3."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from e2e_shared.clients import ApiClient
from tradeboard_fixtures.factories import TradeFile, TradeFileFactory, User

from .market import Market
from .warehouse import Warehouse


class Loader:
    def __init__(self, trade_files: TradeFileFactory, user: User, market: Market, warehouse: Warehouse,
                 api: ApiClient) -> None:
        self.trade_files = trade_files
        self.user = user
        self.market = market
        self.warehouse = warehouse
        self.api = api

    def send(self, tf: TradeFile) -> dict[str, Any]:
        """Upload ``tf`` through the API (202) without waiting for the worker."""
        return self.trade_files.upload(self.user, tf)

    def upload(self, tf: TradeFile, *, timeout: float = 30.0) -> dict[str, Any]:
        """Upload ``tf`` through the API and return its upload once the worker is done with it."""
        self.send(tf)
        return self.market.wait_upload(tf.upload_id, timeout=timeout)

    def put(self, tf: TradeFile, key: str | None = None, *, timeout: float = 30.0) -> dict[str, Any]:
        """Put ``tf`` straight into the landing bucket; its landing_files row once done."""
        key = self.trade_files.put(tf, key=key)
        return self.warehouse.wait_done(key, timeout=timeout)

    def upload_at_once(self, files: Sequence[TradeFile]) -> None:
        """Upload every file from its own thread and connection, all released together."""
        start = threading.Barrier(len(files))

        def send(tf: TradeFile) -> dict[str, Any]:
            client = ApiClient(self.api.base_url, recorder=self.api.recorder, token=self.user.access_token)
            mime = "text/csv" if tf.fmt == "csv" else "application/x-ndjson"
            start.wait(timeout=30)
            return client.post("/uploads", files={"file": (tf.name, tf.content(), mime)}, expect=202).json()

        with ThreadPoolExecutor(max_workers=len(files)) as pool:
            bodies = list(pool.map(send, files))
        for tf, body in zip(files, bodies, strict=True):
            tf.upload_id, tf.object_key = str(body["id"]), body["object_key"]
            self.trade_files.objects.append(tf.object_key)  # removed from the bucket after the test


def valid_ids(tf: TradeFile) -> list[str]:
    return [str(r["trade_id"]) for r in tf.valid]


def invalid_ids(tf: TradeFile) -> list[str]:
    return [str(r["trade_id"]) for r in tf.invalid]


def symbols_of(tf: TradeFile) -> list[str]:
    return sorted({str(r["symbol"]) for r in tf.valid})


def outcome(done: dict[str, Any]) -> tuple[Any, ...]:
    """(status, rows_total, rows_new, rows_duplicate, rows_rejected) of an upload or landing file."""
    return tuple(done[k] for k in ("status", "rows_total", "rows_new", "rows_duplicate", "rows_rejected"))
