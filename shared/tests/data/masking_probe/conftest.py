"""The probe's browser: a real Chromium context recorded exactly as the browser suite records
one (frontend_e2e.support.artifacts: trace, screenshot, console log, masked on failure)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from e2e_shared.browser import find_chromium, launch_args
from e2e_shared.clients import REQUEST_ID_HEADER
from frontend_e2e.support import artifacts
from frontend_e2e.support.browser_log import BrowserLog


@pytest.fixture
def context(request: pytest.FixtureRequest, request_id: str) -> Iterator[Any]:
    base = request.config.getoption("--e2e-artifacts")
    folder = Path(base) / "frontend" / request.node.name
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args(find_chromium()))
        ctx = browser.new_context(extra_http_headers={REQUEST_ID_HEADER: request_id})
        log = BrowserLog()
        artifacts.start_recording(ctx, log)
        yield ctx
        artifacts.finish_recording(request, ctx, log, folder)
        browser.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A line no capture sees (as a plugin's or a warning's would be): straight to the job log."""
    import os

    terminalreporter.write_line(f"probe summary: Bearer {os.environ['PROBE_ACCESS']}")
