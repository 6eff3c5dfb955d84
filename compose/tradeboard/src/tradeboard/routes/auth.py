"""Sign-up, login with a failed-login lockout, refresh rotation, me, logout."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, text

from .. import auth
from ..deps import Context, Ctx, User, token_error, user_json
from ..errors import ApiError, validation
from ..formats import iso

router = APIRouter(prefix="/auth", tags=["auth"])
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


def _failure_state(conn: Connection, key: str) -> auth.FailureState | None:
    # Make sure a row exists so that FOR UPDATE serialises concurrent attempts on one account.
    conn.execute(text(
        "INSERT INTO login_failures (email_key, failures, window_started_at)"
        " VALUES (:k, 0, now()) ON CONFLICT (email_key) DO NOTHING"), {"k": key})
    row = conn.execute(text(
        "SELECT failures, window_started_at, locked_until FROM login_failures"
        " WHERE email_key = :k FOR UPDATE"), {"k": key}).one()
    if row.failures == 0 and row.locked_until is None:
        return None
    return auth.FailureState(row.failures, row.window_started_at, row.locked_until)


@router.post("/login")
def login(body: LoginBody, ctx: Ctx) -> dict[str, Any]:
    settings = ctx.settings
    ttl = body.ttl_seconds or settings.access_token_ttl
    if ttl > settings.access_token_ttl:
        raise validation(f"ttl_seconds must be at most {settings.access_token_ttl}",
                         "ttl_seconds")
    key = body.email.strip().lower()
    refused: ApiError | None = None
    with ctx.engine.begin() as conn:
        now = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        state = _failure_state(conn, key)
        remaining = auth.lockout_remaining(state, now)
        if remaining:
            raise ApiError(429, "too_many_attempts",
                           f"too many failed logins; try again in {remaining} s",
                           headers={"Retry-After": str(remaining)})
        user = conn.execute(text("SELECT id, password_hash FROM users WHERE lower(email) = :k"),
                            {"k": key}).first()
        if user is not None and auth.verify_password(user.password_hash, body.password):
            # Reset rather than delete: concurrent attempts wait on this row's lock, and a
            # deleted row would leave them nothing to read once the lock is released.
            conn.execute(text(
                "UPDATE login_failures SET failures = 0, window_started_at = now(),"
                " locked_until = NULL WHERE email_key = :k"), {"k": key})
            refresh_jti = uuid.uuid4().hex
            session_id = conn.execute(text(
                "INSERT INTO sessions (user_id, refresh_jti, access_ttl, expires_at)"
                " VALUES (:uid, :jti, :ttl, now() + :life) RETURNING id"),
                {"uid": user.id, "jti": refresh_jti, "ttl": ttl,
                 "life": timedelta(seconds=settings.refresh_token_ttl)}).scalar_one()
            user_id = str(user.id)
        else:
            if user is None:
                auth.verify_password(None, body.password)  # same cost as a real check
            new = auth.record_failure(state, now, max_failures=settings.login_max_failures,
                                      window=settings.login_window)
            conn.execute(text(
                "UPDATE login_failures SET failures = :f, window_started_at = :w,"
                " locked_until = :l WHERE email_key = :k"),
                {"f": new.failures, "w": new.window_started, "l": new.locked_until, "k": key})
            refused = ApiError(401, "invalid_credentials", "wrong email or password")
    if refused is not None:  # raised after commit so that the failure is counted
        raise refused
    return _token_pair(ctx, user_id=user_id, session_id=str(session_id),
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
    return Response(status_code=204)
