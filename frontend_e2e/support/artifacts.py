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
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Error, Page

from e2e_shared.masking import mask_trace
from e2e_shared.plugin import RUN_ID

from .browser_log import BrowserLog

FAILED = pytest.StashKey[bool]()
PLAYWRIGHT_KINDS = ("playwright_screenshot", "playwright_trace", "playwright_video")
# What the retained trace shows: DOM snapshots before and after each action (the trace viewer's
# timeline), network and console; no screencast, no source files.
TRACE_OPTIONS = {"snapshots": True, "screenshots": False, "sources": False}

# A click that times out has two causes a screenshot cannot tell apart: the app never rendered
# (few elements, the document's own title) or the tab got no animation frames (Playwright's
# "stable" check waits for two). This asks the tab for both; polled by timer, not by frame, and
# bounded, so a hung or throttled tab still answers or is named.
TAB_STATE = """() => {
  const s = window.__e2eTabState || (window.__e2eTabState = (() => {
    const st = {frames: [], t0: performance.now()};
    const step = () => { st.frames.push(Math.round(performance.now() - st.t0));
                         if (st.frames.length < 3) requestAnimationFrame(step); };
    requestAnimationFrame(step);
    return st;
  })());
  const waited = performance.now() - s.t0;
  if (s.frames.length < 3 && waited < 2500) return false;
  return {url: location.href, title: document.title, visibility: document.visibilityState,
          focused: document.hasFocus(), ready_state: document.readyState,
          elements: document.body ? document.body.getElementsByTagName('*').length : 0,
          frames_ms: s.frames, frames_wanted: 3, waited_ms: Math.round(waited)};
}"""
TAB_STATE_TIMEOUT_MS = 4000


def tab_state(page: Page) -> dict[str, object]:
    """What one tab says of itself: URL, title, visibility, focus, how many elements it has and
    when its next three animation frames came (ms; fewer than three means it got no frames)."""
    try:
        return page.wait_for_function(TAB_STATE, polling=100, timeout=TAB_STATE_TIMEOUT_MS).json_value()
    except Error as exc:
        return {"url": page.url, "error": f"no answer in {TAB_STATE_TIMEOUT_MS} ms: "
                f"{str(exc).splitlines()[0]}"}


def save_tab_states(context: BrowserContext, path: Path) -> Path:
    """Every tab of the context, in the order they were opened, as ``tabs.json``."""
    states = [tab_state(page) for page in context.pages]
    path.write_text(json.dumps(states, indent=2) + "\n", encoding="utf-8")
    return path


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
