"""Using up a user's rate limit (compose/CONTRACT.md ratelimit.per_user) quickly, alternating
between API processes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from e2e_shared.clients import ApiClient


def settings(stack: Any) -> tuple[int, int]:
    """``(TB_RATE_LIMIT, TB_RATE_WINDOW)`` the stack runs the API with."""
    env = stack.settings.tool.get("sut_env", {})
    return int(env.get("TB_RATE_LIMIT", 600)), int(env.get("TB_RATE_WINDOW", 60))


@dataclass
class Burst:
    answers: list[Any]
    seconds: float

    def count(self, status: int) -> int:
        return sum(r.status_code == status for r in self.answers)


def burst(base_urls: list[str], token: str, total: int, *, recorder: Any = None,
          workers: int = 8, path: str = "/auth/me") -> Burst:
    """``total`` GETs of ``path`` as the token's user, a few at a time, request i going to
    ``base_urls[i % len]``; each worker has its own sessions (requests' are not thread-safe)."""

    def worker(n: int) -> list[Any]:
        mine = [ApiClient(url, recorder=recorder, token=token) for url in base_urls]
        count = total // workers + (n < total % workers)
        return [mine[i % len(mine)].get(path, timeout=30) for i in range(count)]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = [r for chunk in pool.map(worker, range(workers)) for r in chunk]
    return Burst(answers, time.monotonic() - started)
