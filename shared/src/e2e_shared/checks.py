"""Readiness checks by real protocol, and the one-time initialisation after a service is ready.

Each check returns a :class:`~e2e_shared.waits.Poll`; the connection errors a service gives
while it starts are the ``TRANSIENT`` ones the waits retry. Everything else propagates.
"""

from __future__ import annotations

import functools
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .waits import Poll

TRANSIENT: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


def _transient_db() -> tuple[type[BaseException], ...]:
    import psycopg

    return (psycopg.OperationalError,)


def _transient_s3() -> tuple[type[BaseException], ...]:
    import botocore.exceptions as bce

    return (bce.EndpointConnectionError, bce.ConnectionClosedError, bce.ReadTimeoutError,
            bce.ConnectTimeoutError)


def transient_errors() -> tuple[type[BaseException], ...]:
    import requests

    return TRANSIENT + _transient_db() + _transient_s3() + (requests.ConnectionError,
                                                             requests.Timeout)


def _pg_dsn(port: int, user: str = "postgres", dbname: str = "postgres") -> str:
    return f"host=127.0.0.1 port={port} user={user} dbname={dbname} connect_timeout=2"


def sql_ready(port: int) -> Poll:
    import psycopg

    with psycopg.connect(_pg_dsn(port), autocommit=True) as conn:
        value = conn.execute("select 1").fetchone()
    return Poll(value == (1,), f"select 1 -> {value}")


_SESSION_LOCK = threading.Lock()


@functools.cache
def _boto_session() -> Any:
    import boto3

    return boto3.session.Session()


def s3_client(url: str, access_key: str = "test", secret_key: str = "test",
              region: str = "us-east-1") -> Any:
    from botocore.config import Config

    # One session per process: a new one reloads botocore's service models (about 0.3 s), and
    # readiness checks run after every fault test. Sessions are not thread-safe: hence the lock.
    with _SESSION_LOCK:
        return _boto_session().client(
            "s3", endpoint_url=url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )


def s3_ready(port: int) -> Poll:
    names = [b["Name"] for b in s3_client(f"http://127.0.0.1:{port}").list_buckets()["Buckets"]]
    return Poll(True, f"list_buckets -> {names}")


def http_ready(port: int, path: str = "/") -> Poll:
    import requests

    resp = requests.get(f"http://127.0.0.1:{port}{path}", timeout=2)
    # /health answers 503 while a dependency is away; the process itself is up and serving.
    return Poll(resp.status_code in (200, 503) if path.endswith("health") else resp.ok,
                f"GET {path} -> {resp.status_code}")


def tcp_ready(port: int) -> Poll:
    """Something accepts connections on the port (for a service with no protocol check)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return Poll(True, f"connected to 127.0.0.1:{port}")


def redis_ready(port: int) -> Poll:
    """Redis answers PING (raw RESP: no client library needed; LOADING or an error is not ready)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"*1\r\n$4\r\nPING\r\n")
        answer = conn.recv(64).decode("ascii", "replace").strip()
    return Poll(answer == "+PONG", f"PING -> {answer or '(nothing)'}")


def command_ready(argv: Sequence[str], env: dict[str, str] | None = None) -> Poll:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=10, env=env)
    out = (proc.stdout + proc.stderr).strip().splitlines()
    return Poll(proc.returncode == 0, f"exit {proc.returncode}: {out[-1] if out else ''}")


# --- initialisation after readiness (idempotent: runs again after every restart) ---------

def app_database(database_url: str) -> dict[str, str]:
    """The application's role, password and database, read from ``[tool.e2e.endpoints]
    database_url`` (the product's names live in its configuration, not here)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(database_url.replace("{", "").replace("}", ""))  # port templates aside
    role, database = unquote(parts.username or ""), unquote(parts.path.lstrip("/"))
    return {"role": role, "password": unquote(parts.password or ""), "database": database} \
        if role and database and role != "postgres" else {}


def init_postgres(port: int, *, role: str, password: str, database: str) -> None:
    """The application's role and database."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_pg_dsn(port), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            conn.execute(sql.SQL("create role {} login password {}").format(
                sql.Identifier(role), sql.Literal(password)))
        if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(database), sql.Identifier(role)))


def init_buckets(port: int, buckets: Sequence[str]) -> None:
    client = s3_client(f"http://127.0.0.1:{port}")
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    for name in buckets:
        if name not in existing:
            client.create_bucket(Bucket=name)


def _init_app_database(port: int, endpoints: dict[str, Any]) -> None:
    names = app_database(str(endpoints.get("database_url", "")))
    if names:  # no application role named: the suites use the superuser's database
        init_postgres(port, **names)


INIT: dict[str, Callable[..., None]] = {
    "postgres": lambda port, endpoints: _init_app_database(port, endpoints),
    "buckets": lambda port, endpoints: init_buckets(port, endpoints.get("buckets", ())),
}
