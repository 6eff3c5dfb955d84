"""Clients for the stack as its users reach it: HTTP (requests), SQL (SQLAlchemy), S3 (boto3)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from .masking import SECRETS, mask

DEFAULT_TIMEOUT = 10.0
REQUEST_ID_HEADER = "X-Request-ID"  # the reference app logs it on each request line
BODY_RECORD_LIMIT = 2000  # characters of a body kept per exchange
BODY_SHOW_LIMIT = 600  # characters of a body a bundle shows


@dataclass
class Exchange:
    """One request the test made, for its failure bundle (masked when rendered)."""

    method: str
    url: str
    status: int | None
    elapsed_ms: float
    request_body: str = ""
    response_body: str = ""

    def line(self) -> str:
        status = self.status if self.status is not None else "no response"
        return f"{self.method} {self.url} -> {status} ({self.elapsed_ms:.0f} ms)"

    def lines(self, body_limit: int = BODY_SHOW_LIMIT) -> list[str]:
        """The request line, then its request and response bodies (masked, capped), indented."""
        out = [mask(self.line())]
        for arrow, body in ((">", self.request_body), ("<", self.response_body)):
            if body:
                out.append(f"    {arrow} {_cap(mask(body), body_limit)}")
        return out


def _cap(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line: a bundle is read line by line
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


@dataclass
class Recorder:
    exchanges: list[Exchange] = field(default_factory=list)

    def render(self, limit: int = 50, *, bodies: int = 10, body_limit: int = BODY_SHOW_LIMIT
               ) -> list[str]:
        """The last ``limit`` requests, masked; the last ``bodies`` of them with their bodies."""
        shown = self.exchanges[-limit:]
        lines: list[str] = []
        previous: list[str] = []
        for index, exchange in enumerate(shown):
            with_body = index >= len(shown) - bodies
            entry = exchange.lines(body_limit) if with_body else [mask(exchange.line())]
            if len(entry) > 1 and entry[1:] == previous:  # polling: the same bodies again
                lines += [entry[0], "    (bodies as above)"]
            else:
                lines += entry
                previous = entry[1:]
        if len(self.exchanges) > limit:
            lines.insert(0, f"... {len(self.exchanges) - limit} earlier requests omitted")
        return lines


def _body_text(resp: requests.Response, limit: int = BODY_RECORD_LIMIT) -> str:
    try:
        text = json.dumps(resp.json(), sort_keys=True)
    except ValueError:
        text = resp.text
    return text[:limit]


def _request_body(kwargs: dict[str, Any]) -> str:
    """What the test sent, as text: JSON as JSON; form data and files by their shape only."""
    if kwargs.get("json") is not None:
        return json.dumps(kwargs["json"], sort_keys=True, default=str)[:BODY_RECORD_LIMIT]
    data, files = kwargs.get("data"), kwargs.get("files")
    if isinstance(data, str | bytes):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        return text[:BODY_RECORD_LIMIT]
    if isinstance(data, dict):
        return json.dumps(data, sort_keys=True, default=str)[:BODY_RECORD_LIMIT]
    if files:
        names = ", ".join(sorted(files)) if isinstance(files, dict) else "files"
        return f"<multipart upload: {names}>"
    return ""


def describe(resp: requests.Response) -> str:
    """``METHOD URL -> STATUS body``, masked: what a failed expectation shows."""
    req = resp.request
    return mask(f"{req.method} {req.url} -> {resp.status_code} {_body_text(resp)}")


class ApiClient:
    """A requests session bound to the API base URL, with timeouts, recording and expectations.

    ``client.post("/watchlists", json=..., expect=201)`` raises an AssertionError that shows the
    method, URL, status and JSON body when the status differs.
    """

    def __init__(self, base_url: str, *, recorder: Recorder | None = None,
                 token: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None, request_id: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_id = request_id  # sent as X-Request-ID: the test's lines in the service logs
        self.recorder = recorder if recorder is not None else Recorder()
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()
        if token:
            SECRETS.add(token)

    def with_token(self, token: str | None) -> ApiClient:
        return ApiClient(self.base_url, recorder=self.recorder, token=token, timeout=self.timeout,
                         session=self.session, request_id=self.request_id)

    def as_user(self, user: Any) -> ApiClient:
        """A client acting as ``user`` (anything with an ``access_token``)."""
        return self.with_token(user.access_token)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, expect: int | Iterable[int] | None = None,
                **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.request_id:
            headers.setdefault(REQUEST_ID_HEADER, self.request_id)
        kwargs.setdefault("timeout", self.timeout)
        url = self.url(path)
        t0 = time.perf_counter()
        try:
            resp = self.session.request(method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:
            self.recorder.exchanges.append(
                Exchange(method, url, None, (time.perf_counter() - t0) * 1000, "", repr(exc)))
            raise
        self.recorder.exchanges.append(Exchange(
            method, url, resp.status_code, (time.perf_counter() - t0) * 1000,
            _request_body(kwargs), _body_text(resp)))
        if expect is not None:
            wanted = {expect} if isinstance(expect, int) else set(expect)
            assert resp.status_code in wanted, (
                f"expected {' or '.join(map(str, sorted(wanted)))}, got {describe(resp)}")
        return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


def sql_engine(database_url: str) -> Any:
    """A SQLAlchemy engine over psycopg, with short connect timeouts so a dead db fails fast."""
    import sqlalchemy as sa

    return sa.create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                            connect_args={"connect_timeout": 5})


def s3_client(endpoints: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(connect_timeout=3, read_timeout=10,
                                            retries={"max_attempts": 1}),
                        **endpoints.s3_client_kwargs())
