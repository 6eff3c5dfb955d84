"""The rate limit and the login lockout are kept in Redis: they hold for a user across both API
processes (api and api2), not per process (compose/CONTRACT.md ratelimit.*)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backend_e2e import ratelimit
from backend_e2e.contract import error_of
from e2e_shared.clients import ApiClient

pytestmark = [pytest.mark.flow]


@pytest.fixture
def clients(api: Any, endpoints: Any) -> list[ApiClient]:
    """One client per API process."""
    return [api, ApiClient(endpoints.url("api2_url"), recorder=api.recorder, request_id=api.request_id)]


def _env(stack: Any, name: str, default: int) -> int:
    return int(stack.settings.tool.get("sut_env", {}).get(name, default))


@pytest.mark.contract("ratelimit.per_user", "errors.json_shape")
def test_rate_limit_counts_requests_to_both_api_processes_together(clients: list[ApiClient], users: Any,
                                                                   stack: Any) -> None:
    limit, window = ratelimit.settings(stack)
    user = users.create("rate")  # signup and login carry no token: the window starts below
    extra = 10
    sent = ratelimit.burst([c.base_url for c in clients], user.access_token, limit + extra,
                           recorder=clients[0].recorder)
    assert sent.seconds < window, (f"{limit + extra} requests took {sent.seconds:.1f} s, longer than the "
                                   f"{window} s window: the machine is too busy to fill one window")
    assert (sent.count(200), sent.count(429)) == (limit, extra), \
        {c: sum(r.status_code == c for r in sent.answers) for c in {r.status_code for r in sent.answers}}
    refused = [r for r in sent.answers if r.status_code == 429]
    assert {error_of(r)["code"] for r in refused} == {"rate_limited"}
    assert {r.url.split("/auth")[0] for r in refused} == {c.base_url for c in clients}, \
        "both processes refuse once the shared count is used up"
    assert all(1 <= int(r.headers["Retry-After"]) <= window for r in refused)
    # Another user is not affected.
    other = users.create("rate-other")
    clients[1].as_user(other).get("/auth/me", expect=200)


@pytest.mark.contract("ratelimit.lockout_shared", "auth.login")
def test_lockout_begun_on_one_api_process_holds_on_the_other(clients: list[ApiClient], users: Any,
                                                             stack: Any) -> None:
    max_failures = _env(stack, "TB_LOGIN_MAX_FAILURES", 5)
    user = users.create("lock-x", login=False)
    wrong = {"email": user.email, "password": "wrong-" + user.password}
    fresh = [ApiClient(clients[i % 2].base_url, recorder=clients[0].recorder) for i in range(max_failures)]
    # At once, alternating processes: the failures fall in one window however busy the machine.
    with ThreadPoolExecutor(max_workers=max_failures) as pool:
        failed = list(pool.map(lambda c: c.post("/auth/login", json=wrong), fresh))
    assert [r.status_code for r in failed] == [401] * max_failures, [r.text[:100] for r in failed]
    right = {"email": user.email, "password": user.password}
    for client in clients:
        resp = client.post("/auth/login", json=right)
        assert resp.status_code == 429 and error_of(resp)["code"] == "too_many_attempts", \
            f"{client.base_url}: {resp.status_code} {resp.text[:200]}"
