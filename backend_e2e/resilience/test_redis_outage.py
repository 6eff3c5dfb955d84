"""Redis goes away: reads and writes keep working (the rate limit fails open), logins answer 503,
/health names redis; when it is back everything recovers without restarting the API: logins,
the limit, and the live feed, which catches up on what was loaded meanwhile
(compose/CONTRACT.md redis.*).

One outage for the module: the scenario runs once and each test checks one thing it saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from backend_e2e import faultkit, ratelimit
from backend_e2e.contract import error_of, leaks
from backend_e2e.faultkit import Observed
from backend_e2e.feed import Feed, consecutive, open_feed
from e2e_shared.waits import Poll

pytestmark = [pytest.mark.resilience]
SYMBOL = "META"


@dataclass
class RedisOutage:
    health_down: dict[str, Observed]
    reads_down: list[requests.Response]
    write_down: requests.Response
    login_down: requests.Response
    loaded_down: dict[str, Any]
    down_ids: set[str]
    health_back: Observed
    login_back: Observed
    caught_up: Observed
    old_feed: Feed
    new_feed: Observed
    limit_back: ratelimit.Burst
    limit: int


def _health(url: str, status: int, failing: list[str]) -> Any:
    def check() -> Poll:
        resp = requests.get(f"{url}/health", timeout=5)
        body = resp.json()
        return Poll(resp.status_code == status and body["failing"] == failing, (resp.status_code, body))
    return check


def _has_all(ids: set[str]) -> Any:
    return lambda messages: ids <= {m.get("trade_id") for m in messages}


@pytest.fixture(scope="module")
def outage(exclusive_stack: None, stack: Any, make_toolkit: Any) -> Iterator[RedisOutage]:
    kit = make_toolkit(f"{__name__}::outage")
    faults = faultkit.module_faults(stack)
    urls = {"api": stack.endpoints.api_url, "api2": stack.endpoints.url("api2_url")}
    user = kit.users.create("redis")  # signed in before the outage
    me = kit.api.as_user(user)
    login = {"email": user.email, "password": user.password}
    old_feed = open_feed(urls["api"], [SYMBOL], user.access_token)
    new_feed: Feed | None = None
    try:
        faults.stop("redis")
        stopped = time.monotonic()
        health_down = {name: faultkit.observe(_health(url, 503, ["redis"]), timeout=10, since=stopped,
                                              what=f"{name} /health to name redis")
                       for name, url in urls.items()}
        reads = [me.get("/symbols", timeout=10),
                 me.get("/trades/latest", params={"symbol": SYMBOL}, timeout=10),
                 me.with_token(user.access_token).get(f"{urls['api2']}/auth/me", timeout=10)]
        write = me.post("/watchlists", json={"name": kit.namer("wl")}, timeout=10)
        login_down = kit.api.post("/auth/login", json=login, timeout=10)
        during = kit.trade_files.build(15, symbols=(SYMBOL,))
        kit.trade_files.upload(user, during)  # the worker cannot publish it
        loaded_down = kit.trade_files.wait_loaded(user, during)
        faults.start("redis")
        started = time.monotonic()
        health_back = faultkit.observe(_health(urls["api"], 200, []), what="/health to pass again",
                                       timeout=20, since=started)

        def logged_in() -> Poll:
            resp = kit.api.post("/auth/login", json=login, timeout=10)
            return Poll(resp.status_code == 200, (resp.status_code, resp.text[:200]))

        login_back = faultkit.observe(logged_in, what="logins to work again", timeout=20, since=started)
        down_ids = {r["trade_id"] for r in during.valid}

        def caught_up_now() -> Poll:
            old_feed.receive(0.2)
            return Poll(_has_all(down_ids)(old_feed.messages), len(old_feed.messages))

        caught_up = faultkit.observe(caught_up_now, what="the open feed to catch up", timeout=20,
                                     since=started, interval=0)
        new_feed = open_feed(urls["api2"], [SYMBOL], user.access_token)
        after = kit.trade_files.build(10, symbols=(SYMBOL,))
        kit.trade_files.upload(user, after)
        after_ids = {r["trade_id"] for r in after.valid}
        opened = new_feed

        def live() -> Poll:
            opened.receive(0.2)
            return Poll(_has_all(after_ids)(opened.messages), len(opened.messages))

        new_seen = faultkit.observe(live, what="a feed opened after recovery to get new trades", timeout=20,
                                    interval=0)
        limit, _window = ratelimit.settings(stack)
        fresh = kit.users.create("redis-limit")
        limit_back = ratelimit.burst(list(urls.values()), fresh.access_token, limit + 5,
                                     recorder=kit.api.recorder)
        yield RedisOutage(health_down, reads, write, login_down, loaded_down, down_ids, health_back,
                          login_back, caught_up, old_feed, new_seen, limit_back, limit)
    finally:
        faults.restore()
        old_feed.close()
        if new_feed is not None:
            new_feed.close()
        kit.close()


@pytest.mark.contract("redis.health", "health.checks")
@pytest.mark.parametrize("process", ["api", "api2"])
def test_health_answers_503_naming_redis_while_it_is_down(outage: RedisOutage, process: str) -> None:
    seen = outage.health_down[process]
    assert seen.ok, f"{process} /health did not name redis within 10 s: {seen.state}"
    status, body = seen.state
    assert status == 503 and body["status"] == "fail" and body["checks"]["redis"]["ok"] is False
    assert not leaks(json.dumps(body)), body


@pytest.mark.contract("redis.fail_open")
def test_reads_and_writes_keep_working_while_redis_is_down(outage: RedisOutage) -> None:
    reads = outage.reads_down
    assert [r.status_code for r in reads] == [200, 200, 200], [r.text[:200] for r in reads]
    assert outage.write_down.status_code == 201, outage.write_down.text[:200]
    assert outage.loaded_down["status"] == "loaded", "a load must not depend on publishing it"


@pytest.mark.contract("redis.login_fails_closed", "errors.no_leak")
def test_login_answers_503_dependency_unavailable_while_redis_is_down(outage: RedisOutage) -> None:
    resp = outage.login_down
    assert resp.status_code == 503, f"{resp.status_code} {resp.text[:200]}"
    assert error_of(resp)["code"] == "dependency_unavailable"
    assert not leaks(resp.text), resp.text


@pytest.mark.contract("redis.recovers", "health.checks")
def test_health_and_logins_recover_by_themselves_after_redis_restarts(outage: RedisOutage) -> None:
    assert outage.health_back.ok, f"/health still failing 20 s after the restart: {outage.health_back.state}"
    assert outage.login_back.ok, f"logins still refused 20 s after the restart: {outage.login_back.state}"


@pytest.mark.contract("redis.recovers", "feed.order")
def test_open_feed_catches_up_on_trades_loaded_while_redis_was_down(outage: RedisOutage) -> None:
    assert outage.caught_up.ok, f"not caught up 20 s after the restart ({outage.caught_up.state} messages)"
    seqs = [m["seq"] for m in outage.old_feed.trades(SYMBOL)]
    assert seqs[0] == outage.old_feed.ready["symbols"][SYMBOL] + 1 and consecutive(seqs), seqs
    ids = [m["trade_id"] for m in outage.old_feed.trades()]
    assert len(ids) == len(set(ids)), "a trade came twice"


@pytest.mark.contract("redis.recovers")
def test_feed_opened_after_recovery_gets_new_trades(outage: RedisOutage) -> None:
    assert outage.new_feed.ok, f"no new trades within 20 s ({outage.new_feed.state} messages)"


@pytest.mark.contract("redis.recovers", "ratelimit.per_user")
def test_rate_limit_counts_again_after_recovery(outage: RedisOutage) -> None:
    sent = outage.limit_back
    assert (sent.count(200), sent.count(429)) == (outage.limit, 5), \
        {c: sum(r.status_code == c for r in sent.answers) for c in {r.status_code for r in sent.answers}}
