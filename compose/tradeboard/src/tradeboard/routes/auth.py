"""Sign-up, login with a failed-login lockout, refresh rotation, me, logout."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text

from .. import auth, feed
from ..deps import Context, Ctx, User, token_error, user_json
from ..errors import ApiError, validation
from ..formats import iso
from ..limits import LimitsUnavailable

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger("tradeboard.api")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignupBody(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(min_length=8, max_length=128)
    display_name: str | None = Field(default=None, max_length=100)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.match(value):
            raise ValueError("not a valid email address")
        return value


class LoginBody(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    ttl_seconds: int | None = Field(default=None, ge=1)


class RefreshBody(BaseModel):
    refresh_token: str = Field(max_length=4096)


@router.post("/signup", status_code=201)
def signup(body: SignupBody, ctx: Ctx) -> dict[str, Any]:
    display_name = (body.display_name or "").strip() or body.email.split("@")[0][:100]
    password_hash = auth.hash_password(body.password)  # slow on purpose: outside the transaction
    with ctx.engine.begin() as conn:
        row = conn.execute(text(
            "INSERT INTO users (email, password_hash, display_name)"
            " VALUES (:email, :hash, :name) ON CONFLICT ((lower(email))) DO NOTHING"
            " RETURNING id, email, display_name, created_at"),
            {"email": body.email, "hash": password_hash, "name": display_name}).first()
    if row is None:
        raise ApiError(409, "conflict", "an account with this email already exists")
    return user_json(row)


def _token_pair(ctx: Context, *, user_id: str, session_id: str, refresh_jti: str,
                access_ttl: int) -> dict[str, Any]:
    secret = ctx.settings.secret_key
    access, _ = auth.issue_token(secret, user_id=user_id, session_id=session_id, typ="access",
                                 ttl=access_ttl)
    refresh, _ = auth.issue_token(secret, user_id=user_id, session_id=session_id,
                                  typ="refresh", ttl=ctx.settings.refresh_token_ttl,
                                  jti=refresh_jti)
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
            "expires_in": access_ttl}


def _unavailable() -> ApiError:
    # Fail closed: without Redis the lockout cannot be checked, and skipping it would let
    # password guessing run unlimited for as long as Redis is away (redis.login).
    return ApiError(503, "dependency_unavailable",
                    "logins are paused: the lockout store (Redis) is unavailable")


@router.post("/login")
def login(body: LoginBody, ctx: Ctx) -> dict[str, Any]:
    settings = ctx.settings
    ttl = body.ttl_seconds or settings.access_token_ttl
    if ttl > settings.access_token_ttl:
        raise validation(f"ttl_seconds must be at most {settings.access_token_ttl}",
                         "ttl_seconds")
    key = body.email.strip().lower()
    # The lockout lives in Redis, shared by every API process (ratelimit.lockout_shared).
    try:
        attempt, left = ctx.lockout.attempt(key)
    except LimitsUnavailable:
        raise _unavailable() from None
    if attempt == 0:
        raise ApiError(429, "too_many_attempts", f"too many failed logins; try again in {left} s",
                       headers={"Retry-After": str(left)})
    with ctx.engine.connect() as conn:
        user = conn.execute(text("SELECT id, password_hash FROM users WHERE lower(email) = :k"),
                            {"k": key}).first()
    if user is None:
        auth.verify_password(None, body.password)  # same cost as a real check
    if user is None or not auth.verify_password(user.password_hash, body.password):
        try:
            ctx.lockout.failed(key, attempt)
        except LimitsUnavailable:
            log.warning("login: could not record the lock of an account (Redis unavailable)")
        raise ApiError(401, "invalid_credentials", "wrong email or password")
    try:
        ctx.lockout.succeeded(key)
    except LimitsUnavailable:  # the password is right: the stale count only expires later
        log.warning("login: could not reset a failure count (Redis unavailable)")
    refresh_jti = uuid.uuid4().hex
    with ctx.engine.begin() as conn:
        session_id = conn.execute(text(
            "INSERT INTO sessions (user_id, refresh_jti, access_ttl, expires_at)"
            " VALUES (:uid, :jti, :ttl, now() + :life) RETURNING id"),
            {"uid": user.id, "jti": refresh_jti, "ttl": ttl,
             "life": timedelta(seconds=settings.refresh_token_ttl)}).scalar_one()
    return _token_pair(ctx, user_id=str(user.id), session_id=str(session_id),
                       refresh_jti=refresh_jti, access_ttl=ttl)


@router.post("/refresh")
def refresh(body: RefreshBody, ctx: Ctx) -> dict[str, Any]:
    try:
        claims = auth.decode_token(ctx.settings.secret_key, body.refresh_token,
                                   expected="refresh")
        session_id = str(uuid.UUID(claims.sid))
    except auth.TokenError as err:
        raise token_error(err) from None
    except ValueError:
        raise token_error(auth.TokenError("unauthorized", "the token's ids are invalid")) \
            from None
    new_jti = uuid.uuid4().hex
    with ctx.engine.begin() as conn:
        row = conn.execute(text(
            "SELECT user_id, refresh_jti, revoked_at, access_ttl FROM sessions"
            " WHERE id = :sid FOR UPDATE"), {"sid": session_id}).first()
        if row is None or row.revoked_at is not None:
            raise token_error(auth.TokenError("token_revoked", "the session has been revoked"))
        if row.refresh_jti != claims.jti:
            raise token_error(auth.TokenError("token_revoked",
                                              "this refresh token has already been used"))
        conn.execute(text(
            "UPDATE sessions SET refresh_jti = :jti, expires_at = now() + :life WHERE id = :sid"),
            {"jti": new_jti, "sid": session_id,
             "life": timedelta(seconds=ctx.settings.refresh_token_ttl)})
    return _token_pair(ctx, user_id=str(row.user_id), session_id=session_id,
                       refresh_jti=new_jti, access_ttl=row.access_ttl)


@router.get("/me")
def me(user: User) -> dict[str, Any]:
    return {"id": user.user_id, "email": user.email, "display_name": user.display_name,
            "created_at": iso(user.created_at)}


@router.post("/logout", status_code=204)
def logout(user: User,
           ctx: Ctx) -> Response:
    with ctx.engine.begin() as conn:
        conn.execute(text(
            "UPDATE sessions SET revoked_at = now() WHERE id = :sid AND revoked_at IS NULL"),
            {"sid": user.session_id})
    # Close the session's live feeds on every API process (feed.logout): the broadcast, and
    # this process's own at once (they do not wait for Redis, which may be away).
    ctx.hub.logout_local(user.session_id)
    try:
        ctx.redis.publish(feed.SESSIONS_CHANNEL,
                          feed.encode({"type": "logout", "session_id": user.session_id}))
    except Exception as err:  # noqa: BLE001 - the session is revoked whatever happens here
        log.warning("logout: could not broadcast to other API processes (%s)",
                    type(err).__name__)
    return Response(status_code=204)
