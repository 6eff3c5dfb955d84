"""Tradeboard's fixtures, loaded into every suite by the engine's plugin (``[tool.e2e] product``).

Each factory records what it creates and removes it after the test. The engine's fixtures they
build on (``api``, ``unique``, ``db``, ``s3``, ``stack``) come from ``e2e_shared.plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from e2e_shared.clients import ApiClient
from e2e_shared.naming import Namer

from .factories import ExportFactory, TradeFileFactory, UserFactory, WatchlistFactory, WindowAllocator


@pytest.fixture(scope="session")
def _windows(stack: Any) -> WindowAllocator:
    local = stack.settings.profile != "remote"
    return WindowAllocator(stack.settings.state_dir / "trade-windows" if local else None)


@pytest.fixture
def users(api: ApiClient, unique: Namer, db: Any) -> Iterator[UserFactory]:
    factory = UserFactory(api, unique, db)
    yield factory
    factory.cleanup()


@pytest.fixture
def user(users: UserFactory) -> Any:
    """A fresh signed-in user of this test."""
    return users.create()


@pytest.fixture
def watchlists(api: ApiClient, unique: Namer) -> Iterator[WatchlistFactory]:
    factory = WatchlistFactory(api, unique)
    yield factory
    factory.cleanup()


@pytest.fixture
def trade_files(api: ApiClient, unique: Namer, s3: Any, _windows: WindowAllocator
                ) -> Iterator[TradeFileFactory]:
    factory = TradeFileFactory(api, unique, s3, _windows)
    yield factory
    factory.cleanup()


@pytest.fixture
def exports(api: ApiClient) -> Iterator[ExportFactory]:
    factory = ExportFactory(api)
    yield factory
    factory.cleanup()
