"""Every endpoint of the contract answers a valid call with its documented status."""

from __future__ import annotations

from typing import Any

import pytest

from backend_e2e.contract import ENDPOINTS, Endpoint

pytestmark = [
    pytest.mark.smoke,
    pytest.mark.contract(
        "auth.signup", "auth.login", "auth.refresh", "auth.me", "auth.logout", "watchlists.list",
        "watchlists.create", "watchlists.get", "watchlists.rename", "watchlists.delete",
        "watchlists.symbols_add", "watchlists.symbols_remove", "market.symbols",
        "market.trades_latest", "market.bars", "uploads.accept", "uploads.list", "uploads.get",
        "uploads.rejections", "exports.create", "exports.list", "exports.get", "exports.events",
        "exports.download", "exports.cancel", "status.pipeline",
    ),
]

CONTENT_TYPES = {
    "GET /exports/{export}/events": "text/event-stream",
    "GET /exports/{export}/download": "text/csv",
}


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.id)
def test_endpoint_answers_a_valid_call_with_its_documented_status(ep: Endpoint, world: Any, api: Any,
                                                                  trade_files: Any) -> None:
    call = world.valid_call(ep, trade_files)
    resp = api.with_token(call.token).request(ep.method, call.path, expect=ep.ok, **call.kwargs)
    world.adopt(ep, resp)
    if ep.ok == 204:
        assert resp.content == b""
        return
    wanted = CONTENT_TYPES.get(ep.id, "application/json")
    assert resp.headers["content-type"].startswith(wanted), resp.headers["content-type"]
    if wanted == "application/json":
        assert resp.json() is not None
    else:
        assert resp.content, f"{ep.id} answered an empty body"
