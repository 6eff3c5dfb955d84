"""The API killed with SIGKILL and restarted: sessions and their tokens stay valid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from backend_e2e import faultkit

pytestmark = [pytest.mark.resilience, pytest.mark.contract("auth.tokens")]


@dataclass
class ApiKill:
    me: requests.Response
    watchlist: requests.Response
    refreshed: requests.Response
    made: dict[str, Any]


@pytest.fixture(scope="module")
def restarted(exclusive_stack: None, stack: Any, make_toolkit: Any) -> Iterator[ApiKill]:
    kit = make_toolkit(f"{__name__}::restarted")
    faults = faultkit.module_faults(stack)
    user = kit.users.create("apikill")
    wl = kit.watchlists.create(user)
    try:
        faultkit.kill_and_restart(faults, stack, "api")
        me = kit.api.as_user(user)
        yield ApiKill(me.get("/auth/me"), me.get(f"/watchlists/{wl['id']}"),
                      kit.api.post("/auth/refresh", json={"refresh_token": user.refresh_token}), wl)
    finally:
        faults.restore()
        kit.close()


def test_access_token_is_still_valid_after_the_api_restart(restarted: ApiKill) -> None:
    assert restarted.me.status_code == 200, restarted.me.text[:300]
    assert restarted.watchlist.status_code == 200 and restarted.watchlist.json() == restarted.made


def test_refresh_token_is_still_valid_after_the_api_restart(restarted: ApiKill) -> None:
    assert restarted.refreshed.status_code == 200, restarted.refreshed.text[:300]
    assert set(restarted.refreshed.json()) >= {"access_token", "refresh_token"}
