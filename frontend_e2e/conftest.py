"""The browser suite's own fixtures: Chromium, the signed-in session, page objects.

Everything generic (the stack, API client, factories, faults, failure bundles) comes from the
``e2e_shared`` plugin; failure artifacts (screenshot, trace, console log) from
:mod:`frontend_e2e.support.artifacts`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e_shared import E2EError
from e2e_shared.browser import find_chromium, launch_args
from e2e_shared.clients import REQUEST_ID_HEADER, ApiClient
from e2e_shared.config import Endpoints, load_settings
from e2e_shared.naming import Namer
from frontend_e2e.pages import AppShell, fixtures
from frontend_e2e.support import artifacts
from frontend_e2e.support.accounts import SessionAccount, signed_in_state
from frontend_e2e.support.browser_log import BrowserLog
from frontend_e2e.support.locks import Hold, StackLock
from tradeboard_fixtures.factories import User, UserFactory

ACTION_TIMEOUT_MS = 10_000  # clicks, fills, navigations
EXPECT_TIMEOUT_MS = 5_000   # web-first assertions; slow journeys pass their own


@pytest.hookimpl(trylast=True)  # after the e2e plugin has made the run id
def pytest_configure(config: pytest.Config) -> None:
    artifacts.set_output(config)
    config.pluginmanager.register(artifacts, "frontend-e2e-artifacts")
    config.pluginmanager.register(fixtures, "frontend-e2e-pages")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Smoke before flows when both run at once: the quick checks fail first."""
    items.sort(key=lambda item: item.get_closest_marker("smoke") is None)


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the Chromium the library finds (Playwright's download does not work here)."""
    try:
        executable = find_chromium()
    except E2EError as exc:
        pytest.exit(str(exc), returncode=4)
    return {**launch_args(executable), **browser_type_launch_args}


@pytest.fixture(scope="session")
def base_url(endpoints: Endpoints) -> str:
    return endpoints.web_url.rstrip("/")


# --- one stack, several runs: tests that stop a service go alone ------------------------------

@pytest.fixture(scope="session")
def stack_lock() -> StackLock:
    return StackLock(load_settings().state_dir)


@pytest.fixture(scope="session", autouse=True)
def _startup_hold(stack_lock: StackLock) -> Iterator[Hold]:
    """Hold the stack while the session fixtures check it and sign in; the first test lets go."""
    with stack_lock.hold() as hold:
        yield hold


@pytest.fixture(autouse=True)
def _stack_turn(request: pytest.FixtureRequest, _startup_hold: Hold, stack_lock: StackLock
                ) -> Iterator[None]:
    """Shared hold on the stack for the test, exclusive for one that stops services."""
    _startup_hold.release()
    with stack_lock.hold(exclusive="faults" in request.fixturenames):
        yield


# --- who the browser is signed in as -------------------------------------------------------------

@pytest.fixture(scope="session")
def _session_signin(stack: Any, run_id: str, db: Any) -> Iterator[SessionAccount]:
    factory = UserFactory(ApiClient(stack.endpoints.api_url), Namer(run_id, "frontend-session"), db)
    yield SessionAccount(factory)
    factory.cleanup()


@pytest.fixture
def session_account(_session_signin: SessionAccount) -> User:
    """The run's user, signed up and signed in through the API once (and removed at the end)."""
    return _session_signin.user


@pytest.fixture
def own_account(users: Any) -> User:
    """A fresh user of this test alone (for counts, limits and sign-out)."""
    return users.create("browser")


@pytest.fixture
def account(session_account: User) -> User | None:
    """Who the browser starts signed in as. A module overrides it: ``None`` starts signed out,
    ``own_account`` gives the test a user of its own."""
    return session_account


@pytest.fixture
def browser_log() -> BrowserLog:
    """What the browser said during the test: console, page errors, failed requests."""
    return BrowserLog()


@pytest.fixture
def context(request: pytest.FixtureRequest, new_context: Any, account: User | None, base_url: str,
            browser_log: BrowserLog, output_path: str, request_id: str) -> Iterator[BrowserContext]:
    """The test's browser, signed in as ``account``, recording what a failure would need.

    Every request it makes carries the test's ``X-Request-ID``: the failure bundle's service
    log window keeps this test's lines only, not those of the suites running beside it."""
    state = signed_in_state(base_url, account) if account else None
    ctx = new_context(storage_state=state, extra_http_headers={REQUEST_ID_HEADER: request_id})
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    artifacts.start_recording(ctx, browser_log)
    yield ctx
    artifacts.finish_recording(request, ctx, browser_log, Path(output_path))


@pytest.fixture
def second_tab(context: BrowserContext) -> AppShell:
    """Another tab of the same browser (same localStorage)."""
    return AppShell(context.new_page())
