"""The live feed's WebSockets as a test sees them: the ones a page opened and whether they
closed (:class:`FeedSockets`), and a gate that makes them fail to open (:class:`FeedGate`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, WebSocket, WebSocketRoute

FEED_URL = re.compile(r"/ws/trades(\?|$)")


class FeedSockets:
    """Every feed socket a page opens from now on, in order."""

    def __init__(self, page: Page) -> None:
        self.sockets: list[WebSocket] = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws: WebSocket) -> None:
        if FEED_URL.search(ws.url):
            self.sockets.append(ws)

    def open_count(self) -> int:
        return sum(not ws.is_closed() for ws in self.sockets)

    def wait_all_closed(self, timeout: float = 10_000) -> None:
        """Wait until every feed socket the page opened has closed (the page's side or the
        API's); Playwright's own wait, so no event is missed between check and wait."""
        for ws in self.sockets:
            if not ws.is_closed():
                ws.wait_for_event("close", timeout=timeout)


class FeedGate:
    """Routes a page's feed sockets (set it up before the page loads): while shut, each one is
    closed before it opens, as when the API cannot be reached or refuses the upgrade; once
    opened, each goes through to the API untouched."""

    def __init__(self, page: Page) -> None:
        self.shut = True
        self.refused = 0
        self.passed = 0
        page.route_web_socket(FEED_URL, self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if self.shut:
            self.refused += 1
            ws.close(code=1011, reason="refused by the test's feed gate")
        else:
            self.passed += 1
            ws.connect_to_server()

    def open(self) -> None:
        self.shut = False


def newest_trades(trade_files: Any, n: int, symbol: str) -> Any:
    """A trade file of ``n`` trades of ``symbol`` timed now, 1 ms apart in file order: they are
    the symbol's newest (the live table shows them on top, and the worker numbers them in file
    order), and a later call's trades are newer still."""
    tf = trade_files.build(n, symbols=(symbol,))
    now = datetime.now(UTC)
    for i, row in enumerate(tf.rows):
        row["ts"] = (now + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
    return tf


class StatusLog:
    """Every text the live status shows from now on, in order, recorded in the page by a
    MutationObserver: a state that lasts less than a poll of the test (Reconnecting… before
    Polling) is still seen."""

    def __init__(self, page: Page, selector: str = '[data-testid="live-status"]') -> None:
        self.page = page
        page.evaluate("""sel => {
            const el = document.querySelector(sel);
            window.__e2eStatuses = [el.textContent.trim()];
            new MutationObserver(() => {
                const text = el.textContent.trim();
                const seen = window.__e2eStatuses;
                if (seen[seen.length - 1] !== text) seen.push(text);
            }).observe(el, {childList: true, characterData: true, subtree: true});
        }""", selector)

    def texts(self) -> list[str]:
        return list(self.page.evaluate("() => window.__e2eStatuses"))

    def wait_for(self, text: str, timeout: float = 15_000) -> None:
        """Wait until the status has shown ``text`` at least once since the log began."""
        self.page.wait_for_function("text => window.__e2eStatuses.includes(text)", arg=text,
                                    timeout=timeout)
