"""Reading trade files (CSV or JSON lines) and validating their rows: pure functions.

One record per line. Blank lines are skipped and not counted. ``line`` is the 1-based line
number in the file, so in a CSV the header is line 1 and the first trade line 2.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Format = Literal["csv", "jsonl"]
COLUMNS = ("trade_id", "symbol", "price", "quantity", "ts")
REASONS = ("malformed", "unknown_symbol", "non_positive_price", "non_positive_quantity",
           "bad_timestamp")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MAX_TRADE_ID = 128
MAX_RAW = 2000
# Beyond this a price or quantity is not a plausible number (and would overflow exports).
MAX_VALUE = Decimal("1e15")
MAX_DECIMALS = 20
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_CONTENT_TYPES: dict[str, Format] = {
    "text/csv": "csv", "application/csv": "csv",
    "application/x-ndjson": "jsonl", "application/ndjson": "jsonl",
    "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}


@dataclass(frozen=True)
class Trade:
    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal
    ts: datetime


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    raw: str


class FileRejected(Exception):
    """The file cannot be read at all (encoding, header); the message says why."""


def detect_format(filename: str, content_type: str | None = None) -> Format | None:
    """The format by extension, else by content type, else None."""
    lower = filename.lower()
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    mime = (content_type or "").split(";")[0].strip().lower()
    return _CONTENT_TYPES.get(mime)


def sniff_format(data: bytes) -> Format:
    """For objects with no telling name: JSON lines start with ``{``."""
    return "jsonl" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise FileRejected(f"not UTF-8 text (byte {err.start})") from None
    if "\x00" in text:
        raise FileRejected("binary content (NUL bytes)")
    return text


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; ``\\r\\n`` endings accepted."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def _split_csv(line: str) -> list[str]:
    if '"' not in line:
        return line.split(",")  # the fast path: plain fields need no csv machinery
    return next(csv.reader([line]))


def csv_header(line: str) -> dict[str, int]:
    """Column positions from a CSV header line, or FileRejected."""
    names = [name.strip().lower() for name in _split_csv(line)]
    if sorted(names) != sorted(COLUMNS):
        raise FileRejected(f"the CSV header must be {','.join(COLUMNS)}, got {line[:200]!r}")
    return {name: names.index(name) for name in COLUMNS}


def check_start(data: bytes, fmt: Format) -> None:
    """What the API checks before accepting a file: the CSV header or first JSON line."""
    text = decode(data)
    first = next(_lines(text), None)
    if first is None:
        raise FileRejected("the file is empty")
    if fmt == "csv":
        csv_header(first[1])
        return
    try:
        record = json.loads(first[1])
    except ValueError:
        raise FileRejected("the first line is not JSON") from None
    if not isinstance(record, dict) or not set(COLUMNS) <= set(record):
        raise FileRejected(f"the first JSON line must be an object with keys {', '.join(COLUMNS)}")


def parse_file(data: bytes, fmt: Format, symbols: Collection[str],
               now: datetime) -> tuple[list[Trade], list[Rejection]]:
    """Every row of the file, valid or rejected with its reason; FileRejected when unreadable."""
    text = decode(data)
    lines = _lines(text)
    trades: list[Trade] = []
    rejections: list[Rejection] = []
    if fmt == "csv":
        first = next(lines, None)
        if first is None:
            raise FileRejected("the file is empty")
        positions = csv_header(first[1])
        records = ((number, line, _csv_record(line, positions)) for number, line in lines)
    else:
        records = ((number, line, _json_record(line)) for number, line in lines)
    latest = now + FUTURE_SLACK
    for number, line, record in records:
        result = validate(record, symbols, latest) if record is not None else "malformed"
        if isinstance(result, Trade):
            trades.append(result)
        else:
            rejections.append(Rejection(number, result, line[:MAX_RAW]))
    return trades, rejections


def _csv_record(line: str, positions: dict[str, int]) -> dict[str, Any] | None:
    try:
        fields = _split_csv(line)
    except csv.Error:
        return None
    if len(fields) != len(COLUMNS):
        return None
    return {name: fields[index] for name, index in positions.items()}


def _json_record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line, parse_float=Decimal)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def validate(record: dict[str, Any], symbols: Collection[str], latest: datetime) -> Trade | str:
    """A Trade, or the rejection reason. Checks run in the order of REASONS."""
    trade_id = _text(record.get("trade_id"), allow_int=True)
    symbol = _text(record.get("symbol"))
    price = _decimal(record.get("price"))
    quantity = _decimal(record.get("quantity"))
    raw_ts = record.get("ts")
    if (trade_id is None or len(trade_id) > MAX_TRADE_ID or symbol is None or price is None
            or quantity is None or not isinstance(raw_ts, str) or not raw_ts.strip()):
        return "malformed"
    if symbol not in symbols:
        return "unknown_symbol"
    if price <= 0:
        return "non_positive_price"
    if quantity <= 0:
        return "non_positive_quantity"
    ts = parse_timestamp(raw_ts)
    if ts is None or ts < EARLIEST or ts > latest:
        return "bad_timestamp"
    return Trade(trade_id, symbol, price, quantity, ts)


def _text(value: Any, *, allow_int: bool = False) -> str | None:
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _decimal(value: Any) -> Decimal | None:
    """A finite number within MAX_VALUE from a JSON number or numeric text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        return None
    if int(number.as_tuple().exponent) < -MAX_DECIMALS:
        return None  # more precision than any price has; also keeps numeric in range
    return number


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 timestamp as aware UTC (naive means UTC), or None."""
    text = text.strip()
    if len(text) > 64:
        return None
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 with an offset overflows when moved to UTC
        return None
