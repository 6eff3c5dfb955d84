"""Benchmark of the live feed as a user sees it: from the upload of a small CSV (``POST
/uploads`` through the API) to the trade's row in the symbol page of a real Chromium, written to
the "live-feed" section of docs/benchmarks.md (``invoke bench --live``, or
``python -m frontend_e2e.live_bench --uploads 20`` against a running, seeded stack).

Every timestamp is the machine's wall clock: the test's ``time.time()`` before the upload call
and when it was answered, the worker's ``loaded_at`` (``clock_timestamp()`` as it marks the file
loaded, just before its commit, from ``GET /uploads/{id}``), and the row's ``data-received-at``
(``performance.timeOrigin + performance.now()`` when the page added the row). So the whole
latency splits into the upload call, the worker's pickup and load, and the rest (commit,
publish to Redis, the API's feed, the WebSocket, the page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from datetime import datetime

from playwright.sync_api import sync_playwright

from e2e_shared.bench import machine, write_section
from e2e_shared.browser import find_chromium, launch_args
from e2e_shared.clients import ApiClient
from e2e_shared.config import find_root, load_settings
from e2e_shared.naming import Namer
from e2e_shared.seeding import require_endpoints
from frontend_e2e.pages import SymbolPage
from frontend_e2e.pages.symbol import LIVE
from frontend_e2e.support.accounts import signed_in_state
from frontend_e2e.support.feed import newest_trades
from tradeboard_fixtures.factories import TradeFileFactory, UserFactory, WindowAllocator

SYMBOL = "INTC"
SHOWN_MS = 30_000


@dataclass(frozen=True)
class Sample:
    """One upload, in ms from the moment the upload call was made."""

    answered: float  # POST /uploads answered 202
    loaded: float    # the worker marked the file loaded
    shown: float     # the row was added to the page

    @property
    def pickup(self) -> float:
        return self.loaded - self.answered

    @property
    def delivery(self) -> float:
        return self.shown - self.loaded


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (inclusive method: within the data's range for small samples)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def measure(uploads: int) -> list[Sample]:
    """Upload ``uploads`` one-trade files one after another, each once the last one showed."""
    settings = load_settings()
    ep = require_endpoints(settings, "api_url", "web_url")
    api = ApiClient(ep.api_url)
    namer = Namer(f"bench{int(time.time())}", "live-bench")
    users = UserFactory(api, namer)
    files = TradeFileFactory(api, namer, s3=None, windows=WindowAllocator(None))
    user = users.create("bench")
    client = api.as_user(user)
    samples = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_args(find_chromium()))
            context = browser.new_context(base_url=ep.web_url,
                                          storage_state=signed_in_state(ep.web_url, user))
            page = SymbolPage(context.new_page()).open_symbol(SYMBOL)
            page.wait_for_status(LIVE)
            for i in range(uploads):
                tf = newest_trades(files, 1, SYMBOL)
                t0 = time.time() * 1000
                files.upload(user, tf)
                answered = time.time() * 1000
                row = page.live_row(tf.rows[0]["trade_id"])
                row.wait_for(timeout=SHOWN_MS)
                shown = float(row.get_attribute("data-received-at") or "nan")
                loaded_at = client.get(f"/uploads/{tf.upload_id}", expect=200).json()["loaded_at"]
                s = Sample(answered - t0, epoch_ms(loaded_at) - t0, shown - t0)
                samples.append(s)
                print(f"upload {i + 1}: shown after {s.shown:.0f} ms (answered {s.answered:.0f}, "
                      f"pickup+load {s.pickup:.0f}, commit+publish+feed+page {s.delivery:.0f})")
            browser.close()
    finally:
        files.cleanup()
        users.cleanup()
    return samples


def render(samples: list[Sample]) -> str:
    parts = [
        ("upload -> row in the browser (the whole latency)", [s.shown for s in samples]),
        ("the upload call (`POST /uploads` answered 202)", [s.answered for s in samples]),
        ("answered -> file loaded (worker pickup, validation, insert)", [s.pickup for s in samples]),
        ("loaded -> row in the browser (commit, publish, API feed, WebSocket, page)",
         [s.delivery for s in samples]),
    ]
    return "\n".join([
        "## Live feed latency: upload to a row in the browser", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {machine()}, embedded stack, Chromium "
        f"(system) headless, one signed-in symbol page ({SYMBOL}, status Live). {len(samples)} "
        "uploads of a one-trade CSV through the API, one after another (each once the last one "
        "showed). Times from the wall clock of the one machine: the upload call, the worker's "
        "`loaded_at`, the row's `data-received-at` (`python -m frontend_e2e.live_bench`). Load "
        f"average at the end: {os.getloadavg()[0]:.1f}.", "",
        "| part | p50 (ms) | p95 (ms) | max (ms) |", "| --- | --- | --- | --- |",
        *[f"| {name} | {percentile(v, 50):.0f} | {percentile(v, 95):.0f} | {max(v):.0f} |"
          for name, v in parts],
        "",
        "The worker looks for new files every `TB_POLL_INTERVAL` (0.2 s by default; the worker "
        "log's first line says), so the pickup part is mostly that wait; what the feed itself "
        "adds is the last line.",
    ])


def bench_live(uploads: int = 20) -> list[Sample]:
    """Measure, write the "live-feed" section of docs/benchmarks.md, return the samples."""
    samples = measure(uploads)
    body = render(samples)
    print(body)
    print(f"written to {write_section(find_root(), 'live-feed', body)}")
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20, help="uploads to time (default 20)")
    args = parser.parse_args()
    bench_live(args.uploads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
