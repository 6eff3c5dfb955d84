"""How timestamps and numbers look on the wire (JSON, CSV exports)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime, or None.

    A naive value is UTC. A ``+`` that became a space in an unencoded query string is
    repaired, so ``?from=2026-01-05T10:00:00+00:00`` works as typed.
    """
    text = text.strip()
    if not text or len(text) > 64:
        return None
    if " " in text[10:] and "T" in text:
        text = text[:10] + text[10:].replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def number(value: Decimal | float | None) -> int | float | None:
    """A JSON number: integral values as int (``100``), others as float (``187.25``)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def decimal_text(value: Decimal) -> str:
    """Plain notation for CSV (``0.000001`` not ``1E-6``), no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
