"""Limits kept in Redis, so that every API process enforces the same count
(compose/CONTRACT.md, ratelimit.* and redis.*).

- :class:`RateLimiter` (async, the request middleware and the feed handshake): per user, at
  most ``limit`` requests in a fixed window of ``window`` seconds that starts at the user's
  first request. Redis away: it fails open (requests pass, a warning is logged).
- :class:`Lockout` (sync, the login route): failed logins per account, the same rules as
  :func:`tradeboard.auth.record_failure`. Redis away: :class:`LimitsUnavailable` (the login
  answers 503; it fails closed, since the lockout cannot be checked).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

log = logging.getLogger("tradeboard.limits")

# Count one more in a fixed window: KEYS[{k}] is the counter, ARGV[1] the window in ms; leaves
# n (the count) and ttl (ms left in the window).
_COUNT = """
local n = redis.call('INCR', KEYS[{k}])
local ttl = redis.call('PTTL', KEYS[{k}])
if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', KEYS[{k}], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {{n, ttl}}
"""
# KEYS[1] counter. Returns {count, ms left in the window}.
_RATE_LUA = _COUNT.format(k=1)
# KEYS[1] lock, KEYS[2] failures. An attempt is counted before its password is checked, so
# that concurrent attempts never check more than the limit allows.
# Returns {-1, lock ms left} when locked, else {attempt number, ms left in the window}.
_ATTEMPT_LUA = """
local lock = redis.call('PTTL', KEYS[1])
if lock > 0 then return {-1, lock} end
""" + _COUNT.format(k=2)


class LimitsUnavailable(Exception):
    """Redis cannot be reached: the limit cannot be checked."""


def seconds_left(ms: int) -> int:
    """Retry-After: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(ms / 1000))


def _twice(call: Callable[[], Any]) -> Any:
    """``call()``, once more on failure (a pooled connection Redis closed when it restarted is
    replaced on the retry); LimitsUnavailable when both fail."""
    try:
        try:
            return call()
        except Exception:  # noqa: BLE001
            return call()
    except Exception as err:
        raise LimitsUnavailable(type(err).__name__) from err


class RateLimiter:
    def __init__(self, url: str, limit: int, window: int) -> None:
        import redis.asyncio as aioredis

        self.limit = limit
        self.window = window
        # Short timeouts: with Redis away a request waits at most this long before passing.
        self.client = aioredis.Redis.from_url(url, socket_timeout=0.5,
                                              socket_connect_timeout=0.5)
        self._script = self.client.register_script(_RATE_LUA)
        self.failing = False

    async def hit(self, user_id: str) -> int | None:
        """Count a request; None when it is allowed, else the seconds until the window ends."""
        keys, args = [f"tb:rl:{user_id}"], [self.window * 1000]
        try:
            try:
                count, ttl = await self._script(keys=keys, args=args)
            except Exception:  # noqa: BLE001
                # Once more on a fresh connection: after Redis restarts, each pooled
                # connection fails once ("closed by server") before it is replaced.
                count, ttl = await self._script(keys=keys, args=args)
        except Exception as err:  # noqa: BLE001 - fail open: the limit protects capacity only
            if not self.failing:  # one line when it starts failing, not one per request
                log.warning("rate limit not enforced: Redis unavailable (%s: %s)",
                            type(err).__name__, (str(err).splitlines() or [""])[0][:200])
            self.failing = True
            return None
        if self.failing:
            log.info("rate limit enforced again: Redis is back")
            self.failing = False
        return None if int(count) <= self.limit else seconds_left(int(ttl))

    async def aclose(self) -> None:
        await self.client.aclose()


class Lockout:
    def __init__(self, client: Any, max_failures: int, window: int) -> None:
        self.client = client
        self.max_failures = max_failures
        self.window = window
        self._script = client.register_script(_ATTEMPT_LUA)

    @staticmethod
    def _keys(email_key: str) -> tuple[str, str]:
        return f"tb:login:lock:{email_key}", f"tb:login:fails:{email_key}"

    def attempt(self, email_key: str) -> tuple[int, int]:
        """Count an attempt: ``(0, seconds)`` when the account is locked, else
        ``(attempt number in the window, seconds left in the window)``."""
        n, ms = _twice(lambda: self._script(keys=list(self._keys(email_key)),
                                            args=[self.window * 1000]))
        if int(n) < 0:
            return 0, seconds_left(int(ms))
        if int(n) > self.max_failures:  # beyond the limit, the lock is being set by another
            return 0, seconds_left(int(ms))
        return int(n), seconds_left(int(ms))

    def failed(self, email_key: str, attempt: int) -> None:
        """The attempt's password was wrong: the max-th failure locks the account."""
        if attempt < self.max_failures:
            return
        lock, fails = self._keys(email_key)
        def lock_it() -> Any:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(lock, "1", px=self.window * 1000)
            pipe.delete(fails)
            return pipe.execute()

        _twice(lock_it)

    def succeeded(self, email_key: str) -> None:
        _twice(lambda: self.client.delete(self._keys(email_key)[1]))
