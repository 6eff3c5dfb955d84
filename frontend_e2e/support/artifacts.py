"""Failure artifacts of browser tests: screenshot, Playwright trace and console log, linked
from the test's JUnit entry.

Every test's browser context records a trace (DOM snapshots of each action, network, console);
when the test fails, its context's pages are photographed and the trace is kept, masked (it
holds bearer tokens), with the console log and each tab's state (``tabs.json``) beside them in
``reports/artifacts/frontend/<run id>/<test>/``. Each file becomes an ``attachment`` property
(the report merger turns those into ``[[ATTACHMENT|path]]`` links). A passing test keeps nothing.

pytest-playwright's own ``--tracing``/``--screenshot`` still work when asked for on the command
line; what they keep is linked the same way. Its defaults stay off: its trace records a
screencast and sources too, and it photographs every page of every passing test on the way out,
which costs each test a few hundred milliseconds on a 2-core machine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Error

from e2e_shared.browser import save_tab_states
from e2e_shared.masking import mask_trace
from e2e_shared.plugin import RUN_ID

from .browser_log import BrowserLog

FAILED = pytest.StashKey[bool]()
PLAYWRIGHT_KINDS = ("playwright_screenshot", "playwright_trace", "playwright_video")
# What the retained trace shows: DOM snapshots before and after each action (the trace viewer's
# timeline), network and console; no screencast, no source files.
TRACE_OPTIONS = {"snapshots": True, "screenshots": False, "sources": False}


def set_output(config: pytest.Config) -> None:
    """Artifacts go under reports/artifacts/frontend/<run id>/ unless --output says otherwise."""
    if config.getoption("--output") == "test-results":  # pytest-playwright's default
        base = config.getoption("--e2e-artifacts") or str(config.rootpath / "reports" / "artifacts")
        config.option.output = str(Path(base) / "frontend" / config.stash[RUN_ID])


def report_path(config: pytest.Config, path: Path | str) -> str:
    """The path as the JUnit entry shows it: relative to the workspace root when inside it."""
    target = Path(path)
    if not target.is_absolute():
        target = Path(config.invocation_params.dir) / target
    try:
        return str(target.resolve().relative_to(config.rootpath.resolve()))
    except ValueError:
        return str(target.resolve())


def start_recording(context: BrowserContext, log: BrowserLog) -> None:
    log.watch(context)
    context.tracing.start(**TRACE_OPTIONS)


def finish_recording(request: pytest.FixtureRequest, context: BrowserContext, log: BrowserLog,
                     folder: Path) -> None:
    """Keep the screenshots, trace and console log of a failed test and link them; else drop."""
    if not request.node.stash.get(FAILED, False):
        with contextlib.suppress(Error):
            context.tracing.stop()
        return
    folder.mkdir(parents=True, exist_ok=True)
    # Before the screenshots: taking one makes the tab draw a frame.
    kept: list[Path | None] = [save_tab_states(context, folder / "tabs.json")]
    for index, page in enumerate(context.pages, start=1):
        shot = folder / f"screenshot-{index}.png"
        with contextlib.suppress(Error):
            page.screenshot(path=shot, timeout=5000)
            kept.append(shot)
    with contextlib.suppress(Error):
        context.tracing.stop(path=folder / "trace.zip")
        mask_trace(folder / "trace.zip")
        kept.append(folder / "trace.zip")
    kept.append(log.save(folder / "console.log"))
    for path in kept:
        if path is not None and path.is_file():
            request.node.user_properties.append(("attachment", report_path(request.config, path)))


def _link_playwright_artifacts(config: pytest.Config, report: pytest.TestReport) -> None:
    """Link what pytest-playwright kept when its own --tracing/--screenshot were asked for."""
    for name, value in list(report.user_properties):
        target = Path(str(value))
        if not target.is_absolute():
            target = Path(config.invocation_params.dir) / target
        if name in PLAYWRIGHT_KINDS and target.is_file():
            if name == "playwright_trace":
                mask_trace(target)
            report.user_properties.append(("attachment", report_path(config, target)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        item.stash[FAILED] = True
    if report.when == "teardown":
        # pytest-playwright's own (trylast, so inner) wrapper has added its artifacts by now.
        _link_playwright_artifacts(item.config, report)
