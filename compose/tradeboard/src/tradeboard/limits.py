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
import time
from typing import Any

log = logging.getLogger("tradeboard.limits")

# KEYS[1] counter; ARGV[1] window ms. Returns {count, ms left in the window}.
_RATE_LUA = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
# KEYS[1] lock, KEYS[2] failures; ARGV[1] window ms. An attempt is counted before its password
# is checked, so that concurrent attempts never check more than the limit allows.
# Returns {-1, lock ms left} when locked, else {attempt number, ms left in the window}.
_ATTEMPT_LUA = """
local lock = redis.call('PTTL', KEYS[1])
if lock > 0 then return {-1, lock} end
local n = redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[2])
if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', KEYS[2], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


class LimitsUnavailable(Exception):
    """Redis cannot be reached: the limit cannot be checked."""


def seconds_left(ms: int) -> int:
    """Retry-After: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(ms / 1000))


class RateLimiter:
    def __init__(self, url: str, limit: int, window: int) -> None:
        import redis.asyncio as aioredis

        self.limit = limit
        self.window = window
        # Short timeouts: with Redis away a request waits at most this long before passing.
        self.client = aioredis.Redis.from_url(url, socket_timeout=0.5,
                                              socket_connect_timeout=0.5)
        self._script = self.client.register_script(_RATE_LUA)
        self._warned = 0.0

    async def hit(self, user_id: str) -> int | None:
        """Count a request; None when it is allowed, else the seconds until the window ends."""
        try:
            count, ttl = await self._script(keys=[f"tb:rl:{user_id}"],
                                            args=[self.window * 1000])
        except Exception as err:  # noqa: BLE001 - fail open: the limit protects capacity only
            if time.monotonic() - self._warned > 5:  # one line per 5 s, not one per request
                self._warned = time.monotonic()
                log.warning("rate limit not enforced: Redis unavailable (%s)",
                            type(err).__name__)
            return None
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
        try:
            n, ms = self._script(keys=list(self._keys(email_key)), args=[self.window * 1000])
        except Exception as err:
            raise LimitsUnavailable(type(err).__name__) from err
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
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(lock, "1", px=self.window * 1000)
            pipe.delete(fails)
            pipe.execute()
        except Exception as err:
            raise LimitsUnavailable(type(err).__name__) from err

    def succeeded(self, email_key: str) -> None:
        try:
            self.client.delete(self._keys(email_key)[1])
        except Exception as err:
            raise LimitsUnavailable(type(err).__name__) from err
