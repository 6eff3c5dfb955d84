"""Every protected endpoint refuses a request without a valid access token: 401, nothing done."""

from __future__ import annotations

from typing import Any

import pytest

from backend_e2e import tokens
from backend_e2e.contract import PROTECTED, Endpoint, error_of

pytestmark = [pytest.mark.smoke, pytest.mark.contract("auth.protected")]

# token kind -> the error code the contract gives for it
KINDS = {"missing": "unauthorized", "malformed": "unauthorized", "forged": "unauthorized",
         "expired": "token_expired"}


def _header(kind: str, world: Any, expired_token: str) -> dict[str, str]:
    if kind == "missing":
        return {}
    token = {"malformed": tokens.MALFORMED,
             "forged": tokens.forged(world.user.access_token, exp=2_000_000_000),
             "expired": expired_token}[kind]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("ep", PROTECTED, ids=lambda e: e.id)
def test_protected_endpoint_answers_401_without_a_valid_token(ep: Endpoint, kind: str, world: Any,
                                                              expired_token: str, api: Any) -> None:
    kwargs = world.valid_body(ep)
    kwargs.pop("stream", None)
    resp = api.request(ep.method, world.fill(ep.path), headers=_header(kind, world, expired_token),
                       expect=401, **kwargs)
    assert error_of(resp)["code"] == KINDS[kind]


@pytest.mark.contract("auth.tokens")
def test_unsigned_token_is_refused(world: Any, api: Any) -> None:
    token = tokens.unsigned(world.user.access_token)
    resp = api.get("/auth/me", headers={"Authorization": f"Bearer {token}"}, expect=401)
    assert error_of(resp)["code"] == "unauthorized"


@pytest.mark.contract("auth.tokens")
def test_refresh_token_is_not_accepted_as_an_access_token(world: Any, api: Any) -> None:
    refresh = world.fresh_login()["refresh_token"]
    resp = api.get("/auth/me", headers={"Authorization": f"Bearer {refresh}"}, expect=401)
    assert error_of(resp)["code"] == "unauthorized"


@pytest.mark.contract("auth.sse_query_token")
def test_event_stream_accepts_a_valid_query_token(world: Any, api: Any) -> None:
    path = f"/exports/{world.export_id}/events"
    resp = api.get(path, params={"access_token": world.user.access_token}, expect=200)
    assert "event: status" in resp.text


@pytest.mark.contract("auth.sse_query_token")
def test_event_stream_refuses_an_expired_query_token(world: Any, expired_token: str, api: Any) -> None:
    resp = api.get(f"/exports/{world.export_id}/events", params={"access_token": expired_token}, expect=401)
    assert error_of(resp)["code"] == "token_expired"
