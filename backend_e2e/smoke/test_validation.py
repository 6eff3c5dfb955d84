"""Empty or wrong requests answer 422 with the contract's error body, and change nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from backend_e2e.contract import error_of

pytestmark = [pytest.mark.smoke, pytest.mark.contract("errors.json_shape")]

SEED = {"from": "2026-01-05T14:30:00Z", "to": "2026-01-05T15:30:00Z"}
HEADER = b"trade_id,symbol,price,quantity,ts\n"


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    code: str = "validation_error"
    auth: bool = True


CASES = [
    Case("signup-no-body", "POST", "/auth/signup", auth=False),
    Case("signup-empty-object", "POST", "/auth/signup", {"json": {}}, auth=False),
    Case("signup-short-password", "POST", "/auth/signup",
         {"json": {"email": "short-pw@e2e.test", "password": "short"}}, auth=False),
    Case("signup-not-an-email", "POST", "/auth/signup",
         {"json": {"email": "not-an-email", "password": "long-enough-pw"}}, auth=False),
    Case("signup-wrong-types", "POST", "/auth/signup", {"json": {"email": 5, "password": ["x"]}}, auth=False),
    Case("login-empty-object", "POST", "/auth/login", {"json": {}}, auth=False),
    Case("login-not-json", "POST", "/auth/login",
         {"data": b"email=a&password=b", "headers": {"Content-Type": "application/json"}}, auth=False),
    Case("login-body-is-a-list", "POST", "/auth/login", {"json": []}, auth=False),
    Case("login-ttl-zero", "POST", "/auth/login",
         {"json": {"email": "a@e2e.test", "password": "x", "ttl_seconds": 0}}, auth=False),
    Case("login-ttl-above-the-maximum", "POST", "/auth/login",
         {"json": {"email": "a@e2e.test", "password": "x", "ttl_seconds": 10**7}}, auth=False),
    Case("refresh-empty-object", "POST", "/auth/refresh", {"json": {}}, auth=False),
    Case("watchlist-empty-object", "POST", "/watchlists", {"json": {}}),
    Case("watchlist-blank-name", "POST", "/watchlists", {"json": {"name": "   "}}),
    Case("watchlist-name-too-long", "POST", "/watchlists", {"json": {"name": "x" * 65}}),
    Case("watchlist-name-not-a-string", "POST", "/watchlists", {"json": {"name": {"a": 1}}}),
    Case("rename-empty-object", "PATCH", "/watchlists/{watchlist}", {"json": {}}),
    Case("symbol-empty-object", "POST", "/watchlists/{watchlist}/symbols", {"json": {}}),
    Case("symbol-unknown", "POST", "/watchlists/{watchlist}/symbols", {"json": {"symbol": "NOPE"}},
         code="unknown_symbol"),
    Case("latest-without-symbol", "GET", "/trades/latest"),
    Case("latest-limit-zero", "GET", "/trades/latest", {"params": {"symbol": "AAPL", "limit": 0}}),
    Case("latest-limit-above-500", "GET", "/trades/latest", {"params": {"symbol": "AAPL", "limit": 501}}),
    Case("latest-unknown-symbol", "GET", "/trades/latest", {"params": {"symbol": "NOPE"}},
         code="unknown_symbol"),
    Case("bars-unknown-interval", "GET", "/bars", {"params": {"symbol": "AAPL", "interval": "7m", **SEED}}),
    Case("bars-from-after-to", "GET", "/bars",
         {"params": {"symbol": "AAPL", "from": SEED["to"], "to": SEED["from"]}}),
    Case("bars-bad-timestamp", "GET", "/bars", {"params": {"symbol": "AAPL", "from": "yesterday"}}),
    Case("bars-unknown-symbol", "GET", "/bars", {"params": {"symbol": "NOPE", **SEED}},
         code="unknown_symbol"),
    Case("export-empty-object", "POST", "/exports", {"json": {}}),
    Case("export-from-equals-to", "POST", "/exports",
         {"json": {"symbol": "AAPL", "from": SEED["from"], "to": SEED["from"]}}),
    Case("export-bad-timestamp", "POST", "/exports",
         {"json": {"symbol": "AAPL", "from": "soon", "to": "later"}}),
    Case("export-unknown-symbol", "POST", "/exports", {"json": {"symbol": "NOPE", **SEED}},
         code="unknown_symbol"),
    Case("upload-without-file", "POST", "/uploads", {"data": {"not_file": "x"}}),
    Case("upload-unsupported-format", "POST", "/uploads",
         {"files": {"file": ("trades.txt", b"hello", "text/plain")}}, code="unsupported_format"),
    Case("upload-wrong-csv-header", "POST", "/uploads",
         {"files": {"file": ("trades.csv", b"id,sym,px\n1,AAPL,2\n", "text/csv")}}, code="malformed_file"),
    Case("upload-jsonl-not-json", "POST", "/uploads",
         {"files": {"file": ("trades.jsonl", b"{not json\n", "application/x-ndjson")}},
         code="malformed_file"),
]


@pytest.mark.contract(
    "auth.signup", "auth.login", "watchlists.create", "watchlists.symbols_add", "market.trades_latest",
    "market.bars", "exports.create", "uploads.accept")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_invalid_request_answers_422_with_a_stable_code(case: Case, world: Any, api: Any) -> None:
    client = api.as_user(world.user) if case.auth else api
    before = client.get("/watchlists", expect=200).json() if case.auth else None
    resp = client.request(case.method, world.fill(case.path), expect=422, **case.kwargs)
    err = error_of(resp)
    assert err["code"] == case.code, err
    if case.code == "validation_error":
        assert isinstance(resp.json()["error"].get("details"), list), resp.json()
    if case.auth:  # a refused request leaves the user's data as it was
        assert client.get("/watchlists", expect=200).json() == before


# A NUL byte cannot be stored in a PostgreSQL text value: it must be refused as invalid input.
NUL_CASES = [
    Case("signup-email", "POST", "/auth/signup",
         {"json": {"email": "a\x00b@e2e.test", "password": "long-enough-pw"}}, auth=False),
    Case("watchlist-name", "POST", "/watchlists", {"json": {"name": "a\x00b"}}),
    Case("latest-symbol-query", "GET", "/trades/latest", {"params": {"symbol": "AA\x00PL"}}),
    Case("export-symbol", "POST", "/exports", {"json": {"symbol": "AA\x00PL", **SEED}}),
]


@pytest.mark.parametrize("case", NUL_CASES, ids=lambda c: c.id)
def test_nul_byte_in_text_input_is_a_validation_error(case: Case, world: Any, api: Any) -> None:
    client = api.as_user(world.user) if case.auth else api
    resp = client.request(case.method, case.path, **case.kwargs)
    assert resp.status_code == 422, f"expected 422, got {resp.status_code} {resp.text[:200]}"
    assert error_of(resp)["code"] == "validation_error"
