"""Each service serves 2,000 requests in a row without growing: its resident memory stays within
20 MB of where it was, and its open descriptors come back (the engine's ``resources`` fixture
reads the service's whole process tree; embedded driver only).

One row of ``WORKLOADS`` per service: a name as in the stack, and how to exercise it. Adding a
service is one line.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import sqlalchemy as sa

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
    """GETs of ``paths`` in turn over one keep-alive session, each answered 200."""

    @contextlib.contextmanager
    def exercise(request: pytest.FixtureRequest) -> Iterator[Hit]:
        base = url_of(request.getfixturevalue("stack")).rstrip("/")
        with requests.Session() as session:
            if signed_in:
                user = request.getfixturevalue("user")
                session.headers["Authorization"] = f"Bearer {user.access_token}"

            def hit(i: int) -> None:
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


WORKLOADS = [
    pytest.param(Workload("api", "an authenticated GET /auth/me",
                          _http(lambda s: s.endpoints.api_url, ("/auth/me",), signed_in=True)),
                 id="api", marks=pytest.mark.contract("resources.steady")),
    pytest.param(Workload("web", "GET / and a static file in turn",
                          _http(lambda s: s.endpoints.web_url, ("/", "/static/style.css"))),
                 id="web", marks=pytest.mark.contract("resources.steady")),
    pytest.param(Workload("db", "a short SQL query over a pooled connection", _sql), id="db"),
    pytest.param(Workload("objects", "an S3 HEAD or GET of one object", _s3), id="objects"),
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
