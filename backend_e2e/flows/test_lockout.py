"""Failed logins lock an account for a window (429 + Retry-After), and only that account.

The last test of the module checks the end of a lockout begun as the module starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from backend_e2e.contract import error_of, leaks
from e2e_shared.clients import ApiClient
from e2e_shared.waits import Poll, wait_until

pytestmark = [pytest.mark.flow, pytest.mark.contract("auth.login", "config.login_max_failures")]


@pytest.fixture(scope="module")
def limits(stack: Any) -> tuple[int, int]:
    """``(max failures, window seconds)`` the stack runs the API with."""
    env = stack.settings.tool.get("sut_env", {})
    return int(env.get("TB_LOGIN_MAX_FAILURES", 5)), int(env.get("TB_LOGIN_WINDOW", 60))


def _fail(api: Any, user: Any) -> Any:
    return api.post("/auth/login", json={"email": user.email, "password": "wrong-" + user.password})


def _burst(api: Any, user: Any, count: int) -> list[Any]:
    """``count`` wrong passwords sent at once; the answers, ordered by status.

    At once, because the failures must fall within the window (``TB_LOGIN_WINDOW``): the server
    checks one password of an account at a time (argon2, slow on purpose at production cost), and
    one after the other they can outlast the window on a busy machine. The lock counts from when
    each request arrived.
    """
    clients = [ApiClient(api.base_url, recorder=api.recorder) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(lambda client: _fail(client, user), clients))
    return sorted(answers, key=lambda r: r.status_code)


@pytest.mark.contract("validation.edges")
def test_failed_logins_beyond_the_limit_answer_429_with_retry_after(api: Any, users: Any,
                                                                      limits: tuple[int, int]) -> None:
    max_failures, window = limits
    user = users.create("lock", login=False)
    answers = _burst(api, user, max_failures + 2)
    assert [r.status_code for r in answers] == [401] * max_failures + [429, 429], [r.text for r in answers]
    for resp in answers[max_failures:]:
        assert error_of(resp)["code"] == "too_many_attempts"
        assert not leaks(resp.text), resp.text
        # The server counts from when a request arrived; sent at once, one may have arrived up to
        # a second before the failure that locked the account.
        assert 1 <= int(resp.headers["Retry-After"]) <= window + 1, resp.headers["Retry-After"]


def _lock(api: Any, user: Any, limits: tuple[int, int]) -> float:
    """Lock the account: all but one failure at once, then the last one alone.

    The failures must start within the window; the lock lasts the window from the start of the
    last one. So the last is sent alone, once the others are answered: the lock then begins as
    late as it can, and a right password sent next meets it even on a busy machine.
    Returns when (``time.monotonic()``) the last failure was sent: the lock starts after it.
    """
    max_failures, window = limits
    started = time.monotonic()
    first = _burst(api, user, max_failures - 1)
    took = time.monotonic() - started
    assert [r.status_code for r in first] == [401] * (max_failures - 1), [r.text[:100] for r in first]
    sent = time.monotonic()
    last = _fail(api, user)
    assert last.status_code == 401, last.text
    assert took < window, (f"{max_failures - 1} failed logins took {took:.1f} s, longer than the "
                           f"{window} s window: the machine is too busy to lock an account")
    return sent


@dataclass
class Lockout:
    user: Any
    sent: float  # when the failure that locked it was sent (time.monotonic())
    locked: float  # when it was answered: the lock began in between
    refused: Any  # the right password, tried at once


@pytest.fixture(scope="module")
def lockout(make_toolkit: Any, limits: tuple[int, int]) -> Iterator[Lockout]:
    """An account locked as the module starts: its window runs while the module's other tests
    run, and the last test checks that it ends (instead of waiting it out alone)."""
    kit = make_toolkit(f"{__name__}::lockout")
    user = kit.users.create("lock", login=False)
    sent = _lock(kit.api, user, limits)
    locked = time.monotonic()
    refused = kit.api.post("/auth/login", json={"email": user.email, "password": user.password})
    yield Lockout(user, sent, locked, refused)
    kit.close()


def test_lockout_refuses_even_the_right_password(lockout: Lockout) -> None:
    assert lockout.refused.status_code == 429, f"the right password, locked: {lockout.refused.text}"
    assert error_of(lockout.refused)["code"] == "too_many_attempts"


def test_lockout_of_one_account_leaves_others_free(api: Any, users: Any, limits: tuple[int, int]) -> None:
    locked, free = users.create("locked", login=False), users.create("free", login=False)
    assert _burst(api, locked, limits[0] + 1)[-1].status_code == 429
    users.login(free)
    api.as_user(free).get("/auth/me", expect=200)


def test_successful_login_resets_the_failure_count(api: Any, users: Any, limits: tuple[int, int]) -> None:
    user = users.create("reset", login=False)
    for _ in range(2):
        assert _fail(api, user).status_code == 401
    users.login(user)
    # Counted on from 2, the last of these would be refused (429); counted from 0, none is.
    answers = [_fail(api, user).status_code for _ in range(limits[0] - 1)]
    assert answers == [401] * (limits[0] - 1)


def _checking_password(db: Any) -> bool:
    """Whether a login holds an account's failure row while it checks the password."""
    with db.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
            " AND query ILIKE '%password_hash FROM users%'")).scalar_one() > 0


@pytest.mark.usefixtures("quiet_stack")  # watches the database's sessions: no other run's logins
def test_failed_logins_racing_a_successful_one_are_refused_with_401(api: Any, users: Any, db: Any) -> None:
    user = users.create("race", login=False)
    assert _fail(api, user).status_code == 401  # the account has a failure on record
    right = ApiClient(api.base_url, recorder=api.recorder)
    wrong = [ApiClient(api.base_url, recorder=api.recorder) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        login = {"email": user.email, "password": user.password}
        success = pool.submit(right.post, "/auth/login", json=login)
        # While the right password is being checked, wrong ones for the same account arrive.
        wait_until(lambda: success.done() or _checking_password(db),
                   what="the right password to be under check", timeout=10, interval=0.01)
        failures = [pool.submit(_fail, client, user) for client in wrong]
        answers = [f.result() for f in failures]
    assert success.result().status_code == 200
    assert [r.status_code for r in answers] == [401] * len(wrong), [r.text for r in answers]


def test_login_is_allowed_again_once_the_window_ends(api: Any, lockout: Lockout,
                                                     limits: tuple[int, int]) -> None:
    window = limits[1]
    right = {"email": lockout.user.email, "password": lockout.user.password}

    refused_at: list[float] = []  # when each still-refused attempt was sent

    def allowed() -> Poll:
        asked = time.monotonic()
        resp = api.post("/auth/login", json=right)
        assert resp.status_code in (200, 429), resp.text  # nothing else while we wait
        if resp.status_code == 429:
            refused_at.append(asked)
        return Poll(resp.status_code == 200, asked)

    allowed_at = wait_until(allowed, what="login to be allowed again after the lockout",
                            timeout=window + 3, interval=0.2)
    assert allowed_at - lockout.sent >= window - 0.5, "the lockout ended before its window"
    # Judged by the refusals, not by the first success: on a busy machine each poll takes a
    # while, and that delay says nothing about how long the server kept the account locked.
    last_refused = max(refused_at, default=lockout.locked)
    assert last_refused - lockout.locked <= window + 1, "the lockout outlasted its window"
