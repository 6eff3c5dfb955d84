"""Upload -> ingest -> query: counts, bars and latest trades reflect exactly the rows sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend_e2e.market import INTERVALS, Trade, api_bars, expected_bars, iso, sent_trades
from backend_e2e.scoped import Toolkit

pytestmark = [pytest.mark.flow, pytest.mark.contract("uploads.accept", "uploads.counts")]


@pytest.fixture(scope="module")
def loaded(make_toolkit: Any) -> Iterator[tuple[Toolkit, Any, Any, dict[str, Any]]]:
    """One user's CSV of 240 AAPL and MSFT trades over 3 hours, loaded (read-only for the tests)."""
    kit = make_toolkit(f"{__name__}::loaded")
    user = kit.users.create("uploader")
    tf = kit.trade_files.build(240, symbols=("AAPL", "MSFT"), spread_minutes=180)
    kit.trade_files.upload(user, tf)
    status = kit.trade_files.wait_loaded(user, tf)
    yield kit, user, tf, status
    kit.close()


def _bars(api: Any, user: Any, symbol: str, interval: str, start: datetime, end: datetime) -> list[dict]:
    resp = api.as_user(user).get("/bars", params={"symbol": symbol, "interval": interval,
                                                  "from": iso(start), "to": iso(end)}, expect=200)
    body = resp.json(parse_float=Decimal)
    assert (body["symbol"], body["interval"]) == (symbol, interval)
    return api_bars(body)


def test_uploaded_file_is_loaded_with_every_row_counted(loaded: Any) -> None:
    _kit, _user, tf, status = loaded
    assert status["status"] == "loaded", status
    assert (status["rows_total"], status["rows_loaded"], status["rows_rejected"]) == (240, 240, 0)
    assert (status["rows_new"], status["rows_duplicate"]) == (240, 0)
    assert status["loaded_at"] is not None and status["error"] is None
    assert status["object_key"].endswith(tf.name)


@pytest.mark.contract("market.bars")
@pytest.mark.parametrize("interval", list(INTERVALS))
@pytest.mark.parametrize("symbol", ["AAPL", "MSFT"])
def test_bars_of_the_window_equal_the_ohlcv_of_the_rows_sent(loaded: Any, api: Any, symbol: str,
                                                              interval: str) -> None:
    _kit, user, tf, _status = loaded
    mine = [t for t in sent_trades(tf.valid) if t.symbol == symbol]
    assert _bars(api, user, symbol, interval, *tf.window) == expected_bars(mine, interval)


@pytest.mark.contract("market.bars")
def test_bars_honour_from_inclusive_and_to_exclusive(loaded: Any, api: Any) -> None:
    _kit, user, tf, _status = loaded
    trades = [t for t in sent_trades(tf.valid) if t.symbol == "AAPL"]
    minutes = sorted({t.ts.replace(second=0, microsecond=0) for t in trades})
    start, end = minutes[1], minutes[-2]  # cut the first and last minute off
    inside = [t for t in trades if start <= t.ts < end]
    assert _bars(api, user, "AAPL", "1m", start, end) == expected_bars(inside, "1m")


@pytest.mark.contract("uploads.list", "uploads.get")
def test_uploads_list_shows_the_upload_with_its_counts(loaded: Any, api: Any) -> None:
    _kit, user, tf, status = loaded
    listed = api.as_user(user).get("/uploads", expect=200).json()
    assert [u["id"] for u in listed] == [tf.upload_id]
    assert listed[0] == status


@pytest.mark.contract("uploads.rejections", "pipeline.validation")
def test_rejected_rows_are_counted_explained_and_kept_out_of_bars(api: Any, shared_user: Any,
                                                                   trade_files: Any) -> None:
    kinds = ("unknown_symbol", "non_positive_price", "non_positive_quantity", "bad_timestamp", "malformed")
    tf = trade_files.build(30, invalid=kinds, spread_minutes=20)
    trade_files.upload(shared_user, tf)
    status = trade_files.wait_loaded(shared_user, tf)
    assert (status["rows_total"], status["rows_loaded"], status["rows_rejected"]) == (35, 30, 5)
    rejections = api.as_user(shared_user).get(f"/uploads/{tf.upload_id}/rejections", expect=200).json()
    assert sorted(r["reason"] for r in rejections) == sorted(kinds)
    assert _bars(api, shared_user, "AAPL", "1m", *tf.window) == expected_bars(sent_trades(tf.valid), "1m")


def test_jsonl_upload_loads_like_csv(api: Any, shared_user: Any, trade_files: Any) -> None:
    tf = trade_files.build(40, symbols=("NVDA",), fmt="jsonl", spread_minutes=15)
    trade_files.upload(shared_user, tf)
    assert trade_files.wait_loaded(shared_user, tf)["rows_new"] == 40
    assert _bars(api, shared_user, "NVDA", "5m", *tf.window) == expected_bars(sent_trades(tf.valid), "5m")


def test_sending_the_same_rows_again_adds_nothing(api: Any, shared_user: Any, trade_files: Any) -> None:
    tf = trade_files.build(25, symbols=("GOOG",), spread_minutes=10)
    trade_files.upload(shared_user, tf)
    trade_files.wait_loaded(shared_user, tf)
    before = _bars(api, shared_user, "GOOG", "1m", *tf.window)
    trade_files.upload(shared_user, tf)  # a new upload of the very same rows
    again = trade_files.wait_loaded(shared_user, tf)
    assert (again["rows_loaded"], again["rows_new"], again["rows_duplicate"]) == (25, 0, 25)
    assert _bars(api, shared_user, "GOOG", "1m", *tf.window) == before == expected_bars(sent_trades(tf.valid))


@pytest.mark.contract("market.trades_latest", "market.number_formats")
def test_latest_trades_show_the_uploaded_trades_newest_first(api: Any, shared_user: Any,
                                                             trade_files: Any) -> None:
    # Trades of the last few minutes, so that they are among the newest of the symbol.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    tf = trade_files.build(12, symbols=("INTC",), start=start, spread_minutes=2)
    trade_files.upload(shared_user, tf)
    trade_files.wait_loaded(shared_user, tf)
    body = api.as_user(shared_user).get("/trades/latest", params={"symbol": "INTC", "limit": 500},
                                 expect=200).json(parse_float=Decimal)
    got = [Trade.of({**t, "symbol": body["symbol"]}) for t in body["trades"]]
    assert [(t.ts, t.trade_id) for t in got] == sorted(((t.ts, t.trade_id) for t in got), reverse=True)
    mine = {t.trade_id for t in sent_trades(tf.valid)}
    shown = [t for t in got if t.trade_id in mine]
    assert shown == sorted(sent_trades(tf.valid), reverse=True), "the upload's trades, newest first"
    assert got[0].ts >= shown[0].ts
