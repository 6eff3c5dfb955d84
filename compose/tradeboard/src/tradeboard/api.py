"""The Tradeboard API (FastAPI). ``python -m tradeboard.api`` serves it with uvicorn on
``TB_API_HOST``:``TB_API_PORT``."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import auth as auth_logic
from . import db, errors, logs, storage
from .config import ConfigError, Settings, load_settings
from .deps import Context
from .limits import Lockout, RateLimiter
from .livefeed import Hub
from .migrate import apply_migrations
from .routes import auth, exports, feed, market, status, uploads, watchlists

log = logging.getLogger("tradeboard.api")
_OPEN_WHILE_MIGRATING = ("/health",)


class RequestMiddleware:
    """One log line per request; the last-resort 500 (inside CORS, so it carries CORS
    headers); an early 413 for oversized uploads; 503 until the schema is migrated."""

    def __init__(self, app: ASGIApp, ctx: Context, limiter: RateLimiter) -> None:
        self.app = app
        self.ctx = ctx
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]  # never the query: it may hold a token
        status_code = 0
        rid = logs.REQUEST_ID.set(logs.request_id(scope.get("headers") or ()))

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            early = self._early_answer(scope) or await self._rate_limited(scope)
            if early is not None:
                await early(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as err:
            if status_code:  # the response has started (a stream): nothing more to send
                log.error("error while streaming %s %s", method, path, exc_info=err)
            else:
                response = errors.dependency_error(err)
                if response is None:
                    log.error("unhandled error in %s %s", method, path, exc_info=err)
                    response = errors.error_response(500, "internal_error", "internal error")
                await response(scope, receive, send_wrapper)
        finally:
            took = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.1fms", method, path, status_code, took)
            logs.REQUEST_ID.reset(rid)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One line when a socket opens and one when it ends, with the close code; the path
        only (the query holds the token)."""
        started = time.perf_counter()
        path = scope["path"]
        close_code: int | str = "-"

        async def send_wrapper(message: Message) -> None:
            nonlocal close_code
            if message["type"] == "websocket.close":
                close_code = message.get("code", 1000)
            await send(message)

        if not self.ctx.schema_ready.is_set():
            await send({"type": "websocket.close", "code": 1013, "reason": "not ready"})
            log.info("WS %s 1013 (schema not ready)", path)
            return
        log.info("WS %s open", path)
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as err:
            log.error("unhandled error in WS %s", path, exc_info=err)
        finally:
            took = time.perf_counter() - started
            log.info("WS %s closed %s after %.1fs", path, close_code, took)

    async def _rate_limited(self, scope: Scope) -> Any:
        """429 rate_limited once the user behind the bearer token has used the window's
        requests (ratelimit.*). Requests without a valid token are not counted: they get
        their 401 from the route; /health and preflights are exempt."""
        if scope["method"] == "OPTIONS" or scope["path"] in _OPEN_WHILE_MIGRATING:
            return None
        headers = dict(scope.get("headers") or ())
        token = auth_logic.parse_bearer(headers.get(b"authorization", b"").decode("latin-1"))
        if not token:
            return None
        try:
            claims = auth_logic.decode_token(self.ctx.settings.secret_key, token,
                                             expected="access")
        except auth_logic.TokenError:
            return None
        retry_after = await self.limiter.hit(claims.sub)
        if retry_after is None:
            return None
        return errors.error_response(
            429, "rate_limited", f"too many requests; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)})

    def _early_answer(self, scope: Scope) -> Any:
        path, method = scope["path"], scope["method"]
        if method != "OPTIONS" and path not in _OPEN_WHILE_MIGRATING and \
                not self.ctx.schema_ready.is_set():
            return errors.error_response(503, "dependency_unavailable",
                                         "the database is not ready yet")
        if b"%00" in scope.get("query_string", b""):  # PostgreSQL text cannot hold NUL
            return errors.error_response(422, "validation_error",
                                         "query parameters must not contain NUL characters")
        if method == "POST" and path.rstrip("/") == "/uploads":
            headers = dict(scope["headers"])
            try:
                length = int(headers.get(b"content-length", b"0"))
            except ValueError:
                length = 0
            # Multipart framing adds a little; the route checks the file's exact size.
            if length > self.ctx.settings.max_upload_bytes + 64 * 1024:
                limit = self.ctx.settings.max_upload_bytes
                return errors.error_response(413, "payload_too_large",
                                             f"the file is larger than {limit} bytes")
        return None


def _migrate_until_done(ctx: Context, stop: threading.Event) -> None:
    """Apply migrations, retrying with backoff while the database is away."""
    delay = 0.2
    while not stop.is_set():
        try:
            applied = apply_migrations(ctx.engine)
            log.info("schema ready (%s)", ", ".join(applied) if applied else "up to date")
            ctx.schema_ready.set()
            return
        except Exception as err:
            if not db.is_unavailable(err):
                log.error("migrations failed", exc_info=err)
            log.warning("migrations: database unavailable (%s); retrying in %.1f s",
                        type(err).__name__, delay)
            stop.wait(delay)
            delay = min(delay * 2, 5.0)


def redis_client(url: str, *, timeout: float) -> Any:
    """A sync client (for the sync routes and /health); it reconnects by itself on the next
    command after Redis comes back."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    auth_logic.configure_hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                                settings.argon2_parallelism)
    ctx = Context(
        settings=settings,
        engine=db.make_engine(settings.database_url),
        storage=storage.Storage(settings),
        health_storage=storage.Storage(
            settings, storage.make_client(settings, timeout=1.5, attempts=1)),
        redis=redis_client(settings.redis_url, timeout=1.0),
        health_redis=redis_client(settings.redis_url, timeout=1.5),
        hub=Hub(settings.redis_url),
    )
    ctx.lockout = Lockout(ctx.redis, settings.login_max_failures, settings.login_window)
    limiter = RateLimiter(settings.redis_url, settings.rate_limit, settings.rate_window)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = threading.Thread(target=_migrate_until_done, args=(ctx, stop),
                                  name="migrations", daemon=True)
        worker.start()
        await ctx.hub.start()
        yield
        stop.set()
        await ctx.hub.stop()
        await limiter.aclose()
        ctx.engine.dispose()

    # No /docs or /openapi.json: the contract protects every path but the four open ones.
    app = FastAPI(title="Tradeboard API", version=settings.version, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.hub = ctx.hub
    app.state.limiter = limiter
    errors.install(app)
    for module in (status, auth, watchlists, market, uploads, exports, feed):
        app.include_router(module.router)
    app.add_middleware(RequestMiddleware, ctx=ctx, limiter=limiter)
    # Added last, so outermost: every answer, errors included, carries CORS headers.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"],
                       allow_headers=["*"], expose_headers=["Retry-After"], max_age=600)
    return app


def main() -> int:
    logs.setup("tradeboard.api")
    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"tradeboard.api: {err}", file=sys.stderr)
        return 2
    import uvicorn

    log.info("starting the API on %s:%s (version %s)", settings.api_host, settings.api_port,
             settings.version)
    # access_log off: our middleware logs each request without its query string.
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                access_log=False, log_config=None, timeout_graceful_shutdown=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
