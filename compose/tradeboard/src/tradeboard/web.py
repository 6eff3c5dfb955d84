"""The web frontend's server: ``python -m tradeboard.web``.

It serves the single-page app in ``static/`` and nothing else: the browser calls the API
directly. Known page paths answer 200 with ``index.html``, unknown ones 404 with the same
document (the app then shows its 404 page). ``/config.js`` tells the app where the API is.

Only Starlette and uvicorn are imported (no API modules, no database driver), so the
process starts fast and needs nothing but its three environment variables.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import sys
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs

STATIC_DIR = Path(__file__).with_name("static")
INDEX = STATIC_DIR / "index.html"

# The SPA's routes; anything else is the app's 404 page (see static/app.js).
KNOWN_PATHS = frozenset(
    {"/", "/login", "/signup", "/dashboard", "/watchlists", "/uploads", "/exports"})
SYMBOL_PATH = re.compile(r"^/symbols/[^/]+$")

# Some platforms map .js to text/plain, which browsers refuse for ES modules.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")

log = logging.getLogger("tradeboard.web")


class ConfigError(Exception):
    """A missing or unusable environment variable; the message names it."""


def is_known_path(path: str) -> bool:
    return path in KNOWN_PATHS or SYMBOL_PATH.match(path) is not None


def config_script(api_url: str) -> str:
    """The body of ``/config.js``; JSON-encoding makes any URL a safe JS string literal."""
    literal = json.dumps(api_url.rstrip("/")).replace("</", "<\\/")
    return f"window.TB_API_URL = {literal};\n"


class RequestLog:
    """ASGI middleware: one line per request on stdout (method, path, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        rid = logs.REQUEST_ID.set(logs.request_id(scope.get("headers") or ()))
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            client = scope.get("client")
            log.info("%s %s %s %d %.1fms", client[0] if client else "-", scope["method"],
                     scope["path"], status, elapsed_ms)
            logs.REQUEST_ID.reset(rid)


class NoCache:
    """ASGI middleware: the app has no build step and no hashed names, so every response
    is revalidated; a redeployed app is never mixed with stale modules."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"cache-control", b"no-cache"))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(api_public_url: str) -> Starlette:
    script = config_script(api_public_url)

    async def config_js(_: Request) -> Response:
        return Response(script, media_type="text/javascript")

    async def page(request: Request) -> Response:
        status = 200 if is_known_path(request.url.path) else 404
        return FileResponse(INDEX, status_code=status, media_type="text/html")

    routes = [
        Route("/config.js", config_js, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/{path:path}", page, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RequestLog), Middleware(NoCache)])


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def settings_from_env() -> tuple[str, int, str]:
    """(host, port, API public URL) from ``TB_WEB_HOST``, ``TB_WEB_PORT``,
    ``TB_API_PUBLIC_URL``; read here rather than through the API's config, which
    requires database settings the web process does not have."""
    host = _env("TB_WEB_HOST", "127.0.0.1")
    raw_port = _env("TB_WEB_PORT", "8080")
    try:
        port = int(raw_port)
    except ValueError:
        raise ConfigError(f"TB_WEB_PORT={raw_port!r} is not a valid int") from None
    if not 0 < port < 65536:
        raise ConfigError(f"TB_WEB_PORT={port} is not a TCP port")
    api_url = _env("TB_API_PUBLIC_URL", "http://127.0.0.1:8000")
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"TB_API_PUBLIC_URL={api_url!r} is not an http(s) URL")
    return host, port, api_url


def main() -> int:
    logs.setup("tradeboard.web")
    try:
        host, port, api_url = settings_from_env()
    except ConfigError as err:
        log.error("configuration error: %s", err)
        return 2
    log.info("serving the web app on http://%s:%d (API at %s)", host, port, api_url)
    # access_log off: RequestLog writes the one line per request instead.
    uvicorn.run(create_app(api_url), host=host, port=port, access_log=False,
                log_config=None, timeout_graceful_shutdown=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
