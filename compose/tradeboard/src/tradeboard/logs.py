"""Logging to stdout, one line per event: the stack driver redirects it to a file.

A request's lines end in ``rid=<id>`` when the caller sent an ``X-Request-ID`` header: test
suites send one per test and keep only their own lines out of a log many suites share.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,80}")  # nothing else reaches the log (no injection)
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's ``X-Request-ID`` from ASGI headers when it is a safe token, else ''."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _SAFE_ID.fullmatch(text) else ""
    return ""


class RequestIdFormatter(logging.Formatter):
    """Appends `` rid=<id>`` to the first line of every record logged while serving a request."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        text = super().formatMessage(record)
        rid = REQUEST_ID.get()
        return f"{text} rid={rid}" if rid else text


class NoWebSocketQuery(logging.Filter):
    """Drops uvicorn's own WebSocket lines: ``"WebSocket /ws/trades?...&token=..." [accepted]``
    holds the access token (a browser cannot send it in a header), and ``connection open`` /
    ``connection closed`` say nothing the API's own ``WS <path>`` lines do not."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return "WebSocket" not in message and message not in ("connection open",
                                                             "connection closed")


def setup(name: str) -> logging.Logger:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RequestIdFormatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # boto and psycopg chatter is not ours to report; failures reach us as exceptions.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").addFilter(NoWebSocketQuery())
    return logging.getLogger(name)
