"""What routes share: the application context and the authenticated principal."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, text

from . import auth
from .config import Settings
from .errors import ApiError, not_found
from .formats import iso
from .storage import Storage


@dataclass
class Context:
    settings: Settings
    engine: Engine
    storage: Storage
    health_storage: Storage  # a client with tighter timeouts, for /health
    schema_ready: threading.Event = field(default_factory=threading.Event)
    # Redis (sync, for the sync routes): the login lockout and the logout broadcast.
    redis: Any = None
    health_redis: Any = None  # tighter timeouts, for /health
    lockout: Any = None  # limits.Lockout
    hub: Any = None  # livefeed.Hub: this process's live feeds


@dataclass(frozen=True)
class Principal:
    user_id: str
    session_id: str
    email: str
    display_name: str
    created_at: datetime


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def parse_id(value: str, what: str) -> str:
    """A resource id from a path; anything that is not a UUID is simply not found."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise not_found(what) from None


def token_error(err: auth.TokenError) -> ApiError:
    return ApiError(401, err.code, err.message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(ctx: Context, token: str | None) -> Principal:
    """The user and session behind an access token, or a 401 ApiError."""
    if not token:
        raise ApiError(401, "unauthorized", "a bearer token is required",
                       headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = auth.decode_token(ctx.settings.secret_key, token, expected="access")
        session_id, user_id = str(uuid.UUID(claims.sid)), str(uuid.UUID(claims.sub))
    except auth.TokenError as err:
        raise token_error(err) from None
    except ValueError:
        raise token_error(auth.TokenError("unauthorized", "the token's ids are invalid")) from None
    with ctx.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT s.revoked_at, u.email, u.display_name, u.created_at"
            " FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.id = :sid AND u.id = :uid"), {"sid": session_id, "uid": user_id}).first()
    if row is None or row.revoked_at is not None:
        raise token_error(auth.TokenError("token_revoked", "the session has been revoked"))
    return Principal(user_id, session_id, row.email, row.display_name, row.created_at)


def current_user(request: Request) -> Principal:
    """Dependency: the principal of ``Authorization: Bearer <access>``."""
    token = auth.parse_bearer(request.headers.get("authorization"))
    return authenticate(context(request), token)


def current_user_or_query(request: Request) -> Principal:
    """Dependency for SSE: EventSource cannot set headers, so ``?access_token=`` also works."""
    token = auth.parse_bearer(request.headers.get("authorization"))
    return authenticate(context(request), token or request.query_params.get("access_token"))


def user_json(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "email": row.email, "display_name": row.display_name,
            "created_at": iso(row.created_at)}


# Route parameter types (Annotated, so that no call sits in a default value).
Ctx = Annotated[Context, Depends(context)]
User = Annotated[Principal, Depends(current_user)]
SseUser = Annotated[Principal, Depends(current_user_or_query)]
