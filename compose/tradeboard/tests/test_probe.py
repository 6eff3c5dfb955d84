"""The pipeline readiness probe: light to start, and a clear "not ready" when it cannot tell."""

from __future__ import annotations

import socket
import subprocess
import sys

from tradeboard import probe


def test_sqlalchemy_url_becomes_a_libpq_url():
    url = "postgresql+psycopg://tb:pw@127.0.0.1:5432/tradeboard?sslmode=disable"
    assert probe.libpq_url(url) == "postgresql://tb:pw@127.0.0.1:5432/tradeboard?sslmode=disable"
    assert probe.libpq_url("postgresql://h/db") == "postgresql://h/db"


def test_probe_imports_neither_sqlalchemy_nor_boto3():
    code = "import sys, tradeboard.probe; print(sorted({'sqlalchemy', 'boto3'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unreachable_database_is_not_ready_with_the_reason(capsys):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert probe.check(f"postgresql+psycopg://tb:pw@127.0.0.1:{port}/tradeboard", timeout=1) == 1
    assert capsys.readouterr().err.startswith("not ready: OperationalError")
