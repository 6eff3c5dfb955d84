"""What the browser said during a test: console messages, page errors, failed requests and
error answers, for every page of a context. Smoke tests assert there were no problems; a failed
test gets the whole log saved beside its trace and screenshot (masked: SSE URLs carry tokens).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Request, Response

from e2e_shared.masking import mask


@dataclass(frozen=True)
class Entry:
    at: float
    kind: str  # console.<type>, pageerror, requestfailed, response
    text: str
    url: str = ""
    status: int | None = None

    def line(self, t0: float) -> str:
        where = f" [{self.url}]" if self.url else ""
        return f"+{self.at - t0:7.3f}s {self.kind:<16} {self.text}{where}"


@dataclass
class BrowserLog:
    """Records a context's console and network trouble; read it with :meth:`problems`."""

    started: float = field(default_factory=time.time)
    entries: list[Entry] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)  # every request URL, in order

    def watch(self, context: BrowserContext) -> None:
        context.on("request", lambda request: self.requested.append(request.url))
        context.on("console", self._on_console)
        context.on("weberror", lambda err: self._add("pageerror", str(err.error)))
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)

    def _add(self, kind: str, text: str, url: str = "", status: int | None = None) -> None:
        self.entries.append(Entry(time.time(), kind, text, url, status))

    def _on_console(self, msg: ConsoleMessage) -> None:
        self._add(f"console.{msg.type}", msg.text, msg.location.get("url", ""))

    def _on_request_failed(self, request: Request) -> None:
        self._add("requestfailed", f"{request.method} {request.failure}", request.url)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self._add("response", f"{response.request.method} {response.status}", response.url,
                      response.status)

    def requests_to(self, path: str) -> int:
        """How many requests went to a URL containing ``path`` (e.g. "/bars?")."""
        return sum(path in url for url in self.requested)

    def problems(self, *, expected_status: dict[str, int] | None = None) -> list[str]:
        """Console errors, page errors, failed requests and answers >= 400, as lines.

        ``expected_status`` maps a URL to the error status it is meant to answer (the 404 page's
        document): that answer, and the console line Chromium logs for it, are not problems.
        """
        expected = expected_status or {}
        out = []
        for e in self.entries:
            if e.kind == "response" and expected.get(e.url) == e.status:
                continue
            if (e.kind == "console.error" and e.url in expected
                    and f"status of {expected[e.url]}" in e.text):
                continue
            if e.kind in ("console.error", "pageerror", "requestfailed", "response"):
                out.append(mask(f"{e.kind}: {e.text} [{e.url}]"))
        return out

    def render(self) -> str:
        head = f"browser log: {len(self.entries)} entries, times from {time.ctime(self.started)}"
        return mask("\n".join([head, *(e.line(self.started) for e in self.entries)])) + "\n"

    def save(self, path: Path) -> Path | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.render(), encoding="utf-8")
        except (OSError, Error):
            return None
        return path
