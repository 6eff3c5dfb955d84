"""The library's factories for a longer scope than one test (a module's shared data, a thread).

The plugin hands out factories per test; a module that sets up data once for many read-only
tests, or a thread acting as one user, builds its own set here. ``close`` removes what they made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from e2e_shared.clients import ApiClient, Recorder
from e2e_shared.naming import Namer
from tradeboard_fixtures.factories import ExportFactory, TradeFileFactory, UserFactory, WatchlistFactory


@dataclass
class Toolkit:
    api: ApiClient
    namer: Namer
    users: UserFactory
    watchlists: WatchlistFactory
    trade_files: TradeFileFactory
    exports: ExportFactory

    @classmethod
    def make(cls, stack: Any, run_id: str, label: str, db: Any, s3: Any, windows: Any,
             recorder: Recorder | None = None) -> Toolkit:
        api = ApiClient(stack.endpoints.api_url, recorder=recorder)  # its own requests session
        namer = Namer(run_id, label)
        return cls(api, namer, UserFactory(api, namer, db), WatchlistFactory(api, namer),
                   TradeFileFactory(api, namer, s3, windows), ExportFactory(api))

    def close(self) -> None:
        self.exports.cleanup()
        self.watchlists.cleanup()
        self.trade_files.cleanup()
        self.users.cleanup()
