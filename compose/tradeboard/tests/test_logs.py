"""Request ids on log lines: what lets a test suite find its own requests in a shared log."""

from __future__ import annotations

import logging

from tradeboard import logs


def _format(message: str, rid: str = "", exc: bool = False) -> str:
    formatter = logs.RequestIdFormatter(logs.FORMAT)
    token = logs.REQUEST_ID.set(rid)
    try:
        exc_info = None
        if exc:
            try:
                raise ValueError("boom")
            except ValueError as err:
                exc_info = (type(err), err, err.__traceback__)
        record = logging.LogRecord("tradeboard.api", logging.INFO, "x.py", 1, message, None,
                                   exc_info)
        return formatter.format(record)
    finally:
        logs.REQUEST_ID.reset(token)


def test_a_request_line_ends_with_its_request_id():
    assert _format("GET /health 200 1.0ms", "run1-abc123").endswith(
        "INFO tradeboard.api GET /health 200 1.0ms rid=run1-abc123")


def test_lines_outside_a_request_carry_no_id():
    assert "rid=" not in _format("schema ready")


def test_the_id_goes_on_the_first_line_not_after_the_traceback():
    first, *rest = _format("unhandled error", "r-1", exc=True).splitlines()
    assert first.endswith("unhandled error rid=r-1") and rest[0].startswith("Traceback")


def test_only_safe_ids_are_taken_from_the_headers():
    assert logs.request_id([(b"X-Request-ID", b"run1-abc_1.2:3")]) == "run1-abc_1.2:3"
    assert logs.request_id([(b"x-request-id", b"a b\nINFO forged")]) == ""
    assert logs.request_id([(b"x-request-id", b"x" * 200)]) == ""
    assert logs.request_id([]) == ""
