"""Each service serves 2,000 requests in a row without growing: its resident memory stays within
20 MB of where it was, and its open descriptors come back (the engine's ``resources`` fixture
reads the service's whole process tree; embedded driver only).

One row of ``WORKLOADS`` per service: a name as in the stack, and how to exercise it. Adding a
service is one line.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
import sqlalchemy as sa

from backend_e2e import ratelimit

pytestmark = [pytest.mark.resilience]

WARMUP = 200  # caches, pools and lazy imports fill before the baseline
REQUESTS = 2_000
RSS_GROWTH_MB = 20.0
FDS_TOLERANCE = 3  # a connection of the stack's own (the worker's, a pool's) may open meanwhile
SETTLE_S = 15.0
BUDGET_S = 90.0  # per service: a stack this slow fails here rather than stalling the phase

Hit = Callable[[int], None]  # the i-th request; raises when it is not answered as expected
Exercise = Callable[[pytest.FixtureRequest], contextlib.AbstractContextManager[Hit]]


@dataclass(frozen=True)
class Workload:
    service: str
    does: str
    exercise: Exercise


def _http(url_of: Callable[[Any], str], paths: tuple[str, ...], *, signed_in: bool = False) -> Exercise:
    """GETs of ``paths`` in turn over one keep-alive session, each answered 200.

    Signed in, the requests are spread over as many users as the rate limit (per user, shared
    by every API process: ratelimit.per_user) needs, all signed up before the first request.
    """

    @contextlib.contextmanager
    def exercise(request: pytest.FixtureRequest) -> Iterator[Hit]:
        stack = request.getfixturevalue("stack")
        base = url_of(stack).rstrip("/")
        tokens: list[str] = []
        per_user = WARMUP + REQUESTS
        if signed_in:
            limit, _window = ratelimit.settings(stack)
            per_user = max(1, limit - 10)  # a margin for the user's own requests when signing up
            users = request.getfixturevalue("users")
            tokens = [users.create("leaks").access_token for _ in range(-(-(WARMUP + REQUESTS) // per_user))]
        with requests.Session() as session:

            def hit(i: int) -> None:
                if tokens:
                    session.headers["Authorization"] = f"Bearer {tokens[i // per_user]}"
                path = paths[i % len(paths)]
                resp = session.get(base + path, timeout=10)
                assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:200]}"
                resp.content  # noqa: B018 - read to the end: the connection goes back to the pool

            yield hit

    return exercise


@contextlib.contextmanager
def _sql(request: pytest.FixtureRequest) -> Iterator[Hit]:
    """A short query per checkout of the suite's connection pool."""
    engine = request.getfixturevalue("db")
    # PostgreSQL's own processes (checkpointer, io workers) keep open every relation file they
    # touch: flush what earlier tests wrote now, so they do not open files during the check.
    admin = sa.create_engine(request.getfixturevalue("endpoints").admin_database_url,
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    finally:
        admin.dispose()

    def hit(i: int) -> None:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT :i"), {"i": i}).scalar_one() == i

    yield hit


@contextlib.contextmanager
def _s3(request: pytest.FixtureRequest) -> Iterator[Hit]:
    """HEAD and GET in turn on one small object of the test's own."""
    s3, endpoints = request.getfixturevalue("s3"), request.getfixturevalue("endpoints")
    bucket = "exports"  # the worker ingests what lands in "landing"; exports are only read by key
    assert bucket in endpoints.buckets, f"no {bucket!r} bucket in {endpoints.buckets}"
    key = f"e2e-leak-check/{uuid.uuid4().hex}.txt"
    body = b"leak check\n" * 100
    s3.put_object(Bucket=bucket, Key=key, Body=body)

    def hit(i: int) -> None:
        if i % 2:
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
        else:
            assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)

    try:
        yield hit
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


class Resp:
    """Redis over one raw socket (RESP 2): the suite's environment has no Redis client, and this
    needs none. Commands one at a time; an error reply raises."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379),
                                             timeout=timeout)
        self.reader = self.sock.makefile("rb")
        if parts.password:
            self.call("AUTH", *([unquote(parts.username)] if parts.username else []),
                      unquote(parts.password))
        db = parts.path.strip("/")
        if db and db != "0":
            self.call("SELECT", db)

    def call(self, *args: str | bytes) -> Any:
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode() if isinstance(arg, str) else arg
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _reply(self) -> Any:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError(f"Redis closed the connection mid-reply ({line!r})")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise AssertionError(f"Redis answered an error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.reader.read(size + 2)[:-2]
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise AssertionError(f"not a RESP reply: {line!r}")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@contextlib.contextmanager
def _redis(request: pytest.FixtureRequest) -> Iterator[Hit]:
    """SET and GET in turn on one key of the test's own, over one connection."""
    url = request.getfixturevalue("endpoints").redis_url
    assert url, "the stack has no redis_url endpoint"
    key = f"e2e-leak-check:{uuid.uuid4().hex}"
    conn = Resp(url)

    def hit(i: int) -> None:
        if i % 2:
            assert conn.call("GET", key) == str(i - 1).encode()
        else:
            assert conn.call("SET", key, str(i), "EX", "600") == "OK"

    try:
        yield hit
    finally:
        with contextlib.suppress(OSError):
            conn.call("DEL", key)
        conn.close()


WORKLOADS = [
    pytest.param(Workload("api", "an authenticated GET /auth/me",
                          _http(lambda s: s.endpoints.api_url, ("/auth/me",), signed_in=True)),
                 id="api", marks=pytest.mark.contract("resources.steady")),
    pytest.param(Workload("api2", "an authenticated GET /auth/me on the second API process",
                          _http(lambda s: s.endpoints.url("api2_url"), ("/auth/me",), signed_in=True)),
                 id="api2", marks=pytest.mark.contract("resources.steady")),
    pytest.param(Workload("web", "GET / and a static file in turn",
                          _http(lambda s: s.endpoints.web_url, ("/", "/static/style.css"))),
                 id="web", marks=pytest.mark.contract("resources.steady")),
    pytest.param(Workload("db", "a short SQL query over a pooled connection", _sql), id="db"),
    pytest.param(Workload("objects", "an S3 HEAD or GET of one object", _s3), id="objects"),
    pytest.param(Workload("redis", "a SET or GET of one key over one connection", _redis), id="redis"),
]


def _run(hit: Hit, first: int, count: int, deadline: float, what: str) -> None:
    for i in range(first, first + count):
        hit(i)
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: only {i - first + 1} of {count} requests in {BUDGET_S:.0f}s; "
                        "the service is too slow to check for leaks", pytrace=False)


@pytest.mark.parametrize("load", WORKLOADS)
def test_two_thousand_requests_leave_memory_and_descriptors_where_they_were(
        request: pytest.FixtureRequest, resources: Any, load: Workload) -> None:
    deadline = time.monotonic() + BUDGET_S
    with load.exercise(request) as hit:
        _run(hit, 0, WARMUP, deadline, load.service)
        before = resources.snapshot(load.service)
        started = time.monotonic()
        _run(hit, WARMUP, REQUESTS, deadline, load.service)
        took = time.monotonic() - started
        grown = resources.snapshot(load.service)
    # Descriptors: connections the requests opened close a moment after their last answer.
    settled = resources.settle(load.service, fds=before.fds, tolerance=FDS_TOLERANCE, timeout=SETTLE_S)
    print(f"{load.service}: {REQUESTS} x {load.does} in {took:.1f}s; before {before}; "
          f"right after {grown}; settled {settled}")
    for name, value in (("requests_s", round(took, 2)), ("rss_mb_before", round(before.rss_mb, 1)),
                        ("rss_mb_after", round(grown.rss_mb, 1)), ("fds_before", before.fds),
                        ("fds_settled", settled.fds)):
        # The figures of a passing run too, as properties in junit.xml (as the plugin adds its own).
        request.node.user_properties.append((f"leak.{name}", value))
    assert settled.pid == before.pid, f"{load.service} restarted during the check: {before} -> {settled}"
    after = max(grown.rss_mb, settled.rss_mb)
    assert after - before.rss_mb < RSS_GROWTH_MB, (
        f"{load.service}'s RSS grew by {after - before.rss_mb:.1f} MB over {REQUESTS} requests "
        f"({before.rss_mb:.1f} -> {after:.1f} MB; limit {RSS_GROWTH_MB:.0f} MB)")
