"""The endpoint table of the Tradeboard contract (compose/CONTRACT.md), as data.

Placeholders in paths: ``{watchlist}``, ``{upload}``, ``{export}``, ``{symbol}``. ``ok`` is the
status the contract gives for a valid call; ``protected`` says a bearer token is needed (all
but ``GET /health`` and the signup, login and refresh calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ERROR_CODES = frozenset({
    "unauthorized", "token_expired", "token_revoked", "invalid_credentials", "too_many_attempts",
    "rate_limited",
    "validation_error", "not_found", "method_not_allowed", "conflict", "watchlist_limit",
    "unknown_symbol", "payload_too_large", "unsupported_format", "malformed_file", "not_ready",
    "dependency_unavailable", "internal_error",
})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    ok: int
    protected: bool = True

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/health", 200, protected=False),
    Endpoint("POST", "/auth/signup", 201, protected=False),
    Endpoint("POST", "/auth/login", 200, protected=False),
    Endpoint("POST", "/auth/refresh", 200, protected=False),
    Endpoint("GET", "/auth/me", 200),
    Endpoint("POST", "/auth/logout", 204),
    Endpoint("GET", "/watchlists", 200),
    Endpoint("POST", "/watchlists", 201),
    Endpoint("GET", "/watchlists/{watchlist}", 200),
    Endpoint("PATCH", "/watchlists/{watchlist}", 200),
    Endpoint("DELETE", "/watchlists/{watchlist}", 204),
    Endpoint("POST", "/watchlists/{watchlist}/symbols", 201),
    Endpoint("DELETE", "/watchlists/{watchlist}/symbols/{symbol}", 204),
    Endpoint("GET", "/symbols", 200),
    Endpoint("GET", "/trades/latest", 200),
    Endpoint("GET", "/bars", 200),
    Endpoint("POST", "/uploads", 202),
    Endpoint("GET", "/uploads", 200),
    Endpoint("GET", "/uploads/{upload}", 200),
    Endpoint("GET", "/uploads/{upload}/rejections", 200),
    Endpoint("POST", "/exports", 202),
    Endpoint("GET", "/exports", 200),
    Endpoint("GET", "/exports/{export}", 200),
    Endpoint("GET", "/exports/{export}/events", 200),
    Endpoint("GET", "/exports/{export}/download", 200),
    Endpoint("DELETE", "/exports/{export}", 200),
    Endpoint("GET", "/pipeline/status", 200),
)

PROTECTED = tuple(e for e in ENDPOINTS if e.protected)

# TB_MAX_UPLOAD_BYTES: the contract's default, which the local stack keeps.
MAX_UPLOAD_BYTES = 20_000_000


# What a leaked stack trace or internal error looks like in a response body.
LEAKS = [re.compile(p) for p in (
    r"Traceback", r'File "', r"line \d+, in ", r"site-packages", r"\b[A-Z][A-Za-z]*(Error|Exception)\b",
    r"(?i)\bpsycopg\b", r"(?i)\bsqlalchemy\b", r"(?i)\bbotocore\b", r"(?i)\bpydantic\b",
    r"(?i)\bstarlette\b",
)]


# Internal detail an error answer must not carry: SQL, addresses of dependencies, file paths,
# driver exception text. (Patterns chosen so that the contract's own messages never match.)
INTERNALS = [re.compile(p) for p in (
    r"(?i)\bselect\b.+\bfrom\b", r"(?i)\binsert\s+into\b", r"(?i)\bupdate\s+\w+\s+set\b",
    r"(?i)\bdelete\s+from\b", r"(?i)\bon\s+conflict\b", r"(?i)\breturning\b",
    r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", r"(?i)\blocalhost\b", r"(?i)\bport \d+", r":\d{4,5}\b",
    r"(?i)postgres(ql)?(\+\w+)?://", r"(?i)https?://", r"(?i)\bconnection refused\b",
    r"(?i)\bconnection (to server|failed)\b", r"(?i)\berrno\b", r"(?i)\bendpoint url\b",
    r"(?:/[\w.-]+){2,}\.py\b", r"(?i)/(?:home|usr|tmp|work|opt|var)/", r"\.py\b",
)]


def leaks(text: str) -> list[str]:
    """The patterns of internals (stack traces, exception and library names, SQL, addresses,
    paths) found in ``text``."""
    return [p.pattern for p in (*LEAKS, *INTERNALS) if p.search(text)]


def _forms(secret: str) -> set[str]:
    """A secret as it could appear in an answer: raw, JSON-escaped, URL-encoded, lower-cased."""
    import json
    from urllib.parse import quote, quote_plus
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret), secret.lower()}


def reflected(resp: object, secrets: list[str]) -> list[str]:
    """Where a submitted secret shows up in an answer (its body or any header)."""
    body = resp.content.decode("utf-8", "replace")  # type: ignore[attr-defined]
    headers = "\n".join(f"{k}: {v}" for k, v in resp.headers.items())  # type: ignore[attr-defined]
    found = []
    for secret in secrets:
        for form in _forms(secret):
            if form in body:
                found.append(f"body holds {secret[:6]}...")
            if form in headers:
                found.append(f"a header holds {secret[:6]}...")
    return sorted(set(found))


def error_of(resp: object) -> dict:
    """The ``{"code", "message"}`` of a contract error answer; fails the test on any other shape."""
    body = resp.json()  # type: ignore[attr-defined]
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"not an error body: {body}"
    err = body["error"]
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), body
    assert err["code"] in ERROR_CODES, f"{err['code']!r} is not one of the contract's codes"
    return err
