"""Row validation and file reading: every rejection reason, formats, line numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeboard import rows

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SYMBOLS = {"AAPL", "MSFT"}
HEADER = "trade_id,symbol,price,quantity,ts"


def parse_csv(*lines: str) -> tuple[list[rows.Trade], list[rows.Rejection]]:
    return rows.parse_file("\n".join([HEADER, *lines]).encode(), "csv", SYMBOLS, NOW)


def reason(line: str) -> str:
    trades, rejections = parse_csv(line)
    assert not trades
    return rejections[0].reason


def test_valid_csv_row() -> None:
    trades, rejections = parse_csv("t-1,AAPL,187.25,100,2026-01-05T14:30:00.123Z")
    assert rejections == []
    assert trades == [rows.Trade("t-1", "AAPL", Decimal("187.25"), Decimal(100),
                                 datetime(2026, 1, 5, 14, 30, 0, 123000, tzinfo=UTC))]


@pytest.mark.parametrize(("line", "expected"), [
    ("t,ZZZZ,1,1,2026-01-05T00:00:00Z", "unknown_symbol"),
    ("t,aapl,1,1,2026-01-05T00:00:00Z", "unknown_symbol"),
    ("t,AAPL,0,1,2026-01-05T00:00:00Z", "non_positive_price"),
    ("t,AAPL,-1.5,1,2026-01-05T00:00:00Z", "non_positive_price"),
    ("t,AAPL,1,0,2026-01-05T00:00:00Z", "non_positive_quantity"),
    ("t,AAPL,1,-3,2026-01-05T00:00:00Z", "non_positive_quantity"),
    ("t,AAPL,1,1,not-a-time", "bad_timestamp"),
    ("t,AAPL,1,1,1999-12-31T23:59:59Z", "bad_timestamp"),
    ("t,AAPL,1,1,2026-06-02T12:00:01Z", "bad_timestamp"),  # more than a day ahead
    ("t,AAPL,1,1,0001-01-01T00:00:00+05:00", "bad_timestamp"),
    ("t,AAPL,abc,1,2026-01-05T00:00:00Z", "malformed"),
    ("t,AAPL,NaN,1,2026-01-05T00:00:00Z", "malformed"),
    ("t,AAPL,1_000,1,2026-01-05T00:00:00Z", "malformed"),
    ("t,AAPL,1e20,1,2026-01-05T00:00:00Z", "malformed"),
    ("t,AAPL,1,1", "malformed"),
    ("t,AAPL,1,1,2026-01-05T00:00:00Z,extra", "malformed"),
    (",AAPL,1,1,2026-01-05T00:00:00Z", "malformed"),
    ("t,AAPL,1,1,", "malformed"),
    ('"t,AAPL,1,1,2026-01-05T00:00:00Z', "malformed"),
])
def test_rejection_reasons(line: str, expected: str) -> None:
    assert reason(line) == expected


def test_malformed_wins_over_other_reasons() -> None:
    assert reason("t,ZZZZ,abc,1,2026-01-05T00:00:00Z") == "malformed"


def test_within_one_day_ahead_is_accepted() -> None:
    trades, _ = parse_csv("t,AAPL,1,1,2026-06-02T11:59:59Z")
    assert len(trades) == 1


def test_naive_and_offset_timestamps_are_utc() -> None:
    trades, _ = parse_csv("a,AAPL,1,1,2026-01-05T10:00:00", "b,AAPL,1,1,2026-01-05T11:00:00+01:00")
    assert [t.ts for t in trades] == [datetime(2026, 1, 5, 10, tzinfo=UTC)] * 2


def test_line_numbers_count_the_header_and_skip_blank_lines() -> None:
    data = (f"{HEADER}\r\nok,AAPL,1,1,2026-01-05T00:00:00Z\r\n"
            "\r\nbad,AAPL,0,1,2026-01-05T00:00:00Z\r\n")
    trades, rejections = rows.parse_file(data.encode(), "csv", SYMBOLS, NOW)
    assert len(trades) == 1
    assert rejections == [rows.Rejection(4, "non_positive_price",
                                         "bad,AAPL,0,1,2026-01-05T00:00:00Z")]


def test_header_columns_in_any_order_and_quoted_fields() -> None:
    data = 'ts,price,quantity,symbol,trade_id\n2026-01-05T00:00:00Z,"1.5",2,MSFT,"id,with,commas"\n'
    trades, rejections = rows.parse_file(data.encode(), "csv", SYMBOLS, NOW)
    assert rejections == []
    assert trades[0].trade_id == "id,with,commas"
    assert trades[0].price == Decimal("1.5")


@pytest.mark.parametrize("data", [b"", b"\n\n", b"a,b,c\n1,2,3\n", b"\xff\xfe\x00\x01"])
def test_unreadable_csv_files_are_rejected_whole(data: bytes) -> None:
    with pytest.raises(rows.FileRejected):
        rows.parse_file(data, "csv", SYMBOLS, NOW)


def test_bom_is_ignored() -> None:
    data = ("\ufeff" + HEADER + "\nt,AAPL,1,1,2026-01-05T00:00:00Z\n").encode()
    trades, _ = rows.parse_file(data, "csv", SYMBOLS, NOW)
    assert len(trades) == 1


def test_json_lines() -> None:
    good = {"trade_id": 7, "symbol": "AAPL", "price": 1.25, "quantity": "3",
            "ts": "2026-01-05T00:00:00Z"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**good, "price": True}),
        json.dumps({k: v for k, v in good.items() if k != "ts"}),
        json.dumps({**good, "symbol": "NOPE"}),
        json.dumps({**good, "ts": 1736000000}),
    ]
    trades, rejections = rows.parse_file("\n".join(lines).encode(), "jsonl", SYMBOLS, NOW)
    assert trades == [rows.Trade("7", "AAPL", Decimal("1.25"), Decimal(3),
                                 datetime(2026, 1, 5, tzinfo=UTC))]
    assert [(r.line, r.reason) for r in rejections] == [
        (2, "malformed"), (3, "malformed"), (4, "malformed"), (5, "malformed"),
        (6, "unknown_symbol"), (7, "malformed")]


def test_counts_add_up() -> None:
    lines = [f"t{i},AAPL,{i % 3},1,2026-01-05T00:00:00Z" for i in range(30)]
    trades, rejections = parse_csv(*lines)
    assert len(trades) + len(rejections) == 30
    assert len(rejections) == 10


@pytest.mark.parametrize(("name", "ctype", "fmt"), [
    ("a.csv", None, "csv"), ("A.CSV", "application/octet-stream", "csv"),
    ("a.jsonl", None, "jsonl"), ("a.ndjson", None, "jsonl"),
    ("upload", "text/csv; charset=utf-8", "csv"), ("upload", "application/x-ndjson", "jsonl"),
    ("a.txt", "text/plain", None), ("a.json", "application/json", None),
])
def test_detect_format(name: str, ctype: str | None, fmt: str | None) -> None:
    assert rows.detect_format(name, ctype) == fmt


def test_sniff_format() -> None:
    assert rows.sniff_format(b'\n {"trade_id": 1}') == "jsonl"
    assert rows.sniff_format(HEADER.encode()) == "csv"


def test_check_start() -> None:
    rows.check_start(f"{HEADER}\n".encode(), "csv")
    rows.check_start(b'{"trade_id":1,"symbol":"A","price":1,"quantity":1,"ts":"x"}\n', "jsonl")
    for data, fmt in [(b"x,y\n", "csv"), (b"[]\n", "jsonl"), (b'{"trade_id": 1}\n', "jsonl"),
                      (b"", "csv")]:
        with pytest.raises(rows.FileRejected):
            rows.check_start(data, fmt)  # type: ignore[arg-type]
