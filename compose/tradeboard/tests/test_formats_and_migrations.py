"""Wire formats, upload file names and the packaged migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from tradeboard.formats import decimal_text, iso, number, parse_iso
from tradeboard.migrate import discover
from tradeboard.routes.uploads import safe_filename


def test_iso_is_utc_with_z() -> None:
    assert iso(datetime(2026, 1, 5, 14, 30, tzinfo=UTC)) == "2026-01-05T14:30:00Z"
    assert iso(datetime(2026, 1, 5, 16, 30, tzinfo=timezone(timedelta(hours=2)))) == \
        "2026-01-05T14:30:00Z"
    assert iso(None) is None


def test_parse_iso_repairs_an_unencoded_plus() -> None:
    expected = datetime(2026, 1, 5, 10, tzinfo=UTC)
    for text in ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+00:00", "2026-01-05T10:00:00 00:00",
                 "2026-01-05T11:00:00+01:00", "2026-01-05T10:00:00"):
        assert parse_iso(text) == expected, text
    assert parse_iso("2026-01-05") == datetime(2026, 1, 5, tzinfo=UTC)
    assert parse_iso("yesterday") is None
    assert parse_iso("") is None


def test_numbers() -> None:
    assert number(Decimal(100)) == 100 and isinstance(number(Decimal("100.000")), int)
    assert number(Decimal("187.25")) == 187.25
    assert number(None) is None
    assert decimal_text(Decimal("1E-6")) == "0.000001"
    assert decimal_text(Decimal("187.2500")) == "187.25"
    assert decimal_text(Decimal(100)) == "100"


def test_safe_filename() -> None:
    assert safe_filename("trades.csv") == "trades.csv"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\data\\t.csv") == "t.csv"
    assert safe_filename("a b?c*.csv") == "a b_c_.csv"
    assert safe_filename("") == "upload"
    assert safe_filename(None) == "upload"


def test_migrations_are_numbered_without_gaps() -> None:
    found = discover()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "schema"
    assert "CREATE TABLE trades" in found[0].sql
