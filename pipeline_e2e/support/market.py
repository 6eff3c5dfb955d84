"""The API as a user reads it: bars over a window, upload status, pipeline status."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from e2e_shared.clients import ApiClient
from e2e_shared.waits import Poll, wait_until

from .expected import Bar, bar_from_json, iso, totals

# "Not yet" while a dependency is away: the API is restarting or answers 503.
TRANSIENT = (requests.ConnectionError, requests.Timeout)


class Market:
    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def bars(self, symbol: str, start: datetime, end: datetime, interval: str = "1m") -> list[Bar]:
        body = self.client.get("/bars", params={"symbol": symbol, "interval": interval, "from": iso(start),
                                                "to": iso(end)}, expect=200).json()
        assert body["symbol"] == symbol and body["interval"] == interval, body
        return [bar_from_json(b) for b in body["bars"]]

    def totals(self, symbols: Iterable[str], start: datetime, end: datetime) -> tuple[Decimal, int]:
        """(volume, trades) over the 1-minute bars of ``symbols`` in ``[start, end)``."""
        volume, count = Decimal(0), 0
        for symbol in symbols:
            v, n = totals(self.bars(symbol, start, end))
            volume, count = volume + v, count + n
        return volume, count

    def wait_visible(self, symbols: Iterable[str], start: datetime, end: datetime, trades: int,
                     *, timeout: float = 30.0) -> float:
        """Poll the bars until they count ``trades`` trades; the monotonic time they first did."""
        wanted = list(symbols)

        def visible() -> Poll:
            n = self.totals(wanted, start, end)[1]
            return Poll(n >= trades, (n, time.monotonic()))

        count, seen = wait_until(visible, what=f"{trades} trades of {','.join(wanted)} in the bars"
                                 f" of {iso(start)}..{iso(end)}", timeout=timeout, interval=0.05)
        assert count == trades, f"the bars count {count} trades, {trades} were sent"
        return float(seen)

    def upload(self, upload_id: str) -> dict[str, Any]:
        return self.client.get(f"/uploads/{upload_id}", expect=200).json()

    def rejections(self, upload_id: str) -> list[dict[str, Any]]:
        return self.client.get(f"/uploads/{upload_id}/rejections", expect=200).json()

    def wait_upload(self, upload_id: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """The upload once loaded or rejected; connection errors and 503s mean "not yet"."""
        def done() -> Poll:
            resp = self.client.get(f"/uploads/{upload_id}", expect=(200, 503))
            if resp.status_code == 503:
                return Poll(False, resp.json())
            body = resp.json()
            return Poll(body["status"] != "pending", body)

        return wait_until(done, what=f"upload {upload_id} to be loaded", timeout=timeout, interval=0.1,
                          transient=TRANSIENT)

    def status(self) -> dict[str, Any]:
        return self.client.get("/pipeline/status", expect=200).json()

    def wait_status(self, condition: Any, what: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """The pipeline status once ``condition(status)`` holds."""
        def check() -> Poll:
            resp = self.client.get("/pipeline/status", expect=(200, 503))
            body = resp.json()
            return Poll(resp.status_code == 200 and bool(condition(body)), body)

        return wait_until(check, what=what, timeout=timeout, interval=0.1, transient=TRANSIENT)
