"""A failed browser test's tabs.json: each tab says whether it rendered and whether it got
animation frames, and a tab that cannot answer is named instead of hanging the teardown."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

from e2e_shared.browser import TAB_STATE_TIMEOUT_MS, find_chromium, launch_args, tab_state

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"),
                                reason="needs Debian's chromium (installed by .ci/run)")
PAGE = "<!doctype html><title>probe</title><main><h1>Hello</h1><p><a href='/'>home</a></p></main>"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(**launch_args(find_chromium()))
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_drawn_tab_reports_its_elements_and_three_frames(page):
    page.set_content(PAGE)
    state = tab_state(page)
    assert state["title"] == "probe" and state["visibility"] == "visible"
    assert state["elements"] == page.evaluate("document.body.getElementsByTagName('*').length")
    assert len(state["frames_ms"]) == 3 and state["frames_ms"][-1] < 2500


def test_a_tab_without_animation_frames_says_how_many_came(page):
    page.set_content(PAGE)
    page.evaluate("window.requestAnimationFrame = () => 0")  # a tab the browser stopped drawing
    state = tab_state(page)
    assert state["frames_ms"] == [] and state["waited_ms"] >= 2500


def test_a_tab_whose_page_is_stuck_is_named_within_the_bound(page):
    page.set_content(PAGE)
    page.evaluate("setTimeout(() => { const t = Date.now(); while (Date.now() - t < 8000); }, 0)")
    state = tab_state(page)  # an answer after the 8 s loop would carry no error
    assert state["error"].startswith(f"no answer in {TAB_STATE_TIMEOUT_MS} ms")
