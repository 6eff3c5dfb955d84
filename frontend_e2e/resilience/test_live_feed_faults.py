"""The symbol page's live mode under network faults, through the fault proxy in front of the
API and Redis: a cut of the API's connections (the page says Reconnecting…, then shows what it
missed, each trade once) and 300 ms of latency on Redis (the page stays within its freshness).

While the API is cut the trades still reach the worker: the file goes straight into the S3
landing bucket (``trade_files.put``), the worker loads it and publishes through Redis. These
tests disturb the API every other test uses, so they belong to the resilience phase (the
``faults`` fixture takes the stack's exclusive hold).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from e2e_shared.waits import Poll, wait_until
from frontend_e2e.pages import SymbolPage
from frontend_e2e.pages.symbol import LIVE, POLLING, RECONNECTING, LiveRow
from frontend_e2e.support.feed import StatusLog, newest_trades

pytestmark = [pytest.mark.resilience]

SYMBOL = "AMD"  # not the flows' INTC: these trades stay apart from theirs
TRADES = 5
FRESHNESS_S = 2.0  # compose/CONTRACT.md {#web.live.freshness}
REDIS_LATENCY_MS = 300
LOADED_S = 30.0     # S3 -> worker -> committed, on a busy 2-core machine
SHOWN_MS = 20_000   # a generous wait for the rows: freshness is judged from their timestamps
RECONNECT_MS = 20_000  # backoff tops out at 5 s (+ jitter) after the API is back


def wait_loaded(db: Any, key: str) -> dict[str, Any]:
    """The landing_files row of ``key`` once the worker has loaded it."""
    def loaded() -> Poll:
        with db.connect() as conn:
            row = conn.execute(sa.text("SELECT status, loaded_at, error FROM landing_files WHERE key = :k"),
                               {"k": key}).mappings().first()
        return Poll(row is not None and row["status"] != "pending", row and dict(row))

    row = wait_until(loaded, what=f"landing file {key} to be loaded", timeout=LOADED_S, interval=0.1)
    assert row["status"] == "loaded", row
    return row


def loaded_trades(db: Any, key: str) -> list[tuple[str, int]]:
    """(trade_id, seq) of the file's trades as the database holds them, in seq order."""
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT trade_id, seq FROM trades WHERE file_key = :k ORDER BY seq"),
                            {"k": key}).all()
    return [(r.trade_id, int(r.seq)) for r in rows]


def shown(symbol_page: SymbolPage, ids: set[str]) -> list[LiveRow]:
    return [row for row in symbol_page.live_table_rows() if row.trade_id in ids]


def wait_shown(symbol_page: SymbolPage, ids: set[str], timeout: float) -> None:
    for trade_id in ids:
        expect(symbol_page.live_row(trade_id)).to_be_visible(timeout=timeout)


# A short cut ends while the page retries the socket; a long one outlasts three failed opens,
# so the page falls back to Polling (documented) and both REST and the feed race to catch up.
@pytest.mark.parametrize("cut_until", [RECONNECTING, POLLING], ids=["short_cut", "long_cut"])
@pytest.mark.contract("web.live.reconnect", "web.live.polling", "feed.resume")
def test_the_live_page_shows_reconnecting_while_the_api_is_cut_and_then_the_missed_trades_once(
        symbol_page, page, trade_files, db, faults, cut_until):
    symbol_page.open_symbol(SYMBOL)
    symbol_page.wait_for_status(LIVE)
    statuses = StatusLog(page)

    faults.cut("api")
    statuses.wait_for(RECONNECTING)
    tf = newest_trades(trade_files, TRADES, SYMBOL)
    key = trade_files.put(tf)
    wait_loaded(db, key)
    stored = loaded_trades(db, key)
    ids = {trade_id for trade_id, _ in stored}
    assert ids == {r["trade_id"] for r in tf.rows}, "the worker did not load the whole file"
    assert not shown(symbol_page, ids), "the page saw the trades while the API was cut"
    statuses.wait_for(cut_until)
    expect(symbol_page.live_status).not_to_have_text(LIVE)
    assert not shown(symbol_page, ids), "the page saw the trades while the API was cut (polling?)"

    faults.restore("api")
    symbol_page.wait_for_status(LIVE, timeout=RECONNECT_MS)
    wait_shown(symbol_page, ids, SHOWN_MS)
    rows = shown(symbol_page, ids)
    # Each once, newest on top, with the seqs the database gave them.
    assert [(r.trade_id, r.seq) for r in rows] == list(reversed(stored)), rows
    seqs = [r.seq for r in symbol_page.live_table_rows() if r.seq is not None]
    assert len(seqs) == len(set(seqs)), f"a seq shown twice: {seqs}"
    ours = [seq for _, seq in stored]
    assert ours == list(range(ours[0], ours[0] + TRADES)), f"not consecutive: {ours}"
    # Live -> Reconnecting… -> (Polling, after 3 failed opens: documented) -> Live.
    seen = statuses.texts()
    print(f"live statuses through the cut: {' -> '.join(seen)}")
    assert seen[0] == LIVE and seen[1] == RECONNECTING and seen[-1] == LIVE, seen
    assert set(seen[2:-1]) <= {RECONNECTING, POLLING}, seen


@pytest.mark.contract("web.live.freshness")
def test_with_300_ms_of_latency_on_redis_the_live_page_stays_within_its_freshness(
        symbol_page, trade_files, db, faults):
    symbol_page.open_symbol(SYMBOL)
    symbol_page.wait_for_status(LIVE)

    faults.latency("redis", ms=REDIS_LATENCY_MS)
    tf = newest_trades(trade_files, TRADES, SYMBOL)
    key = trade_files.put(tf)
    loaded_at: datetime = wait_loaded(db, key)["loaded_at"]
    ids = {r["trade_id"] for r in tf.rows}
    wait_shown(symbol_page, ids, SHOWN_MS)

    # The browser and the database share the machine's clock.
    ages = sorted(row.received_at / 1000 - loaded_at.timestamp() for row in shown(symbol_page, ids))
    print(f"live freshness with {REDIS_LATENCY_MS} ms on Redis: {', '.join(f'{a:.3f}' for a in ages)} s")
    assert len(ages) == TRADES
    assert ages[-1] <= FRESHNESS_S, f"trades shown {ages} s after their load (promised {FRESHNESS_S} s)"
    # The fault was really on the way: Redis's messages reached the page no sooner than it allows.
    assert ages[-1] >= REDIS_LATENCY_MS / 1000, f"no Redis latency seen: {ages} s"
    expect(symbol_page.live_status).to_have_text(LIVE)
