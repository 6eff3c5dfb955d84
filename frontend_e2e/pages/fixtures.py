"""Page objects handed to tests as fixtures: each wraps the test's ``page``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from . import (
    AppShell,
    DashboardPage,
    ExportsPage,
    LandingPage,
    LoginPage,
    NotFoundPage,
    SignupPage,
    SymbolPage,
    UploadsPage,
    WatchlistsPage,
)


@pytest.fixture
def app(page: Page) -> AppShell:
    return AppShell(page)


@pytest.fixture
def landing_page(page: Page) -> LandingPage:
    return LandingPage(page)


@pytest.fixture
def login_page(page: Page) -> LoginPage:
    return LoginPage(page)


@pytest.fixture
def signup_page(page: Page) -> SignupPage:
    return SignupPage(page)


@pytest.fixture
def dashboard_page(page: Page) -> DashboardPage:
    return DashboardPage(page)


@pytest.fixture
def watchlists_page(page: Page) -> WatchlistsPage:
    return WatchlistsPage(page)


@pytest.fixture
def symbol_page(page: Page) -> SymbolPage:
    return SymbolPage(page)


@pytest.fixture
def uploads_page(page: Page) -> UploadsPage:
    return UploadsPage(page)


@pytest.fixture
def exports_page(page: Page) -> ExportsPage:
    return ExportsPage(page)


@pytest.fixture
def not_found_page(page: Page) -> NotFoundPage:
    return NotFoundPage(page)
