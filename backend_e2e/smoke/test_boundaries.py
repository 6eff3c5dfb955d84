"""Every numeric rule of the contract at its edge, on both sides: the value on the edge is
accepted, the next one past it refused with 422 (or 413 for the upload size)."""

from __future__ import annotations

from typing import Any

import pytest

from backend_e2e.contract import MAX_UPLOAD_BYTES, error_of

pytestmark = [pytest.mark.smoke, pytest.mark.contract("validation.edges")]


@pytest.fixture(scope="module")
def sut_env(stack: Any) -> dict[str, str]:
    """The variables the stack runs the API with (the contract's defaults where unset)."""
    return stack.settings.tool.get("sut_env", {})


def _refused(resp: Any, status: int = 422, code: str = "validation_error") -> None:
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:200]}"
    assert error_of(resp)["code"] == code


@pytest.mark.contract("auth.signup")
@pytest.mark.parametrize(("length", "ok"), [(7, False), (8, True), (128, True), (129, False)])
def test_signup_password_length_edges(length: int, ok: bool, api: Any, unique: Any) -> None:
    body = {"email": unique.email("edge"), "password": ("p" * length)}
    resp = api.post("/auth/signup", json=body)
    if ok:
        assert resp.status_code == 201, resp.text[:200]
    else:
        _refused(resp)


@pytest.mark.contract("watchlists.create", "watchlists.rename")
@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (64, True), (65, False)])
def test_watchlist_name_length_edges(length: int, ok: bool, api: Any, shared_user: Any,
                                     unique: Any) -> None:
    me = api.as_user(shared_user)
    name = (unique("n") * 10)[-length:] if length else ""
    created = me.post("/watchlists", json={"name": name})
    renamed = None
    if ok:
        assert created.status_code == 201, created.text[:200]
        assert created.json()["name"] == name
        me.delete(f"/watchlists/{created.json()['id']}", expect=204)
    else:
        _refused(created)
        wl = me.post("/watchlists", json={"name": unique("wl")}, expect=201).json()
        renamed = me.patch(f"/watchlists/{wl['id']}", json={"name": name})
        _refused(renamed)
        me.delete(f"/watchlists/{wl['id']}", expect=204)


@pytest.mark.contract("market.trades_latest")
@pytest.mark.parametrize(("limit", "ok"), [(0, False), (1, True), (500, True), (501, False)])
def test_latest_trades_limit_edges(limit: int, ok: bool, api: Any, shared_user: Any) -> None:
    resp = api.as_user(shared_user).get("/trades/latest", params={"symbol": "AAPL", "limit": limit})
    if ok:  # the seeded day holds 12,000 AAPL trades: a limit is filled exactly
        assert resp.status_code == 200, resp.text[:200]
        assert len(resp.json()["trades"]) == limit
    else:
        _refused(resp)


@pytest.mark.contract("market.trades_latest")
def test_latest_trades_default_limit_is_20(api: Any, shared_user: Any) -> None:
    resp = api.as_user(shared_user).get("/trades/latest", params={"symbol": "AAPL"}, expect=200)
    assert len(resp.json()["trades"]) == 20


@pytest.mark.contract("auth.login", "config.access_token_ttl")
def test_login_ttl_seconds_edges(api: Any, shared_user: Any, sut_env: dict[str, str]) -> None:
    ttl = int(sut_env.get("TB_ACCESS_TOKEN_TTL", 900))
    creds = {"email": shared_user.email, "password": shared_user.password}
    for value, ok in ((0, False), (1, True), (ttl, True), (ttl + 1, False)):
        resp = api.post("/auth/login", json={**creds, "ttl_seconds": value})
        if ok:
            assert resp.status_code == 200, f"ttl_seconds={value}: {resp.text[:200]}"
            assert resp.json()["expires_in"] == value
        else:
            assert resp.status_code == 422, f"ttl_seconds={value}: {resp.status_code} {resp.text[:200]}"


def _sized_jsonl(size: int, trade_id: str) -> bytes:
    """One valid JSON-lines trade padded with insignificant whitespace to exactly ``size`` bytes."""
    head = f'{{"trade_id": "{trade_id}", "symbol": "AAPL", "price": 10.5, "quantity": 1,'.encode()
    # A minute no other test reads: the seeded day stays as seeded.
    tail = b' "ts": "2001-02-03T04:05:06Z"}\n'
    return head + b" " * (size - len(head) - len(tail)) + tail


@pytest.mark.contract("uploads.accept", "config.max_upload_bytes")
@pytest.mark.parametrize("over", [0, 1], ids=["exactly-the-limit", "one-byte-more"])
def test_upload_size_edge(over: int, api: Any, shared_user: Any, sut_env: dict[str, str],
                          unique: Any) -> None:
    limit = int(sut_env.get("TB_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))
    content = _sized_jsonl(limit + over, unique("edge"))
    assert len(content) == limit + over
    resp = api.as_user(shared_user).post(
        "/uploads", files={"file": ("edge.jsonl", content, "application/x-ndjson")})
    if over:
        _refused(resp, 413, "payload_too_large")
    else:
        assert resp.status_code == 202, resp.text[:200]
