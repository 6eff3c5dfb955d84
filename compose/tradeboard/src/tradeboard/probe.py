"""The pipeline's readiness probe: ``python -m tradeboard.probe``.

Exits 0 iff some worker's heartbeat is younger than ``MAX_AGE`` seconds. It needs only
``TB_DATABASE_URL`` and imports only psycopg, because stacks run it on every readiness poll and
after every fault test: the worker's own imports (SQLAlchemy, boto3) would cost a second each time.
"""

from __future__ import annotations

import re
import sys

import psycopg

from .config import ConfigError, load_settings

MAX_AGE = 10


def libpq_url(database_url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy's form) as the URL libpq reads."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", database_url)


def first_line(err: BaseException) -> str:
    """The first line of an error's message, at most 200 characters (for one-line logs)."""
    return (str(err).strip().splitlines() or [""])[0][:200]


def check(database_url: str, timeout: float = 2.0) -> int:
    """0 when a heartbeat is younger than MAX_AGE seconds, else 1 with the reason on stderr."""
    try:
        with psycopg.connect(libpq_url(database_url), connect_timeout=max(1, int(timeout)),
                             autocommit=True,
                             options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pipeline_heartbeats"
                " WHERE beat_at > now() - make_interval(secs => %s))", (MAX_AGE,),
            ).fetchone()
    except Exception as err:  # noqa: BLE001 - any failure means "not ready"
        print(f"not ready: {type(err).__name__}: {first_line(err)}", file=sys.stderr)
        return 1
    if row and row[0]:
        return 0
    print(f"not ready: no heartbeat younger than {MAX_AGE} s", file=sys.stderr)
    return 1


def main() -> int:
    try:
        settings = load_settings(require=("database_url",))
    except ConfigError as err:
        print(f"tradeboard.probe: {err}", file=sys.stderr)
        return 2
    return check(settings.database_url)


if __name__ == "__main__":
    sys.exit(main())
