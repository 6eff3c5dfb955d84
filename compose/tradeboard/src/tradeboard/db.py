"""Database access: the engine every process shares, and how to tell "the database is away"."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, exc
from sqlalchemy.engine import make_url

# Every connection speaks UTC so that timestamps come back as UTC datetimes.
_OPTIONS = "-c TimeZone=UTC"


def make_engine(database_url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine that notices a restarted database by itself.

    pool_pre_ping replaces connections that died with the server; connect_timeout and
    pool_timeout keep a request from hanging when the database is unreachable.
    """
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=5,
        hide_parameters=True,  # errors get logged: keep bound values (emails, hashes) out
        connect_args={"connect_timeout": 2, "options": _OPTIONS},
    )


def conninfo(database_url: str) -> dict[str, Any]:
    """psycopg connection keywords for a SQLAlchemy URL (for the out-of-pool health check)."""
    url = make_url(database_url)
    params: dict[str, Any] = {
        "host": url.host, "port": url.port, "user": url.username,
        "password": url.password, "dbname": url.database,
    }
    params.update({k: v for k, v in url.query.items() if isinstance(v, str)})
    return {k: v for k, v in params.items() if v is not None}


def check_connection(database_url: str, timeout: float = 2.0) -> psycopg.Connection[Any]:
    """A fresh autocommit connection that gives up within ``timeout`` seconds."""
    ms = int(timeout * 1000)
    return psycopg.connect(
        **conninfo(database_url), connect_timeout=max(1, int(timeout)), autocommit=True,
        options=f"{_OPTIONS} -c statement_timeout={ms}",
    )


# Errors that mean "the database is away or overloaded", not "the query is wrong".
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
               psycopg.OperationalError, psycopg.InterfaceError)


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, UNAVAILABLE)
