"""Unique names: every run and every test gets its own, so runs against one stack never collide."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
import uuid

_SAFE = re.compile(r"[^a-z0-9]+")


def new_run_id() -> str:
    """A short id unique per test run (per process, even when two runs start together)."""
    return f"{time.strftime('%m%d%H%M')}{uuid.uuid4().hex[:6]}"


def node_tag(nodeid: str) -> str:
    """A short stable tag for one test: the same test has the same tag in every run."""
    return hashlib.sha1(nodeid.encode()).hexdigest()[:6]


class Namer:
    """Makes names like ``wl-0611a1b2c3-4f5e6d-1``: prefix, run, test, counter."""

    def __init__(self, run_id: str, nodeid: str) -> None:
        self.run_id = run_id
        self.key = node_tag(nodeid)
        self._counter = itertools.count(1)

    def __call__(self, prefix: str = "t") -> str:
        clean = _SAFE.sub("-", prefix.lower()).strip("-") or "t"
        return f"{clean}-{self.run_id}-{self.key}-{next(self._counter)}"

    def email(self, prefix: str = "user") -> str:
        return f"{self(prefix)}@e2e.test"
