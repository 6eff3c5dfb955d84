"""When the API refuses a change (4xx, 5xx) or cannot be reached, the page ends up showing what
the API holds, and a reload shows the same: no optimistic state stays on screen.

The refusal is made in the browser (Playwright routes the one change request to a refusal); the
request never reaches the API, so what the API holds is what it held before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from e2e_shared.waits import Poll, wait_until

pytestmark = [pytest.mark.flow, pytest.mark.contract("web.refused_change")]

SETTLE_S = 5.0  # how long the page may take to show the API's state again

REFUSALS: dict[str, Callable[[Route, str], None]] = {
    "409": lambda route, origin: route.fulfill(
        status=409, headers={"access-control-allow-origin": origin, "content-type": "application/json"},
        body=json.dumps({"error": {"code": "conflict", "message": "Refused by the test"}})),
    "500": lambda route, origin: route.fulfill(
        status=500, headers={"access-control-allow-origin": origin, "content-type": "application/json"},
        body=json.dumps({"error": {"code": "internal_error", "message": "internal error"}})),
    "network": lambda route, origin: route.abort("connectionrefused"),
}


@pytest.fixture
def account(own_account: Any) -> Any:
    """Each test compares whole lists: a user of its own."""
    return own_account


@dataclass
class Refuser:
    page: Page
    api_url: str
    origin: str
    refused: list[str]

    def refuse(self, method: str, path: str, how: str) -> None:
        """From now on, answer ``method`` on API paths matching ``path`` (a regex) with ``how``."""
        pattern = re.compile(re.escape(self.api_url) + path + r"(\?.*)?$")

        def handle(route: Route) -> None:
            if route.request.method != method:  # preflights and reads go through
                route.fallback()
                return
            self.refused.append(f"{method} {route.request.url}")
            REFUSALS[how](route, self.origin)

        self.page.route(pattern, handle)

    def stop(self) -> None:
        self.page.unroute_all(behavior="ignoreErrors")


@pytest.fixture
def refuser(page: Page, endpoints: Any, base_url: str) -> Refuser:
    return Refuser(page, endpoints.api_url.rstrip("/"), base_url, [])


def settles_on(shown: Callable[[], Any], truth: Callable[[], Any], what: str) -> None:
    """The page shows what the API holds within SETTLE_S (it may still be re-rendering)."""
    def agrees() -> Poll:
        seen, held = shown(), truth()
        return Poll(seen == held, {"page": seen, "api": held})

    wait_until(agrees, what=what, timeout=SETTLE_S, interval=0.1)


def _acknowledged(page: Page) -> None:
    """The page said the change failed: its own alert or the API banner."""
    expect(page.get_by_role("alert").filter(visible=True).first).to_be_visible()


# --- watchlists: create, rename, delete, add and remove a symbol ----------------------------

WATCHLIST_CHANGES: dict[str, tuple[str, str, Callable[[Any, str], None]]] = {
    "create": ("POST", r"/watchlists", lambda wp, name: wp.create("refused-new")),
    "rename": ("PATCH", r"/watchlists/[^/]+", lambda wp, name: wp.rename(name, "refused-rename")),
    "delete": ("DELETE", r"/watchlists/[^/]+", lambda wp, name: wp.delete(name)),
    "add-symbol": ("POST", r"/watchlists/[^/]+/symbols", lambda wp, name: wp.add_symbol(name, "TSLA")),
    "remove-symbol": ("DELETE", r"/watchlists/[^/]+/symbols/[^/]+",
                      lambda wp, name: wp.remove_symbol(name, "AAPL")),
}


@pytest.mark.contract("web.watchlists")
@pytest.mark.parametrize("how", list(REFUSALS))
@pytest.mark.parametrize("change", list(WATCHLIST_CHANGES))
def test_refused_watchlist_change_leaves_the_page_showing_the_api(change, how, watchlists_page, refuser,
                                                                  watchlists, account, api, page):
    wl = watchlists.create(account, symbols=["AAPL", "MSFT"])
    watchlists.create(account)
    me = api.as_user(account)

    def truth() -> list[tuple[str, list[str]]]:
        return [(w["name"], w["symbols"]) for w in me.get("/watchlists", expect=200).json()]

    watchlists_page.open()
    expect(watchlists_page.card_heading(wl["name"])).to_be_visible()
    before = truth()
    method, path, act = WATCHLIST_CHANGES[change]
    refuser.refuse(method, path, how)
    act(watchlists_page, wl["name"])
    _acknowledged(page)
    assert refuser.refused, "the change was never sent"
    assert truth() == before, "the refused change reached the API"
    settles_on(watchlists_page.shown, truth, f"the page to show the API's watchlists after a {how} {change}")
    refuser.stop()
    page.reload()
    expect(watchlists_page.card_heading(wl["name"])).to_be_visible()
    settles_on(watchlists_page.shown, truth, "the reloaded page to show the API's watchlists")


# --- uploads and exports -----------------------------------------------------------------------

@pytest.mark.contract("web.uploads")
@pytest.mark.parametrize("how", list(REFUSALS))
def test_refused_upload_leaves_the_page_showing_the_api(how, uploads_page, refuser, trade_files, account, api,
                                                        page, tmp_path):
    first = trade_files.build(3, symbols=("AMD",))
    trade_files.upload(account, first)
    trade_files.wait_loaded(account, first)
    me = api.as_user(account)

    def truth() -> list[list[str]]:
        return [[u["filename"], u["status"], str(u["rows_total"]), str(u["rows_loaded"]),
                 str(u["rows_rejected"])] for u in me.get("/uploads", expect=200).json()]

    tf = trade_files.build(3, symbols=("AMD",))
    path = tmp_path / tf.name
    path.write_bytes(tf.content())
    uploads_page.open()
    expect(uploads_page.row(first.name).status).to_have_text("loaded")
    refuser.refuse("POST", r"/uploads", how)
    uploads_page.upload(path)
    _acknowledged(page)
    assert refuser.refused, "the upload was never sent"
    assert len(truth()) == 1, "the refused upload reached the API"
    settles_on(uploads_page.shown, truth, f"the page to show the API's uploads after a {how} upload")
    refuser.stop()
    page.reload()
    expect(uploads_page.row(first.name).status).to_have_text("loaded")
    settles_on(uploads_page.shown, truth, "the reloaded page to show the API's uploads")


@pytest.mark.contract("web.exports")
@pytest.mark.parametrize("how", list(REFUSALS))
def test_refused_export_leaves_the_page_showing_the_api(how, exports_page, refuser, exports, account, api,
                                                        page):
    done = exports.create(account, "AMD", "2001-01-01T00:00:00Z", "2001-01-01T00:01:00Z")
    exports.wait(account, done["id"])
    me = api.as_user(account)

    def truth() -> list[tuple[str, str]]:
        return [(exports_page.title(e["symbol"], e["from"], e["to"]), e["status"])
                for e in me.get("/exports", expect=200).json()]

    exports_page.open()
    expect(exports_page.items).to_have_count(1)
    refuser.refuse("POST", r"/exports", how)
    exports_page.start("NVDA", "2001-02-01T00:00", "2001-02-01T00:05")
    _acknowledged(page)
    assert refuser.refused, "the export was never sent"
    assert len(truth()) == 1, "the refused export reached the API"
    settles_on(exports_page.shown, truth, f"the page to show the API's exports after a {how} start")
    refuser.stop()
    page.reload()
    expect(exports_page.items).to_have_count(1)
    settles_on(exports_page.shown, truth, "the reloaded page to show the API's exports")
