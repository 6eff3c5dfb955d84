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


# What a leaked stack trace or internal error looks like in a response body.
LEAKS = [re.compile(p) for p in (
    r"Traceback", r'File "', r"line \d+, in ", r"site-packages", r"\b[A-Z][A-Za-z]*(Error|Exception)\b",
    r"(?i)\bpsycopg\b", r"(?i)\bsqlalchemy\b", r"(?i)\bbotocore\b", r"(?i)\bpydantic\b",
    r"(?i)\bstarlette\b",
)]


def leaks(text: str) -> list[str]:
    """The patterns of internals (stack traces, exception and library names) found in ``text``."""
    return [p.pattern for p in LEAKS if p.search(text)]


def error_of(resp: object) -> dict:
    """The ``{"code", "message"}`` of a contract error answer; fails the test on any other shape."""
    body = resp.json()  # type: ignore[attr-defined]
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"not an error body: {body}"
    err = body["error"]
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), body
    assert err["code"] in ERROR_CODES, f"{err['code']!r} is not one of the contract's codes"
    return err
